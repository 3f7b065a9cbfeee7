"""The model catalogue and the installed models: where they live, what each is (``ModelInfo``), choosing
one (``resolve_model``), listing and removing them.

An installed model is a directory ``models_dir()/NAME`` holding a CTranslate2 model
(``model.bin``, ``config.json``, vocabulary file(s)), its SentencePiece models
(``source.spm``, ``target.spm``) and a ``manifest.json`` telling the translate stage how
to feed it (token prefixes/suffixes) and how good it is (``quality_rank``).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..checksums import file_sha256


MODELS_DIR_ENV = "TRANSLATE_MODELS_DIR"
_CHUNK = 1 << 20
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
            self._weights_sha256 = file_sha256(self.path / "model.bin")
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
            info = load_model_dir(child, bundled=bundled)
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
        return load_model_dir(path, bundled=False)
    names = ", ".join(m.name for m in available) or "none"
    raise ModelError(
        f"unknown model '{spec}': not an installed model (installed: {names}) nor a model "
        f"directory; see `translate models list`, `translate models pull NAME` "
        f"(catalogue: {', '.join(CATALOGUE)})")


def load_model_dir(path: Path, bundled: bool) -> ModelInfo:
    """Read a model directory in the contract layout; synthesise the manifest if absent."""
    for required in ("model.bin", "config.json", "source.spm", "target.spm"):
        if not (path / required).is_file():
            hint = ("; run `translate models import " + str(path) + "` to install it"
                    if required.endswith(".spm") and (path / "model.bin").is_file() else "")
            raise ModelError(f"{path}: not a usable model directory (missing {required}){hint}")
    # convert reads model layouts (and imports this module's errors and ModelInfo): imported here
    from .convert import _base_manifest, _read_json_object, _token_conventions, _weights_dtype

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
        shipped = f"; bundled with the package, not removable: {', '.join(bundled)}" if bundled else ""
        raise ModelError(f"no installed model named '{name}' in {root} (installed: {installed}{shipped})")
    # Rename first so a half-deleted folder never looks like a model.
    doomed = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX + "remove-", dir=root))
    target.rename(doomed / name)
    shutil.rmtree(doomed)



# ---------------------------------------------------------------- small helpers


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
