"""`quotes batch`: requests built as a live run builds them, sent through the Files and Batches endpoints
of a local server by the real `openai` SDK, the answers collected into the store and replayed offline."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import openai
import pytest
from typer.testing import CliRunner

from batch_server import BatchServer
from quotes.batch import BatchWriter, Jobs, acollect, aplan, asubmit, awrite, collect_files
from quotes.cli import app
from quotes.schema import Article, Extraction
from quotes.store import ResponseStore, StoreMode, request_key
from quotes.testing import (
    StubReply,
    StubRequest,
    StubServer,
    chat_completion,
    error_body,
    said_answer,
)
from quotes.workers import ExtractorRecipe

MODEL = "stub-model"
SAID = re.compile(r"(“[^”]+”) said ([A-Z][a-z]+ [A-Z][a-z]+)")
NAMES = ["Mara Quell", "Otto Brisk", "Lena Farrow", "Ivo Santel", "Petra Lunde", "Ansel Moor"]
runner = CliRunner()
T = TypeVar("T")


def corpus(n: int = 6) -> list[Article]:
    """Invented articles, each with one or two direct quotes; every third long enough for two chunks."""
    articles = []
    for i in range(n):
        name = NAMES[i % len(NAMES)]
        text = f"The harbour board met on Tuesday in Port Elm. “We will rebuild pier {i},” said {name}."
        if i % 3 == 2:
            filler = " ".join(f"Sentence {k} of report {i} on the tides." for k in range(40))
            text += f"\n\n{filler}\n\n“The ferry runs again in May,” said {NAMES[(i + 1) % len(NAMES)]}."
        articles.append(Article(id=f"a{i}", text=text))
    return articles


def answer(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """A model that reports every `“…,” said First Last` in the chunk, in the chat.completion wire format."""
    text = body["messages"][-1]["content"]
    content = said_answer(SAID.findall(text))
    tokens = len(json.dumps(body)) // 4
    return 200, chat_completion(content, prompt_tokens=tokens, completion_tokens=len(content) // 4)


def recipe(chunk_size: int = 1500) -> ExtractorRecipe:
    return ExtractorRecipe("llm", model=MODEL, chunk_size=chunk_size, llm_options={"chunk_size": chunk_size})


def within(server: BatchServer, operation: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
    """One batch operation with a client of its own, closed before its event loop is."""

    async def run() -> T:
        async with openai.AsyncOpenAI(base_url=server.base_url, api_key="test-key", max_retries=0) as c:
            return await operation(c)

    return asyncio.run(run())


def replay(store_dir: Path, articles: list[Article], chunk_size: int = 1500) -> list[Extraction]:
    """`quotes extract --offline` from the store: the outputs a batch run ends with."""
    options = {"chunk_size": chunk_size, "store": ResponseStore(store_dir, StoreMode.offline)}
    extractor, _ = ExtractorRecipe("llm", model=MODEL, chunk_size=chunk_size, llm_options=options).build()

    async def run() -> list[Extraction]:
        async with extractor:
            return [e async for e in extractor.astream(articles)]

    return sorted(asyncio.run(run()), key=lambda e: e.id)


def live(articles: list[Article], store_dir: Path) -> tuple[list[Extraction], list[dict[str, Any]]]:
    """A live run against a chat-completions stub that answers like `answer`: its outputs and bodies."""

    def handler(request: StubRequest) -> StubReply:
        status, body = answer(request.json)
        return StubReply(status=status, json=body)

    with StubServer(handler) as server:
        options = {"chunk_size": 1500, "store": ResponseStore(store_dir)}
        extractor, _ = ExtractorRecipe(
            "llm", model=MODEL, base_url=server.base_url, chunk_size=1500, llm_options=options
        ).build()

        async def run() -> list[Extraction]:
            async with extractor:
                return [e async for e in extractor.astream(articles)]

        extractions = sorted(asyncio.run(run()), key=lambda e: e.id)
        return extractions, [r.json for r in server.requests]


def records(extractions: list[Extraction]) -> list[dict[str, Any]]:
    """What a run produced, without its usage (live requests against replayed ones)."""
    return [e.model_dump(exclude={"usage"}) for e in extractions]


def batch_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_batch_line_is_the_request_a_live_run_sends_keyed_as_the_store_keys_it(tmp_path: Path) -> None:
    articles = corpus()
    _, sent = live(articles, tmp_path / "live-store")
    out = tmp_path / "batch.jsonl"
    plan = asyncio.run(awrite(articles, recipe(), tmp_path / "store", out))
    lines = batch_lines(out)
    assert plan.requests == len(lines) == len(sent) == 8, "six articles, two of them in two chunks"
    assert {json.dumps(line["body"], sort_keys=True) for line in lines} == {
        json.dumps(body, sort_keys=True) for body in sent
    }
    for line in lines:
        assert line["method"] == "POST"
        assert line["url"] == "/v1/chat/completions"
        assert line["custom_id"] == request_key(line["body"])
        assert line["custom_id"] in ResponseStore(tmp_path / "live-store"), "the live run stored it there"


def test_submit_status_collect_then_an_offline_run_matches_a_live_one(tmp_path: Path) -> None:
    articles = corpus()
    expected, _ = live(articles, tmp_path / "live-store")
    store_dir = tmp_path / "store"
    with BatchServer(answer) as server:
        jobs, plan = within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        [job] = jobs
        assert plan.requests == 8
        assert [p.state for p in job.parts] == ["submitted"]
        assert len(server.batches) == 1
        _, first = within(server, lambda c: acollect(store_dir, c))
        assert first.answered == 0
        assert first.running == [job.parts[0].batch_id], "validating at the first look"
        _, got = within(server, lambda c: acollect(store_dir, c))
        assert got.answered == 8
        assert got.failed == 0
        assert got.input_tokens > 0
        assert got.output_tokens > 0
        assert Jobs(store_dir).load(job.id).parts[0].state == "collected"
        again, replan = within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        assert again == []
        assert replan.requests == 0
        assert replan.already_stored == 8
        assert len(server.batches) == 1, "a rerun after collect sends nothing"
    replayed = replay(store_dir, articles)
    assert records(replayed) == records(expected)
    assert sum(e.usage.requests for e in replayed) == 0
    assert sum(e.usage.cached_requests for e in replayed) == 8


def test_an_expired_batch_and_a_failed_line_are_asked_again_by_the_next_submit(tmp_path: Path) -> None:
    articles = corpus()
    refused = {"a1"}

    def flaky(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if "pier 1," in body["messages"][-1]["content"] and refused:
            return 400, error_body("This model's maximum context length is exceeded.")
        return answer(body)

    store_dir = tmp_path / "store"
    with BatchServer(flaky, expire_after=5) as server:
        within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        within(server, lambda c: acollect(store_dir, c))
        _, got = within(server, lambda c: acollect(store_dir, c))
        assert got.answered == 4
        assert got.failures == {
            "HTTP 400: This model's maximum context length is exceeded.": 1,
            "batch_expired": 3,
        }
        assert {e.id: len(e.errors) for e in replay(store_dir, articles)}["a1"] == 1, "not answered yet"
        refused.clear()
        server.expire_after = None
        _, plan = within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        assert plan.requests == 4
        assert plan.already_stored == 4
        within(server, lambda c: acollect(store_dir, c))
        _, got = within(server, lambda c: acollect(store_dir, c))
        assert got.answered == 4
        assert got.failed == 0
        twice = {key for key in server.lines_run if server.lines_run.count(key) > 1}
        assert len(twice) == 1, "only the refused request ran again; no answered one did"
        [again] = twice
        assert "pier 1," in json.dumps(_body_of(server, again))
    replayed = replay(store_dir, articles)
    assert all(e.errors == [] for e in replayed)
    assert len([q for e in replayed for q in e.quotes]) == 8


def _body_of(server: BatchServer, custom_id: str) -> dict[str, Any]:
    for content in server.contents.values():
        for line in map(json.loads, content.splitlines()):
            if line["custom_id"] == custom_id and "body" in line and "method" in line:
                body: dict[str, Any] = line["body"]
                return body
    raise KeyError(custom_id)


def test_large_inputs_are_split_within_the_request_and_byte_limits(tmp_path: Path) -> None:
    articles = corpus(12)
    store_dir = tmp_path / "store"
    with BatchServer(answer) as server:
        [job], plan = within(
            server, lambda c: asubmit(articles, recipe(), store_dir, c, max_requests=5, max_bytes=100_000)
        )
        folder = Jobs(store_dir).folder(job)
        sizes = [(folder / f"{p.name}.jsonl").stat().st_size for p in job.parts]
        counts = [len(batch_lines(folder / f"{p.name}.jsonl")) for p in job.parts]
        assert plan.requests == sum(counts) == 16
        assert max(counts) <= 5
        assert max(sizes) <= 100_000
        assert len(server.batches) == len(job.parts) >= 4
        for _ in range(2):
            within(server, lambda c: acollect(store_dir, c))
    assert all(e.errors == [] for e in replay(store_dir, articles))


def _written(articles: list[Article], tmp_path: Path) -> Path:
    out = tmp_path / "one.jsonl"
    asyncio.run(awrite(articles, recipe(), tmp_path / "scratch-store", out))
    return out


class Killed(BaseException):
    """Stands for the process being killed: nothing after the raise runs, as after SIGKILL."""


@pytest.mark.parametrize("killed_at", ["written", "uploading", "uploaded", "creating", "submitted"])
def test_a_submit_killed_at_any_step_and_run_again_sends_each_request_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, killed_at: str
) -> None:
    articles = corpus()
    store_dir = tmp_path / "store"
    save = Jobs.save

    def save_then_die(self: Jobs, job: Any) -> None:
        save(self, job)
        if any(p.state == killed_at for p in job.parts):
            raise Killed

    with BatchServer(answer) as server:
        monkeypatch.setattr(Jobs, "save", save_then_die)
        with pytest.raises(Killed):
            within(server, lambda c: asubmit(articles, recipe(), store_dir, c, max_requests=3))
        monkeypatch.setattr(Jobs, "save", save)
        within(server, lambda c: asubmit(articles, recipe(), store_dir, c, max_requests=3))
        batched = [
            line["custom_id"]
            for batch in server.batches.values()
            for line in map(json.loads, server.contents[batch["input_file_id"]].splitlines())
        ]
        assert sorted(batched) == sorted(set(batched)), "no request in two batches"
        assert len(batched) == 8
        for _ in range(2):
            within(server, lambda c: acollect(store_dir, c))
    assert all(e.errors == [] for e in replay(store_dir, articles))


def test_a_collect_killed_halfway_and_run_again_loses_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    articles = corpus()
    store_dir = tmp_path / "store"
    save = ResponseStore.save
    saved: list[int] = []

    def save_some(self: ResponseStore, request: Any, response: Any) -> Path | None:
        if len(saved) == 3:
            raise Killed
        saved.append(1)
        return save(self, request, response)

    with BatchServer(answer) as server:
        within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        within(server, lambda c: acollect(store_dir, c))
        monkeypatch.setattr(ResponseStore, "save", save_some)
        with pytest.raises(Killed):
            within(server, lambda c: acollect(store_dir, c))
        monkeypatch.setattr(ResponseStore, "save", save)
        _, got = within(server, lambda c: acollect(store_dir, c))
        assert got.answered == 8
    assert all(e.errors == [] for e in replay(store_dir, articles))


def test_an_answer_that_fails_validation_is_reasked_in_a_follow_up_batch(tmp_path: Path) -> None:
    articles = corpus(2)
    asked: list[list[dict[str, Any]]] = []

    def sloppy(body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        asked.append(body["messages"])
        if "pier 0," in body["messages"][-1]["content"]:  # the first ask: its one record is no statement
            return 200, chat_completion(
                '{"quotes": [{"quote": "“We will rebuild pier 0,”", "kind": "shout"}]}'
            )
        if "pier 0," in json.dumps(body["messages"][-3:]):
            return answer({"messages": body["messages"][-3:-2]})
        return answer(body)

    store_dir = tmp_path / "store"
    with BatchServer(sloppy) as server:
        _, first = within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        for _ in range(2):
            within(server, lambda c: acollect(store_dir, c))
        _, followup = within(server, lambda c: asubmit(articles, recipe(), store_dir, c))
        assert (first.requests, followup.requests) == (2, 1)
        for _ in range(2):
            within(server, lambda c: acollect(store_dir, c))
        reask = asked[-1]
        assert reask[-2]["role"] == "assistant"
        assert "rebuild pier 0" in reask[-2]["content"]
        assert "kind" in reask[-1]["content"], "the re-ask carries the validation error"
    replayed = replay(store_dir, articles)
    assert [[q.speaker.name for q in e.quotes] for e in replayed] == [["Mara Quell"], ["Otto Brisk"]]


def test_write_then_a_self_hosted_runners_output_collected_from_file(tmp_path: Path) -> None:
    """The vLLM `run-batch` flow: a batch file out, an output file back, no Batch API."""
    articles = corpus()
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in articles))
    store_dir, batch_file, output = tmp_path / "store", tmp_path / "batch.jsonl", tmp_path / "output.jsonl"
    args = ["--model", MODEL, "--store", str(store_dir), "--chunk-size", "1500"]
    result = runner.invoke(app, ["batch", "write", str(corpus_file), "-o", str(batch_file), *args])
    assert result.exit_code == 0, result.output
    assert "8 requests to send" in result.stderr
    output.write_text("".join(json.dumps(_run_line(line)) + "\n" for line in batch_lines(batch_file)))
    result = runner.invoke(app, ["batch", "collect", "--file", str(output), "--store", str(store_dir)])
    assert result.exit_code == 0, result.output
    assert "8 requests answered" in result.stderr
    replayed = runner.invoke(
        app, ["extract", str(corpus_file), "--offline", "-f", "jsonl", "-q", "--backend", "llm", *args]
    )
    assert replayed.exit_code == 0, replayed.output
    outputs = [Extraction.model_validate_json(line) for line in replayed.stdout.splitlines()]
    assert len([q for e in outputs for q in e.quotes]) == 8
    again = runner.invoke(app, ["batch", "write", str(corpus_file), "-o", str(batch_file), *args])
    assert "0 requests to send" in again.stderr
    assert batch_file.read_text() == ""


def _run_line(line: dict[str, Any]) -> dict[str, Any]:
    """What a batch runner writes for one input line (OpenAI's and vLLM's output format)."""
    status, body = answer(line["body"])
    response = {"status_code": status, "request_id": f"req-{line['custom_id'][:8]}", "body": body}
    return {
        "id": f"out-{line['custom_id'][:8]}",
        "custom_id": line["custom_id"],
        "response": response,
        "error": None,
    }


def test_an_answer_whose_request_is_not_the_one_its_id_names_is_refused(tmp_path: Path) -> None:
    batch_file = _written(corpus(1), tmp_path)
    [line] = batch_lines(batch_file)
    line["body"]["temperature"] = 0.7  # edited after it was written
    batch_file.write_text(json.dumps(line) + "\n")
    output = tmp_path / "output.jsonl"
    output.write_text(json.dumps(_run_line(line)) + "\n")
    with pytest.raises(Exception, match="hashes to"):
        collect_files(tmp_path / "store", [output], [batch_file])
    assert not list((tmp_path / "store").rglob("*.json")), "nothing stored"


def test_the_cli_submits_shows_status_and_collects(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    articles = corpus()
    corpus_file = tmp_path / "corpus.jsonl"
    corpus_file.write_text("".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in articles))
    store = ["--store", str(tmp_path / "store")]
    with BatchServer(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        args = ["batch", "submit", str(corpus_file), "--model", MODEL, "--chunk-size", "1500", *store]
        submitted = runner.invoke(app, args)
        assert submitted.exit_code == 0, submitted.output
        assert "6 articles: 8 requests to send" in submitted.stderr
        [batch_id] = server.batches
        assert batch_id in submitted.stdout
        status = runner.invoke(app, ["batch", "status", *store])
        assert status.exit_code == 0, status.output
        assert "in_progress" in status.stdout
        collected = runner.invoke(app, ["batch", "collect", *store])
        assert collected.exit_code == 0, collected.output
        assert "8 requests answered" in collected.stderr
        assert "billed at 0.5× the live price" in collected.stderr
        status = runner.invoke(app, ["batch", "status", *store])
        assert "completed" in status.stdout
        assert "8 answered, 0 failed of 8\tcollected" in status.stdout
        again = runner.invoke(app, args)
        assert "nothing to submit" in again.stderr
        assert len(server.batches) == 1
        unknown = runner.invoke(app, ["batch", "status", "no-such-job", *store])
        assert unknown.exit_code == 2
        assert "no batch job 'no-such-job'" in unknown.stderr


def test_planning_reads_nothing_but_the_store(tmp_path: Path) -> None:
    """Planning runs the pipeline offline: with no server anywhere, it still finds every request."""
    found: list[str] = []
    writer = BatchWriter(tmp_path, on_file=lambda part: found.append(part.name))
    plan = asyncio.run(aplan(corpus(3), recipe(), tmp_path / "store", writer))
    assert plan.requests == 4
    assert found == ["part-0001"]


def test_batch_lines_hold_the_pipelines_chunks(tmp_path: Path) -> None:
    article = corpus(3)[2]
    chunks = recipe().build()[0].chunks(article.text)
    lines = batch_lines(_written([article], tmp_path))
    assert len(lines) == len(chunks) == 2
    for line, chunk in zip(lines, chunks, strict=True):
        assert chunk.text in line["body"]["messages"][-1]["content"]
