"""The response store at a million answers: lookups (hits and misses) and writes, sharded against flat.

    .venv/bin/python bench/store_scale.py --entries 1000000 [--layout sharded|flat|both] [--sample 2000]

Fills a temporary store with `--entries` answers (the files `ResponseStore` writes, each its real
layout, written without the fsync a live save does so the fill takes minutes, not hours), then times
`--sample` lookups of stored answers, as many of absent ones, and as many `save` calls (fsync and
rename, as a live run makes them), with the page cache as the fill left it (dropping it would slow
every other process on the machine): warm lookups, as in a long run. The temporary
folder is removed at the end, whatever happens. Mind the disk: a million answers take about 4 GB.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from quotes.store import ResponseStore, chat_completion_body


def body(n: int) -> dict[str, object]:
    return {
        "model": "bench-model",
        "messages": [
            {"role": "system", "content": "Find statements."},
            {"role": "user", "content": f"chunk {n}"},
        ],
        "temperature": 0,
    }


def fill(store: ResponseStore, entries: int, flat: bool) -> float:
    """Write `entries` stored answers as `_write` lays them out, without fsync; returns seconds."""
    answer = json.dumps(chat_completion_body('{"quotes": []}', model="bench-model", id="x", created=0))
    start = time.perf_counter()
    made: set[Path] = set()
    for n in range(entries):
        keyed = store.keyed(body(n))
        path = store.directory / f"{keyed.key}.json" if flat else store.path_for_key(keyed.key)
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        text = (
            f'{{\n  "key": "{keyed.key}",\n  "request": {keyed.request_json},\n  "response": {answer}\n}}\n'
        )
        path.write_text(text, encoding="utf-8")
        if n and n % 100_000 == 0:
            print(f"  {n:,} written ({time.perf_counter() - start:.0f} s)", flush=True)
    return time.perf_counter() - start


def timed(calls: int, action: object) -> tuple[float, float]:
    """Median and 99th percentile in microseconds of `calls` calls of `action(i)`."""
    times = []
    for i in range(calls):
        start = time.perf_counter()
        action(i)  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1e6)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)]


def run(layout: str, entries: int, sample: int, root: Path) -> dict[str, object]:
    directory = root / layout
    store = ResponseStore(directory)
    print(f"{layout}: filling {entries:,} answers", flush=True)
    fill_seconds = fill(store, entries, flat=layout == "flat")
    picks = random.Random(7).sample(range(entries), sample)
    hit = timed(sample, lambda i: store.lookup(body(picks[i])))
    miss = timed(sample, lambda i: store.lookup(body(entries + i)))
    response = chat_completion_body('{"quotes": []}', model="bench-model")
    write = timed(sample, lambda i: store.save(body(entries + sample + i), response))
    listing_start = time.perf_counter()
    count = sum(1 for _ in directory.rglob("*.json"))
    listing = time.perf_counter() - listing_start
    return {
        "layout": layout,
        "entries": entries,
        "fill_s": round(fill_seconds, 1),
        "hit_us_median_p99": [round(x) for x in hit],
        "miss_us_median_p99": [round(x) for x in miss],
        "save_us_median_p99": [round(x) for x in write],
        "list_all_s": round(listing, 1),
        "files": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--layout", choices=["sharded", "flat", "both"], default="both")
    parser.add_argument("--tmp", type=Path, default=None, help="where to make the temporary store")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="quotes-store-bench-", dir=args.tmp))
    try:
        for layout in ["sharded", "flat"] if args.layout == "both" else [args.layout]:
            print(json.dumps(run(layout, args.entries, args.sample, root)), flush=True)
            shutil.rmtree(root / layout)
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
