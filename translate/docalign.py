"""Document alignment: which English document translates which Arabic one, across two collections of
any size (tens of thousands of documents a side), in memory bounded by an index of their evidence.

Each document becomes a bag of evidence in English terms: an Arabic document contributes the English
stems its content words translate to in the project's lexicon (``translate.align.translation_tables``,
each word's translations sharing one unit of weight), its numbers (Arabic-Indic digits normalised),
Latin-script tokens and the consonant skeletons of words the lexicon does not know (names); an English
document contributes its content stems, numbers, words and the skeletons of its capitalised words.
Bags are weighted by tf-idf over both collections and compared by cosine. Only the bags are kept (as
sparse rows of feature ids), never the texts.

No collection is compared all against all. *Candidates* come from an inverted index: each document
queries the other side with its QUERY_FEATURES most discriminative features (largest tf-idf weight,
features no more common than COMMON_DF documents), and keeps the CANDIDATES documents that share the
most weight with it; this is done in both directions. Each candidate pair then gets its full cosine.

A cosine alone is not comparable across documents (long documents share more with everything), so a
pair is scored by its *margin*: its cosine divided by the mean of the two documents' best cosines with
their other candidates (the ratio margin of bitext mining over k nearest neighbours). The margin is
mapped to a *confidence*, the estimated probability that the pair is right (a logistic fit on archives
built from FLORES dev and Tatoeba, see bench/docalign_scale.py), which means the same in any domain:
with weak evidence, right pairs stand out less and get lower confidences, instead of wrong pairs being
made. Metadata (paths that differ only by a language marker, dates in paths, a hints file) shifts the
log-odds when present. Pairs below ``CONFIDENCE_THRESHOLD`` are never made (a wrong document pair
poisons every sentence pair made from it; an unmatched one only costs recall); among the others the
one-to-one assignment with the largest total log-odds is chosen, exactly (Hungarian algorithm) on each
small connected group of candidate pairs, by competitive linking (best pair first) on a large one.
"""
from __future__ import annotations

import hashlib
import json
import math
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import NamedTuple

import numpy as np
from scipy import sparse

from .align import (ENGLISH_WORD, EXPECTED_LENGTH_RATIO, LATIN_TOKEN, arabic_skeleton, english_skeleton,
                    lexicon_in_use, numbers, translation_tables)
from .lexicon import ARABIC_STOPWORDS, ENGLISH_STOPWORDS, arabic_stem, english_stem, normalize_arabic

TRANSLATIONS = 4            # most probable English stems an Arabic word contributes (some stems have
                            # thousands of lexicon entries, which would swamp the bags)
CANDIDATES = 24             # k: candidates kept per document, in each direction
QUERY_FEATURES = 40         # features of a document that look up its candidates in the inverted index
COMMON_DF = 2000            # features in more documents than this find no candidates (they still count
                            # in the cosine): their postings would make the lookup grow with the archive
NEIGHBOURS = 4              # best other candidates that set a document's level (the margin)
# two logistic stages, fitted by `python bench/docalign_scale.py --fit` on synthetic archives of FLORES
# dev and Tatoeba documents and on UD PUD's articles: pair score = PAIR_WEIGHTS . (PAIR_FEATURES, 1)
# from the pair's own evidence; confidence = sigmoid(CALIBRATION . (CALIBRATED_FEATURES, 1)) from its
# score against its rivals' scores
PAIR_WEIGHTS = (9.450, -12.696, -2.915, 25.970, 20.064, -5.031)
CALIBRATION = (-0.291, 1.193, 13.362, 1.347, -0.758)
CONFIDENCE_THRESHOLD = 0.95 # precision first: pairs less likely than this to be right are not made
EXACT_GROUP = 60            # connected groups up to this many documents get the exact assignment
CHUNK_ROWS = 2048           # documents whose candidates are looked up in one sparse product

_ARABIC_WORD = re.compile("[\u0621-\u064a\u0671-\u06d3]+")


class DocumentPair(NamedTuple):
    ar: int                 # index of the Arabic document
    en: int                 # index of the English document
    confidence: float       # estimated probability that the pair is right


