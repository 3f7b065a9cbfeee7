"""How often encoding detection reads a non-UTF-8 Arabic file right, wrongly (mojibake), or refuses it.

Every FLORES dev sentence (one file each) and every FLORES dev document (its sentences joined) is
encoded in each single-byte Arabic encoding and decoded by `translate.inputs.decode_bytes` without
--encoding; so are Tatoeba dev sentences (short everyday lines). "wrong" must stay 0: a refused file
costs the user an --encoding, a wrong one stores mojibake.

    python bench/encoding_eval.py [--data-dir ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from translate.inputs import InputError, decode_bytes  # noqa: E402

ENCODINGS = ("cp1256", "iso8859_6", "cp720")


def flores_documents(data_dir: Path) -> list[str]:
    """The FLORES dev documents, their Arabic sentences one per line."""
    path = data_dir / "flores-dev" / "flores-dev.docs.jsonl"
    return ["\n".join(json.loads(line)["ar"]) for line in path.read_text(encoding="utf-8").splitlines()]


def evaluate(texts: list[str], encoding: str) -> dict[str, int]:
    counts = {"right": 0, "wrong": 0, "refused": 0, "not encodable": 0}
    for text in texts:
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            counts["not encodable"] += 1
            continue
        try:
            counts["right" if decode_bytes(data, "sample") == text else "wrong"] += 1
        except InputError:
            counts["refused"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    sets = {
        "FLORES dev sentences": (args.data_dir / "flores-dev" / "flores-dev.ar").read_text(
            encoding="utf-8").splitlines(),
        "FLORES dev documents": flores_documents(args.data_dir),
        "Tatoeba dev sentences": (args.data_dir / "tatoeba-dev" / "tatoeba-dev.ara").read_text(
            encoding="utf-8").splitlines(),
    }
    for name, texts in sets.items():
        mean = sum(map(len, texts)) / len(texts)
        for encoding in ENCODINGS:
            counts = evaluate(texts, encoding)
            print(f"{name} ({len(texts)}, mean {mean:.0f} chars) as {encoding}: "
                  + ", ".join(f"{k} {v}" for k, v in counts.items()))


if __name__ == "__main__":
    main()
