"""The corpus store: one SQLite file (WAL mode) of documents, segments, translations, scores and reviews.

The package is split along what it does:
- ``schema``: the numbered migrations (each applied one is recorded in ``schema_migrations``) and the SQL
  fragments every query of pairs shares;
- ``connection``: opening the file (read-write, read-only, immutable), transactions, migrating, errors;
- ``runs``: models, runs, run liveness locks and the claims that split work between concurrent runs;
- ``corpus``: writing documents, segments (current and superseded segmentations) and pairs;
- ``versions``: a file run again with changed content as a new version of its document;
- ``history``: review decisions written from elsewhere (carried to a new version, imported);
- ``reads``: streaming pairs for exports and eval;
- ``reviewers``: team review: reviewer accounts and tokens, claims, blind votes, adjudication.
- ``links``: document pairs, their alignment as stand-off links, and the link log (alignment editor);
- ``matchings``: saved document matchings of folder alignments (a rerun reuses them).
The review page's reads and writes are in ``translate.review`` (queries, decisions).

Machine output is never overwritten: review edits are new rows in ``edits`` and every status change is
a row in ``review_log``. ``scores`` holds the score of a pair's current text: an edit is scored again,
and keeps the score the pair had before it (an undo puts it back).

``Store(path, readonly=True)`` reads a store that cannot be written (a read-only file, a folder that
cannot be written, another user's store); see ``Connection``.
"""
from __future__ import annotations

from .connection import (BUSY_TIMEOUT_S, DEFAULT_DB, Connection, StoreError, busy_timeout, describe_error, now,
                         text_hash)
from .corpus import CorpusWrites, NewSegment, SegmentsAdded
from .history import Decision, ReviewHistory
from .links import AlignedSentence, LinkBook, LinkRow, StoredAlignment
from .matchings import MatchingBook
from .reads import CorpusReads
from .reviewers import ReviewerBook
from .runs import RunBook
from .versions import DocumentVersion, DocumentVersions
from .schema import (CURRENT_EDIT_TEXT, CURRENT_PAIR, CURRENT_SEGMENT, MIGRATIONS, PAIR_SELECT, PAIR_SOURCE,
                     REJECT_REASONS, STATUSES, normalise_for_search)


class Store(RunBook, DocumentVersions, ReviewHistory, CorpusWrites, CorpusReads, LinkBook, ReviewerBook, MatchingBook,
            Connection):
    """A connection to one corpus file, with every part of the store's interface. Writes go through
    ``transaction()``; see ``Connection`` for opening modes."""


__all__ = ["AlignedSentence", "LinkRow", "StoredAlignment", "BUSY_TIMEOUT_S", "CURRENT_EDIT_TEXT", "CURRENT_PAIR", "CURRENT_SEGMENT", "DEFAULT_DB", "MIGRATIONS",
           "PAIR_SELECT", "PAIR_SOURCE", "REJECT_REASONS", "STATUSES", "Connection", "Decision", "DocumentVersion", "NewSegment", "SegmentsAdded",
           "Store", "StoreError", "busy_timeout", "describe_error", "normalise_for_search", "now", "text_hash"]
