"""`microq api-key create | list | revoke`: manage the work API's keys in Redis.

Connects to REDIS_URL, or attaches to the embedded server in MICROQ_DATA_DIR (starting it
when no node runs) exactly as `microq serve` would, so keys land where the nodes look.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from microq.embedded import EmbeddedRedis
from microq.errors import NotFound, Unavailable
from microq.keys import Keyspace
from microq.redis_client import connect
from microq.scripts import Scripts
from microq.security.api_keys import ApiKeyStore
from microq.security.keys import SecurityKeys
from microq.settings import Settings


def run(settings: Settings, args: argparse.Namespace) -> int:
    embedded = None
    url = settings.redis_url
    if not url:
        embedded = EmbeddedRedis(settings.data_dir)
        url = embedded.attach()
    try:
        return asyncio.run(_run(url, settings, args))
    except (Unavailable, RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError) as exc:
        print(f"microq: Redis is unreachable: {exc or type(exc).__name__}", file=sys.stderr)
        return 1
    finally:
        if embedded is not None:
            embedded.release()


async def _run(url: str, settings: Settings, args: argparse.Namespace) -> int:
    client = connect(url)
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
