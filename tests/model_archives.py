"""Builders of tiny translation models in the real on-disk layouts, for tests.

Everything is generated in-process from a fixed random seed: a SentencePiece model
trained on a few hundred synthetic Arabic/English lines, a Marian ``.npz`` with random
weights in the layout OPUS-MT releases use, the CTranslate2 model converted from it,
and the two archive formats users download (OPUS-MT release zip, Argos ``.argosmodel``).
The weights are random, so the models translate into nonsense, but every file is a
real, loadable artefact of its format.
"""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import random
import shutil
import struct
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import sentencepiece as spm
import yaml

D_MODEL = 16
FFN_DIM = 32
NUM_HEADS = 2
VOCAB_SIZE = 200

_ARABIC_WORDS = (
    "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد في البلاد خلال العام المقبل "
    "وأكد الوزير أن المفاوضات مستمرة مع الدول المجاورة بشأن المياه والحدود "
    "وذكرت وكالة الأنباء أن الأمطار الغزيرة تسببت في فيضانات في عدة مدن "
    "وأعلنت الشركة عن أرباح قياسية بعد ارتفاع الطلب على منتجاتها الجديدة"
).split()
_ENGLISH_WORDS = (
    "the president said that the government will work to improve the economy in the "
    "country next year and the minister confirmed that negotiations continue with "
    "neighbouring states over water and borders while heavy rain caused floods in "
    "several cities and the company announced record profits after demand rose"
).split()


def sample_lines(count: int = 400, seed: int = 7) -> list[str]:
    """Deterministic pseudo-sentences, half Arabic and half English."""
    rng = random.Random(seed)
    lines = []
    for i in range(count):
        words = _ARABIC_WORDS if i % 2 == 0 else _ENGLISH_WORDS
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(4, 12))) + ".")
    return lines


def train_tiny_spm(directory: Path, lines: list[str] | None = None, vocab_size: int = VOCAB_SIZE,
                   name: str = "spm") -> Path:
    """Train a unigram SentencePiece model on ``lines``; returns the ``.model`` path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines or sample_lines()),
        model_prefix=str(directory / name),
        vocab_size=vocab_size,
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    return directory / f"{name}.model"


@functools.lru_cache(maxsize=None)
def default_spm_bytes() -> bytes:
    """The default tiny SentencePiece model, trained once per process (training dominates build time)."""
    with tempfile.TemporaryDirectory() as work:
        return train_tiny_spm(Path(work)).read_bytes()


def marian_vocabulary(spm_model: Path) -> list[str]:
    """Token list as OPUS-MT orders it: ``</s>`` 0, ``<unk>`` 1, the pieces, ``<pad>`` last."""
    processor = spm.SentencePieceProcessor(model_file=str(spm_model))
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    pieces = [p for p in pieces if p not in ("<unk>", "<s>", "</s>")]
    return ["</s>", "<unk>", *pieces, "<pad>"]


def _write_marian_vocab(path: Path, tokens: list[str]) -> None:
    # Marian writes one "token: id" YAML mapping per line; json.dumps gives a safely
    # quoted YAML scalar for pieces like "▁" or ":".
    with open(path, "w", encoding="utf-8") as out:
        for index, token in enumerate(tokens):
            out.write(f"{json.dumps(token, ensure_ascii=False)}: {index}\n")


def _marian_weights(vocab_size: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Random weights named as Marian's post-norm transformer names them (1+1 layers)."""
    def matrix(rows, cols):
        return rng.normal(0, 0.2, size=(rows, cols)).astype(np.float32)

    def row(cols, value=None):
        if value is not None:
            return np.full((1, cols), value, dtype=np.float32)
        return rng.normal(0, 0.02, size=(1, cols)).astype(np.float32)

    def attention(scope):
        out = {}
        for part in "qkvo":
            out[f"{scope}_W{part}"] = matrix(D_MODEL, D_MODEL)
            out[f"{scope}_b{part}"] = row(D_MODEL)
        out[f"{scope}_Wo_ln_scale"] = row(D_MODEL, 1.0)
        out[f"{scope}_Wo_ln_bias"] = row(D_MODEL, 0.0)
        return out

    def ffn(scope):
        return {
            f"{scope}_W1": matrix(D_MODEL, FFN_DIM), f"{scope}_b1": row(FFN_DIM),
            f"{scope}_W2": matrix(FFN_DIM, D_MODEL), f"{scope}_b2": row(D_MODEL),
            f"{scope}_ffn_ln_scale": row(D_MODEL, 1.0), f"{scope}_ffn_ln_bias": row(D_MODEL, 0.0),
        }

    config = {
        "type": "transformer",
        "enc-depth": 1,
        "dec-depth": 1,
        "transformer-heads": NUM_HEADS,
        "transformer-dim-ffn": FFN_DIM,
        "dim-emb": D_MODEL,
        "transformer-decoder-autoreg": "self-attention",
        "transformer-no-projection": False,
        "transformer-ffn-activation": "relu",
        "transformer-preprocess": "",
        "transformer-postprocess": "dan",
        "transformer-postprocess-emb": "d",
        "transformer-guided-alignment-layer": "last",
        "tied-embeddings-all": True,
    }
    weights = {"Wemb": matrix(vocab_size, D_MODEL)}
    weights.update(attention("encoder_l1_self"))
    weights.update(ffn("encoder_l1_ffn"))
    weights.update(attention("decoder_l1_self"))
    weights.update(attention("decoder_l1_context"))
    weights.update(ffn("decoder_l1_ffn"))
    weights["decoder_ff_logit_out_b"] = row(vocab_size, 0.0)
    # Marian stores its options as a NUL-terminated YAML string under this key.
    weights["special:model.yml"] = np.frombuffer(
        yaml.safe_dump(config).encode("utf-8") + b"\0", dtype=np.int8)
    return weights


