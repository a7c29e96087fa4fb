"""The functions most callers need: extract one article or many, sync or async.

Each sync function is a thin wrapper that runs its async twin; there is no second code path.
For anything finer (a shared extractor across calls, progress callbacks, chunk sizes), use
`quotes.Extractor` with a backend from `quotes.choose_backend`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Iterable, Iterator

from quotes.pipeline import BackendChoice, Extractor, choose_backend
from quotes.schema import Article, Extraction
from quotes.workers import ExtractorRecipe, WorkerPool


def as_article(item: str | Article, index: int = 0) -> Article:
    """An Article as given, or plain text wrapped as one (id "text-<index>")."""
    return item if isinstance(item, Article) else Article(id=f"text-{index}", text=item)


async def aextract(
    article: str | Article,
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> Extraction:
    """Extract who said what from one article (plain text or an `Article`).

    With no model given here or in `QUOTES_MODEL`, the offline rules backend is used (`backend="auto"`).
    The API key is read from `OPENAI_API_KEY`.
    """
    chosen, _ = choose_backend(backend, model=model, base_url=base_url)
    async with Extractor(chosen) as extractor:
        return await extractor.aextract(as_article(article))


def extract(
    article: str | Article,
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> Extraction:
    """Sync form of `aextract`; call `aextract` instead from inside a running event loop."""
    return asyncio.run(aextract(article, model=model, base_url=base_url, backend=backend))


async def aextract_many(
    articles: Iterable[str | Article],
    *,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
    concurrency: int = 8,
    workers: int = 1,
) -> AsyncGenerator[Extraction, None]:
    """Extract many articles concurrently, yielding each as it completes (not in input order).

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
    articles: Iterable[str | Article],
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
