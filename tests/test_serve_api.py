"""The HTTP API of `quotes serve`, over real HTTP: a server on 127.0.0.1 started by the test, httpx as
the client. Offline: the rules backend, or a local stub model server."""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from quotes.cli import app as cli
from quotes.schema import Extraction, SearchHit, Verdict
from quotes.serve import create_app
from quotes.serve.jobs import Busy, Job, Jobs
from quotes.testing import StubReply, StubServer, chat_completion, error_body
from serving import (
    ARCHIVE_ARTICLES,
    CLAIMS,
    HARBOUR,
    build_archive,
    free_port,
    llm_service,
    rules_service,
    serve,
)

DOCS = Path(__file__).resolve().parent.parent / "docs"
TOKEN = "s3cret-token-for-tests-0042"


@pytest.fixture(scope="module")
def archive_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_archive(tmp_path_factory.mktemp("archive") / "quotes.db")


@pytest.fixture(scope="module")
def url(archive_path: Path) -> Iterator[str]:
    yield from serve(rules_service(archive_path, max_request_bytes=100_000, max_article_chars=20_000))


@pytest.fixture(scope="module")
def bare_url() -> Iterator[str]:
    """A server with no archive."""
    yield from serve(rules_service())


@pytest.fixture(scope="module")
def token_url() -> Iterator[str]:
    yield from serve(rules_service(), token=TOKEN)


def test_health_says_what_the_server_runs(url: str) -> None:
    health = httpx.get(f"{url}/v1/health").json()
    assert health["status"] == "ok"
    assert health["backend"] == "rules"
    assert health["archive"] is True
    assert health["max_article_chars"] == 20_000


def test_extract_returns_an_extraction_pinned_to_the_text(url: str) -> None:
    answer = httpx.post(f"{url}/v1/extract", json={"text": HARBOUR, "id": "harbour"})
    assert answer.status_code == 200
    extraction = Extraction.model_validate(answer.json())
    assert extraction.id == "harbour"
    assert extraction.text == HARBOUR
    assert {q.speaker.name for q in extraction.quotes} == {"Ana Ruiz", "Tomas Vell"}
    for quote in extraction.quotes:
        assert HARBOUR[quote.start : quote.end] == quote.text


@pytest.mark.parametrize(("speaker", "words", "label", "said", "actual"), CLAIMS)
def test_verify_against_a_text_gives_each_verdict(
    url: str, speaker: str, words: str, label: str, said: str, actual: str | None
) -> None:
    answer = httpx.post(f"{url}/v1/verify", json={"speaker": speaker, "quote": words, "text": HARBOUR})
    assert answer.status_code == 200, answer.text
    verdict = Verdict.model_validate(answer.json())
    assert verdict.verdict == label
    assert verdict.claim.speaker == speaker
    if actual is not None:
        assert verdict.actual_speaker == actual
    if label in ("supported", "misattributed", "altered", "unattributed"):
        assert verdict.evidence is not None
        assert HARBOUR[verdict.evidence.start : verdict.evidence.end] == verdict.evidence.text
    if label == "altered":
        changed = [(op.claim, op.article) for op in verdict.diff if op.op != "equal"]
        assert changed == [("June", "May")]


def test_verify_across_the_archive_lists_evidence_earliest_first(url: str) -> None:
    claim = {"speaker": "Ana Ruiz", "quote": "the harbour will reopen in May"}
    verdict = Verdict.model_validate(httpx.post(f"{url}/v1/verify", json=claim).json())
    assert verdict.verdict == "supported"
    holding = [e.article_id for e in verdict.evidence_all if e.verdict == "supported"]
    assert holding == [
        "varnholm-harbour",
        "varnholm-quay-later",
    ]  # March before April, whatever the order added
    dates = [e.date for e in verdict.evidence_all]
    assert dates == sorted(dates)


def test_verify_across_the_archive_finds_no_invented_words(url: str) -> None:
    claim = {"speaker": "Lio Brandt", "quote": "the moon is made of green cheese and cork"}
    verdict = Verdict.model_validate(httpx.post(f"{url}/v1/verify", json=claim).json())
    assert verdict.verdict == "not_found"


def test_search_finds_statements_and_filters_them(url: str) -> None:
    hits = [
        SearchHit.model_validate(h) for h in httpx.get(f"{url}/v1/search", params={"q": "harbour"}).json()
    ]
    assert {h.article_id for h in hits} == {"varnholm-harbour", "varnholm-quay-later"}
    for hit in hits:
        text = next(a.text for a in ARCHIVE_ARTICLES if a.id == hit.article_id)
        assert text[hit.quote.start : hit.quote.end] == hit.quote.text
    later = httpx.get(f"{url}/v1/search", params={"q": "harbour", "since": "2024-04-01"}).json()
    assert [h["article_id"] for h in later] == ["varnholm-quay-later"]
    by_speaker = httpx.get(f"{url}/v1/search", params={"speaker": "Odun"}).json()
    assert [h["quote"]["text"] for h in by_speaker] == ["the repairs would cost “far more than planned.”"]


