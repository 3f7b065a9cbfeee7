"""Normalised keys of sentences, for deduplication, decontamination and leak-free splits.

Two sentences get the same key when they differ only in what writers and tools vary freely:
- Arabic: diacritics (harakat, dagger alef, Quranic marks) and tatweel removed; alef forms (أ إ آ ٱ) → ا,
  ى → ي, ة → ه, hamza carriers ؤ → و and ئ → ي; presentation forms → base letters (NFKC);
  Arabic-Indic (٠-٩) and Persian (۰-۹) digits → 0-9;
- both languages: case folded, punctuation and symbols removed, runs of spacing made one space.
The same function serves both sides (the Arabic folds leave Latin text unchanged). A key is hashed with
xxHash64 to an 8-byte integer: an export keeps the hashes, not the sentences.
"""
from __future__ import annotations

import re
import unicodedata

import xxhash

NORMALISATION = ("NFKC; Arabic diacritics (U+064B-U+065F, U+0670, U+06D6-U+06ED) and tatweel removed; "
                 "alef forms to bare alef, alef maqsura to ya, ta marbuta to ha, hamza on waw/ya to waw/ya; "
                 "Arabic-Indic and Persian digits to ASCII; case folded; punctuation and symbols removed; "
                 "spacing collapsed; key hashed with xxh64")

_FOLDS = {"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ؤ": "و", "ئ": "ي"}
_REMOVED = re.compile("[\u064b-\u065f\u0670\u0640\u06d6-\u06ed]+")
_DIGITS = str.maketrans({chr(0x0660 + d): str(d) for d in range(10)} | {chr(0x06F0 + d): str(d) for d in range(10)})
_NON_ASCII_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9]")
# anything that is not a letter or digit (\w also keeps "_", removed with the rest)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The comparison form of a sentence (see the module docstring). Written with str.replace and
    regular expressions rather than one str.translate table: this runs twice for every pair of an export,
    and a translate table is looked up character by character in Python objects."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFKC", text):
            text = unicodedata.normalize("NFKC", text)
        text = _REMOVED.sub("", text)
        for old, new in _FOLDS.items():
            if old in text:
                text = text.replace(old, new)
        if _NON_ASCII_DIGIT.search(text):
            text = text.translate(_DIGITS)
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def key_hash(key: str) -> int:
    """An unsigned 64-bit hash of a normalised key."""
    return xxhash.xxh64_intdigest(key.encode())


def pair_hash(source_key: str, target_key: str) -> int:
    return xxhash.xxh64_intdigest(f"{source_key}\t{target_key}".encode())


def seeded_hash(text: str, seed: int = 0) -> int:
    return xxhash.xxh64_intdigest(text.encode(), seed=seed)
