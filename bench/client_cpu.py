"""CPU per live request of the LLM backend alone (openai SDK, HTTP, response store), against the stub.

    .venv/bin/python bench/client_cpu.py [--requests 500] [--concurrency 8] [--no-store] [--latency S]
        [--profile OUT]

No chunking, grounding or merging: each of the first N 12,000-character chunks of gold-dev is asked once
through `LLMBackend.ask`, against bench/stub_server.py at latency 0, so the process's CPU time is what the
client spends per request. A few warm-up requests (the connection, first-use imports) are not counted.
With `--latency S` the stub waits S seconds per request, and `wall_ratio` is the wall time against the
ideal (requests × S / concurrency): what the SDK, HTTP and the store alone leave of the wall target,
before the pipeline spends anything (`--requests 106 --concurrency 32 --latency 0.3` is the
100-article run's request load).
`--profile` writes cProfile stats of the measured part. Prints one JSON line of numbers; PolNeAR is read
at run time from ../shared/eval and nothing from it is printed.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from compare import Stub
from perfect_model import corpus
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.chunking import chunk_text
from quotes.evaluate import load_gold
from quotes.schema import Answer
from quotes.store import ResponseStore
from run_one import API_KEY, DEFAULT_GOLD, MODEL

WARM_UP = 4


def chunks(gold: Path, n: int) -> list[str]:
    texts: list[str] = []
    articles = corpus(load_gold(gold), n)
    for article in articles:
        texts += [c.text for c in chunk_text(article.text, 12_000, 2_000)]
    return texts[:n]


async def ask_all(backend: LLMBackend, texts: Sequence[str], concurrency: int) -> None:
    gate = asyncio.Semaphore(concurrency)

    async def ask(text: str) -> None:
        async with gate:
            await backend.ask(text, Answer)

    await asyncio.gather(*(ask(text) for text in texts))


async def measure(
    backend: LLMBackend, texts: Sequence[str], concurrency: int, profile: Path | None
) -> tuple[float, float]:
    """CPU and wall seconds of asking every text (after the warm-up texts, which are not counted)."""
    await ask_all(backend, texts[:WARM_UP], 1)
    profiler = cProfile.Profile() if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler:
        profiler.enable()
    await ask_all(backend, texts[WARM_UP:], concurrency)
    if profiler:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if profiler and profile:
        profiler.dump_stats(profile)
    await backend.aclose()
    return cpu, wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--no-store", action="store_true", help="no response store (SDK and HTTP only)")
    parser.add_argument("--latency", type=float, default=0.0, help="the stub's latency per request, seconds")
    parser.add_argument("--profile", type=Path, help="write cProfile stats of the measured requests here")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository.", file=sys.stderr)
        return 2
    texts = chunks(args.gold, args.requests + WARM_UP)
    stub = Stub(args.gold)
    stub.configure(args.latency)
    try:
        with tempfile.TemporaryDirectory(prefix="client-cpu-") as folder:
            store = None if args.no_store else ResponseStore(folder)
            config = LLMConfig(model=MODEL, base_url=stub.base_url, api_key=API_KEY, store=store)
            cpu, wall = asyncio.run(measure(LLMBackend(config), texts, args.concurrency, args.profile))
    finally:
        stub.stop()
    requests = len(texts) - WARM_UP
    result = {
        "requests": requests,
        "concurrency": args.concurrency,
        "store": store is not None,
        "cpu_ms_per_request": round(1000 * cpu / requests, 2),
        "wall_seconds": round(wall, 2),
    }
    if args.latency:
        result["latency"] = args.latency
        result["wall_ratio"] = round(wall / (requests * args.latency / args.concurrency), 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
