"""The translation engine and the run's chunking: order, deduplication, windows, threads, fixed length,
streaming, progress. All on the tiny real CTranslate2 model (random weights, so outputs are nonsense but
deterministic)."""
from __future__ import annotations

import sqlite3

import pytest

from translate import pipeline
from translate.models import resolve_model
from translate.store import Store
from translate.translate import Engine, TranslateError, split_threads

# lengths differ a lot, so the engine's length sorting puts them in another order than this one
TEXTS = [
    "قال الرئيس إن الحكومة ستعمل على تحسين الاقتصاد في البلاد خلال العام المقبل وأكد الوزير أن المفاوضات مستمرة.",
    "وأكد الوزير.",
    "وذكرت وكالة الأنباء أن الأمطار الغزيرة تسببت في فيضانات في عدة مدن.",
    "نعم.",
    "وأعلنت الشركة عن أرباح قياسية بعد ارتفاع الطلب على منتجاتها الجديدة في البلاد.",
    "قال الرئيس.",
]


@pytest.fixture(scope="module")
def model(tiny_model):
    return resolve_model(str(tiny_model))


@pytest.fixture(scope="module")
def engine(model):
    return Engine(model, beam=1, threads=1)


def test_a_batch_comes_back_in_input_order_with_the_same_output_as_each_text_alone(engine):
    together = engine.translate(TEXTS)
    alone = [engine.translate([t])[0] for t in TEXTS]
    assert [h.text for h in together] == [h.text for h in alone]
    assert [h.source_tokens for h in together] == [len(engine.sp_source.encode(t)) for t in TEXTS]
    assert engine.translate([]) == []


def test_several_replicas_and_small_token_batches_keep_order_and_outputs(model, engine):
    # two replicas, batches of at most 16 source tokens: many batches run in parallel and out of order
    parallel = Engine(model, beam=1, threads=2, inter_threads=2, max_batch_tokens=16)
    assert parallel.threads == (2, 1)
    assert [h.text for h in parallel.translate(TEXTS * 3)] == [h.text for h in engine.translate(TEXTS * 3)]


def test_fixed_output_length_decodes_exactly_that_many_tokens_without_flagging(model):
    fixed = Engine(model, beam=2, threads=1, fixed_output_length=7)
    for hyp in fixed.translate(TEXTS):
        assert hyp.target_tokens == 7
        assert hyp.flags["hit_max_length"] is False


def test_long_source_windows_are_all_translated_and_flagged(engine):
    long_text = " ".join(TEXTS * 40)
    pieces = engine.sp_source.encode(long_text)
    hyp = engine.translate([long_text])[0]
    windows = -(-len(pieces) // engine.max_source_tokens)
    assert windows >= 2
    assert hyp.flags["source_windows"] == windows and hyp.source_tokens == len(pieces)
    # the windows' translations are joined in order: the first window alone gives the text's beginning
    first = engine.sp_source.decode(pieces[:engine.max_source_tokens])
    assert hyp.text.startswith(engine.translate([first])[0].text)


def test_decoding_limit_grows_with_the_source_and_an_output_reaching_it_is_flagged(engine):
    assert engine.decoding_limit(3) == engine.decoding_limit(16) < engine.decoding_limit(17)
    assert engine.decoding_limit(100) >= 2.5 * 100
    # never past the model's position encodings, whatever the window
    assert engine.decoding_limit(engine.max_source_tokens) == engine.max_positions - 1
    assert engine.max_source_tokens <= engine.max_positions // 2
    # the random tiny model never ends a sentence: every output runs to its window's limit and is flagged
    for text, hyp in zip(TEXTS, engine.translate(TEXTS)):
        window = engine.tokenize(text)[0]
        assert hyp.target_tokens == engine.decoding_limit(len(window))
        assert hyp.flags["hit_max_length"] is True


def test_thread_split_uses_every_thread():
    assert split_threads(1, "cpu") == (1, 1)
    assert split_threads(2, "cpu") == (1, 2)
    assert split_threads(16, "cpu") == (4, 4)
    assert split_threads(8, "cuda") == (1, 8)
    for threads in range(1, 33):
        inter, intra = split_threads(threads, "cpu")
        assert threads - inter < inter * intra <= threads


def test_bad_settings_are_clear_errors(model):
    with pytest.raises(TranslateError, match="beam"):
        Engine(model, beam=0)
    with pytest.raises(TranslateError, match="unknown device"):
        Engine(model, device="tpu")


def test_cuda_without_a_gpu_is_a_clear_error(model):
    import ctranslate2

    if ctranslate2.get_cuda_device_count() > 0:
        pytest.skip("this machine has a GPU")
    with pytest.raises(TranslateError, match="no CUDA GPU"):
        Engine(model, device="cuda")


def _translations(db):
    with sqlite3.connect(db) as con:
        return con.execute("SELECT s.text, t.text FROM segments s JOIN translations t ON t.segment_id = s.id"
                           " ORDER BY s.document_id, s.position").fetchall()


def test_repeats_across_chunks_and_documents_are_translated_once(tmp_path, engine, monkeypatch):
    # chunks of 3 segments: the repeated line is in the chunk in flight when the next one is queued,
    # in a chunk already stored, and in another document sharing a chunk with the first one
    monkeypatch.setattr(pipeline, "CHUNK_SEGMENTS", 3)
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join([TEXTS[0], TEXTS[1], TEXTS[2], TEXTS[0], TEXTS[3], TEXTS[0], TEXTS[4]]) + "\n",
                 encoding="utf-8")
    b.write_text(TEXTS[0] + "\n" + TEXTS[5] + "\n", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        summary = pipeline.run([a, b], store, engine)
    assert summary.segments == 9 and summary.documents == 2
    assert summary.translated == 6 and summary.reused == 3
    pairs = _translations(db)
    assert len(pairs) == 9
    alone = {t: h.text for t, h in zip(TEXTS, engine.translate(TEXTS))}
    assert all(target == alone[source] for source, target in pairs)


def test_the_same_document_twice_in_one_chunk_is_stored_once(tmp_path, engine):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    for path in (a, b):
        path.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    db = tmp_path / "s.sqlite"
    with Store(db) as store:
        summary = pipeline.run([a, b], store, engine)
    assert summary.segments == len(TEXTS) and summary.documents == 1 and summary.documents_skipped == 1
    assert len(_translations(db)) == len(TEXTS)


def test_progress_reports_every_byte_once_per_chunk(tmp_path, engine, monkeypatch):
    monkeypatch.setattr(pipeline, "CHUNK_SEGMENTS", 4)
    paths = []
    for i in range(3):
        path = tmp_path / f"d{i}.txt"
        path.write_text("\n".join(TEXTS[i:] + TEXTS[:i]) + "\n\n", encoding="utf-8")
        paths.append(path)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00broken")
    reports = []
    with Store(tmp_path / "s.sqlite") as store:
        summary = pipeline.run([*paths, bad], store, engine, progress=reports.append)
    assert len(summary.errors) == 1 and "bad.txt" in summary.errors[0]
    assert sum(reports) == sum(p.stat().st_size for p in [*paths, bad])
    assert len(reports) == -(-summary.segments // 4)        # one report per committed chunk
    assert summary.documents == 3
