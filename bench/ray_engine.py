"""`quotes extract --engine ray` against one process on the same corpus: wall time, CPU, peak memory of
every process, identical records; and the Parquet output read back by pyarrow, pandas and DuckDB.

    .venv/bin/python bench/ray_engine.py --articles 10000 [--keep DIR]

The corpus is invented (names, places and sentences made up here), the backend the offline rules one, so
the run measures the engine and the local work, not a model. Each run is a `quotes extract` subprocess;
its process tree is sampled from /proc every 0.2 s: CPU is the sum of user and system time over every
process seen (the last sample of each), peak memory each process's VmHWM.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

QUOTES = Path(sys.executable).with_name("quotes")
FIRST = ["Mara", "Otto", "Lena", "Ivo", "Petra", "Ansel", "Nadia", "Tomas", "Greta", "Felix"]
LAST = ["Quell", "Brisk", "Farrow", "Santel", "Lunde", "Moor", "Varga", "Okonjo", "Halde", "Ruiz"]
TOPICS = ["the pier", "the tram line", "the school budget", "the flood wall", "the night market"]


def article(n: int, rng: random.Random) -> dict[str, str]:
    people = [f"{rng.choice(FIRST)} {rng.choice(LAST)}" for _ in range(3)]
    topic = rng.choice(TOPICS)
    paragraphs = [
        f"The council of Port Elm met on Tuesday to discuss {topic}, item {n} on its agenda.",
        f"“We will finish {topic} before the winter storms,” said {people[0]}, the council's chair.",
        f"{people[1]}, who runs the harbour office, said the work had already cost more than planned.",
        f"“Nobody asked the fishermen,” {people[2]} told reporters. “They will pay for it twice.”",
        "Officials said a vote was expected next month. " * rng.randint(1, 4),
    ]
    return {"id": f"art-{n}", "text": "\n\n".join(paragraphs)}


def sample_tree(root: int, seen: dict[int, dict[str, Any]]) -> None:
    """Record CPU seconds and VmHWM of `root` and its descendants, as they stand now."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    stack = [root]
    while stack:
        pid = stack.pop()
        stack.extend(children.get(pid, []))
        try:
            head, rest = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        fields = rest.split()
        hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")), 0)
        seen[pid] = {
            "name": head.split("(", 1)[1][:30],
            "cpu_s": (int(fields[11]) + int(fields[12])) / 100,
            "peak_mb": round(hwm / 1024, 1),
        }


def measured(args: list[str]) -> dict[str, Any]:
    seen: dict[int, dict[str, Any]] = {}
    start = time.perf_counter()
    process = subprocess.Popen(
        [str(QUOTES), "extract", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    while process.poll() is None:
        sample_tree(process.pid, seen)
        time.sleep(0.2)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(
            f"quotes {' '.join(args)} failed: {process.stderr.read().decode() if process.stderr else ''}"
        )
    peaks = sorted(seen.values(), key=lambda p: -p["peak_mb"])
    return {
        "wall_s": round(wall, 1),
        "cpu_s": round(sum(p["cpu_s"] for p in seen.values()), 1),
        "processes": len(seen),
        "largest": [f"{p['name']} {p['peak_mb']} MB" for p in peaks[:6]],
    }


def records(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for row in rows:
        row.pop("source", None)  # path:line in a local run, the path on Ray (its readers number no lines)
    return sorted(rows, key=lambda r: r["id"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--keep", type=Path, default=None, help="keep the corpus and outputs here")
    parser.add_argument(
        "--ray-only", action="store_true", help="only the Ray run (memory against corpus size)"
    )
    options = parser.parse_args()
    folder = options.keep or Path(tempfile.mkdtemp(prefix="quotes-ray-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    try:
        rng = random.Random(18)
        corpus = folder / "corpus.jsonl"
        with corpus.open("w", encoding="utf-8") as handle:
            for n in range(options.articles):
                handle.write(json.dumps(article(n, rng)) + "\n")
        print(f"corpus: {options.articles:,} articles, {corpus.stat().st_size / 1e6:.1f} MB", flush=True)
        common = [str(corpus), "--backend", "rules", "-q"]
        on_ray = measured([*common, "--engine", "ray", "-o", str(folder / "ray.jsonl")])
        print("--engine ray:", json.dumps(on_ray), flush=True)
        if options.ray_only:
            return
        local = measured([*common, "-o", str(folder / "local.jsonl")])
        print("one process:", json.dumps(local), flush=True)
        same = records(folder / "local.jsonl") == records(folder / "ray.jsonl")
        print(f"identical records (but source): {same}", flush=True)
        parquet = folder / "parquet"
        measured([*common, "--engine", "ray", "-f", "parquet", "-o", str(parquet)])
        read_parquet(parquet, folder / "local.jsonl")
    finally:
        if options.keep is None:
            shutil.rmtree(folder, ignore_errors=True)


def read_parquet(folder: Path, jsonl: Path) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(folder)
    first = json.loads(jsonl.read_text(encoding="utf-8").splitlines()[0])
    same = table.column_names == list(first)
    print(f"pyarrow: {table.num_rows:,} rows; columns equal the JSONL record's fields: {same}")
    quote_fields = table.schema.field("quotes").type.value_type.names
    print(f"pyarrow: quote fields equal the JSONL quote's: {quote_fields == list(first['quotes'][0])}")
    try:
        import pandas

        frame = pandas.read_parquet(folder)
        print(f"pandas: {len(frame):,} rows, {frame['quotes'].map(len).sum():,} quotes")
    except ImportError:
        print("pandas: not installed")
    try:
        import duckdb

        glob = str(folder / "*.parquet")
        query = f"SELECT count(*), sum(len(quotes)), count(DISTINCT id) FROM read_parquet('{glob}')"
        print(f"duckdb: rows, quotes, distinct ids = {duckdb.sql(query).fetchall()[0]}")
    except ImportError:
        print("duckdb: not installed")


if __name__ == "__main__":
    main()
