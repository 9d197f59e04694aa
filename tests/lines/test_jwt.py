"""Bearer JWTs in place of the queue's admin key: real HS256, RS256 and JWKS tokens (PyJWT,
cryptography), two nodes, and every refusal is a 403 that changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from microq.settings import Settings, SettingsError

from tests.lines.conftest import create_line

SECRET = "s3cret-s3cret-s3cret-s3cret-s3cret!"


def _hs(claims: dict, secret: str = SECRET, **header) -> str:
    return jwt.encode({"exp": int(time.time()) + 300, **claims}, secret, algorithm="HS256", headers=header or None)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _hmac_by_hand(claims: dict, secret: bytes) -> str:
    """An HS256 token whose secret is a PEM (PyJWT refuses to make one, as it should)."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    header = json.dumps({"alg": "HS256", "typ": "JWT"}).encode()
    signing = f"{b64(header)}.{b64(json.dumps(claims).encode())}"
    return f"{signing}.{b64(hmac.new(secret, signing.encode(), hashlib.sha256).digest())}"


@pytest.fixture(scope="module")
def rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _pem(key) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


async def test_hs256_admin_and_staff_on_two_nodes(make_client):
    a, b = await make_client(jwt_secret=SECRET), await make_client(jwt_secret=SECRET)
    line = await create_line(a)
    admin, staff = _hs({"tenant_id": "acme", "role": "admin", "sub": "ann"}), _hs({"tenant_id": "acme", "role": "staff"})
    person = await line.join("Ada")
    response = await b.post(f"{line.base}/serve-next", headers=_bearer(staff), json={})
    assert response.status == 200 and (await response.json())["served"]["id"] == person["entry"]["id"]
    for client, token in ((a, admin), (b, staff)):
        for path in (f"{line.base}/events", f"{line.base}/history", "/api/acme/queues/support/analytics"):
            response = await client.get(path, headers=_bearer(token))
            assert response.status == 200, (path, await response.text())
    # admin may change the setup; staff may not (and a refusal changes nothing)
    response = await a.patch("/api/acme/queues/support", headers=_bearer(admin), json={"name": "Desk A"})
    assert response.status == 200 and (await response.json())["name"] == "Desk A"
    refused = [
        ("PATCH", "/api/acme/queues/support", {"name": "Hijacked"}),
        ("POST", "/api/acme/queues/support/rotate-key", {}),
        ("POST", f"{line.base}/service-types", {"name": "Returns"}),
        ("POST", f"{line.base}/counters", {"name": "Desk 9", "id": "d9"}),
    ]
    for method, path, body in refused:
        response = await b.request(method, path, headers=_bearer(staff), json=body)
        assert response.status == 403, (method, path)
        assert "staff may not" in (await response.json())["error"]
    assert (await a.post(f"{line.base}/counters", headers=_bearer(admin), json={"name": "D", "id": "d1"})).status == 201
    response = await b.patch(f"{line.base}/counters/d1", headers=_bearer(staff), json={"open": False})
    assert response.status == 200  # staff open and close counters
    assert (await b.patch(f"{line.base}/counters/d1", headers=_bearer(staff), json={"name": "X"})).status == 403
    config = await (await a.get("/api/acme/queues/support")).json()
    assert config["name"] == "Desk A"
    # the admin key still works beside JWTs, and wins when both are sent
    assert (await b.post(f"{line.base}/serve-next", headers={**line.admin, **_bearer("garbage")}, json={})).status == 200


async def test_refusals_are_403_with_a_reason(make_client):
    client = await make_client(jwt_secret=SECRET)
    line = await create_line(client)
    await line.join("Ada")
    cases = {
        "expired": _hs({"tenant_id": "acme", "role": "admin", "exp": int(time.time()) - 120}),
        "another tenant": _hs({"tenant_id": "other", "role": "admin"}),
        "role must be": _hs({"tenant_id": "acme", "role": "viewer"}),
        "rejected": _hs({"tenant_id": "acme", "role": "admin"}, secret="another-secret-another-secret-00"),
        "not a JWT": "not.a.jwt",
        "not accepted": jwt.encode({"tenant_id": "acme", "role": "admin", "exp": int(time.time()) + 60}, None,
                                   algorithm="none"),
        "rejected: Token is missing the \"exp\"": jwt.encode({"tenant_id": "acme", "role": "admin"}, SECRET,
                                                             algorithm="HS256"),
    }
    for reason, token in cases.items():
        response = await client.post(f"{line.base}/serve-next", headers=_bearer(token), json={})
        assert response.status == 403, reason
        assert reason in (await response.json())["error"], (reason, await response.json())
    assert (await (await client.get(f"{line.base}/list")).json())["count"] == 1  # nobody was served


