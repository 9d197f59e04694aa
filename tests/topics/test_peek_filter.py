"""TinyMQ 3's ?peek=true and filter_key/filter_val on consume. Unlike TinyMQ 3, which drops the
messages a filter skips, MicroQ leaves them ready for other consumers."""

import asyncio
import json

from tests.topics.conftest import consume, publish, stats_row, unb64


async def test_peek_true_reads_without_leasing(client):
    await publish(client, "pk", "a")
    await publish(client, "pk", "b")
    first = await consume(client, "pk", peek="true")
    assert unb64(first["payload"]) == b"a" and first["payload_text"] == "a"
    both = await consume(client, "pk", peek="true", limit="5")
    assert [unb64(m["payload"]) for m in both] == [b"a", b"b"]
    row = await stats_row(client, "pk")
    assert row["Ready"] == 2 and row["InFlight"] == 0
    taken = await consume(client, "pk")
    assert taken["id"] == first["id"]
    await consume(client, "empty-topic", status=404, peek="true")
    await consume(client, "pk.*", status=400, peek="true")


async def test_filter_delivers_matches_and_leaves_the_others_ready(client):
    docs = [{"region": "eu", "n": 0}, {"region": "us", "n": 1}, {"region": "eu", "n": 2}, "not json",
            {"region": "eu", "n": 1000000}, {"flag": True}, {"nothing": None}]
    for doc in docs:
        await publish(client, "fl", doc if not isinstance(doc, str) else doc.encode())
    assert (await consume(client, "fl", filter_key="n", filter_val="1e6", peek="true"))["payload_text"] \
        == json.dumps(docs[4])  # numbers compare as numbers
    eu = await consume(client, "fl", filter_key="region", filter_val="eu", limit="10")
    assert [json.loads(unb64(m["payload"]))["n"] for m in eu] == [0, 2, 1000000]
    await consume(client, "fl", status=404, filter_key="region", filter_val="eu")
    assert json.loads((await consume(client, "fl", filter_key="flag", filter_val="true"))["payload_text"]) == docs[5]
    assert json.loads((await consume(client, "fl", filter_key="nothing", filter_val="null"))["payload_text"]) == docs[6]
    rest = await consume(client, "fl", limit="10")  # unfiltered: what the filters left, in order
    assert [unb64(m["payload"]) for m in rest] == [json.dumps(docs[1]).encode(), b"not json"]


async def test_a_filtered_long_poll_wakes_for_a_match_and_leaves_the_rest(two_clients):
    a, b = two_clients
    waiting = asyncio.create_task(consume(a, "lp", filter_key="k", filter_val="yes", timeout="5s"))
    plain = asyncio.create_task(consume(b, "lp", timeout="5s"))
    await asyncio.sleep(0.3)
    await publish(b, "lp", {"k": "no"})
    assert json.loads(unb64((await plain)["payload"])) == {"k": "no"}
    await publish(b, "lp", {"k": "yes"})
    assert json.loads(unb64((await waiting)["payload"])) == {"k": "yes"}


async def test_filter_looks_at_a_bounded_number_of_messages(client):
    batch = [{"payload": __import__("base64").b64encode(json.dumps({"k": i}).encode()).decode()} for i in range(250)]
    assert (await client.post("/publish/many/batch", json=batch)).status == 202
    await consume(client, "many", status=404, filter_key="k", filter_val="220")  # past the 200 looked at
    assert (await consume(client, "many", filter_key="k", filter_val="150"))["payload_text"] == '{"k": 150}'
    for query in ({"filter_key": "k" * 201}, {"filter_key": "k", "filter_val": "v" * 1001}):
        assert (await client.get("/consume/many", params=query)).status == 400
