"""The stable Python API (translate.__all__): the README's examples run, __all__ and the README agree,
errors are translate.Error with one line, and the command line gives what the API gives."""
from __future__ import annotations

import doctest
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, run_cli

import translate
from translate import api

README = ROOT / "README.md"
SOURCE = "ولد الكاتب في القاهرة عام 1950."


def readme_section() -> tuple[str, int]:
    """The README's "Python API" section and the line it starts on."""
    text = README.read_text(encoding="utf-8")
    start = text.index("## Python API")
    end = text.index("\n## ", start + 1)
    return text[start:end], text.count("\n", 0, start)


def readme_examples() -> list[tuple[str, int]]:
    """The ```pycon blocks of the section, with their first line in the README."""
    section, first_line = readme_section()
    return [(m.group(1), first_line + section.count("\n", 0, m.start(1)))
            for m in re.finditer(r"```pycon\n(.*?)```", section, re.S)]


@pytest.fixture
def store_with_pairs(tmp_path, monkeypatch) -> Path:
    """A directory holding aligned/corpus.sqlite, written by the real `translate run` with the demo model,
    made the working directory (no user models: the README shows the bundled demo model)."""
    (tmp_path / "no-models").mkdir()
    env = {"TRANSLATE_MODELS_DIR": str(tmp_path / "no-models")}
    article = tmp_path / "article.txt"
    article.write_text("وصل الوفد إلى القاهرة. وبدأت المحادثات اليوم.\nقال الوزير إن الاتفاق قريب.\n",
                       encoding="utf-8")
    result = run_cli("run", article, "--db", tmp_path / "aligned" / "corpus.sqlite", env=env)
    assert result.returncode == 0, result.stderr
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("TRANSLATE_MODELS_DIR", env["TRANSLATE_MODELS_DIR"])
    return tmp_path


def test_readme_examples_run(store_with_pairs):
    examples = readme_examples()
    assert len(examples) >= 5
    parser, globs = doctest.DocTestParser(), {}
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    for code, line in examples:
        test = parser.get_doctest(code, globs, f"README.md line {line}", str(README), line)
        test.globs = globs                  # one namespace for all blocks, as in one notebook
        assert test.examples, f"README.md line {line}: a pycon block with no >>> example"
        runner.run(test, clear_globs=False)
    assert runner.failures == 0, "a README example gives other output (see the report above)"
    assert (store_with_pairs / "corpus.tmx").read_text(encoding="utf-8").count("</tu>") >= 1


