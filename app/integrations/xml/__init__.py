"""XML adapters: one hardened parser (``parser``) and one module per document (``feed``, ...).

Pure code: no Flask, no database. Every public function returns dataclasses or plain values;
lxml elements never leave this package.
"""
