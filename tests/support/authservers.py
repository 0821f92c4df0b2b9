"""A local identity provider for tests: RFC 7662 introspection and a JWKS endpoint on a real uvicorn.

`with identity_provider() as idp:` serves one on 127.0.0.1 (a free port). Switches:
- `idp.delay`: seconds each answer waits (for timeouts and concurrent-request tests);
- `idp.down`: every endpoint answers 503;
- `idp.rotate()`: a new signing key (new `kid`) replaces the published ones.
Counters `idp.introspections` and `idp.jwks_fetches` say how often each endpoint was called.
"""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from support.server import serve

__all__ = ["CLIENT_ID", "CLIENT_SECRET", "IdentityProvider", "SigningKey", "identity_provider"]

CLIENT_ID = "pymcp-tests"
CLIENT_SECRET = "introspection-secret"  # a test fixture, not a credential


@dataclass
class SigningKey:
    """A private key with its `kid` and algorithm; `jwk` is the public half as published in the JWKS."""

    kid: str
    algorithm: str
    private_key: Any

    @property
    def jwk(self) -> dict[str, Any]:
        algorithm = jwt.get_algorithm_by_name(self.algorithm)
        public = algorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        return {**public, "kid": self.kid, "use": "sig", "alg": self.algorithm}


def new_key(algorithm: str = "RS256") -> SigningKey:
    if algorithm.startswith(("RS", "PS")):
        private_key: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"no test key for `{algorithm}`")
    return SigningKey(kid=uuid.uuid4().hex[:12], algorithm=algorithm, private_key=private_key)


@dataclass
class IdentityProvider:
    """The state behind the endpoints; tests change it while the server runs."""

    issuer: str = "https://idp.test"
    base_url: str = ""
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    keys: list[SigningKey] = field(default_factory=list)
    delay: float = 0.0
    down: bool = False
    introspections: int = 0
    jwks_fetches: int = 0

    @property
    def introspection_url(self) -> str:
        return self.base_url + "/introspect"

    @property
    def jwks_url(self) -> str:
        return self.base_url + "/jwks"

    def add_token(self, token: str, **claims: Any) -> None:
        """An active token with these claims (`active: False` and `exp` can be overridden)."""
        self.tokens[token] = {"active": True, "iss": self.issuer, **claims}

    def rotate(self, algorithm: str = "RS256") -> SigningKey:
        key = new_key(algorithm)
        self.keys = [key]
        return key

    def issue(self, claims: Mapping[str, Any], *, key: SigningKey | None = None, **header: Any) -> str:
        """A JWT signed with `key` (default: the newest published key); standard claims filled in."""
        key = key or self.keys[-1]
        now = int(time.time())
        payload = {"iss": self.issuer, "iat": now, "exp": now + 300, **claims}
        return jwt.encode(
            payload,
            key.private_key,
            algorithm=key.algorithm,
            headers={"kid": key.kid, "typ": "at+jwt", **header},
        )

    async def _introspect(self, request: Request) -> Response:
        self.introspections += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            return Response(status_code=503)
        expected = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        if request.headers.get("authorization") != expected:
            return JSONResponse({"error": "invalid_client"}, status_code=401)
        form = dict(parse_qsl((await request.body()).decode()))
        if form.get("token") == "not-json":
            return Response(b"<html>oops</html>", media_type="text/html")
        return JSONResponse(self.tokens.get(form.get("token", ""), {"active": False}))

    async def _jwks(self, request: Request) -> Response:
        self.jwks_fetches += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.down:
            return Response(status_code=503)
        return JSONResponse({"keys": [key.jwk for key in self.keys]})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/introspect", self._introspect, methods=["POST"]),
                Route("/jwks", self._jwks, methods=["GET"]),
            ]
        )


@contextmanager
def identity_provider() -> Iterator[IdentityProvider]:
    """A running identity provider with one RS256 signing key."""
    idp = IdentityProvider(keys=[new_key("RS256")])
    with serve(idp.app()) as base_url:
        idp.base_url = base_url
        yield idp
