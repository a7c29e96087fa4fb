"""quotes vs langextract against a perfect-model stub: losslessness, cost, speed, CPU and memory.

    .venv/bin/python bench/compare.py [--quick] [--json results.json] [--work DIR]

Starts bench/stub_server.py, runs every configuration through bench/run_one.py (one process each), scores
each tool's output against the gold the stub served with quotes.evaluate, and prints Markdown tables.
Predictions, stores and corpora go to --work (a temporary folder by default, outside the repository:
they hold PolNeAR text, which must never enter it). PolNeAR is read from ../shared/eval at run time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from losses import explain
from perfect_model import corpus
from quotes.evaluate import GoldArticle, load_gold, score_all
from quotes.runlog import read_extractions
from run_one import DEFAULT_GOLD, MODEL

BENCH = Path(__file__).resolve().parent
PYTHON = sys.executable
QUOTES_CLI = str(Path(PYTHON).parent / "quotes")
GNU_TIME = "/usr/bin/time"


class Stub:
    """The perfect-model server in a child process."""

    def __init__(self, gold: Path) -> None:
        self.process = subprocess.Popen(
            [PYTHON, str(BENCH / "stub_server.py"), "--gold", str(gold)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise SystemExit(f"the stub server did not start (exit status {self.process.wait()})")
        self.base_url = json.loads(line)["base_url"]
        self._control = self.base_url.removesuffix("/v1") + "/bench"

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self._control}/{path}", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            result: dict[str, Any] = json.load(response)
        return result

    def configure(
        self, latency: float, fault_rate: float = 0.0, seed: int = 1, fault_kinds: Sequence[str] = ()
    ) -> None:
        body = {"latency": latency, "fault_rate": fault_rate, "seed": seed, "fault_kinds": list(fault_kinds)}
        self._post("config", body)
        self.reset()

    def reset(self) -> dict[str, Any]:
        """The counters since the last reset (and zero them)."""
        return self._post("reset", {})

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Result:
    name: str
    tool: str
    articles: int
    concurrency: int
    latency: float
    fault_rate: float
    chunk_size: int | None
    run: dict[str, Any]
    stub: dict[str, Any] = field(default_factory=dict)
    scores: dict[str, Any] = field(default_factory=dict)
    losses: dict[str, Any] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return int(self.stub.get("requests", 0))

    @property
    def ideal(self) -> float:
        return self.requests * self.latency / self.concurrency

    def to_dict(self) -> dict[str, Any]:
        stub = {k: v for k, v in self.stub.items() if k != "articles"}  # ids stay out of results
        return {
            "name": self.name,
            "tool": self.tool,
            "articles": self.articles,
            "concurrency": self.concurrency,
            "latency": self.latency,
            "fault_rate": self.fault_rate,
            "chunk_size": self.chunk_size,
            "run": self.run,
            "stub": stub,
            "ideal_seconds": self.ideal,
            "scores": self.scores,
            "losses": self.losses,
        }

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Result:
        fields = {k: v for k, v in record.items() if k != "ideal_seconds"}
        return cls(**fields)


class Bench:
    def __init__(
        self, gold_path: Path, work: Path, only: Sequence[str] = (), done: Sequence[Result] = ()
    ) -> None:
        self.only = list(only)
        self.done = {r.name for r in done}
        self.gold_path = gold_path
        self.gold = load_gold(gold_path)
        self.work = work
        self.stub = Stub(gold_path)
        self.results: list[Result] = list(done)

    def run(
        self,
        name: str,
        tool: str,
        articles: int,
        *,
        concurrency: int = 8,
        latency: float = 0.3,
        fault_rate: float = 0.0,
        fault_kinds: Sequence[str] = (),
        chunk_size: int | None = None,
        store: Path | None = None,
        reuse_store: bool = False,
        workers: int = 1,
    ) -> Result | None:
        """One run; `store` starts empty unless `reuse_store` (a rerun of the run that filled it).
        `workers` > 1 splits the run over that many processes sharing the `concurrency` limit."""
        if not self._wanted(name):
            return None
        if store is not None and not reuse_store:
            shutil.rmtree(store, ignore_errors=True)
        if tool != "rules":
            self.stub.configure(latency, fault_rate, fault_kinds=fault_kinds)
        output = self.work / f"{name}.jsonl"
        command = [PYTHON, str(BENCH / "run_one.py"), tool, "--articles", str(articles)]
        command += ["--output", str(output), "--concurrency", str(concurrency), "--gold", str(self.gold_path)]
        if tool != "rules":
            command += ["--base-url", self.stub.base_url]
        if store is not None:
            command += ["--store", str(store)]
        if chunk_size:
            command += ["--chunk-size", str(chunk_size)]
        if workers > 1:
            command += ["--workers", str(workers)]
        print(f"… {name}", file=sys.stderr, flush=True)
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
        if completed.returncode != 0:
            raise SystemExit(f"{name} failed ({completed.returncode}):\n{completed.stderr[-3000:]}")
        result = Result(
            name, tool, articles, concurrency, latency, fault_rate, chunk_size, json.loads(completed.stdout)
        )
        if tool != "rules":
            result.stub = self.stub.reset()
        gold = corpus(self.gold, articles)
        self._score(result, gold, output, chunk_size)
        self.results.append(result)
        print(f"  {_brief(result)}", file=sys.stderr, flush=True)
        return result

    def _score(
        self, result: Result, gold: Sequence[GoldArticle], output: Path, chunk_size: int | None
    ) -> None:
        predictions = {e.id: e.quotes for e in read_extractions(output)}
        reports = score_all(gold, predictions)
        result.scores = {
            r.subset: {
                "e2e_f1": r.end_to_end.f1,
                "lenient_f1": r.lenient.f1,
                "lenient_p": r.lenient.precision,
                "lenient_r": r.lenient.recall,
                "speaker_accuracy": r.speaker_accuracy,
            }
            for r in reports
        }
        if result.tool == "quotes":
            result.losses = explain(gold, predictions, chunk_size=chunk_size or 12_000)

    def cli(
        self,
        name: str,
        articles: int,
        *,
        backend: str,
        concurrency: int = 8,
        latency: float = 0.3,
        workers: int = 1,
    ) -> None:
        """`quotes extract corpus.jsonl --format jsonl --output ...`: wall time and the CLI's own peak RSS."""
        if not self._wanted(name):
            return
        corpus_path = self.work / f"corpus-{articles}.jsonl"
        with corpus_path.open("w", encoding="utf-8") as handle:
            for article in corpus(self.gold, articles):
                handle.write(json.dumps({"id": article.id, "text": article.text}, ensure_ascii=False) + "\n")
        output = self.work / f"{name}.jsonl"
        store = self.work / f"{name}-store"
        shutil.rmtree(store, ignore_errors=True)  # a fresh store: every request reaches the stub
        env = dict(os.environ, QUOTES_STORE=str(store))
        command = [
            QUOTES_CLI,
            "extract",
            str(corpus_path),
            "--format",
            "jsonl",
            "--output",
            str(output),
            "--quiet",
        ]
        command += ["--backend", backend, "--concurrency", str(concurrency), "--workers", str(workers)]
        if backend == "llm":
            self.stub.configure(latency)
            command += ["--model", MODEL, "--base-url", self.stub.base_url]
            env["OPENAI_API_KEY"] = "bench-not-a-real-key"
        print(f"… {name}", file=sys.stderr, flush=True)
        # The CLI's peak RSS comes from GNU time, whose own small fork is all the child inherits: a
        # child forked from this (large) process would report this process's memory as its own peak.
        rss_file, stderr_file = self.work / f"{name}.maxrss", self.work / f"{name}.stderr"
        timed = [GNU_TIME, "-f", "%M", "-o", str(rss_file), *command] if Path(GNU_TIME).exists() else command
        started = time.perf_counter()
        with stderr_file.open("wb") as stderr:
            process = subprocess.Popen(timed, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
            _, status, rusage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode not in (0, 1):
            tail = stderr_file.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"{name} failed ({process.returncode}):\n{tail}")
        max_rss = int(rss_file.read_text().split()[-1]) / 1024 if rss_file.exists() else float("nan")
        run = {
            "exit": process.returncode,
            "wall_seconds": wall,
            "cpu_seconds": rusage.ru_utime + rusage.ru_stime,
            "max_rss_mb": max_rss,
            "lines": sum(1 for _ in output.open(encoding="utf-8")),
        }
        result = Result(
            name,
            f"cli-{backend}",
            articles,
            concurrency,
            latency if backend == "llm" else 0.0,
            0.0,
            None,
            run,
        )
        if backend == "llm":
            result.stub = self.stub.reset()
        self._score(result, corpus(self.gold, articles), output, None)
        self.results.append(result)
        print(f"  {_brief(result)}", file=sys.stderr, flush=True)

    def _wanted(self, name: str) -> bool:
        if name in self.done:
            return False
        return not self.only or any(part in name for part in self.only)

    def close(self) -> None:
        self.stub.stop()


