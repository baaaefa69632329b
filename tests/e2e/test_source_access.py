"""Issue 15 at the listener's door, with the real CLI: one rate budget per source across
listeners, token rotation through the tokens file without restart, the audit line of every
accepted request, and secrets absent from every log."""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import free_port
from tests.e2e.conftest import alert_body
from tests.support import Role, delete_queues, forget_run, metrics, wait_ready

pytestmark = pytest.mark.e2e

OLD = "hfc-old-secret-" + uuid.uuid4().hex
NEW = "hfc-new-secret-" + uuid.uuid4().hex
POLICE = "police-secret-" + uuid.uuid4().hex
SECRETS = (OLD, NEW, POLICE)


def write_atomically(path: Path, text: str) -> None:
    """As kubelet updates a mounted Secret: the new file replaces the old in one step."""
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


ANSWERS: list[int] = []  # every status `post` got, so audits can be counted against them


async def post(session: aiohttp.ClientSession, url: str, secret: str,
               request_id: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {secret}"}
    if request_id:
        headers["X-Request-Id"] = request_id
    async with session.post(url + "/v1/alerts", json=alert_body("Sderot"),
                            headers=headers) as response:
        await response.read()
        ANSWERS.append(response.status)
        return response.status


@pytest.fixture
def listeners(tmp_path: Path, rabbitmq: str, redis_url: str) -> Iterator[tuple[list[str],
                                                                                 list[Role]]]:
    """Three listeners on one queue and one Redis, each its own process, 1 request/s per
    source with a burst of 5."""
    unique = "acc" + uuid.uuid4().hex[:10]
    tokens = tmp_path / "tokens"
    tokens.write_text(f"hfc:{OLD}\npolice:{POLICE}\n")
    urls, roles = [], []
    for index in range(3):
        port = free_port()
        urls.append(f"http://127.0.0.1:{port}")
        roles.append(Role(f"listener{index}", [
            "listen", "--amqp-url", rabbitmq, "--queue", unique, "--port", str(port),
            "--tokens-file", str(tokens), "--rate-limit", "1:5", "--redis-url", redis_url,
            "--key-prefix", unique], tmp_path))
    try:
        for url, role in zip(urls, roles, strict=True):
            wait_ready(url, role)
        yield urls, roles
    finally:
        for role in roles:
            role.terminate()
        forget_run(rabbitmq, redis_url, unique)


async def test_three_listeners_give_a_source_one_budget(
    listeners: tuple[list[str], list[Role]],
) -> None:
    urls, roles = listeners
    sent = 45
    started = time.monotonic()
    async with aiohttp.ClientSession() as session:
        statuses = await asyncio.gather(*(post(session, urls[n % 3], OLD) for n in range(sent)))
        elapsed = time.monotonic() - started
        other = await post(session, urls[0], POLICE)
    counts = Counter(statuses)
    # One budget: the burst (5) plus what refilled at 1/s while the requests ran. Three
    # separate budgets would have let at least 15 through.
    allowed = 5 + int(elapsed) + 1
    print(f"\n[shared limit] {dict(counts)} in {elapsed:.2f} s across 3 listeners "
          f"(one budget allows {allowed}, three would allow {3 * (5 + int(elapsed))})")
    assert set(counts) <= {202, 429}
    assert 5 <= counts[202] <= allowed < 15
    assert counts[429] == sent - counts[202]
    assert other == 202  # another source has a budget of its own
    for url in urls:
        assert metrics(url)['alertflow_rate_limit_shared{backend="redis"}'] == 1.0
    for role in roles:
        assert not any(secret in role.log() for secret in SECRETS)


async def _slow_request(url: str, secret: str) -> tuple[asyncio.StreamReader,
                                                       asyncio.StreamWriter, bytes]:
    """A request whose headers are sent now and its body later: in flight across a rotation."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    body = json.dumps(alert_body("Sderot")).encode()
    writer.write((f"POST /v1/alerts HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json"
                  f"\r\nAuthorization: Bearer {secret}\r\nContent-Length: {len(body)}\r\n\r\n"
                  ).encode() + body[:10])
    await writer.drain()
    return reader, writer, body[10:]


async def test_rotation_through_the_tokens_file_without_restart(
    tmp_path: Path, rabbitmq: str,
) -> None:
    queue = "rot" + uuid.uuid4().hex[:10]
    tokens = tmp_path / "tokens"
    tokens.write_text(f"# sources of the test\nhfc:{OLD}\npolice:{POLICE}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    role = Role("listener", ["listen", "--amqp-url", rabbitmq, "--queue", queue, "--port",
                             str(port), "--tokens-file", str(tokens), "--log-level", "debug"],
                tmp_path)
    police: list[int] = []
    stop = asyncio.Event()
    ANSWERS.clear()
    try:
        wait_ready(url, role)
        async with aiohttp.ClientSession() as session:
            async def keep_posting() -> None:  # another source, all through the rotation
                while not stop.is_set():
                    police.append(await post(session, url, POLICE))
                    await asyncio.sleep(0.05)

            steady = asyncio.create_task(keep_posting())
            assert await post(session, url, OLD, request_id="before-rotation") == 202
            assert await post(session, url, NEW) == 401

            # Step 1: the new secret is added beside the old one; both work.
            write_atomically(tokens, f"hfc:{OLD}\nhfc:{NEW}\npolice:{POLICE}\n")
            new_works: list[int] = []

            async def try_new() -> None:
                new_works.append(await post(session, url, NEW))
            await _until(lambda: new_works[-1:] == [202], try_new, "the new secret to work")
            assert await post(session, url, OLD) == 202

            # A request authenticated with the old secret, still sending its body...
            reader, writer, rest = await _slow_request(url, OLD)
            await asyncio.sleep(0.2)  # its handler has started and authenticated it

            # Step 2: the old secret is removed; refused within 5 s, the others keep working.
            write_atomically(tokens, f"hfc:{NEW}\npolice:{POLICE}\n")
            removed_at = time.monotonic()
            old_answers: list[int] = []

            async def try_old() -> None:
                old_answers.append(await post(session, url, OLD))
            await _until(lambda: old_answers[-1:] == [401], try_old,
                         "the removed secret to be refused", timeout=5)
            refused_after = time.monotonic() - removed_at
            assert await post(session, url, NEW) == 202

            # ...is not lost: it completes after the rotation with a 202.
            writer.write(rest)
            await writer.drain()
            status_line = await asyncio.wait_for(reader.readline(), 10)
            writer.close()
            assert status_line.startswith(b"HTTP/1.1 202"), status_line

            stop.set()
            await steady
            metrics_text = await (await session.get(url + "/metrics")).text()
        print(f"\n[rotation] old secret refused {refused_after:.2f} s after the file changed; "
              f"other source: {dict(Counter(police))}")
        assert police and set(police) == {202}
    finally:
        stop.set()
        role.terminate()
        delete_queues(rabbitmq, queue)
    log = role.log()
    # Audit: one line per accepted request, naming the source and never the token.
    audits = [json.loads(line) for line in log.splitlines()
              if line.startswith("{") and '"alerts accepted"' in line]
    first = next(a for a in audits if a.get("request_id") == "before-rotation")
    assert first["source"] == "hfc" and first["count"] == 1 and len(first["alert_ids"]) == 1
    assert first["client"] == "127.0.0.1"
    assert {a["source"] for a in audits} == {"hfc", "police"}
    assert len(audits) == ANSWERS.count(202) + 1  # + the in-flight one, sent by hand
    assert "source tokens reloaded" in log
    for secret in SECRETS:
        assert secret not in log and secret not in metrics_text


async def _until(done: object, attempt: object, what: str, timeout: float = 10) -> None:
    from collections.abc import Awaitable, Callable

    assert callable(done) and callable(attempt)
    check: Callable[[], bool] = done  # type: ignore[assignment]
    step: Callable[[], Awaitable[None]] = attempt  # type: ignore[assignment]
    deadline = time.monotonic() + timeout
    while True:
        await step()
        if check():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        await asyncio.sleep(0.1)


def test_listen_refuses_an_unusable_tokens_file_naming_the_line_not_the_secret(
    tmp_path: Path,
) -> None:
    import subprocess

    from tests.support import ALERTFLOW

    tokens = tmp_path / "tokens"
    tokens.write_text(f"hfc:{OLD}\n{NEW}\n")
    # typer draws errors in a box as wide as the terminal: a wide one keeps each message (and
    # any secret it might leak) on one line, whatever the length of the temporary path.
    wide = {**os.environ, "COLUMNS": "10000"}
    result = subprocess.run([ALERTFLOW, "listen", "--tokens-file", str(tokens), "--port",
                             str(free_port())], capture_output=True, text=True, timeout=60,
                            env=wide)
    output = result.stdout + result.stderr
    assert result.returncode == 2 and "line 2" in output, output
    assert OLD not in output and NEW not in output
    missing = subprocess.run([ALERTFLOW, "listen", "--tokens-file", str(tmp_path / "nope"),
                              "--port", str(free_port())], capture_output=True, text=True,
                             timeout=60, env=wide)
    assert missing.returncode == 2 and "nope" in missing.stdout + missing.stderr




async def test_without_redis_a_listener_keeps_limiting_on_its_own(
    tmp_path: Path, rabbitmq: str,
) -> None:
    """Redis unreachable: neither open (no limit) nor closed (every request refused)."""
    queue = "norl" + uuid.uuid4().hex[:10]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    role = Role("listener", ["listen", "--amqp-url", rabbitmq, "--queue", queue, "--port",
                             str(port), "--token", f"hfc:{OLD}", "--rate-limit", "0.01:3",
                             "--redis-url", f"redis://127.0.0.1:{free_port()}/0"], tmp_path)
    try:
        wait_ready(url, role)
        async with aiohttp.ClientSession() as session:
            statuses = [await post(session, url, OLD) for _ in range(6)]
        assert statuses == [202, 202, 202, 429, 429, 429]
        assert metrics(url)['alertflow_rate_limit_shared{backend="redis"}'] == 0.0
        assert "limiting per listener" in role.log()
    finally:
        role.terminate()
        delete_queues(rabbitmq, queue)