def build_opus_mt_dir(directory: Path, source_lang: str = "ar", target_lang: str = "en",
                      seed: int = 0) -> Path:
    """An extracted OPUS-MT release: npz, decoder.yml, vocab.yml, source/target.spm, README, LICENSE."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "source.spm").write_bytes(default_spm_bytes())
    (directory / "target.spm").write_bytes(default_spm_bytes())

    vocab = marian_vocabulary(directory / "source.spm")
    vocab_name = "opus.spm32k-spm32k.vocab.yml"
    _write_marian_vocab(directory / vocab_name, vocab)
    model_name = "opus.spm32k-spm32k.transformer.model1.npz.best-perplexity.npz"
    np.savez(directory / model_name, **_marian_weights(len(vocab), np.random.default_rng(seed)))
    (directory / "decoder.yml").write_text(yaml.safe_dump({
        "models": [model_name],
        "vocabs": [vocab_name, vocab_name],
        "beam-size": 6,
        "normalize": 0.6,
        "word-penalty": 0,
        "mini-batch": 1,
        "maxi-batch": 1,
        "maxi-batch-sort": "src",
        "relative-paths": True,
    }), encoding="utf-8")
    (directory / "README.md").write_text(
        "# opus-2020-01-01.zip\n\n"
        "* dataset: opus\n"
        "* model: transformer\n"
        f"* source language(s): {source_lang}\n"
        f"* target language(s): {target_lang}\n"
        "* pre-processing: normalization + SentencePiece\n",
        encoding="utf-8")
    (directory / "LICENSE").write_text("CC-BY 4.0 (test fixture)\n", encoding="utf-8")
    return directory


def _zip_directory(source: Path, archive: Path, top: str | None = None) -> Path:
    """Zip ``source``'s files, under the folder ``top`` inside the archive when given."""
    archive = Path(archive)
    archive.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                relative = path.relative_to(source).as_posix()
                out.write(path, f"{top}/{relative}" if top else relative)
    return archive


def build_opus_mt_zip(path: Path, source_lang: str = "ar", target_lang: str = "en",
                      seed: int = 0) -> Path:
    """An OPUS-MT release zip (files at the archive root, as object.pouta.csc.fi serves them)."""
    with tempfile.TemporaryDirectory() as work:
        release = build_opus_mt_dir(Path(work) / "release", source_lang, target_lang, seed)
        return _zip_directory(release, path)


def _convert_marian(release: Path, output: Path) -> None:
    from ctranslate2.converters import OpusMTConverter

    OpusMTConverter(str(release)).convert(str(output), quantization="int8", force=True)