def _brief(result: Result) -> str:
    f1 = result.scores.get("all", {}).get("e2e_f1", 0.0)
    aborted = f"  ABORTED: {result.run['aborted']}" if result.run.get("aborted") else ""
    return (
        f"e2e F1 {100 * f1:.2f}  wall {result.run['wall_seconds']:.1f}s  requests {result.requests}  "
        f"cpu {result.run['cpu_seconds']:.1f}s  rss {result.run['max_rss_mb']:.0f} MB{aborted}"
    )


def plan(bench: Bench, quick: bool, work: Path) -> None:
    sizes = (100,) if quick else (100, 500)
    big = sizes[-1]
    for articles in sizes:
        for concurrency in (8, 32):
            store = work / f"store-{articles}-{concurrency}"
            name = f"{articles}-c{concurrency}"
            bench.run(f"quotes-{name}", "quotes", articles, concurrency=concurrency, store=store)
            bench.run(
                f"quotes-{name}-rerun",
                "quotes",
                articles,
                concurrency=concurrency,
                store=store,
                reuse_store=True,
            )
            bench.run(f"langextract-{name}", "langextract", articles, concurrency=concurrency)
            if concurrency == 32:
                bench.run(
                    f"quotes-{name}-w2",
                    "quotes",
                    articles,
                    concurrency=concurrency,
                    store=work / f"store-{articles}-{concurrency}-w2",
                    workers=2,
                )
    store = work / "store-faults"
    bench.run(f"quotes-{big}-c32-faults20", "quotes", big, concurrency=32, fault_rate=0.2, store=store)
    bench.run(
        f"quotes-{big}-c32-faults20-rerun",
        "quotes",
        big,
        concurrency=32,
        fault_rate=0.2,
        store=store,
        reuse_store=True,
    )
    bench.run(f"langextract-{big}-c32-faults20", "langextract", big, concurrency=32, fault_rate=0.2)
    # The answer-level share of those faults only (no 429/500), which langextract survives: what it drops.
    answers = ("malformed", "truncated", "schema_invalid")
    for tool in ("quotes", "langextract"):
        bench.run(
            f"{tool}-{big}-c32-faults12-answers",
            tool,
            big,
            concurrency=32,
            fault_rate=0.12,
            fault_kinds=answers,
        )
    for articles in sizes:
        store = work / f"store-lat0-{articles}"
        bench.run(f"quotes-lat0-{articles}", "quotes", articles, latency=0.0, store=store)
        bench.run(
            f"quotes-lat0-replay-{articles}", "quotes", articles, latency=0.0, store=store, reuse_store=True
        )
        bench.run(f"langextract-lat0-{articles}", "langextract", articles, latency=0.0)
        bench.run(f"rules-{articles}", "rules", articles, latency=0.0)
    bench.run(f"quotes-lat0-chunk4000-{big}", "quotes", big, latency=0.0, chunk_size=4000)
    bench.run(f"langextract-lat0-chunk12000-{big}", "langextract", big, latency=0.0, chunk_size=12_000)
    cli_articles = 100 if quick else 1000
    bench.cli(f"cli-llm-c8-{cli_articles}", cli_articles, backend="llm")
    bench.cli(f"cli-llm-c32-{cli_articles}", cli_articles, backend="llm", concurrency=32)
    bench.cli(f"cli-llm-c32-w2-{cli_articles}", cli_articles, backend="llm", concurrency=32, workers=2)
    bench.cli(f"cli-rules-{cli_articles}", cli_articles, backend="rules")


