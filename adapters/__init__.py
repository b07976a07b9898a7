"""Everything that does I/O: database, scheduler, notifications, configuration and the CLI."""