def build_tiny_ct2_model(directory: Path, name: str | None = None, quality_rank: float = 1.0,
                         seed: int = 0) -> Path:
    """A complete model directory in the project's contract, ready for ``resolve_model(path)``.

    model.bin + config.json + shared_vocabulary.json (int8, converted by CTranslate2 from a
    random Marian model), source.spm/target.spm, and manifest.json.
    """
    directory = Path(directory)
    with tempfile.TemporaryDirectory() as work:
        release = build_opus_mt_dir(Path(work) / "release", seed=seed)
        _convert_marian(release, directory)
        shutil.copy(release / "source.spm", directory / "source.spm")
        shutil.copy(release / "target.spm", directory / "target.spm")
    weights = hashlib.sha256((directory / "model.bin").read_bytes()).hexdigest()
    manifest = {
        "name": name or directory.name,
        "source_lang": "ar",
        "target_lang": "en",
        "format": "ctranslate2",
        "quantization": "int8",
        "source_prefix": [],
        # CTranslate2 appends </s> itself: the Marian converter sets add_source_eos.
        "source_suffix": [],
        "target_prefix": [],
        "quality_rank": quality_rank,
        "origin": "tests/model_archives.py",
        "license": "test fixture",
        "weights_sha256": weights,
        "imported_at": "2026-01-01T00:00:00+00:00",
    }
    (directory / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return directory


def build_bare_ct2_dir(directory: Path, seed: int = 0) -> Path:
    """A CTranslate2 model dir as a user would have it: no manifest, one shared ``sentencepiece.model``."""
    directory = Path(directory)
    with tempfile.TemporaryDirectory() as work:
        release = build_opus_mt_dir(Path(work) / "release", seed=seed)
        _convert_marian(release, directory)
        shutil.copy(release / "source.spm", directory / "sentencepiece.model")
    return directory


def build_argos_zip(path: Path, from_code: str = "ar", to_code: str = "en", seed: int = 0,
                    legacy: bool = False) -> Path:
    """An Argos Translate ``.argosmodel``: one top folder with metadata.json, model/,
    sentencepiece.model, README.md and a (stub) stanza/ folder.

    ``legacy`` lays model/ out as CTranslate2 1.x did (early Argos packages such as ar_en 1.0):
    no config.json, vocabularies as source_/target_vocabulary.txt.
    """
    top = f"translate-{from_code}_{to_code}-1_0"
    with tempfile.TemporaryDirectory() as work:
        package = Path(work) / top
        release = build_opus_mt_dir(Path(work) / "release", seed=seed)
        _convert_marian(release, package / "model")
        if legacy:
            model = package / "model"
            tokens = json.loads((model / "shared_vocabulary.json").read_text(encoding="utf-8"))
            for side in ("source", "target"):
                (model / f"{side}_vocabulary.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
            (model / "shared_vocabulary.json").unlink()
            (model / "config.json").unlink()
        shutil.copy(release / "source.spm", package / "sentencepiece.model")
        (package / "metadata.json").write_text(json.dumps({
            "package_version": "1.0",
            "argos_version": "1.0",
            "from_code": from_code,
            "from_name": "Arabic" if from_code == "ar" else from_code,
            "to_code": to_code,
            "to_name": "English" if to_code == "en" else to_code,
        }, indent=4), encoding="utf-8")
        (package / "README.md").write_text("Test Argos package.\n", encoding="utf-8")
        (package / "stanza").mkdir()
        (package / "stanza" / "resources.json").write_text("{}", encoding="utf-8")
        return _zip_directory(package, path, top=top)


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# ---------------------------------------------------------------- hostile archives and servers


def build_zip_bomb(path: Path, unpacked_bytes: int, entries: int = 1) -> Path:
    """A small zip whose entries unpack to ``unpacked_bytes`` of zeros in all (deflate squeezes ~1000:1)."""
    path = Path(path)
    per_entry = unpacked_bytes // entries
    block = b"\0" * (1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for index in range(entries):
            with out.open(f"bomb/part{index:05d}.bin", "w") as member:
                left = per_entry
                while left > 0:
                    member.write(block[:left])
                    left -= len(block)
    return path


def build_lying_zip(path: Path, real_bytes: int, declared_bytes: int) -> Path:
    """A zip whose central directory declares ``declared_bytes`` for an entry that inflates to
    ``real_bytes``: what a hostile archive does to slip past a check of the declared sizes."""
    path = Path(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("model/model.bin", b"\0" * real_bytes)
    data = bytearray(path.read_bytes())
    central = data.find(b"PK\x01\x02")
    # central directory file header: uncompressed size at offset 24 (little-endian uint32)
    data[central + 24:central + 28] = struct.pack("<I", declared_bytes)
    path.write_bytes(bytes(data))
    return path


@dataclass
class Route:
    data: bytes
    declared_length: int | None = None     # Content-Length sent (None: the true length)
    send_length: bool = True               # False: no Content-Length, the body ends when the connection does


class ArchiveServer:
    """A real HTTP server on 127.0.0.1 that serves bytes at paths, and can lie about their length
    (a Content-Length larger than the body sent, as a connection cut mid-download looks)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        routes = self.routes

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's naming)
                route = routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/zip")
                if route.send_length:
                    length = route.declared_length if route.declared_length is not None else len(route.data)
                    self.send_header("Content-Length", str(length))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(route.data)
                self.close_connection = True

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def add(self, path: str, data: bytes, **options) -> str:
        """Serve ``data`` at ``path``; returns its URL."""
        self.routes[path] = Route(data, **options)
        return self.base + path

    def __enter__(self) -> "ArchiveServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
