"""Whether a model configuration works, step by step: what `quotes check` reports.

The steps are those a run takes, in its order, through the same backend and pipeline: the preflight a run
makes before its first request (key, server, model), then one tiny extraction sent live (never from the
response store), which also learns the structured-output mode the server takes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Literal

from quotes.backends import SetupError
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.pipeline import Extractor
from quotes.schema import Article, Extraction
from quotes.store import ResponseStore, StoreMode

# One sentence a model that can do the task at all gets right.
CHECK_TEXT = "“The ferry will run again in May,” harbour master Ana Ruiz said on Tuesday."
CHECK_QUOTE = "“The ferry will run again in May,”"

Status = Literal["ok", "warning", "failed"]


@dataclass(frozen=True)
class Step:
    name: str
    status: Status
    detail: str


@dataclass
class CheckReport:
    server: str
    model: str
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.status != "failed" for step in self.steps)


async def acheck(config: LLMConfig) -> CheckReport:
    """Run every step against the server `config` names; a failed step ends the check."""
    report = CheckReport(config.where, config.model)
    store = config.store
    live = ResponseStore(store.directory, StoreMode.record) if store is not None else None
    backend = LLMBackend(replace(config, store=live))
    try:
        try:
            preflight = await backend.preflight()
        except SetupError as exc:
            report.steps.append(Step("server", "failed", str(exc)))
            return report
        if preflight.models is None:
            listed = "reachable (it lists no models)"
        else:
            listed = f"reachable, lists {len(preflight.models)} model(s)"
        report.steps.append(Step("server", "ok", f"{listed}; the key was accepted"))
        how = "accepted by a one-token request" if preflight.probed else "listed by the server"
        report.steps.append(Step("model", "ok", f"{config.model}: {how}"))
        async with Extractor(backend, concurrency=1) as extractor:
            started = time.monotonic()
            extraction = await extractor.aextract(Article(id="check", text=CHECK_TEXT))
            seconds = time.monotonic() - started
        report.steps.append(Step("structured output", "ok", backend.structured_output.value))
        report.steps.append(_round_trip(extraction, seconds))
    except SetupError as exc:
        report.steps.append(Step("extraction", "failed", str(exc)))
    finally:
        await backend.aclose()
    return report


def _round_trip(extraction: Extraction, seconds: float) -> Step:
    usage = extraction.usage
    cost = (
        f"{seconds:.1f}s, {usage.requests} request(s), {usage.input_tokens:,} tokens in / "
        f"{usage.output_tokens:,} out"
    )
    if extraction.errors:
        reasons = "; ".join(f"{e.kind}: {e.message}" for e in extraction.errors)
        return Step("extraction", "failed", f"{cost}; {reasons}")
    found = [q.text for q in extraction.quotes]
    if CHECK_QUOTE not in found:
        warned = (
            f"; {len(extraction.warnings)} warning(s): {extraction.warnings[0]}"
            if extraction.warnings
            else ""
        )
        return Step(
            "extraction",
            "warning",
            f"{cost}; the model answered, but missed the one quotation of a one-sentence test "
            f"(found {len(found)} statement(s){warned}): it may be too weak for this task",
        )
    speaker = next(q.speaker.name for q in extraction.quotes if q.text == CHECK_QUOTE)
    return Step("extraction", "ok", f"{cost}; found the test quotation, said by {speaker}")
