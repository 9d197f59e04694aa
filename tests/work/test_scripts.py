"""The work and security scripts: headers name every key, and each script's keys share a slot."""

from __future__ import annotations

import re

import pytest
from redis.crc import key_slot

from microq.keys import Keyspace
from microq.scripts import lua_dir
from microq.security.keys import SecurityKeys
from microq.work.keys import WorkKeys

SCRIPTS = sorted(p for p in lua_dir().glob("*.lua") if p.name.startswith(("work_", "security_")))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.name)
def test_header_names_each_key_and_arg(path):
    text = path.read_text()
    header = text[: text.index("]]")]
    nkeys = int(path.stem.rpartition("-")[2])
    assert sorted({int(n) for n in re.findall(r"KEYS\[(\d+)\]", header)}) == list(range(1, nkeys + 1))
    used_args = {int(n) for n in re.findall(r"ARGV\[(\d+)\]", text[len(header):])}
    assert used_args <= {int(n) for n in re.findall(r"ARGV\[(\d+)\]", header)}
    assert "Returns:" in header and "Errors:" in header
    body = text[len(header):]
    assert not re.search(r"\.\.\s*[\"']:", body), "key names are never built in Lua"


@pytest.mark.parametrize("name", ["SomeQueue", "a{b}c", "}{", "%7B", "é 🚀", " x "])  # "" is refused by the API
def test_one_queue_one_slot(name):
    queue = WorkKeys(Keyspace("mq:")).queue(name)
    keys = [queue.items, queue.seq, *queue.status_sets, queue.entity("idem:k"), queue.leases, queue.claims,
            queue.events_cursor, queue.firings_cursor]
    assert len({key_slot(k.encode()) for k in keys}) == 1
    assert len({key_slot(k.encode()) for k in queue.all + keys}) == 1 and len(set(queue.all)) == 20


def test_security_state_is_spread_over_address_and_key_slots():
    """Each script's keys share a slot, but no slot holds every address's or every key's state."""
    keys = SecurityKeys(Keyspace("mq:"))
    for address in ("1.2.3.4", "::1", "other:ab{c}"):
        assert key_slot(keys.ban(address).encode()) == key_slot(keys.failures(address).encode())
    for digest in ("ab" * 32, "cd" * 32):
        assert len({key_slot(k.encode()) for k in (keys.api_key(digest), keys.rate("queue", digest),
                                                    keys.rate("trigger{x}", digest),
                                                    keys.rate_used("queue", digest))}) == 1
    addresses = {key_slot(keys.ban(f"192.0.2.{i}").encode()) for i in range(50)}
    digests = {key_slot(keys.api_key(f"{i:064x}").encode()) for i in range(50)}
    buckets = {key_slot(keys.key_index_bucket(b).encode()) for b in range(16)}
    assert len(addresses) > 40 and len(digests) > 40 and len(buckets) == 16


def test_each_lease_bucket_keeps_its_index_and_lock_in_one_slot_of_its_own():
    keys = WorkKeys(Keyspace("mq:"))
    slots = set()
    for bucket in range(16):
        pair = {key_slot(keys.leased_queues(bucket).encode()), key_slot(keys.sweep_lock(bucket).encode())}
        assert len(pair) == 1
        slots |= pair
    assert len(slots) == 16
