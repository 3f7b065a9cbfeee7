"""The store's schema: the numbered migrations, the text-search folding they build into SQL, and the SQL
fragments every query of pairs shares.

The schema changes only through the numbered migrations in ``MIGRATIONS``; each applied migration is
recorded in ``schema_migrations`` (see ``Connection.migrate``). A released migration's text never changes.
"""
from __future__ import annotations

import sqlite3

STATUSES = ("pending", "approved", "rejected", "edited")
# why a reviewer rejected a pair (review page keys 1-7, exports' reject_reason)
REJECT_REASONS = ("misaligned", "omission", "addition", "untranslated", "mistranslation", "poor-english", "other")


MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", """
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE,          -- identity of a document is its content
    path TEXT NOT NULL,                   -- where it was first read from
    text TEXT NOT NULL,
    lang TEXT NOT NULL DEFAULT 'ar',
    added_at TEXT NOT NULL
);
CREATE TABLE segments (
    id INTEGER PRIMARY KEY,
    document_id INTEGER NOT NULL REFERENCES documents(id),
    position INTEGER NOT NULL,            -- order in the document, from 0
    start INTEGER NOT NULL,               -- offsets into documents.text (Python string indices)
    end INTEGER NOT NULL,
    sentence INTEGER NOT NULL,
    part INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL,
    text_hash TEXT NOT NULL,              -- to find identical source text across documents
    UNIQUE (document_id, start, end)      -- a segment is its span: a changed segmentation adds new spans
);
CREATE INDEX segments_text_hash ON segments(text_hash);
CREATE TABLE models (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    weights_sha256 TEXT NOT NULL,
    UNIQUE (name, weights_sha256)
);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                   -- 'translate' or 'align'
    model_id INTEGER REFERENCES models(id),
    options TEXT NOT NULL,                -- JSON
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running'
);
CREATE TABLE translations (
    id INTEGER PRIMARY KEY,
    segment_id INTEGER NOT NULL REFERENCES segments(id),   -- first source segment of the pair
    segment_count INTEGER NOT NULL DEFAULT 1,             -- consecutive segments covered (alignments 2-1)
    source_end INTEGER,                                   -- end offset of the last segment covered
    model_id INTEGER REFERENCES models(id),               -- the MT model (the bridge model for alignments)
    run_id INTEGER REFERENCES runs(id),
    origin TEXT NOT NULL DEFAULT 'mt',                    -- 'mt' or 'human' (aligned existing translation)
    text TEXT NOT NULL,                                   -- as produced; never overwritten
    bridge TEXT,                                          -- for aligned pairs: the MT of the source
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected','edited')),
    created_at TEXT NOT NULL
);
-- IFNULL: an alignment given external MT has no model, and NULLs never collide in a unique index
CREATE UNIQUE INDEX translations_unique ON translations(segment_id, segment_count, IFNULL(model_id, 0), text)
    WHERE origin = 'human';
