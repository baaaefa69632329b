"""RabbitMQ adapters on pika's AsyncioConnection: a confirming publisher and a consumer.

pika is callback-based; these classes turn its callbacks into futures on the running loop.
Both reconnect by themselves with backoff and report `ready` while connected.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pika
import structlog
from pika.adapters.asyncio_connection import AsyncioConnection
from pika.channel import Channel
from pika.spec import Basic, BasicProperties

from alertflow.backends.ports import BrokerUnavailable, MessageHandler, Verdict
from alertflow.domain.alert import Alert, encode_alert
from alertflow.settings import DEFAULT_SETTINGS

log = structlog.get_logger("alertflow.rabbitmq")


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """The work queue and its dead-letter queue, declared identically by every role."""

    name: str = DEFAULT_SETTINGS.queue
    queue_type: str = DEFAULT_SETTINGS.queue_type  # or "classic"
    delivery_limit: int = DEFAULT_SETTINGS.delivery_limit

    @property
    def dead_letter_name(self) -> str:
        return self.name + ".dead"

    def arguments(self) -> dict[str, Any]:
        args: dict[str, Any] = {
            "x-queue-type": self.queue_type,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": self.dead_letter_name,
        }
        if self.queue_type == "quorum":
            # at-least-once dead-lettering needs reject-publish overflow (RabbitMQ ≥ 3.10).
            args |= {
                "x-delivery-limit": self.delivery_limit,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            }
        return args

    def dead_letter_arguments(self) -> dict[str, Any]:
        return {"x-queue-type": self.queue_type}


class BatchingConnection(AsyncioConnection):  # type: ignore[misc]
    """pika's AsyncioConnection, writing the frames of one event-loop iteration at once.

    pika hands its transport every frame separately (a publish is three: method, header, body;
    an ack is one) and the transport sends each with its own send() call. Under load that was
    a fifth of the listener's and of the processor's CPU (docs/benchmarks.md). Here frames
    emitted during one loop iteration are joined and written together: same bytes, same order.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._outgoing: list[bytes] = []
        self._loop = asyncio.get_running_loop()
        self.writes = 0  # transport writes, for the test that proves batching still happens
        super().__init__(*args, **kwargs)

    def _adapter_emit_data(self, data: bytes) -> None:
        if not self._outgoing:
            self._loop.call_soon(self._write_outgoing)
        self._outgoing.append(data)

    def _write_outgoing(self) -> None:
        data, self._outgoing = b"".join(self._outgoing), []
        if self._transport is not None:  # None once the connection is lost: nothing to send
            self.writes += 1
            super()._adapter_emit_data(data)


class Refused(BrokerUnavailable):
    """The broker nacked a publish: nothing was promised, sending it again is safe (the
    processor's dedup claim absorbs a copy that made it in after all)."""


def _future() -> asyncio.Future[Any]:
    return asyncio.get_running_loop().create_future()


def _resolve(future: asyncio.Future[Any], value: Any = None) -> None:
    if not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


async def _open(
    url: str, on_close: Callable[[Exception], None]
) -> tuple[AsyncioConnection, Channel]:
    opened: asyncio.Future[AsyncioConnection] = _future()
    parameters = pika.URLParameters(url)
    parameters.connection_attempts = 1
    parameters.socket_timeout = 3
    parameters.blocked_connection_timeout = 30

    def closed(_connection: AsyncioConnection, reason: Exception) -> None:
        _fail(opened, BrokerUnavailable(str(reason)))
        on_close(reason)

    connection = BatchingConnection(
        parameters,
        on_open_callback=lambda conn: _resolve(opened, conn),
        on_open_error_callback=lambda _c, err: _fail(opened, BrokerUnavailable(str(err))),
        on_close_callback=closed,
        custom_ioloop=asyncio.get_running_loop(),
    )
    try:
        await asyncio.wait_for(opened, 10)
        channel_ready: asyncio.Future[Channel] = _future()
        connection.channel(on_open_callback=lambda ch: _resolve(channel_ready, ch))
        channel = await asyncio.wait_for(channel_ready, 10)
    except BaseException:
        if connection.is_open:
            connection.close()
        raise
    return connection, channel


