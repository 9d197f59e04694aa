"""Script headers and key layout: every key of a line in one Cluster slot, compact entries."""

from __future__ import annotations

import re

from redis.crc import key_slot

from microq.keys import Keyspace
from microq.lines.keys import LineKeys
from microq.scripts import lua_dir

from tests.lines.conftest import create_line


def test_headers_name_every_key_and_arg():
    for path in sorted(lua_dir().glob("lines_*.lua")):
        nkeys = int(path.stem.rpartition("-")[2])
        text = path.read_text()
        header = text.split("]]", 1)[0]
        assert _named("KEYS", header) == set(range(1, nkeys + 1)), path.name
        used_args = {int(n) for n in re.findall(r"ARGV\[(\d+)\]", text.split("]]", 1)[1])}
        documented = _named("ARGV", header)
        assert used_args <= documented, path.name
        assert "Returns:" in header and "Errors:" in header, path.name


def _named(what: str, header: str) -> set[int]:
    """The indexes a header documents: KEYS[3], KEYS[13..15] (ARGV alike)."""
    named: set[int] = set()
    for first, last in re.findall(what + r"\[(\d+)(?:\.\.(\d+))?\]", header):
        named |= set(range(int(first), int(last or first) + 1))
    return named


def test_one_line_is_one_slot():
    for tenant, queue in (("acme", "support"), ("a", "b"), ("T-1", "q_2")):
        k = LineKeys.of(Keyspace("mq:"), tenant, queue)
        keys = [v for name, v in vars(k).items() if name != "channel"] + [k.analytics("2026-12-01")]
        assert len({key_slot(key.encode()) for key in keys}) == 1


async def test_memory_per_waiting_person_is_small(client, redis):
    line = await create_line(client)
    for i in range(300):
        await line.join(f"Person {i:04d}")
    k = LineKeys.of(Keyspace("mq:"), "acme", "support")
    used = sum([await redis.memory_usage(key, samples=0) or 0 for key in (k.wait, k.ent)])
    assert used / 300 <= 300
