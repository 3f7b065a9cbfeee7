"""Reading input files: file names of any bytes, encodings, and HTML pages saved as text.

- A file name that is not valid UTF-8 (e.g. cp1256 names from a Windows zip) reaches Python as a string
  with lone surrogates (``surrogateescape``), which SQLite and the terminal refuse. ``display_path``
  writes such bytes as ``\\xff`` escapes: readable, and what the store and every message use.
- UTF-8 (with or without a BOM) is always read as UTF-8, and a UTF-16/32 byte-order mark is obeyed;
  ``--encoding`` applies only to the other files. Without it, a file that is not UTF-8 is read only
  when charset-normalizer is sure it is Arabic text in one encoding (with a warning naming that
  encoding); otherwise it is refused with the ``--encoding`` to pass. Guessing wrong would store
  mojibake, so when unsure we refuse.
- An HTML page saved as ``.txt`` is refused unless ``html=True`` (``--html``), which extracts the
  article text with trafilatura.
"""
from __future__ import annotations

import codecs
import json
import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path


class InputError(Exception):
    """An input file that cannot be read as text; the message names the file."""


def display_path(path: Path | str) -> str:
    """The path as text that any terminal, JSON file or SQLite column takes: bytes of the name that are
    not UTF-8 are written as ``\\xNN`` escapes (on POSIX they arrive as surrogate escapes)."""
    raw = os.fsencode(path)
    return raw.decode("utf-8", errors="backslashreplace")


TEXT_SUFFIXES = (".txt",)
HTML_SUFFIXES = (".html", ".htm")


def find_inputs(paths: list[Path], html: bool = False,
                skipped: list[str] | None = None) -> tuple[list[Path], list[str]]:
    """Expand directories to the files they hold that are read (sorted): ``.txt`` files and, with
    ``html``, ``.html``/``.htm`` pages, whatever the case of the extension (``b.TXT``). Every other
    file of a directory is named in ``skipped`` with the reason, so that none is left out unseen. A
    file named on the command line is always read. Returns (files, errors for paths that do not exist)."""
    files, errors = [], []
    for path in paths:
        if path.is_dir():
            # sorted by the name's bytes: a name with undecodable bytes sorts like any other
            for found in sorted(path.rglob("*"), key=os.fsencode):
                if found.is_dir():
                    continue
                reason = _skip_reason(found, html)
                if reason is None:
                    files.append(found)
                elif skipped is not None:
                    skipped.append(f"{display_path(found)}: skipped: {reason}")
        elif path.is_file():
            files.append(path)
        else:
            errors.append(f"{display_path(path)}: no such file or directory")
    return files, errors


def input_kinds(html: bool) -> str:
    """What a folder's files must be, for messages: '.txt' or '.txt, .html or .htm'."""
    return ", ".join(TEXT_SUFFIXES + HTML_SUFFIXES[:-1]) + f" or {HTML_SUFFIXES[-1]}" if html else TEXT_SUFFIXES[0]


def _skip_reason(path: Path, html: bool) -> str | None:
    """Why a file found in a folder is not read (None: it is read)."""
    if not path.is_file():
        return "not a regular file"
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES or (html and suffix in HTML_SUFFIXES):
        return None
    if suffix in HTML_SUFFIXES:
        return "an HTML page (pass --html to translate its article text)"
    return f"not a {input_kinds(html)} file"


# --------------------------------------------------------------------------- encodings

_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
)
# single-byte Arabic encodings tried when suggesting an --encoding (most common first)
_ARABIC_ENCODINGS = ("cp1256", "iso8859_6", "cp720")
# a detected encoding is trusted only with at least this much Arabic text to judge it by
MIN_DETECT_LETTERS = 40


def _codec_name(encoding: str) -> str:
    return codecs.lookup(encoding).name


_LETTER = re.compile(r"[^\W\d_]")
_ARABIC_LETTER = re.compile(r"(?=[^\W\d_])[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")


LETTERS_SAMPLE = 200_000     # characters judged: one encoding holds for the whole file


def _letters(text: str) -> tuple[int, int]:
    """(letters, Arabic-script letters) in the first LETTERS_SAMPLE characters of ``text``."""
    sample = text[:LETTERS_SAMPLE]
    return len(_LETTER.findall(sample)), len(_ARABIC_LETTER.findall(sample))


def _looks_arabic(text: str) -> bool:
    letters, arabic = _letters(text)
    return arabic > 0 and arabic >= 0.6 * letters


_CONTROL = re.compile("[\x00\x80-\x9f]")


def _has_control_characters(text: str) -> bool:
    """NUL or C1 controls: what a wrong single-byte (or UTF-16 read as single-byte) decoding gives."""
    return _CONTROL.search(text) is not None