async def test_jwt_is_off_by_default(client):
    line = await create_line(client)
    response = await client.post(f"{line.base}/serve-next", headers=_bearer(_hs({"tenant_id": "acme", "role": "admin"})),
                                 json={})
    assert response.status == 403 and "X-Admin-Key" in (await response.json())["error"]


async def test_rs256_public_key_and_jwks_files(make_client, tmp_path: Path, rsa_key):
    pem = tmp_path / "key.pem"
    pem.write_bytes(_pem(rsa_key))
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(rsa_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    settings = Settings.from_env({"MICROQ_JWT_PUBLIC_KEY": str(pem), "MICROQ_JWT_AUDIENCE": "microq",
                                  "MICROQ_JWT_ISSUER": "https://idp.example"}, dotenv=None)
    by_pem = await make_client(jwt_public_key=settings.jwt_public_key, jwt_audience="microq",
                               jwt_issuer="https://idp.example")
    by_jwks = await make_client(jwt_jwks=Settings.from_env({"MICROQ_JWT_JWKS": str(jwks)}, dotenv=None).jwt_jwks)
    line = await create_line(by_pem)
    claims = {"tenant_id": "acme", "role": "admin", "exp": int(time.time()) + 60}
    good = jwt.encode({**claims, "aud": "microq", "iss": "https://idp.example"}, rsa_key, algorithm="RS256")
    assert (await by_pem.get(f"{line.base}/events", headers=_bearer(good))).status == 200
    for bad in (jwt.encode(claims, rsa_key, algorithm="RS256"),  # no aud / iss
                jwt.encode({**claims, "aud": "other", "iss": "https://idp.example"}, rsa_key, algorithm="RS256"),
                # HS256 signed with the public key as the secret: the alg-confusion attack
                _hmac_by_hand(claims, _pem(rsa_key))):
        assert (await by_pem.get(f"{line.base}/events", headers=_bearer(bad))).status == 403
    by_kid = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "k1"})
    assert (await by_jwks.get(f"{line.base}/events", headers=_bearer(by_kid))).status == 200
    unknown = jwt.encode(claims, rsa_key, algorithm="RS256", headers={"kid": "k2"})
    response = await by_jwks.get(f"{line.base}/events", headers=_bearer(unknown))
    assert response.status == 403 and "kid" in (await response.json())["error"]


def test_bad_jwt_settings_are_one_line_errors(tmp_path: Path):
    (tmp_path / "bad.pem").write_text("hello")
    (tmp_path / "bad.json").write_text("{}")
    for name, value in (("MICROQ_JWT_SECRET", "short"), ("MICROQ_JWT_PUBLIC_KEY", str(tmp_path / "missing.pem")),
                        ("MICROQ_JWT_PUBLIC_KEY", str(tmp_path / "bad.pem")), ("MICROQ_JWT_JWKS", str(tmp_path / "bad.json"))):
        with pytest.raises(SettingsError, match=f"^{name}: ") as caught:
            Settings.from_env({name: value}, dotenv=None)
        assert "\n" not in str(caught.value)
    off = Settings.from_env({"MICROQ_JWT_SECRET": "", "MICROQ_JWT_PUBLIC_KEY": "", "MICROQ_JWT_JWKS": ""}, dotenv=None)
    assert (off.jwt_secret, off.jwt_public_key, off.jwt_jwks) == ("", None, None)


async def test_joining_a_public_line_ignores_a_bad_token_and_a_private_one_says_why(make_client):
    client = await make_client(jwt_secret=SECRET)
    line = await create_line(client)
    expired = _hs({"tenant_id": "acme", "role": "staff", "exp": int(time.time()) - 120})
    response = await client.post(f"{line.base}/join", headers=_bearer(expired), json={"name": "Ada"})
    assert response.status == 201
    await client.patch("/api/acme/queues/support", headers=line.admin, json={"is_public": False})
    response = await client.post(f"{line.base}/join", headers=_bearer(expired), json={"name": "Bo"})
    assert response.status == 403 and "expired" in (await response.json())["error"]
    staff = _hs({"tenant_id": "acme", "role": "staff"})
    assert (await client.post(f"{line.base}/join", headers=_bearer(staff), json={"name": "Cy"})).status == 201
