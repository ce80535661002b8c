"""The dispatch board: technicians in rows, their visits on a timeline."""
