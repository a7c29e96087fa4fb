from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from quotes.articles import InputProblem
from quotes.progress import RunProgress, RunSummary
from quotes.schema import ChunkError, Extraction, Quote, Usage


@pytest.fixture(autouse=True)
def _no_forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FORCE_COLOR", "TTY_COMPATIBLE"):
        monkeypatch.delenv(name, raising=False)


def extraction(article_id: str, quotes: int = 0, errors: int = 0, usage: Usage | None = None) -> Extraction:
    return Extraction(
        id=article_id,
        text_sha256="0" * 64,
        backend="llm",
        quotes=[Quote(id=f"q{i}", text="x", start=i, end=i + 1, kind="direct") for i in range(quotes)],
        errors=[
            ChunkError(chunk=i, start=0, end=10, kind="timeout", message="gave up") for i in range(errors)
        ],
        usage=usage or Usage(),
    )


def run_three(progress: RunProgress) -> RunProgress:
    with progress:
        progress.article_done(
            extraction("a", quotes=3, usage=Usage(requests=2, input_tokens=900, output_tokens=80))
        )
        progress.article_done(
            extraction(
                "b",
                quotes=1,
                errors=2,
                usage=Usage(
                    requests=5,
                    input_tokens=100,
                    cached_requests=4,
                    failed_requests=3,
                    cached_input_tokens=64,
                    reasoning_tokens=9,
                ),
            )
        )
        progress.article_skipped()
        progress.input_problem(InputProblem("x.txt", "empty"))
        progress.input_problem(InputProblem("y.html", "text extracted from HTML", severity="warning"))
    return progress


def test_summary_counts_everything() -> None:
    progress = run_three(RunProgress(quiet=True))
    summary = progress.summary()
    assert summary.model_dump(exclude={"wall_seconds"}) == {
        "articles": 2,
        "articles_with_errors": 1,
        "quotes": 4,
        "chunk_errors": 2,
        "input_problems": 1,
        "skipped": 1,
        "requests": 7,
        "input_tokens": 1000,
        "output_tokens": 80,
        "cached_requests": 4,
        "failed_requests": 3,
        "cached_input_tokens": 64,
        "reasoning_tokens": 9,
    }
    assert summary.wall_seconds >= 0
    assert progress.failed_articles == 1
    assert RunSummary.model_validate_json(summary.to_json()) == summary


def test_not_a_terminal_means_no_live_display_but_a_summary() -> None:
    out = io.StringIO()
    progress = RunProgress(console=Console(file=out))
    assert not progress.enabled
    with progress:
        progress.article_done(extraction("a", quotes=2))
        assert out.getvalue() == ""
    text = out.getvalue()
    assert "articles   1 in" in text
    assert "quotes     2" in text
    assert "\x1b[" not in text


def test_quiet_prints_nothing_at_all() -> None:
    out = io.StringIO()
    progress = run_three(RunProgress(quiet=True, console=Console(file=out, force_terminal=True)))
    assert not progress.enabled
    assert out.getvalue() == ""


def test_terminal_shows_live_counts() -> None:
    out = io.StringIO()
    progress = RunProgress(total=5, console=Console(file=out, force_terminal=True, width=160))
    assert progress.enabled
    run_three(progress)
    text = out.getvalue()
    assert "3/5" in text  # done and skipped both advance the bar
    assert "4 quotes" in text
    assert "2 failed chunks" in text
    assert "FAILED     2 chunks in 1 article (" in text


def test_default_console_is_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    with RunProgress() as progress:
        progress.article_done(extraction("a"))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "articles   1" in captured.err


def test_finish_writes_json_once(tmp_path: Path) -> None:
    out = io.StringIO()
    target = tmp_path / "summary.json"
    with RunProgress(console=Console(file=out)) as progress:
        progress.article_done(extraction("a", errors=1))
        summary = progress.finish(summary_json=target)
    assert json.loads(target.read_text(encoding="utf-8"))["chunk_errors"] == 1
    assert summary.chunk_errors == 1
    assert out.getvalue().count("articles   1") == 1  # leaving the block did not print it again


def test_live_false_keeps_the_display_off_a_terminal() -> None:
    out = io.StringIO()
    progress = run_three(RunProgress(live=False, console=Console(file=out, force_terminal=True, width=160)))
    assert not progress.enabled
    assert "━" not in out.getvalue()
    assert "articles   2" in out.getvalue()


def test_live_counts_are_singular_for_one() -> None:
    out = io.StringIO()
    progress = RunProgress(total=2, console=Console(file=out, force_terminal=True, width=160))
    with progress:
        progress.article_done(extraction("a", quotes=1, errors=1))
    assert "1 quote · " in out.getvalue()
    assert re.search(r"1 failed chunk(?!s)", out.getvalue())
