"""Reconciling an editor's unsaved changes with what someone else saved meanwhile."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def changed_fields(original: Mapping[str, Any], mine: Mapping[str, Any]) -> set[str]:
    """The fields the user edited since loading ``original``."""
    return {key for key, value in mine.items() if original.get(key) != value}


def reapply_on_top(
    original: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> dict[str, Any]:
    """Their saved row with my edits laid over it: a field I did not touch keeps their
    value, a field I edited keeps mine (even where they edited it too)."""
    merged = dict(theirs)
    for key in changed_fields(original, mine):
        merged[key] = mine[key]
    return merged


def contested_fields(
    original: Mapping[str, Any], mine: Mapping[str, Any], theirs: Mapping[str, Any]
) -> set[str]:
    """Fields both of us changed, to different values: reapplying mine overwrites these."""
    return {
        key
        for key in changed_fields(original, mine)
        if theirs.get(key) != original.get(key) and theirs.get(key) != mine[key]
    }
