"""Leave needs the secret join handed out (issue 10, item 8): a user id alone, which /list and
/stream publish, no longer empties a line."""

from __future__ import annotations

import hashlib

import msgpack

from microq.keys import Keyspace
from microq.lines.keys import LineKeys
from tests.lines.conftest import create_line


def _keys(line) -> LineKeys:
    return LineKeys.of(Keyspace("mq:"), line.tenant, line.queue)


async def test_join_answers_with_a_leave_token_shown_once(line, redis):
    alex = await line.join("Alex")
    token = alex["leave_token"]
    assert isinstance(token, str) and len(token) >= 32
    assert token != (await line.join("Sam"))["leave_token"]
    # nowhere else: not in status, list, or the event log
    for path in (f"/status/{alex['entry']['id']}", "/list", "/events"):
        response = await line.client.get(line.base + path, headers=line.admin)
        assert token not in await response.text(), path
    # Redis holds a digest of it, never the token
    blob = await redis.hget(_keys(line).ent, alex["entry"]["id"])
    assert token.encode() not in blob
    assert msgpack.unpackb(blob)[3] == hashlib.sha256(token.encode()).hexdigest()[:32]


async def test_leave_without_the_token_is_403_and_changes_nothing(line):
    alex = await line.join("Alex")
    url = f"{line.base}/leave/{alex['entry']['id']}"
    for headers, body in (({}, None), ({}, {}), ({"X-Leave-Token": "guess"}, None), ({}, {"token": "guess"}),
                          ({"X-Leave-Token": line.admin_key}, None), ({"X-Leave-Token": ""}, {"token": ""})):
        response = await line.client.post(url, headers=headers, json=body)
        assert response.status == 403, (headers, body)
        assert "leave token" in (await response.json())["error"]
    assert (await line.status(alex["entry"]["id"]))["position"] == 1
    events = await (await line.client.get(f"{line.base}/events", headers=line.admin)).json()
    assert [e["type"] for e in events["events"]] == ["JOIN"]


async def test_leave_with_the_token_in_the_header_or_the_body(line):
    alex, sam = await line.join("Alex"), await line.join("Sam")
    left = await line.leave(alex)
    assert left["entry"]["status"] == "left"
    response = await line.client.post(f"{line.base}/leave/{sam['entry']['id']}", json={"token": sam["leave_token"]})
    assert response.status == 200 and (await response.json())["entry"]["status"] == "left"
    assert (await (await line.client.get(f"{line.base}/list")).json())["count"] == 0


async def test_leave_refuses_a_malformed_token_with_400(line):
    alex = await line.join("Alex")
    url = f"{line.base}/leave/{alex['entry']['id']}"
    for headers, body in (({}, {"token": 12}), ({}, {"token": ["x"]}),
                          ({"X-Leave-Token": alex["leave_token"]}, {"token": "other"})):
        response = await line.client.post(url, headers=headers, json=body)
        assert response.status == 400, body
        assert "error" in await response.json()
    assert (await line.client.post(url, data=b"{not json")).status == 400
    assert (await line.status(alex["entry"]["id"]))["position"] == 1
    # both forms at once are fine when they agree
    both = await line.client.post(url, headers={"X-Leave-Token": alex["leave_token"]},
                                  json={"token": alex["leave_token"]})
    assert both.status == 200


async def test_a_token_opens_only_its_own_entry(line):
    alex, sam = await line.join("Alex"), await line.join("Sam")
    response = await line.client.post(f"{line.base}/leave/{sam['entry']['id']}",
                                      headers={"X-Leave-Token": alex["leave_token"]})
    assert response.status == 403
    assert (await line.status(sam["entry"]["id"]))["position"] == 2


async def test_join_on_one_node_leave_on_another(two_clients):
    first, second = two_clients
    line = await create_line(first)
    alex = await line.join("Alex")
    left = await line.leave(alex, client=second)
    assert left["entry"]["id"] == alex["entry"]["id"]
    status = await (await first.get(f"{line.base}/status/{alex['entry']['id']}")).json()
    assert status["entry"]["status"] == "left"


async def test_staff_still_remove_with_the_admin_key(line):
    alex = await line.join("Alex")
    response = await line.client.post(f"{line.base}/remove/{alex['entry']['id']}", headers=line.admin)
    assert response.status == 200 and (await response.json())["entry"]["status"] == "removed"
    # a finished entry: leaving again says so (409), token or not, as before
    again = await line.client.post(f"{line.base}/leave/{alex['entry']['id']}",
                                   headers={"X-Leave-Token": alex["leave_token"]})
    assert again.status == 409


async def test_an_entry_from_before_leave_tokens_leaves_by_its_id(line, redis):
    # a person who joined on the previous version has no token, and none to show: they keep
    # the old rule until they are served or leave (their entry is gone within the day)
    alex = await line.join("Alex")
    k = _keys(line)
    name, joined, type_id, _digest, _ticket = msgpack.unpackb(await redis.hget(k.ent, alex["entry"]["id"]))
    await redis.hset(k.ent, alex["entry"]["id"], msgpack.packb([name, joined, type_id]))
    response = await line.client.post(f"{line.base}/leave/{alex['entry']['id']}")
    assert response.status == 200 and (await response.json())["entry"]["status"] == "left"