def test_an_archived_article_is_served_whole(url: str) -> None:
    answer = httpx.get(f"{url}/v1/articles/kessel-bridge")
    assert Extraction.model_validate(answer.json()).text == ARCHIVE_ARTICLES[2].text
    missing = httpx.get(f"{url}/v1/articles/no-such-story")
    assert missing.status_code == 404
    assert "no-such-story" in missing.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "names"),
    [
        ("POST", "/v1/extract", {}, 422, "text: Field required"),
        ("POST", "/v1/extract", {"text": ""}, 422, "text: String should have at least 1 character"),
        ("POST", "/v1/extract", {"text": "   \n"}, 400, "empty"),
        ("POST", "/v1/extract", {"text": "x", "colour": "red"}, 422, "colour: Extra inputs"),
        ("POST", "/v1/extract", {"text": 42}, 422, "text: Input should be a valid string"),
        ("POST", "/v1/verify", {"speaker": "Ana Ruiz"}, 422, "quote: Field required"),
        ("POST", "/v1/extract", {"text": "a" * 20_001}, 413, "20,001 characters"),
        ("GET", "/v1/search?since=last+spring", None, 400, "last spring"),
        ("GET", "/v1/search?limit=0", None, 422, "limit"),
        ("GET", "/v1/nothing-here", None, 404, "Not Found"),
    ],
)
def test_bad_input_gets_a_4xx_naming_the_problem(
    url: str, method: str, path: str, body: object, status: int, names: str
) -> None:
    answer = httpx.request(method, f"{url}{path}", json=body)
    assert answer.status_code == status
    assert names in answer.json()["detail"]


@pytest.mark.parametrize(
    ("content", "status", "names"),
    [
        (b'{"text": "\xff\xfe not utf-8"}', 400, "not JSON in UTF-8"),
        (b'{"text": "unclosed', 422, "not valid JSON"),
        (b"\x00\x01\x02\x89PNG\r\n", 400, "not JSON in UTF-8"),
    ],
)
def test_undecodable_bodies_get_a_4xx(url: str, content: bytes, status: int, names: str) -> None:
    answer = httpx.post(f"{url}/v1/extract", content=content, headers={"content-type": "application/json"})
    assert answer.status_code == status
    assert names in answer.json()["detail"]


