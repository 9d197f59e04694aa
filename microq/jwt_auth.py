"""Bearer JWTs (PyJWT): the keys MICROQ_JWT_* name, and verification of one token.

Off unless a key is configured. Each algorithm has one fixed key, chosen by the token's
`alg` header: HS256 the shared secret, RS256 the PEM public key, and a JWKS file's keys by the
token's `kid` (RS256 or ES256, as the key says). So a token cannot pick its own key (the
"alg confusion" of RS256 keys used as HMAC secrets), and `none` is never accepted. `exp` is
required; `aud` and `iss` are checked when configured. A part reads the claims it needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

#: seconds of clock difference tolerated on exp, nbf and iat
LEEWAY = 30
#: shortest HS256 secret (RFC 7518 3.2: a key of at least the hash's size, 256 bits)
MIN_SECRET_BYTES = 32
#: longest token read (a header line, not a document)
MAX_TOKEN = 8192
_JWKS_ALGORITHMS = ("RS256", "ES256")


class TokenError(Exception):
    """A token that does not verify; str() says why, for a 403."""


def secret(text: str) -> str:
    """MICROQ_JWT_SECRET: at least MIN_SECRET_BYTES bytes ("" : off)."""
    if text and len(text.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"expected a secret of at least {MIN_SECRET_BYTES} bytes")
    return text


def _read(path_text: str) -> str:
    path = Path(path_text.strip())
    try:
        return path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {str(path)!r}: {exc.__class__.__name__}") from None


def public_key_file(path_text: str) -> RSAPublicKey | None:
    """MICROQ_JWT_PUBLIC_KEY: the path of a PEM RSA public key (RS256); "": off."""
    if not path_text.strip():
        return None
    try:
        key = load_pem_public_key(_read(path_text).encode())
    except ValueError as exc:
        if str(exc).startswith("cannot read"):
            raise
        raise ValueError("expected a PEM public key file (-----BEGIN PUBLIC KEY-----)") from None
    if not isinstance(key, RSAPublicKey):
        raise ValueError("expected an RSA public key (RS256)")
    return key


def jwks_file(path_text: str) -> jwt.PyJWKSet | None:
    """MICROQ_JWT_JWKS: the path of a JWKS document ({"keys": [...]}, public keys with a `kid`); "": off."""
    if not path_text.strip():
        return None
    text = _read(path_text)
    try:
        keys = jwt.PyJWKSet.from_dict(json.loads(text))
    except (ValueError, jwt.PyJWKError, jwt.PyJWKSetError, TypeError, AttributeError) as exc:
        raise ValueError(f"expected a JWKS document with usable keys: {exc}") from None
    if not all(k.key_id for k in keys.keys):
        raise ValueError("every key of the JWKS needs a kid")
    return keys


@dataclass(frozen=True)
class Verifier:
    """Verifies bearer tokens against the configured keys; `enabled` when any is set."""

    hs256_secret: str = field(default="", repr=False)
    rs256_key: RSAPublicKey | None = None
    jwks: jwt.PyJWKSet | None = None
    audience: str = ""
    issuer: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.hs256_secret or self.rs256_key or self.jwks)

    def claims(self, token: str) -> dict[str, Any]:
        """The token's claims, or TokenError saying why it is not accepted."""
        if len(token) > MAX_TOKEN:
            raise TokenError("bearer token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise TokenError("bearer token is not a JWT") from None
        alg, kid = header.get("alg"), header.get("kid")
        key: Any = None
        if alg == "HS256" and self.hs256_secret:
            key = self.hs256_secret
        elif alg == "RS256" and self.rs256_key is not None and (kid is None or self.jwks is None):
            key = self.rs256_key
        elif alg in _JWKS_ALGORITHMS and self.jwks is not None and isinstance(kid, str):
            found = next((k for k in self.jwks.keys if k.key_id == kid), None)
            if found is None:
                raise TokenError("bearer token's kid is not in the JWKS")
            if found.algorithm_name != alg:
                raise TokenError(f"bearer token's alg {alg} is not its key's")
            key = found.key
        if key is None:
            raise TokenError(f"bearer token algorithm {alg!r} is not accepted here")
        try:
            return jwt.decode(token, key, algorithms=[alg], audience=self.audience or None,
                              issuer=self.issuer or None, leeway=LEEWAY,
                              options={"require": ["exp"], "verify_aud": bool(self.audience)})
        except jwt.ExpiredSignatureError:
            raise TokenError("bearer token has expired") from None
        except jwt.InvalidTokenError as exc:
            raise TokenError(f"bearer token rejected: {exc}") from None
