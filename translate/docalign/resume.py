"""What a rerun of a folder alignment needs: documents' identities in the store, the document pairs a
finished run already aligned, and the fingerprint its saved document matching is found by."""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path


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


def matching_fingerprint(ar_files: Sequence[tuple[str, Path]], en_files: Sequence[tuple[str, Path]],
                         hints: Sequence[tuple[int, int]]) -> str:
    """What a folder alignment's document matching depends on, as one sha256: every file's relative path,
    size and modification time (as make and rsync tell a changed file, without reading it), the hints,
    the matcher's own code (its parameters and fitted weights live there) and the lexicon files. The
    same fingerprint means the same matching: a rerun reuses the one the store saved."""
    from ..lexicon import FREEDICT_LEXICON_FILE, LEXICON_FILE

    digest = hashlib.sha256()
    for side, files in (("ar", ar_files), ("en", en_files)):
        for relative, path in files:
            stat = path.stat()
            digest.update(json.dumps([side, relative, stat.st_size, stat.st_mtime_ns]).encode("utf-8"))
    digest.update(json.dumps(sorted(hints)).encode("utf-8"))
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.read_bytes())
    for lexicon in (LEXICON_FILE, FREEDICT_LEXICON_FILE):
        if lexicon.is_file():
            stat = lexicon.stat()
            digest.update(json.dumps([lexicon.name, stat.st_size, stat.st_mtime_ns]).encode("utf-8"))
    return digest.hexdigest()
