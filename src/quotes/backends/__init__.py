"""What every extraction backend offers the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from quotes.chunking import Chunk
from quotes.schema import AnswerQuote, Quote, Usage


@dataclass(frozen=True)
class Provenance:
    """Recorded on every Extraction: which backend, model and prompt produced it."""

    backend: str
    model: str | None = None
    prompt: str | None = None
    prompt_sha256: str | None = None


@dataclass
class ChunkAnswer:
    """A backend's answer for one chunk.

    `records` are the model's words, still to be grounded by the pipeline; `quotes` are already located
    (offsets into the article) by a backend that reads the text itself; `warnings` go to the
    Extraction's (the rules backend's "language 'ko' has no rules").
    """

    records: list[AnswerQuote] = field(default_factory=list)
    quotes: list[Quote] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    warnings: list[str] = field(default_factory=list)


class ConfigurationError(Exception):
    """The backend asked for cannot be set up (e.g. `llm` with no model configured)."""


class SetupError(ConfigurationError):
    """The model server cannot be used as configured: unreachable, the key rejected or missing, the model
    unknown. Raised before any article's request is sent; the message names the server and the fix."""


class ChunkFailed(Exception):
    """The chunk could not be extracted after every retry; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str, usage: Usage | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.usage = usage or Usage()

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.kind, self.message, self.usage)


class ServerUnavailable(ChunkFailed):
    """The server stopped answering during a run (the backend's circuit breaker is open): this chunk and
    every later one fail at once, and the pipeline takes in no more articles."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__("server_down", message, usage)

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), (self.message, self.usage)


class OutputTruncated(Exception):
    """The chunk is too much for one answer: the pipeline splits it and asks for the halves.

    `reason` is "length" (the answer was cut off at the output token limit) or "timeout" (no answer
    came in time, even when asked again).
    """

    def __init__(self, usage: Usage | None = None, reason: str = "length") -> None:
        message = (
            "no answer came within the timeout"
            if reason == "timeout"
            else "the answer was cut off at the output token limit"
        )
        super().__init__(message)
        self.reason = reason
        self.usage = usage or Usage()


class Backend(Protocol):
    @property
    def provenance(self) -> Provenance: ...

    @property
    def chunk_size(self) -> int | None:
        """Characters per chunk this backend wants; None means the whole article in one chunk."""
        ...

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer: ...

    async def aclose(self) -> None: ...
