"""The functions most callers need: extract one article or many, sync or async.

Each sync function is a thin wrapper that runs its async twin; there is no second code path.
For anything finer (a shared extractor across calls, progress callbacks, chunk sizes), use
`quotes.Extractor` with a backend from `quotes.choose_backend`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Iterator, Mapping
from typing import TypeAlias

from quotes.articles import record_fields
from quotes.pipeline import BackendChoice, Extractor, choose_backend
from quotes.schema import Article, Extraction
from quotes.workers import ExtractorRecipe, WorkerPool

ArticleLike: TypeAlias = str | Article | Mapping[str, object]
"""Plain text, an `Article`, or a corpus record: a mapping with `text` and optionally `id` (other keys,
such as `date` or `url`, are ignored), the shape of a line of the JSONL corpora `quotes extract` reads."""


def as_article(item: ArticleLike, index: int = 0) -> Article:
    """An Article as given, a corpus record's id and text, or plain text wrapped as one.

    Text, and a record with no id, get the id `text-<index>`. A record without a string `text` (or
    with an id that is neither a string nor an integer) raises ValueError saying so.
    """
    if isinstance(item, Article):
        return item
    if isinstance(item, str):
        return Article(id=f"text-{index}", text=item)
    fields = record_fields(item, default_id=f"text-{index}")
    if isinstance(fields, str):
        raise ValueError(f"article {index}: {fields}")
    return Article(**fields._asdict())


async def aextract(
    article: ArticleLike,
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> Extraction:
    """Extract who said what from one article (plain text, an `Article` or a `{"id", "text"}` record).

    With no model given here or in `QUOTES_MODEL`, the offline rules backend is used (`backend="auto"`).
    The API key is read from `OPENAI_API_KEY`.
    """
    chosen, _ = choose_backend(backend, model=model, base_url=base_url)
    async with Extractor(chosen) as extractor:
        return await extractor.aextract(as_article(article))


def extract(
    article: ArticleLike,
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> Extraction:
    """Sync form of `aextract`; call `aextract` instead from inside a running event loop."""
    return asyncio.run(aextract(article, model=model, base_url=base_url, backend=backend))


async def aextract_many(
    articles: Iterable[ArticleLike],
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
    concurrency: int = 8,
    workers: int = 1,
) -> AsyncGenerator[Extraction, None]:
    """Extract many articles concurrently, yielding each as it completes (not in input order).

    Each article is plain text, an `Article`, or a corpus record `{"id": ..., "text": ...}` (other keys
    ignored); the id is kept on its Extraction, so match results to inputs by `extraction.id`.

    `workers` > 1 runs the extraction in that many processes (for runs bound by this process's CPU),
    sharing the `concurrency` limit between them; the articles are still read lazily from here.
    """
    recipe = ExtractorRecipe(backend, model=model, base_url=base_url, concurrency=concurrency)
    runner = recipe.build()[0] if workers == 1 else WorkerPool(recipe, workers)
    async with runner:
        items = (as_article(item, i) for i, item in enumerate(articles))
        async for extraction in runner.astream(items):
            yield extraction


def extract_many(
    articles: Iterable[ArticleLike],
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
    concurrency: int = 8,
    workers: int = 1,
) -> Iterator[Extraction]:
    """Sync form of `aextract_many`: a generator driving the async one on a private event loop."""
    loop = asyncio.new_event_loop()
    stream = aextract_many(
        articles, model=model, base_url=base_url, backend=backend, concurrency=concurrency, workers=workers
    )
    try:
        while True:
            try:
                yield loop.run_until_complete(anext(stream))
            except StopAsyncIteration:
                return
    finally:
        loop.run_until_complete(stream.aclose())
        loop.close()
