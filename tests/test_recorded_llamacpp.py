"""What the pipeline makes of a real small model's answers, replayed offline.

tests/fixtures/recorded/llamacpp-smollm2/ holds the answers llama-cpp-python's server gave with
SmolLM2-135M-Instruct for the seed article (recorded, not authored: PROVENANCE.json says by what and
how). The model is too weak for the task: its whole-article answer rambles until it is cut off, and its
answers for the halves copy the prompt's example back. Neither may crash a run or become a quote.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from quotes.cli import app
from quotes.schema import Extraction

ROOT = Path(__file__).parent.parent
RECORDED = ROOT / "tests" / "fixtures" / "recorded" / "llamacpp-smollm2"
SEED = ROOT / "seeds" / "kadhimi-in-iran.txt"


def answers() -> list[dict[str, Any]]:
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(RECORDED.rglob("??/*.json"))]


def test_the_fixtures_are_recorded_and_say_from_what() -> None:
    provenance = json.loads((RECORDED / "PROVENANCE.json").read_text(encoding="utf-8"))
    assert provenance["recorded"] is True
    assert "SmolLM2-135M-Instruct" in provenance["model"]
    assert "llama-cpp-python 0.3.36" in provenance["server"]
    stored = answers()
    assert len(stored) == 3
    assert all("authored" not in answer for answer in stored)
    assert {answer["response"]["model"] for answer in stored} == {provenance["model_alias"]}


def test_a_real_small_models_answers_replay_into_an_honest_extraction(tmp_path: Path) -> None:
    summary = tmp_path / "summary.json"
    args = ["extract", str(SEED), "--backend", "llm", "--model", "smollm2-135m-instruct"]
    args += ["--structured-output", "json_object_schema", "--offline", "--store", str(RECORDED)]
    result = CliRunner().invoke(app, [*args, "-f", "jsonl", "--summary-json", str(summary)])
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("{")]
    extraction = Extraction.model_validate_json(line)
    assert extraction.errors == [], "the cut-off answer was split, and its halves answered"
    assert extraction.quotes == [], "nothing the model said is in the article"
    echoed = "dropped a statement copied from the prompt's example: 'The new tram line costs too much'"
    assert extraction.warnings == [f"chunk 0: {echoed}"] * 2, "one for each half"
    counts = json.loads(summary.read_text(encoding="utf-8"))
    assert (counts["requests"], counts["cached_requests"], counts["failed_requests"]) == (0, 3, 0)
    truncated = [a for a in answers() if a["response"]["choices"][0]["finish_reason"] == "length"]
    assert len(truncated) == 1
