"""Sentence alignment of an Arabic document with its existing English translation.

Dynamic programming picks the best sequence of *beads*: 1-1, 1-2, 2-1, 2-2, and 1-0 / 0-1 for
sentences with no counterpart. A bead's gain is a linear score (positive: better linked than left
unmatched) over evidence that does not all depend on machine translation:

* ``bridge``: when there is an MT of the Arabic (the bridge), a Dice coefficient of its character
  3-grams and words with the English (a cheap chrF), minus the *background* similarity of the same
  sentences to the wrong sentences around them, so a link must stand out from its neighbourhood;
* ``lexical``: the share of content words on each side that have a translation on the other side in
  the project's bilingual lexicon (``translate.lexicon``), minus its background likewise;
  both count as a linear discriminant fitted to the document at hand: zero halfway between the
  background and the typical right match (the gap), and scaled by gap / spread^2 of the wrong
  matches, so a strong bridge leads, a weak one (the demo model on news) adds a little, and a useless
  one (random output) nothing;
* ``best_share``: the share of the bead's sentences whose best partner nearby (by bridge, lexicon,
  names and numbers together) is inside the bead;
* ``numbers``: Dice of the numbers of both sides (Arabic-Indic digits normalised);
* ``names``: Dice of names: Latin-script tokens in the Arabic, and Arabic words unknown to the
  lexicon whose consonant skeleton matches a capitalised English word of the document
  (ستانفورد ~ Stanford); an English word matched so counts as a name only, not as a lexicon word;
* ``punctuation`` (question and exclamation marks, quotes, parentheses, colons) and ``length``
  (|log| of the English length against the Arabic length times the expected ratio, Gale–Church's
  signal), plus a penalty per bead type.

The weights (``WEIGHTS``, one set with a bridge and one without) are fitted by
``bench/align_eval.py --fit`` on perturbed pseudo-documents of UD Arabic PUD with the demo model as
the bridge and a lexicon that has not seen PUD (the shipped one has): pairwise logistic regression of
each gold bead against the beads competing with it, then the per-sentence linking bonus
(``intercept``) that gives the best link F1 there. FLORES, the news the aligner is measured on, is not
used to fit them. A skipped sentence gains 0, so a bead is kept only
where its evidence beats leaving its sentences unmatched. The search is banded around the
diagonal, so long documents stay fast.

Aligned pairs go to the store with the human English as the translation and the MT (if any) kept as
``bridge``. Both documents and the alignment itself are stored too, as stand-off links (one per bead,
1-0 and 0-1 included: they are no pairs, but the alignment editor shows them; see translate.alignment_edit).

The parts live in translate/sentence_alignment/: evidence.py (a sentence's view and the similarities),
names.py (name matching by consonant skeleton), scoring.py (the features, weights and gain of a bead),
search.py (the dynamic programme) and sentences.py (the sentences of both sides). This module puts them
together and stores the result; the names other modules use are importable from here.
"""
from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

from .alignment_repair.storing import locate_sentences, store_auto_alignment
from .sentence_alignment.evidence import (ENGLISH_WORD, EXPECTED_LENGTH_RATIO, LATIN_TOKEN, bridge_similarity,
                                          lexical_similarity, lexicon_in_use, numbers, translation_tables,
                                          using_lexicon)
from .sentence_alignment.names import arabic_skeleton, english_skeleton
from .sentence_alignment.scoring import FEATURES, PRIOR, WEIGHTS, Problem
from .sentence_alignment.search import AlignError, Bead, dynamic_align
from .sentence_alignment.sentences import arabic_sentences, english_sentences, read_translations
from .store import AlignedSentence, NewSegment, Store

__all__ = ["AlignError", "Bead", "ENGLISH_WORD", "EXPECTED_LENGTH_RATIO", "FEATURES", "LATIN_TOKEN", "PRIOR",
           "Problem", "StoreSummary", "WEIGHTS", "align", "align_documents", "arabic_sentences", "arabic_skeleton",
           "bridge_similarity", "dynamic_align", "english_sentences", "english_skeleton", "lexical_similarity",
           "lexicon_in_use", "numbers", "read_translations", "store_alignment", "translation_tables",
           "using_lexicon"]


