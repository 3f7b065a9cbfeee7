"""The sha256 of a file, read in blocks (model weights, downloaded archives, a store named in an export's
manifest can be gigabytes): one function for every stage that records or checks one."""
from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> str:
    with open(path, "rb") as data:
        return hashlib.file_digest(data, "sha256").hexdigest()
