"""Service types: an admin API under the queue; joins carry the type's name and code."""

from __future__ import annotations


async def _create(line, **body) -> dict:
    response = await line.client.post(f"{line.base}/service-types", headers=line.admin, json=body)
    assert response.status == 201, await response.text()
    return await response.json()


async def test_crud(line):
    client = line.client
    general = await _create(line, name="General Inquiry", code="gen")
    assert general["code"] == "GEN"
    returns = await _create(line, name="Returns")
    assert returns["code"] == "RET"
    listed = await (await client.get(f"{line.base}/service-types")).json()
    assert listed["count"] == 2
    assert [t["name"] for t in listed["service_types"]] == ["General Inquiry", "Returns"]

    joined = await line.join("Alex", service_type_id=returns["id"])
    assert joined["entry"]["service_type_code"] == "RET"

    response = await client.patch(f"{line.base}/service-types/{returns['id']}", headers=line.admin,
                                  json={"name": "Returns & Exchanges"})
    assert response.status == 200
    assert (await response.json()) == {"id": returns["id"], "name": "Returns & Exchanges", "code": "RET"}
    status = await line.status(joined["entry"]["id"])
    assert status["entry"]["service_type_name"] == "Returns & Exchanges"

    response = await client.delete(f"{line.base}/service-types/{returns['id']}", headers=line.admin)
    assert response.status == 200
    status = await line.status(joined["entry"]["id"])
    assert status["entry"]["service_type_id"] == returns["id"]
    assert status["entry"]["service_type_name"] is None
    assert (await client.delete(f"{line.base}/service-types/{returns['id']}", headers=line.admin)).status == 404
    response = await client.post(f"{line.base}/join", json={"name": "Sam", "service_type_id": returns["id"]})
    assert response.status == 400


async def test_admin_only_and_errors(line):
    client = line.client
    assert (await client.post(f"{line.base}/service-types", json={"name": "X"})).status == 403
    general = await _create(line, name="General", code="GEN")
    taken = await client.post(f"{line.base}/service-types", headers=line.admin, json={"name": "Other", "code": "gen"})
    assert taken.status == 409
    assert (await client.patch(f"{line.base}/service-types/{general['id']}", json={"name": "Y"})).status == 403
    assert (await client.delete(f"{line.base}/service-types/{general['id']}")).status == 403
    assert (await client.patch(f"{line.base}/service-types/nope", headers=line.admin,
                               json={"name": "Y"})).status == 404
    assert (await client.patch(f"{line.base}/service-types/{general['id']}", headers=line.admin,
                               json={})).status == 400
    for body in ({}, {"name": ""}, {"name": 3}, {"name": "ok", "code": "far too long code"}, {"name": "ok", "code": 7}):
        response = await client.post(f"{line.base}/service-types", headers=line.admin, json=body)
        assert response.status == 400, body


async def test_limit(line):
    for i in range(100):
        await _create(line, name=f"type {i}", code=f"T{i}")
    response = await line.client.post(f"{line.base}/service-types", headers=line.admin, json={"name": "one more"})
    assert response.status == 429
