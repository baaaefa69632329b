"""Web Push subscriptions and claims on the real Redis, and their HTTP routes (real Starlette)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis
from starlette.applications import Starlette

from alertflow.domain.locations import Catalog
from alertflow.domain.push import PushSubscription, subscription_id
from alertflow.notifier.routes.push import PushHttpConfig, push_routes
from alertflow.push.store import DONE, PushStore

pytestmark = pytest.mark.integration

P256DH = base64.urlsafe_b64encode(b"\x04" + b"\x11" * 64).decode().rstrip("=")
AUTH = base64.urlsafe_b64encode(b"\x22" * 16).decode().rstrip("=")


def sub(n: int, locations: set[str], zones: set[str] = frozenset(), lang: str = "en",  # type: ignore[assignment]
        ) -> PushSubscription:
    endpoint = f"https://push.example.com/s/{n}"
    return PushSubscription(subscription_id(endpoint), endpoint, P256DH, AUTH,
                            frozenset(locations), frozenset(zones), lang)


@pytest.fixture
async def store(redis_client: aioredis.Redis, unique: str) -> AsyncIterator[PushStore]:
    yield PushStore(redis_client, unique)


async def ids(store: PushStore, locations: set[str], zones: set[str] = set()) -> set[int]:  # noqa: B006
    return {int(s.endpoint.rsplit("/", 1)[1]) for s in await store.matching(locations, zones)}


async def test_subscriptions_are_indexed_by_area_and_zone(store: PushStore) -> None:
    assert await store.save(sub(1, {"a"}))
    assert await store.save(sub(2, {"a", "b"}))
    assert await store.save(sub(3, set(), {"z"}))
    assert await ids(store, {"a"}) == {1, 2}
    assert await ids(store, {"b"}, {"z"}) == {2, 3}
    assert await ids(store, {"c"}) == set()
    # An update moves it between indexes; it is not a new subscription.
    assert not await store.save(sub(2, {"c"}, lang="he"))
    assert await ids(store, {"a"}) == {1}
    assert [s.lang for s in await store.matching({"c"}, set())] == ["he"]
    assert await store.delete(sub(1, {"a"}).id)
    assert not await store.delete(sub(1, {"a"}).id)
    assert await ids(store, {"a"}) == set()


async def test_unused_subscriptions_expire_and_leave_their_indexes(
        redis_client: aioredis.Redis, unique: str) -> None:
    store = PushStore(redis_client, unique, ttl_s=30 * 86_400)
    await store.save(sub(1, {"a"}))
    ttl = await redis_client.ttl("{" + unique + "}:push:sub:" + sub(1, {"a"}).id)
    assert 30 * 86_400 - 5 < ttl <= 30 * 86_400
    await redis_client.delete("{" + unique + "}:push:sub:" + sub(1, {"a"}).id)  # as if expired
    assert await ids(store, {"a"}) == set()
    assert await redis_client.scard("{" + unique + "}:push:loc:a") == 0


async def test_claims_are_exact_across_consumers_and_taken_over_after_a_crash(
        store: PushStore) -> None:
    first = await store.claim([("s1", ["7:open", "8:open"])], "consumer-a", takeover=False)
    assert first == [["7:open", "8:open"]]
    # Another replica handling an entry about the same incident does not send it again.
    assert await store.claim([("s1", ["7:open"])], "consumer-b", takeover=False) == [[]]
    # The same consumer retrying its own batch (Redis blip) keeps its claims.
    assert await store.claim([("s1", ["7:open"])], "consumer-a", takeover=False) == [["7:open"]]
    await store.finish([("s1", ("7:open",))])
    # consumer-a died: its unfinished claim is taken over, its finished one never.
    assert await store.claim([("s1", ["7:open", "8:open"])], "consumer-b",
                             takeover=True) == [["8:open"]]


async def test_new_subscriptions_are_counted_per_address(store: PushStore) -> None:
    assert (await store.count_new("192.0.2.1"))[0] == 1
    count, retry_after = await store.count_new("192.0.2.1")
    assert count == 2 and 3590 < retry_after <= 3600
    assert (await store.count_new("192.0.2.2"))[0] == 1
    assert DONE == "done"


@pytest.fixture
async def client(redis_client: aioredis.Redis, unique: str) -> AsyncIterator[httpx.AsyncClient]:
    store = PushStore(redis_client, unique)
    app = Starlette(routes=push_routes(store, Catalog.empty(), PushHttpConfig(
        "BPUBLICKEY", per_hour=3)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                 base_url="http://test") as http:
        yield http


def body(n: int, **extra: object) -> dict[str, object]:
    return {"subscription": {"endpoint": f"https://push.example.com/s/{n}",
                             "keys": {"p256dh": P256DH, "auth": AUTH}},
            "locations": ["a"], **extra}


async def test_the_routes_answer_what_they_did(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/push/key")).json() == {"publicKey": "BPUBLICKEY"}
    created = await client.post("/v1/push/subscriptions", json=body(1, lang="ru"))
    assert created.status_code == 201 and created.json()["lang"] == "ru"
    updated = await client.post("/v1/push/subscriptions", json=body(1, locations=["b"]))
    assert updated.status_code == 200 and updated.json()["locations"] == ["b"]
    gone = await client.request("DELETE", "/v1/push/subscriptions",
                                json={"subscription": {"endpoint": "https://push.example.com/s/1"}})
    assert gone.status_code == 204


@pytest.mark.parametrize(("payload", "status", "field", "why"), [
    ({"subscription": {"endpoint": "https://10.0.0.1/x", "keys": {}}}, 422,
     "$.subscription.endpoint", "private"),
    ({"subscription": {"endpoint": "https://169.254.169.254/x", "keys": {}}}, 422,
     "$.subscription.endpoint", "link-local"),
    ({"subscription": {"endpoint": "https://localhost:8443/x", "keys": {}}}, 422,
     "$.subscription.endpoint", "local"),
    (body(1, lang="xx"), 422, "$.lang", "lang"),
    ({"subscription": {"endpoint": "https://push.example.com/s/1",
                       "keys": {"p256dh": P256DH, "auth": "AAAA"}}, "locations": ["a"]}, 422,
     "$.subscription.keys.auth", "16 bytes"),
])
async def test_bad_requests_get_a_4xx_naming_the_problem_and_store_nothing(
        client: httpx.AsyncClient, redis_client: aioredis.Redis, unique: str,
        payload: dict[str, object], status: int, field: str, why: str) -> None:
    answer = await client.post("/v1/push/subscriptions", json=payload)
    assert answer.status_code == status
    assert answer.json()["field"] == field and why in answer.json()["reason"]
    assert [k async for k in redis_client.scan_iter("{" + unique + "}:push:sub:*")] == []


async def test_body_type_and_size_are_checked(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/push/subscriptions", content=b"{}")).status_code == 415
    big = {"subscription": {"endpoint": "https://push.example.com/" + "x" * 20_000}}
    assert (await client.post("/v1/push/subscriptions", json=big)).status_code == 413
    not_json = await client.post("/v1/push/subscriptions", content=b"{",
                                 headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422 and not_json.json()["reason"] == "body is not JSON"


async def test_new_subscriptions_per_address_are_limited(client: httpx.AsyncClient) -> None:
    for n in range(3):
        assert (await client.post("/v1/push/subscriptions", json=body(n))).status_code == 201
    refused = await client.post("/v1/push/subscriptions", json=body(99))
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 3000
    # Updating an existing subscription (changing areas) is not a new one.
    assert (await client.post("/v1/push/subscriptions", json=body(0))).status_code == 200


async def test_bulk_loaded_subscriptions_are_found_like_saved_ones(store: PushStore) -> None:
    await store.save_new([sub(n, {f"a{n % 3}"}) for n in range(30)])
    assert await ids(store, {"a1"}) == set(range(1, 30, 3))
