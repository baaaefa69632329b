"""Folding text for lookups: how sources differ in writing a name without differing in meaning."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = ("P", "S")
_INVISIBLE = ("Mn", "Me", "Cf")
# Apostrophes, quotes, Hebrew geresh ׳ and gershayim ״: sources write them several ways or not at
# all (צ'ק / צ׳ק / צק, כטב"ם / כטב״ם), so they are dropped rather than turned into spaces.
_QUOTES = "'\"`\u05f3\u05f4\u2019\u2018\u201c\u201d\u02bc\u00b4"
_SPACES = re.compile(r"\s+")


def words(text: str) -> str:
    """Case-, spacing-, punctuation- and mark-blind form of `text`, words separated by one space."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    kept = []
    for char in folded:
        category = unicodedata.category(char)
        if category in _INVISIBLE or char in _QUOTES:
            continue  # niqqud, harakat, direction marks; quotes inside a word
        kept.append(" " if category.startswith(_SEPARATORS) else char)
    return _SPACES.sub(" ", "".join(kept)).strip()


_CANONICAL_QUOTES = str.maketrans({
    "\u05f3": "'", "\u2019": "'", "\u2018": "'", "`": "'", "\u02bc": "'", "\u00b4": "'",
    "\u05f4": '"', "\u201c": '"', "\u201d": '"',
})


def spelling(text: str) -> str:
    """`compact`, but keeping apostrophes (each variant as '): a geresh can change a letter,
    and two real places may differ only by it (גת and ג'ת)."""
    marked = unicodedata.normalize("NFKC", text).translate(_CANONICAL_QUOTES)
    return compact(marked.replace("'", "\ue000").replace('"', "\ue001")).replace(
        "\ue000", "'").replace("\ue001", '"')


def compact(text: str) -> str:
    """`words` without the spaces: "Tel-Aviv", "tel aviv" and "TelAviv" are one key."""
    return words(text).replace(" ", "")
