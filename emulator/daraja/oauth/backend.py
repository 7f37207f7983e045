"""Issuing and checking access tokens (reference 1); knows nothing of HTTP."""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from emulator.daraja.oauth.models import Token, TokenCodec
from emulator.kernel.errors import (
    InvalidAccessToken,
    InvalidAuthentication,
    InvalidGrantType,
    UnknownCredentials,
)
from emulator.kernel.ids import IdSource
from emulator.kernel.store import Persistence

log = logging.getLogger("emulator.oauth")
GRANT_TYPE = "client_credentials"
EXPIRES_IN = "3599"  # a string on the wire, in every capture


def _basic_credentials(authorization: str | None) -> tuple[str, str]:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidAuthentication()
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidAuthentication() from None
    key, sep, secret = decoded.partition(":")
    if not sep or not key or not secret:
        raise InvalidAuthentication()
    return key, secret


def _missing_why(authorization: str | None, scheme: str, value: str) -> str:
    """Why no token record matched: no header, another scheme, or a token never issued here."""
    if not (authorization or "").strip():
        return "no Authorization header: send 'Authorization: Bearer <access_token>'"
    if scheme.lower() != "bearer":
        return f"the Authorization header is not 'Bearer <token>' (scheme {scheme[:20]!r})"
    if not value:
        return "the Authorization header is 'Bearer' with no token"
    return ("the token was never issued by this emulator (another server's token, or one "
            "issued before a restart without --state)")


class OAuthBackend:
    def __init__(
        self,
        ids: IdSource,
        apps: Mapping[str, str],
        lifetime: float = 3600.0,
        persistence: Persistence | None = None,
    ) -> None:
        self.tokens: dict[str, Token] = {}  # maps access token -> its app and expiry
        self._persistence = persistence
        self._codec = TokenCodec()
        self._ids = ids
        self._apps = apps  # consumer key -> secret; empty accepts any credentials
        self._lifetime = timedelta(seconds=lifetime)
        self._issued = 0

    def issue(self, authorization: str | None, grant_type: str | None, now: datetime) -> Token:
        key, secret = _basic_credentials(authorization)
        if grant_type != GRANT_TYPE:
            raise InvalidGrantType()
        if self._apps and self._apps.get(key) != secret:
            log.info("oauth refused: consumer key %r is not a configured app (see --app)", key)
            raise UnknownCredentials()
        token = Token(self._ids.token(), key, now + self._lifetime)
        self._add(token)
        self._prune(now)
        return token

    def check(self, authorization: str | None, now: datetime) -> Token:
        """The Bearer token's record, or InvalidAccessToken (missing, unknown or expired)."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None:
            raise InvalidAccessToken(why=_missing_why(authorization, scheme, value.strip()))
        if token.expires_at <= now:
            ago = (now - token.expires_at).total_seconds()
            raise InvalidAccessToken(why=f"the token expired {ago:.0f} s ago "
                                     f"({token.expires_at:%H:%M:%S} UTC); get a new one from "
                                     f"/oauth/v1/generate")
        return token

    def expire_all(self, now: datetime) -> int:
        """Make every issued token expire now (for testing a client's token refresh)."""
        tokens = self.tokens
        for value, token in list(tokens.items()):
            self._add(Token(value, token.consumer_key, min(token.expires_at, now)))
        return len(tokens)

    def consumer_of(self, value: str) -> str | None:
        """The consumer key an access token was issued to (for the rate limit), if known."""
        token = self.tokens.get(value)
        return token.consumer_key if token else None

    def restore(self, now: datetime) -> None:
        """Tokens still valid at `now` from the state file (expired ones are dropped), in
        expiry order, as the pruning expects."""
        if self._persistence is None:
            return
        rows = [self._codec.from_row(row) for row in self._persistence.rows(self._codec.kind)]
        expired = [t.value for t in rows if t.expires_at <= now]
        if expired:
            self._persistence.remove(self._codec.kind, expired)
        for token in sorted((t for t in rows if t.expires_at > now), key=lambda t: t.expires_at):
            self.tokens[token.value] = token

    def _add(self, token: Token) -> None:
        self.tokens[token.value] = token
        if self._persistence is not None:
            self._persistence.save(self._codec.kind, token.value, self._codec.to_row(token))

    def _prune(self, now: datetime) -> None:
        """Forget expired tokens. Every token lives as long, so the dict (insertion order) is in
        expiry order: sweep from its front and stop at the first live one."""
        self._issued += 1
        if self._issued % 100 == 0:
            tokens = self.tokens
            expired = []
            for value, token in tokens.items():
                if token.expires_at > now:
                    break
                expired.append(value)
            for value in expired:
                del tokens[value]
