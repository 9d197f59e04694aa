"""A bounded mixed load on all three parts, a ledger of every request, and the checks on it.

Each *operation* is one thing a client wants done (join one person, serve one, create one item,
claim one, mark one DONE, publish one message, consume one, ack one). It carries its own
Idempotency-Key and is sent until it gets a definitive answer (2xx or 4xx); on a 5xx or no
answer at all it is sent again, same key, same body, to the next node, as the README tells a
client to do after a 502/503. Every attempt is recorded, so the checks can compare what Redis
holds with what the clients were told:

- nothing acknowledged (a 2xx) is lost;
- nothing is applied twice, and nothing is applied that no answer reports: every effect in
  Redis belongs to exactly one operation, and every operation has at most one effect;
- never a 500.

The load is bounded in count (MAX_OPS per worker) and in time (the scenario stops it).
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from tests.faults.processes import API_KEY

MAX_OPS = 400  # per worker: the load stays bounded even if a scenario forgets to stop it
ATTEMPT_TIMEOUT_S = 20.0  # one HTTP attempt; longer than MicroQ's 5 s Redis timeout, so MicroQ answers first
OP_DEADLINE_S = 45.0  # an operation is given up (recorded as unresolved) after this long
RETRY_PAUSE_S = 0.2
WORKER_PAUSE_S = 0.02  # between operations of one worker: about 50 a second each, at most
SEED_PEOPLE = 40  # people in each line and NEW items in each work queue before the load starts
WORK = {"X-API-Key": API_KEY}


@dataclass
class Attempt:
    node: str
    status: int | None  # None: no HTTP answer (connection refused or cut, client timeout)
    error: str
    started: float  # time.monotonic()
    seconds: float


@dataclass
class Op:
    kind: str
    entity: str
    method: str
    path: str
    body: Any = None  # JSON-able, or bytes sent as is
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    headers: dict[str, str] = field(default_factory=dict)
    attempts: list[Attempt] = field(default_factory=list)
    status: int | None = None  # the definitive answer's status; None while unresolved
    answer: Any = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Client:
    """Sends operations round robin over the live nodes and keeps the ledger."""

    def __init__(self, session: aiohttp.ClientSession, bases: list[str]) -> None:
        self.session = session
        self.bases = list(bases)
        self.ops: list[Op] = []
        self._turn = 0

    def add_node(self, base: str) -> None:
        self.bases.append(base)

    def drop_node(self, base: str) -> None:
        if base in self.bases and len(self.bases) > 1:
            self.bases.remove(base)

    async def send(self, op: Op, record: bool = True, first_to: str | None = None) -> Op:
        """Send until a definitive answer; the first attempt goes to `first_to` when given."""
        if record:
            self.ops.append(op)
        give_up = time.monotonic() + OP_DEADLINE_S
        while True:
            self._turn += 1
            base = first_to if first_to and not op.attempts else self.bases[self._turn % len(self.bases)]
            # checks read with plain GETs; every operation of the load carries its own key
            headers = dict(op.headers) if op.kind == "verify" else {"Idempotency-Key": op.key, **op.headers}
            kwargs: dict[str, Any] = {"data": op.body} if isinstance(op.body, bytes) else {"json": op.body}
            if op.body is None:
                kwargs = {}
            started = time.monotonic()
            status, error, answer = None, "", None
            try:
                async with self.session.request(op.method, base + op.path, headers=headers,
                                                timeout=aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_S),
                                                **kwargs) as response:
                    status = response.status
                    text = await response.text()
                    try:
                        answer = json.loads(text) if text else None
                    except ValueError:
                        answer = text
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as exc:
                error = type(exc).__name__
            op.attempts.append(Attempt(base, status, error, started, time.monotonic() - started))
            if status is not None and status < 500:
                op.status, op.answer = status, answer
                return op
            if time.monotonic() > give_up:
                return op
            await asyncio.sleep(RETRY_PAUSE_S)

    # -- counts for the report

    def attempts(self) -> list[Attempt]:
        return [a for op in self.ops for a in op.attempts]

    def summary(self) -> dict[str, Any]:
        by_status = collections.Counter(str(a.status or a.error) for a in self.attempts())
        by_kind = collections.Counter(op.kind for op in self.ops)
        return {"operations": len(self.ops), "requests": len(self.attempts()),
                "answers": dict(sorted(by_status.items())), "by_kind": dict(sorted(by_kind.items())),
                "retried": sum(len(op.attempts) > 1 for op in self.ops),
                "unresolved": sum(op.status is None for op in self.ops)}


@dataclass
class Entities:
    """One line, one work queue and one topic per name in `names` (on a Cluster: one per primary)."""

    names: list[str]
    admin_keys: dict[str, str] = field(default_factory=dict)

    def line(self, name: str) -> str:
        return f"/api/faults/{name}"

    def work_queue(self, name: str) -> str:
        return f"fq-{name}"

    def topic(self, name: str) -> str:
        return f"ft.{name}"


class MixedLoad:
    """Workers for all three parts, on every entity, until `stop()` or MAX_OPS each."""

    def __init__(self, client: Client, entities: Entities) -> None:
        self.client = client
        self.entities = entities
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._serial = 0
        self.claimed_pending: dict[str, list[str]] = collections.defaultdict(list)

    def _next(self, prefix: str) -> str:
        self._serial += 1
        return f"{prefix}{self._serial}"

    # -- set-up, before any fault

    async def prepare(self) -> None:
        for name in self.entities.names:
            created = await self.client.send(Op("create-line", name, "POST", "/api/faults/queues",
                                                {"queue_id": name, "name": f"Line {name}"}), record=False)
            assert created.status == 201, (created.status, created.answer)
            self.entities.admin_keys[name] = created.answer["admin_key"]
            for _ in range(SEED_PEOPLE):
                await self.client.send(self.join_op(name))
                await self.client.send(self.create_op(name))

    # -- one operation of each kind

    def join_op(self, name: str) -> Op:
        person = self._next("p")
        return Op("join", name, "POST", f"{self.entities.line(name)}/join", {"name": person})

    def serve_op(self, name: str) -> Op:
        return Op("serve", name, "POST", f"{self.entities.line(name)}/serve-next", {},
                  headers={"X-Admin-Key": self.entities.admin_keys[name]})

    def create_op(self, name: str) -> Op:
        return Op("create", name, "POST", "/api/queue",
                  {"queue_name": self.entities.work_queue(name), "data": self._next("w")}, headers=dict(WORK))

    def claim_op(self, name: str) -> Op:
        return Op("claim", name, "POST", f"/api/queue/{self.entities.work_queue(name)}/claim",
                  {"claimed_by": "fault-worker"}, headers=dict(WORK))

    def done_op(self, name: str, item_id: str) -> Op:
        return Op("done", name, "POST", f"/api/queue/{self.entities.work_queue(name)}/items/{item_id}/status",
                  {"status": "DONE", "message": "done"}, headers=dict(WORK))

    def publish_op(self, name: str) -> Op:
        return Op("publish", name, "POST", f"/publish/{self.entities.topic(name)}", self._next("m").encode())

    def consume_op(self, name: str) -> Op:
        return Op("consume", name, "GET", f"/consume/{self.entities.topic(name)}?timeout=500ms&visibility=3s")

    def ack_op(self, name: str, message_id: str) -> Op:
        return Op("ack", name, "POST", f"/ack/{self.entities.topic(name)}/{message_id}")

    # -- workers

    async def _lines(self, name: str) -> None:
        for turn in range(MAX_OPS):
            if self._stop.is_set():
                return
            await self.client.send(self.join_op(name) if turn % 2 == 0 else self.serve_op(name))
            await asyncio.sleep(WORKER_PAUSE_S)

    async def _work(self, name: str) -> None:
        for turn in range(MAX_OPS):
            if self._stop.is_set():
                return
            if turn % 2 == 0:
                await self.client.send(self.create_op(name))
            else:
                claim = await self.client.send(self.claim_op(name))
                item = (claim.answer or {}).get("item") if claim.ok else None
                if item:
                    await self.client.send(self.done_op(name, item["id"]))
            await asyncio.sleep(WORKER_PAUSE_S)

    async def _topics(self, name: str) -> None:
        for turn in range(MAX_OPS):
            if self._stop.is_set():
                return
            if turn % 2 == 0:
                await self.client.send(self.publish_op(name))
            else:
                got = await self.client.send(self.consume_op(name))
                if got.ok and isinstance(got.answer, dict):
                    await self.client.send(self.ack_op(name, got.answer["id"]))
            await asyncio.sleep(WORKER_PAUSE_S)

    def burst_ops(self) -> list[Op]:
        """One operation of every kind that changes state, on every entity (for a burst at one node)."""
        ops = []
        for name in self.entities.names:
            ops += [self.join_op(name), self.serve_op(name), self.create_op(name), self.claim_op(name),
                    self.publish_op(name)]
        return ops

    def start(self) -> None:
        for name in self.entities.names:
            for worker in (self._lines, self._work, self._topics):
                self._tasks.append(asyncio.create_task(worker(name)))

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


# -- checks ------------------------------------------------------------------------------------


async def _get_json(client: Client, path: str, headers: dict[str, str] | None = None) -> Any:
    op = await client.send(Op("verify", "", "GET", path, headers=headers or {}), record=False)
    assert op.status == 200, (path, op.status, op.answer)
    return op.answer


async def lines_effects(client: Client, entities: Entities, name: str) -> tuple[collections.Counter, collections.Counter]:
    """From the line's event log: JOIN events per person's name, SERVE events per user id."""
    joins: collections.Counter = collections.Counter()
    serves: collections.Counter = collections.Counter()
    since = ""
    while True:
        page = await _get_json(client, f"{entities.line(name)}/events?limit=1000&since={since}",
                               {"X-Admin-Key": entities.admin_keys[name]})
        for event in page["events"]:
            if event["type"] == "JOIN":
                joins[event["meta"]["name"]] += 1
            elif event["type"] == "SERVE":
                serves[event["user_id"]] += 1
        if not page["events"]:
            return joins, serves
        since = page["next"]


async def work_items(client: Client, entities: Entities, name: str) -> list[dict]:
    items: list[dict] = []
    for status in ("NEW", "IN_PROGRESS", "DONE", "FAILED", "ABANDONED"):
        after = ""
        while True:
            page = await _get_json(client, f"/api/queue/{entities.work_queue(name)}/items?status={status}"
                                           f"&limit=500{'&after=' + after if after else ''}", WORK)
            items.extend(page["items"])
            if not page["next"]:
                break
            after = page["next"]
    return items


async def drain_topic(client: Client, entities: Entities, name: str) -> list[dict]:
    """Every message still in the topic (ready, or back from an expired lease), acked as read."""
    messages: list[dict] = []
    quiet_until = time.monotonic() + 4.0  # longer than the load's 3 s visibility: leases lapse first
    while time.monotonic() < quiet_until:
        op = await client.send(Op("verify", name, "GET",
                                  f"/consume/{entities.topic(name)}?limit=1000&timeout=1s&auto_ack=true"),
                               record=False)
        if op.status == 200:
            messages.extend(op.answer)
            quiet_until = time.monotonic() + 4.0
        else:
            assert op.status == 404, (op.status, op.answer)
    return messages


@dataclass
class Findings:
    """What Redis holds, compared with what clients were told; each list names offenders."""

    lost: list[str] = field(default_factory=list)  # acknowledged, not there
    twice: list[str] = field(default_factory=list)  # one operation, two effects
    unreported: list[str] = field(default_factory=list)  # an effect no answer reports (a lost reply)
    server_errors: list[str] = field(default_factory=list)  # 500s (any 5xx but 502/503/504)
    unresolved: list[str] = field(default_factory=list)  # no definitive answer before OP_DEADLINE_S

    def by_part(self, part: str) -> dict[str, list[str]]:
        return {k: [x for x in v if x.startswith(part)] for k, v in self.__dict__.items()}


PART = {"join": "lines", "serve": "lines", "create": "work", "claim": "work", "done": "work",
        "publish": "topics", "consume": "topics", "ack": "topics"}


async def check(client: Client, entities: Entities) -> Findings:
    found = Findings()
    ops = client.ops
    for op in ops:
        for attempt in op.attempts:
            if attempt.status is not None and attempt.status >= 500 and attempt.status not in (502, 503, 504):
                found.server_errors.append(f"{PART[op.kind]}: {op.kind} {op.path} -> {attempt.status}")
        if op.status is None:
            found.unresolved.append(f"{PART[op.kind]}: {op.kind} {op.path}")
    for name in entities.names:
        mine = [op for op in ops if op.entity == name]
        # lines: a join is its person's name; a serve is the user id it answered
        joins, serves = await lines_effects(client, entities, name)
        for op in mine:
            if op.kind == "join":
                person = op.body["name"]
                if op.ok and joins[person] == 0:
                    found.lost.append(f"lines: join of {person} answered {op.status}")
                if joins[person] > 1:
                    found.twice.append(f"lines: {person} joined {joins[person]} times")
                if not op.ok and joins[person]:
                    found.unreported.append(f"lines: {person} joined, answered {op.status}")
        answered = collections.Counter(op.answer["served"]["id"] for op in mine
                                       if op.kind == "serve" and op.ok and op.answer.get("served"))
        for user, times in serves.items():
            if times > 1:
                found.twice.append(f"lines: {user} served {times} times")
            if not answered[user]:
                found.unreported.append(f"lines: {user} served, no serve-next answer says so")
        for user, times in answered.items():
            if not serves[user]:
                found.lost.append(f"lines: serve of {user} answered, no SERVE in the log")
            if times > 1:
                found.twice.append(f"lines: {user} given by {times} serve-next answers")
        # work: an item is its data; a claim is the item id it answered
        items = await work_items(client, entities, name)
        by_data = collections.Counter(item["data"] for item in items)
        status_of = {item["id"]: item["status"] for item in items}
        for op in mine:
            if op.kind == "create":
                data = op.body["data"]
                if op.ok and not by_data[data]:
                    found.lost.append(f"work: item {data} answered {op.status}")
                if by_data[data] > 1:
                    found.twice.append(f"work: item {data} created {by_data[data]} times")
                if not op.ok and by_data[data]:
                    found.unreported.append(f"work: item {data} created, answered {op.status}")
            if op.kind == "done" and op.ok and status_of.get(op.answer["item"]["id"]) != "DONE":
                found.lost.append(f"work: DONE of {op.path} answered 200, item is "
                                  f"{status_of.get(op.answer['item']['id'])}")
        claimed = collections.Counter(op.answer["item"]["id"] for op in mine
                                      if op.kind == "claim" and op.ok and op.answer.get("item"))
        for item_id, times in claimed.items():
            if times > 1:
                found.twice.append(f"work: item {item_id} handed out by {times} claims")
        for item in items:
            if item["status"] != "NEW" and not claimed[item["id"]]:
                found.unreported.append(f"work: item {item['id']} is {item['status']}, no claim answer says so")
        # topics: a message is its payload; publish answers carry its id
        remaining = await drain_topic(client, entities, name)
        seen_ids: dict[str, set[str]] = collections.defaultdict(set)  # payload -> message ids
        for op in mine:
            if op.kind == "consume" and op.ok and isinstance(op.answer, dict):
                seen_ids[base64.b64decode(op.answer["payload"]).decode()].add(op.answer["id"])
        for message in remaining:
            seen_ids[base64.b64decode(message["payload"]).decode()].add(message["id"])
        published = {op.body.decode(): op for op in mine if op.kind == "publish"}
        for payload, op in published.items():
            if op.ok and not seen_ids[payload]:
                found.lost.append(f"topics: message {payload} answered {op.status}, never delivered")
            if len(seen_ids[payload]) > 1:
                found.twice.append(f"topics: message {payload} stored {len(seen_ids[payload])} times")
            if not op.ok and seen_ids[payload]:
                found.unreported.append(f"topics: message {payload} stored, answered {op.status}")
    return found


async def replay(client: Client, per_kind: int = 5) -> dict[str, list[str]]:
    """Send acknowledged operations again with their own keys, as a client that never saw the
    answer would; each must get the first answer back. Differences by part."""
    wrong: dict[str, list[str]] = collections.defaultdict(list)
    chosen: dict[str, list[Op]] = collections.defaultdict(list)
    for op in client.ops:
        if op.ok and op.kind in ("join", "serve", "create", "claim", "done", "publish", "ack") \
                and len(chosen[op.kind]) < per_kind:
            chosen[op.kind].append(op)
    for kind, ops in chosen.items():
        for op in ops:
            again = await client.send(Op(op.kind, op.entity, op.method, op.path, op.body, op.key, op.headers),
                                      record=False)
            if not same_answer((op.status, op.answer), (again.status, again.answer)):
                wrong[PART[kind]].append(f"{kind} {op.path}: first {op.status} {op.answer!r:.80}, "
                                         f"again {again.status} {again.answer!r:.80}")
    return dict(wrong)


def same_answer(first: tuple[int, object], again: tuple[int, object]) -> bool:
    """A resend with the same Idempotency-Key got the first answer. A publish's resend answers as
    TinyMQ 3 does (issue 11): 200 {"status": "ignored", "reason": "idempotency_key_exists", ...}
    naming the first call's message id (or ids): the same message, nothing stored twice."""
    if again == first:
        return True
    (status, answer), (again_status, again_answer) = first, again
    if not (isinstance(answer, dict) and isinstance(again_answer, dict)):
        return False
    return (status == 202 and answer.get("status") == "accepted" and again_status == 200
            and again_answer.get("status") == "ignored" and again_answer.get("reason") == "idempotency_key_exists"
            and all(again_answer.get(field) == answer.get(field) for field in ("topic", "id", "ids", "count")))
