"""Qt widgets and item models; everything that imports PySide6 lives under here."""
