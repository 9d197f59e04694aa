"""A node SIGKILLed under mixed load (three nodes on one Redis with AOF); a replacement starts.

Requests the dead node had in flight get no answer; the client resends them, same
Idempotency-Key, to another node."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults import properties
from tests.faults.load import Entities
from tests.faults.processes import Processes
from tests.faults.scenario import Fault, run

RECOVERY_S = 2.0  # the surviving nodes never stopped: every part answers 2xx within this once the replacement is up
BURSTS = 4  # each a state change of every kind on every entity, sent to the victim just before the kill


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    with Processes(tmp_path_factory.mktemp("node-kill")) as processes:
        server = processes.redis(appendonly=True)
        nodes = processes.ready_nodes(3, server.url)

        async def kill_one(fault: Fault) -> None:
            victim = nodes[0]
            # a burst of state changes at the victim, so the kill cuts requests in flight
            burst = [asyncio.create_task(fault.client.send(op, first_to=victim.base))
                     for _ in range(BURSTS) for op in fault.load.burst_ops()]
            await asyncio.sleep(0.005)
            victim.kill()
            fault.inject(f"SIGKILL node :{victim.port} with {len(burst)} requests sent to it")
            fault.client.drop_node(victim.base)  # as a load balancer's health check would
            spare = processes.node(server.url)
            await asyncio.to_thread(spare.wait_ready)
            fault.client.add_node(spare.base)
            fault.heal(f"replacement node :{spare.port} ready")
            await asyncio.gather(*burst)

        return run("node SIGKILL", [n.base for n in nodes], Entities(["a", "b"]), kill_one, nodes[1:])


def test_never_a_500(outcome):
    properties.never_a_500(outcome)


def test_nothing_acknowledged_is_lost(outcome):
    properties.nothing_acknowledged_lost(outcome)


def test_every_operation_gets_an_answer(outcome):
    properties.every_operation_answered(outcome)


def test_every_part_answers_right_after_the_kill(outcome):
    properties.recovered_within(outcome, RECOVERY_S)


def test_lines_applied_once(outcome):
    properties.applied_once(outcome, "lines")


def test_work_applied_once(outcome):
    properties.applied_once(outcome, "work")


def test_topics_applied_once(outcome):
    properties.applied_once(outcome, "topics")
