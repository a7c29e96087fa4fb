"""The live progress display of a run and its end-of-run summary, both on stderr.

The live display only appears on a terminal (stdout may carry the JSONL output, and a log file should
not fill with redraws), and leaves no trace when it stops: the summary takes its place. `live=False`
keeps it off (a caller streaming output to the same terminal); `quiet=True` silences the display and
the summary alike. The counts are kept
either way, so `summary()` and `--summary-json` work in every mode.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from pydantic import BaseModel
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from quotes.articles import InputProblem
from quotes.render import plural
from quotes.schema import Extraction, Usage

# What retries a run's failed chunks. A plain rerun does: answers already received come from the response
# store, so only the failed requests are sent again. `--resume` does less work but needs a JSONL --output.
RERUN_HINT = "rerun the same command to retry them: answers already received come from the response store"
RESUME_HINT = "rerun the same command with --resume to retry just those articles"


class RunSummary(BaseModel):
    """What a run did, in numbers. `skipped` counts articles a resumed run found already done."""

    articles: int = 0
    articles_with_errors: int = 0
    quotes: int = 0
    chunk_errors: int = 0
    input_problems: int = 0
    skipped: int = 0
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_requests: int = 0
    failed_requests: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0
    wall_seconds: float = 0.0

    @property
    def usage(self) -> Usage:
        return Usage.model_validate(self.model_dump(include=set(Usage.model_fields)))

    def to_json(self) -> str:
        return self.model_dump_json(indent=2)

    def render(self, retry_hint: str = RERUN_HINT) -> str:
        """A few lines for people, e.g. at the end of a run; `retry_hint` says how to retry failed chunks."""
        rate = self.articles / self.wall_seconds if self.wall_seconds > 0 else 0.0
        lines = [
            f"articles   {self.articles:,} in {self.wall_seconds:.1f}s ({rate:.1f}/s)"
            + (f", {self.skipped:,} already done" if self.skipped else ""),
            f"quotes     {self.quotes:,}",
            f"requests   {usage_line(self.usage)}",
        ]
        if self.chunk_errors:
            where = f"{plural(self.chunk_errors, 'chunk')} in {plural(self.articles_with_errors, 'article')}"
            lines.append(f"FAILED     {where} (their quotes are missing; {retry_hint})")
        if self.input_problems:
            lines.append(f"inputs     {plural(self.input_problems, 'problem')} (see the messages above)")
        return "\n".join(lines)


def usage_line(usage: Usage) -> str:
    """What the model side cost, in one line: requests answered, from cache and failed; tokens."""
    failed = f", {usage.failed_requests:,} failed" if usage.failed_requests else ""
    cached_in = (
        f" ({usage.cached_input_tokens:,} from the provider's cache)" if usage.cached_input_tokens else ""
    )
    reasoning = f" ({usage.reasoning_tokens:,} reasoning)" if usage.reasoning_tokens else ""
    return (
        f"{usage.requests + usage.cached_requests:,} ({usage.cached_requests:,} from cache{failed}), "
        f"tokens {usage.input_tokens:,} in{cached_in} / {usage.output_tokens:,} out{reasoning}"
    )


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        rate = task.completed / elapsed if elapsed > 0 else 0.0
        return Text(f"{rate:.1f}/s", style="progress.data.speed")


class RunProgress:
    """Counts a run's articles and, on a terminal, shows them live; prints the summary on exit.

    `total` is the number of articles when known (None for streams). Call `article_done` for every
    finished Extraction, `article_skipped` for each one a resumed run skips, and `input_problem` for
    each InputProblem. `retry_hint` is the summary's advice on retrying failed chunks (RERUN_HINT or
    RESUME_HINT). The default console is stderr, soft-wrapped: a log file gets each line whole.
    """

    def __init__(
        self,
        total: int | None = None,
        *,
        quiet: bool = False,
        console: Console | None = None,
        retry_hint: str = RERUN_HINT,
        live: bool = True,
    ) -> None:
        self.console = console or Console(stderr=True, soft_wrap=True)
        self.quiet = quiet
        self.retry_hint = retry_hint
        self.enabled = live and not quiet and self.console.is_terminal
        self._summary = RunSummary()
        self._started: float | None = None
        self._finished: float | None = None
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        self._total = total

    def __enter__(self) -> Self:
        self._started = time.monotonic()
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                MofNCompleteColumn(),
                BarColumn(),
                TextColumn("{task.fields[counts]}"),
                TimeElapsedColumn(),
                _RateColumn(),
                console=self.console,
                refresh_per_second=4,
                transient=True,
            )
            self._task = self._progress.add_task("articles", total=self._total, counts=self._counts())
            self._progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.finish()

    def finish(self, *, summary_json: str | os.PathLike[str] | None = None) -> RunSummary:
        """End the run: stop the display, print the summary (unless quiet), write it as JSON if asked.

        Leaving the `with` block calls this too; only the first call counts.
        """
        if self._finished is None:
            self._finished = time.monotonic()
            self.stop_display()
            summary = self.summary()
            if summary_json is not None:
                Path(summary_json).write_text(summary.to_json() + "\n", encoding="utf-8")
            if not self.quiet:
                self.console.print(summary.render(self.retry_hint), highlight=False, markup=False)
        return self.summary()

    def stop_display(self) -> None:
        """Take the live display off the terminal (for good), e.g. before printing a table under it."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    @property
    def failed_articles(self) -> int:
        return self._summary.articles_with_errors

    def set_total(self, total: int | None) -> None:
        self._total = total
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, total=total)

    def article_done(self, extraction: Extraction) -> None:
        s = self._summary
        s.articles += 1
        s.quotes += len(extraction.quotes)
        s.chunk_errors += len(extraction.errors)
        s.articles_with_errors += not extraction.ok
        for name in Usage.model_fields:
            setattr(s, name, getattr(s, name) + getattr(extraction.usage, name))
        self._advance()

    def article_skipped(self) -> None:
        self._summary.skipped += 1
        self._advance()

    def input_problem(self, problem: InputProblem) -> None:
        """Count a problem with the inputs (errors only: warnings such as "extracted from HTML" are not)."""
        if problem.severity == "error":
            self._summary.input_problems += 1

    def summary(self) -> RunSummary:
        """The counts so far; wall time runs from entering until leaving (or now, while running)."""
        end = self._finished if self._finished is not None else time.monotonic()
        start = self._started if self._started is not None else end
        return self._summary.model_copy(update={"wall_seconds": round(end - start, 3)})

    def _advance(self) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, advance=1, counts=self._counts())

    def _counts(self) -> str:
        s = self._summary
        failed = plural(s.chunk_errors, "failed chunk")
        failed = f"[red]{failed}[/red]" if s.chunk_errors else failed
        return (
            f"{plural(s.quotes, 'quote')} · {failed} · tokens {s.input_tokens:,}/{s.output_tokens:,}"
            f" · {s.cached_requests:,} cached"
        )
