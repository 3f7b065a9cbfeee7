"""Model management: pull from a real local HTTP server, import every format, list/resolve/remove."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import socket
import threading
import zipfile
from pathlib import Path

import ctranslate2
import pytest
import sentencepiece as spm

from translate import models
from translate.models import ModelError

from model_archives import (
    ArchiveServer,
    _zip_directory,
    build_argos_zip,
    build_bare_ct2_dir,
    build_lying_zip,
    build_opus_mt_dir,
    build_opus_mt_zip,
    build_tiny_ct2_model,
    build_zip_bomb,
    sha256_of,
)

ARABIC = "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد"
OPUS_PATH = "/Tatoeba-MT-models/ara-eng/opus+bt-2021-04-30.zip"
ARGOS_PATH = "/v1/translate-ar_en-1_0.argosmodel"


@pytest.fixture(scope="session")
def archives(tmp_path_factory) -> dict[str, Path]:
    """Every fixture model built once: archives plus extracted/plain directories."""
    root = tmp_path_factory.mktemp("archives")
    built = {
        "opus_zip": build_opus_mt_zip(root / "opus.zip"),
        "argos_zip": build_argos_zip(root / "ar_en.argosmodel", seed=1),
        "argos_legacy_zip": build_argos_zip(root / "ar_en-legacy.argosmodel", seed=2, legacy=True),
        "opus_dir": build_opus_mt_dir(root / "opus-extracted"),
        "bare_ct2": build_bare_ct2_dir(root / "bare-ct2"),
        "tiny": build_tiny_ct2_model(root / "tiny-model", quality_rank=3.0),
        "opus_fr_zip": build_opus_mt_zip(root / "fra-eng.zip", source_lang="fra", target_lang="eng"),
        "argos_fr_zip": build_argos_zip(root / "fr_en.argosmodel", from_code="fr"),
    }
    argos_extracted = root / "argos-extracted"
    with zipfile.ZipFile(built["argos_zip"]) as zipped:
        zipped.extractall(argos_extracted)
    built["argos_dir"] = next(argos_extracted.iterdir())
    return built


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """An empty models dir for this test."""
    directory = tmp_path / "installed"
    monkeypatch.setenv(models.MODELS_DIR_ENV, str(directory))
    monkeypatch.delenv(models.BASE_URL_ENV, raising=False)
    return directory


@pytest.fixture
def mirror(tmp_path, archives, monkeypatch):
    """A real HTTP server serving the fixture archives at the catalogue URLs' paths."""
    served = tmp_path / "www"
    for url_path, archive in ((OPUS_PATH, archives["opus_zip"]), (ARGOS_PATH, archives["argos_zip"])):
        destination = served / url_path.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(archive, destination)

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(served)))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    monkeypatch.setenv(models.BASE_URL_ENV, base)
    yield base
    server.shutdown()
    server.server_close()


def translate_tokens(info: models.ModelInfo) -> list[str]:
    """Run the installed model the way the translate stage will: pieces + manifest tokens."""
    manifest = info.manifest
    source_spm = spm.SentencePieceProcessor(model_file=str(info.path / "source.spm"))
    target_spm = spm.SentencePieceProcessor(model_file=str(info.path / "target.spm"))
    pieces = manifest["source_prefix"] + source_spm.encode(ARABIC, out_type=str) + manifest["source_suffix"]
    translator = ctranslate2.Translator(str(info.path), device="cpu", intra_threads=1)
    prefix = [manifest["target_prefix"]] if manifest["target_prefix"] else None
    result = translator.translate_batch([pieces], target_prefix=prefix, beam_size=1,
                                        max_decoding_length=8,
                                        min_decoding_length=len(manifest["target_prefix"]) + 1)
    tokens = result[0].hypotheses[0][len(manifest["target_prefix"]):]  # the prefix is echoed back
    assert all(target_spm.piece_to_id(t) != target_spm.unk_id() for t in tokens), tokens
    return tokens


def leftovers(directory: Path) -> list[str]:
    """Hidden temp dirs/files that an install or removal left behind."""
    return sorted(p.name for p in directory.iterdir() if p.name.startswith(".")) if directory.exists() else []


def test_models_dir_follows_environment(home):
    assert models.models_dir() == home


