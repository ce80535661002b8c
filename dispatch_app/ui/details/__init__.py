"""The details panel: what the selected visit or job is about."""
