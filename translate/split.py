"""Leak-free train/dev/test splits: whole documents go to one part, chosen by a hash of their identity.

A document's identity is the sha256 of its text, so the same store and options give the same split
every time (and a document stored in two stores lands in the same part). Documents that share a
sentence (the same normalised Arabic or English side, or a near-duplicate pair) are joined into one
group first and the group goes to one part, chosen by the smallest hash among its documents. Sentences
shorter than ``LINK_MIN_WORDS`` words on a side ("Thank you.") would join unrelated documents: they do not
join groups, nor do sentences found in more than ``LINK_MAX_COPIES`` pairs (boilerplate, wire copy repeated
across hundreds of articles); groups stop growing at half the expected documents of the smallest part; and a sentence that
still lands in two parts is kept only in the part of its best-ranked pair (reason ``split-overlap``).
"""
from __future__ import annotations

import re

import numpy as np

from .textkey import seeded_hash

LINK_MIN_WORDS = 4
LINK_MAX_COPIES = 10      # a sentence in more pairs than this is boilerplate: it links no documents
_PART = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class SplitError(ValueError):
    pass


def parse_split(spec: str) -> list[tuple[str, float]]:
    """``train=0.98,dev=0.01,test=0.01`` → [(name, fraction)]; fractions must sum to 1."""
    parts: list[tuple[str, float]] = []
    for item in spec.split(","):
        name, sep, value = item.strip().partition("=")
        if not sep or not _PART.match(name):
            raise SplitError(f"--split {spec!r}: write parts as NAME=FRACTION separated by commas "
                             "(e.g. train=0.98,dev=0.01,test=0.01)")
        try:
            fraction = float(value)
        except ValueError:
            raise SplitError(f"--split {spec!r}: {value!r} is not a number") from None
        if not 0 < fraction <= 1:
            raise SplitError(f"--split {spec!r}: the fraction of {name!r} must be in (0, 1]")
        if name in (n for n, _ in parts):
            raise SplitError(f"--split {spec!r}: part {name!r} named twice")
        parts.append((name, fraction))
    total = sum(f for _, f in parts)
    if abs(total - 1) > 1e-6:
        raise SplitError(f"--split {spec!r}: the fractions sum to {total:g}, not 1")
    return parts


class Groups:
    """Union-find over document numbers 0..n-1."""

    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def assign(doc_hashes: list[int], links: list[tuple[int, int]],
           parts: list[tuple[str, float]]) -> tuple[np.ndarray, int]:
    """The part number of each document, and the number of documents in the largest group.

    Linked documents (directly or not) form a group that goes to one part, chosen by a hash of the
    smallest identity hash of its documents. A link that would make a group larger than half the expected
    documents of the smallest part is not followed (a group that large could not keep the fractions);
    the sentences it stood for are then kept in one part only by the caller."""
    groups = Groups(len(doc_hashes))
    size = [1] * len(doc_hashes)
    max_group = max(2, int(min(f for _, f in parts) * len(doc_hashes) / 2))
    for a, b in links:
        ra, rb = groups.find(a), groups.find(b)
        if ra != rb and size[ra] + size[rb] <= max_group:
            groups.join(ra, rb)
            size[groups.find(ra)] = size[ra] + size[rb]
    group_hash: dict[int, int] = {}
    for doc, h in enumerate(doc_hashes):
        root = groups.find(doc)
        group_hash[root] = min(group_hash.get(root, h), h)
    bounds = np.cumsum([f for _, f in parts])
    bounds[-1] = 1.0
    # the smallest of several hashes leans towards 0 (the first part): hashed again, it is uniform
    position = {root: seeded_hash(str(h), seed=1) / 2.0**64 for root, h in group_hash.items()}
    position = np.array([position[groups.find(doc)] for doc in range(len(doc_hashes))])
    part = np.minimum(np.searchsorted(bounds, position, side="right"), len(parts) - 1).astype(np.int8)
    return part, max((size[groups.find(d)] for d in range(len(doc_hashes))), default=0)


def document_hash(document_sha256: str) -> int:
    return seeded_hash(document_sha256, seed=0)
