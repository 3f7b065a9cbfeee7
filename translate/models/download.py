"""Downloading a model release and unpacking its archive safely.

Nothing downloaded is trusted further than it must be: a download is capped in size and checked against
its Content-Length (its sha256 is checked by the caller, ``install.pull``); an archive's sizes and entry
count are checked from its central directory before anything is written, and extraction is streamed
with the same limit enforced on the bytes actually written.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from pathlib import Path


from .catalogue import CATALOGUE, ModelError, _CHUNK, _one_line, format_size

BASE_URL_ENV = "TRANSLATE_MODEL_BASE_URL"
DOWNLOAD_TIMEOUT_S = 60
# the largest real release (OPUS-MT transformer-big) is about 1 GB zipped and unpacks to about as much
DEFAULT_MAX_DOWNLOAD = 4 << 30        # bytes one download may have
DEFAULT_MAX_UNPACKED = 8 << 30        # bytes an archive may unpack to
MAX_ARCHIVE_ENTRIES = 10_000          # a model release has tens of files
# weights hardly compress (int8 or float32: well under 2:1, text files ~4:1); an archive past this
# ratio is a zip bomb even under the size limit (a 2 MB file that unpacks to 2 GiB)
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 64 << 20         # unpacked bytes from which the ratio is checked


def _download_url(name: str, url: str | None) -> str:
    if url:
        return url
    entry = CATALOGUE.get(name)
    if entry is None:
        raise ModelError(f"unknown model '{name}': not in the catalogue "
                         f"({', '.join(CATALOGUE)}); pass a URL or use `translate models import FILE`")
    if not entry["url"]:
        raise ModelError(f"model '{name}' cannot be pulled: {entry['description']}")
    base = os.environ.get(BASE_URL_ENV)
    if base:
        # Keep the real path so a mirror (or a test server) serves the same layout.
        return base.rstrip("/") + urllib.parse.urlsplit(entry["url"]).path
    return entry["url"]



def _fetch(url: str, out, max_bytes: int = DEFAULT_MAX_DOWNLOAD) -> tuple[str, int]:
    """Stream ``url`` into ``out``; returns (sha256, size) of what was written.

    Refuses a download over ``max_bytes`` (from its Content-Length before reading, else as soon as it
    passes the limit) and one shorter than its Content-Length: urllib returns a connection closed early
    as a normal end of data.
    """
    digest = hashlib.sha256()
    size = 0
    hint = f"download the file from {url} on a connected machine, then run: translate models import FILE"
    limit = f"over the download limit of {format_size(max_bytes)} (--max-download-size)"
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            declared = response.headers.get("Content-Length")
            declared = int(declared) if declared and declared.strip().isdigit() else None
            if declared is not None and declared > max_bytes:
                raise ModelError(f"{url}: {format_size(declared)}, {limit}; nothing downloaded")
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ModelError(f"{url}: {limit}; download stopped, nothing installed")
                digest.update(chunk)
                out.write(chunk)
    except urllib.error.HTTPError as err:
        raise ModelError(f"download of {url} failed: HTTP {err.code} {err.reason}; {hint}") from None
    except (urllib.error.URLError, http.client.HTTPException, OSError) as err:
        reason = getattr(err, "reason", err)
        raise ModelError(f"download of {url} failed ({_one_line(reason)}); {hint}") from None
    if declared is not None and size != declared:
        raise ModelError(f"{url}: truncated download ({size} of {declared} bytes received); "
                         f"nothing installed, try again")
    return digest.hexdigest(), size




def _extract(archive: Path, into: Path, fmt_hint: str | None, label: str,
             max_unpacked: int = DEFAULT_MAX_UNPACKED) -> Path:
    if not zipfile.is_zipfile(archive):
        kind = {"argos": "an .argosmodel package", "opus-mt": "an OPUS-MT release"}.get(
            fmt_hint or "", "a model archive")
        raise ModelError(f"{label}: not a zip archive (expected {kind}: .argosmodel or OPUS-MT .zip)")
    try:
        with zipfile.ZipFile(archive) as zipped:
            members = _checked_members(zipped, into, label, max_unpacked)
            into.mkdir(parents=True)
            _stream_members(zipped, members, into, label, max_unpacked)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as err:
        raise ModelError(f"{label}: corrupt zip archive ({_one_line(err)})") from None
    entries = [p for p in into.iterdir() if p.name != "__MACOSX"]
    # Argos packages (and some hand-made zips) wrap everything in one top folder.
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return into


def _checked_members(zipped: zipfile.ZipFile, into: Path, label: str, max_unpacked: int) -> list[zipfile.ZipInfo]:
    """The archive's members, after checking its central directory (nothing written yet): entry count,
    declared unpacked size and paths that stay inside ``into``."""
    members = zipped.infolist()
    if len(members) > MAX_ARCHIVE_ENTRIES:
        raise ModelError(f"{label}: {len(members)} entries in the archive, more than a model has "
                         f"({MAX_ARCHIVE_ENTRIES}); nothing unpacked")
    declared = sum(member.file_size for member in members)
    if declared > max_unpacked:
        raise ModelError(f"{label}: unpacks to {format_size(declared)}, over the limit of "
                         f"{format_size(max_unpacked)} (--max-unpacked-size); nothing unpacked")
    packed = sum(member.compress_size for member in members)
    if declared > RATIO_CHECKED_FROM and declared > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise ModelError(f"{label}: {format_size(packed)} that unpacks to {format_size(declared)} "
                         f"(more than {MAX_COMPRESSION_RATIO}:1): a zip bomb, not a model; nothing unpacked")
    root = into.resolve()
    for member in members:
        if not (root / member.filename).resolve().is_relative_to(root):
            raise ModelError(f"{label}: unsafe path in archive: {member.filename}")
    return members


def _stream_members(zipped: zipfile.ZipFile, members: list[zipfile.ZipInfo], into: Path, label: str,
                    max_unpacked: int) -> None:
    """Unpack in chunks, counting what is written: an entry that inflates past its declared size (or
    the whole past ``max_unpacked``) stops the extraction, whatever the headers said."""
    written = 0
    root = into.resolve()
    for member in members:
        destination = root / member.filename
        if member.is_dir():
            destination.mkdir(parents=True, exist_ok=True)
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        member_written = 0
        with zipped.open(member) as source, open(destination, "wb") as out:
            while chunk := source.read(_CHUNK):
                member_written += len(chunk)
                written += len(chunk)
                if member_written > member.file_size or written > max_unpacked:
                    raise ModelError(f"{label}: {member.filename} unpacks to more than the archive "
                                     f"declares (limit {format_size(max_unpacked)}); nothing installed")
                out.write(chunk)


