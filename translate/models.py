"""Translation model management: list, pull, import, resolve and remove models.

An installed model is a directory ``models_dir()/NAME`` holding a CTranslate2 model
(``model.bin``, ``config.json``, vocabulary file(s)), its SentencePiece models
(``source.spm``, ``target.spm``) and a ``manifest.json`` telling the translate stage how
to feed it (token prefixes/suffixes) and how good it is (``quality_rank``).

Three download formats are turned into that layout: CTranslate2 directories (copied),
Argos Translate ``.argosmodel`` packages (already CTranslate2; re-arranged) and OPUS-MT /
Tatoeba-MT release zips (Marian weights, converted to int8 with CTranslate2's converter).
Installs are atomic: everything is built in a hidden temporary directory inside
``models_dir()`` and renamed into place only once the model loads.

Nothing downloaded is trusted further than it must be: a download is capped in size, checked
against its Content-Length and its sha256 (pinned by ``--sha256`` or the catalogue) and the hash is
recorded in the manifest; an archive's sizes and entry count are checked from its central directory
before anything is written, and extraction is streamed with the same limit enforced on the bytes
actually written; a catalogue download must be in the catalogue's format.
"""
from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import struct
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

MODELS_DIR_ENV = "TRANSLATE_MODELS_DIR"
BASE_URL_ENV = "TRANSLATE_MODEL_BASE_URL"
DOWNLOAD_TIMEOUT_S = 60
_CHUNK = 1 << 20
# the largest real release (OPUS-MT transformer-big) is about 1 GB zipped and unpacks to about as much
DEFAULT_MAX_DOWNLOAD = 4 << 30        # bytes one download may have
DEFAULT_MAX_UNPACKED = 8 << 30        # bytes an archive may unpack to
MAX_ARCHIVE_ENTRIES = 10_000          # a model release has tens of files
# weights hardly compress (int8 or float32: well under 2:1, text files ~4:1); an archive past this
# ratio is a zip bomb even under the size limit (a 2 MB file that unpacks to 2 GiB)
MAX_COMPRESSION_RATIO = 100
RATIO_CHECKED_FROM = 64 << 20         # unpacked bytes from which the ratio is checked

_TMP_PREFIX = ".tmp-"
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]*$")

CATALOGUE: dict[str, dict] = {
    "opus-mt-ara-eng-big": {
        "url": "https://object.pouta.csc.fi/Tatoeba-MT-models/ara-eng/"
               "opusTCv20210807+bt_transformer-big_2022-03-09.zip",
        "sha256": None,   # not recorded: the host cannot be reached from where this was written
        "size": None,
        "format": "opus-mt",
        "flores_bleu": 42.6,  # flores101-devtest ara-eng, Tatoeba-Challenge bleu-scores.txt
        "quality_rank": 42.6,
        "license": "CC-BY-4.0",
        "description": "Helsinki-NLP Tatoeba-MT transformer-big, Arabic (+ dialects) to English, "
                       "2022-03-09 (~230 MB int8 after conversion)",
    },
    "opus-mt-ara-eng": {
        "url": "https://object.pouta.csc.fi/Tatoeba-MT-models/ara-eng/opus+bt-2021-04-30.zip",
        "sha256": None,   # not recorded: the host cannot be reached from where this was written
        "size": None,
        "format": "opus-mt",
        "flores_bleu": 36.1,  # flores101-devtest ara-eng, Tatoeba-Challenge bleu-scores.txt
        "quality_rank": 36.1,
        "license": "CC-BY-4.0",
        "description": "Helsinki-NLP Tatoeba-MT transformer (base), Arabic to English, "
                       "2021-04-30 (smaller and faster than -big)",
    },
    "argos-ar-en": {
        "url": "https://argos-net.com/v1/translate-ar_en-1_0.argosmodel",
        "sha256": None,   # not recorded: the host cannot be reached from where this was written
        "size": None,
        "format": "argos",
        "flores_bleu": 29.5,
        "quality_rank": 29.5,
        "license": "see README.md in the package (Argos Translate, trained on OPUS data)",
        "description": "Argos Translate ar->en package 1.0 (CTranslate2 int8)",
    },
    "nllb-200-distilled-600M": {
        "url": None,
        "sha256": None,
        "size": None,
        "format": "ctranslate2",
        "flores_bleu": None,
        "quality_rank": None,
        "license": "CC-BY-NC-4.0 (NON-COMMERCIAL use only)",
        "description": "Meta NLLB-200 distilled 600M; not downloadable here: convert it with "
                       "`ct2-transformers-converter --model facebook/nllb-200-distilled-600M "
                       "--quantization int8 --output_dir DIR` (copy its sentencepiece.bpe.model "
                       "into DIR), then `translate models import DIR`",
    },
}