# -- bags of evidence ---------------------------------------------------------------------------
class BagMaker:
    """Makes the bags of both sides, remembering what each distinct word contributes (an archive repeats
    its words endlessly; stemming and the lexicon lookup are the costly part)."""

    def __init__(self):
        self.ar_to_en, _ = translation_tables()
        self.lexicon = lexicon_in_use()
        self.arabic_words: dict[str, tuple[tuple[str, float], ...]] = {}
        self.english_words: dict[str, tuple[str, ...]] = {}

    def _arabic_word(self, word: str) -> tuple[tuple[str, float], ...]:
        stem = arabic_stem(word)
        if stem in ARABIC_STOPWORDS:
            return ()
        options = self.ar_to_en.get(stem)
        if options:
            # the most probable translations, sharing one unit of weight by their probabilities
            links = sorted(((self.lexicon.link(stem, en), en) for en in options), key=lambda x: (-x[0], x[1]))
            links = links[:TRANSLATIONS]
            total = sum(p for p, _ in links)
            return tuple(("w:" + en, p / total) for p, en in links)
        skeleton = arabic_skeleton(word[2:] if word.startswith("ال") and len(word) > 4 else word)
        return (("n:" + skeleton, 1.0),) if len(skeleton) >= 3 else ()

    def _english_word(self, word: str) -> tuple[str, ...]:
        lower = word.lower()
        if lower in ENGLISH_STOPWORDS:
            return ()
        keys = ["w:" + english_stem(lower)]
        if word[0].isupper():
            keys.append("l:" + lower)
            skeleton = english_skeleton(word)
            if len(skeleton) >= 3:
                keys.append("n:" + skeleton)
        return tuple(keys)

    def arabic(self, text: str) -> Counter:
        bag: Counter = Counter()
        cache = self.arabic_words
        for word in _ARABIC_WORD.findall(normalize_arabic(text)):
            contribution = cache.get(word)
            if contribution is None:
                contribution = cache[word] = self._arabic_word(word)
            for key, weight in contribution:
                bag[key] += weight
        for number in numbers(text):
            bag["d:" + number] += 1.0
        for token in LATIN_TOKEN.findall(text):
            bag["l:" + token.lower()] += 1.0
        return bag

    def english(self, text: str) -> Counter:
        bag: Counter = Counter()
        cache = self.english_words
        for word in ENGLISH_WORD.findall(text):
            keys = cache.get(word)
            if keys is None:
                keys = cache[word] = self._english_word(word)
            for key in keys:
                bag[key] += 1.0
        for number in numbers(text):
            bag["d:" + number] += 1.0
        return bag


def arabic_bag(text: str) -> Counter:
    return BagMaker().arabic(text)


def english_bag(text: str) -> Counter:
    return BagMaker().english(text)


