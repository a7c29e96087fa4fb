"""One benchmark run in a process of its own, so its CPU time and peak memory are its own.

    .venv/bin/python bench/run_one.py TOOL --articles N --output PREDICTIONS.jsonl
        [--base-url URL] [--concurrency C] [--workers W] [--store DIR] [--chunk-size CHARS] [--tracemalloc]

TOOL is `quotes` (quotes.pipeline.Extractor with the LLM backend at URL and the response store DIR),
`rules` (quotes' offline rules backend) or `langextract` (its OpenAI provider at URL). Articles are the
first N of the gold file (repeated, with new ids, past its end). Every result is written as a quotes
Extraction record to PREDICTIONS; the measurements are printed as one JSON line on stdout.

With `--workers W` > 1 (quotes and rules), quotes.workers.WorkerPool runs the extraction in W processes
sharing the C requests. Their start (spawn, imports, each building its backend) is the setup, as the
in-process backend's construction is; CPU then counts the workers too (RUSAGE_CHILDREN, less what each
had spent when it reported ready), and peak RSS is this process's plus W × the largest worker's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import multiprocessing
import os
import resource
import sys
import time
import tracemalloc
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from perfect_model import corpus
from quotes.evaluate import load_gold
from quotes.pipeline import Extractor
from quotes.schema import Article, Extraction, Quote, Speaker, Usage
from quotes.store import ResponseStore
from quotes.workers import ExtractorRecipe, WorkerPool, freeze_startup_objects

REPO = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = REPO.parent / "shared" / "eval" / "polnear" / "gold-dev.jsonl"
API_KEY = "bench-not-a-real-key"
MODEL = "gpt-4o-mini"  # langextract routes provider by model id; the stub answers any id


def quotes_recipe(args: argparse.Namespace) -> ExtractorRecipe:
    if args.tool == "rules":
        return ExtractorRecipe("rules", concurrency=args.concurrency, keep_text=False)
    options: dict[str, Any] = {"api_key": API_KEY, "store": ResponseStore(args.store) if args.store else None}
    if args.chunk_size:
        options["chunk_size"] = args.chunk_size
    return ExtractorRecipe(
        "llm",
        model=MODEL,
        base_url=args.base_url,
        llm_options=options,
        concurrency=args.concurrency,
        chunk_size=args.chunk_size,
        keep_text=False,
    )


async def run_quotes(articles: Sequence[Article], runner: Extractor | WorkerPool) -> list[Extraction]:
    async with runner:
        return [extraction async for extraction in runner.astream(articles)]


def speed_probe() -> float:
    """CPU milliseconds of a fixed pure-Python loop, taken just before the run: how quick the machine is
    at that moment. A shared VM's speed varies by a third from one minute to the next, so a run's CPU
    figures are read against its probe."""
    started = time.process_time()
    total = 0
    for i in range(1_000_000):
        total += i * i
    return (time.process_time() - started) * 1000


def children_cpu_seconds() -> float:
    """CPU spent so far by this process's live children (from /proc, as they are not reaped yet)."""
    ticks = 0
    for child in multiprocessing.active_children():
        fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def langextract_model(base_url: str, concurrency: int) -> Any:
    """langextract's OpenAI provider at the stub, with the structured-output schema it derives from the
    examples, exactly as `lx.extract(model_id=..., model_url=...)` would build it."""
    import langextract as lx

    from langextract_prompt import EXAMPLES

    config = lx.factory.ModelConfig(
        model_id=MODEL,
        provider_kwargs={
            "api_key": API_KEY,
            "base_url": base_url,
            "max_workers": concurrency,
            "temperature": 0.0,
        },
    )
    return lx.factory.create_model(config, examples=EXAMPLES, use_schema_constraints=True)


def run_langextract(
    articles: Sequence[Article], model: Any, concurrency: int, chunk_size: int | None
) -> tuple[list[Extraction], str | None]:
    """langextract's results, or none and why: `lx.extract` returns every document at once, and a request
    that still fails after the SDK's own retries raises out of it, so one bad request loses the run."""
    import langextract as lx

    from langextract_prompt import DESCRIPTION, EXAMPLES

    documents = [lx.data.Document(text=a.text, document_id=a.id) for a in articles]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "use_schema_constraints is ignored": the model already has it
            results = lx.extract(
                documents,
                prompt_description=DESCRIPTION,
                examples=EXAMPLES,
                model=model,
                max_char_buffer=chunk_size or 1000,
                max_workers=concurrency,
                batch_length=4 * concurrency,
                show_progress=False,
            )
    except lx.core.exceptions.LangExtractError as exc:
        return [], f"{type(exc).__name__}: {exc}"[:300]
    by_id = {a.id: a for a in articles}
    return [from_langextract(by_id[doc.document_id], doc.extractions or []) for doc in results], None


