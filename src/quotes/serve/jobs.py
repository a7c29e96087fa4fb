"""Long work behind a page: each form submission runs as a job the page polls, so a slow model never
holds a request open and the page shows what it is doing while it waits.

Jobs live in memory (the newest `keep` of them), under ids too long to guess: a result's URL can be
shared with a colleague on the same server, and nobody else finds it.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("quotes.serve")

DEFAULT_KEEP = 100
DEFAULT_MAX_RUNNING = 32


class Busy(Exception):
    """As many jobs are running as the server takes; the message says so."""


@dataclass
class Job:
    """One piece of long work: what it is doing now (`stage`), then its `result` or its `error`."""

    id: str
    kind: str
    title: str
    stage: str
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None
    result: Any = None
    error: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def done(self) -> bool:
        return self.finished is not None

    @property
    def seconds(self) -> float:
        return (self.finished or time.monotonic()) - self.started


class Jobs:
    """The server's jobs: at most `max_running` at once (each holds its article), and the newest `keep`
    finished ones; older ones are forgotten."""

    def __init__(self, keep: int = DEFAULT_KEEP, max_running: int = DEFAULT_MAX_RUNNING) -> None:
        self.keep = keep
        self.max_running = max_running
        self._jobs: OrderedDict[str, Job] = OrderedDict()

    def start(self, kind: str, title: str, stage: str, work: Callable[[Job], Awaitable[Any]]) -> Job:
        """Run `work` as a new job; Busy when `max_running` jobs are still running."""
        running = sum(not job.done for job in self._jobs.values())
        if running >= self.max_running:
            raise Busy(f"the server is busy with {running} other articles and claims; try again in a moment")
        job = Job(id=secrets.token_urlsafe(16), kind=kind, title=title, stage=stage)

        async def run() -> None:
            try:
                job.result = await work(job)
            except asyncio.CancelledError:
                job.error = "the server stopped before this finished"
                raise
            except Exception as exc:
                # What failed is shown on the page; the traceback stays in the server's log.
                log.exception("job %s (%s) failed", job.id, kind)
                job.error = _describe(exc)
            finally:
                job.finished = time.monotonic()

        job.task = asyncio.get_running_loop().create_task(run())
        self._jobs[job.id] = job
        self._forget()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    async def wait(self, job: Job, seconds: float) -> None:
        """Wait for the job up to `seconds`, so quick work answers at once instead of after a poll."""
        if job.task is not None and not job.done:
            await asyncio.wait({job.task}, timeout=seconds)

    async def aclose(self) -> None:
        running = [job.task for job in self._jobs.values() if job.task is not None and not job.done]
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    def _forget(self) -> None:
        finished = [job_id for job_id, job in self._jobs.items() if job.done]
        for job_id in finished[: max(0, len(self._jobs) - self.keep)]:
            del self._jobs[job_id]


def _describe(exc: Exception) -> str:
    message = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {message}" if message else name