class ModelError(Exception):
    """One-line, user-facing message naming the file/model and the problem."""


_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    """Bytes of a size such as ``8G``, ``500M``, ``1.5GB`` or ``123456`` (K, M, G, T: powers of 1024)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 8G, 500M or a number of bytes)")
    number, unit = match.groups()
    return int(float(number) * 1024 ** " KMGT".index(unit.upper() or " "))


def format_size(size: float) -> str:
    if size < 1024:
        return f"{int(size)} B"
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        size /= 1024
        if size < 1024 or unit == "TiB":
            return f"{size:.1f} {unit}"


@dataclass
class ModelInfo:
    name: str
    path: Path
    manifest: dict
    bundled: bool
    _weights_sha256: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def weights_sha256(self) -> str:
        if self.manifest.get("weights_sha256"):
            return self.manifest["weights_sha256"]
        if self._weights_sha256 is None:
            self._weights_sha256 = _sha256_file(self.path / "model.bin")
        return self._weights_sha256

    @property
    def quality_rank(self) -> float:
        rank = self.manifest.get("quality_rank")
        return float(rank) if isinstance(rank, (int, float)) else 0.0


# ---------------------------------------------------------------- locating models


def models_dir() -> Path:
    return Path(os.environ.get(MODELS_DIR_ENV) or "models")


def _bundled_root() -> Path | None:
    try:
        from importlib.resources import files

        root = Path(str(files("translate.bundled_models")))
    except (ModuleNotFoundError, TypeError):
        # Not installed (running from a checkout): the package maps to ../models.
        root = Path(__file__).resolve().parent.parent / "models"
        if not (root / "__init__.py").is_file():
            return None
    return root if root.is_dir() else None


def bundled_models() -> list[ModelInfo]:
    root = _bundled_root()
    if root is None:
        return []
    # In a checkout models/ is both the package folder and the default install dir, so user
    # models sit beside the demo: only models whose manifest marks them ("demo" or "bundled")
    # count as shipped with the package.
    return [m for m in _scan(root, bundled=True) if m.manifest.get("bundled") or m.manifest.get("demo")]


def _scan(root: Path, bundled: bool) -> list[ModelInfo]:
    found = []
    if not root.is_dir():
        return found
    for child in sorted(root.iterdir()):
        if child.name.startswith(".") or not child.is_dir():
            continue
        if not (child / "model.bin").is_file():
            continue
        try:
            info = _load_model_dir(child, bundled=bundled)
            # The folder name is what `remove` and `--model` use, even if the manifest differs.
            info.name = child.name
            found.append(info)
        except ModelError as err:
            # One broken folder must not hide the others; say so instead of skipping silently.
            warnings.warn(str(err), stacklevel=2)
    return found


def _same_dir(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def list_models() -> list[ModelInfo]:
    """Installed models plus bundled ones, best (highest quality_rank) first."""
    bundled = bundled_models()
    bundled_by_name = {m.name: m for m in bundled}
    merged: dict[str, ModelInfo] = {}
    for info in _scan(models_dir(), bundled=False):
        twin = bundled_by_name.get(info.name)
        # In a checkout, models/ is both the install dir and the bundled package.
        merged[info.name] = twin if twin and _same_dir(twin.path, info.path) else info
    for info in bundled:
        merged.setdefault(info.name, info)
    return sorted(merged.values(), key=lambda m: (-m.quality_rank, m.bundled, m.name))


def resolve_model(spec: str | None) -> ModelInfo:
    """None: the best model; a model name; or a path to a model directory."""
    available = list_models()
    if spec is None:
        if not available:
            raise ModelError(
                f"no translation model installed in {models_dir()}: run `translate models pull "
                f"opus-mt-ara-eng` (or `translate models import FILE` for a downloaded model)")
        return available[0]
    for info in available:
        if info.name == spec:
            return info
    path = Path(spec)
    if path.is_dir():
        return _load_model_dir(path, bundled=False)
    names = ", ".join(m.name for m in available) or "none"
    raise ModelError(
        f"unknown model '{spec}': not an installed model (installed: {names}) nor a model "
        f"directory; see `translate models list`, `translate models pull NAME` "
        f"(catalogue: {', '.join(CATALOGUE)})")


def _load_model_dir(path: Path, bundled: bool) -> ModelInfo:
    """Read a model directory in the contract layout; synthesise the manifest if absent."""
    for required in ("model.bin", "config.json", "source.spm", "target.spm"):
        if not (path / required).is_file():
            hint = ("; run `translate models import " + str(path) + "` to install it"
                    if required.endswith(".spm") and (path / "model.bin").is_file() else "")
            raise ModelError(f"{path}: not a usable model directory (missing {required}){hint}")
    manifest_path = path / "manifest.json"
    if manifest_path.is_file():
        manifest = _read_json_object(manifest_path, str(manifest_path), "manifest")
    else:
        manifest = _base_manifest(path.name, origin=str(path))
        manifest.update(_token_conventions(path, default_suffix=[]))
        manifest["quantization"] = _weights_dtype(path / "model.bin")
    name = manifest.get("name") or path.name
    manifest.setdefault("name", name)
    return ModelInfo(name=str(name), path=path, manifest=manifest, bundled=bundled)


# ---------------------------------------------------------------- remove


def remove(name: str) -> None:
    root = models_dir()
    target = root / name
    bundled = {m.name: m for m in bundled_models()}
    if name in bundled and (not target.exists() or _same_dir(bundled[name].path, target)):
        raise ModelError(f"model '{name}' is bundled with the package and cannot be removed")
    if not _NAME_RE.match(name) or not any((target / f).is_file() for f in ("model.bin", "manifest.json")):
        installed = ", ".join(m.name for m in _scan(root, bundled=False)) or "none"
        raise ModelError(f"no installed model named '{name}' in {root} (installed: {installed})")
    # Rename first so a half-deleted folder never looks like a model.
    doomed = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "remove-", dir=root))
    target.rename(doomed / name)
    shutil.rmtree(doomed)


# ---------------------------------------------------------------- pull


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


# ---------------------------------------------------------------- import


def import_model(path: Path, name: str | None = None, force: bool = False,
                 max_unpacked: int = DEFAULT_MAX_UNPACKED) -> ModelInfo:
    """Install a CTranslate2 dir, an ``.argosmodel``, an OPUS-MT zip, or an extracted one."""
    path = Path(path)
    if not path.exists():
        raise ModelError(f"{path}: no such file or directory")
    entry_name, entry = _catalogue_entry_for_file(path)
    extra = {}
    if path.is_file():
        extra.update(archive_sha256=_sha256_file(path), archive_size=path.stat().st_size)
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
                        weights_sha256=_sha256_file(build / "model.bin"),
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
        return _load_model_dir(target, bundled=False)
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


_FORMAT_NAMES = {"argos": "an Argos .argosmodel package", "opus-mt": "an OPUS-MT release",
                 "ctranslate2": "a CTranslate2 model"}


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


def _build_model(source: Path, build: Path, label: str) -> tuple[str, str, dict]:
    """Lay out ``source`` (an extracted/plain model dir) in ``build``; returns (format, name, manifest)."""
    if (source / "metadata.json").is_file() and (source / "model").is_dir():
        return ("argos",) + _build_from_argos(source, build, label)
    if (source / "decoder.yml").is_file() or any(source.glob("*.npz")):
        return ("opus-mt",) + _build_from_opus_mt(source, build, label)
    if (source / "model.bin").is_file():
        return ("ctranslate2",) + _build_from_ct2(source, build, label)
    raise ModelError(f"{label}: not a recognised model (no model.bin, no Argos metadata.json + model/, "
                     f"no OPUS-MT decoder.yml/*.npz)")


def _base_manifest(name: str, origin: str) -> dict:
    return {
        "name": name,
        "source_lang": "ar",
        "target_lang": "en",
        "format": "ctranslate2",
        "quantization": "int8",
        "source_prefix": [],
        "source_suffix": [],
        "target_prefix": [],
        "quality_rank": 0,
        "origin": origin,
        "license": "unknown",
        "weights_sha256": None,
        "imported_at": None,
    }


def _copy_ct2_files(source: Path, build: Path, label: str) -> None:
    if not (source / "model.bin").is_file():
        raise ModelError(f"{label}: CTranslate2 model is missing model.bin")
    vocabularies = [p for p in source.iterdir()
                    if p.is_file() and re.fullmatch(r"(shared|source|target)_vocabulary\.(json|txt)", p.name)]
    if not vocabularies:
        raise ModelError(f"{label}: CTranslate2 model has no vocabulary file "
                         f"(shared_vocabulary.json or source_/target_vocabulary.json)")
    build.mkdir(parents=True, exist_ok=True)
    for item in [source / "model.bin", source / "config.json", *vocabularies]:
        if item.is_file():
            shutil.copy2(item, build / item.name)
    if not (build / "config.json").is_file():
        # CTranslate2 1.x models (early Argos packages) have no config.json, and CTranslate2 4
        # cannot load a model without one: write the defaults those old versions assumed.
        from ctranslate2.specs.model_spec import SequenceToSequenceModelConfig

        (build / "config.json").write_text(
            json.dumps(SequenceToSequenceModelConfig().to_dict(), indent=2) + "\n", encoding="utf-8")


def _copy_spm(source_spm: Path, target_spm: Path, build: Path, label: str) -> None:
    for spm_file in {source_spm, target_spm}:
        if not spm_file.is_file():
            raise ModelError(f"{label}: missing SentencePiece model {spm_file.name}")
    shutil.copy2(source_spm, build / "source.spm")
    shutil.copy2(target_spm, build / "target.spm")


def _find_spm_pair(directory: Path, label: str) -> tuple[Path, Path]:
    """(source, target) SentencePiece models of a CTranslate2 dir: source.spm + target.spm, or one model
    for both sides only when the model declares a shared vocabulary."""
    source, target = directory / "source.spm", directory / "target.spm"
    if source.is_file() and target.is_file():
        return source, target
    if source.is_file() or target.is_file():
        present, missing = ("source.spm", "target.spm") if source.is_file() else ("target.spm", "source.spm")
        # the two sides of a model may be tokenised differently (OPUS-MT's are): one cannot stand in
        raise ModelError(f"{label}: has {present} but no {missing}; add the model's {missing}")
    candidates = [directory / n for n in ("sentencepiece.model", "spm.model", "sentencepiece.bpe.model")
                  if (directory / n).is_file()]
    candidates += sorted(p for p in directory.glob("*.spm") if p.is_file())
    if not candidates:
        raise ModelError(f"{label}: no SentencePiece model (expected source.spm + target.spm, "
                         f"sentencepiece.model or one *.spm file)")
    if len(candidates) > 1:
        raise ModelError(f"{label}: several SentencePiece models ({', '.join(p.name for p in candidates)}); "
                         f"rename them source.spm and target.spm")
    if not any((directory / f"shared_vocabulary.{ext}").is_file() for ext in ("json", "txt")):
        raise ModelError(f"{label}: one SentencePiece model ({candidates[0].name}) but separate source and "
                         f"target vocabularies; provide source.spm and target.spm")
    return candidates[0], candidates[0]


def _build_from_ct2(source: Path, build: Path, label: str) -> tuple[str, dict]:
    _copy_ct2_files(source, build, label)
    _copy_spm(*_find_spm_pair(source, label), build, label)
    manifest = _base_manifest(source.name, origin=str(label))
    existing = source / "manifest.json"
    if existing.is_file():
        # Re-importing an exported model: keep what it says about itself.
        try:
            manifest.update(json.loads(existing.read_text(encoding="utf-8")))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ModelError(f"{existing}: unreadable manifest ({_one_line(err)})") from None
        # A copy is an installed model, not the package's own (see bundled_models).
        manifest.pop("bundled", None)
        manifest.pop("demo", None)
        _check_pair(manifest.get("source_lang"), manifest.get("target_lang"), existing)
    else:
        manifest.update(_token_conventions(build, default_suffix=[]))
        manifest["quantization"] = _weights_dtype(build / "model.bin")
    return str(manifest.get("name") or source.name), manifest


def _read_json_object(path: Path, label: str, what: str) -> dict:
    """A JSON file that must hold an object; ModelError naming ``label`` otherwise."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(f"{label}: unreadable {what} ({_one_line(err)})") from None
    if not isinstance(value, dict):
        raise ModelError(f"{label}: {what} must be a JSON object")
    return value