async def _declare(channel: Channel, spec: QueueSpec) -> None:
    for name, arguments in (
        (spec.dead_letter_name, spec.dead_letter_arguments()),
        (spec.name, spec.arguments()),
    ):
        done: asyncio.Future[Any] = _future()
        channel.queue_declare(name, durable=True, arguments=arguments,
                              callback=lambda frame, d=done: _resolve(d, frame))
        await asyncio.wait_for(done, 10)


def broker_urls(urls: str | Sequence[str]) -> list[str]:
    """Broker addresses from one URL, a comma-separated list, or several of either.

    Several nodes of one RabbitMQ cluster: a role connects to the first that answers and, when
    that node dies, moves to the next by itself (the quorum queue lives on the others).
    """
    items = [urls] if isinstance(urls, str) else list(urls)
    found = [url.strip() for item in items for url in item.split(",") if url.strip()]
    if not found:
        raise ValueError("no broker URL given")
    return found


class _Nodes:
    """Which broker address to try next: the one that worked last, then the others in turn."""

    def __init__(self, urls: str | Sequence[str]) -> None:
        self.urls = broker_urls(urls)
        self._current = 0

    def order(self) -> list[str]:
        return self.urls[self._current:] + self.urls[:self._current]

    def worked(self, url: str) -> None:
        self._current = self.urls.index(url)


async def _open_any(
    nodes: _Nodes, on_close: Callable[[Exception], None]
) -> tuple[AsyncioConnection, Channel, str]:
    """A connection to the first node that answers, trying each once (no backoff between
    nodes: a dead node refuses at once, and its neighbours hold the queue)."""
    errors = []
    for url in nodes.order():
        try:
            connection, channel = await _open(url, on_close)
        except (BrokerUnavailable, TimeoutError, OSError) as exc:
            errors.append(f"{_host(url)}: {_describe(exc)}")
            continue
        nodes.worked(url)
        return connection, channel, url
    raise BrokerUnavailable("; ".join(errors))


def _host(url: str) -> str:
    """A URL without its credentials, for logs."""
    return url.rsplit("@", 1)[-1]