def test_module_docstring_examples_run():
    result = doctest.testmod(api, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 4 and result.failed == 0


def test_all_is_the_readme_list_and_every_name_is_documented():
    section, _ = readme_section()
    listed = re.search(r"names in `translate.__all__`.*?\n\n(.*?)\n\n", section, re.S).group(1)
    names = re.findall(r"`(\w+)`", listed)
    assert names == sorted(names)
    assert names == translate.__all__ == api.__all__
    for name in translate.__all__:
        member = getattr(translate, name)
        assert member is getattr(api, name)
        assert member.__doc__ and len(member.__doc__.strip()) > 20, f"{name} has no docstring"


def test_api_names_stay_bound_whatever_else_is_imported():
    """translate.score/segment/align are the API functions even after every stage module is imported
    (Python binds a submodule to its package attribute when it is first imported)."""
    code = ("import translate, importlib\n"
            "for name in ('pipeline', 'export', 'docalign', 'distributed', 'tm_import', 'review', 'cli'):\n"
            "    importlib.import_module('translate.' + name)\n"
            "from translate import score, segment, align\n"
            "import translate.api as api\n"
            "assert (score, segment, align) == (api.score, api.segment, api.align)\n"
            "assert importlib.import_module('translate.score').score_pair\n"
            "print('ok')\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.stdout.strip() == "ok", result.stderr


def test_no_module_reaches_a_stage_module_through_the_package():
    """`from . import score` (or `from translate import align`) would get the API function."""
    pattern = re.compile(r"^\s*(from\s+(\.|\.\.|translate)\s+import\s+.*\b(score|segment|align)\b"
                         r"|import\s+translate\.(score|segment|align)\s+as\s)", re.M)
    offenders = [f"{path.relative_to(ROOT)}: {m.group(0).strip()}"
                 for folder in ("translate", "bench", "tools", "tests")
                 for path in sorted((ROOT / folder).rglob("*.py"))
                 for m in pattern.finditer(path.read_text(encoding="utf-8"))
                 if path != ROOT / "translate" / "__init__.py"]     # binds the API names after the modules
    assert offenders == []


def test_score_batch_and_errors_are_translate_errors(tmp_path):
    scores = translate.score_batch([SOURCE, SOURCE], ["The writer was born in Cairo in 1950.", ""])
    assert [s.label for s in scores] == ["good", "bad"]
    assert "empty translation" in scores[1].reasons
    with pytest.raises(translate.Error, match="translations: 1 lines, but sources has 2"):
        translate.score_batch([SOURCE, SOURCE], ["one line"])
    with pytest.raises(TypeError):
        translate.score(SOURCE, None)
    with pytest.raises(translate.Error, match=str(tmp_path / "missing.sqlite")):
        translate.open_store(tmp_path / "missing.sqlite")
    not_a_store = tmp_path / "notes.sqlite"
    not_a_store.write_text("not a database", encoding="utf-8")
    with pytest.raises(translate.Error) as caught:
        translate.open_store(not_a_store)
    assert "\n" not in str(caught.value)
    with pytest.raises(translate.Error, match="unknown model 'no-such-model'"):
        translate.Translator("no-such-model")
    with pytest.raises(translate.Error, match="translations: 1 lines, but the Arabic side has 2 sentences"):
        translate.align("جملة أولى هنا. جملة ثانية هنا.", "One. Two.", translations=["One."])


def test_translator_refuses_a_string_and_work_after_close(monkeypatch, tmp_path):
    monkeypatch.setenv("TRANSLATE_MODELS_DIR", str(tmp_path))
    with translate.Translator() as mt:
        with pytest.raises(TypeError, match="translate_document"):
            mt.translate("مرحبا بكم.")
        assert mt.translate([]) == []
    with pytest.raises(translate.Error, match="closed"):
        mt.translate(["مرحبا بكم."])


def test_align_with_given_translations_bridges_the_languages():
    arabic = "وصل الرئيس إلى باريس. والتقى بنظيره الفرنسي."
    english = "He met his French counterpart."
    beads = translate.align(arabic, english, translations=["The president arrived in Paris.",
                                                           "He met his French counterpart."])
    linked = [(b.arabic, b.english) for b in beads if b.arabic and b.english]
    assert linked == [(("والتقى بنظيره الفرنسي.",), ("He met his French counterpart.",))]
    assert [b.arabic_index for b in beads if not b.english] == [(0,)]


def test_store_pairs_filter_and_join_as_export_does(store_with_pairs):
    with translate.open_store("aligned/corpus.sqlite") as corpus:
        every = list(corpus)
        assert [p["id"] for p in every] == sorted(p["id"] for p in every)
        assert {p["status"] for p in every} == {"pending"}
        assert list(corpus.pairs(status="approved")) == []
        assert list(corpus.pairs(min_score=1.01)) == []
        with pytest.raises(translate.Error, match="unknown status 'done'"):
            list(corpus.pairs(status="done"))
        jsonl = store_with_pairs / "pairs.jsonl"
        assert corpus.export(jsonl, format="jsonl") == len(every)
        with pytest.raises(translate.Error, match="unknown format"):
            corpus.export(store_with_pairs / "x.csv", format="csv")
    assert [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()] == every
    # the command line writes the same file
    result = run_cli("export", "--format", "jsonl", "-o", store_with_pairs / "cli.jsonl",
                     "--db", store_with_pairs / "aligned" / "corpus.sqlite")
    assert result.returncode == 0, result.stderr
    assert (store_with_pairs / "cli.jsonl").read_text(encoding="utf-8") == jsonl.read_text(encoding="utf-8")


def test_cli_segment_and_score_give_what_the_api_gives(tmp_path):
    text = "قال الوزير إن المحادثات ستستمر. وأضاف أن الوفد سيصل غدا.\nسطر ثان هنا."
    doc = tmp_path / "doc.txt"
    doc.write_text(text, encoding="utf-8")
    result = run_cli("segment", "--jsonl", doc)
    assert result.returncode == 0, result.stderr
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(p["text"], p["start"], p["end"], p["sentence"], p["part"]) for p in printed] == \
        [(s.text, s.start, s.end, s.sentence, s.part) for s in translate.segment(text)]

    sources = [SOURCE, "وصل الوفد إلى القاهرة. وبدأت المحادثات اليوم."]
    targets = ["The writer was born in Cairo.", "The delegation arrived in Cairo.Talks began today."]
    (tmp_path / "src.txt").write_text("\n".join(sources) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(targets) + "\n", encoding="utf-8")
    result = run_cli("score", "--src", tmp_path / "src.txt", "--hyp", tmp_path / "hyp.txt", "--jsonl")
    assert result.returncode == 0, result.stderr
    for line, expected in zip(result.stdout.splitlines(), translate.score_batch(sources, targets)):
        record = json.loads(line)
        assert (record.pop("score"), record.pop("label")) == (expected.score, expected.label)
        record.pop("line")
        assert record == expected.signals
    assert expected.signals["glued_sentences"] == 1 and expected.signals["omission"] == 0


def test_api_reference_is_generated_from_the_docstrings(tmp_path):
    """What `make docs` runs: pdoc documents every stable name, and no internal module."""
    pytest.importorskip("pdoc")
    result = subprocess.run([sys.executable, "-m", "pdoc", "translate", "!translate.", "-o", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    page = (tmp_path / "translate.html").read_text(encoding="utf-8")
    for name in translate.__all__:
        assert f'id="{name}"' in page, name
    assert not (tmp_path / "translate").exists()          # no page per internal module