class SideIndex:
    """The bags of one side as sparse rows of feature ids (shared vocabulary with the other side)."""

    def __init__(self, vocabulary: dict[str, int]):
        self.vocabulary = vocabulary
        self.indptr = array("q", [0])
        self.lengths = array("f")          # characters (Arabic: times EXPECTED_LENGTH_RATIO)
        self.indices = array("i")
        self.counts = array("f")

    def add(self, bag: Counter, length: float) -> None:
        self.lengths.append(length)
        vocabulary = self.vocabulary
        self.indices.extend([vocabulary.setdefault(key, len(vocabulary)) for key in bag])
        self.counts.extend(bag.values())
        self.indptr.append(len(self.indices))

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def tfidf(self, idf: np.ndarray) -> sparse.csr_matrix:
        """Rows of sublinear tf times idf, of unit length."""
        indices = np.frombuffer(self.indices, dtype=np.int32)
        data = np.log1p(np.frombuffer(self.counts, dtype=np.float32)) * idf[indices]
        matrix = sparse.csr_matrix((data.astype(np.float32), indices, np.frombuffer(self.indptr, dtype=np.int64)),
                                   shape=(len(self), len(idf)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags((1.0 / norms).astype(np.float32)) @ matrix)


class Indexed(NamedTuple):
    ar: sparse.csr_matrix           # tf-idf rows of unit length
    en: sparse.csr_matrix
    df: np.ndarray                  # documents (both sides) that have each feature
    ar_lengths: np.ndarray          # in English characters
    en_lengths: np.ndarray


def index_documents(ar_texts: Iterable[str], en_texts: Iterable[str],
                    progress: Callable[[str, int], None] | None = None) -> Indexed:
    """tf-idf rows of both sides, each feature's document frequency and the documents' lengths; the
    texts are read once, in turn, and not kept."""
    maker, vocabulary = BagMaker(), {}
    sides = []
    for side, texts, make, ratio in (("ar", ar_texts, maker.arabic, EXPECTED_LENGTH_RATIO),
                                     ("en", en_texts, maker.english, 1.0)):
        index = SideIndex(vocabulary)
        for text in texts:
            index.add(make(text), len(text) * ratio)
            if progress:
                progress(side, len(index))
        sides.append(index)
    size = len(vocabulary)
    df = np.zeros(size, dtype=np.int64)
    for index in sides:
        df += np.bincount(np.frombuffer(index.indices, dtype=np.int32), minlength=size)
    idf = np.log((len(sides[0]) + len(sides[1]) + 1) / (df + 0.5)).astype(np.float32)
    return Indexed(sides[0].tfidf(idf), sides[1].tfidf(idf), df,
                   np.frombuffer(sides[0].lengths, dtype=np.float32), np.frombuffer(sides[1].lengths, dtype=np.float32))


# -- candidates ---------------------------------------------------------------------------------
def query_rows(matrix: sparse.csr_matrix, usable: np.ndarray, count: int) -> sparse.csr_matrix:
    """Each row cut to its ``count`` largest weights among usable features."""
    matrix = matrix.tocoo()
    keep = usable[matrix.col]
    rows, cols, data = matrix.row[keep], matrix.col[keep], matrix.data[keep]
    order = np.lexsort((-data, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    starts = np.searchsorted(rows, np.arange(matrix.shape[0]))
    rank = np.arange(len(rows)) - starts[rows]
    keep = rank < count
    return sparse.csr_matrix((data[keep], (rows[keep], cols[keep])), shape=matrix.shape)


def candidates(query: sparse.csr_matrix, target: sparse.csr_matrix, usable: np.ndarray,
               k: int = CANDIDATES) -> tuple[np.ndarray, np.ndarray]:
    """(query row, target row) of each row's k best targets by the weight their usable features share
    with the row's query features (an inverted-index lookup as a sparse product, a chunk at a time)."""
    queries = query_rows(query, usable, QUERY_FEATURES)
    postings = sparse.csr_matrix(target.multiply(usable[np.newaxis, :].astype(np.float32))).T.tocsr()
    out_rows, out_cols = [], []
    for start in range(0, query.shape[0], CHUNK_ROWS):
        shared = (queries[start:start + CHUNK_ROWS] @ postings).tocsr()
        for r in range(shared.shape[0]):
            lo, hi = shared.indptr[r], shared.indptr[r + 1]
            if lo == hi:
                continue
            values, cols = shared.data[lo:hi], shared.indices[lo:hi]
            if hi - lo > k:
                best = np.argpartition(-values, k)[:k]
                cols = cols[best]
            out_rows.append(np.full(len(cols), start + r, dtype=np.int64))
            out_cols.append(cols.astype(np.int64))
    if not out_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(out_rows), np.concatenate(out_cols)


def pair_cosines(ar: sparse.csr_matrix, en: sparse.csr_matrix, rows: np.ndarray,
                 cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cosine of each pair, and how many features it shares."""
    cosines, shared = np.empty(len(rows)), np.empty(len(rows))
    step = 1 << 16
    for start in range(0, len(rows), step):
        part = slice(start, start + step)
        product = sparse.csr_matrix(ar[rows[part]].multiply(en[cols[part]]))
        cosines[part] = np.asarray(product.sum(axis=1)).ravel()
        shared[part] = np.diff(product.indptr)
    return cosines, shared


def neighbourhood(owner: np.ndarray, cosines: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each candidate pair, over its ``owner`` document's other candidates: the mean of the
    NEIGHBOURS best cosines (the level of the ratio margin) and the best one (the strongest rival);
    0 where it has none."""
    if not len(owner):
        return np.zeros(0), np.zeros(0)
    order = np.lexsort((-cosines, owner))
    ranked = cosines[order]
    first = np.r_[True, owner[order][1:] != owner[order][:-1]]
    group = np.cumsum(first) - 1
    group_start = np.flatnonzero(first)[group]
    rank = np.arange(len(order)) - group_start
    size = np.bincount(group)[group]
    running = np.r_[0.0, np.cumsum(ranked)]

    def head(n):        # sum of each group's n best cosines
        return running[group_start + np.minimum(size, n)] - running[group_start]

    others = np.minimum(NEIGHBOURS, size - 1)
    # the pair among its document's NEIGHBOURS + 1 best: the others of those; below them: the NEIGHBOURS best
    total = np.where(rank <= NEIGHBOURS, head(NEIGHBOURS + 1) - ranked, head(NEIGHBOURS))
    level, rival = np.zeros(len(order)), np.zeros(len(order))
    level[order] = np.where(others > 0, total / np.maximum(others, 1), np.nan)
    second = ranked[np.minimum(group_start + 1, len(order) - 1)]
    rival[order] = np.where(size > 1, np.where(rank == 0, second, ranked[group_start]), np.nan)
    return level, rival


# -- decisions ----------------------------------------------------------------------------------
class Candidates(NamedTuple):
    ar: np.ndarray          # Arabic row of each candidate pair
    en: np.ndarray          # English row
    cosine: np.ndarray
    shared: np.ndarray      # features the two documents share
    length: np.ndarray      # |log| of the ratio of their lengths
    ar_coverage: np.ndarray  # share of the Arabic document's features found in the English one
    en_coverage: np.ndarray

    def subset(self, mask: np.ndarray) -> "Candidates":
        return Candidates(*(column[mask] for column in self))


PAIR_FEATURES = ("cosine", "length", "evidence", "ar_coverage", "en_coverage")
CALIBRATED_FEATURES = ("pair_score", "margin", "above_rival", "below_rival")
SCORE_FLOOR = -4.0          # the least pair score a margin is measured against (chance overlaps score less)
FULL_EVIDENCE = 20          # shared features from which a pair's margins count in full
ROUNDS = 4                  # rounds of decisions (see match_documents)


def confidence_of(features: np.ndarray, evidence: np.ndarray | float = 0.0) -> np.ndarray:
    """The calibrated probability that a pair is right, from its CALIBRATED_FEATURES (plus log-odds
    from metadata); a pair alone (no rival, see pair_features) gets its first-stage probability."""
    *weights, offset = CALIBRATION
    logit = features[:, :-1] @ np.array(weights) + offset + evidence
    alone = features[:, -1] > 0
    logit = np.where(alone, features[:, 0], logit)     # the pair score already holds the metadata's log-odds
    return 1.0 / (1.0 + np.exp(-np.clip(logit, -30, 30)))


def find_candidates(indexed: Indexed, extra: Iterable[tuple[int, int]] = ()) -> Candidates:
    """Every candidate pair, from both directions (and ``extra`` pairs that metadata proposes), with
    what its confidence is computed from."""
    ar, en = indexed.ar, indexed.en
    usable = indexed.df <= COMMON_DF
    forward = candidates(ar, en, usable)
    backward = candidates(en, ar, usable)
    extra = np.array(list(extra), dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([forward[0], backward[1], extra[:, 0]])
    cols = np.concatenate([forward[1], backward[0], extra[:, 1]])
    keys = np.unique(rows * en.shape[0] + cols)
    rows, cols = keys // en.shape[0], keys % en.shape[0]
    cosines, shared = pair_cosines(ar, en, rows, cols)
    # a near copy of the right document (the same story retold) differs in length; and leaves more of
    # either side unmatched, while sharing the rare names
    lengths = np.abs(np.log((indexed.ar_lengths[rows] + 1) / (indexed.en_lengths[cols] + 1)))
    return Candidates(rows, cols, cosines, shared, lengths, shared / np.maximum(1, np.diff(ar.indptr)[rows]),
                      shared / np.maximum(1, np.diff(en.indptr)[cols]))


def pair_evidence(found: Candidates) -> np.ndarray:
    """PAIR_FEATURES of each candidate pair: what the two documents share, whatever their rivals."""
    # standing out on two or three shared words is chance: evidence counts up to FULL_EVIDENCE features
    evidence = np.minimum(found.shared, FULL_EVIDENCE) / FULL_EVIDENCE
    return np.c_[found.cosine, found.length, evidence, found.ar_coverage, found.en_coverage]


def pair_scores(found: Candidates) -> np.ndarray:
    """The first stage: log-odds that a pair is right from its own evidence alone (PAIR_WEIGHTS)."""
    *weights, offset = PAIR_WEIGHTS
    return pair_evidence(found) @ np.array(weights) + offset


def pair_features(found: Candidates, metadata_log_odds: np.ndarray | float = 0.0) -> np.ndarray:
    """CALIBRATED_FEATURES of each candidate pair, the second stage: its pair score; how far it stands
    above the mean score of its documents' NEIGHBOURS best other candidates (the margin over k
    neighbours, as a difference of log-odds); and how far above (or below) the strongest rival of either
    document (above its rivals or not is a different question from by how much: the two get their own
    weights). Margins count in proportion to the shared evidence. Metadata's log-odds count in the
    scores that are compared, so a pair that metadata favours stands out from rivals it disfavours."""
    scores = pair_scores(found) + metadata_log_odds
    (ar_level, ar_rival), (en_level, en_rival) = neighbourhood(found.ar, scores), neighbourhood(found.en, scores)
    # a pair whose documents have no other candidate at all (a small collection, or two files) has no
    # margin to speak of: its own evidence decides alone
    alone = np.isnan(ar_rival) & np.isnan(en_rival)
    both = np.c_[ar_level, en_level]
    both[alone] = 0.0
    level = np.maximum(SCORE_FLOOR, np.nanmean(both, axis=1))
    rival = np.maximum(SCORE_FLOOR, np.where(alone, 0.0, np.fmax(ar_rival, en_rival)))
    margin = np.where(alone, 0.0, scores - level)
    gap = np.where(alone, 0.0, scores - rival)
    evidence = np.minimum(found.shared, FULL_EVIDENCE) / FULL_EVIDENCE
    # the last column marks pairs alone: without rivals there is no second stage (confidence_of)
    return np.c_[scores, margin * evidence, np.maximum(gap, 0) * evidence, np.minimum(gap, 0), alone]


def match_documents(ar_texts: Iterable[str], en_texts: Iterable[str], threshold: float = CONFIDENCE_THRESHOLD,
                    metadata: "Metadata | None" = None,
                    progress: Callable[[str, int], None] | None = None) -> list[DocumentPair]:
    """One-to-one pairs (Arabic index, English index, confidence), most confident first; documents left
    out of every pair have no counterpart that is likely enough. ``metadata``: log-odds from paths and
    hints (see Metadata); the pairs it proposes are always candidates. ``progress(side, documents)`` is
    called as the texts are read.

    Decisions come in rounds: the pairs confident enough are made, then the confidences of the pairs
    whose documents are both still free are computed again among those only (a document whose rival
    was paired with its own counterpart now stands out), and so on."""
    indexed = index_documents(ar_texts, en_texts, progress)
    if not indexed.ar.shape[0] or not indexed.en.shape[0]:
        return []
    found = find_candidates(indexed, metadata.proposed() if metadata else ())
    # a pair sharing no evidence at all is never made, whatever the metadata says
    found = found.subset(found.cosine > 0)
    bonus = metadata.log_odds(found.ar, found.en) if metadata else np.zeros(len(found.ar))
    made: list[DocumentPair] = []
    for _ in range(ROUNDS):
        confidence = confidence_of(pair_features(found, bonus), bonus)
        keep = confidence >= threshold
        edges = {(int(a), int(e)): float(c) for a, e, c in zip(found.ar[keep], found.en[keep], confidence[keep])}
        chosen = best_assignment({k: _logit(c) - _logit(threshold) for k, c in edges.items()}, 0.0)
        if not chosen:
            break
        made.extend(DocumentPair(a, e, edges[a, e]) for a, e in chosen)
        paired_ar = np.array([a for a, _ in chosen])
        paired_en = np.array([e for _, e in chosen])
        free = ~np.isin(found.ar, paired_ar) & ~np.isin(found.en, paired_en)
        found, bonus = found.subset(free), bonus[free]
    return sorted(made, key=lambda p: -p.confidence)


def _logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))


def best_assignment(edges: dict[tuple[int, int], float], threshold: float) -> list[tuple[int, int]]:
    """The one-to-one set of edges with the largest total (gain - threshold): the Hungarian algorithm on
    each connected group of candidate edges of up to EXACT_GROUP documents, competitive linking (the
    best edge first, as long as both its documents are free) on a larger group."""
    parent: dict = {}

    def root(x):
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    usable = {k: v for k, v in edges.items() if v > threshold}
    for a, e in usable:
        parent[root(("ar", a))] = root(("en", e))
    groups: dict = defaultdict(list)
    for a, e in usable:
        groups[root(("ar", a))].append((a, e))
    chosen = []
    for group in groups.values():
        rows = sorted({a for a, _ in group})
        cols = sorted({e for _, e in group})
        if len(rows) + len(cols) > EXACT_GROUP:
            chosen.extend(_competitive_linking(group, usable))
            continue
        # cost of a cell: minus its gain; a row may also take one of len(rows) dummy columns (no link)
        cost = [[-(usable[a, e] - threshold) if (a, e) in usable else 0.0 for e in cols] + [0.0] * len(rows)
                for a in rows]
        for r, c in _hungarian(cost).items():
            if c < len(cols) and (rows[r], cols[c]) in usable:
                chosen.append((rows[r], cols[c]))
    return chosen


def _competitive_linking(group: list[tuple[int, int]], gains: dict[tuple[int, int], float]) -> list[tuple[int, int]]:
    taken_ar, taken_en, chosen = set(), set(), []
    for a, e in sorted(group, key=lambda k: -gains[k]):
        if a not in taken_ar and e not in taken_en:
            taken_ar.add(a)
            taken_en.add(e)
            chosen.append((a, e))
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


# -- metadata -----------------------------------------------------------------------------------
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


# -- one document pair (`translate align AR.txt EN.txt`) ----------------------------------------
# a pair of files is taken for a translation when the share of its sentences that find their
# counterpart confidently (matched as tiny documents) plus the confidence of the whole pair (without
# rivals) reaches this: on 181 FLORES dev articles, 97.8% of the true pairs reach it and none of 181
# mismatched pairs (largest 0.50)
TRANSLATION_EVIDENCE = 0.55
SENTENCE_CONFIDENCE = 0.5   # the threshold for sentences matched as documents in that check
_ARABIC_LETTER = re.compile("[\u0621-\u064a\u0671-\u06d3]")
_LATIN_LETTER = re.compile("[A-Za-z]")


def script_of(text: str) -> str | None:
    """"arabic" or "latin": the script of most of a text's letters (None: no letters)."""
    arabic, latin = len(_ARABIC_LETTER.findall(text)), len(_LATIN_LETTER.findall(text))
    if not arabic and not latin:
        return None
    return "arabic" if arabic >= latin else "latin"


def language_problem(ar_text: str, en_text: str) -> tuple[str, str] | None:
    """(which side: "ar", "en" or "swapped", why) when the pair is not Arabic then English; None if it is."""
    ar_script, en_script = script_of(ar_text), script_of(en_text)
    if ar_script == "latin" and en_script == "arabic":
        return "swapped", "the Arabic file is in Latin script and the English file in Arabic script (swapped?)"
    if ar_script != "arabic":
        return "ar", "not Arabic (" + ("no letters" if ar_script is None else "mostly Latin script") + ")"
    if en_script != "latin":
        return "en", "not English (" + ("no letters" if en_script is None else "mostly Arabic script") + ")"
    return None


def translation_evidence(ar_sentences: Sequence[str], en_sentences: Sequence[str]) -> float:
    """How much evidence there is that two documents translate each other, from 0 to 2 (see
    TRANSLATION_EVIDENCE): the share of sentences paired confidently plus the pair's own confidence."""
    if not ar_sentences or not en_sentences:
        return 0.0
    sentence_pairs = match_documents(ar_sentences, en_sentences, threshold=SENTENCE_CONFIDENCE)
    share = len(sentence_pairs) / min(len(ar_sentences), len(en_sentences))
    found = find_candidates(index_documents(["\n".join(ar_sentences)], ["\n".join(en_sentences)]))
    whole = float(confidence_of(pair_features(found))[0]) if len(found.ar) else 0.0
    return share + whole
