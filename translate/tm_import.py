"""Import existing translation memories into the store: TMX 1.4, TSV and our own JSONL.

The whole file is read and checked before anything is written, so a malformed file (bad XML, a TMX
structure the TMX 1.4 DTD does not allow, a broken JSON line, no Arabic–English pairs) is refused with
one line naming the file and line, and nothing of it is stored. The pairs then go into the store as one
document per file (the Arabic segments joined by newlines), one segment per pair, and one translation
per pair with origin ``imported``, scored like any pair; a file imported again adds nothing.

TMX: any ``srclang``; the Arabic and English variants are found by ``xml:lang`` (``ar``, ``ar-EG``...,
``en``, ``en-US``...); inline markup inside ``<seg>`` (``bpt ept it ph ut hi sub``) is kept as text,
i.e. the native codes it carries (``<b>``) stay in the segment text. What a unit carries besides its
text is kept whole in the pair's signals under ``tmx`` (the unit's and each variant's attributes,
``<prop>``s and ``<note>``s, and the header's props and notes) and written back by a TMX export; a flat
summary of it stays under ``props``. A unit without both an Arabic and an English variant is counted as
skipped. The structure is checked against the rules of the TMX 1.4 DTD (elements, their order and
required attributes) with the standard library's expat parser; the DTD itself is not needed.

TSV is read with the standard csv module's quoting rules (Python's csv, pandas and spreadsheets write
it so): a quoted field may hold tabs, newlines and doubled quotes; a file whose quoting is broken is
refused naming the line (``quotes=False`` reads every field as it is).

Our own exports come back as they left: the review status, the reviewer, the reject reason and comment,
and an edit (the machine text and the reviewer's English) are restored as the pair's review history
(a ``review_log`` entry with action 'import'), so an approved pair is not pending again.
"""
from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from xml.parsers import expat

from .export import OUR_TMX_PROPS, TSV_COLUMNS
from .inputs import jsonl_records
from .store import Decision, NewSegment, Store

DECIDED = ("approved", "rejected", "edited")

FORMATS = ("tmx", "tsv", "jsonl")
_ARABIC_LETTER = re.compile("[\u0621-\u064a]")


class TMImportError(Exception):
    """A translation memory that cannot be imported; the message names the file (and line)."""


@dataclass
class TMPair:
    source: str                 # Arabic
    target: str                 # English (the current text: a reviewer's edit when there is one)
    line: int
    props: dict = field(default_factory=dict)
    tmx: dict | None = None     # everything a TMX unit carried besides its text (see read_tmx)
    mt_text: str | None = None  # the machine text, when ``target`` is a reviewer's edit of it
    decision: Decision | None = None   # the review our own export recorded


def _decision(status: str | None, reviewer: str | None, reason: str | None, comment: str | None,
              mt_text: str | None, target: str, when: str | None) -> tuple[Decision | None, str | None]:
    """The review a record of our own export carries, and the machine text when the target is an edit."""
    edited = bool(mt_text) and mt_text != target
    if status not in DECIDED:
        return None, mt_text if edited else None
    return (Decision(status, reviewer or "import", reason or None, comment or None,
                     target if edited else None, None, when or None), mt_text if edited else None)


