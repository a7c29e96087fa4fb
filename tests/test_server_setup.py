"""A model server that cannot be used, or stops being usable, over real HTTP on 127.0.0.1: the preflight
before the first request, the circuit breaker during a run, timeouts, retry lines and what usage counts.

Every text here is invented."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import quotes
from quotes.backends import ServerUnavailable, SetupError, llm
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.chunking import Chunk
from quotes.pipeline import Extractor
from quotes.schema import Article, Extraction
from quotes.store import ResponseStore, StoreMode
from quotes.testing import Handler, StubReply, StubRequest, StubServer, chat_completion, error_body, replies
from test_pipeline import chunk_of

KEY = "sk-" + "test-setup-0123456789"
RECORD = {
    "quote": "“The ferry to Varna Isle will run twice a day,”",
    "speaker": "Iris Kellan",
    "speaker_mention": "Councillor Iris Kellan",
    "speaker_type": "person",
    "kind": "direct",
    "cue": "said",
    "about": [],
}
TEXT = "“The ferry to Varna Isle will run twice a day,” Councillor Iris Kellan said on Friday."
GOOD = json.dumps({"quotes": [RECORD]}, ensure_ascii=False)
NONE = '{"quotes": []}'

Serve = Callable[..., StubServer]


def ok(content: str = GOOD, **options: Any) -> StubReply:
    return StubReply(json=chat_completion(content, **options))


def config(base_url: str | None, **options: Any) -> LLMConfig:
    settings: dict[str, Any] = {
        "model": "stub-model",
        "base_url": base_url,
        "api_key": KEY,
        "timeout": 5.0,
        "wait_initial": 0.01,
        "wait_max": 0.05,
    }
    settings.update(options)
    return LLMConfig(**settings)


def is_probe(request: StubRequest) -> bool:
    return request.json.get("max_tokens") == 1


async def run(cfg: LLMConfig, articles: list[Article], **options: Any) -> list[Extraction]:
    async with Extractor(LLMBackend(cfg), **options) as extractor:
        return [extraction async for extraction in extractor.astream(articles)]


def articles(n: int, prefix: str = "art") -> list[Article]:
    return [Article(id=f"{prefix}-{i:02d}", text=f"{TEXT} Story {i} of the harbour.") for i in range(n)]


# ---- preflight: setup errors fail fast, before any article's request ----


async def test_a_closed_port_is_a_setup_error_at_once_naming_the_url_and_the_fix(closed_url: str) -> None:
    url = closed_url
    # A retry loop would wait at least 5 × 2 s between its 6 attempts.
    cfg = config(url, max_attempts=6, wait_initial=2.0, wait_max=10.0)
    started = time.monotonic()
    with pytest.raises(SetupError) as caught:
        await run(cfg, articles(5))
    assert time.monotonic() - started < 8, "retried the refused connection"
    message = str(caught.value)
    assert url in message
    assert "--base-url" in message
    assert "running" in message


@pytest.mark.parametrize("status", [401, 403])
async def test_a_rejected_key_on_the_model_list_is_a_setup_error_before_any_request(
    serve: Serve, status: int
) -> None:
    refusal = StubReply(status, json=error_body("Incorrect API key provided", code="invalid_api_key"))
    server = serve(replies(ok()), models_reply=refusal)
    with pytest.raises(SetupError) as caught:
        await run(config(server.base_url), articles(3))
    message = str(caught.value)
    assert f"HTTP {status}: Incorrect API key provided" in message, "the server's words, once"
    assert "OPENAI_API_KEY" in message
    assert server.base_url.rstrip("/") in message
    assert KEY not in message
    assert server.request_count == 0, "an article's request was sent"


async def test_an_unknown_model_names_it_and_what_the_server_lists(serve: Serve) -> None:
    def handle(request: StubRequest) -> StubReply:
        message = f"The model `{request.json['model']}` does not exist"
        return StubReply(404, json=error_body(message, code="model_not_found"))

    server = serve(handle, model_ids=("harbour-7b", "harbour-13b"))
    with pytest.raises(SetupError) as caught:
        await run(config(server.base_url, model="harbour-70b"), articles(3))
    message = str(caught.value)
    assert "'harbour-70b' not found" in message
    assert "HTTP 404: The model `harbour-70b` does not exist" in message
    assert "harbour-7b, harbour-13b" in message
    assert "--model" in message
    [probe] = server.requests
    assert is_probe(probe), "only the one-token probe was sent"


async def test_a_server_without_a_model_list_is_probed_once_and_the_run_proceeds(serve: Serve) -> None:
    no_list = StubReply(404, json=error_body("Not Found", code="not_found"))
    server = serve(replies(ok()), models_reply=no_list)
    [extraction] = await run(config(server.base_url, model="unlisted"), articles(1))
    assert extraction.errors == []
    assert [q.speaker.name for q in extraction.quotes] == ["Iris Kellan"]
    probe, asked = server.requests
    assert probe.json["max_tokens"] == 1
    assert probe.json["model"] == "unlisted"
    assert len(probe.json["messages"]) == 1
    assert "response_format" not in probe.json
    assert not is_probe(asked)
    assert server.models_requests == 1


async def test_a_listed_model_needs_no_probe_and_the_preflight_runs_once_per_run(serve: Serve) -> None:
    server = serve(replies(ok()))
    long = Article(id="long", text="\n\n".join(f"{TEXT} Paragraph {i}." for i in range(12)))
    done = await run(config(server.base_url), [*articles(6), long], chunk_size=300, overlap=50)
    assert len(done) == 7
    assert all(e.errors == [] for e in done)
    assert server.request_count > 7, "the long article was sent in several chunks"
    assert not any(is_probe(r) for r in server.requests)
    assert server.models_requests == 1


@pytest.mark.parametrize("rerun_mode", [StoreMode.cache, StoreMode.offline])
async def test_a_fully_stored_rerun_sends_nothing_not_even_the_preflight(
    serve: Serve, tmp_path: Path, rerun_mode: StoreMode
) -> None:
    server = serve(replies(ok()))
    first = await run(config(server.base_url, store=ResponseStore(tmp_path / "store")), articles(4))
    sent, listed = server.request_count, server.models_requests
    assert (sent, listed) == (4, 1)
    again = await run(
        config(server.base_url, store=ResponseStore(tmp_path / "store", rerun_mode)), articles(4)
    )
    assert (server.request_count, server.models_requests) == (sent, listed)
    assert all(e.usage.cached_requests == 1 and e.usage.requests == 0 for e in again)
    assert sorted(e.model_dump_json(exclude={"usage"}) for e in again) == sorted(
        e.model_dump_json(exclude={"usage"}) for e in first
    )


def _no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request the SDK tries from now on is recorded and refused."""
    tried: list[str] = []

    async def refuse(self: httpx.AsyncClient, request: httpx.Request, **_: Any) -> httpx.Response:
        tried.append(str(request.url))
        raise httpx.ConnectError("the test forbids the network", request=request)

    monkeypatch.setattr(httpx.AsyncClient, "send", refuse)
    return tried


