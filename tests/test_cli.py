"""The `quotes` command as users run it: formats, exit codes, bad input, corpora, resume after a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quotes.cli import app
from quotes.schema import Extraction, Quote, Speaker
from quotes.testing import StubReply, StubRequest, chat_completion

ROOT = Path(__file__).parent.parent
SEED = ROOT / "seeds" / "kadhimi-in-iran.txt"
FIXTURES = Path(__file__).parent / "fixtures" / "responses"

runner = CliRunner()


def lines(text: str) -> list[Extraction]:
    return [Extraction.model_validate_json(line) for line in text.splitlines() if line.strip()]


def test_main_job_runs_offline_with_no_flags() -> None:
    result = runner.invoke(app, ["extract", str(SEED), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    [extraction] = lines(result.stdout)
    assert extraction.backend == "rules"
    assert "no model is configured" in result.stderr
    text = SEED.read_text(encoding="utf-8")
    assert all(text[q.start : q.end] == q.text for q in extraction.quotes)
    assert any(
        "Iraq stands with Iran" in q.text and q.speaker.name == "Mustafa al-Kadhimi"
        for q in extraction.quotes
    )


def test_llm_replay_from_fixtures_and_provenance() -> None:
    args = ["extract", str(SEED), "--backend", "llm", "--model", "gpt-4o-mini", "--offline"]
    result = runner.invoke(app, [*args, "--store", str(FIXTURES), "-f", "jsonl", "-q"])
    assert result.exit_code == 0, result.output
    [extraction] = lines(result.stdout)
    assert extraction.prompt == "extract@v2"
    assert extraction.model == "gpt-4o-mini"
    assert extraction.usage.cached_requests == 1
    assert len(extraction.quotes) == 10


@pytest.mark.parametrize(("fmt", "marker"), [("csv", "article_id,quote_id"), ("json", '"schema_version"')])
def test_other_formats(fmt: str, marker: str, tmp_path: Path) -> None:
    out = tmp_path / f"out.{fmt}"
    result = runner.invoke(app, ["extract", str(SEED), "--output", str(out), "-q"])
    assert result.exit_code == 0, result.output
    assert marker in out.read_text(encoding="utf-8")


def test_html_report_from_a_run(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    assert runner.invoke(app, ["extract", str(SEED), "-o", str(run), "-q"]).exit_code == 0
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(report)])
    assert result.exit_code == 0, result.output
    page = report.read_text(encoding="utf-8")
    assert page.count("data-quote-id=") >= 10
    assert "http://" not in page
    assert "https://" not in page


def test_corpus_keeps_ids_and_reports_bad_lines(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.jsonl"
    seed = SEED.read_text(encoding="utf-8")
    corpus.write_text(
        "\n".join(
            [
                json.dumps({"id": "a-1", "text": seed}),
                "{broken",
                json.dumps({"id": "a-2"}),
                json.dumps(
                    {"id": "a-3", "text": "“We will rebuild the school,” Mayor Ada Obi said on Friday."}
                ),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["extract", str(corpus), "-o", str(out), "-q"])
    assert result.exit_code == 2, "input errors give exit 2"
    assert "corpus.jsonl:2" in result.stderr
    assert "corpus.jsonl:3" in result.stderr
    assert sorted(e.id for e in lines(out.read_text(encoding="utf-8"))) == ["a-1", "a-3"], (
        "good lines written"
    )


def test_missing_and_binary_inputs_exit_2_but_write_the_rest(tmp_path: Path) -> None:
    binary = tmp_path / "blob.txt"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    out = tmp_path / "out.jsonl"
    result = runner.invoke(
        app, ["extract", str(tmp_path / "nope.txt"), str(binary), str(SEED), "-o", str(out), "-q"]
    )
    assert result.exit_code == 2
    assert "nope.txt" in result.stderr
    assert "blob.txt" in result.stderr
    assert [e.id for e in lines(out.read_text(encoding="utf-8"))] == ["kadhimi-in-iran"]


def test_usage_errors_exit_2() -> None:
    result = runner.invoke(app, ["extract", str(SEED), "--backend", "llm"])
    assert result.exit_code == 2
    assert "QUOTES_MODEL" in result.stderr
    assert runner.invoke(app, ["extract", str(SEED), "--resume"]).exit_code == 2


def test_chunk_errors_exit_1_with_partial_output(serve: Any, tmp_path: Path) -> None:
    def flaky(request: StubRequest) -> StubReply:
        if "second" in json.dumps(request.json["messages"][-1]):
            return StubReply(500, json={"error": {"message": "down"}})
        return StubReply(json=chat_completion('{"quotes": []}'))

    server = serve(flaky)
    first = tmp_path / "first.txt"
    first.write_text("The first article has no statements at all.\n", encoding="utf-8")
    second = tmp_path / "second.txt"
    second.write_text("The second article cannot be read by the model.\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    args = ["extract", str(first), str(second), "--model", "m", "--base-url", server.base_url]
    result = runner.invoke(
        app, [*args, "--store", str(tmp_path / "s"), "-o", str(out), "-q", "--max-attempts", "1"]
    )
    assert result.exit_code == 1, result.output
    by_id = {e.id: e for e in lines(out.read_text(encoding="utf-8"))}
    assert by_id["first"].errors == []
    [error] = by_id["second"].errors
    assert (error.start, error.kind) == (0, "server_error")


def test_eval_scores_gold_against_itself(tmp_path: Path) -> None:
    text = "“We will win,” Ana Ruiz said. Officials said the vote was delayed."
    gold = {
        "id": "g1",
        "text": text,
        "quotes": [
            {
                "text": "“We will win,”",
                "start": 0,
                "end": 14,
                "speaker": "Ana Ruiz",
                "speaker_start": 15,
                "speaker_end": 23,
                "kind": "direct",
                "cue": "said",
                "cue_start": 24,
                "cue_end": 28,
                "spans": [[0, 14]],
            }
        ],
    }
    gold_file = tmp_path / "gold.jsonl"
    gold_file.write_text(json.dumps(gold, ensure_ascii=False) + "\n", encoding="utf-8")
    quote = Quote(
        id="q1",
        text="“We will win,”",
        start=0,
        end=14,
        kind="direct",
        speaker=Speaker(mention="Ana Ruiz", start=15, end=23),
        cue="said",
        cue_start=24,
        cue_end=28,
    )
    run = Extraction(id="g1", text_sha256="-", backend="test", quotes=[quote])
    predictions = tmp_path / "run.jsonl"
    predictions.write_text(run.model_dump_json() + "\n", encoding="utf-8")
    result = runner.invoke(app, ["eval", str(gold_file), "-p", str(predictions), "--format", "json"])
    assert result.exit_code == 0, result.output
    reports = {r["subset"]: r for r in json.loads(result.stdout)}
    assert set(reports) == {"direct", "direct+mixed", "all"}
    assert reports["direct"]["end_to_end"]["f1"] == 1.0
    assert reports["all"]["lenient"]["f1"] == 1.0
    args = ["eval", str(gold_file), "--kinds", "direct,mixed", "--backend", "rules", "--format", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert [r["subset"] for r in json.loads(result.stdout)] == ["direct+mixed"]


def test_prompts_lists_locked_versions() -> None:
    result = runner.invoke(app, ["prompts"])
    assert result.exit_code == 0
    assert "extract@v2" in result.stdout
    assert "locked" in result.stdout


def test_sigkill_then_resume_gives_one_line_per_article(serve: Any, tmp_path: Path) -> None:
    def slow(request: StubRequest) -> StubReply:
        return StubReply(json=chat_completion('{"quotes": []}'), delay=0.15)

    server = serve(slow)
    corpus = tmp_path / "corpus.jsonl"
    ids = [f"art-{i:03d}" for i in range(40)]
    corpus.write_text(
        "".join(json.dumps({"id": i, "text": f"Article {i} says nothing quotable."}) + "\n" for i in ids),
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    command = [sys.executable, "-m", "quotes", "extract", str(corpus), "-o", str(out), "-q"]
    command += ["--model", "m", "--base-url", server.base_url, "--store", str(tmp_path / "store")]
    command += ["--concurrency", "2"]
    env = {**os.environ, "QUOTES_STORE": str(tmp_path / "store")}
    process = subprocess.Popen(command, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not out.exists() or out.read_text().count("\n") < 5):
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    process.wait()
    written = out.read_text(encoding="utf-8").count("\n")
    assert 5 <= written < len(ids), "killed mid-run"

    with out.open("a", encoding="utf-8") as half:
        half.write('{"schema_version": "1", "id": "art-0')
    resumed = subprocess.run([*command, "--resume"], env=env, capture_output=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr.decode()
    done = [e.id for e in lines(out.read_text(encoding="utf-8"))]
    assert sorted(done) == ids, "exactly one line per article"


def test_report_shows_verdict_badges(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    assert runner.invoke(app, ["extract", str(SEED), "-o", str(run), "-q"]).exit_code == 0
    verdicts = tmp_path / "verdicts.jsonl"
    claim = ["--speaker", "Hassan Rouhani", "--quote", "Iraq stands with Iran in its economic crisis"]
    result = runner.invoke(app, ["verify", str(SEED), *claim, "-f", "jsonl"])
    assert result.exit_code == 1, "a misattributed claim is not supported"
    verdicts.write_text(result.stdout, encoding="utf-8")
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(report), "--verdicts", str(verdicts)])
    assert result.exit_code == 0, result.output
    assert "misattributed" in report.read_text(encoding="utf-8")
    verdicts.write_text("{not a verdict\n", encoding="utf-8")
    result = runner.invoke(app, ["report", str(run), "-o", str(report), "--verdicts", str(verdicts)])
    assert result.exit_code == 2
    assert "verdicts.jsonl:1" in result.stderr


def test_kinds_keeps_only_the_kinds_asked_for() -> None:
    result = runner.invoke(app, ["extract", str(SEED), "-f", "jsonl", "-q", "--kinds", "direct,mixed"])
    assert result.exit_code == 0, result.output
    [extraction] = lines(result.stdout)
    assert extraction.quotes
    assert {q.kind for q in extraction.quotes} <= {"direct", "mixed"}
    assert runner.invoke(app, ["extract", str(SEED), "--kinds", "quoted"]).exit_code == 2
