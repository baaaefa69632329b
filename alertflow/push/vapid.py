"""VAPID (RFC 8292): the application server's key pair and its signed `Authorization` headers.

py-vapid does the JWT signing (ES256); this module only loads the key, makes new pairs and
reuses each push service's header until it nears expiry (one ECDSA signature per service per
few hours instead of one per push).
"""

from __future__ import annotations

import base64
import os
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from py_vapid import Vapid02

TOKEN_LIFETIME_S = 12 * 3600  # RFC 8292 §2: at most 24 h
RENEW_BEFORE_S = 3600


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def public_key_b64(vapid: Vapid02) -> str:
    """The `applicationServerKey` browsers subscribe with (uncompressed point, base64url)."""
    raw = vapid.public_key.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
    return b64url(raw)


def load(path: str | Path) -> Vapid02:
    """The private key from a PEM file (e.g. a mounted Kubernetes Secret); never generates one."""
    text = Path(path).read_bytes()
    if b"-----BEGIN" not in text:
        raise ValueError(f"{path}: not a PEM private key (make one with `alertflow push keygen`)")
    return Vapid02.from_pem(text)


def generate(directory: str | Path) -> tuple[Path, str]:
    """A new key pair: writes DIR/vapid-private.pem (mode 0600); returns (path, public key)."""
    vapid = Vapid02()
    vapid.generate_keys()
    path = Path(directory) / "vapid-private.pem"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(vapid.private_pem())
    return path, public_key_b64(vapid)


class VapidSigner:
    def __init__(self, vapid: Vapid02, subject: str) -> None:
        self._vapid = vapid
        self._subject = subject
        self._headers: dict[str, tuple[float, str]] = {}
        self.public_key = public_key_b64(vapid)

    def authorization(self, audience: str) -> str:
        """`vapid t=…,k=…` for the push service at `audience` (scheme://host[:port])."""
        now = time.time()
        cached = self._headers.get(audience)
        if cached and cached[0] - now > RENEW_BEFORE_S:
            return cached[1]
        expires = int(now) + TOKEN_LIFETIME_S
        header: str = self._vapid.sign(
            {"aud": audience, "exp": expires, "sub": self._subject})["Authorization"]
        self._headers[audience] = (expires, header)
        return header
