"""Where technicians and jobs are."""
