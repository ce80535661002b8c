"""Dispatch board for trades businesses: call intake, dispatch timeline, map and reports."""

__version__ = "0.1.0"

APP_NAME = "Dispatch Board"
ORGANIZATION = "DispatchBoard"