# --- tables ------------------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.2f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join("| " + " | ".join(str(cell) for cell in line) + " |" for line in lines)


def _probe(result: Result) -> str:
    probe = result.run.get("probe_ms")
    return f"{probe:.0f}" if probe is not None else "–"


def _per_5kb(result: Result, cpu_seconds: float, articles: int) -> float:
    average_kb = float(result.run["chars"]) / result.articles / 1000
    return 1000 * cpu_seconds / articles * 5 / average_kb


def tables(results: Sequence[Result]) -> str:
    llm = [r for r in results if r.tool in ("quotes", "langextract")]
    cost = [
        [
            r.name,
            f"{r.run['articles_done']}/{r.articles}",
            _pct(r.scores["all"]["e2e_f1"]),
            _pct(r.scores["all"]["lenient_f1"]),
            _pct(r.scores["direct"]["e2e_f1"]),
            f"{r.requests / r.articles:.2f}",
            f"{r.stub.get('prompt_tokens', 0) / r.articles:,.0f}",
            f"{r.stub.get('completion_tokens', 0) / r.articles:,.0f}",
            _pct(r.stub.get("prefix_share_mean")),
            r.run["chunk_errors"],
            r.run["usage"]["cached_requests"],
        ]
        for r in llm
    ]
    speed = [
        [
            r.name,
            r.articles,
            r.concurrency,
            f"{r.fault_rate:g}",
            r.requests,
            r.stub.get("max_in_flight", "–"),
            f"{r.run['setup_seconds']:.2f}",
            f"{r.run['wall_seconds']:.1f}",
            f"{r.ideal:.1f}",
            f"{r.run['wall_seconds'] / r.ideal:.2f}",
            _probe(r),
        ]
        for r in llm
        if r.latency > 0 and r.requests
    ]
    by_name = {r.name: r for r in results}
    cpu = []
    for r in results:
        if r.latency > 0 and not r.tool.startswith("cli"):
            continue
        marginal = "–"
        if r.name.endswith("-500") and (small := by_name.get(r.name.removesuffix("-500") + "-100")):
            extra = r.run["cpu_seconds"] - small.run["cpu_seconds"]
            marginal = f"{_per_5kb(r, extra, r.articles - small.articles):.2f}"
        cpu.append(
            [
                r.name,
                r.articles,
                f"{r.run['wall_seconds']:.1f}",
                f"{r.run['cpu_seconds']:.2f}",
                f"{1000 * r.run['cpu_seconds'] / r.articles:.2f}",
                f"{_per_5kb(r, r.run['cpu_seconds'], r.articles):.2f}" if "chars" in r.run else "–",
                marginal,
                f"{r.run['max_rss_mb']:.0f}",
                r.requests,
                _probe(r),
            ]
        )
    causes = [
        [r.name, *(r.losses.get("causes", {}).get(cause, 0) for cause in _CAUSES)]
        for r in results
        if r.losses and not r.name.endswith(("rerun", "replay"))
    ]
    return "\n".join(
        [
            "### Losslessness and cost per article\n",
            _table(
                [
                    "run",
                    "done",
                    "e2e F1 (all)",
                    "lenient F1",
                    "e2e F1 (direct)",
                    "requests/art",
                    "input tok/art",
                    "output tok/art",
                    "static prefix %",
                    "chunk errors",
                    "store hits",
                ],
                cost,
            ),
            "\n### Speed: wall vs ideal (requests × latency / concurrency), latency 0.3 s\n",
            _table(
                [
                    "run",
                    "articles",
                    "conc.",
                    "faults",
                    "requests",
                    "max in flight",
                    "setup s",
                    "wall s",
                    "ideal s",
                    "wall/ideal",
                    "probe ms",
                ],
                speed,
            ),
            "\n### CPU and memory of the client process\n",
            _table(
                [
                    "run",
                    "articles",
                    "wall s",
                    "CPU s",
                    "CPU ms/article",
                    "CPU ms per 5 KB",
                    "marginal CPU ms per 5 KB (500 vs 100)",
                    "peak RSS MB",
                    "requests",
                    "probe ms",
                ],
                cpu,
            ),
            "\n### Where quotes loses gold quotes (counts)\n",
            _table(["run", *_CAUSES], causes),
        ]
    )