CREATE UNIQUE INDEX translations_mt_unique ON translations(segment_id, model_id) WHERE origin = 'mt';
CREATE INDEX translations_status ON translations(status, id);
CREATE TABLE scores (
    translation_id INTEGER PRIMARY KEY REFERENCES translations(id),
    score REAL NOT NULL,
    label TEXT NOT NULL,
    signals TEXT NOT NULL                 -- JSON object of every signal
);
CREATE INDEX scores_score ON scores(score);
CREATE TABLE edits (
    id INTEGER PRIMARY KEY,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    text TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX edits_translation ON edits(translation_id, id);
CREATE TABLE review_log (
    id INTEGER PRIMARY KEY,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    action TEXT NOT NULL,                 -- approve, reject, edit, undo, bulk-approve
    old_status TEXT NOT NULL,
    new_status TEXT NOT NULL,
    edit_id INTEGER REFERENCES edits(id),
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX review_log_translation ON review_log(translation_id, id);
"""),
    # review: an undo withdraws an edit (the row stays as history; exports skip it) and records which
    # log entry it reverted; document filters go segments -> translations; the document list is read
    # from an index (a scan of documents would read every document's text)
    (2, "review undo and indexes", """
ALTER TABLE edits ADD COLUMN undone_at TEXT;     -- set when a review undo withdrew this edit
ALTER TABLE review_log ADD COLUMN undoes INTEGER REFERENCES review_log(id);  -- for action 'undo'
CREATE INDEX review_log_undoes ON review_log(undoes) WHERE undoes IS NOT NULL;
CREATE INDEX translations_segment ON translations(segment_id);
CREATE INDEX documents_path ON documents(path);
"""),
    (3, "review reasons, re-scored edits, batches, search index", None),   # SQL: review_migration()
    # (versions need not be contiguous in a store: ``migrate`` applies every listed version a store has
    # not recorded, in number order, so a store that got 4 first gets 3 after it)
    #
    # A document run again with other segmentation settings (--max-words) gets a second, overlapping
    # set of spans. The later run's spans are the document's current segmentation; the spans they
    # replace are marked superseded (kept, with their pairs and reviews). Stores made before this
    # migration: a span is superseded when a later-inserted span with a machine translation overlaps it
    # (a run inserts its spans in order; a span both segmentations share keeps its first id and does not
    # overlap the spans of either).
    #
    # Runs working on the same documents at the same time split the work: a run claims the segments of
    # a chunk before it translates them, and leaves alone those another running run claimed (see
    # claim_segments). Claims live as long as their run.
    (4, "superseded segmentations, run claims", """
CREATE TABLE claims (
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    model_id INTEGER NOT NULL REFERENCES models(id),
    run_id INTEGER NOT NULL REFERENCES runs(id),
    PRIMARY KEY (segment_id, model_id)
);
CREATE INDEX claims_run ON claims(run_id);
ALTER TABLE segments ADD COLUMN superseded_at TEXT;   -- set when a later run segmented this text differently
UPDATE segments SET superseded_at = strftime('%Y-%m-%dT%H:%M:%S+00:00', 'now')
WHERE EXISTS (SELECT 1 FROM segments later
              WHERE later.document_id = segments.document_id AND later.id > segments.id
                AND later.start < segments.end AND later.end > segments.start
                AND EXISTS (SELECT 1 FROM translations t WHERE t.segment_id = later.id AND t.origin = 'mt'));
"""),
    # review counts subtract the (few) pairs of superseded spans from counts over all pairs, which read
    # the status index alone: this finds those spans without reading every segment
    (5, "index of superseded spans", """
CREATE INDEX segments_superseded ON segments(id) WHERE superseded_at IS NOT NULL;
"""),
    # A file run again from the same path with changed content (an edited article) is a new version of
    # that document: the new document row names the one it replaces, the old one is marked superseded
    # and so are its spans (which takes its pairs out of exports and review, as a new segmentation
    # does). Stores made before this have no versions: every document is current.
    (6, "document versions", """
ALTER TABLE documents ADD COLUMN supersedes INTEGER REFERENCES documents(id);
ALTER TABLE documents ADD COLUMN superseded_at TEXT;
-- a decision written into a pair's history from elsewhere: carried over from the same sentence of an
-- earlier version of the document (action 'carry', the pair it came from), or read from an imported
-- translation memory (action 'import')
ALTER TABLE review_log ADD COLUMN from_pair INTEGER REFERENCES translations(id);
"""),
    # Alignments as stand-off links (issue 19). `translate align` stores both documents (the English one
    # with lang 'en', its sentences as segments), the document pair, the sentence lists the alignment
    # uses (segment ids, in order, with the bridge MT of each Arabic sentence) and one link per row of
    # the alignment: an Arabic and an English range of those lists (either may be empty: 1-0 and 0-1 rows
    # are kept), 'auto' or 'confirmed'. Aligned pairs are derived from the links with both sides: a link
    # change supersedes the pairs it no longer makes (kept with their reviews, not shown or exported) and
    # revives or adds the pairs of the new links. Every change is a link_log row holding the alignment
    # as it was before (undo puts it back); `version` counts changes so a stale editor view is refused.
    (7, "document pairs, stand-off links, link log", """
ALTER TABLE translations ADD COLUMN superseded_at TEXT;   -- set when a link change replaced this aligned pair
CREATE INDEX translations_superseded ON translations(id) WHERE superseded_at IS NOT NULL;
CREATE TABLE document_pairs (
    id INTEGER PRIMARY KEY,
    ar_document_id INTEGER NOT NULL REFERENCES documents(id),
    en_document_id INTEGER NOT NULL REFERENCES documents(id),
    model_id INTEGER REFERENCES models(id),     -- bridge MT model of the latest automatic alignment
    bridge TEXT,                                -- its name ('' none, NULL external MT given with --translations)
    version INTEGER NOT NULL DEFAULT 0,         -- incremented by every change of the links
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (ar_document_id, en_document_id)
);
CREATE TABLE alignment_sentences (
    document_pair_id INTEGER NOT NULL REFERENCES document_pairs(id),
    side TEXT NOT NULL CHECK (side IN ('ar', 'en')),
    position INTEGER NOT NULL,                  -- sentence index in the alignment, from 0
    segment_id INTEGER NOT NULL REFERENCES segments(id),
    bridge TEXT,                                -- MT of an Arabic sentence by the bridge model
    PRIMARY KEY (document_pair_id, side, position)
);
CREATE TABLE links (
    document_pair_id INTEGER NOT NULL REFERENCES document_pairs(id),
    position INTEGER NOT NULL,                  -- row of the alignment, from 0
    ar_first INTEGER NOT NULL,                  -- sentence indices: first, count (count 0: empty cell)
    ar_count INTEGER NOT NULL,
    en_first INTEGER NOT NULL,
    en_count INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('auto', 'confirmed')),
    score REAL,                                 -- aligner's link probability (NULL for hand-made rows)
    translation_id INTEGER REFERENCES translations(id),   -- the pair the link makes (both sides present)
    reviewer TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (document_pair_id, position)
);
CREATE INDEX links_translation ON links(translation_id) WHERE translation_id IS NOT NULL;
CREATE TABLE link_log (
    id INTEGER PRIMARY KEY,
    document_pair_id INTEGER NOT NULL REFERENCES document_pairs(id),
    op TEXT NOT NULL,                           -- an editor op, 'align' (automatic), or 'undo'
    args TEXT NOT NULL,                         -- JSON
    reviewer TEXT NOT NULL,
    created_at TEXT NOT NULL,
    before TEXT NOT NULL,                       -- JSON: sentence lists and links before the change
    undoes INTEGER REFERENCES link_log(id),
    undone_at TEXT
);
CREATE INDEX link_log_pair ON link_log(document_pair_id, id);
"""),
    # The document matching of a folder alignment (`translate align AR_DIR EN_DIR`), saved as soon as it
    # is decided so that a rerun of the same alignment reuses it instead of computing it again. Keyed by
    # a fingerprint of the inputs (every file's relative path, size and modification time, the hints,
    # the matcher's parameters and lexicon): any change makes a new matching.
    (8, "saved document matchings", """
CREATE TABLE document_matchings (
    id INTEGER PRIMARY KEY,
    fingerprint TEXT NOT NULL UNIQUE,
    ar_folder TEXT NOT NULL,
    en_folder TEXT NOT NULL,
    ar_documents INTEGER NOT NULL,
    en_documents INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE document_matches (
    matching_id INTEGER NOT NULL REFERENCES document_matchings(id),
    position INTEGER NOT NULL,                  -- most confident first, from 0
    ar_path TEXT NOT NULL,                      -- relative to the Arabic folder
    en_path TEXT NOT NULL,
    confidence REAL NOT NULL,
    PRIMARY KEY (matching_id, position)
);
"""),
    # team review: reviewer accounts (tokens stored hashed), claims with leases on pending pairs, the
    # blind votes of the overlap sample, and the queue a lead settles (see store.reviewers)
    (10, "team review: reviewers, claims, blind votes, adjudication", """
CREATE TABLE reviewers (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,                   -- recorded as review_log.reviewer / edits.reviewer
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'lead')),
    token_hash TEXT NOT NULL,             -- sha256 of the token (the token itself is shown once)
    created_at TEXT NOT NULL,
    removed_at TEXT                       -- set by `review users remove`: the token stops working
);
CREATE UNIQUE INDEX reviewers_name ON reviewers(name) WHERE removed_at IS NULL;
CREATE TABLE review_claims (
    translation_id INTEGER PRIMARY KEY REFERENCES translations(id),
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    claimed_at TEXT NOT NULL,
    expires_at REAL NOT NULL,             -- unix time; renewed by the reviewer's activity
    note TEXT                             -- a lead's comment when the pair was sent back
);
CREATE INDEX review_claims_reviewer ON review_claims(reviewer_id, expires_at);
CREATE TABLE review_votes (
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    reviewer_id INTEGER NOT NULL REFERENCES reviewers(id),
    status TEXT NOT NULL CHECK (status IN ('approved', 'rejected', 'edited')),
    reason TEXT,
    comment TEXT,
    text TEXT,                            -- the English of an 'edited' vote
    created_at TEXT NOT NULL,
    PRIMARY KEY (translation_id, reviewer_id)
);
CREATE INDEX review_votes_reviewer ON review_votes(reviewer_id);
CREATE TABLE adjudications (
    id INTEGER PRIMARY KEY,
    translation_id INTEGER NOT NULL REFERENCES translations(id),
    kind TEXT NOT NULL CHECK (kind IN ('disagreement', 'flag')),
    comment TEXT,
    opened_by TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    resolved_by TEXT,
    resolved_at TEXT,
    log_id INTEGER REFERENCES review_log(id)   -- the lead's decision that settled it
);
CREATE INDEX adjudications_pair ON adjudications(translation_id, id);
CREATE INDEX adjudications_open ON adjudications(translation_id) WHERE resolved_at IS NULL;
"""),
]


# -- text search ------------------------------------------------------------------------------
# Search compares normalised text on both sides: Arabic spelling variants that writers mix freely (alef
# forms, alef maqsura / ya, ta marbuta / ha, hamza carriers), diacritics and tatweel removed, ASCII case
# folded (not digits: twenty more nested replace() calls overflow SQLite's parser stack). The same
# folding runs in SQL (the triggers that keep the search index current, so any writer keeps it right)
# and in Python (the query).
SEARCH_FOLDS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
SEARCH_REMOVED = [chr(c) for c in range(0x064B, 0x0653)] + ["\u0670", "\u0640"]   # harakat, dagger alef, tatweel
_SEARCH_TABLE = str.maketrans({**SEARCH_FOLDS, **{c: None for c in SEARCH_REMOVED},
                               **{chr(c): chr(c + 32) for c in range(ord("A"), ord("Z") + 1)}})


def normalise_for_search(text: str) -> str:
    return text.translate(_SEARCH_TABLE)


def _normalise_sql(expr: str) -> str:
    for old, new in [*SEARCH_FOLDS.items(), *((c, "") for c in SEARCH_REMOVED)]:
        expr = f"replace({expr}, '{old}', '{new}')"
    return f"lower({expr})"      # SQLite's lower() folds ASCII only, as the Python side does




def review_migration() -> str:
    """Migration 3. Written out by code because the search folding is a long chain of replace() calls;
    its text must never change once released (stores record that version 3 was applied)."""
    current_text = ("COALESCE((SELECT e.text FROM edits e WHERE e.translation_id = {id} AND e.undone_at IS NULL"
                    " ORDER BY e.id DESC LIMIT 1), (SELECT text FROM translations WHERE id = {id}))")
    pair_source = ("(SELECT CASE WHEN t.source_end IS NULL THEN s.text"
                   " ELSE substr(d.text, s.start + 1, t.source_end - s.start) END"
                   " FROM translations t JOIN segments s ON s.id = t.segment_id"
                   " JOIN documents d ON d.id = s.document_id WHERE t.id = {id})")
    return f"""
