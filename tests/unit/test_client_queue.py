"""The engineio client queue (client_queue.py): the long-poll hold applies only to a poll's
answer while only batches are queued, loses nothing when a poll is cancelled, and leaves the
websocket writer's view (`waiting`, direct writes) as it was."""

from __future__ import annotations

import asyncio

import pytest
from engineio import packet as engineio_packet

from alertflow.notifier.client_queue import (
    HOLD_MAX_PACKETS,
    HOLD_SPREAD,
    BatchPacket,
    WriterQueue,
    answering_poll,
)
from alertflow.notifier.direct_send import writer_is_idle

AN_HOUR = 3600.0


def batch(n: int) -> BatchPacket:
    return BatchPacket(engineio_packet.MESSAGE, data=f'2["alerts",[{{"seq":{n}}}]]')


async def _as_poll(queue: WriterQueue) -> object:
    answering_poll.set(True)  # this task's context only, as in a polling GET's task
    return await queue.get()


class _Socket:
    def __init__(self, queue: WriterQueue) -> None:
        self.queue = queue


async def test_a_websocket_writer_is_never_held_and_is_seen_idle() -> None:
    queue = WriterQueue(poll_hold_s=AN_HOUR)
    reader = asyncio.create_task(queue.get())  # the websocket writer: no poll mark
    await asyncio.sleep(0)
    assert writer_is_idle(_Socket(queue))
    first = batch(1)
    queue.put_nowait(first)
    assert await asyncio.wait_for(reader, 10) is first
    assert not writer_is_idle(_Socket(queue))  # nobody waits now


async def test_a_poll_waits_while_only_batches_are_queued_and_not_for_anything_else() -> None:
    queue = WriterQueue(poll_hold_s=AN_HOUR)
    poll = asyncio.create_task(_as_poll(queue))
    queue.put_nowait(batch(1))
    queue.put_nowait(batch(2))
    await asyncio.sleep(0.05)
    assert not poll.done() and queue.qsize() == 2  # held, nothing taken yet
    await queue.put(engineio_packet.Packet(engineio_packet.NOOP))  # as engineio's upgrade does
    first = await asyncio.wait_for(poll, 10)
    rest = [queue.get_nowait() for _ in range(queue.qsize())]  # as engineio's poll drains
    assert [p.data for p in (first, *rest)] == [batch(1).data, batch(2).data, None]
    assert queue.urgent == 0


@pytest.mark.parametrize("urgent", [None, engineio_packet.Packet(engineio_packet.PING)])
async def test_a_poll_answers_at_once_when_the_first_packet_is_not_a_batch(
    urgent: object,
) -> None:
    queue = WriterQueue(poll_hold_s=AN_HOUR)
    queue.put_nowait(urgent)
    queue.put_nowait(batch(1))
    assert await asyncio.wait_for(_as_poll(queue), 10) is urgent


async def test_a_poll_cancelled_while_held_leaves_every_packet_queued() -> None:
    queue = WriterQueue(poll_hold_s=AN_HOUR)
    poll = asyncio.create_task(_as_poll(queue))
    packets = [batch(1), batch(2)]
    for packet in packets:
        queue.put_nowait(packet)
    await asyncio.sleep(0.05)
    poll.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poll
    assert [queue.get_nowait() for _ in range(2)] == packets


async def test_without_a_hold_a_poll_takes_the_first_batch_at_once() -> None:
    queue = WriterQueue()
    first = batch(1)
    queue.put_nowait(first)
    assert await asyncio.wait_for(_as_poll(queue), 10) is first


async def test_a_held_poll_answers_before_its_packets_near_the_backlog_bound() -> None:
    """Legacy clients get one packet per event: a large batch must not sit in the queue until
    the next one pushes the client over the notifier's backlog bound (which drops it)."""
    queue = WriterQueue(poll_hold_s=AN_HOUR)
    poll = asyncio.create_task(_as_poll(queue))
    for n in range(HOLD_MAX_PACKETS - 1):
        queue.put_nowait(batch(n))
    await asyncio.sleep(0.05)
    assert not poll.done()  # still held below the bound
    queue.put_nowait(batch(HOLD_MAX_PACKETS))
    first = await asyncio.wait_for(poll, 10)
    assert first.data == batch(0).data and queue.qsize() == HOLD_MAX_PACKETS - 1


async def test_holds_that_start_together_end_spread_out_and_never_after_the_hold() -> None:
    """The fan-out queues a batch for every polling client at once: their holds must not all
    end at one instant, and none may end later than poll_hold_s after its first batch."""
    hold = 0.4
    queues = [WriterQueue(poll_hold_s=hold) for _ in range(40)]
    loop = asyncio.get_running_loop()
    queued_at = loop.time()
    for queue in queues:
        queue.put_nowait(batch(1))
    ends = [queue._hold_ends_at - queued_at for queue in queues]
    low, high = HOLD_SPREAD
    assert 0 < low < high <= 1
    assert all(low * hold - 0.01 <= end <= high * hold + 0.01 for end in ends), ends
    # 40 uniform draws over the range all within an eighth of it: about 40 × 8⁻³⁹.
    assert max(ends) - min(ends) > (high - low) * hold / 8, ends


async def test_a_held_poll_answers_when_its_hold_ends() -> None:
    queue = WriterQueue(poll_hold_s=0.05)
    poll = asyncio.create_task(_as_poll(queue))
    first = batch(1)
    queue.put_nowait(first)
    assert await asyncio.wait_for(poll, 10) is first  # by the timer: nothing else came
