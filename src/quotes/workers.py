"""Worker processes: the same `Extractor.astream` in N processes, for runs one event loop cannot keep up
with on CPU (grounding and the openai SDK cost milliseconds per request; one process uses one core).

The parent feeds articles lazily through one bounded inbox that every worker pulls from, and reads
finished Extractions from one bounded outbox in completion order; it writes every output itself.
Each worker builds its own backend from an `ExtractorRecipe` (a backend holds an HTTP client and does
not pickle; the recipe does) and takes a share of the request limit, the shares summing to it, so the
requests in flight across all workers never exceed it.

    async with WorkerPool(ExtractorRecipe("llm", model="gpt-4o-mini", concurrency=32), workers=2) as pool:
        async for extraction in pool.astream(articles):
            ...
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import pickle
import queue
import signal
import traceback
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from types import TracebackType
from typing import Any, NoReturn, Self

from quotes.pipeline import BackendChoice, Extractor, aiter_articles, choose_backend
from quotes.schema import Article, Extraction, Kind

# How long a parent or worker waits on a queue before checking that the other side is still there.
POLL_SECONDS = 0.2
JOIN_SECONDS = 5.0
# The exit status of a worker that has put its failure on the outbox (so the parent reads why).
REPORTED = 3

# Messages on the outbox: (kind, worker index, payload).
_READY, _DONE, _END, _FAILED = "ready", "done", "end", "failed"
Message = tuple[str, int, Any]


class WorkerError(RuntimeError):
    """A worker process raised or died. Extractions already returned stand; the run stops here."""


@dataclass(frozen=True)
class ExtractorRecipe:
    """How to build an `Extractor`, in a form that pickles into a worker process.

    `llm_options` go to `LLMConfig` (store, timeout, max_attempts, chunk_size, api_key, ...) as in
    `choose_backend`; `concurrency` is the request limit of the whole run.
    """

    backend: BackendChoice = "auto"
    model: str | None = None
    base_url: str | None = None
    llm_options: Mapping[str, Any] = field(default_factory=dict)
    concurrency: int = 8
    chunk_size: int | None = None
    kinds: frozenset[Kind] | None = None
    keep_text: bool = True

    def build(self, concurrency: int | None = None) -> tuple[Extractor, str]:
        """The extractor (with `concurrency` in place of the whole run's limit if given) and the line
        saying which backend it runs."""
        backend, why = choose_backend(
            self.backend, model=self.model, base_url=self.base_url, **self.llm_options
        )
        extractor = Extractor(
            backend,
            concurrency=concurrency or self.concurrency,
            chunk_size=self.chunk_size,
            keep_text=self.keep_text,
            kinds=self.kinds,
        )
        return extractor, why


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
        context = multiprocessing.get_context("spawn")
        self._context = context
        self._inbox: Queue[Article | None] = context.Queue(maxsize=recipe.concurrency)
        self._outbox: Queue[Message] = context.Queue(maxsize=recipe.concurrency)
        self._processes: list[SpawnProcess] = []
        self._feeder: asyncio.Task[None] | None = None
        self._streamed = False
        self._finished = False

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
            process = self._context.Process(
                target=_work,
                args=(self.recipe, share, index, self._inbox, self._outbox),
                name=f"quotes-worker-{index}",
                daemon=True,
            )
            process.start()
            self._processes.append(process)
        try:
            ready = 0
            while ready < len(self._processes):
                kind, index, payload = await self._receive()
                if kind == _FAILED:
                    raise _setup_failure(index, payload)
                ready += 1
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
        self._feeder = asyncio.ensure_future(self._feed(articles))
        ended = 0
        try:
            while ended < len(self._processes):
                kind, index, payload = await self._receive()
                if kind == _DONE:
                    extraction = Extraction.model_validate_json(payload)
                    if on_done is not None:
                        on_done(extraction)
                    yield extraction
                elif kind == _END:
                    ended += 1
                else:
                    raise _run_failure(index, payload)
            await self._feeder
            self._finished = True
        finally:
            self._feeder.cancel()

    async def aclose(self) -> None:
        """Let finished workers exit, stop the others, and release the queues."""
        loop = asyncio.get_running_loop()
        for process in self._processes:
            if not self._finished:
                process.terminate()
            await loop.run_in_executor(None, process.join, JOIN_SECONDS)
            if process.is_alive():
                process.kill()
                await loop.run_in_executor(None, process.join)
        for box in (self._inbox, self._outbox):
            box.cancel_join_thread()  # never wait at exit to flush articles no worker will read
            box.close()

    async def _feed(self, articles: Iterable[Article] | AsyncIterable[Article]) -> None:
        async for article in aiter_articles(articles):
            await self._put(article)
        for _ in self._processes:
            await self._put(None)

    async def _put(self, item: Article | None) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                self._inbox.put_nowait(item)
                return
            except queue.Full:
                pass
            try:
                await loop.run_in_executor(None, self._inbox.put, item, True, POLL_SECONDS)
                return
            except queue.Full:
                continue

    async def _receive(self) -> Message:
        """The next message; between polls, a worker gone without a word or a failed feed is raised."""
        loop = asyncio.get_running_loop()
        while True:
            self._check()
            try:
                message: Message = self._outbox.get_nowait()
                return message
            except queue.Empty:
                pass
            try:
                message = await loop.run_in_executor(None, self._outbox.get, True, POLL_SECONDS)
                return message
            except queue.Empty:
                continue

    def _check(self) -> None:
        feeder = self._feeder
        if (
            feeder is not None
            and feeder.done()
            and not feeder.cancelled()
            and (failure := feeder.exception())
        ):
            raise failure
        for index, process in enumerate(self._processes):
            if process.exitcode not in (None, 0, REPORTED):
                how = (
                    f"was killed by signal {-process.exitcode}"
                    if process.exitcode < 0
                    else f"exited with status {process.exitcode}"
                )
                raise WorkerError(f"worker {index} (pid {process.pid}) {how} before finishing its articles")


def _setup_failure(index: int, payload: tuple[BaseException | None, str]) -> BaseException:
    """The exception a worker met while building its extractor, raised as itself when it pickled."""
    original, remote = payload
    failure = original or WorkerError(f"worker {index} failed to start: {remote.splitlines()[-1]}")
    failure.add_note(f"in worker {index}:\n{remote}")
    return failure


def _run_failure(index: int, payload: tuple[BaseException | None, str]) -> WorkerError:
    original, remote = payload
    failure = WorkerError(f"worker {index} failed: {remote.strip().splitlines()[-1]}")
    failure.add_note(f"worker {index} traceback:\n{remote}")
    failure.__cause__ = original
    return failure


def _work(
    recipe: ExtractorRecipe,
    concurrency: int,
    index: int,
    inbox: Queue[Article | None],
    outbox: Queue[Message],
) -> None:
    """A worker process's body: build, report ready, extract until its `None`, report the end."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    asyncio.run(_awork(recipe, concurrency, index, inbox, outbox))


async def _awork(
    recipe: ExtractorRecipe,
    concurrency: int,
    index: int,
    inbox: Queue[Article | None],
    outbox: Queue[Message],
) -> None:
    loop = asyncio.get_running_loop()

    # Each queue is tried without waiting first: a thread hop per message is CPU this process is short of.
    async def send(message: Message) -> None:
        try:
            outbox.put_nowait(message)
        except queue.Full:
            await loop.run_in_executor(None, _put, outbox, message)

    async def articles() -> AsyncIterator[Article]:
        while True:
            try:
                article = inbox.get_nowait()
            except queue.Empty:
                article = await loop.run_in_executor(None, _get, inbox)
            if article is None:
                return
            yield article

    try:
        extractor, why = recipe.build(concurrency)
        await send((_READY, index, why))
        async with extractor:
            async for extraction in extractor.astream(articles()):
                await send((_DONE, index, extraction.model_dump_json()))
        await send((_END, index, None))
    except Exception as exc:
        _die(outbox, index, exc)


def _die(outbox: Queue[Message], index: int, exc: Exception) -> NoReturn:
    """Report the failure and leave at once: a thread may still be waiting on the inbox, and a normal
    exit would wait for it."""
    remote = "".join(traceback.format_exception(exc))
    outbox.put((_FAILED, index, (_portable(exc), remote)))
    outbox.close()
    outbox.join_thread()
    os._exit(REPORTED)


def _get(inbox: Queue[Article | None]) -> Article | None:
    while True:
        try:
            return inbox.get(timeout=POLL_SECONDS)
        except queue.Empty:
            _exit_if_orphaned()


def _put(outbox: Queue[Message], message: Message) -> None:
    while True:
        try:
            outbox.put(message, timeout=POLL_SECONDS)
            return
        except queue.Full:
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
