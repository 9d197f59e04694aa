async def test_configured_origins_get_cors_headers(make_client):
    client = await make_client(cors_origins=("https://kiosk.example",))
    response = await client.get("/healthz", headers={"Origin": "https://kiosk.example"})
    assert response.headers.get("Access-Control-Allow-Origin") == "https://kiosk.example"
    preflight = await client.options("/readyz", headers={
        "Origin": "https://kiosk.example", "Access-Control-Request-Method": "GET"})
    assert preflight.status == 200
    assert preflight.headers.get("Access-Control-Allow-Origin") == "https://kiosk.example"


async def test_other_origins_get_none(make_client):
    client = await make_client(cors_origins=("https://kiosk.example",))
    response = await client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_no_origins_configured_means_no_cors(client):
    response = await client.get("/healthz", headers={"Origin": "https://kiosk.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