# ---------------------------------------------------------------- pull


def test_pull_catalogue_models_from_mirror(home, mirror):
    opus = models.pull("opus-mt-ara-eng")
    argos = models.pull("argos-ar-en")

    assert opus.path == home / "opus-mt-ara-eng"
    assert opus.manifest["origin"] == mirror + OPUS_PATH
    assert opus.quality_rank == models.CATALOGUE["opus-mt-ara-eng"]["quality_rank"]
    assert opus.manifest["source_format"] == "opus-mt"
    assert argos.manifest["source_format"] == "argos"
    assert argos.quality_rank == models.CATALOGUE["argos-ar-en"]["quality_rank"]
    assert argos.manifest["license"] == models.CATALOGUE["argos-ar-en"]["license"]
    installed = [m.name for m in models.list_models() if not m.bundled]
    assert installed == ["opus-mt-ara-eng", "argos-ar-en"]  # best first
    assert translate_tokens(opus) and translate_tokens(argos)
    assert leftovers(home) == []


def test_pull_checks_sha256(home, mirror, archives, monkeypatch):
    entry = dict(models.CATALOGUE["argos-ar-en"], sha256="0" * 64)
    monkeypatch.setitem(models.CATALOGUE, "argos-ar-en", entry)
    with pytest.raises(ModelError, match="sha256 mismatch") as failure:
        models.pull("argos-ar-en")
    assert ARGOS_PATH in str(failure.value)
    assert not (home / "argos-ar-en").exists()
    assert leftovers(home) == []

    entry["sha256"] = sha256_of(archives["argos_zip"])
    assert models.pull("argos-ar-en").name == "argos-ar-en"


def test_pull_missing_file_is_an_error(home, mirror):
    with pytest.raises(ModelError, match="HTTP 404") as failure:
        models.pull("my-model", url=mirror + "/nothing/here.zip")
    assert "/nothing/here.zip" in str(failure.value)
    assert not (home / "my-model").exists()
    assert leftovers(home) == []


def test_pull_of_something_that_is_not_a_model_names_the_url(home, mirror, tmp_path):
    # e.g. a captive portal or an error page served with status 200 (the mirror serves tmp_path/www)
    served = tmp_path / "www" / "portal" / "model.zip"
    served.parent.mkdir(parents=True)
    served.write_text("<html>please log in</html>", encoding="utf-8")
    url = mirror + "/portal/model.zip"
    with pytest.raises(ModelError, match="not a zip archive") as failure:
        models.pull("portal", url=url)
    assert url in str(failure.value)
    assert not (home / "portal").exists()
    assert leftovers(home) == []


def test_pull_without_network_says_how_to_import(home, monkeypatch):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(models.BASE_URL_ENV, f"http://127.0.0.1:{port}")
    with pytest.raises(ModelError) as failure:
        models.pull("opus-mt-ara-eng")
    message = str(failure.value)
    assert "\n" not in message
    assert "download" in message and "failed" in message
    assert f"http://127.0.0.1:{port}{OPUS_PATH}" in message
    assert "translate models import FILE" in message
    assert not (home / "opus-mt-ara-eng").exists()


def test_pull_unknown_or_unpullable_names(home):
    with pytest.raises(ModelError, match="not in the catalogue"):
        models.pull("no-such-model")
    with pytest.raises(ModelError, match="ct2-transformers-converter"):
        models.pull("nllb-200-distilled-600M")
    assert "NON-COMMERCIAL" in models.CATALOGUE["nllb-200-distilled-600M"]["license"]


def test_catalogue_entries_are_complete():
    for name, entry in models.CATALOGUE.items():
        assert {"url", "sha256", "size", "format", "quality_rank", "license", "description",
                "flores_bleu"} <= set(entry), name
        assert entry["format"] in ("argos", "opus-mt", "ctranslate2"), name


# ---------------------------------------------------------------- import


