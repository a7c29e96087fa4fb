"""What every extraction backend offers the pipeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

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


class ChunkFailed(Exception):
    """The chunk could not be extracted after every retry; `kind` is a short machine-readable reason."""

    def __init__(self, kind: str, message: str, usage: Usage | None = None) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind
        self.message = message
        self.usage = usage or Usage()


class OutputTruncated(Exception):
    """The model ran out of output tokens: the pipeline splits the chunk and asks for the halves."""

    def __init__(self, usage: Usage | None = None) -> None:
        super().__init__("the answer was cut off at the output token limit")
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
