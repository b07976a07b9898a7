"""The ``complaints`` command line: one module per command group."""
