"""Worker processes: the same `Extractor.astream` in N processes, for runs one event loop cannot keep up
with on CPU (grounding and the openai SDK cost milliseconds per request; one process uses one core).

The parent feeds articles lazily through one inbox that every worker pulls from, never more than a
few windows ahead of the results (so a corpus of millions streams in bounded memory), and reads each
worker's finished Extractions from that worker's pipe in completion order; it writes every output
itself. Each worker builds its own backend from an `ExtractorRecipe` (a backend holds an HTTP client
and does not pickle; the recipe does) and takes a share of the request limit, the shares summing to
it, so the requests in flight across all workers never exceed it.

    async with WorkerPool(ExtractorRecipe("llm", model="gpt-4o-mini", concurrency=32), workers=2) as pool:
        async for extraction in pool.astream(articles):
            ...
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import pickle
import queue
import signal
import traceback
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, NoReturn, Self

from quotes.backends import ConfigurationError, ServerUnavailable
from quotes.pipeline import BackendChoice, Extractor, aiter_articles, choose_backend
from quotes.schema import Article, Extraction, Kind

# How long the parent waits on its workers, or a worker on the inbox, before checking on the other side.
POLL_SECONDS = 0.2
JOIN_SECONDS = 5.0
# Articles sent ahead of the results, in windows of the request limit: each worker keeps two windows
# open (as `Extractor.astream` does) and the inbox one more, so no worker waits for the next article.
AHEAD_WINDOWS = 3

# Messages from a worker: (kind, payload); a finished Extraction travels as its JSON.
_READY, _DONE, _END, _FAILED = "ready", "done", "end", "failed"
Message = tuple[str, Any]


class WorkerError(RuntimeError):
    """A worker process raised or died. Extractions already returned stand; the run stops here."""


@dataclass(frozen=True)
class ExtractorRecipe:
    """How to build an `Extractor`, in a form that pickles into a worker process.

    `llm_options` go to `LLMConfig` (store, timeout, max_attempts, chunk_size, api_key, ...) as in
    `choose_backend`; `concurrency` is the request limit of the whole run; `lang` the rules backend's
    language (detected per article when None).
    """

    backend: BackendChoice = "auto"
    model: str | None = None
    base_url: str | None = None
    llm_options: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = 8
    chunk_size: int | None = None
    kinds: frozenset[Kind] | None = None
    keep_text: bool = True
    lang: str | None = None

    def build(self, concurrency: int | None = None) -> tuple[Extractor, str]:
        """The extractor (with `concurrency` in place of the whole run's limit if given) and the line
        saying which backend it runs."""
        backend, why = choose_backend(
            self.backend, model=self.model, base_url=self.base_url, lang=self.lang, **self.llm_options
        )
        extractor = Extractor(
            backend,
            concurrency=concurrency or self.concurrency,
            chunk_size=self.chunk_size,
            keep_text=self.keep_text,
            kinds=self.kinds,
        )
        return extractor, why


def freeze_startup_objects() -> None:
    """Keep the garbage collector from walking the objects made at start-up in every full collection.

    Imports (the openai SDK, pydantic's schemas) and building a backend leave some 150,000 objects that
    live as long as the process, and a corpus run triggers full collections that would walk them again
    each time. A process that runs a corpus calls this once, after building its extractor."""
    gc.collect()
    gc.freeze()


def shares(total: int, workers: int) -> list[int]:
    """`total` requests split over `workers` as evenly as it goes, summing to `total` exactly."""
    if not 1 <= workers <= total:
        raise ValueError(f"workers must be between 1 and the concurrency ({total}), got {workers}")
    base, extra = divmod(total, workers)
    return [base + (1 if i < extra else 0) for i in range(workers)]


class WorkerPool:
    """`workers` processes running one `astream` between them; start, stream once, close.

    Starting waits until every worker has built its extractor, so a configuration error surfaces
    before any input is read (as the exception the worker met, when it pickles).
    """

    def __init__(self, recipe: ExtractorRecipe, workers: int) -> None:
        self.recipe = recipe
        self.shares = shares(recipe.concurrency, workers)
        self.description = ""
        self._context = multiprocessing.get_context("spawn")
        self._inbox: Queue[Article | None] = self._context.Queue()
        self._processes: list[SpawnProcess] = []
        self._pipes: dict[Connection, int] = {}  # each worker's pipe still open, and whose it is
        self._ended: set[int] = set()
        self._feeder: asyncio.Task[None] | None = None
        self._streamed = False

    async def __aenter__(self) -> Self:
        await self.astart()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def astart(self) -> None:
        if self._processes:
            return
        for index, share in enumerate(self.shares):
            reader, writer = self._context.Pipe(duplex=False)
            process = self._context.Process(
                target=_work,
                args=(self.recipe, share, index, self._inbox, writer),
                name=f"quotes-worker-{index}",
                daemon=True,
            )
            process.start()
            writer.close()  # the worker holds the only writing end: its exit is our end of file
            self._processes.append(process)
            self._pipes[reader] = index
        try:
            for _ in self._processes:
                index, (kind, payload) = await self._receive()
                if kind == _FAILED:
                    raise _setup_failure(index, payload)
                if index == 0:
                    split = " + ".join(map(str, self.shares))
                    self.description = f"{payload}; {len(self.shares)} worker processes ({split} requests)"
        except BaseException:
            await self.aclose()
            raise

    async def astream(
        self,
        articles: Iterable[Article] | AsyncIterable[Article],
        *,
        on_done: Callable[[Extraction], None] | None = None,
    ) -> AsyncIterator[Extraction]:
        """Like `Extractor.astream`: each Extraction as soon as a worker has it (completion order)."""
        if self._streamed:
            raise RuntimeError("a WorkerPool runs one stream; make another for the next")
        self._streamed = True
        await self.astart()
        credit = asyncio.Semaphore(AHEAD_WINDOWS * self.recipe.concurrency)
        self._feeder = asyncio.ensure_future(self._feed(articles, credit))
        try:
            while len(self._ended) < len(self._processes):
                index, (kind, payload) = await self._receive()
                if kind == _DONE:
                    credit.release()
                    extraction = Extraction.model_validate_json(payload)
                    if on_done is not None:
                        on_done(extraction)
                    yield extraction
                elif kind == _END:
                    self._ended.add(index)
                else:
                    raise _run_failure(index, payload)
            await self._feeder
        finally:
            self._feeder.cancel()

    async def aclose(self) -> None:
        """Let finished workers exit, stop the others, and release the pipes and the inbox."""
        loop = asyncio.get_running_loop()
        for index, process in enumerate(self._processes):
            if index not in self._ended:
                process.terminate()
            await loop.run_in_executor(None, process.join, JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                await loop.run_in_executor(None, process.join)
        for pipe in self._pipes:
            pipe.close()
        self._pipes.clear()
        self._inbox.cancel_join_thread()  # never wait at exit to flush articles no worker will read
        self._inbox.close()

    async def _feed(
        self, articles: Iterable[Article] | AsyncIterable[Article], credit: asyncio.Semaphore
    ) -> None:
        async for article in aiter_articles(articles):
            await credit.acquire()
            self._inbox.put(article)
        for _ in self._processes:
            self._inbox.put(None)

    async def _receive(self) -> tuple[int, Message]:
        """The next message from any worker. The event loop watches the pipes (no thread per message);
        a worker whose pipe closes without its end, or a failed feed, is raised."""
        loop = asyncio.get_running_loop()
        while True:
            self._check_feed()
            for pipe in wait(list(self._pipes), timeout=0):
                assert isinstance(pipe, Connection)
                index = self._pipes[pipe]
                try:
                    message: Message = pipe.recv()
                except EOFError:
                    del self._pipes[pipe]
                    pipe.close()
                    if index not in self._ended:
                        raise self._died(index) from None
                    continue
                return index, message
            readable = loop.create_future()
            for pipe in self._pipes:
                loop.add_reader(pipe.fileno(), _settle, readable)
            try:
                await asyncio.wait([readable], timeout=POLL_SECONDS)
            finally:
                for pipe in self._pipes:
                    loop.remove_reader(pipe.fileno())

    def _check_feed(self) -> None:
        feeder = self._feeder
        if (
            feeder is not None
            and feeder.done()
            and not feeder.cancelled()
            and (failure := feeder.exception())
        ):
            raise failure

    def _died(self, index: int) -> WorkerError:
        process = self._processes[index]
        process.join(JOIN_SECONDS)
        code = process.exitcode
        how = (
            "stopped without a word"
            if code is None
            else f"was killed by signal {-code}"
            if code < 0
            else f"exited with status {code}"
        )
        return WorkerError(f"worker {index} (pid {process.pid}) {how} before finishing its articles")


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _setup_failure(index: int, payload: tuple[BaseException | None, str]) -> BaseException:
    """The exception a worker met while building its extractor, raised as itself when it pickled."""
    original, remote = payload
    failure = original or WorkerError(f"worker {index} failed to start: {remote.splitlines()[-1]}")
    failure.add_note(f"in worker {index}:\n{remote}")
    return failure


def _run_failure(index: int, payload: tuple[BaseException | None, str]) -> BaseException:
    """What a worker met during the run: an unusable or stopped model server as itself (what a run in
    one process raises, so callers handle one exception), anything else as a WorkerError."""
    original, remote = payload
    if isinstance(original, ConfigurationError | ServerUnavailable):
        original.add_note(f"in worker {index}")
        return original
    failure = WorkerError(f"worker {index} failed: {remote.strip().splitlines()[-1]}")
    failure.add_note(f"worker {index} traceback:\n{remote}")
    failure.__cause__ = original
    return failure


def _work(
    recipe: ExtractorRecipe, concurrency: int, index: int, inbox: Queue[Article | None], pipe: Connection
) -> None:
    """A worker process's body: build, report ready, extract until its `None`, report the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    asyncio.run(_awork(recipe, concurrency, inbox, pipe))


async def _awork(
    recipe: ExtractorRecipe, concurrency: int, inbox: Queue[Article | None], pipe: Connection
) -> None:
    loop = asyncio.get_running_loop()

    async def articles() -> AsyncIterator[Article]:
        while True:
            try:  # the parent keeps the inbox ahead, so waiting in a thread is the exception
                article = inbox.get_nowait()
            except queue.Empty:
                article = await loop.run_in_executor(None, _get, inbox)
            if article is None:
                return
            yield article

    try:
        extractor, why = recipe.build(concurrency)
        freeze_startup_objects()
        pipe.send((_READY, why))
        async with extractor:
            async for extraction in extractor.astream(articles()):
                pipe.send((_DONE, extraction.model_dump_json()))
        pipe.send((_END, None))
    except Exception as exc:
        _die(pipe, exc)


def _die(pipe: Connection, exc: Exception) -> NoReturn:
    """Report the failure and leave at once: a thread may still be waiting on the inbox, and a normal
    exit would wait for it. A parent that is gone cannot be told."""
    remote = "".join(traceback.format_exception(exc))
    with contextlib.suppress(OSError):
        pipe.send((_FAILED, (_portable(exc), remote)))
    os._exit(1)


def _get(inbox: Queue[Article | None]) -> Article | None:
    while True:
        try:
            return inbox.get(timeout=POLL_SECONDS)
        except queue.Empty:
            _exit_if_orphaned()


def _exit_if_orphaned() -> None:
    """A parent killed outright (SIGKILL) cannot stop its workers: they notice it gone and leave."""
    parent = multiprocessing.parent_process()
    if parent is not None and not parent.is_alive():
        os._exit(1)


def _portable(exc: BaseException) -> BaseException | None:
    """`exc` if it survives a trip through pickle (its type and message), else None."""
    try:
        copy = pickle.loads(pickle.dumps(exc))
    except Exception:
        return None
    return copy if isinstance(copy, BaseException) else None
