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
_REMOVED = ([chr(c) for c in range(0x064B, 0x0660)] + ["\u0670", "\u0640"]
            + [chr(c) for c in range(0x06D6, 0x06EE)])
_DIGITS = {chr(0x0660 + d): str(d) for d in range(10)} | {chr(0x06F0 + d): str(d) for d in range(10)}
_TABLE = str.maketrans({**_FOLDS, **_DIGITS, **{c: None for c in _REMOVED}})
# anything that is not a letter or digit (\w also keeps "_", removed with the rest)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """The comparison form of a sentence (see the module docstring)."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_TABLE)
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def key_hash(key: str) -> int:
    """An unsigned 64-bit hash of a normalised key."""
    return xxhash.xxh64_intdigest(key.encode())


def pair_hash(source_key: str, target_key: str) -> int:
    return xxhash.xxh64_intdigest(f"{source_key}\t{target_key}".encode())


def seeded_hash(text: str, seed: int = 0) -> int:
    return xxhash.xxh64_intdigest(text.encode(), seed=seed)
