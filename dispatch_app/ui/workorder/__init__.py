"""Work orders: the editor and what belongs to it."""
