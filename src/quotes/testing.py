"""A local OpenAI-compatible server for tests and benchmarks: real HTTP on 127.0.0.1, scripted replies.

    def handler(request: StubRequest) -> StubReply:
        return StubReply(json=chat_completion('{"quotes": []}'))

    with StubServer(handler) as server:
        backend = LLMBackend(LLMConfig(model="stub-model", base_url=server.base_url))

The handler sees each POST /v1/chat/completions (parsed body, headers, 0-based request number) and
decides the status, body, headers and an optional delay (to provoke client timeouts). GET /v1/models
lists `model_ids`, or answers `models_reply` when one is given (a 401, a 404, a hang).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from quotes.store import chat_completion_body

DEFAULT_MODEL = "stub-model"


@dataclass(frozen=True)
class StubRequest:
    number: int
    method: str
    path: str
    headers: dict[str, str]
    json: Any


@dataclass(frozen=True)
class StubReply:
    """`json` is sent as the body; `text` instead sends raw text (for malformed replies)."""

    status: int = 200
    json: Any = None
    text: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[StubRequest], StubReply]


def chat_completion(
    content: str | None,
    *,
    model: str = DEFAULT_MODEL,
    finish_reason: str = "stop",
    prompt_tokens: int = 100,
    completion_tokens: int = 20,
    refusal: str | None = None,
) -> dict[str, Any]:
    """A chat.completion body in the exact OpenAI wire format."""
    return chat_completion_body(
        content,
        model=model,
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        refusal=refusal,
    )


def said_answer(pairs: Iterable[tuple[str, str]]) -> str:
    """The content of an answer reporting each (quote, speaker) pair as a direct statement cued by "said":
    what a scripted model of the tests and benchmarks answers."""
    records = [
        {
            "quote": quote,
            "speaker": speaker,
            "speaker_mention": speaker,
            "speaker_type": "person",
            "kind": "direct",
            "cue": "said",
            "about": [],
        }
        for quote, speaker in pairs
    ]
    return json.dumps({"quotes": records})


def error_body(message: str, type: str = "invalid_request_error", code: str | None = None) -> dict[str, Any]:
    """An error body as OpenAI sends it."""
    return {"error": {"message": message, "type": type, "param": None, "code": code}}


def replies(*scripted: StubReply) -> Handler:
    """A handler answering request n with `scripted[n]`, and every later request with the last reply."""
    if not scripted:
        raise ValueError("replies() needs at least one reply")
    return lambda request: scripted[min(request.number, len(scripted) - 1)]


class StubServer:
    def __init__(
        self,
        handler: Handler,
        *,
        model_ids: tuple[str, ...] = (DEFAULT_MODEL,),
        models_reply: StubReply | None = None,
    ) -> None:
        self.handler = handler
        self.model_ids = model_ids
        self.models_reply = models_reply
        self.models_requests = 0
        self._lock = threading.Lock()
        self._requests: list[StubRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the stub server is not running")
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[StubRequest]:
        """Chat-completion requests received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self._requests)

    def start(self) -> StubServer:
        self._stopping.clear()
        self._server = _Server(("127.0.0.1", 0), _make_handler_class(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="stub-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> StubServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _receive(self, method: str, path: str, headers: dict[str, str], body: Any) -> StubRequest:
        with self._lock:
            request = StubRequest(len(self._requests), method, path, headers, body)
            self._requests.append(request)
        return request

    def _reply(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> StubReply:
        route = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and route == "/v1/models":
            with self._lock:
                self.models_requests += 1
            if self.models_reply is not None:
                return self.models_reply
            models = [{"id": m, "object": "model", "created": 0, "owned_by": "stub"} for m in self.model_ids]
            return StubReply(json={"object": "list", "data": models})
        if method != "POST" or route != "/v1/chat/completions":
            return StubReply(404, json=error_body(f"no route {method} {path}", code="not_found"))
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError as exc:
            return StubReply(400, json=error_body(f"request body is not JSON: {exc}"))
        request = self._receive(method, path, headers, body)
        try:
            return self.handler(request)
        except Exception as exc:  # a broken test handler should read as such, not as a hang
            return StubReply(500, json=error_body(f"stub handler raised {exc!r}", type="server_error"))


class _Server(ThreadingHTTPServer):
    # The default listen backlog of 5 stalls a client opening 32 connections at once.
    request_queue_size = 128


def _make_handler_class(stub: StubServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read the recorded requests instead."""

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = stub._reply(method, self.path, headers, raw)
            if reply.delay and stub._stopping.wait(reply.delay):
                return
            if reply.text is not None:
                payload, content_type = reply.text.encode("utf-8"), "text/plain; charset=utf-8"
            else:
                payload, content_type = json.dumps(reply.json).encode("utf-8"), "application/json"
            try:
                self.send_response(reply.status)
                if not any(name.lower() == "content-type" for name in reply.headers):
                    self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(payload)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test): nothing to answer

    return _Handler