-- reject reasons (one of REJECT_REASONS) on the pair and on the log entry that set them
ALTER TABLE translations ADD COLUMN reject_reason TEXT;
ALTER TABLE translations ADD COLUMN reject_comment TEXT;
ALTER TABLE review_log ADD COLUMN reason TEXT;
ALTER TABLE review_log ADD COLUMN comment TEXT;
-- one bulk action is one batch: undone together
ALTER TABLE review_log ADD COLUMN batch INTEGER;
CREATE INDEX review_log_batch ON review_log(batch) WHERE batch IS NOT NULL;
CREATE INDEX review_log_time ON review_log(created_at);
CREATE INDEX translations_reason ON translations(reject_reason, id) WHERE reject_reason IS NOT NULL;
-- an edit is scored again: scores holds the score of the pair's current text, and each edit keeps the
-- score the pair had before it (shown in the history, restored by an undo)
ALTER TABLE edits ADD COLUMN old_score REAL;
ALTER TABLE edits ADD COLUMN old_label TEXT;
ALTER TABLE edits ADD COLUMN old_signals TEXT;
-- text search: trigram index over the normalised source and current English of every pair
CREATE VIRTUAL TABLE pair_search USING fts5(source, target, tokenize='trigram');
INSERT INTO pair_search (rowid, source, target)
    SELECT t.id, {_normalise_sql(pair_source.format(id="t.id"))}, {_normalise_sql(current_text.format(id="t.id"))}
    FROM translations t;
