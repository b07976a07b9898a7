"""The generic case engine: aggregates, steps, events, the service API and its ports."""