def align(mt: Sequence[str] | None, english: Sequence[str], arabic: Sequence[str] | None = None) -> list[Bead]:
    """Align sentences given the MT of each Arabic sentence (line-aligned; None: no bridge), the English
    sentences and the Arabic sentences themselves (needed for the lexicon, names, numbers and length;
    with only the MT, the bridge and the MT's length carry the alignment)."""
    problem = Problem(mt, english, arabic)
    beads = []
    for i, di, j, dj in dynamic_align(problem.n, problem.m, problem.gain):
        score = problem.link_probability(problem.gain(i, di, j, dj)) if di and dj else 0.0
        beads.append(Bead(list(range(i, i + di)), list(range(j, j + dj)), score))
    return beads


def align_documents(ar_text: str, en_text: str, presegmented: bool, engine=None) -> tuple:
    """(Arabic segments, English sentences, bridge MT or None, beads) of one document pair: both sides
    split into sentences, the Arabic translated by ``engine`` (a translate.Engine) if one is given, and
    the sentences aligned. Raises AlignError."""
    segments = arabic_sentences(ar_text, presegmented)
    english = english_sentences(en_text, presegmented)
    mt = [h.text for h in engine.translate([s.text for s in segments])] if engine is not None else None
    return segments, english, mt, align(mt, english, [s.text for s in segments])


@dataclass
class StoreSummary:
    stored: int = 0
    existing: int = 0
    kept_confirmed: int = 0          # confirmed rows (alignment editor) the new alignment kept
    document_pair_id: int | None = None
    pairs: list[dict] = field(default_factory=list)


def store_alignment(store: Store, ar_path: str, ar_text: str, segments: list[NewSegment], english: list[str],
                    mt: list[str] | None, beads: list[Bead], model_id: int | None, options: dict,
                    en_path: str | None = None, en_text: str | None = None,
                    not_a_translation: bool = False) -> StoreSummary:
    """Store both documents, their sentences, and the alignment as the document pair's links; the pairs
    are derived from the links (translate.alignment_edit): re-running adds nothing new, and a document
    pair aligned again (another bridge, or none) has its automatic rows replaced, its confirmed ones kept.

    A pair's score averages the quality estimate of (Arabic, English) with the alignment probability,
    but never rises above the quality estimate of a pair that it labels bad (an untranslated or
    wrong-language pair is not rescued by a confident link); ``not_a_translation`` (documents that
    failed the document check, stored with --force) labels every pair bad. Its signals hold every
    quality signal plus ``alignment_score`` and ``alignment`` ("2-1" ...).
    """
    if en_text is None:                 # no English document given: its sentences joined by lines
        en_text = "\n".join(english)
    try:
        en_segments = locate_sentences(en_text, english)
    except ValueError as exc:
        raise AlignError(f"{en_path}: {exc}") from None
    document_id, _ = store.add_document(ar_path, ar_text, hashlib.sha256(ar_text.encode("utf-8")).hexdigest())
    segment_ids = store.add_segments(document_id, segments)
    en_document_id, _ = store.add_document(en_path or ar_path + ".en", en_text,
                                           hashlib.sha256(en_text.encode("utf-8")).hexdigest(), lang="en")
    en_ids = store.add_segments(en_document_id, en_segments)
    ar_sentences = [AlignedSentence(i, s.start, s.end, s.text, mt[k] if mt is not None else None)
                    for k, (i, s) in enumerate(zip(segment_ids, segments))]
    en_sentences = [AlignedSentence(i, s.start, s.end, s.text) for i, s in zip(en_ids, en_segments)]
    run_id = store.start_run("align", model_id, options)
    status = "interrupted"
    try:
        bridge = options.get("bridge", options.get("model")) if mt is not None else ""
        done = store_auto_alignment(store, document_id, ar_sentences, en_document_id, en_sentences, beads,
                                    model_id, bridge, run_id, not_a_translation=not_a_translation)
        status = "done"
    finally:
        store.finish_run(run_id, status)
    return StoreSummary(done.stored, done.existing, done.kept_confirmed, done.document_pair_id)
