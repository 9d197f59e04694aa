"""One primary of a 3-primary Redis Cluster (AOF on, cluster-require-full-coverage no) killed
and restarted, or stalled with SIGSTOP, under mixed load on two nodes.

The victim is the primary that owns the work API's security slot (`{work}`), which is not the
node named in REDIS_URL (a node whose REDIS_URL primary is down cannot start today), nor the
owner of this client's own address and API key slots (`{a:...}`, `{k:...}`, see
processes.API_KEY). Entities on the other primaries must keep working: one dead primary
stops only its own slots."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from tests.faults import properties
from tests.faults.load import Entities
from tests.faults.processes import API_KEY, Processes, kill_redis, pause, resume
from tests.faults.scenario import Fault, run

NAMES = ["c0", "c1", "c2", "c3", "c4", "c5"]  # six of each entity, spread over the three primaries
DOWN_S = 4.0  # the killed primary stays down this long, then restarts on its AOF and nodes.conf
STALL_S = 9.0  # past the client's 5 s socket timeout (and the 5 s cluster-node-timeout)
ANSWERED_WITHIN_S = 5.0 + 1.5  # a request to the stalled primary is answered (503) by the 5 s timeout, plus slack
LIVE_ANSWER_S = 3.0  # a request on a live primary's entity is answered within this, fault or not (2 loaded cores)
RECOVERY_S = 10.0  # after the primary is back every part answers 2xx again within this
SECURITY_KEY = "mq:sec:{work}:keys"


def _tags(part: str, name: str) -> str:
    return {"lines": f"x:{{faults/{name}}}", "work": f"x:{{fq-{name}}}", "topics": f"x:{{ft.{name}}}"}[part]


def _scenario(tmp_path_factory, label: str, stall: bool):
    with Processes(tmp_path_factory.mktemp(label)) as processes:
        cluster = processes.cluster(appendonly=True)
        victim = cluster.node_for_key(SECURITY_KEY)
        for tag in ("a:127.0.0.1", f"k:{hashlib.sha256(API_KEY.encode()).hexdigest()}"):
            assert cluster.node_for_key(f"x:{{{tag}}}") is not victim, f"{tag} shares the victim's slots"
        seed = next(n for n in cluster.nodes if n is not victim)
        owner = {(part, name): cluster.node_for_key(_tags(part, name)).port
                 for part in ("lines", "work", "topics") for name in NAMES}
        nodes = processes.ready_nodes(2, seed.url, cluster=True)

        async def fault(f: Fault) -> None:
            if stall:
                pause(victim.process)
                f.inject(f"SIGSTOP primary :{victim.port} {STALL_S:g}s")
                await asyncio.sleep(STALL_S)
                resume(victim.process)
                f.heal("SIGCONT primary")
            else:
                kill_redis(victim)
                f.inject(f"SIGKILL primary :{victim.port}")
                await asyncio.sleep(DOWN_S)
                await asyncio.to_thread(victim.start)
                f.heal("primary restarted on its AOF")

        outcome = run(f"Cluster primary {'stalled' if stall else 'killed'}", [n.base for n in nodes],
                      Entities(NAMES), fault, nodes)
        outcome.is_live = lambda part, name: owner[(part, name)] != victim.port
        return outcome


@pytest.fixture(scope="module")
def killed(tmp_path_factory):
    return _scenario(tmp_path_factory, "cluster-kill", stall=False)


@pytest.fixture(scope="module")
def stalled(tmp_path_factory):
    return _scenario(tmp_path_factory, "cluster-stall", stall=True)


@pytest.mark.parametrize("scenario", [
    "killed", "stalled"])
def test_never_a_500(request, scenario):
    properties.never_a_500(request.getfixturevalue(scenario))


@pytest.mark.parametrize("scenario", ["killed", "stalled"])
def test_nothing_acknowledged_is_lost(request, scenario):
    properties.nothing_acknowledged_lost(request.getfixturevalue(scenario))


@pytest.mark.parametrize("scenario", ["killed", "stalled"])
def test_every_operation_gets_an_answer(request, scenario):
    properties.every_operation_answered(request.getfixturevalue(scenario))


@pytest.mark.parametrize("scenario", ["killed", "stalled"])
def test_every_part_recovers(request, scenario):
    properties.recovered_within(request.getfixturevalue(scenario), RECOVERY_S)


def test_requests_to_a_stalled_primary_are_answered_in_time(stalled):
    properties.answered_during_fault_within(stalled, ANSWERED_WITHIN_S)


@pytest.mark.parametrize("scenario, part", [(scenario, part) for scenario in ("killed", "stalled")
                                           for part in ("lines", "work", "topics")])
def test_entities_on_live_primaries_keep_working(request, scenario, part):
    outcome = request.getfixturevalue(scenario)
    properties.live_entities_kept_working(outcome, part, outcome.is_live, LIVE_ANSWER_S)


@pytest.mark.parametrize("scenario, part", [(scenario, part) for scenario in ("killed", "stalled")
                                           for part in ("lines", "work", "topics")])
def test_applied_once(request, scenario, part):
    properties.applied_once(request.getfixturevalue(scenario), part)
