"""Generated hostile input for every public route (tests/web/test_generated_input.py)."""
