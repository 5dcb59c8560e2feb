"""The ``Did you mean '...'?`` hint every front-end pass offers for a misspelt name."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (difflib's ratio, cutoff 0.6), or None."""
    import difflib  # only on the error path: keeps it off every run's start-up

    close = difflib.get_close_matches(word, sorted(candidates), 1)
    return close[0] if close else None


def did_you_mean(word: str, candidates: Iterable[str]) -> list[str]:
    """``["Did you mean 'X'?"]`` for the closest candidate, ``[]`` when none is close."""
    best = closest(word, candidates)
    return [f"Did you mean '{best}'?"] if best is not None else []
