"""Full-text search in the PostgreSQL store. Title and notes are split into words folded in
Python (casefold, Latin diacritics removed: "café" is found by "cafe", the same on every
replica, no extension needed) and stored as a `tsvector` with a GIN index; the words of a
query become prefix lexemes (`'word':*`) joined by `&` and are sent as one bound `tsquery`
parameter, so no query text ever reaches the SQL or the tsquery syntax."""

from __future__ import annotations

import re
import unicodedata

from . import queries

WORD_MAX = 255
"""Longer words are indexed and searched by their first 255 characters (a lexeme's limit is 2 KiB)."""

_WORD = re.compile(r"[^\W_]+")
_FOLDED_BASES = 0x0530  # Latin, Greek and Cyrillic letters lose their accents; other scripts keep their marks


def search_words(text: str) -> list[str]:
    """The words of `text` as indexed and searched: casefolded, Latin/Greek/Cyrillic diacritics
    removed (like SQLite's unicode61 remove_diacritics), split at anything that is not a letter,
    a digit or a mark continuing a word (so words of scripts written with marks stay whole)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    if folded.isascii():
        return [word[:WORD_MAX] for word in _WORD.findall(folded)]
    words: list[str] = []
    current: list[str] = []
    base = 0
    for ch in folded:
        if unicodedata.combining(ch) or unicodedata.category(ch).startswith("M"):
            if current and base >= _FOLDED_BASES:
                current.append(ch)
            continue
        base = ord(ch)
        if ch.isalnum():
            current.append(ch)
        elif current:
            words.append(unicodedata.normalize("NFC", "".join(current))[:WORD_MAX])
            current = []
    if current:
        words.append(unicodedata.normalize("NFC", "".join(current))[:WORD_MAX])
    return words


def ts_query(text: str) -> str | None:
    """Words of `text` as a tsquery: every word must appear, as a word or a prefix."""
    words = queries.distinct_prefixes(search_words(text))
    return " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words) or None


def text_clause(text: str) -> queries.Clause:
    match = ts_query(text)
    if match is None:
        return "1 = 0", []
    return "t.search @@ ?::tsquery", [match]
