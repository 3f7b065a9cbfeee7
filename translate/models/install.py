"""Installing a model: ``pull`` (download from the catalogue or a URL) and ``import_model`` (a local
file or directory). Installs are atomic: everything is built in a hidden temporary directory inside
``models_dir()`` and renamed into place only once the model loads; a download's sha256 is pinned by
``--sha256`` or the catalogue and recorded in the manifest.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from ..checksums import file_sha256
from .catalogue import (CATALOGUE, ModelError, ModelInfo, _NAME_RE, _TMP_PREFIX, load_model_dir, _one_line,
                        _same_dir, bundled_models, models_dir)
from .convert import _FORMAT_NAMES, _build_model, _check_loads
from .download import DEFAULT_MAX_DOWNLOAD, DEFAULT_MAX_UNPACKED, _download_url, _extract, _fetch

_SHA256_RE = re.compile(r"^[0-9a-fA-F]{64}$")


def pull(name: str, url: str | None = None, force: bool = False, sha256: str | None = None,
         max_download: int = DEFAULT_MAX_DOWNLOAD, max_unpacked: int = DEFAULT_MAX_UNPACKED,
         on_download: Callable[[int, str], None] | None = None) -> ModelInfo:
    """Download a catalogue model (or ``url``), verify it and install it as NAME.

    ``sha256`` pins the download's hash (else the catalogue's, when it records one); ``on_download``
    gets (size, sha256) of the finished download before it is unpacked (the CLI prints them).
    """
    _check_name(name)
    if sha256 is not None and not _SHA256_RE.match(sha256):
        raise ModelError(f"--sha256 {sha256!r}: not a sha256 (64 hexadecimal digits)")
    root = models_dir()
    _refuse_existing(root, name, force)
    source_url = _download_url(name, url)
    entry = CATALOGUE.get(name, {}) if url is None else {}
    expected = (sha256 or entry.get("sha256") or "").lower() or None
    root.mkdir(parents=True, exist_ok=True)
    suffix = Path(urllib.parse.urlsplit(source_url).path).suffix or ".zip"
    fd, tmp_name = tempfile.mkstemp(prefix=_TMP_PREFIX + "download-", suffix=suffix, dir=root)
    download = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest, size = _fetch(source_url, out, max_download)
        if expected and digest != expected:
            raise ModelError(f"{source_url}: sha256 mismatch (got {digest}, expected {expected}); "
                             f"the download is corrupt or was replaced, nothing installed")
        if entry.get("size") and size != entry["size"]:
            raise ModelError(f"{source_url}: {size} bytes, but the catalogue records {entry['size']}; "
                             f"the file was replaced, nothing installed")
        if on_download:
            on_download(size, digest)
        extra = {key: entry[key] for key in ("quality_rank", "license", "flores_bleu")
                 if entry.get(key) is not None}
        extra.update(archive_sha256=digest, archive_size=size, sha256_verified=bool(expected))
        return _install(download, name, force, origin=source_url, extra=extra,
                        fmt_hint=entry.get("format"), label=source_url, max_unpacked=max_unpacked)
    finally:
        download.unlink(missing_ok=True)




def import_model(path: Path, name: str | None = None, force: bool = False,
                 max_unpacked: int = DEFAULT_MAX_UNPACKED) -> ModelInfo:
    """Install a CTranslate2 dir, an ``.argosmodel``, an OPUS-MT zip, or an extracted one."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such file or directory")
    entry_name, entry = _catalogue_entry_for_file(path)
    extra = {}
    if path.is_file():
        extra.update(archive_sha256=file_sha256(path), archive_size=path.stat().st_size)
    if entry:
        # A file fetched by hand from a catalogue URL keeps the catalogue's metadata, and must be what
        # the catalogue says it is.
        if entry.get("sha256") and extra["archive_sha256"] != entry["sha256"]:
            raise ModelError(f"{path}: sha256 {extra['archive_sha256']} differs from the catalogue's "
                             f"{entry['sha256']} for {entry_name}; nothing installed")
        extra.update({key: entry[key] for key in ("quality_rank", "license", "flores_bleu")
                      if entry.get(key) is not None})
        extra["sha256_verified"] = bool(entry.get("sha256"))
        name = name or entry_name
    return _install(path, name, force, origin=str(path.resolve()), extra=extra,
                    fmt_hint=entry.get("format") if entry else None, max_unpacked=max_unpacked)


def _catalogue_entry_for_file(path: Path) -> tuple[str | None, dict | None]:
    if not path.is_file():
        return None, None
    for entry_name, entry in CATALOGUE.items():
        if entry["url"] and urllib.parse.unquote(entry["url"].rsplit("/", 1)[-1]) == path.name:
            return entry_name, entry
    return None, None


def _install(source: Path, name: str | None, force: bool, origin: str, extra: dict,
             fmt_hint: str | None = None, label: str | None = None,
             max_unpacked: int = DEFAULT_MAX_UNPACKED) -> ModelInfo:
    """Build the model from ``source`` in a temp dir, check it loads, rename it into place.

    ``label`` names the input in error messages (the URL for a download, else the path);
    ``fmt_hint``, the catalogue's format, is required of what the archive holds.
    """
    label = label or str(source)
    root = models_dir()
    if name is not None:
        _check_name(name)
        _refuse_existing(root, name, force)
    root.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "import-", dir=root))
    try:
        if source.is_file():
            unpacked = _extract(source, work / "extract", fmt_hint, label, max_unpacked)
        else:
            unpacked = source
        build = work / "model"
        fmt, default_name, manifest = _build_model(unpacked, build, label=label)
        if fmt_hint and fmt != fmt_hint:
            # e.g. some other model served at the OPUS-MT URL: it must not be installed under that name
            raise ModelError(f"{label}: holds {_FORMAT_NAMES[fmt]}, but the catalogue entry is "
                             f"{_FORMAT_NAMES[fmt_hint]}; nothing installed")
        name = name or default_name
        _check_name(name)
        _refuse_existing(root, name, force)
        manifest.update(extra)
        manifest.update(name=name, origin=origin, format="ctranslate2",
                        weights_sha256=file_sha256(build / "model.bin"),
                        imported_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        manifest["source_format"] = fmt
        (build / "manifest.json").write_text(
            json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _check_loads(build, label=label)
        target = root / name
        if target.exists():
            # force: swap the old model out only now that the new one is known good.
            target.rename(work / "replaced")
        try:
            build.rename(target)
        except OSError as err:
            if (work / "replaced").exists():
                (work / "replaced").rename(target)
            raise ModelError(f"{target}: cannot install model ({_one_line(err)})") from None
        return load_model_dir(target, bundled=False)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _check_name(name: str) -> None:
    if not _NAME_RE.match(name):
        raise ModelError(f"invalid model name '{name}': use letters, digits, '.', '_', '+' and '-' "
                         f"(not starting with '.' or '-')")


def _refuse_existing(root: Path, name: str, force: bool) -> None:
    target = root / name
    bundled = {m.name: m.path for m in bundled_models()}
    if name in bundled and _same_dir(bundled[name], target):
        raise ModelError(f"model '{name}' is bundled with the package and cannot be replaced; "
                         f"choose another name with --name")
    if target.exists() and not force:
        raise ModelError(f"model '{name}' already exists in {target}; use --force to replace it "
                         f"or --name to install under another name")

