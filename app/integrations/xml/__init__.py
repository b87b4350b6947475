"""XML adapters: one hardened parser (``parser``) for everything read, one way to write
(``writer``), and one module per document: ``feed`` (product feed), ``order`` (order placement
XML), ``order_reply`` (the store's replies and batch responses), ``order_batch`` (batch names).

Pure code: no Flask, no database. Every public function returns dataclasses or plain values;
lxml elements never leave this package.
"""
