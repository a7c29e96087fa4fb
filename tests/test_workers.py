"""Worker processes: the same records as one process, one request limit across them, failures that say so."""

from __future__ import annotations

import gc
import json
import multiprocessing
import os
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quotes import extract_many
from quotes.cli import app
from quotes.pipeline import ConfigurationError
from quotes.schema import Article, Extraction
from quotes.store import ResponseStore
from quotes.testing import StubReply, StubRequest, StubServer, chat_completion, said_answer
from quotes.workers import ExtractorRecipe, WorkerError, WorkerPool, freeze_startup_objects, shares

FAKE_KEY = "sk-" + "test-not-a-real-key-000000"


def article_text(i: int) -> str:
    """Three paragraphs, each with one quote by its own speaker (invented text)."""
    return "\n\n".join(
        f"The council met on day {i}. “Budget line {i}.{j} is settled for good,” said Alderman "
        f"Number{j} Mbeki after the vote. Nothing else was decided on the pier or the harbour."
        for j in range(3)
    )


ARTICLES = [Article(id=f"art-{i:02d}", text=article_text(i)) for i in range(16)]


def by_id(extractions: list[Extraction]) -> dict[str, dict[str, Any]]:
    records = {e.id: e.model_dump() for e in extractions}
    assert len(records) == len(extractions), "one record per article"
    return records


class QuotingModel:
    """Answers each chunk with the quotes it shows, after a pause; counts the requests in flight."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def __call__(self, request: StubRequest) -> StubReply:
        with self.lock:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(self.delay)
        with self.lock:
            self.now -= 1
        user = request.json["messages"][-1]["content"]
        pairs = re.findall(r"(“[^”]+”) said (Alderman Number\d Mbeki)", user)
        return StubReply(json=chat_completion(said_answer(pairs)))


def llm_recipe(server: StubServer, store: Path, concurrency: int) -> ExtractorRecipe:
    options = {"store": ResponseStore(store), "api_key": FAKE_KEY, "timeout": 5, "wait_initial": 0.01}
    return ExtractorRecipe(
        "llm",
        model="stub-model",
        base_url=server.base_url,
        llm_options=options,
        concurrency=concurrency,
    )


def test_shares_sum_to_the_limit() -> None:
    assert shares(32, 2) == [16, 16]
    assert shares(5, 2) == [3, 2]
    with pytest.raises(ValueError, match="between 1 and the concurrency"):
        shares(2, 3)


def test_rules_two_workers_give_the_records_of_one() -> None:
    one = by_id(list(extract_many(ARTICLES, backend="rules", concurrency=4)))
    two = by_id(list(extract_many(ARTICLES, backend="rules", concurrency=4, workers=2)))
    assert two == one
    assert sum(len(record["quotes"]) for record in two.values()) == 3 * len(ARTICLES)


async def test_llm_two_workers_give_the_records_of_one_within_one_limit(serve: Any, tmp_path: Path) -> None:
    alone, shared = QuotingModel(), QuotingModel()
    extractor, _ = llm_recipe(serve(alone), tmp_path / "one", concurrency=3).build()
    async with extractor:
        one = by_id([e async for e in extractor.astream(ARTICLES)])
    async with WorkerPool(llm_recipe(serve(shared), tmp_path / "two", concurrency=3), workers=2) as pool:
        two = by_id([e async for e in pool.astream(ARTICLES)])
    assert two == one
    assert all(len(record["quotes"]) == 3 for record in two.values())
    assert shared.peak == 3, "both workers busy at once, and never more than --concurrency in flight"


async def run_pool(recipe: ExtractorRecipe, articles: list[Article], kill_after: int = 0) -> int:
    """Run `articles` through two workers; with `kill_after`, SIGKILL worker 1 once that many are back."""
    done = 0
    async with WorkerPool(recipe, workers=2) as pool:
        async for _ in pool.astream(articles):
            done += 1
            if done == kill_after:
                worker = next(p for p in multiprocessing.active_children() if p.name == "quotes-worker-1")
                assert worker.pid is not None
                os.kill(worker.pid, signal.SIGKILL)
    return done


async def test_a_worker_that_raises_is_a_clear_error(serve: Any, tmp_path: Path) -> None:
    not_a_folder = tmp_path / "store"
    not_a_folder.write_text("a file where the store folder should be", encoding="utf-8")
    recipe = llm_recipe(serve(QuotingModel(delay=0)), not_a_folder, concurrency=2)
    with pytest.raises(WorkerError, match=r"worker \d failed: NotADirectoryError"):
        await run_pool(recipe, ARTICLES)


async def test_a_killed_worker_is_an_error_not_a_hang(serve: Any, tmp_path: Path) -> None:
    recipe = llm_recipe(serve(QuotingModel(delay=0.2)), tmp_path / "store", concurrency=2)
    started = time.monotonic()
    with pytest.raises(WorkerError, match=r"worker 1 \(pid \d+\) was killed by signal 9"):
        await run_pool(recipe, ARTICLES * 4, kill_after=1)
    assert time.monotonic() - started < 20
    assert not [p for p in multiprocessing.active_children() if p.name.startswith("quotes-worker")]


async def test_a_configuration_error_is_raised_as_itself_before_any_input() -> None:
    with pytest.raises(ConfigurationError, match="no model configured"):
        async with WorkerPool(ExtractorRecipe("llm", concurrency=2), workers=2):
            pass


def test_cli_workers_resume_a_cut_run(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(
        "".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in ARTICLES), encoding="utf-8"
    )
    out, summary = tmp_path / "out.jsonl", tmp_path / "summary.json"
    runner = CliRunner()
    base = ["extract", str(corpus), "--backend", "rules", "-o", str(out), "--concurrency", "4"]
    assert runner.invoke(app, [*base, "-q"]).exit_code == 0
    full = out.read_text(encoding="utf-8").splitlines()
    out.write_text("\n".join(full[:5]) + '\n{"schema_version": "1", "id": "art-1', encoding="utf-8")

    resumed = runner.invoke(app, [*base, "--workers", "2", "--resume", "--summary-json", str(summary)])
    assert resumed.exit_code == 0, resumed.output
    assert "2 worker processes" in resumed.stderr
    assert json.loads(summary.read_text())["skipped"] == 5
    lines = out.read_text(encoding="utf-8").splitlines()
    assert sorted(lines) == sorted(full), "every article once, as one process wrote it"


def test_objects_made_at_start_up_are_left_out_of_later_collections() -> None:
    made_at_start_up = [[i] for i in range(1000)]
    try:
        freeze_startup_objects()
        collected = {id(o) for o in gc.get_objects()}  # what a full collection walks
        assert not any(id(o) in collected for o in made_at_start_up)
        made_later = [[i] for i in range(10)]
        assert all(id(o) in {id(p) for p in gc.get_objects()} for o in made_later)
    finally:
        gc.unfreeze()