def _iso_from_tmx(date: str | None) -> str | None:
    try:
        return datetime.strptime(date or "", "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc).isoformat()
    except ValueError:
        return None


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
    header: dict = {"attrs": {}, "props": [], "notes": []}

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
            state["tu"] = {"line": parser.CurrentLineNumber, "tuvs": [], "props": [], "notes": [],
                           "attrs": dict(attrs), "seen_tuv": False}
        elif name == "tuv":
            lang = _language(attrs)
            if not lang:
                fail("<tuv> lacks xml:lang")
            state["tu"]["seen_tuv"] = True
            state["tuv"] = {"lang": lang, "seg": None, "props": [], "notes": [],
                            "original_lang": attrs.get("xml:lang") or attrs.get("lang"),
                            "attrs": {k: v for k, v in attrs.items() if k not in ("xml:lang", "lang")}}
        elif name in ("prop", "note") and parent in ("tu", "tuv", "header"):
            if parent == "tu" and state["tu"]["seen_tuv"]:
                fail(f"<{name}> after <tuv> (TMX 1.4 puts notes and props first)")
            state["text"] = []
            state["meta_attrs"] = dict(attrs)
        elif name == "seg":
            if state["tuv"]["seg"] is not None:
                fail("a second <seg> in one <tuv>")
            state["seg"] = []
        if name == "header":
            state["header"] = True
            header["attrs"] = dict(attrs)
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
            state["tu"]["tuvs"].append(tuv)
        elif name in ("prop", "note") and parent in ("tu", "tuv", "header"):
            text, attrs = "".join(state.pop("text")), state.pop("meta_attrs")
            owner = {"tu": lambda: state["tu"], "tuv": lambda: state["tuv"], "header": lambda: header}[parent]()
            owner["props" if name == "prop" else "notes"].append([text, attrs])
        elif name == "tu":
            tu = state.pop("tu")
            if not tu["tuvs"]:
                fail("<tu> without <tuv>")
            pairs.append(_unit_pair(tu, header))

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
    if not any(p.source and p.target for p in pairs):
        found = ", ".join(sorted(languages)) or "none"
        raise TMImportError(f"{path}: no translation unit with both Arabic and English (languages found: {found})")
    return pairs


def _unit_pair(tu: dict, header: dict) -> TMPair:
    """One unit as a pair (a side it lacks is empty: the pair is counted as skipped). A unit of our own
    export gives back its review from our x- props; another tool's keeps all it carried under ``tmx``."""
    variants = {}
    for tuv in tu["tuvs"]:
        for code in ("ar", "en"):
            if _is(tuv["lang"], code) and code not in variants:
                variants[code] = tuv
    arabic, english = variants.get("ar"), variants.get("en")
    ours = header["attrs"].get("creationtool") == "translate"
    our_props = {attrs.get("type"): text for text, attrs in tu["props"] if attrs.get("type") in OUR_TMX_PROPS}
    attrs = dict(tu["attrs"])
    pair = TMPair(arabic["seg"] if arabic else "", english["seg"] if english else "", tu["line"])
    if ours:
        if "x-translate-id" not in our_props:
            attrs.pop("tuid", None)             # our own pair id, not a foreign unit's
        changed = attrs.pop("changedate", None)
        pair.decision, pair.mt_text = _decision(our_props.get("x-status"), our_props.get("x-reviewer"),
                                                our_props.get("x-reject-reason"), our_props.get("x-reject-comment"),
                                                our_props.get("x-mt-text"), pair.target, _iso_from_tmx(changed))
        props = [[text, a] for text, a in tu["props"] if a.get("type") not in OUR_TMX_PROPS]
    else:
        props = tu["props"]
    tmx = {"attrs": attrs, "props": props, "notes": tu["notes"],
           "variants": {code: {"lang": v["original_lang"], "attrs": v["attrs"], "props": v["props"],
                               "notes": v["notes"]} for code, v in variants.items()}}
    if header["props"] or header["notes"]:
        tmx["header"] = {"props": header["props"], "notes": header["notes"]}
    pair.tmx = tmx
    # the flat summary (older exports' signals.props): unit attributes, then props and notes by type
    flat = {k: v for k, v in attrs.items() if k in ("tuid", "creationdate", "srclang")}
    for owner, prefix in [(tu, "")] + [(v, f"{v['lang']}:") for v in tu["tuvs"]]:
        for text, a in owner["props"] + [[text, {"type": "note"}] for text, _ in owner["notes"]]:
            if ours and a.get("type") in OUR_TMX_PROPS:
                continue
            key = prefix + a.get("type", "note")
            flat[key] = text if key not in flat else f"{flat[key]}\n{text}"
    pair.props = flat
    return pair


# -- TSV and JSONL ------------------------------------------------------------------------------
_LEGACY_TSV_HEADER = ["id", "document", "start", "end", "source", "target", "model", "status", "score"]
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


def _tsv_records(path: Path, text: str, quotes: bool) -> list[tuple[int, list[str]]]:
    """(first line number, fields) of each record. With ``quotes`` the csv module's rules apply (a field
    that starts with a double quote runs to the matching one, "" inside it is one quote); without, every
    line is one record split at tabs."""
    if not quotes:
        lines = text.split("\n")
        return [(number, line.rstrip("\r").split("\t")) for number, line in enumerate(lines, 1)
                if line.rstrip("\r") or number < len(lines)]
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))     # a whole article may be one field
    reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quotechar='"', doublequote=True,
                        strict=True)
    records, first = [], 1
    try:
        for fields in reader:
            records.append((first, fields))
            first = reader.line_num + 1
    except csv.Error as exc:
        # the line where the record that failed starts: an unclosed quote is only found at the end of the file
        raise TMImportError(f"{path}: line {first}: broken quoting ({exc}); a field that starts with a "
                            f'double quote must end with one (quotes inside doubled: ""), or pass --no-quotes '
                            f"when quotes in this file are plain text") from None
    return records


def read_tsv(path: Path, quotes: bool = True) -> list[TMPair]:
    """Our own export (header ``id document start end source target ...``, escaped fields), a file
    with a header naming ``ar``/``en`` or ``source``/``target`` columns, or two columns: Arabic, English.
    Fields are read with csv quoting (see ``_tsv_records``); our exports before csv quoting (their header
    has exactly the nine columns ``id`` … ``score``) are read as they were written, one record a line."""
    text = _read_text(path)
    first_line = text.split("\n", 1)[0].rstrip("\r").split("\t")
    legacy = [h.strip().lower() for h in first_line] == _LEGACY_TSV_HEADER
    records = _tsv_records(path, text, quotes and not legacy)
    header = [h.strip().lower() for h in records[0][1]] if records else []
    # our own export escapes tab, newline, return and backslash (its header starts id, document, ...)
    escaped = header[:2] == TSV_COLUMNS[:2] and "source" in header and "target" in header
    names = {"ar": "source", "en": "target"}
    columns = [names.get(h, h) for h in header]
    if "source" in columns and "target" in columns:
        body = records[1:]
    else:
        columns, body = ["source", "target"], records
    pairs = []
    for number, fields in body:
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(columns):
            raise TMImportError(f"{path}: line {number}: {len(fields)} tab-separated fields, expected {len(columns)}")
        row = dict(zip(columns, (_unescape(f) if escaped else f for f in fields)))
        if escaped:
            pair = TMPair(row["source"], row["target"], number)
            pair.decision, pair.mt_text = _decision(row.get("status"), row.get("reviewer"), row.get("reject_reason"),
                                                    row.get("reject_comment"), row.get("mt_text"), row["target"],
                                                    row.get("reviewed_at"))
            pairs.append(pair)
            continue
        props = {k: v for k, v in row.items() if k not in ("source", "target") and v != ""}
        pairs.append(TMPair(row["source"], row["target"], number, props))
    return pairs


