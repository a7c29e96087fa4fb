"""A quote archive of a million statements: build time, file size, search and verify latency, memory.

    .venv/bin/python bench/archive_scale.py build --db /tmp/qa/archive.db --statements 1000000
    .venv/bin/python bench/archive_scale.py query --db /tmp/qa/archive.db [--claims 100] [--searches 200]

`build` extracts the PolNeAR gold-dev articles (read at run time from `--gold`; nothing is copied into
the repository) with the offline rules backend, then adds copies of those Extractions under new ids until
the archive holds `--statements` statements. Each copy's text gets a line of its own at the end, so
every copy is a text of its own (offsets unchanged), and a random date in 2010-2024. Every article thus
stands in the archive about a hundred times over, as a wire story reprinted everywhere: the hard case
for choosing a claim's candidate articles.

`query` opens the archive in a fresh process and times `Archive.search` and `Archive.verify`, one call at
a time, on queries and claims drawn from the base extractions (seeded): supported (a run of 6-10 words
of a direct statement with its speaker), misattributed (the same words given to another speaker of the
article), altered (one word of them replaced) and absent (invented sentences). Each prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TypeVar

from quotes.archive import Archive
from quotes.backends.rules import RulesBackend
from quotes.pipeline import Extractor
from quotes.schema import Article, Claim, Extraction

T = TypeVar("T")
REPO = Path(__file__).resolve().parent.parent
DEFAULT_GOLD = REPO.parent / "shared" / "eval" / "polnear" / "gold-dev.jsonl"
BASE_RUN = "base-run.jsonl"
INVENTED = [
    "the copper tariff on Velmora harbour will double before the lantern festival",
    "our orchard cooperative never asked the Duskmoor council for a bridge loan",
    "seventeen lighthouse keepers signed the petition against the Quillon ferry schedule",
    "the glassworks in Northbrook owes its workers four months of wages",
    "nobody on the Ashgrove zoning board has read the marsh drainage plan",
]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def base_extractions(gold: Path, work: Path) -> list[Extraction]:
    """The gold articles' texts extracted by the rules backend (cached in the work folder)."""
    run = work / BASE_RUN
    if run.exists():
        return [Extraction.model_validate_json(line) for line in run.read_text().splitlines()]
    articles = []
    with gold.open(encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            articles.append(Article(id=record["id"], text=record["text"]))

    async def extract() -> list[Extraction]:
        async with Extractor(RulesBackend()) as extractor:
            return [e async for e in extractor.astream(articles)]

    extractions = asyncio.run(extract())
    run.write_text("".join(e.model_dump_json() + "\n" for e in extractions))
    return extractions


def copies(base: list[Extraction], statements: int, seed: int) -> Iterator[Extraction]:
    rng = random.Random(seed)
    made = 0
    for n in range(1, 1_000_000):
        for extraction in base:
            if made >= statements:
                return
            assert extraction.text is not None
            text = f"{extraction.text}\n\n(archive copy {n})"
            day = f"{rng.randint(2010, 2024)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            made += len(extraction.quotes)
            yield extraction.model_copy(
                update={
                    "id": f"{extraction.id}~{n}",
                    "text": text,
                    "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
                    "date": day,
                    "source": f"copy-{n}",
                }
            )


def build(args: argparse.Namespace) -> dict[str, object]:
    args.work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    base = base_extractions(args.gold, args.work)
    extracted = time.perf_counter() - started
    if args.db.exists():
        sys.exit(f"{args.db} exists; build writes a new archive")
    started = time.perf_counter()
    with Archive(args.db) as archive:
        report = archive.add(copies(base, args.statements, args.seed))
        added = time.perf_counter() - started
        stats = archive.stats()
    return {
        "step": "build",
        "base_articles": len(base),
        "base_statements": sum(len(e.quotes) for e in base),
        "rules_extraction_s": round(extracted, 1),
        "articles": stats.articles,
        "statements": stats.statements,
        "add_s": round(added, 1),
        "statements_per_s": round(stats.statements / added),
        "file_mb": round(args.db.stat().st_size / 2**20, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "skipped": report.skipped,
    }


def claims(base: list[Extraction], count: int, rng: random.Random) -> dict[str, list[Claim]]:
    made: dict[str, list[Claim]] = {"supported": [], "misattributed": [], "altered": [], "absent": []}
    pool = [
        (e, q)
        for e in base
        for q in e.quotes
        if q.kind == "direct" and q.speaker.name and len(q.text.split()) >= 10
    ]
    rng.shuffle(pool)
    for extraction, quote in pool:
        if len(made["supported"]) >= count:
            break
        start, end = quote.fragments()[0]
        words = [w.strip('“”"‘’,.;:!?()') for w in (extraction.text or "")[start:end].split()]
        words = [w for w in words if w]
        if len(words) < 8:
            continue
        size = rng.randint(6, min(10, len(words)))
        at = rng.randint(0, len(words) - size)
        window = words[at : at + size]
        name = quote.speaker.name or ""
        others = {q.speaker.name for q in extraction.quotes if q.speaker.name} - {name}
        others = {o for o in others if not set(o.split()) & set(name.split())}
        long = [i for i, w in enumerate(window) if len(w) >= 5 and w.isalpha()]
        if not others or not long:
            continue
        made["supported"].append(Claim(speaker=name, quote=" ".join(window)))
        made["misattributed"].append(Claim(speaker=sorted(others)[0], quote=" ".join(window)))
        changed = list(window)
        changed[rng.choice(long)] = "marmalade"
        made["altered"].append(Claim(speaker=name, quote=" ".join(changed)))
    made["absent"] = [
        Claim(speaker="Ilse Varga", quote=INVENTED[i % len(INVENTED)]) for i in range(len(made["supported"]))
    ]
    return made


def percentiles(times: list[tuple[float, float]]) -> dict[str, float]:
    """p50 / p99 of wall and CPU milliseconds (the machine is shared: CPU time is this process's own)."""
    wall = sorted(w * 1000 for w, _ in times)
    cpu = sorted(c * 1000 for _, c in times)

    def p99(ms: list[float]) -> float:
        return round(ms[min(len(ms) - 1, int(0.99 * len(ms)))], 2)

    return {
        "p50_ms": round(statistics.median(wall), 2),
        "p99_ms": p99(wall),
        "cpu_p50_ms": round(statistics.median(cpu), 2),
        "cpu_p99_ms": p99(cpu),
    }


def timed(call: Callable[[], T]) -> tuple[T, tuple[float, float]]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return result, (time.perf_counter() - wall, time.process_time() - cpu)


def query(args: argparse.Namespace) -> dict[str, object]:
    base = base_extractions(args.gold, args.work)
    rng = random.Random(args.seed)
    result: dict[str, object] = {"step": "query"}
    started = time.perf_counter()
    archive = Archive(args.db, create=False)
    result["open_ms"] = round((time.perf_counter() - started) * 1000, 1)
    statements = [(e, q) for e in base for q in e.quotes if q.speaker.name]
    searches: dict[str, list[tuple[float, float]]] = {"words": [], "words+speaker": [], "words+since": []}
    hits = Counter[str]()
    for _ in range(args.searches):
        _, quote = rng.choice(statements)
        words = [w.strip('“”"‘’,.;:!?()') for w in quote.text.split()]
        words = [w for w in words if len(w) >= 5 and w.isalpha()] or ["said"]
        phrase = " ".join(rng.sample(words, min(2, len(words))))
        surname = (quote.speaker.name or "").split()[-1]
        for kind, options in (
            ("words", {}),
            ("words+speaker", {"speaker": surname}),
            ("words+since", {"since": "2020-01-01"}),
        ):
            found, took = timed(partial(archive.search, phrase, **options))  # type: ignore[arg-type]
            searches[kind].append(took)
            hits[kind] += bool(found)
    result["search"] = {kind: percentiles(times) for kind, times in searches.items()}
    result["search_with_hits"] = dict(hits)
    verdicts: dict[str, Counter[str]] = {}
    times: dict[str, list[tuple[float, float]]] = {}
    for kind, wanted in claims(base, args.claims, rng).items():
        verdicts[kind] = Counter()
        times[kind] = []
        for claim in wanted:
            [verdict], took = timed(partial(archive.verify, [claim]))
            times[kind].append(took)
            verdicts[kind][verdict.verdict] += 1
    result["verify"] = {kind: percentiles(t) for kind, t in times.items()}
    result["verify_all"] = percentiles([t for ts in times.values() for t in ts])
    result["verdicts"] = {kind: dict(counts) for kind, counts in verdicts.items()}
    result["peak_rss_mb"] = round(peak_rss_mb(), 1)
    result["load_average"] = os.getloadavg()
    archive.close()
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("step", choices=["build", "query"])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--work", type=Path, help="where the base run is kept (default: beside --db)")
    parser.add_argument("--statements", type=int, default=1_000_000)
    parser.add_argument("--claims", type=int, default=100, help="claims of each class")
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=15)
    args = parser.parse_args()
    args.work = args.work or args.db.parent
    if not args.gold.exists() and not (args.work / BASE_RUN).exists():
        print(f"{args.gold}: no such file (PolNeAR gold-dev is read at run time)", file=sys.stderr)
        return 2
    print(json.dumps(build(args) if args.step == "build" else query(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
