"""A 10,000-request batch file: how long it takes to build, its size, how long its output takes to
collect into the store, and a rerun after collect that sends no live request.

    .venv/bin/python bench/batch_file.py --requests 10000

The corpus is invented, one chunk an article, so requests = articles. The batch runner is played here:
each line's answer is a chat.completion naming the chunk's `“…,” said First Last` quote, in the Batch
output format. The rerun is `quotes extract` in cache mode against a local chat-completions server
that counts what it is sent. Everything lives in a temporary folder removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from quotes.batch import awrite, collect_files
from quotes.schema import Article
from quotes.store import ResponseStore
from quotes.testing import StubReply, StubRequest, StubServer, chat_completion, said_answer
from quotes.workers import ExtractorRecipe

MODEL = "bench-model"
SAID = re.compile(r"(“[^”]+”) said ([A-Z][a-z]+ [A-Z][a-z]+)")
NAMES = ["Mara Quell", "Otto Brisk", "Lena Farrow", "Ivo Santel", "Petra Lunde", "Ansel Moor"]


def corpus(n: int) -> list[Article]:
    return [
        Article(
            id=f"art-{i}",
            text=(
                f"The harbour board of Port Elm met on Tuesday about berth {i}. “We will rebuild the pier by "
                f"spring,” said {NAMES[i % 6]}. Councillors said the tide tables had to change first."
            ),
        )
        for i in range(n)
    ]


def answer(body: dict[str, Any]) -> dict[str, Any]:
    text = body["messages"][-1]["content"]
    content = said_answer(SAID.findall(text))
    return chat_completion(
        content, model=MODEL, prompt_tokens=len(json.dumps(body)) // 4, completion_tokens=60
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=10_000)
    options = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="quotes-batch-bench-"))
    try:
        articles = corpus(options.requests)
        store_dir, batch_file, output = folder / "store", folder / "batch.jsonl", folder / "output.jsonl"
        recipe = ExtractorRecipe("llm", model=MODEL)
        start = time.perf_counter()
        plan = asyncio.run(awrite(articles, recipe, store_dir, batch_file))
        built = time.perf_counter() - start
        size = batch_file.stat().st_size
        print(
            f"build: {plan.requests:,} requests in {built:.1f} s, "
            f"{size / 1e6:.1f} MB ({size // max(plan.requests, 1):,} B a line)"
        )
        start = time.perf_counter()
        with batch_file.open(encoding="utf-8") as lines, output.open("w", encoding="utf-8") as out:
            for n, line in enumerate(lines):
                request = json.loads(line)
                response = {"status_code": 200, "request_id": f"req-{n}", "body": answer(request["body"])}
                item = {
                    "id": f"b-{n}",
                    "custom_id": request["custom_id"],
                    "response": response,
                    "error": None,
                }
                out.write(json.dumps(item) + "\n")
        print(
            f"runner (played here): {time.perf_counter() - start:.1f} s, {output.stat().st_size / 1e6:.1f} MB"
        )
        start = time.perf_counter()
        got = collect_files(store_dir, [output])
        print(
            f"collect: {got.answered:,} answers stored in {time.perf_counter() - start:.1f} s, "
            f"{got.failed} failed"
        )
        rerun(articles, store_dir)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def rerun(articles: list[Article], store_dir: Path) -> None:
    def refuse(request: StubRequest) -> StubReply:
        return StubReply(status=500, json={"error": {"message": "the bench sends no live request"}})

    with StubServer(refuse) as server:
        options = {"store": ResponseStore(store_dir)}
        extractor, _ = ExtractorRecipe(
            "llm", model=MODEL, base_url=server.base_url, llm_options=options
        ).build()

        async def run() -> tuple[int, int, int]:
            quotes = requests = cached = 0
            async with extractor:
                async for extraction in extractor.astream(articles):
                    quotes += len(extraction.quotes)
                    requests += extraction.usage.requests
                    cached += extraction.usage.cached_requests
            return quotes, requests, cached

        start = time.perf_counter()
        quotes, requests, cached = asyncio.run(run())
        print(
            f"rerun (cache mode, a live server at hand): {server.request_count} requests sent "
            f"({requests} counted), "
            f"{cached:,} answers from the store, {quotes:,} quotes, {time.perf_counter() - start:.1f} s"
        )


if __name__ == "__main__":
    main()
