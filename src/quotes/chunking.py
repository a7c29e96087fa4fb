"""Splitting an article into overlapping chunks at paragraph and sentence boundaries, offsets kept."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """`text == article_text[start:end]`; `index` is the chunk's position in the article."""

    index: int
    start: int
    end: int
    text: str
