"""Use cases, one module per feature. Services own the commit."""