def _build_from_argos(source: Path, build: Path, label: str) -> tuple[str, dict]:
    metadata = _read_json_object(source / "metadata.json", label, "metadata.json")
    _check_pair(metadata.get("from_code"), metadata.get("to_code"), label)
    if not (source / "sentencepiece.model").is_file():
        other = "BPE (bpe.model)" if (source / "bpe.model").is_file() else "no sentencepiece.model"
        raise ModelError(f"{label}: Argos package tokeniser not supported: {other}")
    _copy_ct2_files(source / "model", build, label)
    _copy_spm(source / "sentencepiece.model", source / "sentencepiece.model", build, label)
    manifest = _base_manifest("argos-ar-en", origin=str(label))
    # Argos feeds plain SentencePiece pieces (no </s>); newer packages may declare a target prefix.
    manifest.update(_token_conventions(build, default_suffix=[]))
    if isinstance(metadata.get("target_prefix"), str) and metadata["target_prefix"]:
        manifest["target_prefix"] = [metadata["target_prefix"]]
    manifest["quantization"] = _weights_dtype(build / "model.bin")
    manifest["package_version"] = str(metadata.get("package_version", ""))
    return "argos-ar-en", manifest


def _build_from_opus_mt(source: Path, build: Path, label: str) -> tuple[str, dict]:
    if not (source / "decoder.yml").is_file():
        raise ModelError(f"{label}: OPUS-MT release has no decoder.yml")
    languages = _opus_mt_languages(source)
    if languages:
        sources, targets = languages
        if not ({"ar", "ara"} & sources) or not ({"en", "eng"} & targets):
            raise ModelError(f"{label}: OPUS-MT model translates {'+'.join(sorted(sources))} -> "
                             f"{'+'.join(sorted(targets))}, expected ar -> en")
    source_spm, target_spm = source / "source.spm", source / "target.spm"
    for spm_file in (source_spm, target_spm):
        if not spm_file.is_file():
            raise ModelError(f"{label}: OPUS-MT release is missing {spm_file.name}")
    try:
        from ctranslate2.converters import OpusMTConverter

        OpusMTConverter(str(source)).convert(str(build), quantization="int8", force=True)
    except ModelError:
        raise
    except Exception as err:  # the converter raises anything from KeyError to zipfile errors
        raise ModelError(f"{label}: cannot convert the OPUS-MT model ({type(err).__name__}: "
                         f"{_one_line(err)})") from None
    _copy_spm(source_spm, target_spm, build, label)
    manifest = _base_manifest("opus-mt-ara-eng", origin=str(label))
    # The Marian converter sets add_source_eos, so CTranslate2 appends </s> itself.
    manifest.update(_token_conventions(build, default_suffix=[]))
    # Multi-target releases need the target language token first in the source.
    if languages and len(languages[1]) > 1 or "language token is required" in _release_notes(source):
        manifest["source_prefix"] = [">>eng<<"]
    manifest["quantization"] = "int8"
    license_text = _read_text(source / "LICENSE").strip().splitlines()
    if license_text:
        manifest["license"] = license_text[0][:200]
    return "opus-mt-ara-eng", manifest


