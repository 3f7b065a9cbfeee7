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
made. In a large archive the strongest rival is often a near copy (the same story with another tail),
which scores almost as the right pair; a pair's *contrast* (``contrast``) tells them apart by the parts
that differ: a document translates what its counterpart has and the near copy lacks, not the reverse.
Contrasts are added to the scores before the margins are taken. Metadata (paths that differ only by a
language marker, dates in paths, a hints file) shifts the log-odds when present. Pairs below ``CONFIDENCE_THRESHOLD`` are never made (a wrong document pair
poisons every sentence pair made from it; an unmatched one only costs recall); among the others the
one-to-one assignment with the largest total log-odds is chosen, exactly (Hungarian algorithm) on each
small connected group of candidate pairs, by competitive linking (best pair first) on a large one.

One module per stage: ``evidence`` (bags and their tf-idf index), ``candidates`` (the inverted-index
lookup), ``contrast`` (what a pair shares that its strongest rival lacks), ``confidence`` (the two
calibrated logistic stages), ``assignment`` (one-to-one over the candidate graph), ``metadata`` (paths and hints), ``matching`` (the rounds of decisions), ``two_files``
(the check of a single pair) and ``resume`` (document identities and what the store already holds).
"""
from .assignment import EXACT_GROUP, best_assignment
from .candidates import CANDIDATES, COMMON_DF, QUERY_FEATURES, Candidates, find_candidates
from .confidence import (CALIBRATED_FEATURES, CALIBRATION, CONTRAST_WEIGHTS, FULL_EVIDENCE, NEIGHBOURS, PAIR_FEATURES,
                         PAIR_WEIGHTS, confidence_of, contrasted_scores, neighbourhood, pair_evidence,
                         pair_features, pair_scores)
from .contrast import CONTRASTED_RANK, contrast_features, strongest_rivals
from .evidence import BagMaker, Indexed, arabic_bag, english_bag, index_documents
from .matching import CONFIDENCE_THRESHOLD, DocumentPair, decide_round, match_documents, match_indexed
from .metadata import DATE_EVIDENCE, HINT_EVIDENCE, PATH_EVIDENCE, Metadata, path_day, path_key
from .resume import aligned_before, document_sha256, matching_fingerprint
from .two_files import TRANSLATION_EVIDENCE, language_problem, script_of, translation_evidence

__all__ = ["BagMaker", "CALIBRATED_FEATURES", "CALIBRATION", "CANDIDATES", "COMMON_DF", "CONFIDENCE_THRESHOLD",
           "CONTRASTED_RANK", "CONTRAST_WEIGHTS", "contrast_features", "contrasted_scores", "strongest_rivals",
           "Candidates", "DATE_EVIDENCE", "DocumentPair", "EXACT_GROUP", "FULL_EVIDENCE", "HINT_EVIDENCE", "Indexed",
           "Metadata", "NEIGHBOURS", "PAIR_FEATURES", "PAIR_WEIGHTS", "PATH_EVIDENCE", "QUERY_FEATURES",
           "TRANSLATION_EVIDENCE", "aligned_before", "arabic_bag", "best_assignment", "confidence_of", "decide_round",
           "document_sha256", "english_bag", "find_candidates", "index_documents", "language_problem",
           "match_documents", "match_indexed", "matching_fingerprint", "neighbourhood", "pair_evidence", "pair_features", "pair_scores", "path_day",
           "path_key", "script_of", "translation_evidence"]
