async def test_join_status_serve(line):
    joined = await line.join()
    assert joined["position"] == 1
    status = await line.status(joined["entry"]["id"])
    assert status["position"] == 1
    served = await line.serve()
    assert served["served"]["id"] == joined["entry"]["id"]
    status = await line.status(joined["entry"]["id"])
    assert status["entry"]["status"] == "served"
    r = await line.client.get(f"{line.base}/list")
    print(await r.json())
