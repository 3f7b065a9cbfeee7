"""Document alignment: which English document translates which Arabic one, across two folders.

Each document becomes a bag of evidence in English terms: an Arabic document contributes the English
stems its content words translate to in the project's lexicon (``translate.align.translation_tables``,
each word's translations sharing one unit of weight), its numbers (Arabic-Indic digits normalised),
Latin-script tokens and the consonant skeletons of words the lexicon does not know (names); an English
document contributes its content stems, numbers, words and the skeletons of its capitalised words.
Bags are weighted by tf-idf over both folders and compared by cosine.

A cosine alone is not comparable across documents (long documents share more with everything), so a
pair is scored by its *margin*: its cosine divided by the mean of the two documents' best cosines with
other documents (the ratio margin used for bitext mining). The pairs are then the one-to-one
assignment with the largest total margin above ``MARGIN_THRESHOLD`` (Hungarian algorithm): only pairs
above the threshold can be made, so an Arabic document whose English translation is missing is left
unmatched instead of taking the best wrong one.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from .align import (ENGLISH_WORD, LATIN_TOKEN, arabic_skeleton, arabic_words, english_skeleton,
                    numbers, translation_tables)
from .lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS, english_stem

MARGIN_THRESHOLD = 1.2      # a pair's cosine must beat its documents' other candidates by 20%
NEIGHBOURS = 4              # best other candidates that set a document's level (the ratio margin)
# the least level a margin is measured against: very short documents share almost nothing with any
# other, and a ratio against next to nothing would make a chance overlap look decisive
LEVEL_FLOOR = 0.04


def arabic_bag(text: str) -> Counter:
    ar_to_en, _ = translation_tables()
    bag: Counter = Counter()
    for word, stem in arabic_words(text):
        if stem in ARABIC_STOPWORDS:
            continue
        options = ar_to_en.get(stem)
        if options:
            for en in options:
                bag["w:" + en] += 1.0 / len(options)
        else:
            skeleton = arabic_skeleton(word[2:] if word.startswith("ال") and len(word) > 4 else word)
            if len(skeleton) >= 3:
                bag["n:" + skeleton] += 1.0
    for number in numbers(text):
        bag["d:" + number] += 1.0
    for token in LATIN_TOKEN.findall(text):
        bag["l:" + token.lower()] += 1.0
    return bag


def english_bag(text: str) -> Counter:
    bag: Counter = Counter()
    for word in ENGLISH_WORD.findall(text):
        lower = word.lower()
        if lower in ENGLISH_STOPWORDS:
            continue
        bag["w:" + english_stem(lower)] += 1.0
        if word[0].isupper():
            bag["l:" + lower] += 1.0
            skeleton = english_skeleton(word)
            if len(skeleton) >= 3:
                bag["n:" + skeleton] += 1.0
    for number in numbers(text):
        bag["d:" + number] += 1.0
    return bag


def _tfidf(bags: list[Counter], df: Counter, total: int) -> list[dict[str, float]]:
    vectors = []
    for bag in bags:
        # sublinear term frequency (counts of translated words can be fractions)
        vector = {k: math.log1p(v) * math.log((total + 1) / (df[k] + 0.5)) for k, v in bag.items() if v > 0}
        norm = math.sqrt(sum(x * x for x in vector.values())) or 1.0
        vectors.append({k: x / norm for k, x in vector.items()})
    return vectors


def cosine_matrix(ar_texts: Sequence[str], en_texts: Sequence[str]) -> list[list[float]]:
    ar_bags = [arabic_bag(t) for t in ar_texts]
    en_bags = [english_bag(t) for t in en_texts]
    df: Counter = Counter()
    for bag in ar_bags + en_bags:
        df.update(bag.keys())
    total = len(ar_bags) + len(en_bags)
    ar_vectors, en_vectors = _tfidf(ar_bags, df, total), _tfidf(en_bags, df, total)
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)   # sparse product through postings
    for e, vector in enumerate(en_vectors):
        for k, x in vector.items():
            postings[k].append((e, x))
    matrix = []
    for vector in ar_vectors:
        row = [0.0] * len(en_vectors)
        for k, x in vector.items():
            for e, y in postings.get(k, ()):
                row[e] += x * y
        matrix.append(row)
    return matrix


def _level(values: list[float], skip: int) -> float:
    """Mean of the NEIGHBOURS largest values other than the one at ``skip``."""
    others = sorted((v for k, v in enumerate(values) if k != skip), reverse=True)[:NEIGHBOURS]
    return sum(others) / len(others) if others else 0.0


def match_documents(ar_texts: Sequence[str], en_texts: Sequence[str],
                    threshold: float = MARGIN_THRESHOLD) -> list[tuple[int, int, float]]:
    """One-to-one pairs (Arabic index, English index, margin), best first; documents left out of every
    pair have no counterpart good enough."""
    if not ar_texts or not en_texts:
        return []
    cos = cosine_matrix(ar_texts, en_texts)
    columns = [[row[e] for row in cos] for e in range(len(en_texts))]
    candidates = []
    for a, row in enumerate(cos):
        # only each document's few best candidates can win, which keeps large folders cheap
        for e in sorted(range(len(row)), key=row.__getitem__, reverse=True)[:NEIGHBOURS]:
            if row[e] <= 0:
                continue
            level = max(LEVEL_FLOOR, 0.5 * (_level(row, e) + _level(columns[e], a)))
            margin = row[e] / level
            candidates.append((margin, row[e], a, e))
    edges = {(a, e): margin for margin, _, a, e in candidates if margin >= threshold}
    pairs = [(a, e, edges[a, e]) for a, e in best_assignment(edges, threshold)]
    return sorted(pairs, key=lambda pair: -pair[2])


def best_assignment(edges: dict[tuple[int, int], float], threshold: float) -> list[tuple[int, int]]:
    """The one-to-one set of edges with the largest total (margin - threshold): the Hungarian algorithm,
    run on each connected group of candidate edges (the groups are small: few candidates per document)."""
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, e in edges:
        parent[root(("ar", a))] = root(("en", e))
    groups: dict = defaultdict(list)
    for a, e in edges:
        groups[root(("ar", a))].append((a, e))
    chosen = []
    for group in groups.values():
        rows = sorted({a for a, _ in group})
        cols = sorted({e for _, e in group})
        # cost of a cell: minus its gain; a row may also take one of len(rows) dummy columns (no link)
        cost = [[-(edges[a, e] - threshold) if (a, e) in edges else 0.0 for e in cols] + [0.0] * len(rows)
                for a in rows]
        for r, c in _hungarian(cost).items():
            if c < len(cols) and (rows[r], cols[c]) in edges:
                chosen.append((rows[r], cols[c]))
    return chosen


def _hungarian(cost: list[list[float]]) -> dict[int, int]:
    """Minimum-cost assignment of every row to a distinct column (rows <= columns), by the O(n^2 m)
    shortest augmenting path method with potentials; returns {row: column}."""
    n, m = len(cost), len(cost[0])
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    owner, way = [0] * (m + 1), [0] * (m + 1)     # owner[j]: row (1-based) holding column j
    for i in range(1, n + 1):
        owner[0], j0 = i, 0
        slack, used = [math.inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = owner[j0], math.inf, 0
            for j in range(1, m + 1):
                if not used[j]:
                    reduced = cost[i0 - 1][j - 1] - u[i0] - v[j]
                    if reduced < slack[j]:
                        slack[j], way[j] = reduced, j0
                    if slack[j] < delta:
                        delta, j1 = slack[j], j
            for j in range(m + 1):
                if used[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    slack[j] -= delta
            j0 = j1
            if owner[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            owner[j0] = owner[j1]
            j0 = j1
    return {owner[j] - 1: j - 1 for j in range(1, m + 1) if owner[j]}


def document_sha256(text: str) -> str:
    """A document's identity, as the store keys documents."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def aligned_before(store) -> set[tuple[str, str, str | None]]:
    """(Arabic sha256, English sha256, bridge model) of the document pairs whose alignment a finished
    run already stored: a folder alignment that was interrupted resumes after them."""
    done = set()
    for (options,) in store.db.execute("SELECT options FROM runs WHERE kind = 'align' AND status = 'done'"):
        recorded = json.loads(options)
        if "ar_sha256" in recorded and "en_sha256" in recorded:
            done.add((recorded["ar_sha256"], recorded["en_sha256"], recorded.get("bridge")))
    return done
