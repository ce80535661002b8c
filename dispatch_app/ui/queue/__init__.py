"""The unassigned queue: work waiting for a technician or a time."""