@pytest.mark.parametrize("kind, source_format", [
    ("argos_zip", "argos"),
    ("argos_dir", "argos"),
    ("argos_legacy_zip", "argos"),
    ("opus_zip", "opus-mt"),
    ("opus_dir", "opus-mt"),
    ("bare_ct2", "ctranslate2"),
    ("tiny", "ctranslate2"),
])
def test_import_each_format_installs_a_working_model(home, archives, kind, source_format):
    info = models.import_model(archives[kind], name="imported")

    assert info.path == home / "imported"
    for required in ("model.bin", "config.json", "source.spm", "target.spm", "manifest.json"):
        assert (info.path / required).is_file(), required
    manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["name"] == "imported"
    assert manifest["source_format"] == source_format
    assert (manifest["source_lang"], manifest["target_lang"], manifest["format"]) == ("ar", "en", "ctranslate2")
    assert manifest["quantization"] == "int8"
    assert manifest["weights_sha256"] == hashlib.sha256((info.path / "model.bin").read_bytes()).hexdigest()
    assert info.weights_sha256 == manifest["weights_sha256"]
    # CTranslate2's Marian conversion sets add_source_eos, so no manual </s>.
    assert manifest["source_suffix"] == []
    assert translate_tokens(info)
    assert leftovers(home) == []


def test_import_default_names(home, archives):
    assert models.import_model(archives["argos_zip"]).name == "argos-ar-en"
    assert models.import_model(archives["opus_zip"]).name == "opus-mt-ara-eng"
    assert models.import_model(archives["bare_ct2"]).name == "bare-ct2"


def test_import_of_a_hand_downloaded_catalogue_file_keeps_catalogue_metadata(home, archives, tmp_path):
    downloaded = tmp_path / "translate-ar_en-1_0.argosmodel"
    shutil.copy(archives["argos_zip"], downloaded)
    info = models.import_model(downloaded)
    assert info.name == "argos-ar-en"
    assert info.quality_rank == models.CATALOGUE["argos-ar-en"]["quality_rank"]


def test_import_nllb_style_model_gets_language_tokens(home, archives, tmp_path):
    # An NLLB conversion: FLORES-200 language codes in the vocabulary, no add_source_eos.
    nllb = tmp_path / "nllb-like"
    shutil.copytree(archives["bare_ct2"], nllb)
    vocabulary = json.loads((nllb / "shared_vocabulary.json").read_text(encoding="utf-8"))
    vocabulary[-2:] = ["arb_Arab", "eng_Latn"]
    (nllb / "shared_vocabulary.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    config = json.loads((nllb / "config.json").read_text(encoding="utf-8"))
    config["add_source_eos"] = False
    (nllb / "config.json").write_text(json.dumps(config), encoding="utf-8")

    info = models.import_model(nllb)
    assert info.manifest["source_prefix"] == ["arb_Arab"]
    assert info.manifest["source_suffix"] == ["</s>"]
    assert info.manifest["target_prefix"] == ["eng_Latn"]
    assert translate_tokens(info)


@pytest.mark.parametrize("kind", ["opus_fr_zip", "argos_fr_zip"])
def test_import_rejects_wrong_language_pair(home, archives, kind):
    with pytest.raises(ModelError, match="expected ar -> en") as failure:
        models.import_model(archives[kind], name="wrong")
    assert str(archives[kind]) in str(failure.value)
    assert not (home / "wrong").exists()
    assert leftovers(home) == []


def test_import_bad_inputs_name_the_file(home, archives, tmp_path):
    missing = tmp_path / "missing.zip"
    with pytest.raises(ModelError, match="no such file") as failure:
        models.import_model(missing)
    assert str(missing) in str(failure.value)

    not_zip = tmp_path / "fake.argosmodel"
    not_zip.write_text("this is not a zip", encoding="utf-8")
    with pytest.raises(ModelError, match="not a zip archive") as failure:
        models.import_model(not_zip)
    assert str(not_zip) in str(failure.value)

    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    with pytest.raises(ModelError, match="not a recognised model"):
        models.import_model(empty_dir)

    corrupt = tmp_path / "corrupt-ct2"
    shutil.copytree(archives["bare_ct2"], corrupt)
    data = (corrupt / "model.bin").read_bytes()
    (corrupt / "model.bin").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="cannot load the model") as failure:
        models.import_model(corrupt, name="corrupt")
    assert str(corrupt) in str(failure.value)

    no_spm = tmp_path / "no-spm"
    shutil.copytree(archives["bare_ct2"], no_spm)
    (no_spm / "sentencepiece.model").unlink()
    with pytest.raises(ModelError, match="no SentencePiece model"):
        models.import_model(no_spm)

    truncated_zip = tmp_path / "truncated.zip"
    truncated_zip.write_bytes(archives["opus_zip"].read_bytes()[:5000])
    with pytest.raises(ModelError, match=str(truncated_zip).replace("\\", "\\\\")):
        models.import_model(truncated_zip)

    assert [m.name for m in models.list_models() if not m.bundled] == []
    assert leftovers(home) == []