def from_langextract(article: Article, extractions: Sequence[Any]) -> Extraction:
    """langextract's grounded extractions as quotes records: each `quote` with a char interval becomes a
    Quote; its speaker is the nearest grounded `speaker` extraction carrying the same quote_id."""
    text = article.text
    speakers: dict[str, list[tuple[int, int]]] = {}
    for ext in extractions:
        interval = ext.char_interval
        if ext.extraction_class == "speaker" and interval and interval.start_pos is not None:
            qid = str((ext.attributes or {}).get("quote_id"))
            speakers.setdefault(qid, []).append((interval.start_pos, interval.end_pos))
    quotes: list[Quote] = []
    unaligned = 0
    for ext in extractions:
        interval = ext.char_interval
        if ext.extraction_class != "quote":
            continue
        if not interval or interval.start_pos is None or interval.end_pos is None:
            unaligned += 1
            continue
        start, end = interval.start_pos, interval.end_pos
        attributes = ext.attributes or {}
        kind = attributes.get("kind")
        speaker = Speaker(name=attributes.get("speaker"))
        near = speakers.get(str(attributes.get("quote_id")), [])
        if near:
            s, e = min(near, key=lambda span: min(abs(span[0] - end), abs(span[1] - start)))
            speaker = Speaker(name=speaker.name, mention=text[s:e], start=s, end=e)
        quotes.append(
            Quote(
                id=f"q{len(quotes) + 1}",
                text=text[start:end],
                start=start,
                end=end,
                kind=kind if kind in ("direct", "indirect", "mixed") else "indirect",
                speaker=speaker,
                cue=attributes.get("cue"),
            )
        )
    return Extraction(
        id=article.id,
        text_sha256="",
        backend="langextract",
        quotes=quotes,
        warnings=[f"{unaligned} quote(s) not aligned by langextract"] if unaligned else [],
    )


def peak_rss_mb(rusage: resource.struct_rusage) -> float:
    """This process's peak RSS: VmHWM belongs to its own memory map, while ru_maxrss also counts what the
    parent process held when it forked us."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rusage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tool", choices=("quotes", "rules", "langextract"))
    parser.add_argument("--articles", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--base-url")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=1, help="worker processes (quotes and rules)")
    parser.add_argument("--store", type=Path)
    parser.add_argument("--chunk-size", type=int)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--tracemalloc", action="store_true", help="also report tracemalloc's peak (slower)")
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository.", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.ERROR)
    # Only the texts are kept: the memory and the collector's work measured are the tool's, not the gold's.
    articles = [Article(id=a.id, text=a.text) for a in corpus(load_gold(args.gold), args.articles)]
    chars = sum(len(a.text) for a in articles)
    # One-time setup (the client, its TLS context, the schema) is timed apart from the run.
    setup_started = time.perf_counter()
    runner: Any
    if args.tool == "langextract":
        runner = langextract_model(args.base_url, args.concurrency)
    elif args.workers == 1:
        runner = quotes_recipe(args).build()[0]
    else:
        runner = WorkerPool(quotes_recipe(args), args.workers)
        asyncio.run(runner.astart())
    setup = time.perf_counter() - setup_started
    freeze_startup_objects()  # as `quotes extract` and its workers do once their extractor is built
    children_setup_cpu = children_cpu_seconds()
    probe_ms = speed_probe()
    rusage_before = resource.getrusage(resource.RUSAGE_SELF)
    if args.tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    if args.tool == "langextract":
        extractions, aborted = run_langextract(articles, runner, args.concurrency, args.chunk_size)
    else:
        aborted = None
        extractions = asyncio.run(run_quotes(articles, runner))
    wall = time.perf_counter() - started
    peak_traced = tracemalloc.get_traced_memory()[1] if args.tracemalloc else None
    rusage = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # the workers, joined when the pool closed
    usage = Usage()
    for extraction in extractions:
        usage.add(extraction.usage)
    with args.output.open("w", encoding="utf-8") as handle:
        for extraction in extractions:
            handle.write(extraction.model_dump_json(exclude_none=True) + "\n")
    result: dict[str, Any] = {
        "tool": args.tool,
        "articles": len(articles),
        "chars": chars,
        "workers": args.workers,
        "setup_seconds": setup,
        "probe_ms": probe_ms,
        "wall_seconds": wall,
        "cpu_seconds": (rusage.ru_utime - rusage_before.ru_utime)
        + (rusage.ru_stime - rusage_before.ru_stime)
        + (children.ru_utime + children.ru_stime - children_setup_cpu),
        "workers_setup_cpu_seconds": children_setup_cpu,
        "max_rss_mb": peak_rss_mb(rusage)
        + (args.workers * children.ru_maxrss / 1024 if args.workers > 1 else 0),
        "tracemalloc_peak_mb": peak_traced / 2**20 if peak_traced is not None else None,
        "aborted": aborted,
        "articles_done": len(extractions),
        "quotes": sum(len(e.quotes) for e in extractions),
        "chunk_errors": sum(len(e.errors) for e in extractions),
        "error_kinds": sorted({err.kind for e in extractions for err in e.errors}),
        "warnings": sum(len(e.warnings) for e in extractions),
        "usage": usage.model_dump(),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
