"""`Extractor`: article → chunks → backend → grounded quotes → merged Extraction.

There is one async code path. Requests in flight are bounded by a single semaphore shared by every
chunk of every article the extractor handles, so a corpus run and a single call obey the same limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, AsyncIterator, Callable, Collection, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self

from quotes.attribution import ground_records, short
from quotes.backends import (
    Backend,
    ChunkAnswer,
    ChunkFailed,
    ConfigurationError,
    OutputTruncated,
    ServerUnavailable,
)
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.backends.rules import RulesBackend, rules_language_line
from quotes.chunking import Chunk, chunk_text, split_chunk
from quotes.grounding import SourceText
from quotes.merge import dedupe
from quotes.schema import Article, ChunkError, Extraction, Kind, Quote, Usage
from quotes.speakers import canonical_speakers
from quotes.store import StoreMiss

DEFAULT_OVERLAP = 2000

BackendChoice = Literal["auto", "llm", "rules"]


HOW_TO_CONFIGURE = "set QUOTES_MODEL or --model (and OPENAI_BASE_URL or --base-url for a local server)"


def choose_backend(
    choice: BackendChoice = "auto",
    *,
    model: str | None = None,
    base_url: str | None = None,
    lang: str | None = None,
    **llm_options: Any,
) -> tuple[Backend, str]:
    """The backend to run and one line saying which it is and why.

    `auto` takes the LLM when a model is configured (argument or QUOTES_MODEL) and the offline rules
    backend otherwise. `lang` fixes the rules backend's language (detected per article by default).
    `llm_options` are passed on to `LLMConfig` (store, timeout, chunk_size, ...).
    """
    if choice == "rules":
        return RulesBackend(lang), "backend: rules (offline, as asked)" + rules_language_line(lang)
    config = LLMConfig.from_env(model=model, base_url=base_url, **llm_options)
    if config is None:
        if choice == "llm":
            raise ConfigurationError(f"no model configured: {HOW_TO_CONFIGURE}")
        return (
            RulesBackend(lang),
            f"backend: rules (offline), as no model is configured; to use one, {HOW_TO_CONFIGURE}"
            + rules_language_line(lang),
        )
    where = config.base_url or "OpenAI"
    return LLMBackend(config), f"backend: llm, model {config.model} at {where}"


@dataclass
class _ArticleRun:
    """What the chunks of one article produced, gathered before merging."""

    quotes: list[Quote] = field(default_factory=list)
    errors: list[ChunkError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


class Extractor:
    """Runs a backend over articles.

    `kinds` keeps only statements of those kinds (e.g. {"direct"} for a speech-only run);
    `keep_text` puts the article text in each Extraction (the HTML report needs it).

    >>> async with Extractor(RulesBackend()) as extractor:  # doctest: +SKIP
    ...     extraction = await extractor.aextract(Article(id="a1", text=text))
    """

    def __init__(
        self,
        backend: Backend,
        *,
        concurrency: int = 8,
        chunk_size: int | None = None,
        overlap: int = DEFAULT_OVERLAP,
        keep_text: bool = True,
        kinds: Collection[Kind] | None = None,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.backend = backend
        self.concurrency = concurrency
        self._chunk_size = chunk_size or backend.chunk_size
        self._overlap = overlap
        self._keep_text = keep_text
        self._kinds = frozenset(kinds) if kinds is not None else None
        self._limit = asyncio.Semaphore(concurrency)
        self._halted: ServerUnavailable | None = None

    @property
    def limit(self) -> asyncio.Semaphore:
        """The bound on model requests in flight: every chunk of every article takes a slot, and so
        does each question of a claims judge built for this extractor (`Judge.for_extractor`)."""
        return self._limit

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.backend.aclose()

    def chunks(self, text: str) -> list[Chunk]:
        if self._chunk_size is None or len(text) <= self._chunk_size:
            return [Chunk(index=0, start=0, end=len(text), text=text)]
        return chunk_text(text, size=self._chunk_size, overlap=min(self._overlap, self._chunk_size // 2))

    async def aextract(self, article: Article) -> Extraction:
        source = SourceText(article.text)
        run = _ArticleRun()
        answers = await asyncio.gather(
            *(self._answer(article.text, c, run) for c in self.chunks(article.text))
        )
        for chunk_answers in answers:
            for chunk, answer in chunk_answers:
                run.quotes.extend(self._located(article.text, chunk, answer, run.warnings))
                run.quotes.extend(ground_records(source, chunk, answer.records, run.warnings))
        merged = dedupe(run.quotes)
        quotes: list[Quote] = []
        for quote, speaker in zip(merged, canonical_speakers(merged), strict=True):
            if self._kinds is None or quote.kind in self._kinds:
                # Numbered in place, not copied: these Quotes are this article's own, just made by
                # grounding and merging, and copying each cost more than the rest of the merge.
                quote.id = f"q{len(quotes) + 1}"
                quote.speaker = speaker
                quotes.append(quote)
        provenance = self.backend.provenance
        return Extraction(
            id=article.id,
            source=article.source,
            text_sha256=article.sha256,
            backend=provenance.backend,
            model=provenance.model,
            prompt=provenance.prompt,
            prompt_sha256=provenance.prompt_sha256,
            quotes=quotes,
            usage=run.usage,
            errors=sorted(run.errors, key=lambda e: (e.start, e.end)),
            warnings=run.warnings,
            text=article.text if self._keep_text else None,
            date=article.date,
            url=article.url,
        )

    async def astream(
        self,
        articles: Iterable[Article] | AsyncIterable[Article],
        *,
        on_done: Callable[[Extraction], None] | None = None,
    ) -> AsyncIterator[Extraction]:
        """Extract many articles, yielding each Extraction as soon as it is done (completion order).

        At most `2 × concurrency` articles are open at once, so a corpus of millions streams through
        in bounded memory while the request limit stays saturated. Articles are taken in by a task of
        their own, so a slow async source (a worker's inbox) never holds back a finished Extraction.

        When the server stops answering (the backend raises ServerUnavailable), no more articles are
        taken in; those already open are yielded (with the failed chunks in their errors), then
        ServerUnavailable is raised. A SetupError (server unusable before any request) is raised as is.
        """
        room = asyncio.Semaphore(2 * self.concurrency)
        finished: asyncio.Queue[asyncio.Task[Extraction] | None] = asyncio.Queue()
        open_tasks: set[asyncio.Task[Extraction]] = set()

        async def take_in() -> None:
            async for article in aiter_articles(articles):
                await room.acquire()
                if self._halted is not None:
                    room.release()
                    return
                task = asyncio.ensure_future(self.aextract(article))
                open_tasks.add(task)
                task.add_done_callback(finished.put_nowait)

        intake = asyncio.ensure_future(take_in())
        intake.add_done_callback(lambda _: finished.put_nowait(None))
        try:
            while not intake.done() or open_tasks or not finished.empty():
                task = await finished.get()
                if task is None:
                    intake.result()  # the source's own error, if it raised
                    continue
                open_tasks.discard(task)
                room.release()
                extraction = task.result()
                if on_done is not None:
                    on_done(extraction)
                yield extraction
            intake.result()
            if self._halted is not None:
                raise self._halted
        finally:
            intake.cancel()
            for task in open_tasks:
                task.cancel()

    async def _answer(self, text: str, chunk: Chunk, run: _ArticleRun) -> list[tuple[Chunk, ChunkAnswer]]:
        """The backend's answer for a chunk.

        A truncated or timed-out answer splits the chunk and asks for the halves; a chunk too short to
        split is an error. (A truncation is an answer, stored like any other: asking the same request
        again brings the same cut, and a rerun goes straight to the split.)
        """
        try:
            async with self._limit:
                answer = await self.backend.extract_chunk(chunk)
        except OutputTruncated as truncated:
            run.usage.add(truncated.usage)
            try:
                halves = split_chunk(text, chunk, overlap=min(self._overlap, (chunk.end - chunk.start) // 4))
            except ValueError:
                if truncated.reason == "timeout":
                    kind, fix = "timeout", "raise --timeout"
                else:
                    kind, fix = "truncated", "raise --max-output-tokens"
                message = f"{truncated}, and the chunk is too short to split ({fix})"
                run.errors.append(_chunk_error(chunk, kind, message))
                return []
            parts = await asyncio.gather(*(self._answer(text, half, run) for half in halves))
            return [pair for part in parts for pair in part]
        except ChunkFailed as failed:
            run.usage.add(failed.usage)
            run.errors.append(_chunk_error(chunk, failed.kind, failed.message))
            if isinstance(failed, ServerUnavailable) and self._halted is None:
                self._halted = failed
            return []
        except StoreMiss as miss:
            run.errors.append(_chunk_error(chunk, "not_recorded", str(miss)))
            return []
        run.usage.add(answer.usage)
        whole = chunk.start == 0 and chunk.end == len(text)
        run.warnings.extend(
            warning if whole else f"chunk {chunk.index}: {warning}" for warning in answer.warnings
        )
        return [(chunk, answer)]

    @staticmethod
    def _located(text: str, chunk: Chunk, answer: ChunkAnswer, warnings: list[str]) -> list[Quote]:
        """Quotes a backend located itself, held to invariant 1 like any other."""
        kept = []
        for quote in answer.quotes:
            if text[quote.start : quote.end] == quote.text:
                kept.append(quote.model_copy(update={"chunk": chunk.index}))
            else:
                warnings.append(f"dropped a quote whose offsets do not match its text: {short(quote.text)}")
        return kept


async def aiter_articles(articles: Iterable[Article] | AsyncIterable[Article]) -> AsyncIterator[Article]:
    """Either kind of source as an async one, so `astream` has one way to pull the next article."""
    if isinstance(articles, AsyncIterable):
        async for article in articles:
            yield article
    else:
        for article in articles:
            yield article


def _chunk_error(chunk: Chunk, kind: str, message: str) -> ChunkError:
    return ChunkError(chunk=chunk.index, start=chunk.start, end=chunk.end, kind=kind, message=message)
