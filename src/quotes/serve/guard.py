"""What stands in front of every request: the token, the body size limit, the host check and the
security headers (a strict Content-Security-Policy: everything the pages use comes from this server).

Pure ASGI middleware, so a refused request never reaches a route and a body over the limit is never
read into memory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "quotes_session"
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)


def session_value(token: str) -> str:
    """What the browser keeps after logging in: derived from the token, never the token itself."""
    return hmac.new(token.encode(), b"quotes serve session", hashlib.sha256).hexdigest()


def token_matches(token: str, given: str) -> bool:
    return hmac.compare_digest(token.encode(), given.encode())


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _wants_json(scope: Scope) -> bool:
    return str(scope.get("path", "")).startswith("/v1/") or str(scope.get("path", "")) == "/openapi.json"


def _hostname(host: str) -> str:
    """The Host header without its port ("[::1]:8000" → "[::1]")."""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0]


async def _refuse(
    scope: Scope,
    send: Send,
    status: int,
    message: str,
    *,
    html_page: str | None = None,
    headers: tuple[tuple[bytes, bytes], ...] = (),
) -> None:
    if _wants_json(scope) or html_page is None:
        body = json.dumps({"detail": message}).encode()
        kind = b"application/json"
    else:
        body = html_page.encode()
        kind = b"text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


class Guard:
    """Security headers on every answer; then, in order: the Host must be this machine's when bound to
    loopback (no DNS rebinding), a token when one is set (401 without it), and a body no larger than
    `max_body` bytes (413).

    `page` renders an HTML answer for a refused page request: `page(status, message)`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        max_body: int,
        loopback_only: bool,
        page: Callable[[int, str, str], str],
        open_paths: frozenset[str] = frozenset({"/login"}),
    ) -> None:
        self.app = app
        self.token = token
        self.session = session_value(token) if token else None
        self.max_body = max_body
        self.loopback_only = loopback_only
        self.page = page
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        path = str(scope.get("path", ""))
        if self.loopback_only:
            host = _hostname(_header(scope, b"host") or "")
            if host not in LOOPBACK_HOSTS:
                await _refuse(scope, send_secured, 421, "this server answers only to localhost")
                return
        open_path = path in self.open_paths or path.startswith("/static/")
        if self.token and not open_path and not self._authorized(scope):
            message = "this server needs its token: send the header 'Authorization: Bearer <token>'"
            await _refuse(
                scope,
                send_secured,
                401,
                message,
                html_page=self.page(401, "This server needs its token.", path),
                headers=((b"www-authenticate", b'Bearer realm="quotes"'),),
            )
            return
        length = _header(scope, b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await self._too_large(scope, send_secured)
            return
        await self._limited(scope, receive, send_secured)

    def _authorized(self, scope: Scope) -> bool:
        assert self.token is not None
        assert self.session is not None
        authorization = _header(scope, b"authorization") or ""
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and token_matches(self.token, given.strip()):
            return True
        cookie = SimpleCookie()
        try:
            cookie.load(_header(scope, b"cookie") or "")
        except Exception:
            return False
        morsel = cookie.get(SESSION_COOKIE)
        return morsel is not None and hmac.compare_digest(self.session, morsel.value)

    async def _too_large(self, scope: Scope, send: Send) -> None:
        message = (
            f"the request is larger than this server takes ({self.max_body:,} bytes; "
            "quotes serve --max-request-bytes)"
        )
        await _refuse(scope, send, 413, message, html_page=self.page(413, message, str(scope.get("path"))))

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body as it streams in: past the limit, the answer is a 413
        and the route sees the client gone."""
        received = 0
        refused = False
        responded = False

        async def counting_receive() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    refused = True
                    if not responded:
                        await self._too_large(scope, send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if refused:
                return
            responded = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
