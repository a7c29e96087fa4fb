"""Load on `quotes serve`: many concurrent verify requests against the rules backend, over real HTTP.

Starts `quotes serve --backend rules` (the CLI, in its own process) on a free port of 127.0.0.1, sends
`--alone` requests one at a time (the latency of a request on its own), then `--rounds` rounds of
`--requests` concurrent `POST /v1/verify` (each a claim against an invented article, or across an
archive with `--archive`), and reports latency (p50 / p99 / max), errors and the server's resident
memory before and after each round.

    .venv/bin/python bench/serve_load.py                        # 5 rounds of 200 claims against a text
    .venv/bin/python bench/serve_load.py --archive /tmp/q.db    # across an archive (quotes archive add)
    .venv/bin/python bench/serve_load.py --json /tmp/serve-load.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

# Invented for this benchmark: three speakers, a split quote, an unattributed sentence.
ARTICLE = (
    "Harbour officials in Varnholm met on Tuesday to settle the spring timetable.\n\n"
    "“The harbour will reopen in May,” said Ana Ruiz, the port director. “Ferries come first, "
    "then the cargo lines,” she added.\n\n"
    "Mayor Tomas Vell said the budget for the new quay was “entirely sound” and that the city "
    "would not borrow for it.\n\n"
    "Councillor Mara Odun disagreed. “We are building a quay for ships that do not exist,” Odun told "
    "reporters after the meeting.\n\n"
    "A notice at the gate read: the ferries will run twice a day.\n"
)
# One claim of each verdict the rules backend gives, sent in turn.
CLAIMS = [
    {"speaker": "Ana Ruiz", "quote": "The harbour will reopen in May"},
    {"speaker": "Tomas Vell", "quote": "We are building a quay for ships that do not exist"},
    {"speaker": "Ana Ruiz", "quote": "The harbour will reopen in June"},
    {"speaker": "Mara Odun", "quote": "the ferries will run twice a day"},
    {"speaker": "Ana Ruiz", "quote": "the lighthouse will be painted green next year"},
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def _wait_ready(base: str, deadline: float) -> None:
    while True:
        try:
            httpx.get(f"{base}/v1/health").raise_for_status()
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


async def _round(base: str, requests: int, archive: bool) -> tuple[list[float], list[str], dict[str, int]]:
    limits = httpx.Limits(max_connections=requests, max_keepalive_connections=requests)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(n: int) -> tuple[float, str | None, str | None]:
            body: dict[str, Any] = dict(CLAIMS[n % len(CLAIMS)])
            if not archive:
                body["text"] = ARTICLE
            started = time.perf_counter()
            try:
                answer = await client.post("/v1/verify", json=body)
            except httpx.HTTPError as exc:
                return time.perf_counter() - started, f"{type(exc).__name__}: {exc}", None
            elapsed = time.perf_counter() - started
            if answer.status_code != 200:
                return elapsed, f"HTTP {answer.status_code}: {answer.text[:200]}", None
            return elapsed, None, answer.json()["verdict"]

        results = await asyncio.gather(*(one(n) for n in range(requests)))
    verdicts: dict[str, int] = {}
    for _, _, label in results:
        if label:
            verdicts[label] = verdicts.get(label, 0) + 1
    return [r[0] for r in results], [r[1] for r in results if r[1]], verdicts


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=200, help="concurrent requests per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8, help="the server's --concurrency")
    parser.add_argument("--alone", type=int, default=20, help="requests sent one at a time first")
    parser.add_argument("--archive", type=Path, help="verify across this archive instead of a text")
    parser.add_argument("--json", type=Path, help="write the numbers here too")
    args = parser.parse_args()

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "quotes", "serve", "--backend", "rules", "--port", str(port)]
    command += ["--concurrency", str(args.concurrency)]
    if args.archive:
        command += ["--archive", str(args.archive)]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_ready(base, time.monotonic() + 60)
        memory = [_rss_mb(server.pid)]
        alone = [asyncio.run(_round(base, 1, args.archive is not None))[0][0] for _ in range(args.alone)]
        alone_ms = round(1000 * statistics.median(alone), 1)
        print(f"one request at a time: p50 {alone_ms} ms over {args.alone}", flush=True)
        rounds = []
        for number in range(1, args.rounds + 1):
            started = time.perf_counter()
            latencies, errors, verdicts = asyncio.run(_round(base, args.requests, args.archive is not None))
            wall = time.perf_counter() - started
            memory.append(_rss_mb(server.pid))
            row = {
                "round": number,
                "requests": args.requests,
                "errors": len(errors),
                "first_error": errors[0] if errors else None,
                "p50_ms": round(1000 * statistics.median(latencies), 1),
                "p99_ms": round(1000 * _percentile(latencies, 0.99), 1),
                "max_ms": round(1000 * max(latencies), 1),
                "wall_s": round(wall, 2),
                "per_second": round(args.requests / wall, 1),
                "rss_mb_after": round(memory[-1], 1),
                "verdicts": verdicts,
            }
            rounds.append(row)
            print(
                f"round {number}: {row['requests']} requests, {row['errors']} errors, "
                f"p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms, max {row['max_ms']} ms, "
                f"{row['per_second']}/s, "
                f"server RSS {row['rss_mb_after']} MB · {verdicts}",
                flush=True,
            )
        print(f"server RSS: {memory[0]:.1f} MB before, {memory[-1]:.1f} MB after {args.rounds} rounds")
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if args.json:
        summary = {
            "mode": "archive" if args.archive else "text",
            "alone_p50_ms": alone_ms,
            "rss_mb_before": round(memory[0], 1),
        }
        args.json.write_text(json.dumps({**summary, "rounds": rounds}, indent=2) + "\n", encoding="utf-8")
    return 1 if any(row["errors"] for row in rounds) else 0


if __name__ == "__main__":
    raise SystemExit(main())