def test_import_refuses_to_overwrite_unless_forced(home, archives):
    first = models.import_model(archives["opus_zip"], name="mine")
    first_weights = first.weights_sha256
    with pytest.raises(ModelError, match="already exists"):
        models.import_model(archives["argos_zip"], name="mine")
    assert models.resolve_model("mine").manifest["source_format"] == "opus-mt"

    replaced = models.import_model(archives["argos_zip"], name="mine", force=True)
    assert replaced.manifest["source_format"] == "argos"
    assert replaced.weights_sha256 != first_weights
    assert leftovers(home) == []


def test_failed_import_leaves_existing_model_untouched(home, archives, tmp_path):
    existing = models.import_model(archives["opus_zip"], name="keep")
    before = {p.name: p.read_bytes() for p in existing.path.iterdir()}

    corrupt = tmp_path / "corrupt-ct2"
    shutil.copytree(archives["bare_ct2"], corrupt)
    (corrupt / "model.bin").write_bytes(b"\x06\x00\x00\x00garbage")
    with pytest.raises(ModelError):
        models.import_model(corrupt, name="keep", force=True)

    after = {p.name: p.read_bytes() for p in (home / "keep").iterdir()}
    assert after == before
    assert translate_tokens(models.resolve_model("keep"))
    assert leftovers(home) == []


def test_invalid_names_are_refused(home, archives):
    for bad in ("../escape", ".hidden", "a/b", ""):
        with pytest.raises(ModelError, match="invalid model name"):
            models.import_model(archives["tiny"], name=bad)


# ---------------------------------------------------------------- list, resolve, remove


def test_list_and_remove(home, archives):
    models.import_model(archives["tiny"], name="low")
    models.import_model(archives["opus_zip"], name="high")
    manifest_path = home / "high" / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["quality_rank"] = 9.0
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")

    installed = [m for m in models.list_models() if not m.bundled]
    assert [m.name for m in installed] == ["high", "low"]
    assert installed[1].quality_rank == 3.0  # kept from the tiny model's own manifest

    models.remove("high")
    assert not (home / "high").exists()
    assert [m.name for m in models.list_models() if not m.bundled] == ["low"]
    with pytest.raises(ModelError, match="no installed model named 'high'"):
        models.remove("high")
    assert leftovers(home) == []


def test_resolve_model_none_picks_highest_quality_rank(home, archives):
    # Ranks far above any bundled demo model's, so the installed ones must win.
    models.import_model(archives["tiny"], name="ok")
    models.import_model(archives["bare_ct2"], name="best")
    models.import_model(archives["opus_zip"], name="worse")
    for name, rank in (("ok", 1000), ("best", 3000), ("worse", 2000)):
        path = home / name / "manifest.json"
        manifest = json.loads(path.read_text(encoding="utf-8"))
        manifest["quality_rank"] = rank
        path.write_text(json.dumps(manifest), encoding="utf-8")

    assert models.resolve_model(None).name == "best"
    assert models.resolve_model("worse").path == home / "worse"


def test_resolve_model_none_without_installed_models(home):
    bundled = models.bundled_models()
    if bundled:
        assert models.resolve_model(None).bundled
    else:
        with pytest.raises(ModelError, match="translate models pull"):
            models.resolve_model(None)


