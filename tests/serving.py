"""A real `quotes serve` app on 127.0.0.1 for the server's tests, and the invented articles they use.

Every text here is made up for these tests (names, places, sentences).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from quotes.api import extract
from quotes.archive import Archive
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.backends.rules import RulesBackend
from quotes.pipeline import Extractor
from quotes.schema import Article
from quotes.serve import Limits, Service, create_app

HARBOUR = (
    "Port officials met on Tuesday in Varnholm.\n\n"
    "“The harbour will reopen in May,” said Ana Ruiz, the port director.\n\n"
    "Mayor Tomas Vell said the budget for the quay was “entirely sound.”\n\n"
    "A sign at the gate read: the ferries will run twice a day.\n"
)

# (speaker, words claimed, verdict, what the page must say, the speaker it must name as the real one)
CLAIMS = [
    ("Ana Ruiz", "The harbour will reopen in May", "supported", "Ana Ruiz said these words.", None),
    (
        "Tomas Vell",
        "The harbour will reopen in May",
        "misattributed",
        "These words were said by Ana Ruiz, not by Tomas Vell.",
        "Ana Ruiz",
    ),
    (
        "Ana Ruiz",
        "The harbour will reopen in June",
        "altered",
        "Ana Ruiz said something close to this, but not these words.",
        None,
    ),
    (
        "Ana Ruiz",
        "the ferries will run twice a day",
        "unattributed",
        "The article holds these words, but does not say who said them.",
        None,
    ),
    (
        "Ana Ruiz",
        "the bridge will close for repairs next winter",
        "not_found",
        "The article does not hold these words.",
        None,
    ),
]

# An archive of three dated articles; Ruiz's promise stands in two of them, the later one added first.
ARCHIVE_ARTICLES = [
    Article(
        id="varnholm-quay-later",
        date="2024-04-10",
        url="https://news.example/varnholm-quay-later",
        text="Ana Ruiz repeated her pledge on Monday. “The harbour will reopen in May,” Ruiz told "
        "reporters.\n",
    ),
    Article(id="varnholm-harbour", date="2024-03-01", text=HARBOUR),
    Article(
        id="kessel-bridge",
        date="2024-05-02",
        text="“Kessel bridge needs new cables before the winter,” said Lio Brandt, an engineer.\n\n"
        "Councillor Mara Odun said the repairs would cost “far more than planned.”\n",
    ),
]


def build_archive(path: Path) -> Path:
    with Archive(path) as archive:
        archive.add(extract(article, backend="rules") for article in ARCHIVE_ARTICLES)
    return path


def rules_service(archive: Path | None = None, **limits: int) -> Service:
    return Service(
        Extractor(RulesBackend(), concurrency=4),
        backend_line="backend rules (offline)",
        archive=Archive(archive, create=False) if archive is not None else None,
        limits=Limits(**limits),
    )


def llm_service(base_url: str, **limits: int) -> Service:
    """A service whose model is a local stub server (quotes.testing.StubServer)."""
    config = LLMConfig(model="stub-model", base_url=base_url, api_key="test-key", max_attempts=1, timeout=30)
    return Service(
        Extractor(LLMBackend(config), concurrency=2),
        backend_line="backend llm, model stub-model",
        limits=Limits(**limits),
    )


def free_port() -> int:
    """A port free on 127.0.0.1 at the time of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1 in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def serve(service: Service, *, token: str | None = None) -> Iterator[str]:
    """For a fixture: `yield from serve(...)`."""
    with running(create_app(service, token=token)) as url:
        yield url
