"""`quotes check`: a model configuration tried step by step against a real local server."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.check import CHECK_QUOTE, CHECK_TEXT, acheck
from quotes.cli import app
from quotes.pipeline import Extractor
from quotes.schema import Article
from quotes.store import ResponseStore
from quotes.testing import Handler, StubReply, StubRequest, StubServer, chat_completion, error_body

runner = CliRunner()

FOUND = json.dumps(
    {
        "quotes": [
            {
                "quote": CHECK_QUOTE,
                "speaker": "Ana Ruiz",
                "speaker_mention": "harbour master Ana Ruiz",
                "speaker_type": "person",
                "kind": "direct",
                "cue": "said",
                "about": [],
            }
        ]
    },
    ensure_ascii=False,
)


def answering(content: str) -> Handler:
    def handle(request: StubRequest) -> StubReply:
        return StubReply(json=chat_completion(content, prompt_tokens=420, completion_tokens=61))

    return handle


Serve = Callable[..., StubServer]


def llama_cpp_like(request: StubRequest) -> StubReply:
    """A server that refuses json_schema as llama-cpp-python does (HTTP 500), and takes json_object."""
    if request.json["response_format"]["type"] == "json_schema":
        rejection = error_body("Input should be 'text' or 'json_object'", type="internal_server_error")
        return StubReply(500, json=rejection)
    return StubReply(json=chat_completion(FOUND))


def check(base_url: str, store: Path, *extra: str) -> Any:
    args = ["check", "--model", "stub-model", "--base-url", base_url, "--store", str(store), *extra]
    return runner.invoke(app, args)


def test_check_prints_each_step_and_exits_0(serve: Serve, tmp_path: Path) -> None:
    server = serve(answering(FOUND))
    result = check(server.base_url, tmp_path / "store")
    assert result.exit_code == 0, result.output
    assert f"checking model stub-model at {server.base_url}" in result.stderr
    steps = result.stdout.splitlines()
    assert [line.split(":")[0] for line in steps] == [
        "✓ server",
        "✓ model",
        "✓ structured output",
        "✓ extraction",
    ]
    assert "lists 1 model(s)" in steps[0]
    assert "listed by the server" in steps[1]
    assert steps[2].endswith("json_schema")
    assert "1 request(s), 420 tokens in / 61 out" in steps[3]
    assert "found the test quotation, said by Ana Ruiz" in steps[3]


def test_check_is_always_sent_live_never_from_the_store(serve: Serve, tmp_path: Path) -> None:
    server = serve(answering(FOUND))
    assert check(server.base_url, tmp_path / "store").exit_code == 0
    assert check(server.base_url, tmp_path / "store").exit_code == 0
    assert server.request_count == 2
    assert server.models_requests == 2


def test_check_against_a_closed_port_exits_1_with_a_cross(tmp_path: Path, closed_url: str) -> None:
    url = closed_url
    result = check(url, tmp_path / "store")
    assert result.exit_code == 1, result.output
    [line] = result.stdout.splitlines()
    assert line.startswith("✗ server: cannot reach the model server at")
    assert url in line
    assert "Traceback" not in result.output


def test_check_with_a_rejected_key_says_so(serve: Serve, tmp_path: Path) -> None:
    refusal = StubReply(401, json=error_body("Incorrect API key provided", code="invalid_api_key"))
    server = serve(answering(FOUND), models_reply=refusal)
    result = check(server.base_url, tmp_path / "store")
    assert result.exit_code == 1
    [line] = result.stdout.splitlines()
    assert line.startswith("✗ server:")
    assert "HTTP 401: Incorrect API key provided" in line, "the server's words, once"
    assert "OPENAI_API_KEY" in line
    assert server.request_count == 0


def test_check_with_no_model_configured_exits_2() -> None:
    result = runner.invoke(app, ["check"])
    assert result.exit_code == 2
    assert "no model configured" in result.stderr
    assert "QUOTES_MODEL" in result.stderr


def test_a_model_that_misses_the_test_quotation_is_a_warning_not_a_failure(
    serve: Serve, tmp_path: Path
) -> None:
    server = serve(answering('{"quotes": []}'))
    result = check(server.base_url, tmp_path / "store")
    assert result.exit_code == 0, result.output
    last = result.stdout.splitlines()[-1]
    assert last.startswith("! extraction:")
    assert "missed the one quotation" in last
    assert "found 0 statement(s)" in last


def test_a_failed_round_trip_is_a_failed_step(serve: Serve, tmp_path: Path) -> None:
    failing = StubReply(500, json=error_body("the model is loading", type="server_error"))
    server = serve(lambda request: failing)
    result = check(server.base_url, tmp_path / "store")
    assert result.exit_code == 1
    last = result.stdout.splitlines()[-1]
    assert last.startswith("✗ extraction:")
    assert "the model is loading" in last
    assert server.request_count == 1, "check tries once"


async def test_check_reports_the_mode_a_llama_cpp_like_server_takes(serve: Serve, tmp_path: Path) -> None:
    no_list = StubReply(404, json=error_body("Not Found"))
    server = serve(llama_cpp_like, models_reply=no_list)
    config = LLMConfig(model="smol", base_url=server.base_url, store=ResponseStore(tmp_path / "store"))
    report = await acheck(config)
    assert report.ok
    by_name = {step.name: step for step in report.steps}
    assert by_name["server"].detail.startswith("reachable (it lists no models)")
    assert by_name["model"].detail == "smol: accepted by a one-token request"
    assert by_name["structured output"].detail == "json_object_schema"
    assert by_name["extraction"].status == "ok"


async def test_the_mode_check_learns_is_what_the_next_run_sends_first(serve: Serve, tmp_path: Path) -> None:
    server = serve(llama_cpp_like)
    store = ResponseStore(tmp_path / "store")
    config = LLMConfig(model="stub-model", base_url=server.base_url, store=store)
    assert (await acheck(config)).ok
    rejected = server.request_count
    assert rejected == 2, "json_schema refused once, then json_object with the schema"

    async with Extractor(LLMBackend(config)) as extractor:
        extraction = await extractor.aextract(Article(id="later", text=CHECK_TEXT + " Later."))
    assert extraction.errors == []
    [later] = server.requests[rejected:]
    assert later.json["response_format"]["type"] == "json_object"
    assert "schema" in later.json["response_format"]
