"""Source tokens: who may post alerts, and the parsing of a tokens file (`NAME:SECRET` lines).

A source may hold several secrets at once (old and new overlap during a rotation). Every
presented token is compared with every secret in constant time. Nothing here ever puts a
secret into an error message: errors name the line, not its content.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MIN_SECRET_CHARS = 16
# Names go into logs and metric labels: no spaces, quotes or control characters.
_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")


class TokensError(ValueError):
    """A tokens file that cannot be used; the message names the line, never the secret."""


@dataclass(frozen=True, slots=True)
class SourceTokens:
    entries: tuple[tuple[str, bytes], ...] = ()  # (source name, SHA-256 of the secret)

    @classmethod
    def of(cls, *sources: Mapping[str, str] | Iterable[tuple[str, str]]) -> SourceTokens:
        pairs: list[tuple[str, bytes]] = []
        for source in sources:
            items = source.items() if isinstance(source, Mapping) else source
            pairs += [(name, _digest(secret)) for name, secret in items]
        return cls(tuple(dict.fromkeys(pairs)))  # same pair twice: once

    @property
    def names(self) -> list[str]:
        return sorted({name for name, _ in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def source_of(self, presented: str) -> str | None:
        """The name whose secret is `presented`; every secret compared, in constant time.

        Digests are compared, not the secrets: equal lengths, so not even a secret's length
        leaks through timing, and no secret is kept in memory as given."""
        given = _digest(presented)
        found = None
        for name, secret in self.entries:
            if hmac.compare_digest(given, secret):
                found = name
        return found


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse_tokens_file(text: str, origin: str = "tokens file") -> list[tuple[str, str]]:
    """`NAME:SECRET` per line; blank lines and `#` comments are skipped. A name may appear on
    several lines (one per secret it currently holds)."""
    pairs: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, secret = line.partition(":")
        if not sep or not _NAME.fullmatch(name):
            raise TokensError(f"{origin} line {number}: expected NAME:SECRET with NAME made of "
                              "letters, digits, '.', '_' or '-'")
        if len(secret) < MIN_SECRET_CHARS or any(c.isspace() for c in secret):
            raise TokensError(f"{origin} line {number} (source {name!r}): the secret must be "
                              f"at least {MIN_SECRET_CHARS} characters without spaces")
        pairs.append((name, secret))
    return pairs
