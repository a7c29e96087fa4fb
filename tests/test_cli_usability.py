"""A newcomer's first hour with the `quotes` command (issue 14): output folders, the JSON shape, honest
hints, one meaning per short flag, --version, grammar, unwrapped messages, help that says what is read."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from quotes.articles import FOLDER_SUFFIXES
from quotes.cli import app
from quotes.schema import Extraction, Quote
from quotes.testing import StubReply, StubRequest, chat_completion

ROOT = Path(__file__).parent.parent
SEED = ROOT / "seeds" / "kadhimi-in-iran.txt"
runner = CliRunner()

# Invented articles, one statement each.
HARBOUR = "The harbour will reopen in spring, said Mira Olsen, the port's director.\n"
BRIDGE = "“The bridge is safe,” said Tomas Berg, the city engineer.\n"


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- item 1: -o into a folder that does not exist ---------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "html", "table"])
def test_extract_creates_the_output_folder(tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "out" / "new" / f"run.{fmt}"
    summary = tmp_path / "other" / "summary.json"
    args = ["extract", str(SEED), "-f", fmt, "-o", str(out), "--summary-json", str(summary)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "Mustafa al-Kadhimi" in out.read_text(encoding="utf-8")
    assert json.loads(summary.read_text(encoding="utf-8"))["quotes"] >= 10


def test_report_creates_the_output_folder(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    assert runner.invoke(app, ["extract", str(SEED), "-o", str(run), "-q"]).exit_code == 0
    page = tmp_path / "nodir" / "deeper" / "r.html"
    result = runner.invoke(app, ["report", str(run), "-o", str(page)])
    assert result.exit_code == 0, result.output
    assert "data-quote-id" in page.read_text(encoding="utf-8")


def test_an_output_that_cannot_be_written_is_refused_before_any_work(tmp_path: Path) -> None:
    blocker = _write(tmp_path, "blocker", "a file, not a folder\n")
    result = runner.invoke(app, ["extract", str(SEED), "-o", str(blocker / "run.json")])
    assert result.exit_code == 2
    assert "cannot create its folder" in result.stderr
    assert "articles" not in result.stderr  # refused before the run: no summary
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = runner.invoke(app, ["report", str(SEED), "-o", str(folder)])
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


# --- item 2: the shape of --format json depends on the kind of input ----------------------------------


def _json(args: list[str], stdin: str | None = None) -> Any:
    result = runner.invoke(app, ["extract", *args, "-f", "json", "-q"], input=stdin)
    assert result.exit_code in (0, 2), result.output
    return json.loads(result.stdout) if result.stdout.strip() else None


def test_json_is_one_object_for_one_file_or_stdin_text(tmp_path: Path) -> None:
    one = _json([str(_write(tmp_path, "harbour.txt", HARBOUR))])
    assert isinstance(one, dict)
    assert Extraction.model_validate(one).id == "harbour"
    assert isinstance(_json(["-"], stdin=HARBOUR), dict)


def test_json_is_a_list_for_folders_corpora_and_several_inputs_whatever_the_count(tmp_path: Path) -> None:
    single = tmp_path / "single"
    single.mkdir()
    _write(single, "harbour.txt", HARBOUR)
    assert [e["id"] for e in _json([str(single)])] == ["harbour"]

    corpus = _write(tmp_path, "corpus.jsonl", json.dumps({"id": "h1", "text": HARBOUR}) + "\n")
    assert [e["id"] for e in _json([str(corpus)])] == ["h1"]
    assert [e["id"] for e in _json(["-"], stdin=corpus.read_text(encoding="utf-8"))] == ["h1"]

    bridge = _write(tmp_path, "bridge.txt", BRIDGE)
    harbour = _write(tmp_path, "harbour.txt", HARBOUR)
    assert [e["id"] for e in _json([str(bridge), str(harbour)])] == ["bridge", "harbour"]
    assert _json([str(bridge), str(tmp_path / "missing.txt")]) == [_json([str(bridge)])]

    empty = _write(tmp_path, "empty.jsonl", "\n")
    assert _json([str(empty)]) == []


def test_json_for_one_unreadable_file_writes_nothing(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(tmp_path / "missing.txt"), "-f", "json", "-q"])
    assert result.exit_code == 2
    assert result.stdout == ""


def test_json_output_ends_with_a_newline(tmp_path: Path) -> None:
    result = runner.invoke(app, ["extract", str(_write(tmp_path, "h.txt", HARBOUR)), "-f", "json", "-q"])
    assert result.stdout.endswith("}\n")


# --- item 5: the hint after failed chunks says what will work ------------------------------------------


def test_failed_chunks_hint_names_what_works(serve: Any, tmp_path: Path) -> None:
    healthy = False

    def flaky(request: StubRequest) -> StubReply:
        if not healthy and "bridge" in json.dumps(request.json["messages"][-1]):
            return StubReply(500, json={"error": {"message": "down"}})
        return StubReply(json=chat_completion('{"quotes": []}'))

    server = serve(flaky)
    inputs = [str(_write(tmp_path, "harbour.txt", HARBOUR)), str(_write(tmp_path, "bridge.txt", BRIDGE))]
    model = ["--model", "m", "--base-url", server.base_url, "--store", str(tmp_path / "s")]
    to_stdout = ["extract", *inputs, *model, "-f", "jsonl", "--max-attempts", "1"]

    result = runner.invoke(app, to_stdout)
    assert result.exit_code == 1, result.output
    assert "--resume" not in result.stderr  # refused without -o, so not offered
    assert "FAILED     1 chunk in 1 article (" in result.stderr
    assert "rerun the same command to retry them" in result.stderr

    to_file = [*to_stdout, "-o", str(tmp_path / "run.jsonl")]
    result = runner.invoke(app, to_file)
    assert result.exit_code == 1, result.output
    assert "rerun the same command with --resume" in result.stderr

    healthy = True  # each hint, followed, now retries the failed chunk
    assert runner.invoke(app, to_stdout).exit_code == 0
    assert runner.invoke(app, [*to_file, "--resume"]).exit_code == 0


# --- item 8: one meaning per short flag; -q silences everything but errors -------------------------------


def test_each_short_flag_means_one_thing_across_commands() -> None:
    group = typer.main.get_command(app)
    meanings: dict[str, set[str]] = {}
    for command in getattr(group, "commands", {}).values():
        for param in command.params:
            if param.param_type_name == "option":
                longs = [o for o in param.opts if o.startswith("--")]
                for short in (o for o in param.opts if not o.startswith("--")):
                    meanings.setdefault(short, set()).update(longs)
    assert meanings, "no short flags found"
    clashes = {short: longs for short, longs in meanings.items() if len(longs) > 1}
    assert clashes == {}


def test_quiet_extract_prints_nothing_on_stderr() -> None:
    result = runner.invoke(app, ["extract", str(SEED), "-f", "jsonl", "-q"])
    assert result.exit_code == 0
    assert result.stderr == ""


# --- item 9: --version ------------------------------------------------------------------------------


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == f"quotes {version('quotes')}\n"


# --- item 10: grammar, unwrapped messages, JSON errors with line and column -------------------------------


def test_counts_are_singular_for_one(tmp_path: Path) -> None:
    run = tmp_path / "run.jsonl"
    assert runner.invoke(app, ["extract", str(SEED), "-o", str(run), "-q"]).exit_code == 0
    result = runner.invoke(app, ["report", str(run), "-o", str(tmp_path / "r.html")])
    assert "(1 article)" in result.stderr
    result = runner.invoke(app, ["extract", str(SEED), str(tmp_path / "missing.txt"), "-f", "jsonl"])
    assert "inputs     1 problem (see" in result.stderr


def test_messages_to_a_log_file_are_not_wrapped(tmp_path: Path) -> None:
    deep = tmp_path / ("a-rather-long-folder-name-" * 3) / "page.html"
    deep.parent.mkdir()
    deep.write_text(f"<html><body><p>{HARBOUR}</p></body></html>", encoding="utf-8")
    log = tmp_path / "stderr.log"
    with log.open("wb") as stderr:
        done = subprocess.run(
            [sys.executable, "-m", "quotes", "extract", str(deep), "-f", "jsonl"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0
    text = log.read_text(encoding="utf-8")
    assert f"warning: {deep}: text extracted from HTML; offsets refer to that text\n" in text
    assert "and OPENAI_BASE_URL or --base-url for a local server)\n" in text
    assert max(len(line) for line in text.splitlines()) > 80


def test_a_bad_corpus_line_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    corpus = _write(tmp_path, "corpus.jsonl", json.dumps({"id": "ok", "text": HARBOUR}) + "\n")
    bad = '{"id": "tab", "text": "He said\tno."}'
    with corpus.open("a", encoding="utf-8") as handle:
        handle.write(bad + "\n")
    result = runner.invoke(app, ["extract", str(corpus), "-f", "jsonl", "-q"])
    assert result.exit_code == 2
    column = bad.index("\t") + 1
    expected = f"{corpus}:2: not valid JSON: invalid control character at column {column}, skipped"
    assert expected in result.stderr


# --- item 11: extract --help says what is read ----------------------------------------------------------


def test_extract_help_names_every_kind_of_input_it_reads() -> None:
    result = runner.invoke(app, ["extract", "--help"], env={"COLUMNS": "400"})
    flat = " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stdout).split())
    for suffix in sorted(FOLDER_SUFFIXES | {".jsonl"}):  # .ndjson is read too, but not advertised
        assert suffix in flat
    assert "folders of .txt files" not in flat


# --- item 13: verify on an empty file says so once --------------------------------------------------------


def test_verify_on_an_empty_file_prints_one_error(tmp_path: Path) -> None:
    empty = _write(tmp_path, "empty.txt", "")
    result = runner.invoke(app, ["verify", str(empty), "--speaker", "Mira Olsen", "--quote", "reopen"])
    assert result.exit_code == 2
    assert result.stderr == f"error: {empty}: empty\n"


# --- item 12: `spans` always lists the statement's pieces, whatever the backend ----------------------------


@pytest.mark.parametrize(
    "backend",
    [
        ["--backend", "rules"],
        [
            "--backend",
            "llm",
            "--model",
            "gpt-4o-mini",
            "--offline",
            "--store",
            str(ROOT / "tests/fixtures/responses"),
        ],
    ],
)
def test_every_quote_lists_its_spans(backend: list[str]) -> None:
    result = runner.invoke(app, ["extract", str(SEED), *backend, "-f", "json", "-q"])
    assert result.exit_code == 0, result.output
    quotes = json.loads(result.stdout)["quotes"]
    assert len(quotes) >= 10
    for quote in quotes:
        assert quote["spans"], quote
        assert all(quote["start"] <= start < end <= quote["end"] for start, end in quote["spans"]), quote


def test_a_record_written_with_empty_spans_reads_as_one_piece() -> None:
    record = {"id": "q1", "text": "safe", "start": 4, "end": 8, "kind": "direct", "spans": []}
    assert Quote.model_validate(record).spans == [(4, 8)]
