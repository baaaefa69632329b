"""Helpers the follower's unit tests share: a recording publisher, a local feed, a session."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence

import aiohttp
import pytest

from alertflow.backends.ports import BrokerUnavailable
from alertflow.domain.alert import Alert
from tests.feed_server import FeedServer


class Recorder:
    """A publisher that keeps what it confirmed, and can refuse like a broker that is down."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []
        self.down = False

    @property
    def ready(self) -> bool:
        return not self.down

    async def start(self) -> None:
        return None

    async def publish(self, alerts: Sequence[Alert]) -> None:
        if self.down:
            raise BrokerUnavailable("broker down (test)")
        self.alerts.extend(alerts)

    async def close(self) -> None:
        return None


@pytest.fixture
def feed() -> Iterator[FeedServer]:
    server = FeedServer()
    yield server
    server.close()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client
