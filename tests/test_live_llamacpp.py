"""quotes against a real llama-cpp-python server and model (opt-in: `pytest -m live`).

`scripts/live-llamacpp.sh` builds the server, starts it with SmolLM2-135M-Instruct on 127.0.0.1 and runs
these with QUOTES_LIVE_BASE_URL and QUOTES_LIVE_MODEL set. The default test run deselects them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.live

ROOT = Path(__file__).parent.parent
SEED = ROOT / "seeds" / "kadhimi-in-iran.txt"


@pytest.fixture(scope="module")
def server() -> tuple[str, str]:
    base_url, model = os.environ.get("QUOTES_LIVE_BASE_URL"), os.environ.get("QUOTES_LIVE_MODEL")
    if not base_url or not model:
        pytest.fail("set QUOTES_LIVE_BASE_URL and QUOTES_LIVE_MODEL (scripts/live-llamacpp.sh does)")
    return base_url, model


def quotes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "quotes", *args], capture_output=True, text=True, check=False, timeout=1200
    )


def test_check_passes(server: tuple[str, str], tmp_path: Path) -> None:
    base_url, model = server
    result = quotes("check", "--model", model, "--base-url", base_url, "--store", str(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "✓ server" in result.stdout
    assert "✓ structured output: json_object_schema" in result.stdout, "llama.cpp takes the schema that way"


def test_the_seed_extracts_with_honest_usage_and_a_rerun_sends_nothing(
    server: tuple[str, str], tmp_path: Path
) -> None:
    base_url, model = server
    store, out, summary = tmp_path / "store", tmp_path / "run.jsonl", tmp_path / "summary.json"
    args = ["extract", str(SEED), "--backend", "llm", "--model", model, "--base-url", base_url]
    args += ["--store", str(store), "-o", str(out), "--summary-json", str(summary)]
    started = time.monotonic()
    first = quotes(*args)
    seconds = time.monotonic() - started
    assert first.returncode in (0, 1), first.stderr
    assert "Traceback" not in first.stderr
    counts = json.loads(summary.read_text())
    assert counts["requests"] >= 1
    assert counts["input_tokens"] > 0
    assert counts["output_tokens"] > 0
    [extraction] = [json.loads(line) for line in out.read_text().splitlines()]
    text = SEED.read_text(encoding="utf-8")
    for quote in extraction["quotes"]:
        assert text[quote["start"] : quote["end"]] == quote["text"]
    print(f"first run: {seconds:.0f}s, {counts}")

    again = quotes(*args[:-4], "-o", str(tmp_path / "again.jsonl"), "--summary-json", str(summary))
    assert again.returncode == first.returncode, again.stderr
    rerun = json.loads(summary.read_text())
    assert (rerun["requests"], rerun["failed_requests"]) == (0, 0), (
        "a rerun with the same store sends nothing"
    )
    assert rerun["cached_requests"] >= 1
