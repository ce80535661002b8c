"""The Reports window (File ▸ Reports…, a manager's): one of the nine reports for a period
and filters, its headline figures, a chart and a table, CSV and PDF, and the work orders
behind a figure.

``window`` holds it together; ``period`` (the quick picks) and ``cells`` (how a figure is
written) are Qt-free; ``chart`` draws with matplotlib; ``table`` is the item model;
``behind`` lists a figure's work orders; ``pdf`` writes the printable copy. Nothing is
imported here: the architecture test walks every package to prove the core loads
without Qt, and the app loads matplotlib only when the window is first opened.
"""
