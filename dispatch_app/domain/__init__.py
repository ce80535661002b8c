"""The trade's rules in plain Python: statuses, scheduling, distances. No Qt, no SQL."""
