"""One fault scenario: mixed load, a fault injected and healed, then the ledger checked.

`run(...)` drives it on its own event loop (the scenario fixtures are module-scoped and
synchronous, so one scenario's minutes are shared by several small tests, one per property).
What it did is kept in `Outcome` and printed in the terminal summary (tests/faults/conftest.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import aiohttp

from tests.faults.load import PART, Client, Entities, Findings, MixedLoad, check, replay

WARMUP_S = 2.0  # load before the fault
AFTER_S = 4.0  # load after the fault is healed, so recovery is measured under load

OUTCOMES: list["Outcome"] = []  # for the terminal summary


@dataclass
class Outcome:
    name: str
    summary: dict[str, Any] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    findings: Findings = field(default_factory=Findings)
    replay_wrong: dict[str, list[str]] = field(default_factory=dict)
    fault_window: tuple[float, float] = (0.0, 0.0)  # monotonic: injected, healed
    recovery_s: dict[str, float | None] = field(default_factory=dict)  # part -> first 2xx after healing
    slowest_in_fault_s: dict[str, float] = field(default_factory=dict)  # part -> longest attempt in flight during the fault
    during_fault: dict[str, dict[str, int]] = field(default_factory=dict)  # part -> answers of attempts in flight during it
    tracebacks: list[str] = field(default_factory=list)
    client: Client | None = None
    is_live: Any = None  # (part, entity) -> bool, for Cluster scenarios

    def lines(self) -> list[str]:
        out = [f"{self.name}: faults {self.faults}", f"  {self.summary}",
               f"  recovery after healing (s): {self.recovery_s}",
               f"  slowest answer to a request in flight during the fault (s): {self.slowest_in_fault_s}",
               f"  answers to requests in flight during the fault: {self.during_fault}"]
        for kind, items in self.findings.__dict__.items():
            if items:
                out.append(f"  {kind}: {len(items)}, e.g. {items[:3]}")
        for part, items in self.replay_wrong.items():
            out.append(f"  replay differs ({part}): {len(items)}, e.g. {items[:2]}")
        if self.tracebacks:
            out.append(f"  node tracebacks: {len(self.tracebacks)}")
        return out


class Fault:
    """Handed to a scenario's fault function: the running client and load, and a log."""

    def __init__(self, outcome: Outcome, client: Client, load: MixedLoad) -> None:
        self.outcome = outcome
        self.client = client
        self.load = load
        self.injected = 0.0
        self.healed = 0.0

    def inject(self, what: str) -> None:
        self.outcome.faults.append(what)
        if not self.injected:
            self.injected = time.monotonic()

    def heal(self, what: str) -> None:
        self.outcome.faults.append(what)
        self.healed = time.monotonic()


def _measure(outcome: Outcome, client: Client) -> None:
    start, healed = outcome.fault_window
    for part in ("lines", "work", "topics"):
        attempts = [a for op in client.ops if PART.get(op.kind) == part for a in op.attempts]
        after = sorted(a.started + a.seconds for a in attempts
                       if a.started >= healed and a.status is not None and 200 <= a.status < 300)
        outcome.recovery_s[part] = round(after[0] - healed, 2) if after else None
        during = [a for a in attempts if a.started < healed and a.started + a.seconds > start]  # in flight
        outcome.slowest_in_fault_s[part] = round(max((a.seconds for a in during), default=0.0), 2)
        counts: dict[str, int] = {}
        for a in during:
            counts[str(a.status or a.error)] = counts.get(str(a.status or a.error), 0) + 1
        outcome.during_fault[part] = counts


async def _run(outcome: Outcome, bases: list[str], entities: Entities,
               fault: Callable[[Fault], Awaitable[None]]) -> None:
    connector = aiohttp.TCPConnector(limit=64, force_close=False)
    async with aiohttp.ClientSession(connector=connector) as session:
        client = Client(session, bases)
        outcome.client = client
        load = MixedLoad(client, entities)
        await load.prepare()
        load.start()
        try:
            await asyncio.sleep(WARMUP_S)
            control = Fault(outcome, client, load)
            await fault(control)
            outcome.fault_window = (control.injected, control.healed or time.monotonic())
            await asyncio.sleep(AFTER_S)
        finally:
            await load.stop()
        outcome.summary = client.summary()
        _measure(outcome, client)
        # a client that never saw its answers sends some acknowledged requests again, same key;
        # the ledger check below then also sees any effect those resends applied
        outcome.replay_wrong = await replay(client)
        outcome.findings = await check(client, entities)


def run(name: str, bases: list[str], entities: Entities, fault: Callable[[Fault], Awaitable[None]],
        nodes: list | None = None) -> Outcome:
    outcome = Outcome(name)
    OUTCOMES.append(outcome)
    try:
        asyncio.run(_run(outcome, bases, entities, fault))
    finally:
        for node in nodes or []:
            outcome.tracebacks.extend(node.tracebacks())
    print("\n".join(outcome.lines()))
    return outcome
