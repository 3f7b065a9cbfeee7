"""Alignments that come whole: an automatic alignment stored without touching confirmed rows, and the rows
of a links export imported; and the pairs (score, label, signals) that links make."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..sentence_alignment.search import Bead
from ..store import AlignedSentence, LinkRow, NewSegment, Store, StoredAlignment, now
from .realign import realign_between_confirmed
from .validation import SIDES, check_alignment


@dataclass
class AlignSummary:
    stored: int = 0            # pairs added
    existing: int = 0          # pairs that were there already (kept or revived)
    kept_confirmed: int = 0    # confirmed rows the new alignment left as they were
    document_pair_id: int = 0


def pair_maker(status_source: str, not_a_translation: bool = False):
    """(source, English, row) -> (score, label, signals) of a pair made by a link: quality of the pair,
    averaged with the aligner's link probability for automatic rows, but never above the quality of a
    pair that quality labels bad (a confident link does not rescue an untranslated or wrong-language
    pair). ``not_a_translation`` (documents that failed the document check, stored with --force)
    labels every pair bad."""
    from ..score import label_for, score_pair

    def make(source: str, english: str, row: LinkRow) -> tuple[float, str, dict]:
        quality = score_pair(source, english)
        signals = {**quality.signals, "alignment": row.kind(), "link_status": row.status}
        score = quality.score
        if row.score is not None:
            score = 0.5 * quality.score + 0.5 * row.score
            if quality.label == "bad":
                score = min(score, quality.score)
            signals["alignment_score"] = round(row.score, 4)
        score = round(score, 4)
        signals["made_by"] = status_source
        label = label_for(score)
        if not_a_translation:
            signals["not_a_translation"] = True
            label = "bad"
        return score, label, signals
    return make


def document_text(db, document_id: int) -> str:
    return db.execute("SELECT text FROM documents WHERE id = ?", (document_id,)).fetchone()[0]


def _content(alignment: StoredAlignment) -> tuple:
    return ([(s.segment_id, s.bridge) for s in alignment.ar], [(s.segment_id, s.bridge) for s in alignment.en],
            [(r.ar, r.en, r.status, r.score, r.translation_id) for r in alignment.rows], alignment.model_id,
            alignment.bridge)


def store_auto_alignment(store: Store, ar_document_id: int, ar_sentences: list[AlignedSentence],
                         en_document_id: int, en_sentences: list[AlignedSentence], beads: list[Bead],
                         model_id: int | None, bridge: str | None, run_id: int,
                         reviewer: str = "aligner", not_a_translation: bool = False) -> AlignSummary:
    """Store an automatic alignment of a document pair as its links and pairs.

    A document pair has one alignment. A new one takes the beads as they are; one with confirmed rows
    keeps them and its sentence lists (which the editor may have split or joined), takes the new bridge
    MT of the sentences it still shares, and re-aligns the unconfirmed rows between the confirmed ones.
    Pairs stored before links existed are reused where a link makes the same pair (their reviews stay)."""
    summary = AlignSummary()
    make_pair = pair_maker("align", not_a_translation)
    with store.transaction() as db:
        pair_id = store.document_pair_id(ar_document_id, en_document_id)
        created = pair_id is None
        if created:
            pair_id = store.create_document_pair(db, ar_document_id, en_document_id, model_id, bridge)
        alignment = store.load_alignment(pair_id, db)
        summary.document_pair_id = pair_id
        before = alignment.snapshot()
        content_before = _content(alignment)
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        confirmed = [r for r in alignment.rows if r.status == "confirmed"]
        alignment.model_id, alignment.bridge = model_id, bridge
        if not confirmed:
            alignment.ar, alignment.en = ar_sentences, en_sentences
            alignment.rows = [LinkRow(list(b.ar), list(b.en), "auto", round(b.score, 4) if b.ar and b.en else None)
                              for b in beads]
        else:
            new_bridge = {s.segment_id: s.bridge for s in ar_sentences}
            alignment.ar = [replace(s, bridge=new_bridge.get(s.segment_id)) for s in alignment.ar]
            realign_between_confirmed(alignment)
            summary.kept_confirmed = len(confirmed)
        if created:
            linked = {r[0] for r in db.execute("SELECT translation_id FROM links WHERE translation_id IS NOT NULL")}
            legacy = store.legacy_aligned_pairs(db, ar_document_id, document_text(db, en_document_id), linked)
            previous |= {r["id"] for r in legacy}
            summary.kept_confirmed = _anchor_reviewed_pairs(alignment, legacy, reviewer)
        check_alignment(alignment)
        summary.stored, summary.existing = store.sync_link_pairs(
            db, alignment, document_text(db, ar_document_id), previous, make_pair, run_id=run_id)
        if _content(alignment) == content_before:
            return summary
        store.write_alignment(db, alignment)
        store.log_link_change(db, pair_id, "create" if created else "align",
                              {"bridge": bridge, "run": run_id}, reviewer, before)
    return summary


def _anchor_reviewed_pairs(alignment: StoredAlignment, legacy: list, reviewer: str) -> int:
    """Pairs a reviewer decided on before links existed whose link the new alignment does not make
    become confirmed rows (their decision stays visible); the rows between are aligned again. Returns
    how many. Pairs that overlap an earlier one (two alignments of old) are left as history."""
    made = {(tuple(r.ar), tuple(r.en)) for r in alignment.rows}
    where = {s.segment_id: k for k, s in enumerate(alignment.ar)}
    english = [s.text for s in alignment.en]
    anchors = []
    for pair in legacy:
        k = where.get(pair["segment_id"])
        if pair["status"] == "pending" or k is None or k + pair["segment_count"] > len(alignment.ar):
            continue
        ar = tuple(range(k, k + pair["segment_count"]))
        for j in range(len(english)):
            size = next((n for n in range(1, 5) if " ".join(english[j:j + n]) == pair["text"]), None)
            if size is not None:
                anchors.append((ar, tuple(range(j, j + size))))
                break
    if all(anchor in made for anchor in anchors):
        return 0
    kept, ar_end, en_end = [], 0, 0
    for ar, en in sorted(anchors):
        if ar[0] >= ar_end and en[0] >= en_end:
            kept.append((ar, en))
            ar_end, en_end = ar[-1] + 1, en[-1] + 1
    rows, ar_end, en_end, stamp = [], 0, 0, now()
    for ar, en in kept + [((len(alignment.ar),), (len(alignment.en),))]:
        gap_ar, gap_en = list(range(ar_end, ar[0])), list(range(en_end, en[0]))
        if gap_ar or gap_en:
            rows.append(LinkRow(gap_ar, gap_en))            # aligned again below
        if ar[0] < len(alignment.ar) or en[0] < len(alignment.en):
            rows.append(LinkRow(list(ar), list(en), "confirmed", None, None, reviewer, stamp))
        ar_end, en_end = ar[-1] + 1, en[-1] + 1
    alignment.rows = rows
    realign_between_confirmed(alignment)
    return len(kept)


def locate_sentences(text: str, sentences: Sequence[str]) -> list[NewSegment]:
    """The spans of sentences (in order) in the text they were split from; a sentence that is not a
    piece of it (a splitter that changed characters) raises ValueError."""
    out, offset = [], 0
    for k, sentence in enumerate(sentences):
        start = text.find(sentence, offset)
        if start < 0:
            raise ValueError(f"sentence {k + 1} is not found in the document text")
        end = start + len(sentence)
        out.append(NewSegment(k, start, end, k, 0, sentence))
        offset = end
    return out


def store_imported_alignment(store: Store, ar_sha256: str, en_sha256: str, rows: list[dict],
                             reviewer: str = "import") -> tuple[int, int]:
    """Make a document pair's alignment the rows of a links export ({"ar": spans, "en": spans,
    "status"}), for documents this store holds (by sha256). One undoable change; pairs follow the links.
    Returns (document pair id, pairs added). ValueError names what does not fit."""
    documents = {}
    for side, sha in (("ar", ar_sha256), ("en", en_sha256)):
        found = store.db.execute("SELECT id, text FROM documents WHERE sha256 = ?", (sha,)).fetchone()
        if found is None:
            raise ValueError(f"the {'Arabic' if side == 'ar' else 'English'} document {sha[:12]}… is not in this "
                             "store: align or import the documents first")
        documents[side] = (found["id"], found["text"])
    spans = {side: sorted({span for row in rows for span in row[side]}) for side in SIDES}
    for side in SIDES:
        text = documents[side][1]
        for (a, b), (c, _) in zip(spans[side], spans[side][1:] + [(len(text), 0)]):
            if b > len(text) or b > c:
                raise ValueError(f"{side} offsets [{a}, {b}] overlap another sentence or pass the document's end")
        # every sentence of the document in a row: outside the spans there may only be white space
        outside, last = [], 0
        for a, b in spans[side] + [(len(text), len(text))]:
            outside.append((last, text[last:a]))
            last = b
        left_out = next((start for start, gap in outside if gap.strip()), None)
        if left_out is not None:
            raise ValueError(f"the links leave text of the {side} document out (at offset {left_out}): every "
                             "sentence must be in a row")
    with store.transaction() as db:
        pair_id = store.document_pair_id(documents["ar"][0], documents["en"][0])
        created = pair_id is None
        if created:
            pair_id = store.create_document_pair(db, documents["ar"][0], documents["en"][0], None, None)
        alignment = store.load_alignment(pair_id, db)
        before = alignment.snapshot()
        previous = {r.translation_id for r in alignment.rows if r.translation_id is not None}
        bridges = {s.segment_id: s.bridge for s in alignment.ar}
        index = {}
        for side in SIDES:
            document_id, text = documents[side]
            ids = store.insert_spans(db, document_id, [NewSegment(k, a, b, k, 0, text[a:b])
                                                       for k, (a, b) in enumerate(spans[side])])
            alignment.sentences(side)[:] = [
                AlignedSentence(i, a, b, text[a:b], bridges.get(i) if side == "ar" else None)
                for i, (a, b) in zip(ids, spans[side])]
            index[side] = {span: k for k, span in enumerate(spans[side])}
        stamp = now()
        alignment.rows = [LinkRow([index["ar"][s] for s in row["ar"]], [index["en"][s] for s in row["en"]],
                                  row["status"], None, None, reviewer, stamp) for row in rows]
        check_alignment(alignment)
        added, _ = store.sync_link_pairs(db, alignment, documents["ar"][1], previous, pair_maker("import"))
        store.write_alignment(db, alignment)
        store.log_link_change(db, pair_id, "create" if created else "import", {"rows": len(rows)}, reviewer, before)
    return pair_id, added