def _release_notes(source: Path) -> str:
    """This release's part of README.md (a pair's README may list every release; last is newest)."""
    readme = _read_text(source / "README.md")
    sections = re.split(r"^# ", readme, flags=re.MULTILINE)
    return sections[-1]


def _opus_mt_languages(source: Path) -> tuple[set[str], set[str]] | None:
    """Source/target language codes from the release README, when it states them."""
    found = {}
    for side in ("source", "target"):
        pattern = re.compile(rf"^\*\s*{side} language\(s\):\s*(.+)$", flags=re.MULTILINE)
        # Prefer this release's section; fall back to the last mention anywhere in the README.
        matches = pattern.findall(_release_notes(source)) or pattern.findall(_read_text(source / "README.md"))
        if matches:
            found[side] = {code.split("_")[0] for code in matches[-1].split()}
    if "source" in found and "target" in found:
        return found["source"], found["target"]
    return None


def _check_pair(source_lang, target_lang, label) -> None:
    if (source_lang, target_lang) != ("ar", "en"):
        raise ModelError(f"{label}: model translates {source_lang} -> {target_lang}, expected ar -> en")


def _token_conventions(model_dir: Path, default_suffix: list[str]) -> dict:
    """Prefix/suffix tokens the translate stage must add, from the model's own files.

    CTranslate2 only appends ``</s>`` itself when config.json says ``add_source_eos``;
    NLLB (its vocabulary has FLORES-200 codes) wants ``arb_Arab`` ... ``</s>`` on the source
    and ``eng_Latn`` as target prefix.
    """
    config = _read_json(model_dir / "config.json")
    vocabulary = _vocabulary(model_dir)
    conventions = {"source_prefix": [], "source_suffix": list(default_suffix), "target_prefix": []}
    if "arb_Arab" in vocabulary and "eng_Latn" in vocabulary:
        conventions["source_prefix"] = ["arb_Arab"]
        conventions["target_prefix"] = ["eng_Latn"]
        conventions["source_suffix"] = ["</s>"]
    if config.get("add_source_eos"):
        conventions["source_suffix"] = []
    return conventions


