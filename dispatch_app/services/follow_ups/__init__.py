"""Follow-ups: the rules the worker runs, the tasks they make, agreements' due visits."""
