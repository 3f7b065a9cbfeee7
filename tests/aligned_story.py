"""The five-sentence story that the alignment tests share: its Arabic, its MT (the bridge) and a human
English translation, the beads the aligner should find, a store that holds it aligned by the real `translate align` command,
and the alignment invariant read back from a store. A helper module, not a test module: importing a test
module from inside a Hypothesis test defines its @given tests there, which Hypothesis refuses as nesting."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from conftest import run_cli

from translate.alignment_edit import check_alignment
from translate.store import Store

ARABIC = [
    "ذهب الولد إلى المدرسة صباحا.",
    "كانت السماء تمطر بغزارة.",
    "لذلك حمل معه مظلة كبيرة.",
    "في المدرسة قابل صديقه أحمد.",
    "ثم عاد إلى البيت في المساء.",
]
MT = [
    "The boy went to school in the morning.",
    "The sky was raining heavily.",
    "So he carried a big umbrella with him.",
    "At school he met his friend Ahmed.",
    "Then he returned home in the evening.",
]
# the human translation merges Arabic 1+2, adds a sentence of its own and leaves out Arabic 4
ENGLISH = [
    "In the morning the boy walked to school.",
    "It was raining heavily, so he carried a big umbrella.",
    "The weather report had promised sunshine for the whole week.",
    "At school he met his friend Ahmed.",
]
EXPECTED = [([0], [0]), ([1, 2], [1]), ([], [2]), ([3], [3]), ([4], [])]


def write_story(folder: Path) -> tuple[Path, Path, Path]:
    """The story as three files of one sentence a line in ``folder``: (Arabic, English, MT)."""
    ar, en, mt = folder / "story.ar.txt", folder / "story.en.txt", folder / "story.mt.txt"
    ar.write_text("\n".join(ARABIC) + "\n", encoding="utf-8")
    en.write_text("\n".join(ENGLISH) + "\n", encoding="utf-8")
    mt.write_text("\n".join(MT) + "\n", encoding="utf-8")
    return ar, en, mt


def align_story(folder: Path) -> tuple[Path, int]:
    """A store in ``folder`` holding the story aligned with its MT as the bridge: (db, document pair id)."""
    ar, en, mt = write_story(folder)
    db = folder / "corpus.sqlite"
    result = run_cli("align", ar, en, "--translations", mt, "--presegmented", "--db", db)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(db) as conn:
        [pair_id] = [r[0] for r in conn.execute("SELECT id FROM document_pairs")]
    return db, pair_id


def assert_consistent(store: Store, pair_id: int) -> None:
    """The invariant, read back from the store: every sentence of both sides in exactly one row, and the
    current aligned pairs of the document are exactly the pairs of the rows with both sides."""
    alignment = store.load_alignment(pair_id)
    check_alignment(alignment)
    for side in ("ar", "en"):
        cells = sorted(i for row in alignment.rows for i in row.side(side))
        assert cells == list(range(len(alignment.sentences(side))))
    linked = {row.translation_id for row in alignment.rows if row.ar and row.en}
    assert None not in linked
    assert all(row.translation_id is None for row in alignment.rows if not (row.ar and row.en))
    current = {r[0] for r in store.db.execute(
        "SELECT t.id FROM translations t JOIN segments s ON s.id = t.segment_id WHERE s.document_id = ?"
        " AND t.origin = 'human' AND t.superseded_at IS NULL", (alignment.ar_document_id,))}
    assert current == linked
    # each pair's source and English are its row's sentences
    for row in alignment.rows:
        if row.ar and row.en:
            text, first = store.db.execute("SELECT text, segment_id FROM translations WHERE id = ?",
                                           (row.translation_id,)).fetchone()
            assert text == " ".join(alignment.en[j].text for j in row.en)
            assert first == alignment.ar[row.ar[0]].segment_id