def _vocabulary(model_dir: Path) -> set[str]:
    for name in ("shared_vocabulary", "source_vocabulary"):
        if (model_dir / f"{name}.json").is_file():
            data = _read_json(model_dir / f"{name}.json")
            return set(data) if isinstance(data, list) else set()
        if (model_dir / f"{name}.txt").is_file():
            return set(_read_text(model_dir / f"{name}.txt").splitlines())
    return set()


def _check_loads(build: Path, label: str) -> None:
    """Load the finished model once, so a corrupt download never gets installed."""
    import ctranslate2
    import sentencepiece

    for spm_name in ("source.spm", "target.spm"):
        try:
            sentencepiece.SentencePieceProcessor(model_file=str(build / spm_name))
        except Exception as err:  # sentencepiece raises RuntimeError/OSError variants
            raise ModelError(f"{label}: {spm_name} is not a valid SentencePiece model "
                             f"({_one_line(err)})") from None
    try:
        ctranslate2.Translator(str(build), device="cpu", intra_threads=1)
    except Exception as err:
        raise ModelError(f"{label}: CTranslate2 cannot load the model, weights are corrupt or "
                         f"unsupported ({_one_line(err)})") from None


_DTYPES = ("float32", "int8", "int16", "int32", "float16", "bfloat16")


