"""CPU of the pipeline stage by stage, replaying a response store filled by a perfect-model run.

    .venv/bin/python bench/stages.py --store WORK/store-lat0-500 --articles 500 [--no-gc] [--gold PATH]

WORK is compare.py's work folder (its quotes-lat0-N run fills store-lat0-N). Each stage is timed over every
chunk of the first N gold-dev articles and reported in ms of CPU per 5 KB of article text; `full` is the
whole `Extractor.astream` run on the same store, which adds the event loop, building the output records and
the garbage collector (`--no-gc` turns the collector off for the whole script, to see its share). The
request's key is computed here from the whole body (`store.lookup(backend.request_for(text))`); the
pipeline keys a request from its precomputed fixed part, which is cheaper. PolNeAR is read at run time
from ../shared/eval and never copied into the repository.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from perfect_model import corpus
from quotes.attribution import ground_records
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.evaluate import load_gold
from quotes.grounding import SourceText
from quotes.merge import dedupe
from quotes.pipeline import Extractor
from quotes.schema import Answer, Article
from quotes.speakers import canonical_speakers
from quotes.store import ResponseStore, StoreMode
from run_one import API_KEY, DEFAULT_GOLD, MODEL

T = TypeVar("T")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, required=True)
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--no-gc", action="store_true")
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository.", file=sys.stderr)
        return 2
    if args.no_gc:
        gc.disable()
    articles = corpus(load_gold(args.gold), args.articles)
    store = ResponseStore(args.store, mode=StoreMode.offline)
    # Nothing is sent: every request is served from the store (a miss raises, naming the request).
    backend = LLMBackend(
        LLMConfig(model=MODEL, base_url="http://127.0.0.1:9/v1", api_key=API_KEY, store=store)
    )
    extractor = Extractor(backend, keep_text=False)
    spent: dict[str, float] = {}

    def timed(stage: str, work: Callable[..., T], *args: Any) -> T:
        started = time.process_time()
        result = work(*args)
        spent[stage] = spent.get(stage, 0.0) + time.process_time() - started
        return result

    answers = []
    for article in articles:
        source = timed("normalized copy (SourceText)", SourceText, article.text)
        for chunk in extractor.chunks(article.text):
            body = timed("request body", backend.request_for, chunk.text)
            stored = timed("store lookup (whole-body key)", store.lookup, body)
            content = stored["choices"][0]["message"]["content"] if stored else "{}"
            answers.append((source, chunk, timed("answer validation", Answer.model_validate_json, content)))
    for source, chunk, answer in answers:
        placed = timed("grounding", ground_records, source, chunk, answer.quotes, [])
        merged = timed("dedupe", dedupe, placed)
        timed("canonical speakers", canonical_speakers, merged)

    async def run() -> None:
        async with extractor:
            async for _ in extractor.astream(Article(id=a.id, text=a.text) for a in articles):
                pass

    timed("full Extractor.astream", asyncio.run, run())
    per_5kb = 5000 / sum(len(a.text) for a in articles)
    for stage, seconds in spent.items():
        print(f"{stage:32s} {seconds * 1000 * per_5kb:6.2f} ms per 5 KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
