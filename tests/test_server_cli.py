"""`quotes extract` and `quotes verify` against model servers that cannot be used or stop answering, as a
user runs them: exit codes, the one line that says what is wrong, nothing finished lost, usage counted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quotes.cli import app
from quotes.schema import Extraction
from quotes.testing import StubReply, StubRequest, StubServer, chat_completion, error_body

runner = CliRunner()

TEXT = "“We will open the Osk bridge in June,” Mayor Tova Lind said on Monday. The council agreed."
RECORD = {
    "quote": "“We will open the Osk bridge in June,”",
    "speaker": "Tova Lind",
    "speaker_mention": "Mayor Tova Lind",
    "speaker_type": "person",
    "kind": "direct",
    "cue": "said",
    "about": [],
}
GOOD = json.dumps({"quotes": [RECORD]}, ensure_ascii=False)


Serve = Callable[..., StubServer]


def corpus(path: Path, n: int) -> list[str]:
    ids = [f"story-{i:02d}" for i in range(n)]
    with path.open("w", encoding="utf-8") as out:
        for i, article_id in enumerate(ids):
            out.write(json.dumps({"id": article_id, "text": f"{TEXT} Story {i}."}, ensure_ascii=False) + "\n")
    return ids


def quotes_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "quotes", *args]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


def records(path: Path) -> list[Extraction]:
    return [Extraction.model_validate_json(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ---- setup errors ----


def test_a_corpus_against_a_closed_port_exits_2_at_once_with_one_line(
    tmp_path: Path, closed_url: str
) -> None:
    ids = corpus(tmp_path / "corpus.jsonl", 40)
    assert len(ids) == 40
    url = closed_url
    command = quotes_command("extract", str(tmp_path / "corpus.jsonl"), "--model", "stub-model")
    command += ["--base-url", url, "-o", str(tmp_path / "out.jsonl"), "--store", str(tmp_path / "store")]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=os.environ)
    elapsed = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    # 40 articles × 6 attempts with backoff took minutes before the preflight.
    assert elapsed < 30
    [line] = error_lines(done.stderr)
    assert line.startswith("error: cannot reach the model server at")
    assert url in line
    assert "--base-url" in line
    assert "Traceback" not in done.stderr
    assert "model request failed" not in done.stderr, "no retry lines"


def test_the_hosted_api_with_no_key_exits_2_before_any_request(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(TEXT, encoding="utf-8")
    args = ["extract", str(tmp_path / "a.txt"), "--model", "gpt-x", "--store", str(tmp_path / "store")]
    started = time.monotonic()
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    assert time.monotonic() - started < 10
    [line] = error_lines(result.stderr)
    assert "no API key for https://api.openai.com/v1" in line
    assert "OPENAI_API_KEY" in line
    assert "Traceback" not in result.output


# ---- a server that stops mid-run ----


@pytest.mark.parametrize("workers", [1, 2])
def test_a_server_that_stops_mid_run_keeps_what_is_done_and_resume_completes(
    serve: Serve, tmp_path: Path, workers: int
) -> None:
    answered = 6

    def handle(request: StubRequest) -> StubReply:
        if request.number < answered:
            return StubReply(json=chat_completion(GOOD))
        return StubReply(json=chat_completion(GOOD), delay=60)  # hangs until the server stops

    server = serve(handle)
    ids = corpus(tmp_path / "corpus.jsonl", 30)
    out = tmp_path / "out.jsonl"
    store = tmp_path / "store"
    base = ["extract", str(tmp_path / "corpus.jsonl"), "--model", "stub-model", "-o", str(out)]
    base += ["--store", str(store), "--concurrency", "2", "--workers", str(workers)]
    process = subprocess.Popen(
        quotes_command(*base, "--base-url", server.base_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (server.request_count < answered + 2 or not out.exists()):
        time.sleep(0.05)
    while time.monotonic() < deadline and out.read_text(encoding="utf-8").count("\n") < answered:
        time.sleep(0.05)
    server.stop()
    stopped = time.monotonic()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 1, stderr
    assert time.monotonic() - stopped < 30
    written = records(out)
    finished = [e for e in written if e.ok]
    assert len(finished) == answered, "every finished article is in the file"
    assert all(e.quotes for e in finished)
    assert len(written) < len(ids), "the run stopped taking in articles"
    assert {error.kind for e in written for error in e.errors} <= {"server_down"}
    [line] = [line for line in stderr.splitlines() if "stopped answering" in line]
    assert line.startswith("error: the model server at")
    assert "--resume" in line
    assert "Traceback" not in stderr
    assert "worker" not in line, "said as a run in one process says it"

    again = serve(lambda request: StubReply(json=chat_completion(GOOD)))
    resumed = subprocess.run(
        quotes_command(*base, "--base-url", again.base_url, "--resume"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    done = records(out)
    assert sorted(e.id for e in done) == ids, "exactly one line per article"
    assert all(e.ok and e.quotes for e in done)
    assert again.request_count == len(ids) - answered, "the finished articles were not asked again"


# ---- usage in the summaries ----


def detailed(request: StubRequest) -> StubReply:
    body = chat_completion(GOOD, prompt_tokens=900, completion_tokens=120)
    body["usage"]["prompt_tokens_details"] = {"cached_tokens": 512}
    body["usage"]["completion_tokens_details"] = {"reasoning_tokens": 64}
    return StubReply(json=body)


def test_extract_summary_json_counts_cached_and_reasoning_tokens(serve: Serve, tmp_path: Path) -> None:
    server = serve(detailed)
    corpus(tmp_path / "corpus.jsonl", 3)
    summary = tmp_path / "summary.json"
    args = ["extract", str(tmp_path / "corpus.jsonl"), "--model", "stub-model", "--base-url", server.base_url]
    args += ["-o", str(tmp_path / "out.jsonl"), "--store", str(tmp_path / "store")]
    result = runner.invoke(app, [*args, "--summary-json", str(summary)])
    assert result.exit_code == 0, result.output
    written = json.loads(summary.read_text(encoding="utf-8"))
    assert written["requests"] == 3
    assert written["input_tokens"] == 2700
    assert written["cached_input_tokens"] == 1536
    assert written["reasoning_tokens"] == 192
    assert written["failed_requests"] == 0
    assert "1,536 from the provider's cache" in result.stderr
    assert "192 reasoning" in result.stderr


def verify(tmp_path: Path, url: str, quote: str, *extra: str) -> tuple[Any, dict[str, Any]]:
    """`quotes verify` of a claim that Tova Lind said `quote`, against TEXT: its result and summary."""
    source = tmp_path / "bridge.txt"
    source.write_text(TEXT, encoding="utf-8")
    summary = tmp_path / "verify.json"
    args = ["verify", str(source), "--speaker", "Tova Lind", "--quote", quote, "-f", "json"]
    args += ["--model", "stub-model", "--base-url", url, "--store", str(tmp_path / "store")]
    result = runner.invoke(app, [*args, "--summary-json", str(summary), *extra])
    written = json.loads(summary.read_text(encoding="utf-8")) if summary.exists() else {}
    return result, written


def test_verify_takes_extract_s_model_options_and_reports_usage(serve: Serve, tmp_path: Path) -> None:
    server = serve(detailed)
    options = ["--timeout", "7", "--max-attempts", "2", "--structured-output", "json_object"]
    options += ["--max-output-tokens", "777", "--concurrency", "3", "--chunk-size", "5000"]
    result, written = verify(tmp_path, server.base_url, "We will open the Osk bridge in June", *options)
    assert result.exit_code == 0, result.output
    [verdict] = json.loads(result.stdout)
    assert verdict["verdict"] == "supported"
    [request] = server.requests
    assert request.json["response_format"] == {"type": "json_object"}
    assert request.json["max_tokens"] == 777
    assert written["claims"] == 1
    assert written["verdicts"] == {"supported": 1}
    assert written["usage"]["requests"] == 1
    assert written["usage"]["cached_input_tokens"] == 512
    assert written["usage"]["reasoning_tokens"] == 64
    assert "model usage: 1 (0 from cache)" in result.stderr


@pytest.mark.parametrize(
    ("quote", "why", "asked"),
    [
        # The words are in the article, but who said them was the failed extraction's to say.
        ("We will open the Osk bridge in June", "who said them is unknown", 1),
        # The words are not: whether it reports them in other words was the judge's, which failed too.
        ("The tunnel will be closed for ten years", "could not", 2),
    ],
)
def test_verify_when_extraction_failed_could_not_check_with_the_reason(
    serve: Serve, tmp_path: Path, quote: str, why: str, asked: int
) -> None:
    failing = StubReply(500, json=error_body("the model is overloaded", type="server_error"))
    server = serve(lambda request: failing)
    result, written = verify(tmp_path, server.base_url, quote, "--max-attempts", "1")
    assert result.exit_code == 1, result.output
    [verdict] = json.loads(result.stdout)
    assert verdict["verdict"] == "could_not_check"
    assert verdict["confidence"] is None
    assert why in verdict["explanation"]
    assert "the model is overloaded" in verdict["explanation"]
    assert server.request_count == asked, "--max-attempts 1 is one request each"
    assert written["usage"]["failed_requests"] == asked
    assert written["usage"]["requests"] == 0


@pytest.mark.parametrize("against", ["article", "archive"])
def test_verify_against_a_closed_port_exits_2_with_one_line(
    tmp_path: Path, closed_url: str, against: str
) -> None:
    source = tmp_path / "bridge.txt"
    source.write_text(TEXT, encoding="utf-8")
    url = closed_url
    claim = ["--speaker", "Tova Lind", "--quote", "The tunnel will be closed for ten years"]
    model = ["--model", "stub-model", "--base-url", url, "--store", str(tmp_path / "store")]
    if against == "archive":
        run = tmp_path / "run.jsonl"
        assert runner.invoke(app, ["extract", str(source), "-o", str(run), "-q"]).exit_code == 0
        db = tmp_path / "quotes.db"
        assert runner.invoke(app, ["archive", "add", str(run), "--db", str(db)]).exit_code == 0
        result = runner.invoke(app, ["verify", "--archive", str(db), *claim, *model])
    else:
        result = runner.invoke(app, ["verify", str(source), *claim, *model])
    assert result.exit_code == 2, result.output
    [line] = error_lines(result.stderr)
    assert line.startswith("error: cannot reach the model server at")
    assert url in line
    assert result.exception is None or isinstance(result.exception, SystemExit)