def _strict_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, name: str, encoding: str | None = None, detect: bool = True,
                 notes: list[str] | None = None) -> str:
    """Decode a text file's bytes (see the module doc). ``name`` labels messages; notes about a file read
    in another encoding than UTF-8 are appended to ``notes``."""
    if encoding:
        try:
            encoding = _codec_name(encoding)
        except LookupError:
            raise InputError(f"{name}: unknown encoding {encoding!r}") from None
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            text = _strict_decode(data, bom_encoding)
            if text is None:
                raise InputError(f"{name}: starts with a {bom_encoding.upper()} byte-order mark but is not "
                                 f"valid {bom_encoding.upper()}")
            if notes is not None:
                notes.append(f"{name}: read as {bom_encoding.upper()} (byte-order mark)")
            return text
    if b"\x00" in data:
        if encoding and encoding.startswith(("utf-16", "utf-32")):   # UTF-16/32 without a byte-order mark
            text = _strict_decode(data, encoding)
            if text is not None:
                return text
            raise InputError(f"{name}: not valid {encoding}")
        raise InputError(f"{name}: binary data (NUL bytes), not a text file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        not_utf8 = f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
    if data.startswith(codecs.BOM_UTF8):
        raise InputError(f"{name}: starts with a UTF-8 byte-order mark but is {not_utf8}")
    if encoding:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: {not_utf8} and not valid {encoding} either "
                             f"(byte offset {exc.start})") from None
        if _has_control_characters(text):
            readings = _arabic_readings(data, encoding)
            hint = f"; it reads as Arabic with {' or '.join(f'--encoding {e}' for e in readings)}" if readings else ""
            raise InputError(f"{name}: {not_utf8}, and read as {encoding} it has control characters: "
                             f"the file is not {encoding}{hint}")
        _check_arabic_reading(data, text, name, encoding)
        return text.lstrip("\ufeff")
    if not detect:
        raise InputError(f"{name}: {not_utf8}; convert it to UTF-8")
    text, detected = _detect_arabic(data, name, not_utf8)
    if notes is not None:
        notes.append(f"{name}: not UTF-8; read as {detected} (detected; pass --encoding to choose another)")
    return text


# share of the non-space bytes at or above 0x80 from which a file is "mostly high-bit": Arabic in a
# single-byte encoding (its letters are all high-bit); a Latin-script file has a few accented letters
MOSTLY_HIGH_BIT = 0.5


def _arabic_readings(data: bytes, but: str) -> list[str]:
    """The single-byte Arabic encodings other than ``but`` that read ``data`` as Arabic text."""
    return [e for e in map(_codec_name, _ARABIC_ENCODINGS) if e != but
            and (t := _strict_decode(data, e)) is not None and _looks_arabic(t) and not _has_control_characters(t)]


def _check_arabic_reading(data: bytes, text: str, name: str, encoding: str) -> None:
    """Refuse a chosen --encoding that reads mostly high-bit bytes as text without one Arabic letter
    (cp1256 read as latin-1 gives mojibake such as ÞÇá), naming the encodings that read it as Arabic."""
    non_space = data.translate(None, b" \t\r\n\f\v")
    if not non_space or sum(b >= 0x80 for b in non_space) < MOSTLY_HIGH_BIT * len(non_space):
        return
    if _letters(text)[1]:
        return
    readings = _arabic_readings(data, encoding)
    if readings:
        choices = " or ".join(f"--encoding {e}" for e in readings)
        raise InputError(f"{name}: read as {encoding} it has no Arabic letters although most of its bytes are "
                         f"not ASCII: it is not {encoding}; it reads as Arabic with {choices}")
    raise InputError(f"{name}: read as {encoding} it has no Arabic letters although most of its bytes are "
                     f"not ASCII, and no Arabic encoding reads it: not an Arabic text")


