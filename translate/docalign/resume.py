"""Documents' identities in the store, and the document pairs a finished run already aligned."""
from __future__ import annotations

import hashlib
import json


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

