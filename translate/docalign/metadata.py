"""What the documents' paths and a hints file say about which pairs are right, as log-odds."""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

# log-odds that metadata adds to a pair's confidence: priors, not fitted (no archive with real URLs was
# at hand); a pair still needs shared content (cosine > 0) and the threshold to be made
PATH_EVIDENCE = 2.0         # the two relative paths are the same but for a language marker (/ar/ ~ /en/)
HINT_EVIDENCE = 4.0         # the pair is listed in --pairs-hint
DATE_EVIDENCE = -3.0        # both paths carry a date and the dates are more than DATE_SLACK days apart
DATE_SLACK = 2
_LANGUAGE_MARKER = re.compile(r"(?<![a-z0-9])(ar|ara|arabic|en|eng|english)(?![a-z0-9])")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)[-_/.]?(0[1-9]|1[0-2])[-_/.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def path_key(relative: str) -> str:
    """A relative path without its language markers and extension: ``2024/ar/story-ar.txt`` and
    ``2024/en/story-en.txt`` have the same key."""
    stem = relative.lower().rsplit(".", 1)[0] if "." in relative.rsplit("/", 1)[-1] else relative.lower()
    return _LANGUAGE_MARKER.sub("*", stem)


def path_day(relative: str) -> int | None:
    """The day (a proleptic ordinal) of the date in a path, if it has one."""
    import datetime

    match = _DATE.search(relative)
    if match is None:
        return None
    try:
        return datetime.date(*map(int, match.groups())).toordinal()
    except ValueError:
        return None


class Metadata:
    """What the documents' paths (relative to their folders) and a hints file say about which pairs are
    right: log-odds for any pair, and the pairs they propose (candidates even without shared words)."""

    def __init__(self, ar_paths: Sequence[str], en_paths: Sequence[str], hints: Iterable[tuple[int, int]] = ()):
        self.ar_days = np.array([d if d is not None else -1 for d in map(path_day, ar_paths)], dtype=np.int64)
        self.en_days = np.array([d if d is not None else -1 for d in map(path_day, en_paths)], dtype=np.int64)
        en_by_key: dict[str, list[int]] = defaultdict(list)
        for e, path in enumerate(en_paths):
            en_by_key[path_key(path)].append(e)
        ar_by_key: dict[str, list[int]] = defaultdict(list)
        for a, path in enumerate(ar_paths):
            ar_by_key[path_key(path)].append(a)
        self.bonus: dict[tuple[int, int], float] = {}
        for key, ars in ar_by_key.items():
            ens = en_by_key.get(key, [])
            # only a key that names one document a side says anything (a.txt ~ a.txt in two flat folders
            # of numbered files would say little; a language marker makes it count)
            if len(ars) == 1 and len(ens) == 1 and "*" in key:
                self.bonus[ars[0], ens[0]] = PATH_EVIDENCE
        for pair in hints:
            self.bonus[pair] = self.bonus.get(pair, 0.0) + HINT_EVIDENCE

    def proposed(self) -> list[tuple[int, int]]:
        return list(self.bonus)

    def log_odds(self, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        out = np.array([self.bonus.get((int(a), int(e)), 0.0) for a, e in zip(rows, cols)]) if self.bonus else (
            np.zeros(len(rows)))
        ar_days, en_days = self.ar_days[rows], self.en_days[cols]
        far = (ar_days >= 0) & (en_days >= 0) & (np.abs(ar_days - en_days) > DATE_SLACK)
        return out + np.where(far, DATE_EVIDENCE, 0.0)