def _describe(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__  # a bare TimeoutError has no message


async def _backoff(attempt: int) -> None:
    await asyncio.sleep(min(0.1 * 2**attempt, 3.0))


class RabbitPublisher:
    """Publishes persistent messages and waits for the broker's confirm of each.

    Confirms are asynchronous: many requests publish concurrently on one channel and each waits
    only for its own delivery tags (RabbitMQ acks them in batches with `multiple`).
    """

    def __init__(
        self,
        url: str | Sequence[str],
        spec: QueueSpec,
        confirm_timeout_s: float = DEFAULT_SETTINGS.confirm_timeout_s,
    ) -> None:
        self._nodes = _Nodes(url)
        self._spec = spec
        self._timeout = confirm_timeout_s
        self._channel: Channel | None = None
        self._connection: AsyncioConnection | None = None
        self._pending: dict[int, tuple[asyncio.Future[None], str]] = {}
        self._returned: set[str] = set()
        self._next_tag = 1
        self._lost = asyncio.Event()
        self._connected = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False

    @property
    def ready(self) -> bool:
        return self._channel is not None and self._channel.is_open

    async def start(self) -> None:
        self._task = asyncio.create_task(self._keep_connected())

    async def _keep_connected(self) -> None:
        attempt = 0
        while not self._closing:
            try:
                node = await self._connect()
                attempt = 0
                log.info("publisher connected", queue=self._spec.name, node=_host(node))
                self._connected.set()
                await self._lost.wait()
            except (BrokerUnavailable, TimeoutError, OSError) as exc:
                log.warning("publisher cannot reach the broker", error=_describe(exc))
            self._connected.clear()
            self._channel = None
            self._fail_pending("broker connection lost")
            if self._connection is not None and self._connection.is_open:
                self._connection.close()  # we gave up on it (a nack): let it go
            if not self._closing:
                await _backoff(attempt)
                attempt += 1

    async def _connect(self) -> str:
        self._lost.clear()
        connection, channel, node = await _open_any(self._nodes, lambda _r: self._lost.set())
        self._connection = connection
        channel.add_on_close_callback(lambda _ch, _reason: self._lost.set())
        await _declare(channel, self._spec)
        selected: asyncio.Future[Any] = _future()
        channel.confirm_delivery(self._on_confirm, callback=lambda frame: _resolve(selected))
        await asyncio.wait_for(selected, 10)
        channel.add_on_return_callback(self._on_return)
        self._next_tag = 1
        self._returned.clear()
        self._channel = channel
        return node

    def _on_return(
        self, _ch: Channel, _method: Basic.Return, properties: BasicProperties, _body: bytes
    ) -> None:
        # Unroutable: the queue is gone. The ack that follows must not count as persisted.
        if properties.message_id:
            self._returned.add(properties.message_id)

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        acked = isinstance(method, Basic.Ack)
        tags = (
            [tag for tag in self._pending if tag <= method.delivery_tag]
            if method.multiple
            else [method.delivery_tag]
        )
        for tag in tags:
            entry = self._pending.pop(tag, None)
            if entry is None:
                continue
            future, message_id = entry
            if acked and message_id not in self._returned:
                _resolve(future)
            else:
                self._returned.discard(message_id)
                _fail(future, Refused("the broker refused the message"))
        if not acked and not self._lost.is_set():
            # A quorum queue nacks while it elects a new leader, and a channel opened during
            # the election (RabbitMQ 3.10) can go on nacking every publish afterwards: start
            # afresh on a new connection, to whichever node answers.
            log.warning("the broker nacked a publish; reconnecting")
            self._connected.clear()
            self._lost.set()

    def _fail_pending(self, reason: str) -> None:
        pending, self._pending = self._pending, {}
        for future, _ in pending.values():
            _fail(future, BrokerUnavailable(reason))

    async def publish(self, alerts: Sequence[Alert]) -> None:
        """Publish and wait for the confirms; a refused (nacked) publish is sent again once
        the publisher has reconnected, as long as the confirm timeout allows."""
        deadline = asyncio.get_running_loop().time() + self._timeout
        while True:
            try:
                await self._publish_once(alerts, deadline)
                return
            except Refused:
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise
                try:  # the nack started a reconnect: wait for it
                    await asyncio.wait_for(self._connected.wait(), left)
                except TimeoutError as exc:
                    raise BrokerUnavailable("refused, and no reconnect in time") from exc

    async def _publish_once(self, alerts: Sequence[Alert], deadline: float) -> None:
        channel = self._channel
        if channel is None or not channel.is_open:
            raise BrokerUnavailable("not connected to the broker")
        futures: list[asyncio.Future[None]] = []
        try:
            for alert in alerts:
                channel.basic_publish(
                    exchange="",
                    routing_key=self._spec.name,
                    body=encode_alert(alert),
                    properties=BasicProperties(
                        message_id=alert.id, delivery_mode=2, content_type="application/json"
                    ),
                    mandatory=True,
                )
                future: asyncio.Future[None] = _future()
                self._pending[self._next_tag] = (future, alert.id)
                self._next_tag += 1
                futures.append(future)
        except Exception as exc:  # pika raises several types for a closed channel
            for future in futures:
                future.cancel()
            raise BrokerUnavailable(f"publish failed: {exc}") from exc
        try:
            await asyncio.wait_for(asyncio.gather(*futures),
                                   max(0.0, deadline - asyncio.get_running_loop().time()))
        except TimeoutError as exc:
            raise BrokerUnavailable(f"no confirm within {self._timeout:g} s") from exc

    async def close(self) -> None:
        self._closing = True
        if self._connection is not None and self._connection.is_open:
            self._connection.close()
        self._lost.set()
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class RabbitConsumer:
    """Consumes with a prefetch window and settles each message by its handler's verdict.

    A handler that waits (Redis down) keeps its prefetch slot, so consumption pauses by itself
    without acking, requeueing or burning delivery attempts.
    """

    def __init__(
        self, url: str | Sequence[str], spec: QueueSpec,
        prefetch: int = DEFAULT_SETTINGS.prefetch,
    ) -> None:
        self._nodes = _Nodes(url)
        self._spec = spec
        self._prefetch = prefetch
        self._channel: Channel | None = None
        self._connection: AsyncioConnection | None = None
        self._stopping = asyncio.Event()
        self._lost = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._consumer_tag: str | None = None

    @property
    def ready(self) -> bool:
        return self._channel is not None and self._channel.is_open

    async def run(self, handler: MessageHandler) -> None:
        attempt = 0
        while not self._stopping.is_set():
            try:
                await self._consume(handler)
                attempt = 0
                stop = asyncio.ensure_future(self._stopping.wait())
                lost = asyncio.ensure_future(self._lost.wait())
                await asyncio.wait({stop, lost}, return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                lost.cancel()
            except (BrokerUnavailable, TimeoutError, OSError) as exc:
                log.warning("consumer cannot reach the broker", error=_describe(exc))
            if self._stopping.is_set():
                await self._drain()
                break
            self._channel = None
            await _backoff(attempt)
            attempt += 1

    async def _consume(self, handler: MessageHandler) -> None:
        self._lost.clear()
        connection, channel, node = await _open_any(self._nodes, lambda _r: self._lost.set())
        self._connection = connection
        channel.add_on_close_callback(lambda _ch, _reason: self._lost.set())
        await _declare(channel, self._spec)
        qos: asyncio.Future[Any] = _future()
        channel.basic_qos(prefetch_count=self._prefetch, callback=lambda frame: _resolve(qos))
        await asyncio.wait_for(qos, 10)

        def on_message(
            ch: Channel, method: Basic.Deliver, properties: BasicProperties, body: bytes
        ) -> None:
            task = asyncio.create_task(
                self._settle(ch, method.delivery_tag, body, properties.message_id, handler)
            )
            self._in_flight.add(task)
            task.add_done_callback(self._in_flight.discard)

        self._consumer_tag = channel.basic_consume(self._spec.name, on_message, auto_ack=False)
        self._channel = channel
        log.info("consumer connected", queue=self._spec.name, prefetch=self._prefetch,
                 node=_host(node))

    async def _settle(
        self, channel: Channel, tag: int, body: bytes, message_id: str | None,
        handler: MessageHandler,
    ) -> None:
        try:
            verdict = await handler(body, message_id)
        except Exception:
            log.exception("handler failed; message returned to the queue", message_id=message_id)
            verdict = Verdict.RETRY
        if not channel.is_open:
            # The broker redelivers it (on another node, after a failover); the dedup claim
            # absorbs the repeat. Said once per message, so a lost ack is never silent.
            log.info("channel closed before the message was settled; it will be redelivered",
                     message_id=message_id, verdict=verdict.name)
            return
        if verdict is Verdict.ACK:
            channel.basic_ack(tag)
        else:
            channel.basic_nack(tag, requeue=verdict is Verdict.RETRY)

    async def _drain(self) -> None:
        channel = self._channel
        if channel is not None and channel.is_open and self._consumer_tag:
            cancelled: asyncio.Future[Any] = _future()
            channel.basic_cancel(self._consumer_tag, callback=lambda frame: _resolve(cancelled))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(cancelled, 5)
        while self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        if self._connection is not None and self._connection.is_open:
            self._connection.close()
        self._channel = None

    async def stop(self) -> None:
        self._stopping.set()