def _weights_dtype(model_bin: Path) -> str:
    """Storage type of the weight matrices in a CTranslate2 model.bin (best effort).

    Reads only the variable headers (binary layout of ctranslate2.specs.ModelSpec._serialize),
    seeking over the data; returns "unknown" for layouts it does not recognise.
    """
    counts: dict[str, int] = {}
    try:
        with open(model_bin, "rb") as model:
            def read(fmt):
                size = struct.calcsize(fmt)
                data = model.read(size)
                if len(data) != size:
                    raise ValueError("truncated")
                return struct.unpack(fmt, data)[0]

            def skip_string():
                model.seek(read("H"), os.SEEK_CUR)

            if read("I") < 5:  # older binary versions lack per-variable type ids
                return "unknown"
            skip_string()
            read("I")  # spec revision
            for _ in range(read("I")):
                skip_string()
                rank = read("B")
                for _ in range(rank):
                    read("I")
                dtype = read("B")
                model.seek(read("I"), os.SEEK_CUR)
                if rank == 2 and dtype < len(_DTYPES):
                    counts[_DTYPES[dtype]] = counts.get(_DTYPES[dtype], 0) + 1
    except (OSError, ValueError, struct.error):
        return "unknown"
    return max(counts, key=counts.get) if counts else "unknown"


# ---------------------------------------------------------------- small helpers


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}


def _one_line(err) -> str:
    text = " ".join(str(err).split())
    return text[:300] or type(err).__name__
