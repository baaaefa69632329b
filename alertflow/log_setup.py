"""structlog set-up: readable lines for people (dev), JSON lines for machines (everywhere else)."""

from __future__ import annotations

import logging
import sys
from typing import Literal

import structlog

LogFormat = Literal["console", "json"]


def configure(level: str = "info", fmt: LogFormat = "json") -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
        if fmt == "console"
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard library: keep their warnings, drop their chatter.
    logging.basicConfig(level=max(numeric, logging.WARNING), stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("pika", "hypercorn.access", "engineio", "socketio"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    # pika logs every failed reconnect as several ERROR lines; the adapters already log each
    # failure once, as a warning with the reason, so an outage reads as one line per attempt.
    logging.getLogger("pika").setLevel(logging.CRITICAL)
