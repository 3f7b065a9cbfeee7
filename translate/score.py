"""Quality estimation for a (source, translation) pair (stub; the quality issue replaces it)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Quality:
    score: float
    label: str
    signals: dict = field(default_factory=dict)


def score_pair(source: str, target: str, logprob: float | None = None,
               reference: str | None = None, flags: dict | None = None) -> Quality:
    signals = dict(flags or {})
    if logprob is not None:
        signals["logprob"] = logprob
    return Quality(0.5, "check", signals)