def test_resolve_model_accepts_model_directories(home, archives, tmp_path):
    tiny = models.resolve_model(str(archives["tiny"]))
    assert tiny.path == archives["tiny"]
    assert tiny.name == "tiny-model" and tiny.quality_rank == 3.0
    assert translate_tokens(tiny)

    # No manifest: one is synthesised from the directory and config.json.
    bare = tmp_path / "no-manifest"
    shutil.copytree(archives["tiny"], bare)
    (bare / "manifest.json").unlink()
    info = models.resolve_model(str(bare))
    assert info.name == "no-manifest"
    assert info.manifest["source_suffix"] == [] and info.manifest["quantization"] == "int8"
    assert info.weights_sha256 == sha256_of(bare / "model.bin")

    # A model dir without source.spm/target.spm must be imported first.
    with pytest.raises(ModelError, match="translate models import"):
        models.resolve_model(str(archives["bare_ct2"]))
    with pytest.raises(ModelError, match="unknown model 'nope'"):
        models.resolve_model("nope")


# ---------------------------------------------------------------- the `translate models` commands


def test_cli_models_import_list_remove(tmp_path, archives):
    from conftest import run_cli

    env = {models.MODELS_DIR_ENV: str(tmp_path / "installed")}
    imported = run_cli("models", "import", archives["argos_zip"], "--name", "cli-argos", env=env)
    assert imported.returncode == 0, imported.stderr
    listed = run_cli("models", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert any(line.split("\t")[0] == "cli-argos" for line in listed.stdout.splitlines())

    again = run_cli("models", "import", archives["argos_zip"], "--name", "cli-argos", env=env)
    assert again.returncode == 1
    assert again.stderr.strip().count("\n") == 0 and "already exists" in again.stderr

    removed = run_cli("models", "remove", "cli-argos", env=env)
    assert removed.returncode == 0, removed.stderr
    listed = run_cli("models", "list", env=env)
    assert "cli-argos" not in listed.stdout
    assert not (tmp_path / "installed" / "cli-argos").exists()


def test_cli_models_errors_are_one_line(tmp_path):
    from conftest import run_cli

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {models.MODELS_DIR_ENV: str(tmp_path / "installed"),
           models.BASE_URL_ENV: f"http://127.0.0.1:{port}"}
    pulled = run_cli("models", "pull", "argos-ar-en", env=env)
    assert pulled.returncode == 1
    assert pulled.stderr.strip().count("\n") == 0
    assert "translate models import FILE" in pulled.stderr

    not_zip = tmp_path / "notes.zip"
    not_zip.write_text("hello", encoding="utf-8")
    imported = run_cli("models", "import", not_zip, env=env)
    assert imported.returncode == 1
    assert imported.stderr.strip().count("\n") == 0
    assert str(not_zip) in imported.stderr and "not a zip archive" in imported.stderr


# ---------------------------------------------------------------- hostile archives and downloads


def test_zip_bomb_is_refused_from_its_directory_before_anything_is_written(home, tmp_path):
    bomb = build_zip_bomb(tmp_path / "bomb.zip", unpacked_bytes=50 << 20)
    assert bomb.stat().st_size < 200_000                  # a small file that unpacks to 50 MiB

    into = tmp_path / "extract"
    with pytest.raises(ModelError, match=r"unpacks to 50\.0 MiB, over the limit of 1\.0 MiB"):
        models._extract(bomb, into, None, str(bomb), max_unpacked=1 << 20)
    assert not into.exists()                              # refused from the central directory alone

    with pytest.raises(ModelError, match="--max-unpacked-size") as failure:
        models.import_model(bomb, name="bomb", max_unpacked=1 << 20)
    assert str(bomb) in str(failure.value)
    assert not home.exists() or list(home.iterdir()) == []


def test_cli_import_of_a_zip_bomb_fails_in_one_line(tmp_path):
    from conftest import run_cli

    bomb = build_zip_bomb(tmp_path / "bomb.zip", unpacked_bytes=20 << 20, entries=4)
    installed = tmp_path / "installed"
    result = run_cli("models", "import", bomb, "--max-unpacked-size", "5M",
                     env={models.MODELS_DIR_ENV: str(installed)})
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert f"{bomb}: unpacks to 20.0 MiB, over the limit of 5.0 MiB" in result.stderr
    assert not installed.exists() or list(installed.iterdir()) == []

    bad_size = run_cli("models", "import", bomb, "--max-unpacked-size", "lots",
                       env={models.MODELS_DIR_ENV: str(installed)})
    assert bad_size.returncode == 2 and "not a size" in bad_size.stderr


def test_archive_with_too_many_entries_is_refused(home, tmp_path, monkeypatch):
    monkeypatch.setattr(models.download, "MAX_ARCHIVE_ENTRIES", 5)
    many = build_zip_bomb(tmp_path / "many.zip", unpacked_bytes=6_000, entries=6)
    with pytest.raises(ModelError, match="6 entries in the archive"):
        models.import_model(many, name="many")
    assert not home.exists() or list(home.iterdir()) == []


def test_archive_that_lies_about_its_sizes_is_refused(home, tmp_path):
    # declares 1,000 bytes (under the limit) for an entry that inflates to 5 MiB (over it)
    liar = build_lying_zip(tmp_path / "liar.zip", real_bytes=5 << 20, declared_bytes=1000)
    # (zipfile stops at the declared size and then fails the CRC; our own count stops it otherwise)
    with pytest.raises(ModelError, match="corrupt zip archive|unpacks to more than the archive declares") as failure:
        models.import_model(liar, name="liar", max_unpacked=1 << 20)
    assert str(liar) in str(failure.value) and "\n" not in str(failure.value)
    assert not home.exists() or list(home.iterdir()) == []


@pytest.fixture
def server():
    with ArchiveServer() as running:
        yield running


def test_truncated_download_is_refused(home, server, archives):
    data = archives["opus_zip"].read_bytes()
    url = server.add("/cut.zip", data[: len(data) // 2], declared_length=len(data))
    with pytest.raises(ModelError, match=rf"truncated download \({len(data) // 2} of {len(data)} bytes"):
        models.pull("cut", url=url)
    assert not (home / "cut").exists()
    assert leftovers(home) == []


def test_download_size_cap(home, server, archives):
    data = archives["opus_zip"].read_bytes()
    declared = server.add("/big.zip", data)
    with pytest.raises(ModelError, match="over the download limit of 1.0 KiB.*nothing downloaded"):
        models.pull("big", url=declared, max_download=1024)
    # without a Content-Length the cap is enforced on the bytes as they arrive
    undeclared = server.add("/stream.zip", data, send_length=False)
    with pytest.raises(ModelError, match="over the download limit of 1.0 KiB.*download stopped"):
        models.pull("big", url=undeclared, max_download=1024)
    assert not (home / "big").exists()
    assert leftovers(home) == []
    assert models.pull("big", url=undeclared).name == "big"     # the same stream, under the default cap


def test_pull_sha256_pin(home, server, archives):
    data = archives["argos_zip"].read_bytes()
    url = server.add("/pinned.argosmodel", data)
    with pytest.raises(ModelError, match="sha256 mismatch") as failure:
        models.pull("pinned", url=url, sha256="0" * 64)
    assert url in str(failure.value)
    assert not (home / "pinned").exists() and leftovers(home) == []
    with pytest.raises(ModelError, match="not a sha256"):
        models.pull("pinned", url=url, sha256="abc")

    digest = hashlib.sha256(data).hexdigest()
    info = models.pull("pinned", url=url, sha256=digest.upper())
    manifest = json.loads((info.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["archive_sha256"] == digest
    assert manifest["archive_size"] == len(data)
    assert manifest["sha256_verified"] is True


def test_cli_pull_prints_and_records_the_sha256(tmp_path, server, archives):
    from conftest import run_cli

    data = archives["argos_zip"].read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    url = server.add("/m.argosmodel", data)
    env = {models.MODELS_DIR_ENV: str(tmp_path / "installed")}
    wrong = run_cli("models", "pull", "m", "--url", url, "--sha256", "f" * 64, env=env)
    assert wrong.returncode == 1
    assert wrong.stderr.strip().count("\n") == 0 and "sha256 mismatch" in wrong.stderr
    assert not (tmp_path / "installed" / "m").exists()

    pulled = run_cli("models", "pull", "m", "--url", url, "--sha256", digest, env=env)
    assert pulled.returncode == 0, pulled.stderr
    assert f"downloaded {len(data)} bytes, sha256 {digest}" in pulled.stderr
    manifest = json.loads((tmp_path / "installed" / "m" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["archive_sha256"] == digest


def test_another_model_served_at_a_catalogue_url_is_refused(home, server, archives, tmp_path, monkeypatch):
    # e.g. the demo model (a CTranslate2 dir) served where the OPUS-MT release should be
    impostor = _zip_directory(archives["tiny"], tmp_path / "impostor.zip")
    server.add(OPUS_PATH, impostor.read_bytes())
    monkeypatch.setenv(models.BASE_URL_ENV, server.base)
    with pytest.raises(ModelError, match="holds a CTranslate2 model, but the catalogue entry is an OPUS-MT release"):
        models.pull("opus-mt-ara-eng")
    assert not (home / "opus-mt-ara-eng").exists()
    assert leftovers(home) == []


def test_ct2_dir_without_its_source_sentencepiece_is_refused(home, archives, tmp_path):
    no_source = tmp_path / "no-source-spm"
    shutil.copytree(archives["tiny"], no_source)
    (no_source / "source.spm").unlink()
    with pytest.raises(ModelError, match="has target.spm but no source.spm") as failure:
        models.import_model(no_source, name="half")
    assert str(no_source) in str(failure.value)

    # one SentencePiece model is used for both sides only when the model shares one vocabulary
    separate = tmp_path / "separate-vocabularies"
    shutil.copytree(archives["bare_ct2"], separate)
    tokens = (separate / "shared_vocabulary.json").read_text(encoding="utf-8")
    (separate / "source_vocabulary.json").write_text(tokens, encoding="utf-8")
    (separate / "target_vocabulary.json").write_text(tokens, encoding="utf-8")
    (separate / "shared_vocabulary.json").unlink()
    with pytest.raises(ModelError, match="one SentencePiece model .sentencepiece.model. but separate"):
        models.import_model(separate, name="separate")
    assert [m.name for m in models.list_models() if not m.bundled] == []
    assert leftovers(home) == []


def test_parse_size():
    assert models.parse_size("8G") == 8 << 30
    assert models.parse_size("500m") == 500 << 20
    assert models.parse_size("1.5GB") == 3 << 29
    assert models.parse_size("1234") == 1234
    with pytest.raises(ValueError):
        models.parse_size("-1G")


def test_catalogue_size_and_hash_are_checked_on_pull_and_on_import(home, mirror, archives, tmp_path, monkeypatch):
    size = archives["argos_zip"].stat().st_size
    entry = dict(models.CATALOGUE["argos-ar-en"], size=size + 1)
    monkeypatch.setitem(models.CATALOGUE, "argos-ar-en", entry)
    with pytest.raises(ModelError, match=f"{size} bytes, but the catalogue records {size + 1}"):
        models.pull("argos-ar-en")
    assert leftovers(home) == [] and not (home / "argos-ar-en").exists()

    # a catalogue file downloaded by hand must have the catalogue's hash too
    entry.update(size=size, sha256="0" * 64)
    downloaded = tmp_path / "translate-ar_en-1_0.argosmodel"
    shutil.copy(archives["argos_zip"], downloaded)
    with pytest.raises(ModelError, match="differs from the catalogue's"):
        models.import_model(downloaded)
    entry["sha256"] = sha256_of(downloaded)
    info = models.import_model(downloaded)
    assert info.manifest["sha256_verified"] is True and info.manifest["archive_sha256"] == entry["sha256"]


def test_zip_bomb_under_the_size_limit_is_refused_by_its_compression_ratio(home, tmp_path, monkeypatch):
    monkeypatch.setattr(models.download, "RATIO_CHECKED_FROM", 1 << 20)
    bomb = build_zip_bomb(tmp_path / "small-bomb.zip", unpacked_bytes=20 << 20)
    into = tmp_path / "extract"
    with pytest.raises(ModelError, match=r"unpacks to 20\.0 MiB \(more than 100:1\): a zip bomb"):
        models._extract(bomb, into, None, str(bomb))          # default limit: 8 GiB
    assert not into.exists()
    # a real int8 model (the bundled demo, 7.3 MiB of weights) is far from that ratio
    from conftest import ROOT

    demo = _zip_directory(ROOT / "models" / "demo-ar-en-tatoeba", tmp_path / "demo.zip")
    assert models.import_model(demo, name="real").name == "real"