async def test_the_hosted_api_without_a_key_is_a_setup_error_with_no_network_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried = _no_network(monkeypatch)
    with pytest.raises(SetupError) as caught:
        await run(config(None, api_key=None), articles(3))
    assert "no API key" in str(caught.value)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert "--base-url" in str(caught.value)
    assert tried == []


# ---- the public API raises the typed exception ----


def test_extract_raises_setup_error_for_a_closed_port(closed_url: str) -> None:
    url = closed_url
    with pytest.raises(quotes.SetupError, match="cannot reach"):
        quotes.extract(TEXT, model="m", base_url=url)


@pytest.mark.parametrize("workers", [1, 2])
def test_extract_many_raises_setup_error_for_a_closed_port(closed_url: str, workers: int) -> None:
    url = closed_url
    texts = [TEXT, TEXT + " Again."]
    with pytest.raises(quotes.SetupError, match="cannot reach"):
        list(quotes.extract_many(texts, model="m", base_url=url, concurrency=2, workers=workers))


def test_extract_and_extract_many_raise_setup_error_with_no_key_for_the_hosted_api(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    tried = _no_network(monkeypatch)
    with pytest.raises(quotes.SetupError, match="no API key"):
        quotes.extract(TEXT, model="m")
    with pytest.raises(quotes.SetupError, match="no API key"):
        list(quotes.extract_many([TEXT], model="m"))
    assert tried == []


# ---- the circuit breaker ----


async def test_a_server_that_stops_mid_run_ends_the_run_within_seconds_keeping_what_is_done(
    serve: Serve,
) -> None:
    answered = 4

    def handle(request: StubRequest) -> StubReply:
        # The first articles are answered; later requests hang until the server is stopped.
        return ok() if request.number < answered else StubReply(json=chat_completion(GOOD), delay=60)

    server = serve(handle)
    url = server.base_url.rstrip("/")
    # Without the breaker every remaining article would spend 6 attempts backing off ≥ 0.5 s each.
    cfg = config(server.base_url, max_attempts=6, wait_initial=0.5, wait_max=2.0)
    seen: list[Extraction] = []
    stopped_at = 0.0

    async def consume() -> None:
        nonlocal stopped_at
        async with Extractor(LLMBackend(cfg), concurrency=2) as extractor:
            async for extraction in extractor.astream(articles(40)):
                seen.append(extraction)
                if len(seen) == answered:
                    while server.request_count < answered + 2:  # both slots are hanging
                        await asyncio.sleep(0.02)
                    server.stop()
                    stopped_at = time.monotonic()

    with pytest.raises(ServerUnavailable) as caught:
        await consume()
    assert time.monotonic() - stopped_at < 20
    finished = [e for e in seen if e.ok]
    failed = [e for e in seen if not e.ok]
    assert len(finished) == answered
    assert len(failed) >= 2, "the articles in flight are yielded too"
    assert len(seen) < 40, "no more articles were taken in"
    assert all(error.kind == "server_down" for e in failed for error in e.errors)
    assert url in caught.value.message
    assert "run the same command again" in caught.value.message


def long_article(article_id: str, paragraphs: int = 6) -> Article:
    """An article long enough to be split in halves (each paragraph holds one quotation)."""
    body = "\n\n".join(
        f"“The ferry to Varna Isle will run twice a day,” Councillor Iris Kellan said in speech {i}. "
        f"The harbour board met for the {i}th time this spring to weigh the timetable."
        for i in range(paragraphs)
    )
    return Article(id=article_id, text=body)


def slow_when_long(limit: int, delay: float) -> Handler:
    """Chat answers about a text longer than `limit` come after `delay`; shorter ones at once."""

    def handle(request: StubRequest) -> StubReply:
        slow = len(chunk_of(request)) > limit
        return StubReply(json=chat_completion(GOOD), delay=delay if slow else 0.0)

    return handle


async def test_a_slow_server_that_still_lists_its_models_keeps_the_circuit_closed(serve: Serve) -> None:
    two = [long_article("slow-a"), long_article("slow-b")]
    limit = len(two[0].text) - 1
    server = serve(slow_when_long(limit, delay=5.0))
    # Two whole articles timing out twice each make the four failures in a row that check the server.
    done = await run(config(server.base_url, timeout=0.5, max_attempts=6), two, concurrency=2)
    assert [e.errors for e in done] == [[], []]
    assert all(e.quotes for e in done)
    whole = [r for r in server.requests if len(chunk_of(r)) > limit]
    assert len(whole) == 4, "each whole article was asked twice, then split"
    # the preflight, and after each of the four timeouts one look at the server: the wait for it to be
    # free, which after the fourth failure in a row is also the check that keeps the circuit closed
    assert server.models_requests == 5
    assert sum(e.usage.failed_requests for e in done) == 4


# ---- timeouts ----


async def test_a_timed_out_request_is_sent_twice_then_its_chunk_is_split(serve: Serve) -> None:
    article = long_article("split")
    server = serve(slow_when_long(len(article.text) - 1, delay=5.0))
    [extraction] = await run(config(server.base_url, timeout=0.5, max_attempts=6), [article])
    assert extraction.errors == []
    texts = [chunk_of(r) for r in server.requests]
    assert texts[:2] == [article.text, article.text]
    halves = texts[2:]
    assert len(halves) == 2
    assert all(half in article.text and len(half) < len(article.text) for half in halves)
    assert article.text.startswith(halves[0]) or article.text.startswith(halves[1])
    assert extraction.usage.failed_requests == 2
    assert extraction.usage.requests == 2
    assert server.models_requests == 3, "the preflight, and a wait for the server after each timeout"


async def test_a_chunk_too_short_to_split_times_out_into_an_error_saying_raise_timeout(serve: Serve) -> None:
    server = serve(replies(StubReply(json=chat_completion(GOOD), delay=5.0)))
    [extraction] = await run(config(server.base_url, timeout=0.4, max_attempts=6), articles(1))
    [error] = extraction.errors
    assert error.kind == "timeout"
    assert "--timeout" in error.message
    assert server.request_count == 2
    assert extraction.quotes == []


# ---- retry lines ----


async def test_every_retry_line_is_one_bounded_line(serve: Serve, caplog: pytest.LogCaptureFixture) -> None:
    trace = "Traceback (most recent call last):\n" + "".join(
        f'  File "/srv/model/layer{i}.py", line {i}, in forward\n    raise RuntimeError("out of slots")\n'
        for i in range(60)
    )
    failing = StubReply(500, json=error_body(f"the model crashed\n{trace}", type="server_error"))
    server = serve(replies(failing, failing, ok()))
    caplog.set_level(logging.WARNING, logger="quotes")
    [extraction] = await run(config(server.base_url, max_attempts=3), articles(1))
    assert extraction.errors == []
    retries = [r.getMessage() for r in caplog.records if "model request failed" in r.getMessage()]
    assert len(retries) == 2
    for line in retries:
        assert "\n" not in line
        assert "the model crashed Traceback" in line
        assert len(line) < 400


# ---- usage ----


def with_details(cached: int, reasoning: int) -> StubReply:
    body = chat_completion(GOOD, prompt_tokens=1000, completion_tokens=300)
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": cached, "audio_tokens": 0}
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": reasoning, "audio_tokens": 0}
    return StubReply(json=body)


async def test_a_failed_request_counts_as_failed_and_the_answer_as_a_request(serve: Serve) -> None:
    server = serve(replies(StubReply(500, json=error_body("busy", type="server_error")), ok()))
    [extraction] = await run(config(server.base_url), articles(1))
    assert extraction.usage.failed_requests == 1
    assert extraction.usage.requests == 1
    assert server.request_count == 2


async def test_cached_and_reasoning_tokens_from_the_wire_are_summed(serve: Serve) -> None:
    def handle(request: StubRequest) -> StubReply:
        return with_details(cached=600 + request.number, reasoning=40)

    server = serve(handle)
    long = long_article("two-chunks", paragraphs=8)
    [extraction] = await run(config(server.base_url), [long], chunk_size=400, overlap=50)
    n = server.request_count
    assert n >= 2
    usage = extraction.usage
    assert usage.requests == n
    assert usage.input_tokens == 1000 * n
    assert usage.cached_input_tokens == 600 * n + sum(range(n))
    assert usage.reasoning_tokens == 40 * n


async def test_a_failed_preflight_is_checked_again_by_the_next_request(serve: Serve) -> None:
    # A long-lived backend (quotes serve) outlives a server that was not ready or a key being fixed.
    server = serve(replies(ok()), models_reply=StubReply(401, json=error_body("Incorrect API key")))
    backend = LLMBackend(config(server.base_url))
    chunk = Chunk(0, 0, len(TEXT), TEXT)
    try:
        with pytest.raises(SetupError):
            await backend.extract_chunk(chunk)
        server.models_reply = None
        answer = await backend.extract_chunk(chunk)
    finally:
        await backend.aclose()
    assert [r.speaker for r in answer.records] == ["Iris Kellan"]
    assert server.models_requests == 2
    assert server.request_count == 1


async def test_an_open_circuit_lets_a_request_through_after_a_while(
    serve: Serve, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(llm, "BREAKER_RETRY_SECONDS", 0.5)
    down = {"now": False}

    def handle(request: StubRequest) -> StubReply:
        return StubReply(json=chat_completion(GOOD), delay=3.0 if down["now"] else 0.0)

    server = serve(handle)
    backend = LLMBackend(config(server.base_url, timeout=0.3))
    chunks = [Chunk(0, 0, len(text), text) for text in (TEXT, TEXT + " Again.", TEXT + " Once more.")]
    try:
        await backend.extract_chunk(chunks[0])
        # The server hangs: chat answers and its model list alike.
        down["now"] = True
        server.models_reply = StubReply(json={"object": "list", "data": []}, delay=3.0)
        failures = await asyncio.gather(*map(backend.extract_chunk, chunks[1:]), return_exceptions=True)
        assert any(isinstance(failure, ServerUnavailable) for failure in failures)
        sent = server.request_count
        with pytest.raises(ServerUnavailable):
            await backend.extract_chunk(chunks[0])
        assert server.request_count == sent, "an open circuit fails at once"
        # The server is back; after the wait one request is let through, and it is answered.
        down["now"] = False
        server.models_reply = None
        await asyncio.sleep(0.6)
        answer = await backend.extract_chunk(chunks[2])
    finally:
        await backend.aclose()
    assert [r.speaker for r in answer.records] == ["Iris Kellan"]
    assert server.request_count == sent + 1
