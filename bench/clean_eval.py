"""Training exports (`translate export --clean`): precision and recall of each filter, of deduplication and of
decontamination against planted faults; the language identifier's accuracy on short sentences; and the speed
and peak memory of a full export of a large store against a plain JSONL export of the same store, in the
same run.

1. Planted faults. A base of clean pairs from open data (Tatoeba train and UD Arabic PUD, under
   ``--data-dir``; never a held-out test set), made unique by normalised key on each side, gets planted:
   copies differing only in diacritics, tatweel, alef / ya / ta marbuta forms or digit forms (English
   side changed in case and spacing); English sides in another language and Arabic sides in Persian
   (short sentences written for this bench, below); untranslated pairs (English = Arabic); swapped sides;
   Arabic words left in the English; numbers changed; and copies of FLORES-101 *dev* pairs (allowed for
   development) standing in for a test set, with diacritics or case changed. The originals of planted
   duplicates are marked approved, so the copy kept must be the original. The store is exported with
   `translate export --clean --exclude flores-dev.ar --exclude flores-dev.en --rejected ...` and the
   rejected file is compared with the plant list. A filter's precision counts as false positives the base
   pairs it flags; its recall, the planted pairs it flags (first or not).
2. Language identifier: accuracy of translate.langid on Tatoeba dev and FLORES dev sentences (all, and
   those of 5 words or fewer) and how many of them the language filters would reject; throughput; the
   same for lingua-language-detector when it is installed (the alternative measured before choosing).
3. Scale: a store of ``--pairs`` pairs (default 1,000,000; 100 pairs a document) built with executemany
   (the full-text search triggers are dropped first: an export never reads that index, and feeding it
   would take most of the build time), exported plainly (`-f jsonl`) and with every filter, exact dedup,
   two exclusion files and a 98/1/1 split (in turns, twice, best of each); pairs/s of both, the ratio
   (goal >= 0.5), the CPU seconds of each (the export and its worker processes: less sensitive to the
   load of other jobs than wall time) and the peak RSS of
   each export process (goal <= 1 GB); then the split check on the output: no document and no
   normalised sentence in two parts. ``--near`` adds a run with --dedup near.

  .venv/bin/python bench/clean_eval.py [--data-dir ../shared/data] [--pairs 1000000] [--near]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import resource
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from translate import langid  # noqa: E402
from translate.clean import numbers  # noqa: E402
from translate.store import Store, now, text_hash  # noqa: E402
from translate.textkey import normalise  # noqa: E402

SEED = 11
PER_KIND = 200
# written for this bench: English sides in other languages, and Arabic-script sides in Persian and Urdu
FOREIGN = [
    "Je voudrais réserver une table pour deux personnes ce soir.", "Le train part de la gare à huit heures.",
    "Nous avons visité le musée pendant les vacances.", "Il fait très froid dans cette ville en hiver.",
    "Ich habe heute Morgen keinen Kaffee getrunken.", "Die Kinder spielen im Garten hinter dem Haus.",
    "Wir fahren am Wochenende zu unseren Großeltern.", "Kannst du mir bitte das Salz reichen?",
    "El mercado abre todos los días a las nueve.", "Mi hermana trabaja en un hospital de la ciudad.",
    "No tengo tiempo para leer el periódico hoy.", "¿Dónde está la estación de autobuses más cercana?",
    "Oggi il tempo è bello e andiamo al mare.", "La biblioteca è chiusa la domenica pomeriggio.",
    "O meu irmão mora numa casa perto do rio.", "Ela comprou frutas frescas no mercado ontem.",
    "Bugün hava çok güzel, parka gidelim mi?", "Kardeşim üniversitede tıp okuyor.",
    "Saya suka minum teh hangat di pagi hari.", "Mereka pergi ke pasar untuk membeli sayur.",
    "De kinderen fietsen elke dag naar school.", "Mijn moeder kookt vanavond een lekkere soep.",
]
PERSIAN = [
    "من هر روز صبح با اتوبوس به دانشگاه می‌روم.", "این کتاب را برادرم به من هدیه داد.",
    "هوای امروز خیلی سرد است و برف می‌بارد.", "ما تابستان گذشته به شیراز سفر کردیم.",
    "لطفا پنجره را ببندید چون باد می‌آید.", "بچه‌ها در پارک نزدیک خانه بازی می‌کنند.",
    "میں ہر روز صبح سویرے اٹھ کر چائے پیتا ہوں۔", "ہمارے گاؤں میں ایک بڑا اسکول ہے۔",
]
HARAKAT = "\u064e\u064f\u0650\u0652\u0651"


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def base_pairs(data: Path) -> list[tuple[str, str]]:
    """Clean pairs, unique by the normalised key of each side, none from FLORES dev."""
    pairs = list(zip(read_lines(data / "tatoeba-train" / "Tatoeba.ar-en.ar"),
                     read_lines(data / "tatoeba-train" / "Tatoeba.ar-en.en")))
    pud = data / "ud-arabic-pud" / "ar_pud_parallel.tsv"
    if pud.is_file():
        pairs += [tuple(line.split("\t")[1:3]) for line in read_lines(pud)[1:] if line.count("\t") >= 2]
    flores = {normalise(s) for s in read_lines(data / "flores-dev" / "flores-dev.ar")
              + read_lines(data / "flores-dev" / "flores-dev.en")}
    seen_ar, seen_en, out = set(), set(), []
    for ar, en in pairs:
        ka, ke = normalise(ar), normalise(en)
        if ka and ke and ka not in seen_ar and ke not in seen_en and ka not in flores and ke not in flores:
            seen_ar.add(ka)
            seen_en.add(ke)
            out.append((ar.strip(), en.strip()))
    return out


# -- planted variants ----------------------------------------------------------------------------
def with_diacritics(text: str, rng: random.Random) -> str:
    return "".join(c + (rng.choice(HARAKAT) if "\u0621" <= c <= "\u064a" and rng.random() < 0.5 else "")
                   for c in text)


def with_tatweel(text: str, rng: random.Random) -> str:
    return re.sub("([بتثجحخسشصضطظعغفقكلمنهي])(?=[\u0621-\u064a])",
                  lambda m: m.group(1) + ("\u0640" * rng.randint(1, 3) if rng.random() < 0.4 else ""), text)


def with_letter_forms(text: str, rng: random.Random) -> str:
    text = re.sub(r"(^|\s)ا", lambda m: m.group(1) + rng.choice("أإا"), text)
    text = re.sub(r"(^|\s)أ", lambda m: m.group(1) + "ا", text)
    return re.sub(r"ة\b", "ه", re.sub(r"ي\b", "ى", text))


def with_other_digits(text: str) -> str:
    if re.search("[0-9]", text):
        return text.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    return text.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))


def english_variant(text: str, rng: random.Random) -> str:
    text = text.lower() if rng.random() < 0.5 else text.upper()
    return text.replace(" ", "  ", 1).rstrip(".!?") + rng.choice(["", " .", "!"])


def change_a_number(text: str) -> str:
    return re.sub(r"\d+", lambda m: str(int(m.group()) + 1), text, count=1)


def planted_corpus(data: Path, rng: random.Random) -> tuple[list[dict], dict[str, set[int]]]:
    """Rows (id, document, ar, en, status, score) and the ids planted for each fault kind."""
    base = base_pairs(data)
    rng.shuffle(base)
    rows: list[dict] = []
    plants: dict[str, set[int]] = {}

    def add(ar: str, en: str, kind: str | None, status: str = "pending") -> int:
        rows.append({"id": len(rows) + 1, "ar": ar, "en": en, "status": status, "score": rng.random()})
        if kind:
            plants.setdefault(kind, set()).add(len(rows))
        return len(rows)

    for ar, en in base:
        add(ar, en, "base")
    originals = rng.sample(range(len(base)), 4 * PER_KIND)
    with_digits = [i for i, (ar, en) in enumerate(base) if re.search("[0-9٠-٩]", ar)
                   and numbers(ar) and numbers(ar) == numbers(en)]
    for k, variant in enumerate((with_diacritics, with_tatweel, with_letter_forms)):
        for i in originals[k * PER_KIND:(k + 1) * PER_KIND]:
            rows[i]["status"] = "approved"
            ar, en = base[i]
            add(variant(ar, rng), english_variant(en, rng), f"duplicate:{variant.__name__}")
    digit_originals = rng.sample(with_digits, min(PER_KIND, len(with_digits)))
    for i in digit_originals:
        rows[i]["status"] = "approved"
        ar, en = base[i]
        add(with_other_digits(ar), english_variant(en, rng), "duplicate:with_other_digits")
    others = originals[3 * PER_KIND:]
    for n, i in enumerate(others[:PER_KIND // 2]):
        add(base[i][0] + " " + base[(i + 1) % len(base)][0], FOREIGN[n % len(FOREIGN)] + f" {n}", "target-language")
    for n in range(PER_KIND // 4):
        add(PERSIAN[n % len(PERSIAN)] + f" {n}", base[others[n]][1], "source-language")
    unused = [i for i in range(len(base)) if i not in set(originals) and i not in set(with_digits)]
    picks = iter(rng.sample(unused, 5 * PER_KIND))
    for _ in range(PER_KIND):
        ar = base[next(picks)][0]
        add(ar, ar, "untranslated")
    for _ in range(PER_KIND):
        ar, en = base[next(picks)]
        add(en, ar + " " + en, "source-script")
    for _ in range(PER_KIND):
        ar, en = base[next(picks)]
        words = en.split()
        words[len(words) // 2] = ar.split()[0]
        add(ar, " ".join(words), "target-script")
    for _ in range(PER_KIND):                   # misaligned: the English of four other pairs
        ar = base[next(picks)][0]
        add(ar, " ".join(base[next(picks) if k == 0 else rng.randrange(len(base))][1] for k in range(4)), "ratio")
    taken = set(originals) | set(digit_originals)
    changed = [i for i, (ar, en) in enumerate(base) if numbers(ar) and numbers(ar) == numbers(en) and i not in taken]
    for i in rng.sample(changed, min(PER_KIND, len(changed))):
        ar, en = base[i]
        rows[i]["en"] = change_a_number(en)
        plants["base"].discard(i + 1)
        plants.setdefault("numbers", set()).add(i + 1)
    flores = list(zip(read_lines(data / "flores-dev" / "flores-dev.ar"), read_lines(data / "flores-dev" / "flores-dev.en")))
    for ar, en in rng.sample(flores, PER_KIND):
        add(with_diacritics(ar, rng) if rng.random() < 0.5 else ar, english_variant(en, rng), "test-set")
    order = list(range(len(rows)))
    rng.shuffle(order)                            # planted rows spread over the documents
    for position, index in enumerate(order):
        rows[index]["document"] = position // 100
    return rows, plants


# -- stores ----------------------------------------------------------------------------------------
def build_store(path: Path, documents: Iterable[list[dict]]) -> None:
    """A store with the real schema (``Store``), filled by executemany: one document per list of rows."""
    Store(path).close()
    con = sqlite3.connect(path)
    con.execute("PRAGMA synchronous=OFF")
    for trigger in ("pair_search_add", "pair_search_edit", "pair_search_undo", "pair_search_remove"):
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    created = now()
    with con:
        con.execute("INSERT INTO models (id, name, weights_sha256) VALUES (1, 'bench-model', ?)", ("0" * 64,))
        con.execute("INSERT INTO runs (id, kind, model_id, options, started_at, status) VALUES (1, 'align', 1, '{}',"
                    " ?, 'done')", (created,))
        for number, rows in enumerate(documents, 1):
            segments, translations, scores, start, lines = [], [], [], 0, []
            for position, row in enumerate(rows):
                ar = row["ar"].replace("\n", " ")
                lines.append(ar)
                segments.append((row["id"], number, position, start, start + len(ar), position, ar, text_hash(ar)))
                start += len(ar) + 1
                translations.append((row["id"], row["id"], row["en"], row["status"], created))
                score = row["score"]
                scores.append((row["id"], score, "good" if score >= 0.7 else "check" if score >= 0.4 else "bad"))
            text = "\n".join(lines)
            con.execute("INSERT INTO documents (id, sha256, path, text, lang, added_at) VALUES (?,?,?,?,?,?)",
                        (number, hashlib.sha256(text.encode()).hexdigest(), f"news/{number:06d}.txt", text, "ar",
                         created))
            con.executemany("INSERT INTO segments (id, document_id, position, start, end, sentence, part, text,"
                            " text_hash) VALUES (?,?,?,?,?,?,0,?,?)", segments)
            con.executemany("INSERT INTO translations (id, segment_id, model_id, run_id, origin, text, status,"
                            " created_at) VALUES (?,?,1,1,'human',?,?,?)", translations)
            con.executemany("INSERT INTO scores (translation_id, score, label, signals) VALUES (?,?,?,'{}')", scores)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()


def _kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except (OSError, ValueError):
        return []


def timed_export(*args) -> tuple[float, int, str, float]:
    """Seconds and peak memory (bytes) of one `translate export` process and its worker processes: the
    largest sum of their resident sizes, read every 0.1 s (and the export's own VmHWM, if larger).
    getrusage would also count the memory of this process, which a child shares between fork and exec.
    Also the CPU seconds of the export and its workers (user + system): on a machine shared with other
    jobs, wall time depends on their load, CPU time much less."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "translate.cli", "export", *map(str, args)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    stderr_chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: stderr_chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    while proc.poll() is None:
        total = _kib(proc.pid, "VmRSS") + sum(_kib(child, "VmRSS") for child in _children(proc.pid))
        peak = max(peak, total * 1024, _kib(proc.pid, "VmHWM") * 1024)
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    reader.join()
    stderr = b"".join(stderr_chunks).decode()
    if proc.returncode:
        raise SystemExit(f"error: export {' '.join(map(str, args))} failed: {stderr.strip()}")
    return seconds, peak, stderr, _children_cpu() - cpu_before


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# -- 1. planted faults -------------------------------------------------------------------------------
def planted_eval(data: Path, work: Path) -> dict:
    rng = random.Random(SEED)
    rows, plants = planted_corpus(data, rng)
    documents: dict[int, list[dict]] = {}
    for row in rows:
        documents.setdefault(row["document"], []).append(row)
    db = work / "planted.sqlite"
    build_store(db, [documents[k] for k in sorted(documents)])
    out, rejected = work / "planted.jsonl", work / "planted.rejected.jsonl"
    seconds, _, stderr, _ = timed_export("--db", db, "--clean", "-f", "jsonl", "-o", out, "--rejected", rejected,
                                      "--exclude", data / "flores-dev" / "flores-dev.ar",
                                      "--exclude", data / "flores-dev" / "flores-dev.en")
    removed = {r["id"]: r for r in map(json.loads, rejected.read_text(encoding="utf-8").splitlines())}
    kept = {json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()}
    base = plants["base"]
    results: dict = {"pairs": len(rows), "base_pairs": len(base), "planted": {k: len(v) for k, v in plants.items()
                                                                             if k != "base"}}

    def scores(name: str, planted: set[int], flagged: set[int]) -> dict:
        tp, fp = len(planted & flagged), len(base & flagged)
        return {"planted": len(planted), "found": tp, "false_positives_in_base": fp,
                "precision": round(tp / (tp + fp), 4) if tp + fp else None,
                "recall": round(tp / len(planted), 4) if planted else None}

    filters = {}
    for name in ("target-language", "source-language", "untranslated", "source-script", "target-script", "ratio",
                 "numbers"):
        flagged = {i for i, r in removed.items() if name in r["reasons"]}
        filters[name] = scores(name, plants[name], flagged)
    for name in ("status", "empty", "markup-only", "length", "score", "label"):
        flagged = {i for i, r in removed.items() if name in r["reasons"]}
        filters[name] = {"base_pairs_flagged": len(base & flagged)}
    results["filters"] = filters
    planted_duplicates = set().union(*(v for k, v in plants.items() if k.startswith("duplicate:")))
    as_duplicate = {i for i, r in removed.items() if r["rejected_by"] == "duplicate"}
    results["dedup"] = {**scores("duplicate", planted_duplicates, as_duplicate),
                        "false_positives_all": len(as_duplicate - planted_duplicates),
                        "per_kind_recall": {k.split(":")[1]: round(len(v & as_duplicate) / len(v), 4)
                                            for k, v in plants.items() if k.startswith("duplicate:")},
                        "approved_original_kept": round(
                            sum(1 for r in rows if r["status"] == "approved" and r["id"] in kept)
                            / max(1, sum(1 for r in rows if r["status"] == "approved")), 4)}
    excluded = {i for i, r in removed.items() if r["rejected_by"].startswith("excluded:")}
    results["decontamination"] = {**scores("excluded", plants["test-set"], excluded),
                                  "false_positives_all": len(excluded - plants["test-set"]),
                                  "test_set_pairs_exported": len(plants["test-set"] & kept)}
    results["export_seconds"] = round(seconds, 2)
    results["report"] = stderr.strip().splitlines()
    return results


# -- 2. language identifier ----------------------------------------------------------------------------
def langid_eval(data: Path) -> dict:
    sets = {"ar": read_lines(data / "tatoeba-dev" / "tatoeba-dev.ara") + read_lines(data / "flores-dev" / "flores-dev.ar"),
            "en": read_lines(data / "tatoeba-dev" / "tatoeba-dev.eng") + read_lines(data / "flores-dev" / "flores-dev.en")}
    out: dict = {}
    langid.identify("warm up: load the model before timing")
    for lang, sentences in sets.items():
        short = [s for s in sentences if len(s.split()) <= 5]
        started = time.perf_counter()
        guesses = [langid.identify(s) for s in sentences]
        rate = len(sentences) / (time.perf_counter() - started)
        short_guesses = [langid.identify(s) for s in short]
        rejected = sum(1 for s in sentences if langid.letters(s) >= langid.MIN_LETTERS
                       and langid.is_other_language(s, lang, 0.9))
        out[lang] = {"sentences": len(sentences), "accuracy": round(sum(g == lang for g, _ in guesses) / len(sentences), 4),
                     "short_sentences": len(short),
                     "short_accuracy": round(sum(g == lang for g, _ in short_guesses) / len(short), 4),
                     "wrongly_rejected_by_filter": rejected, "sentences_per_s": round(rate)}
    out["foreign_detected"] = {"en_side_other_languages": round(sum(langid.is_other_language(s, "en", 0.9) for s in FOREIGN)
                                                                / len(FOREIGN), 4),
                               "ar_side_persian_urdu": round(sum(langid.is_other_language(s, "ar", 0.9) for s in PERSIAN)
                                                             / len(PERSIAN), 4)}
    out["heliport"] = heliport_eval(sets)
    try:
        from lingua import Language, LanguageDetectorBuilder
    except ImportError:
        return out
    detector = LanguageDetectorBuilder.from_languages(
        Language.ARABIC, Language.PERSIAN, Language.URDU, Language.ENGLISH, Language.FRENCH, Language.GERMAN,
        Language.SPANISH, Language.ITALIAN, Language.PORTUGUESE, Language.DUTCH, Language.TURKISH,
        Language.INDONESIAN, Language.SWAHILI).build()
    lingua = {}
    for lang, target in (("ar", Language.ARABIC), ("en", Language.ENGLISH)):
        started = time.perf_counter()
        found = [detector.detect_language_of(s) for s in sets[lang]]
        lingua[lang] = {"accuracy": round(sum(f == target for f in found) / len(found), 4),
                        "sentences_per_s": round(len(found) / (time.perf_counter() - started))}
    out["lingua"] = lingua
    return out


def heliport_eval(sets: dict[str, list[str]]) -> dict | None:
    """heliport (all its languages; it cannot be restricted): right answers, and sentences it puts in another
    language (not 'und', its "not sure"), which a filter on it would reject."""
    try:
        import heliport
    except ImportError:
        return None
    identifier = heliport.Identifier()
    out = {}
    for lang, code in (("ar", "ara"), ("en", "eng")):
        started = time.perf_counter()
        found = [identifier.identify(s) for s in sets[lang]]
        out[lang] = {"accuracy": round(sum(f == code for f in found) / len(found), 4),
                     "other_language": sum(f not in (code, "und") for f in found),
                     "sentences_per_s": round(len(found) / (time.perf_counter() - started))}
    return out


# -- 3. scale ------------------------------------------------------------------------------------------
def scale_documents(data: Path, pairs: int, rng: random.Random) -> Iterator[list[dict]]:
    """``pairs`` pairs, 100 a document: two base pairs joined (almost all distinct), 3 % exact copies of an
    earlier pair, 1 % untranslated, 1 % reviewed. A generator: the bench process stays small, so the
    export processes it starts (forked from it) report their own peak memory, not the bench's."""
    base = base_pairs(data)
    row_id, earlier = 0, []
    for doc in range(pairs // 100):
        rows = []
        for _ in range(100):
            row_id += 1
            roll = rng.random()
            if roll < 0.03 and earlier:
                ar, en = rng.choice(earlier)
            else:
                (a1, e1), (a2, e2) = rng.choice(base), rng.choice(base)
                ar, en = f"{a1} {a2}", f"{e1} {e2}"
                if roll > 0.99:
                    en = ar
                if len(earlier) < 20000:
                    earlier.append((ar, en))
            rows.append({"id": row_id, "ar": ar, "en": en, "score": rng.random(),
                         "status": "approved" if rng.random() < 0.01 else "pending"})
        yield rows


def split_check(parts: dict[str, Path]) -> dict:
    documents: dict[str, set] = {}
    sentences: dict[str, set] = {}
    for name, path in parts.items():
        documents[name], sentences[name] = set(), set()
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                documents[name].add(record["document"])
                sentences[name].add(normalise(record["source"]))
                sentences[name].add(normalise(record["target"]))
    names = list(parts)
    shared_docs = sum(len(documents[a] & documents[b]) for i, a in enumerate(names) for b in names[i + 1:])
    shared_sentences = sum(len(sentences[a] & sentences[b]) for i, a in enumerate(names) for b in names[i + 1:])
    return {"documents_in_two_parts": shared_docs, "sentences_in_two_parts": shared_sentences,
            "documents_per_part": {n: len(d) for n, d in documents.items()}}


def scale_eval(data: Path, work: Path, pairs: int, near: bool) -> dict:
    rng = random.Random(SEED)
    started = time.perf_counter()
    db = work / "scale.sqlite"
    build_store(db, scale_documents(data, pairs, rng))
    out: dict = {"pairs": pairs, "build_seconds": round(time.perf_counter() - started, 1),
                 "store_bytes": db.stat().st_size}
    full_dir = work / "full"
    full_dir.mkdir()
    exclude = ["--exclude", data / "flores-dev" / "flores-dev.ar", "--exclude", data / "flores-dev" / "flores-dev.en"]
    plain_runs, full_runs = [], []
    for _ in range(2):       # in turns, best of two each: load from other jobs falls on both alike
        plain_runs.append(timed_export("--db", db, "-f", "jsonl", "-o", work / "plain.jsonl"))
        full_runs.append(timed_export("--db", db, "--clean", "--split", "train=0.98,dev=0.01,test=0.01", *exclude,
                                      "-f", "jsonl", "-o", full_dir / "corpus.jsonl",
                                      "--rejected", full_dir / "rejected.jsonl", "--force"))
    plain_s, plain_rss, _, _ = min(plain_runs)
    full_s, full_rss, report, _ = min(full_runs)
    out["plain_jsonl"] = {"seconds": [round(r[0], 1) for r in plain_runs], "pairs_per_s": round(pairs / plain_s),
                          "cpu_seconds": [round(r[3], 1) for r in plain_runs],
                          "peak_rss_mb": round(max(r[1] for r in plain_runs) / 2**20)}
    out["full_clean_split"] = {"seconds": [round(r[0], 1) for r in full_runs], "pairs_per_s": round(pairs / full_s),
                               "cpu_seconds": [round(r[3], 1) for r in full_runs],
                               "peak_rss_mb": round(max(r[1] for r in full_runs) / 2**20),
                               "report": report.strip().splitlines()}
    out["speed_ratio_full_vs_plain"] = round(plain_s / full_s, 3)
    # with the CPU seconds of both: what the ratio would be if the full export's work were done on one core
    out["cpu_ratio_full_vs_plain"] = round(min(r[3] for r in plain_runs) / min(r[3] for r in full_runs), 3)
    out["split_check"] = split_check({p: full_dir / f"corpus.{p}.jsonl" for p in ("train", "dev", "test")})
    for path in (work / "plain.jsonl", *full_dir.iterdir()):
        path.unlink()
    if near:
        near_s, near_rss, report, _ = timed_export("--db", db, "--clean", "--dedup", "near", "--split",
                                                "train=0.98,dev=0.01,test=0.01", *exclude, "-f", "jsonl",
                                                "-o", full_dir / "corpus.jsonl")
        out["split_check_near"] = split_check({p: full_dir / f"corpus.{p}.jsonl" for p in ("train", "dev", "test")})
        out["full_near_dedup"] = {"seconds": round(near_s, 1), "pairs_per_s": round(pairs / near_s),
                                  "peak_rss_mb": round(near_rss / 2**20), "report": report.strip().splitlines()}
        out["speed_ratio_near_vs_plain"] = round(plain_s / near_s, 3)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--near", action="store_true", help="also time --dedup near at scale")
    parser.add_argument("--skip", choices=["planted", "langid", "scale"], action="append", default=[])
    args = parser.parse_args()
    if not (args.data_dir / "tatoeba-train").is_dir():
        raise SystemExit(f"error: {args.data_dir}: no tatoeba-train/ (the open data this bench plants faults in)")
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="clean-eval-") as tmp:
        work = Path(tmp)
        if "langid" not in args.skip:
            results["langid"] = langid_eval(args.data_dir)
            print(json.dumps({"langid": results["langid"]}, ensure_ascii=False, indent=1), flush=True)
        if "planted" not in args.skip:
            results["planted"] = planted_eval(args.data_dir, work)
            print(json.dumps({"planted": results["planted"]}, ensure_ascii=False, indent=1), flush=True)
        if "scale" not in args.skip:
            results["scale"] = scale_eval(args.data_dir, work, args.pairs, args.near)
            print(json.dumps({"scale": results["scale"]}, ensure_ascii=False, indent=1), flush=True)


if __name__ == "__main__":
    main()