CREATE TRIGGER pair_search_add AFTER INSERT ON translations BEGIN
    INSERT INTO pair_search (rowid, source, target)
    VALUES (NEW.id, {_normalise_sql(pair_source.format(id="NEW.id"))}, {_normalise_sql("NEW.text")});
END;
CREATE TRIGGER pair_search_edit AFTER INSERT ON edits BEGIN
    UPDATE pair_search SET target = {_normalise_sql("NEW.text")} WHERE rowid = NEW.translation_id;
END;
CREATE TRIGGER pair_search_undo AFTER UPDATE OF undone_at ON edits BEGIN
    UPDATE pair_search SET target = {_normalise_sql(current_text.format(id="NEW.translation_id"))}
    WHERE rowid = NEW.translation_id;
END;
CREATE TRIGGER pair_search_remove AFTER DELETE ON translations BEGIN
    DELETE FROM pair_search WHERE rowid = OLD.id;
END;
"""


# SQL shared by every query of pairs (aliases: t translations, s its first segment, d the document).
# A pair's current text is its newest edit still in force (undone edits stay as history), else the
# machine text.
CURRENT_EDIT_TEXT = ("(SELECT e.text FROM edits e WHERE e.translation_id = t.id AND e.undone_at IS NULL"
                     " ORDER BY e.id DESC LIMIT 1)")
# A pair's source is the document text from its first segment's start to its last segment's end, so
# pairs covering several segments (alignments) keep the exact original text between them.
PAIR_SOURCE = ("CASE WHEN t.source_end IS NULL THEN s.text"
               " ELSE substr(d.text, s.start + 1, t.source_end - s.start) END")
# The current segmentation (alias s: segments): the spans of the latest run's segmentation of each
# document. Spans a later run with other segmentation settings replaced are superseded (kept as
# history, with their pairs and reviews).
CURRENT_SEGMENT = "s.superseded_at IS NULL"
# Pairs shown by default (exports, review), aliases t (translations) and s (its first segment): the
# pairs of runs (machine translations and Latin-script lines copied as they are) of the current
# segmentation, and every aligned human translation (an alignment brings its own segmentation of the
# text, which runs do not replace) unless a link change of the alignment editor replaced it
# (translations.superseded_at, migration 7).
RUN_ORIGINS = "('mt', 'copied')"
CURRENT_PAIR = f"((t.origin NOT IN {RUN_ORIGINS} OR {CURRENT_SEGMENT}) AND t.superseded_at IS NULL)"



# who made a pair's latest review change still in force, and when (None for a pending pair: it has no
# decision to name; CASE skips the lookup for them, most pairs of a large store)
LAST_DECISION = ("CASE WHEN t.status = 'pending' THEN NULL ELSE"
                 " (SELECT l.{column} FROM review_log l WHERE l.translation_id = t.id AND l.action <> 'undo'"
                 " AND NOT EXISTS (SELECT 1 FROM review_log u WHERE u.undoes = l.id) ORDER BY l.id DESC LIMIT 1) END")
# every pair with its source, current text, scores and provenance (exports)
PAIR_SELECT = f"""
SELECT t.id, t.origin, t.status, t.created_at, t.text AS mt_text, t.bridge, t.segment_count,
       t.reject_reason, t.reject_comment,
       COALESCE({CURRENT_EDIT_TEXT}, t.text) AS target, {LAST_DECISION.format(column="reviewer")} AS reviewer,
       {LAST_DECISION.format(column="created_at")} AS reviewed_at,
       s.start, COALESCE(t.source_end, s.end) AS end, s.sentence, s.part, s.position,
       d.id AS document_id, d.path AS document, d.sha256 AS document_sha256,
       m.name AS model, m.weights_sha256 AS model_sha256,
       sc.score, sc.label, sc.signals, {PAIR_SOURCE} AS source,
       (SELECT l.status FROM links l WHERE l.translation_id = t.id LIMIT 1) AS link_status
FROM translations t
JOIN segments s ON s.id = t.segment_id
JOIN documents d ON d.id = s.document_id
LEFT JOIN models m ON m.id = t.model_id
LEFT JOIN scores sc ON sc.translation_id = t.id
"""



def split_sql(sql: str) -> list[str]:
    """Split a migration into statements (comments removed; no ';' or '--' inside string literals)."""
    statements, current = [], ""
    for line in sql.splitlines():
        current += line.split("--", 1)[0] + "\n"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements

