"""The README as a newcomer uses it (issue 14, item 3): every ```python block runs as written, every
```bash block parses and each `quotes ...` command in it is accepted by the command's own parser, every
option the CLI table names exists on its command, and the gold example is gold `quotes eval` reads."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from quotes.cli import app
from quotes.evaluate import load_gold

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)
CLI = typer.main.get_command(app)


def blocks(language: str) -> list[tuple[int, str]]:
    """(line number, body) of each fenced block in that language."""
    return [
        (README.count("\n", 0, m.start()) + 2, m.group(2))
        for m in BLOCK.finditer(README)
        if m.group(1) == language
    ]


def commands(script: str) -> list[list[str]]:
    """The `quotes` invocations of a shell script, as argument lists (env assignments and paths stripped)."""
    found = []
    for line in script.replace("\\\n", " ").splitlines():
        if line.lstrip().startswith("#"):
            continue
        for part in re.split(r"&&|\|\||;|\|", line.split(" #")[0]):
            words = shlex.split(part)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)
            if words and Path(words[0]).name == "quotes":
                found.append(words[1:])
    return found


def parse(args: list[str]) -> None:
    """Parse a command line as `quotes` would, without running it: unknown commands, unknown options,
    missing arguments and badly typed values raise."""
    if args[:1] == ["--version"]:  # an eager option: it prints and exits during parsing
        assert CLI.main(args, standalone_mode=False) == 0
        return
    context = CLI.make_context("quotes", list(args))
    # click keeps the subcommand's name apart (`protected_args`, `_protected_args` in typer's copy of it)
    protected = getattr(context, "protected_args", None) or getattr(context, "_protected_args", [])
    name, command, rest = CLI.resolve_command(context, [*protected, *context.args])  # type: ignore[attr-defined]
    assert command is not None, name
    command.make_context(name or "", rest, parent=context)


def options_of(words: list[str]) -> set[str]:
    """The options of the command the words name, a group's subcommand (`archive add`) included."""
    command = CLI
    for word in words:
        sub = getattr(command, "commands", {}).get(word)
        if sub is None:
            break
        command = sub
    return {opt for param in command.params for opt in param.opts if opt.startswith("-")}


@pytest.mark.parametrize(
    ("line", "code"), blocks("python"), ids=lambda v: f"README.md:{v}" if isinstance(v, int) else ""
)
def test_python_blocks_run_as_written(
    line: int, code: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(ROOT)
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    exec(compile(code, f"README.md:{line}", "exec"), namespace)
    assert capsys.readouterr().out, "the block printed nothing"


def test_the_python_api_block_shows_extract_many_over_corpus_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    line, code = next((n, c) for n, c in blocks("python") if "extract_many" in c)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    printed = capsys.readouterr().out.splitlines()
    assert sorted(p for p in printed if p.startswith(("harbour ", "ferry "))) == ["ferry 1", "harbour 3"]


@pytest.mark.parametrize(
    ("line", "script"), blocks("bash"), ids=lambda v: f"README.md:{v}" if isinstance(v, int) else ""
)
def test_bash_blocks_parse_and_their_quotes_commands_are_accepted(line: int, script: str) -> None:
    checked = subprocess.run(["bash", "-n"], input=script, text=True, capture_output=True, check=False)
    assert checked.returncode == 0, checked.stderr
    for args in commands(script):
        parse(args)


def test_every_bash_block_with_a_command_is_checked() -> None:
    assert sum(len(commands(script)) for _, script in blocks("bash")) >= 2


def test_the_cli_table_names_only_real_commands_and_options() -> None:
    rows = [line for line in README.splitlines() if line.startswith("| `quotes ")]
    assert len(rows) >= 5
    for row in rows:
        first = row.split("`")[1].split()
        if first[1].startswith("-"):
            parse(first[1:])
            continue
        parse(first[1:])
        known = options_of(first[1:])
        # prose and this CLI's code spans; another program's command line names its own options
        parts = row.split("`")
        ours = " ".join(p for i, p in enumerate(parts) if i % 2 == 0 or p.startswith(("quotes ", "-")))
        named = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", ours.replace("\\|", "|")))
        assert named <= known, f"{first[1]}: {sorted(named - known)} are not options of this command"


def test_inline_quotes_commands_name_real_options() -> None:
    for code in re.findall(r"`(quotes [^`]+)`", README):
        words = code.split()
        if words[1].startswith("-"):
            parse(words[1:])
            continue
        known = options_of(words[1:])
        named = {w.split("=")[0] for w in words if w.startswith("-")}
        assert named <= known, f"`{code}`: {sorted(named - known)}"


def test_the_gold_example_is_gold_that_eval_reads(tmp_path: Path) -> None:
    [(_, example)] = [(n, body) for n, body in blocks("json") if '"quotes"' in body]
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps(json.loads(example), ensure_ascii=False) + "\n", encoding="utf-8")
    [article] = load_gold(gold)
    assert len(article.quotes) == 2
    assert {quote.kind for quote in article.quotes} == {"direct", "indirect"}


def test_eval_help_points_to_the_gold_format_in_this_readme() -> None:
    shown = CliRunner().invoke(app, ["eval", "--help"], env={"COLUMNS": "300"}).stdout
    assert "Gold for quotes eval" in " ".join(shown.split())
    assert "shared/eval" not in shown
    assert "## Gold for `quotes eval`" in README
