"""Leads: every inbound contact, from a call log, the endpoint or the intake."""