def read_jsonl(path: Path) -> list[TMPair]:
    """One object per line with ``source``/``target`` (our export) or ``ar``/``en``; other keys are props."""
    pairs = []
    for number, record in jsonl_records(_read_text(path), str(path), TMImportError):
        if not isinstance(record, dict):
            raise TMImportError(f"{path}: line {number}: expected a JSON object")
        source = record.get("source", record.get("ar"))
        target = record.get("target", record.get("en"))
        if not isinstance(source, str) or not isinstance(target, str):
            raise TMImportError(f"{path}: line {number}: needs text fields source and target (or ar and en)")
        # our own export's signals are not carried over (the pair is scored again on import), except what
        # a translation memory carried (tmx, props); nor are the fields the store makes anew
        signals = record.get("signals") if isinstance(record.get("signals"), dict) else {}
        props = {k: v for k, v in record.items() if k not in _JSONL_OWN_FIELDS}
        if isinstance(signals.get("props"), dict):
            props = {**signals["props"], **props}
        pair = TMPair(source, target, number, props, signals.get("tmx") if isinstance(signals.get("tmx"), dict)
                      else None)
        texts = [record.get(k) for k in ("status", "reviewer", "reject_reason", "reject_comment", "mt_text",
                                         "reviewed_at")]
        if all(v is None or isinstance(v, str) for v in texts):
            pair.decision, pair.mt_text = _decision(*texts[:5], target, texts[5])
        pairs.append(pair)
    return pairs


# the fields of our JSONL export that describe the pair in its store, not the translation memory
_JSONL_OWN_FIELDS = frozenset((
    "source", "target", "ar", "en", "signals", "id", "document", "document_sha256", "start", "end", "sentence",
    "part", "origin", "bridge", "model", "model_sha256", "status", "reviewer", "reviewed_at", "mt_text",
    "reject_reason", "reject_comment", "score", "label", "created"))


def read_pairs(path: Path, fmt: str | None = None, quotes: bool = True) -> list[TMPair]:
    """Read and check a whole translation memory; the format is taken from the file name unless given.
    ``quotes``: TSV fields follow csv quoting (see ``read_tsv``)."""
    if not path.is_file():
        raise TMImportError(f"{path}: no such file")
    fmt = fmt or {".tmx": "tmx", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(
        path.suffix.lower())
    if fmt not in FORMATS:
        raise TMImportError(f"{path}: unknown format: name it .tmx, .tsv or .jsonl, or pass --format")
    pairs = read_tsv(path, quotes) if fmt == "tsv" else {"tmx": read_tmx, "jsonl": read_jsonl}[fmt](path)
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
    skipped: int = 0              # pairs with an empty side (a TMX unit without Arabic or English)
    reviewed: int = 0             # stored pairs whose review (status, reviewer, edit) came with them


def import_pairs(store: Store, path: Path, pairs: list[TMPair], options: dict | None = None) -> ImportSummary:
    """Store the pairs as one document of the file's Arabic segments; scores every new pair and restores
    the review a pair of our own export carries."""
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
                machine = pair.mt_text or pair.target     # an edited pair keeps its machine text under the edit
                # imported pairs have no unique index of their own (origin 'imported'): look first
                if db.execute("SELECT 1 FROM translations WHERE segment_id = ? AND origin = 'imported' AND text = ?",
                              (segment_id, machine)).fetchone():
                    summary.existing += 1
                    continue
                quality = score_pair(pair.source, machine)
                signals = dict(quality.signals)
                if pair.props:
                    signals["props"] = pair.props
                if pair.tmx:
                    signals["tmx"] = pair.tmx
                pair_id = store.add_translation(db, segment_id, machine, None, run_id, quality.score, quality.label,
                                                signals, origin="imported")
                summary.stored += 1
                if pair.decision is not None:
                    decision = pair.decision
                    if decision.edit_text is not None:
                        edited = score_pair(pair.source, decision.edit_text)
                        decision.edit_score = (edited.score, edited.label, edited.signals)
                    store.restore_decision(db, pair_id, decision, "import")
                    summary.reviewed += 1
        status = "done"
    finally:
        store.finish_run(run_id, status)
    return summary
