"""Turning a model release into the installed layout: CTranslate2 directories (copied), Argos Translate
``.argosmodel`` packages (already CTranslate2; re-arranged) and OPUS-MT / Tatoeba-MT release zips
(Marian weights, converted to int8 with CTranslate2's converter), and checking that the result loads.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import struct
from pathlib import Path


from .catalogue import ModelError, _one_line, _read_json, _read_text

_FORMAT_NAMES = {"argos": "an Argos .argosmodel package", "opus-mt": "an OPUS-MT release",
                 "ctranslate2": "a CTranslate2 model"}


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


