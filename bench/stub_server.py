"""An OpenAI-compatible stub server playing a perfect model, for benchmarks (real HTTP on 127.0.0.1).

    .venv/bin/python bench/stub_server.py [--gold PATH] [--latency 0.3] [--faults 0.2] [--seed 1]

prints one JSON line `{"base_url": ...}` and serves until interrupted. Gold quotes are read at run time
from ../shared/eval/polnear/gold-dev.jsonl relative to the repository (never copied into it); without
them the server says so and exits with status 2.

Every chat completion is answered `latency` seconds after it arrived, waiting in its own thread, so
concurrent requests are served concurrently. Usage is estimated the same way for every client — one
token per 4 characters of the prompt (message contents plus the response_format JSON) and of the
answer — and reported in the response's `usage`. A seeded fraction of requests fails (429, 500,
malformed JSON, output cut at the token limit, or JSON that breaks the schema); whether a request
fails depends only on the seed, its body and how often that body was sent before, not on arrival
order.

Control endpoints: GET /bench/stats, POST /bench/reset,
POST /bench/config {"latency", "fault_rate", "seed", "fault_kinds" (default: all of FAULTS)}.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from perfect_model import GoldIndex, UnknownRequest, answer, read_request
from quotes.evaluate import EvalInputError, load_gold
from quotes.testing import DEFAULT_MODEL, chat_completion, error_body

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = REPO.parent / "shared" / "eval" / "polnear" / "gold-dev.jsonl"
FAULTS = ("rate_limited", "server_error", "malformed", "truncated", "schema_invalid")
CHARS_PER_TOKEN = 4


def tokens(chars: int) -> int:
    return -(-chars // CHARS_PER_TOKEN)


def prompt_text(body: dict[str, Any]) -> str:
    """The request as a provider would tokenize it: the response format, then each message in order."""
    parts = []
    if "response_format" in body:
        parts.append(json.dumps(body["response_format"], ensure_ascii=False, sort_keys=True))
    for message in body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        role = message.get("role") if isinstance(message, dict) else None
        parts.append(f"<{role}>{content if isinstance(content, str) else ''}")
    return "\n".join(parts)


def common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix, by bisection over C-speed slice comparisons."""
    lo, hi = 0, min(len(a), len(b))
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


@dataclass
class Stats:
    requests: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    clients: Counter[str] = field(default_factory=Counter)
    prompt_chars: int = 0
    completion_chars: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prefix_chars: int = 0
    prefix_total: int = 0
    prefix_share_sum: float = 0.0
    prefix_pairs: int = 0
    ambiguous: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    articles: set[str] = field(default_factory=set)
    first_at: float | None = None
    last_at: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "outcomes": dict(self.outcomes),
            "clients": dict(self.clients),
            "prompt_chars": self.prompt_chars,
            "completion_chars": self.completion_chars,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "prefix_share_mean": self.prefix_share_sum / self.prefix_pairs if self.prefix_pairs else None,
            "prefix_share_weighted": self.prefix_chars / self.prefix_total if self.prefix_total else None,
            "ambiguous_chunks": self.ambiguous,
            "max_in_flight": self.max_in_flight,
            "articles": sorted(self.articles),
            "busy_seconds": (self.last_at - self.first_at) if self.first_at and self.last_at else 0.0,
        }


@dataclass(frozen=True)
class Reply:
    status: int
    payload: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


