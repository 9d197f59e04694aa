"""The properties every fault scenario asserts, shared by the scenario modules."""

from __future__ import annotations

from tests.faults.load import PART
from tests.faults.scenario import Outcome


def never_a_500(outcome: Outcome) -> None:
    assert not outcome.findings.server_errors, outcome.findings.server_errors[:10]
    assert not outcome.tracebacks, outcome.tracebacks[:2]


def nothing_acknowledged_lost(outcome: Outcome) -> None:
    assert not outcome.findings.lost, outcome.findings.lost[:10]


def every_operation_answered(outcome: Outcome) -> None:
    """Each operation got a definitive answer (2xx/4xx) by resending after 5xx, before its deadline."""
    assert not outcome.findings.unresolved, outcome.findings.unresolved[:10]


def applied_once(outcome: Outcome, part: str) -> None:
    """Each operation of `part` has exactly the effects its answers report: none twice, none
    unreported (a lost reply), and a resend with the same Idempotency-Key gets the first answer."""
    found = outcome.findings.by_part(part)
    assert not found["twice"], found["twice"][:10]
    assert not found["unreported"], found["unreported"][:10]
    assert not outcome.replay_wrong.get(part), outcome.replay_wrong.get(part, [])[:5]


def recovered_within(outcome: Outcome, seconds: float, parts: tuple[str, ...] = ("lines", "work", "topics")) -> None:
    late = {part: outcome.recovery_s.get(part) for part in parts
            if outcome.recovery_s.get(part) is None or outcome.recovery_s[part] > seconds}
    assert not late, f"first 2xx after healing later than {seconds} s: {late}"


def answered_during_fault_within(outcome: Outcome, seconds: float) -> None:
    """Every request in flight while the fault lasted was answered (2xx, 4xx or 503) within `seconds`."""
    slow = {part: s for part, s in outcome.slowest_in_fault_s.items() if s > seconds}
    assert not slow, f"requests begun during the fault answered after more than {seconds} s: {slow}"


def live_entities_kept_working(outcome: Outcome, part: str, is_live, within_s: float) -> None:
    """While the fault lasted, operations of `part` on entities whose slot is on a live primary
    got definitive answers (2xx/4xx, not 503) within `within_s`: one dead primary stops only
    its own slots."""
    start, healed = outcome.fault_window
    live = [(op, a) for op in outcome.client.ops if PART.get(op.kind) == part and is_live(part, op.entity)
            for a in op.attempts if a.started < healed and a.started + a.seconds > start]
    # a 500 is test_never_a_500's finding; here only "refused" (503, no answer) or late counts
    refused = [f"{op.kind} {op.path} -> {a.status or a.error} after {a.seconds:.1f} s" for op, a in live
               if a.status is None or (a.status >= 500 and a.status != 500) or a.seconds > within_s]
    assert live, "no request on a live primary's entity was in flight during the fault"
    assert not refused, f"{len(refused)} of {len(live)} refused or late, e.g. {refused[:5]}"
