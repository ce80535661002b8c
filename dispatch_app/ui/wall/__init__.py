"""The wall display: today's board, figures, map and clock, read-only, for a TV."""
