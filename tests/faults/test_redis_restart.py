"""A single Redis SIGKILLed under mixed load and started again on its AOF (appendfsync always):
every acknowledged change was on disk, so none is lost; nodes reconnect by themselves."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults import properties
from tests.faults.load import Entities
from tests.faults.processes import Processes, kill_redis
from tests.faults.scenario import Fault, run

DOWN_S = 2.0  # Redis stays dead this long before it restarts
RECOVERY_S = 5.0  # after the restart every part answers 2xx again within this (AOF replay, reconnects)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    with Processes(tmp_path_factory.mktemp("redis-restart")) as processes:
        server = processes.redis(appendonly=True)
        nodes = processes.ready_nodes(2, server.url)

        async def restart(fault: Fault) -> None:
            kill_redis(server)
            fault.inject("SIGKILL redis")
            await asyncio.sleep(DOWN_S)
            await asyncio.to_thread(server.start)
            fault.heal("redis restarted on its AOF")

        return run("single Redis restarted on AOF", [n.base for n in nodes], Entities(["a", "b"]), restart, nodes)


def test_never_a_500(outcome):
    properties.never_a_500(outcome)


def test_nothing_acknowledged_is_lost(outcome):
    properties.nothing_acknowledged_lost(outcome)


def test_every_operation_gets_an_answer(outcome):
    properties.every_operation_answered(outcome)


def test_every_part_recovers_after_the_restart(outcome):
    properties.recovered_within(outcome, RECOVERY_S)


def test_lines_applied_once(outcome):
    properties.applied_once(outcome, "lines")


def test_work_applied_once(outcome):
    properties.applied_once(outcome, "work")


def test_topics_applied_once(outcome):
    properties.applied_once(outcome, "topics")