_CAUSES = (
    "speaker: grounded at another occurrence",
    "speaker: mention not grounded",
    "speaker: gold has none, prediction has one",
    "missed: nothing predicted there",
    "missed: overlapping prediction below the 50 % lenient threshold",
    "missed: the overlapping prediction matched another gold quote",
    "spurious: overlaps no gold quote",
    "spurious: overlaps a gold quote",
)


@contextmanager
def _workdir(path: Path | None) -> Iterator[Path]:
    if path is not None:
        path.mkdir(parents=True, exist_ok=True)
        yield path
        return
    folder = Path(tempfile.mkdtemp(prefix="quotes-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=DEFAULT_GOLD)
    parser.add_argument("--quick", action="store_true", help="100 articles only (a smoke run)")
    parser.add_argument("--json", type=Path, help="write every measurement here (numbers only)")
    parser.add_argument(
        "--resume", action="store_true", help="keep the runs already in --json and do only the others"
    )
    parser.add_argument(
        "--only", action="append", default=[], help="run only the runs whose name contains this (repeatable)"
    )
    parser.add_argument(
        "--work", type=Path, help="keep predictions, stores and corpora here (outside the repo)"
    )
    args = parser.parse_args(argv)
    if not args.gold.is_file():
        print(f"PolNeAR gold not found at {args.gold}: it lives outside the repository, in ../shared/eval.")
        return 2
    with _workdir(args.work) as work:
        done = []
        if args.resume and args.json and args.json.exists():
            done = [Result.from_dict(r) for r in json.loads(args.json.read_text(encoding="utf-8"))]
        bench = Bench(args.gold, work, only=args.only, done=done)
        try:
            plan(bench, args.quick, work)
        finally:
            bench.close()
            if args.json:
                args.json.write_text(
                    json.dumps([r.to_dict() for r in bench.results], indent=1), encoding="utf-8"
                )
    print(tables(bench.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
