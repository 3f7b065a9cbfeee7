"""Import existing translation memories into the store: TMX 1.4, TSV and our own JSONL.

The whole file is read and checked before anything is written, so a malformed file (bad XML, a TMX
structure the TMX 1.4 DTD does not allow, a broken JSON line, no Arabic–English pairs) is refused with
one line naming the file and line, and nothing of it is stored. The pairs then go into the store as one
document per file (the Arabic segments joined by newlines), one segment per pair, and one translation
per pair with origin ``imported``, scored like any pair; a file imported again adds nothing.

TMX: any ``srclang``; the Arabic and English variants are found by ``xml:lang`` (``ar``, ``ar-EG``...,
``en``, ``en-US``...); inline markup inside ``<seg>`` (``bpt ept it ph ut hi sub``) is kept as text,
i.e. the native codes it carries (``<b>``) stay in the segment text; ``<prop>`` and ``<note>`` of the
unit, ``tuid`` and ``creationdate`` are kept in the pair's signals under ``props``. The structure is
checked against the rules of the TMX 1.4 DTD (elements, their order and required attributes) with the
standard library's expat parser; the DTD itself is not needed.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from .store import NewSegment, Store

FORMATS = ("tmx", "tsv", "jsonl")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")


class TMImportError(Exception):
    """A translation memory that cannot be imported; the message names the file (and line)."""


@dataclass
class TMPair:
    source: str                 # Arabic
    target: str                 # English
    line: int
    props: dict = field(default_factory=dict)


# -- TMX ----------------------------------------------------------------------------------------
# what the TMX 1.4 DTD allows inside each element (None: text only), and the attributes it requires
_INLINE = {"bpt", "ept", "it", "ph", "hi", "ut"}
_CHILDREN = {
    "tmx": {"header", "body"}, "header": {"note", "ude", "prop"}, "ude": {"map"}, "map": set(),
    "body": {"tu"}, "tu": {"note", "prop", "tuv"}, "tuv": {"note", "prop", "seg"},
    "seg": _INLINE, "hi": _INLINE, "sub": _INLINE,
    "bpt": {"sub"}, "ept": {"sub"}, "it": {"sub"}, "ph": {"sub"}, "ut": {"sub"},
    "prop": set(), "note": set(),
}
_MIXED = {"seg", "hi", "sub", "bpt", "ept", "it", "ph", "ut", "prop", "note"}     # elements that hold text
_REQUIRED = {
    "tmx": ("version",), "header": ("creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang",
                                    "srclang", "datatype"),
    "prop": ("type",), "ude": ("name",), "map": ("unicode",), "bpt": ("i",), "ept": ("i",), "it": ("pos",),
}


def _language(attrs: dict) -> str:
    return (attrs.get("xml:lang") or attrs.get("lang") or "").strip().lower()


def _is(lang: str, code: str) -> bool:
    return lang == code or lang.startswith(code + "-") or lang.startswith(code + "_")


def read_tmx(path: Path) -> list[TMPair]:
    parser = expat.ParserCreate()
    pairs: list[TMPair] = []
    languages: set[str] = set()
    stack: list[str] = []
    state: dict = {}

    def fail(problem: str) -> None:
        raise TMImportError(f"{path}: line {parser.CurrentLineNumber}: {problem}")

    def start(name: str, attrs: dict) -> None:
        parent = stack[-1] if stack else None
        if parent is None and name != "tmx":
            fail(f"root element is <{name}>, not <tmx>")
        if parent is not None and name not in _CHILDREN.get(parent, set()):
            fail(f"<{name}> is not allowed inside <{parent}> (TMX 1.4)")
        for attribute in _REQUIRED.get(name, ()):
            if attribute not in attrs:
                fail(f"<{name}> lacks the required attribute {attribute!r}")
        if name == "body" and "header" not in state:
            fail("<body> before <header>")
        if name == "tu":
            state["tu"] = {"line": parser.CurrentLineNumber, "tuvs": [], "props": {}, "seen_tuv": False}
            for key in ("tuid", "creationdate", "srclang"):
                if key in attrs:
                    state["tu"]["props"][key] = attrs[key]
        elif name == "tuv":
            lang = _language(attrs)
            if not lang:
                fail("<tuv> lacks xml:lang")
            state["tu"]["seen_tuv"] = True
            state["tuv"] = {"lang": lang, "seg": None}
        elif name in ("prop", "note") and parent in ("tu", "tuv"):
            if parent == "tu" and state["tu"]["seen_tuv"]:
                fail(f"<{name}> after <tuv> (TMX 1.4 puts notes and props first)")
            state["text"] = []
            state["prop_type"] = attrs.get("type", "note")
        elif name == "seg":
            if state["tuv"]["seg"] is not None:
                fail("a second <seg> in one <tuv>")
            state["seg"] = []
        if name == "header":
            state["header"] = True
        stack.append(name)

    def end(name: str) -> None:
        stack.pop()
        parent = stack[-1] if stack else None
        if name == "seg":
            state["tuv"]["seg"] = "".join(state.pop("seg"))
        elif name == "tuv":
            tuv = state.pop("tuv")
            if tuv["seg"] is None:
                fail("<tuv> without <seg>")
            languages.add(tuv["lang"])
            state["tu"]["tuvs"].append((tuv["lang"], tuv["seg"]))
        elif name in ("prop", "note") and parent in ("tu", "tuv"):
            text = "".join(state.pop("text"))
            key = state.pop("prop_type") if parent == "tu" else f"{state['tuv']['lang']}:{state.pop('prop_type')}"
            props = state["tu"]["props"]
            props[key] = text if key not in props else f"{props[key]}\n{text}"
        elif name == "tu":
            tu = state.pop("tu")
            if not tu["tuvs"]:
                fail("<tu> without <tuv>")
            arabic = next((seg for lang, seg in tu["tuvs"] if _is(lang, "ar")), None)
            english = next((seg for lang, seg in tu["tuvs"] if _is(lang, "en")), None)
            if arabic is not None and english is not None:
                pairs.append(TMPair(arabic, english, tu["line"], tu["props"]))

    def characters(data: str) -> None:
        if "seg" in state:
            state["seg"].append(data)
        elif "text" in state:
            state["text"].append(data)
        elif stack and stack[-1] not in _MIXED and data.strip():
            fail(f"text directly inside <{stack[-1]}>")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    parser.buffer_text = True
    try:
        with open(path, "rb") as fh:
            parser.ParseFile(fh)
    except expat.ExpatError as exc:
        raise TMImportError(f"{path}: line {exc.lineno}: not well-formed XML ({expat.errors.messages[exc.code]})") \
            from None
    except OSError as exc:
        raise TMImportError(f"{path}: cannot read ({exc.strerror})") from None
    if not pairs:
        found = ", ".join(sorted(languages)) or "none"
        raise TMImportError(f"{path}: no translation unit with both Arabic and English (languages found: {found})")
    return pairs


# -- TSV and JSONL ------------------------------------------------------------------------------
_OUR_TSV_HEADER = ["id", "document", "start", "end", "source", "target", "model", "status", "score"]
_TSV_ESCAPES = re.compile(r"\\([\\tnr])")


def _unescape(field: str) -> str:
    return _TSV_ESCAPES.sub(lambda m: {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}[m.group(1)], field)


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise TMImportError(f"{path}: cannot read ({exc.strerror})") from None
    except UnicodeDecodeError as exc:
        raise TMImportError(f"{path}: not valid UTF-8 (byte offset {exc.start})") from None


def read_tsv(path: Path) -> list[TMPair]:
    """Our own export (header ``id document start end source target ...``, escaped fields), a file
    with a header naming ``ar``/``en`` or ``source``/``target`` columns, or two columns: Arabic, English."""
    lines = _read_text(path).split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    header = [h.strip().lower() for h in lines[0].rstrip("\r").split("\t")] if lines else []
    # our own export escapes tab, newline, return and backslash (its header starts id, document, ...)
    escaped = header[:2] == _OUR_TSV_HEADER[:2] and "source" in header and "target" in header
    names = {"ar": "source", "en": "target"}
    columns = [names.get(h, h) for h in header]
    if "source" in columns and "target" in columns:
        body, first = lines[1:], 2
    else:
        columns, body, first = ["source", "target"], lines, 1
    pairs = []
    for number, line in enumerate(body, first):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) != len(columns):
            raise TMImportError(f"{path}: line {number}: {len(fields)} tab-separated fields, expected {len(columns)}")
        row = dict(zip(columns, (_unescape(f) if escaped else f for f in fields)))
        props = {k: v for k, v in row.items() if k not in ("source", "target") and v != ""}
        pairs.append(TMPair(row["source"], row["target"], number, props))
    return pairs


def read_jsonl(path: Path) -> list[TMPair]:
    """One object per line with ``source``/``target`` (our export) or ``ar``/``en``; other keys are props."""
    pairs = []
    for number, line in enumerate(_read_text(path).split("\n"), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise TMImportError(f"{path}: line {number}: not valid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise TMImportError(f"{path}: line {number}: expected a JSON object")
        source = record.get("source", record.get("ar"))
        target = record.get("target", record.get("en"))
        if not isinstance(source, str) or not isinstance(target, str):
            raise TMImportError(f"{path}: line {number}: needs text fields source and target (or ar and en)")
        # our own export's signals are not carried over: the pair is scored again on import
        props = {k: v for k, v in record.items() if k not in ("source", "target", "ar", "en", "signals")}
        pairs.append(TMPair(source, target, number, props))
    return pairs


def read_pairs(path: Path, fmt: str | None = None) -> list[TMPair]:
    """Read and check a whole translation memory; the format is taken from the file name unless given."""
    if not path.is_file():
        raise TMImportError(f"{path}: no such file")
    fmt = fmt or {".tmx": "tmx", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(
        path.suffix.lower())
    if fmt not in FORMATS:
        raise TMImportError(f"{path}: unknown format: name it .tmx, .tsv or .jsonl, or pass --format")
    pairs = {"tmx": read_tmx, "tsv": read_tsv, "jsonl": read_jsonl}[fmt](path)
    if fmt != "tmx":
        # TMX says which side is which; for the others, check that the source column is Arabic
        arabic = sum(1 for p in pairs if _ARABIC_LETTER.search(p.source))
        if pairs and arabic < len(pairs) / 2:
            swapped = sum(1 for p in pairs if _ARABIC_LETTER.search(p.target))
            hint = " (the Arabic is in the target column)" if swapped > len(pairs) / 2 else ""
            raise TMImportError(f"{path}: the source column is not Arabic in {len(pairs) - arabic} of "
                                f"{len(pairs)} pairs{hint}")
        if not pairs:
            raise TMImportError(f"{path}: no pairs")
    return pairs


# -- storing ------------------------------------------------------------------------------------
@dataclass
class ImportSummary:
    document_id: int = 0
    stored: int = 0
    existing: int = 0
    skipped: int = 0              # pairs with an empty side


def import_pairs(store: Store, path: Path, pairs: list[TMPair], options: dict | None = None) -> ImportSummary:
    """Store the pairs as one document of the file's Arabic segments; scores every new pair."""
    from .score import score_pair

    summary = ImportSummary()
    kept = [p for p in pairs if p.source.strip() and p.target.strip()]
    summary.skipped = len(pairs) - len(kept)
    if not kept:
        return summary
    text = "\n".join(p.source for p in kept)
    segments, start = [], 0
    for position, pair in enumerate(kept):
        segments.append(NewSegment(position, start, start + len(pair.source), position, 0, pair.source))
        start += len(pair.source) + 1
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    summary.document_id, _ = store.add_document(str(path), text, sha)
    segment_ids = store.add_segments(summary.document_id, segments)
    run_id = store.start_run("import", None, {"file": str(path), **(options or {})})
    status = "interrupted"
    try:
        with store.transaction() as db:
            for pair, segment_id in zip(kept, segment_ids):
                # imported pairs have no unique index of their own (origin 'imported'): look first
                if db.execute("SELECT 1 FROM translations WHERE segment_id = ? AND origin = 'imported' AND text = ?",
                              (segment_id, pair.target)).fetchone():
                    summary.existing += 1
                    continue
                quality = score_pair(pair.source, pair.target)
                signals = {**quality.signals, "props": pair.props} if pair.props else quality.signals
                store.add_translation(db, segment_id, pair.target, None, run_id, quality.score, quality.label,
                                      signals, origin="imported")
                summary.stored += 1
        status = "done"
    finally:
        store.finish_run(run_id, status)
    return summary
