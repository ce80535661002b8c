"""The Follow-ups window (File ▸ Follow-ups…): the tasks the rules make, and the rules.

``window.open_follow_ups`` opens it. Nothing is imported here: the architecture test
walks every package to prove the core loads without Qt.
"""