class PerfectModel:
    """The request → reply logic, with its counters; thread-safe."""

    def __init__(
        self, index: GoldIndex, latency: float = 0.0, fault_rate: float = 0.0, seed: int = 1
    ) -> None:
        self.index = index
        self.latency = latency
        self.fault_rate = fault_rate
        self.fault_kinds: tuple[str, ...] = FAULTS
        self.seed = seed
        self._lock = threading.Lock()
        self._seen: Counter[str] = Counter()
        self._previous = ""
        self.stats = Stats()

    def configure(
        self, latency: float, fault_rate: float, seed: int, fault_kinds: Sequence[str] = FAULTS
    ) -> None:
        unknown = set(fault_kinds) - set(FAULTS)
        if unknown or not fault_kinds:
            raise ValueError(f"fault kinds must be some of {', '.join(FAULTS)}, not {sorted(unknown)}")
        with self._lock:
            self.latency, self.fault_rate, self.seed = latency, fault_rate, seed
            self.fault_kinds = tuple(fault_kinds)

    def reset(self) -> dict[str, Any]:
        with self._lock:
            before = self.stats.to_dict()
            self.stats = Stats()
            self._seen.clear()
            self._previous = ""
        return before

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self.stats.to_dict()

    def enter(self) -> None:
        with self._lock:
            self.stats.in_flight += 1
            self.stats.max_in_flight = max(self.stats.max_in_flight, self.stats.in_flight)

    def leave(self) -> None:
        with self._lock:
            self.stats.in_flight -= 1
            self.stats.last_at = time.monotonic()

    def complete(self, body: dict[str, Any]) -> Reply:
        prompt = prompt_text(body)
        # Only faults depend on the body and how often it came before: no need to serialize it without.
        canonical = json.dumps(body, sort_keys=True, ensure_ascii=False) if self.fault_rate > 0 else None
        with self._lock:
            stats = self.stats
            stats.requests += 1
            stats.first_at = stats.first_at or time.monotonic()
            shared = common_prefix(prompt, self._previous) if self._previous else None
            self._previous = prompt
            if shared is not None:
                stats.prefix_chars += shared
                stats.prefix_total += len(prompt)
                stats.prefix_share_sum += shared / len(prompt) if prompt else 0.0
                stats.prefix_pairs += 1
            stats.prompt_chars += len(prompt)
            stats.prompt_tokens += tokens(len(prompt))
            latency, fault = self.latency, None
            if canonical is not None:
                attempt = self._seen[canonical]
                self._seen[canonical] += 1
                fault = self._fault(canonical, attempt)
        try:
            request = read_request(body)
            located = self.index.locate(request.candidates)
        except UnknownRequest as exc:
            self._count("unknown_request")
            return Reply(400, error_body(f"perfect-model stub: {exc}"), delay=latency)
        content = answer(request, self.index.visible(located))
        with self._lock:
            self.stats.clients[request.client] += 1
            self.stats.articles.add(located.article.id)
            self.stats.ambiguous += located.ambiguous
        if fault == "rate_limited":
            self._count(fault)
            return Reply(
                429,
                error_body("rate limited by the stub", "requests", "rate_limit_exceeded"),
                {"retry-after-ms": "200"},
            )
        if fault == "server_error":
            self._count(fault)
            return Reply(500, error_body("the stub failed on purpose", "server_error"), delay=latency)
        finish = "stop"
        if fault == "malformed":
            cut = content.rfind("}")
            content = content[:cut] + content[cut + 1 :]
        elif fault == "truncated":
            content, finish = content[: len(content) // 2], "length"
        elif fault == "schema_invalid":
            inner = content.removeprefix("```json\n").removesuffix("\n```")
            content = content.replace(inner, json.dumps({"answer": json.loads(inner)}, ensure_ascii=False))
        self._count(fault or "ok")
        with self._lock:
            self.stats.completion_chars += len(content)
            self.stats.completion_tokens += tokens(len(content))
        payload = chat_completion(
            content,
            model=str(body.get("model") or DEFAULT_MODEL),
            finish_reason=finish,
            prompt_tokens=tokens(len(prompt)),
            completion_tokens=tokens(len(content)),
        )
        return Reply(200, payload, delay=latency)

    def _fault(self, canonical: str, attempt: int) -> str | None:
        if self.fault_rate <= 0:
            return None
        digest = hashlib.sha256(f"{self.seed}\n{attempt}\n{canonical}".encode()).digest()
        if int.from_bytes(digest[:8]) / 2**64 >= self.fault_rate:
            return None
        return self.fault_kinds[int.from_bytes(digest[8:16]) % len(self.fault_kinds)]

    def _count(self, outcome: str) -> None:
        with self._lock:
            self.stats.outcomes[outcome] += 1


def make_server(model: PerfectModel, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as a real endpoint offers
        # Headers and body go out in two writes; with Nagle's algorithm on, the second waits for the
        # client's delayed ACK (~40 ms per request on Linux).
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the counters say what happened."""

        def do_GET(self) -> None:
            route = self.path.split("?", 1)[0].rstrip("/")
            if route == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": DEFAULT_MODEL, "object": "model"}]})
            elif route == "/bench/stats":
                self._send(200, model.snapshot())
            else:
                self._send(404, error_body(f"no route GET {self.path}"))

        def do_POST(self) -> None:
            arrived = time.monotonic()
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            route = self.path.split("?", 1)[0].rstrip("/")
            try:
                body = json.loads(raw) if raw else {}
            except json.JSONDecodeError as exc:
                self._send(400, error_body(f"request body is not JSON: {exc}"))
                return
            if route == "/bench/reset":
                self._send(200, model.reset())
            elif route == "/bench/config":
                model.configure(
                    float(body["latency"]),
                    float(body.get("fault_rate", 0.0)),
                    int(body.get("seed", 1)),
                    body.get("fault_kinds") or FAULTS,
                )
                self._send(
                    200,
                    {
                        "latency": model.latency,
                        "fault_rate": model.fault_rate,
                        "seed": model.seed,
                        "fault_kinds": model.fault_kinds,
                    },
                )
            elif route == "/v1/chat/completions":
                model.enter()
                try:
                    reply = model.complete(body)
                    # The latency counts from the request's arrival: the stub's own work (parsing,
                    # finding the chunk in the gold) is not the client's, and stays inside the latency.
                    time.sleep(max(0.0, arrived + reply.delay - time.monotonic()))
                    self._send(reply.status, reply.payload, reply.headers)
                finally:
                    model.leave()
            else:
                self._send(404, error_body(f"no route POST {self.path}"))

        def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return _Server((host, port), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # a burst of new connections must not overflow the listen backlog


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD, help="gold JSONL (default: %(default)s)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--faults", type=float, default=0.0, help="fraction of requests that fail")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--laps", type=int, default=3, help="serve this many copies of each article")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(
            f"PolNeAR gold not found at {args.gold}: it lives outside the repository, in ../shared/eval; "
            "the perfect-model stub needs it.",
            file=sys.stderr,
        )
        return 2
    try:
        gold = load_gold(args.gold)
    except EvalInputError as exc:
        print(exc, file=sys.stderr)
        return 2
    model = PerfectModel(GoldIndex(gold, laps=args.laps), args.latency, args.faults, args.seed)
    server = make_server(model, port=args.port)
    print(json.dumps({"base_url": f"http://127.0.0.1:{server.server_address[1]}/v1"}), flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
