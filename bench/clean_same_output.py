"""Check that two versions of the code make the same training export of one store: the same pairs kept in
each part, the same pairs rejected with the same reasons and kept copies, the same report counts, and
(reported apart) whether the files are the same bytes. Run it after changing the speed of
translate.clean_export, against a checkout of the code before the change:

  .venv/bin/python bench/clean_same_output.py --before /path/to/old/checkout [--db STORE | --pairs 100000]

Without --db, a store of --pairs pairs is built as bench/clean_eval.py builds its scale store. Each export
is the one clean_eval.py times (every filter, exact dedup, the FLORES dev exclusion files, a 98/1/1 split,
--rejected), in JSONL; --format adds the same comparison for another format's kept ids (moses: .ids files).
Exit status 1 when anything differs.
"""
from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "bench"))

import clean_eval  # noqa: E402

PARTS = ("train", "dev", "test")


def export(root: Path, db: Path, folder: Path, data: Path, fmt: str) -> dict:
    folder.mkdir(parents=True)
    flores = data / "flores-dev"
    subprocess.run([sys.executable, "-m", "translate.cli", "export", "--db", str(db), "--clean", "--split",
                    "train=0.98,dev=0.01,test=0.01", "--exclude", str(flores / "flores-dev.ar"),
                    "--exclude", str(flores / "flores-dev.en"), "-f", fmt, "-o", str(folder / "corpus"),
                    "--rejected", str(folder / "rejected.jsonl")], cwd=root, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    manifest = json.loads((folder / "corpus.manifest.json").read_text(encoding="utf-8"))
    return manifest["counts"]


def kept_ids(folder: Path, fmt: str) -> dict[str, list[int]]:
    if fmt == "moses":
        return {p: [int(x) for x in (folder / f"corpus.{p}.ids").read_text().split()] for p in PARTS}
    return {p: [json.loads(line)["id"] for line in open(folder / f"corpus.{p}.jsonl", encoding="utf-8")]
            for p in PARTS}


def rejections(folder: Path) -> dict[int, tuple]:
    out = {}
    for line in open(folder / "rejected.jsonl", encoding="utf-8"):
        r = json.loads(line)
        out[r["id"]] = (r["rejected_by"], tuple(r["reasons"]), r.get("duplicate_of"))
    return out


def compare(before: Path, after: Path, fmt: str) -> list[str]:
    problems = []
    kept_before, kept_after = kept_ids(before, fmt), kept_ids(after, fmt)
    for part in PARTS:
        if kept_before[part] != kept_after[part]:
            a, b = set(kept_before[part]), set(kept_after[part])
            problems.append(f"{fmt} {part}: kept pairs differ ({len(a - b)} only before, {len(b - a)} only after)")
    rejected_before, rejected_after = rejections(before), rejections(after)
    if rejected_before.keys() != rejected_after.keys():
        problems.append(f"rejected pairs differ ({len(rejected_before.keys() - rejected_after.keys())} only before,"
                        f" {len(rejected_after.keys() - rejected_before.keys())} only after)")
    else:
        differing = [i for i in rejected_before if rejected_before[i] != rejected_after[i]]
        if differing:
            problems.append(f"{len(differing)} rejected pairs differ in reason or kept copy, e.g. id {differing[0]}")
    return problems


def same_bytes(before: Path, after: Path) -> dict[str, bool]:
    return {p.name: p.read_bytes() == (after / p.name).read_bytes()
            for p in sorted(before.iterdir()) if p.name != "corpus.manifest.json"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="checkout of the code before the change")
    parser.add_argument("--db", type=Path, help="store to export (default: build one of --pairs pairs)")
    parser.add_argument("--pairs", type=int, default=100_000)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--format", action="append", default=[], choices=["moses", "tsv", "tmx"],
                        help="also compare the kept ids of this format")
    args = parser.parse_args()
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="clean-same-") as tmp:
        work = Path(tmp)
        db = args.db
        if db is None:
            db = work / "store.sqlite"
            clean_eval.build_store(db, clean_eval.scale_documents(args.data_dir, args.pairs,
                                                                  random.Random(clean_eval.SEED)))
        counts = {}
        for fmt in ["jsonl", *args.format]:
            for name, root in (("before", args.before), ("after", REPO)):
                counts[fmt, name] = export(root, db, work / fmt / name, args.data_dir, fmt)
            if counts[fmt, "before"] != counts[fmt, "after"]:
                problems.append(f"{fmt}: report counts differ: {counts[fmt, 'before']} / {counts[fmt, 'after']}")
            if fmt in ("jsonl", "moses"):
                problems += compare(work / fmt / "before", work / fmt / "after", fmt)
        identical = same_bytes(work / "jsonl" / "before", work / "jsonl" / "after")
        report = counts["jsonl", "after"]
        print(json.dumps({"pairs_in": report["pairs_in"], "pairs_out": report["pairs_out"],
                          "rejected": report["pairs_in"] - report["pairs_out"], "out": report["out"],
                          "jsonl_files_identical": identical, "problems": problems}, indent=1))
    if problems:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
