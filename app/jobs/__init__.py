"""RQ entry points: one-line module functions that take ids and call services."""
