"""Shared fixtures: a local OpenAI-compatible stub server and a response store in a temporary folder;
and a header line saying which programs the browser and terminal tests find (see programs.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

import programs
from quotes.store import ResponseStore
from quotes.testing import Handler, StubServer

# Property tests check behaviour, not speed (bench/ measures that): on a loaded machine one example may
# take far longer than hypothesis's default 200 ms deadline.
settings.register_profile("quotes", deadline=None)
settings.load_profile("quotes")


@pytest.fixture(autouse=True)
def _no_ambient_model(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's model, key or response cache (invariant 5: offline, hermetic)."""
    for name in ("QUOTES_MODEL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "QUOTES_RECORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QUOTES_STORE", str(tmp_path / "ambient-store"))


@pytest.fixture
def store(tmp_path: Path) -> ResponseStore:
    return ResponseStore(tmp_path / "store")


@pytest.fixture
def serve() -> Iterator[Callable[..., StubServer]]:
    """Start a stub server with a handler (and StubServer's options: `model_ids`, `models_reply`);
    every server started is stopped after the test."""
    servers: list[StubServer] = []

    def start(handler: Handler, **options: Any) -> StubServer:
        server = StubServer(handler, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def closed_url() -> str:
    """The base URL of a port on 127.0.0.1 that nothing listens on (bound, then closed): connection
    refused, as from a model server that is not running."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def pytest_report_header() -> str:
    return programs.header()
