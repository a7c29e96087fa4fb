"""What a person sees on a terminal (issue 14, item 4): `quotes extract --format table` run in tmux, the
screen captured while the run is live and after it ends. The progress line must show during the run and be
gone afterwards: not glued to the table's title, not redrawn under it.

Needs tmux (`apt-get install -y tmux`): skipped with the reason printed when missing, failed under CI=true.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from programs import require
from quotes.testing import StubReply, StubRequest, StubServer, chat_completion

# The live progress line: spinner, "done/total" and the bar (rich's MofNCompleteColumn and BarColumn).
PROGRESS = re.compile(r"\d+/(\d+|\?) *━")
DONE = "quotes-run-finished"


class Tmux:
    """A private tmux server (its own socket) with one 160x50 session."""

    def __init__(self) -> None:
        self.socket = f"quotes-test-{uuid.uuid4().hex[:8]}"
        self._tmux("new-session", "-d", "-x", "160", "-y", "50", "-s", "t", "bash --norc --noprofile")

    def _tmux(self, *args: str) -> str:
        done = subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, timeout=30, check=True
        )
        return done.stdout

    def send(self, line: str) -> None:
        self._tmux("send-keys", "-t", "t", line, "Enter")

    def screen(self) -> list[str]:
        return [line.rstrip() for line in self._tmux("capture-pane", "-p", "-t", "t").splitlines()]

    def close(self) -> None:
        subprocess.run(
            ["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=30, check=False
        )


@pytest.fixture
def tmux() -> Iterator[Tmux]:
    require("tmux")
    terminal = Tmux()
    try:
        yield terminal
    finally:
        terminal.close()


def test_table_and_progress_do_not_overlap(
    tmux: Tmux, serve: Callable[[Callable[[StubRequest], StubReply]], StubServer], tmp_path: Path
) -> None:
    # Slow answers keep the run live long enough for the progress line to be drawn and seen.
    server = serve(lambda request: StubReply(json=chat_completion('{"quotes": []}'), delay=0.8))
    inputs = []
    for name, town in (("north", "Brenholt"), ("south", "Carvik"), ("west", "Dunmere")):
        path = tmp_path / f"{name}.txt"
        path.write_text(f"The ferry to {town} runs again on Monday, the harbour office said.\n", "utf-8")
        inputs.append(str(path))
    command = [
        sys.executable, "-m", "quotes", "extract", *inputs, "--format", "table", "--concurrency", "1",
        "--model", "stub-model", "--base-url", server.base_url, "--store", str(tmp_path / "store"),
    ]  # fmt: skip
    env = " ".join(
        f"{name}={shlex.quote(value)}"
        for name, value in {
            "PATH": os.environ["PATH"],
            "TERM": "xterm-256color",
            "OPENAI_API_KEY": "x",
        }.items()
    )
    tmux.send(f"clear; env -i {env} {shlex.join(command)}; echo {DONE}")

    seen_live = False
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        screen = tmux.screen()
        if any(line.strip() == DONE for line in screen):
            break
        seen_live |= any(PROGRESS.search(line) for line in screen)
        time.sleep(0.1)
    else:
        pytest.fail("the run did not finish in 60 s:\n" + "\n".join(tmux.screen()))
    assert seen_live, "the progress line never showed during the run, so this test saw nothing"

    shown = "\n".join(screen)
    title = next((n for n, line in enumerate(screen) if line.endswith("quotes") and "━" not in line), None)
    assert title is not None, shown
    assert screen[title].strip() == "quotes", f"the table's title is glued to something:\n{shown}"
    assert not any(PROGRESS.search(line) for line in screen), f"a progress line is left on screen:\n{shown}"
    assert not any("/s" in line and "cached" in line for line in screen), shown
    caption = next(n for n, line in enumerate(screen) if "0 quotes, 0 chunk errors" in line)
    summary = next(n for n, line in enumerate(screen) if line.startswith("articles   3 in"))
    assert title < caption < summary, shown
