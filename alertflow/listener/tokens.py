"""The listener's source tokens, re-read from `--tokens-file` whenever the file changes.

Kubernetes updates a mounted Secret by swapping a symlink, so the file is read whole every
`interval_s` and compared with what was read before: no inotify, no partial reads. A file
that cannot be read or parsed leaves the tokens as they were (and says so, without secrets).
Requests already authenticated are not affected by a swap: only new requests see new tokens.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import structlog

from alertflow import metrics
from alertflow.domain.tokens import SourceTokens, TokensError, parse_tokens_file

log = structlog.get_logger("alertflow.tokens")


class TokenRegistry:
    """The tokens in force: fixed ones (`--token`, `ALERTFLOW_TOKENS`) plus the file's."""

    def __init__(self, fixed: dict[str, str], path: Path | None = None) -> None:
        self._fixed = dict(fixed)
        self.path = path
        self._read: bytes | None = None
        self.current = SourceTokens.of(self._fixed)
        if path is not None:
            self._load(path.read_bytes())  # at start, an unusable file is fatal (TokensError)

    def source_of(self, presented: str) -> str | None:
        return self.current.source_of(presented)

    def _load(self, raw: bytes) -> None:
        assert self.path is not None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TokensError(f"{self.path}: not UTF-8 text") from None
        pairs = parse_tokens_file(text, str(self.path))
        self.current = SourceTokens.of(self._fixed, pairs)  # one assignment: atomic for readers
        self._read = raw

    def reload_if_changed(self) -> bool:
        """Read the file again; True when the tokens in force changed."""
        if self.path is None:
            return False
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            metrics.tokens_reloads.labels("unreadable").inc()
            log.error("tokens file unreadable; keeping the tokens in force",
                      path=str(self.path), error=exc.strerror or type(exc).__name__)
            return False
        if raw == self._read:
            return False
        before = self.current
        try:
            self._load(raw)
        except TokensError as exc:
            self._read = raw  # report a bad file once, not every second
            metrics.tokens_reloads.labels("invalid").inc()
            log.error("tokens file invalid; keeping the tokens in force", problem=str(exc))
            return False
        metrics.tokens_reloads.labels("ok").inc()
        log.info("source tokens reloaded", path=str(self.path), sources=self.current.names,
                 secrets=len(self.current), added=len(set(self.current.entries)
                                                      - set(before.entries)),
                 removed=len(set(before.entries) - set(self.current.entries)))
        return self.current != before

    async def watch(self, interval_s: float = 1.0) -> None:
        """Re-read the file every `interval_s` until cancelled."""
        while self.path is not None:
            await asyncio.sleep(interval_s)
            self.reload_if_changed()