def test_a_body_over_the_limit_is_refused_whether_its_length_is_declared_or_streamed(url: str) -> None:
    big = json.dumps({"text": "word " * 30_000}).encode()
    declared = httpx.post(f"{url}/v1/extract", content=big, headers={"content-type": "application/json"})
    assert declared.status_code == 413
    assert "100,000 bytes" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    streamed = httpx.post(f"{url}/v1/extract", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert httpx.get(f"{url}/v1/health").status_code == 200


def test_without_an_archive_the_archive_calls_say_so(bare_url: str) -> None:
    verify = httpx.post(f"{bare_url}/v1/verify", json={"speaker": "Ana Ruiz", "quote": "the harbour"})
    assert verify.status_code == 400
    assert "--archive" in verify.json()["detail"]
    assert httpx.get(f"{bare_url}/v1/search", params={"q": "harbour"}).status_code == 400


def test_another_host_name_is_refused(url: str) -> None:
    answer = httpx.get(f"{url}/v1/health", headers={"host": "rebound.example:8000"})
    assert answer.status_code == 421


def test_the_token_is_required_and_never_shown(token_url: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    refused = httpx.post(f"{token_url}/v1/extract", json={"text": HARBOUR})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    wrong = httpx.get(f"{token_url}/v1/health", headers={"authorization": "Bearer not-it"})
    assert wrong.status_code == 401
    page = httpx.get(f"{token_url}/check")
    assert page.status_code == 401
    assert 'name="token"' in page.text
    good = httpx.post(
        f"{token_url}/v1/extract", json={"text": HARBOUR}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert good.status_code == 200

    with httpx.Client(base_url=token_url) as browser:
        login = browser.post("/login", data={"token": TOKEN, "next": "/search"})
        assert login.status_code == 303
        assert login.headers["location"] == "/search"
        cookie = browser.cookies.get("quotes_session")
        assert cookie
        assert TOKEN not in cookie
        assert "httponly" in login.headers["set-cookie"].lower()
        page = browser.get("/check")
        assert page.status_code == 200
        assert "Check a claim" in page.text
        for answer in (refused, wrong, good, login, page):
            assert TOKEN not in answer.text
    assert TOKEN not in caplog.text


def test_a_login_with_the_wrong_token_is_refused(token_url: str) -> None:
    answer = httpx.post(f"{token_url}/login", data={"token": "guess", "next": "/"})
    assert answer.status_code == 401
    assert "not the token" in answer.text
    assert "quotes_session" not in answer.headers.get("set-cookie", "")


def test_every_answer_carries_a_strict_content_security_policy(url: str) -> None:
    for path in ("/check", "/read", "/search", "/v1/health", "/static/quotes.css"):
        policy = httpx.get(f"{url}{path}").headers["content-security-policy"]
        assert "default-src 'none'" in policy
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy


def test_concurrent_requests_all_get_their_own_answer(url: str) -> None:
    async def run() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            return await asyncio.gather(
                *(client.post("/v1/extract", json={"text": HARBOUR, "id": f"copy-{n}"}) for n in range(24))
            )

    answers = asyncio.run(run())
    assert [a.status_code for a in answers] == [200] * 24
    assert [a.json()["id"] for a in answers] == [f"copy-{n}" for n in range(24)]


def test_a_failed_model_call_keeps_what_it_can_and_says_what_failed() -> None:
    def handler(request: object) -> StubReply:
        return StubReply(status=500, json=error_body("the model server fell over", type="server_error"))

    with StubServer(handler) as stub:
        for base in serve(llm_service(stub.base_url)):
            extraction = httpx.post(f"{base}/v1/extract", json={"text": HARBOUR}, timeout=60).json()
            assert extraction["quotes"] == []
            [error] = extraction["errors"]
            assert (error["start"], error["end"]) == (0, len(HARBOUR))
            claim = {"speaker": "Ana Ruiz", "quote": "The harbour will reopen in May", "text": HARBOUR}
            verdict = httpx.post(f"{base}/v1/verify", json=claim, timeout=60).json()
            assert verdict["verdict"] == "could_not_check"
            assert httpx.get(f"{base}/v1/health").json()["backend"] == "llm"


def test_a_slow_model_does_not_hold_up_other_requests() -> None:
    release = asyncio.Event()

    def handler(request: object) -> StubReply:
        return StubReply(json=chat_completion('{"quotes": []}'), delay=3.0)

    async def run(base: str) -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            slow = asyncio.ensure_future(client.post("/v1/extract", json={"text": HARBOUR}))
            await asyncio.sleep(0.5)
            health = await client.get("/v1/health")
            page = await client.get("/check")
            assert health.status_code == page.status_code == 200
            assert not slow.done(), "the slow extraction finished first: the check proves nothing"
            assert (await slow).status_code == 200
            release.set()

    with StubServer(handler) as stub:
        for base in serve(llm_service(stub.base_url)):
            asyncio.run(run(base))
    assert release.is_set()


def test_the_checked_in_openapi_schema_is_the_served_one(url: str) -> None:
    served = httpx.get(f"{url}/openapi.json").json()
    checked_in = json.loads((DOCS / "openapi.json").read_text(encoding="utf-8"))
    assert served == checked_in, "docs/openapi.json is stale: quotes serve --openapi docs/openapi.json"
    assert set(served["paths"]) >= {"/v1/extract", "/v1/verify", "/v1/search", "/v1/health"}


def test_the_schema_does_not_depend_on_how_the_server_is_started() -> None:
    assert create_app(rules_service()).openapi() == create_app(rules_service(), token=TOKEN).openapi()


# --- the command -------------------------------------------------------------------------------------


def test_serve_refuses_another_interface_without_a_token() -> None:
    result = CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--backend", "rules"])
    assert result.exit_code == 2
    assert "--token" in result.output


def test_serve_refuses_a_missing_archive(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["serve", "--archive", str(tmp_path / "none.db"), "--backend", "rules"])
    assert result.exit_code == 2
    assert "none.db" in result.output


def test_quotes_serve_runs_and_answers(tmp_path: Path, archive_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "quotes",
            "serve",
            "--port",
            str(port),
            "--backend",
            "rules",
            "--archive",
            str(archive_path),
            "--token",
            TOKEN,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        health = _wait_for(f"http://127.0.0.1:{port}/v1/health", {"authorization": f"Bearer {TOKEN}"})
        assert health["archive"] is True
        assert httpx.get(f"http://127.0.0.1:{port}/v1/health").status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=20)
    assert f"serving on http://127.0.0.1:{port}/" in output
    assert "GET /v1/health" in output
    assert TOKEN not in output


def _wait_for(address: str, headers: dict[str, str]) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = httpx.get(address, headers=headers)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        answer.raise_for_status()
        result: dict[str, object] = answer.json()
        return result


# --- the pages' forms, over HTTP -----------------------------------------------------------------------


def test_a_ten_megabyte_upload_gets_a_413_page(url: str) -> None:
    files = {"file": ("huge.txt", b"All quiet in Varnholm. " * 450_000, "text/plain")}
    answer = httpx.post(f"{url}/read", files=files)
    assert answer.status_code == 413
    assert answer.headers["content-type"].startswith("text/html")
    assert "larger than this server takes" in answer.text
    assert httpx.get(f"{url}/v1/health").status_code == 200


@pytest.mark.parametrize(
    ("name", "data", "says"),
    [
        ("photo.txt", bytes(range(256)) * 40, "photo.txt: looks binary"),
        ("empty.txt", b"   \n", "empty.txt: empty (only whitespace)"),
        ("wide.txt", "“Hi,” said Ana.".encode("utf-16"), "UTF-16 text is not supported"),
    ],
)
def test_an_unreadable_upload_brings_the_form_back_saying_why(
    url: str, name: str, data: bytes, says: str
) -> None:
    form = {"speaker": "Ana Ruiz", "quote": "the harbour", "source": "file"}
    answer = httpx.post(f"{url}/check", data=form, files={"file": (name, data, "text/plain")})
    assert answer.status_code == 400
    assert says in answer.text
    assert 'value="Ana Ruiz"' in answer.text  # what was typed is kept


def test_a_claim_form_without_words_says_what_is_missing(url: str) -> None:
    answer = httpx.post(f"{url}/check", data={"speaker": "Ana Ruiz", "quote": " ", "source": "text"})
    assert answer.status_code == 400
    assert "the words claimed" in answer.text


def test_a_pasted_article_over_the_limit_gets_a_413_on_the_form(url: str) -> None:
    answer = httpx.post(f"{url}/read", data={"text": "Varnholm. " * 2_100})
    assert answer.status_code == 413
    assert "21,000 characters" in answer.text
    assert "at most 20,000" in answer.text


def test_a_claim_about_an_archived_article_is_checked_against_that_article(url: str) -> None:
    link = httpx.get(f"{url}/articles/kessel-bridge")
    assert "check a claim about this" in link.text
    form = httpx.get(
        f"{url}/check", params={"article": "kessel-bridge", "speaker": "Mara Odun", "quote": "far more"}
    )
    assert "the article “kessel-bridge”" in form.text
    assert 'id="src-ref" checked' in form.text
    claim = {"speaker": "Lio Brandt", "quote": "the repairs would cost far more than planned"}
    with httpx.Client(base_url=url, follow_redirects=False) as client:
        sent = client.post("/check", data={**claim, "source": "ref", "article": "kessel-bridge"})
        assert sent.status_code == 303
        job = sent.headers["location"]
        assert client.get(f"{job}/state").json()["done"] is True
        page = client.get(job).text
    assert "Misattributed" in page
    assert "These words were said by Councillor Mara Odun, not by Lio Brandt." in page
    assert "checked against the archived article “kessel-bridge”" in page


def test_an_unknown_job_is_a_404(url: str) -> None:
    assert httpx.get(f"{url}/jobs/not-a-job").status_code == 404
    assert httpx.get(f"{url}/jobs/not-a-job/state").json() == {"detail": "no such job"}


@pytest.mark.parametrize("target", ["//evil.example/", "/\\evil.example/", "https://evil.example/"])
def test_a_sign_in_never_sends_the_browser_elsewhere(token_url: str, target: str) -> None:
    answer = httpx.post(f"{token_url}/login", data={"token": TOKEN, "next": target})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/"


def test_a_claim_longer_than_a_claim_is_refused(url: str) -> None:
    page = httpx.post(f"{url}/check", data={"speaker": "Ana Ruiz", "quote": "word " * 1200, "source": "text"})
    assert page.status_code == 400
    assert "at most 5,000" in page.text
    api = httpx.post(f"{url}/v1/verify", json={"speaker": "Ana Ruiz", "quote": "word " * 1200})
    assert api.status_code == 422
    assert "quote: String should have at most 5000 characters" in api.json()["detail"]


async def test_jobs_past_the_limit_are_refused_and_finished_ones_forgotten() -> None:
    release = asyncio.Event()

    async def wait(job: Job) -> str:
        job.stage = "waiting"
        await release.wait()
        return "done"

    jobs = Jobs(keep=1, max_running=2)
    first, second = jobs.start("read", "one", "start", wait), jobs.start("read", "two", "start", wait)
    with pytest.raises(Busy, match="busy with 2 other"):
        jobs.start("read", "three", "start", wait)
    release.set()
    await jobs.wait(first, 5)
    await jobs.wait(second, 5)
    assert (first.result, second.result, second.stage) == ("done", "done", "waiting")
    third = jobs.start("check", "three", "start", wait)
    await jobs.wait(third, 5)
    assert jobs.get(first.id) is None
    assert jobs.get(third.id) is third