def _detect_arabic(data: bytes, name: str, not_utf8: str) -> tuple[str, str]:
    """Text and encoding of a non-UTF-8 file, when charset-normalizer finds one Arabic reading of it with
    enough text to be sure; InputError suggesting the --encoding to pass otherwise."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    arabic_readings = {}                      # encoding -> text, for matches that read as Arabic
    for match in matches:
        text = str(match)
        if "Arabic" in match.languages and _looks_arabic(text) and not _has_control_characters(text):
            arabic_readings[_codec_name(match.encoding)] = text
    if matches and len(set(arabic_readings.values())) == 1:
        best = matches[0]
        encoding = _codec_name(best.encoding)
        text = arabic_readings.get(encoding)
        if text is not None and best.chaos <= 0.1 and _letters(text)[1] >= MIN_DETECT_LETTERS:
            return text.lstrip("\ufeff"), encoding
    # unsure: suggest the encodings that give Arabic text, the detector's first
    suggestions = list(arabic_readings)
    for encoding in map(_codec_name, _ARABIC_ENCODINGS):
        text = _strict_decode(data, encoding)
        if encoding not in suggestions and text is not None and _looks_arabic(text) \
                and not _has_control_characters(text):
            suggestions.append(encoding)
    if suggestions:
        choices = " or ".join(f"--encoding {e}" for e in suggestions[:3])
        raise InputError(f"{name}: {not_utf8}; its encoding cannot be detected with certainty "
                         f"(Arabic as {', '.join(suggestions[:3])}): pass {choices}")
    guess = f" (it may be {_codec_name(matches[0].encoding)}, not Arabic)" if matches else ""
    raise InputError(f"{name}: {not_utf8} and not Arabic text in a known encoding{guess}; pass --encoding "
                     f"with its encoding (e.g. --encoding cp1256 for Windows Arabic)")


# --------------------------------------------------------------------------- HTML

_MARKUP = re.compile(r"<!--.*?-->|<(script|style)\b.*?</\1\s*>|<[A-Za-z!/?][^<>]*>", re.S | re.I)
_HTML_START = re.compile(r"\s*<(!doctype\s+html|html)\b", re.I)
# a page is refused (without --html) when markup is at least this share of its visible characters
HTML_MARKUP_SHARE = 0.3


_SPACE = re.compile(r"\s+")


def markup_share(text: str) -> tuple[float, int]:
    """(share of the non-space characters that are tags, comments, scripts or styles; number of tags)."""
    def visible(chunk: str) -> int:
        return len(chunk) - sum(len(space) for space in _SPACE.findall(chunk))

    tags = [m.group(0) for m in _MARKUP.finditer(text)]
    non_space = visible(text)
    return (sum(map(visible, tags)) / non_space if non_space else 0.0), len(tags)


def looks_like_html(text: str) -> bool:
    if text.count("<") < 3:          # the common case, decided without a scan of the tags
        return False
    share, tags = markup_share(text)
    return tags >= 3 and (share >= HTML_MARKUP_SHARE or bool(_HTML_START.match(text)))


def extract_article(html: str, name: str) -> str:
    """The article text of an HTML page (trafilatura: main content, no menus, scripts or comments), as
    plain text: one line per paragraph, heading, list item and table cell, with none of the Markdown
    marks (``- ``, ``| a | b |``) of trafilatura's text output."""
    import trafilatura

    logging.getLogger("trafilatura").setLevel(logging.ERROR)   # its per-page notes are not ours to print
    options = {"include_comments": False, "output_format": "xml", "include_formatting": False}
    try:
        xml = trafilatura.extract(html, **options)
        text = _xml_text_lines(xml) if xml else ""
        if not text.strip():
            # short pages fall under trafilatura's precision thresholds
            xml = trafilatura.extract(html, favor_recall=True, **options)
            text = _xml_text_lines(xml) if xml else ""
    except Exception as exc:   # a parser failure on one page must not stop a run
        reason = " ".join(str(exc).split())[:200]
        raise InputError(f"{name}: cannot extract the article text ({type(exc).__name__}: {reason})") from None
    if not text.strip():
        raise InputError(f"{name}: HTML page with no article text found")
    return text


# trafilatura's XML elements that hold a line of their own; the others (hi, ref, del...) are inline
_XML_BLOCKS = {"head", "p", "item", "cell", "quote", "code", "list", "row", "table", "main", "doc", "div"}


def _xml_text_lines(xml: str) -> str:
    """The text of trafilatura's XML output, one block (paragraph, list item, table cell...) a line."""
    from xml.etree import ElementTree

    root = ElementTree.fromstring(xml)
    for comments in root.findall("comments"):
        root.remove(comments)
    parts: list[str] = []

    def walk(element) -> None:
        block = element.tag in _XML_BLOCKS
        if block or element.tag == "lb":
            parts.append("\n")
        parts.append(element.text or "")
        for child in element:
            walk(child)
            parts.append(child.tail or "")
        if block:
            parts.append("\n")

    walk(root)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


# --------------------------------------------------------------------------- files


def read_document(path: Path, encoding: str | None = None, *, html: bool = False, detect: bool = True,
                  notes: list[str] | None = None) -> str:
    """Decode a text file (see the module doc). ``detect=False`` (line-aligned corpora) reads UTF-8 only
    and does not look for HTML. ``notes`` collects warnings about files read in another encoding."""
    name = display_path(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror})") from None
    text = decode_bytes(data, name, encoding, detect=detect, notes=notes)
    if detect and looks_like_html(text):
        if not html:
            share, _ = markup_share(text)
            raise InputError(f"{name}: looks like an HTML page ({share:.0%} markup), not article text; "
                             f"pass --html to translate its article text")
        text = extract_article(text, name)
    if not text.strip():
        raise InputError(f"{name}: empty document")
    return text


_LINE_END = re.compile(r"\r\n|\r|\n")


def text_lines(text: str) -> list[str]:
    """The lines of a line-aligned file, as sacrebleu, Moses and Python's file iteration read them:
    a line ends at \\n, \\r\\n or \\r only. ``str.splitlines`` also cuts at U+2028, U+0085, \\f,
    \\v and \\x1c-\\x1e, which MT output and web text hold: one line would become two and every
    line after it would be paired with the wrong one. The piece after a final line end is no line."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def jsonl_records(text: str, where: str, error: type[Exception]) -> Iterator[tuple[int, object]]:
    """(line number, decoded value) of each non-blank line of JSON Lines ``text``; a line that is not
    JSON raises ``error`` naming ``where`` and the line. Lines end at "\\n" only: JSON may hold U+2028
    or U+0085 unescaped (``ensure_ascii=False`` writes them so), which ``str.splitlines`` would cut."""
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            raise error(f"{where}: line {number}: not valid JSON ({exc.msg})") from None
