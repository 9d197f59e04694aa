"""`microq api-key` keys after the split: each key's table entry in its own slot, a bucketed
index for listing, and keys made before the split moved out of the old `{work}` slot at start."""

from __future__ import annotations

import msgpack
from redis.asyncio import Redis

from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts
from microq.security.api_keys import ApiKeyStore, digest
from microq.security.keys import SecurityKeys

KEYS = SecurityKeys(Keyspace("mq:"))


async def test_many_keys_are_listed_from_every_bucket_and_revoked(work_node, redis_url, redis: Redis, on_cluster):
    client = connect(redis_url, cluster=on_cluster)
    try:
        store = ApiKeyStore(Scripts(client), KEYS)
        made = [await store.create(f"robot-{i}") for i in range(40)]
        listed = await store.list()
        assert sorted(info.id for info in listed) == sorted(info.id for _, info in made)
        buckets = {KEYS.key_index(info.id) for _, info in made}
        assert len(buckets) > 8  # spread over the index buckets
        node = await work_node(api_keys=())
        key, info = made[7]
        assert (await node.post("/api/queue", json={"queue_name": "q"}, headers={"X-API-Key": key})).status == 201
        await store.revoke(info.id)
        assert (await node.post("/api/queue", json={"queue_name": "q"}, headers={"X-API-Key": key})).status == 401
        assert info.id not in [i.id for i in await store.list()]
    finally:
        await client.aclose()


async def test_a_create_cut_short_is_listed_and_revocable_but_does_not_work(work_node, redis_url, redis, on_cluster):
    client = connect(redis_url, cluster=on_cluster)
    try:
        store = ApiKeyStore(Scripts(client), KEYS)
        key, info = await store.create("half")
        await redis.delete(KEYS.api_key(digest(key)))  # as if the node died between the two steps
        node = await work_node(api_keys=())
        assert (await node.post("/api/queue", json={"queue_name": "q"}, headers={"X-API-Key": key})).status == 401
        assert info.id in [i.id for i in await store.list()]
        await store.revoke(info.id)
        assert await store.list() == []
    finally:
        await client.aclose()


async def test_keys_from_before_the_split_move_at_start(work_node, redis_url, redis: Redis, on_cluster):
    old_key = "mqk_made-by-an-older-version"
    record = msgpack.packb({"name": "legacy robot", "digest": digest(old_key), "created_ms": 1700000000000})
    await redis.hset(KEYS.legacy_api_keys, digest(old_key), "key_0ld")
    await redis.hset(KEYS.legacy_api_key_ids, "key_0ld", record)
    node = await work_node(api_keys=())
    assert (await node.post("/api/queue", json={"queue_name": "q"}, headers={"X-API-Key": old_key})).status == 201
    assert not await redis.exists(KEYS.legacy_api_keys, KEYS.legacy_api_key_ids)
    client = connect(redis_url, cluster=on_cluster)
    try:
        listed = await ApiKeyStore(Scripts(client), KEYS).list()
    finally:
        await client.aclose()
    assert [(i.id, i.name, i.created) for i in listed] == [("key_0ld", "legacy robot", "2023-11-14T22:13:20Z")]
    await work_node(api_keys=())  # a second start finds nothing to move
    assert (await node.post("/api/queue", json={"queue_name": "q"}, headers={"X-API-Key": old_key})).status == 201
