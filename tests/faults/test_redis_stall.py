"""A single Redis (AOF on) stalled with SIGSTOP past MicroQ's 5 s read timeout, then SIGCONT,
under mixed load on two nodes."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults import properties
from tests.faults.load import Entities
from tests.faults.processes import Processes, pause, resume
from tests.faults.scenario import Fault, run

STALL_S = 9.0  # well past the client's 5 s socket timeout: requests in flight time out while Redis holds them
ANSWERED_WITHIN_S = 5.0 + 1.5  # a request begun during the stall is answered (503) by the 5 s read timeout, plus 1.5 s for a loaded host
RECOVERY_S = 5.0  # after SIGCONT every part answers 2xx again within this


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    with Processes(tmp_path_factory.mktemp("redis-stall")) as processes:
        server = processes.redis(appendonly=True)
        nodes = processes.ready_nodes(2, server.url)

        async def stall(fault: Fault) -> None:
            pause(server.process)
            fault.inject(f"SIGSTOP redis {STALL_S:g}s")
            await asyncio.sleep(STALL_S)
            resume(server.process)
            fault.heal("SIGCONT redis")

        return run("single Redis stalled", [n.base for n in nodes], Entities(["a", "b"]), stall, nodes)


def test_never_a_500(outcome):
    properties.never_a_500(outcome)


def test_nothing_acknowledged_is_lost(outcome):
    properties.nothing_acknowledged_lost(outcome)


def test_every_operation_gets_an_answer(outcome):
    properties.every_operation_answered(outcome)


def test_requests_during_the_stall_are_answered_in_time(outcome):
    properties.answered_during_fault_within(outcome, ANSWERED_WITHIN_S)


def test_every_part_recovers_after_sigcont(outcome):
    properties.recovered_within(outcome, RECOVERY_S)


def test_lines_applied_once(outcome):
    properties.applied_once(outcome, "lines")


def test_work_applied_once(outcome):
    properties.applied_once(outcome, "work")


def test_topics_applied_once(outcome):
    properties.applied_once(outcome, "topics")
