"""`microq api-key create | list | revoke`: manage the work API's keys in Redis.

Uses exactly the server's Redis: REDIS_URL, or the embedded server of MICROQ_DATA_DIR while a
`microq serve` runs on it. It never starts an embedded Redis itself: one started from another
folder would hold keys no server reads (they would get 401, and five tries ban the address).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from microq.doctor import ServerNotFound, server_redis_url
from microq.errors import NotFound, Unavailable
from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts
from microq.security.api_keys import ApiKeyStore
from microq.security.keys import SecurityKeys
from microq.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    try:
        url = server_redis_url(settings)
    except ServerNotFound as exc:
        print(f"microq api-key: {exc}", file=sys.stderr)
        return 1
    try:
        return asyncio.run(_run(url, settings, args))
    except (Unavailable, RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
        print(f"microq: Redis is unreachable: {exc or type(exc).__name__}", file=sys.stderr)
        return 1


async def _run(url: str, settings: Settings, args: argparse.Namespace) -> int:
    client = connect(url, cluster=settings.redis_cluster)
    try:
        store = ApiKeyStore(Scripts(client), SecurityKeys(Keyspace(settings.key_prefix)))
        if args.key_command == "create":
            key, info = await store.create(args.name)
            print(f"id:   {info.id}")
            print(f"key:  {key}")
            print("Store the key now: MicroQ keeps only its SHA-256 digest and cannot show it again.",
                  file=sys.stderr)
            return 0
        if args.key_command == "list":
            infos = await store.list()
            if not infos:
                print("no API keys in Redis (keys from MICROQ_API_KEYS are not listed)", file=sys.stderr)
                return 0
            print("ID\tCREATED\tNAME")
            for info in infos:
                print(f"{info.id}\t{info.created}\t{info.name}")
            return 0
        try:
            await store.revoke(args.key_id)
        except NotFound:
            print(f"microq: no API key with id {args.key_id}", file=sys.stderr)
            return 1
        print(f"revoked {args.key_id}")
        return 0
    finally:
        await client.aclose()
