"""The `quotes` command: parses, calls the public API, renders, sets the exit code.

Exit codes: 0 every chunk succeeded · 1 finished with chunk errors (partial output written) ·
2 usage or input error (everything that could be computed is still written).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from quotes import render
from quotes.articles import InputProblem, iter_articles
from quotes.backends.llm import PLACEHOLDER_API_KEY
from quotes.batch import (
    PLANNING_CONCURRENCY,
    PRICE_FACTOR,
    BatchError,
    Plan,
    acollect,
    arefresh,
    asubmit,
    awrite,
    collect_files,
)
from quotes.evaluate import SUBSETS, Subset, load_gold, score_all, score_restricted, summary_table
from quotes.pipeline import BackendChoice, ConfigurationError, Extractor
from quotes.progress import RunProgress
from quotes.prompts import list_prompts, locked_hashes
from quotes.runlog import JsonlSink, read_extractions, read_records
from quotes.schema import Article, Claim, Extraction, Kind, Quote, Verdict
from quotes.store import ResponseStore, StoreError, StoreMode, redact
from quotes.verify import averify, read_claims
from quotes.workers import ExtractorRecipe, WorkerError, WorkerPool, freeze_startup_objects

if TYPE_CHECKING:
    import openai

OK, CHUNK_ERRORS, USAGE_ERROR = 0, 1, 2
T = TypeVar("T")

app = typer.Typer(
    help="Who said what about whom in news text: quotes and reported speech, pinned to character offsets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err = Console(stderr=True, highlight=False)


class Format(StrEnum):
    json = "json"
    jsonl = "jsonl"
    csv = "csv"
    table = "table"
    html = "html"
    parquet = "parquet"


class Engine(StrEnum):
    local = "local"
    ray = "ray"


class BackendName(StrEnum):
    auto = "auto"
    llm = "llm"
    rules = "rules"


_CHOICES: dict[BackendName, BackendChoice] = {
    BackendName.auto: "auto",
    BackendName.llm: "llm",
    BackendName.rules: "rules",
}


def _fail(message: str) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(USAGE_ERROR)


def _format_for(fmt: Format | None, output: Path | None) -> Format:
    if fmt is not None:
        return fmt
    if output is not None:
        suffix = output.suffix.lstrip(".").lower()
        if suffix in Format.__members__:
            return Format(suffix)
        return Format.jsonl
    return Format.table if sys.stdout.isatty() else Format.jsonl


def _store(store_dir: Path | None, offline: bool, record: bool) -> ResponseStore:
    if offline and record:
        raise _fail("--offline and --record exclude each other")
    mode = StoreMode.offline if offline else StoreMode.record if record else StoreMode.cache
    return ResponseStore(store_dir, mode=mode)


ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", envvar="QUOTES_MODEL", help="Model name (env QUOTES_MODEL).")
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url", envvar="OPENAI_BASE_URL", help="OpenAI-compatible server (env OPENAI_BASE_URL)."
    ),
]
BackendOpt = Annotated[
    BackendName, typer.Option("--backend", help="auto: the model when one is configured, else offline rules.")
]
StoreOpt = Annotated[
    Path | None,
    typer.Option("--store", envvar="QUOTES_STORE", help="Response store folder (default: the user cache)."),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Replay stored answers only; a missing answer is an error.")
]
RecordOpt = Annotated[
    bool, typer.Option("--record", envvar="QUOTES_RECORD", help="Call the model and (re)record every answer.")
]


def _recipe(
    backend: BackendName,
    model: str | None,
    base_url: str | None,
    store: ResponseStore,
    chunk_size: int | None,
    concurrency: int,
    kinds: frozenset[Kind] | None = None,
    **llm_options: float,
) -> ExtractorRecipe:
    options: dict[str, object] = {"store": store, **llm_options}
    if chunk_size:
        options["chunk_size"] = chunk_size
    return ExtractorRecipe(
        _CHOICES[backend],
        model=model,
        base_url=base_url,
        llm_options=options,
        concurrency=concurrency,
        chunk_size=chunk_size,
        kinds=kinds,
    )


def _extractor(recipe: ExtractorRecipe) -> Extractor:
    try:
        extractor, why = recipe.build()
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    err.print(why, soft_wrap=True)
    return extractor


def _pool(recipe: ExtractorRecipe, workers: int) -> WorkerPool:
    """Worker processes, started (so a configuration error is reported before any input is read)."""
    if workers > recipe.concurrency:
        raise _fail(f"--workers ({workers}) cannot exceed --concurrency ({recipe.concurrency})")
    pool = WorkerPool(recipe, workers)
    try:
        asyncio.run(pool.astart())
    except (ConfigurationError, WorkerError) as exc:
        raise _fail(str(exc)) from None
    err.print(pool.description, soft_wrap=True)
    return pool


_KINDS: dict[str, Kind] = {"direct": "direct", "mixed": "mixed", "indirect": "indirect"}


def _kinds(spec: str | None) -> frozenset[Kind] | None:
    """`direct,mixed` (or `direct+mixed`) → those kinds; None keeps every kind."""
    if spec is None or spec == "all":
        return None
    names = [name.strip() for name in spec.replace("+", ",").split(",") if name.strip()]
    unknown = [name for name in names if name not in _KINDS]
    if unknown or not names:
        raise _fail(f"--kinds takes direct, mixed, indirect (comma-separated) or all, not {spec!r}")
    return frozenset(_KINDS[name] for name in names)


class _Inputs:
    """Articles from the inputs; every problem is reported on stderr as it is met, and counted."""

    def __init__(self, inputs: list[str], progress: RunProgress, skip: set[str]) -> None:
        self.inputs = inputs
        self.progress = progress
        self.skip = skip
        self.failed = False

    def __iter__(self) -> Iterator[Article]:
        for item in iter_articles(self.inputs, stdin=sys.stdin.buffer):
            if isinstance(item, InputProblem):
                self.failed |= item.severity == "error"
                self.progress.input_problem(item)
                style = "red" if item.severity == "error" else "yellow"
                err.print(Text.assemble((f"{item.severity}: ", style), str(item)))
            elif item.id in self.skip:
                self.progress.article_skipped()
            else:
                yield item


@app.command()
def extract(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders of .txt files, .jsonl corpora ({id, text} a line), or - for stdin."
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format", "-f", help="Default: from --output's suffix, else table on a terminal, else jsonl."
        ),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
    backend: BackendOpt = BackendName.auto,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Model requests in flight, across all articles.")
    ] = 8,
    workers: Annotated[
        int,
        typer.Option(
            min=1, help="Processes to extract in, sharing --concurrency (for runs bound by one CPU core)."
        ),
    ] = 1,
    chunk_size: Annotated[int | None, typer.Option(min=500, help="Characters per model request.")] = None,
    kinds: Annotated[
        str | None, typer.Option("--kinds", help="Keep only these kinds, e.g. direct or direct,mixed.")
    ] = None,
    timeout: Annotated[float, typer.Option(min=1, help="Seconds to wait for one model answer.")] = 120,
    max_attempts: Annotated[int, typer.Option(min=1, help="Tries per request (429, 5xx, timeouts).")] = 6,
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip articles already complete in --output (jsonl).")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no summary.")] = False,
    summary_json: Annotated[Path | None, typer.Option(help="Write the run's summary as JSON here.")] = None,
    engine: Annotated[
        Engine,
        typer.Option(help="ray: a Ray Data pipeline over JSONL/Parquet corpora (pip install 'quotes[ray]')."),
    ] = Engine.local,
    ray_address: Annotated[
        str | None, typer.Option(help="With --engine ray: the cluster to join (default: start a local Ray).")
    ] = None,
) -> None:
    """Extract every quotation and reported statement, its speaker, cue, kind and offsets."""
    fmt = _format_for(fmt, output)
    if resume and (output is None or fmt is not Format.jsonl):
        raise _fail("--resume needs --output FILE with --format jsonl")
    store = _store(store_dir, offline, record)
    recipe = _recipe(
        backend,
        model,
        base_url,
        store,
        chunk_size,
        concurrency,
        kinds=_kinds(kinds),
        timeout=timeout,
        max_attempts=max_attempts,
    )
    if fmt is Format.parquet and engine is not Engine.ray:
        raise _fail("--format parquet is written by --engine ray")
    if engine is Engine.ray:
        if workers != 1:
            raise _fail("--workers is for the local engine; with --engine ray, Ray's actors share the work")
        code = _extract_on_ray(inputs, recipe, ray_address, fmt, output, resume, quiet, summary_json)
        raise typer.Exit(code)
    runner = _extractor(recipe) if workers == 1 else _pool(recipe, workers)
    freeze_startup_objects()
    with RunProgress(quiet=quiet) as progress:
        if fmt is Format.jsonl:
            with JsonlSink(output, resume=resume) as sink:
                articles = _Inputs(inputs, progress, skip=sink.done_ids)
                asyncio.run(_run(runner, articles, progress, sink.write))
        else:
            articles = _Inputs(inputs, progress, skip=set())
            extractions: list[Extraction] = []
            asyncio.run(_run(runner, articles, progress, extractions.append))
            _emit(sorted(extractions, key=lambda e: e.id), fmt, output)
        progress.finish(summary_json=summary_json)
    raise typer.Exit(USAGE_ERROR if articles.failed else CHUNK_ERRORS if progress.failed_articles else OK)


def _extract_on_ray(
    inputs: list[str],
    recipe: ExtractorRecipe,
    address: str | None,
    fmt: Format,
    output: Path | None,
    resume: bool,
    quiet: bool,
    summary_json: Path | None,
) -> int:
    """`quotes extract --engine ray`: the corpus through `quotes.ray`'s pipeline, the records written here
    as a local run writes them (JSONL streamed, other formats once done), or as Parquet files by Ray."""
    try:
        from quotes import ray as on_ray
    except ImportError as exc:
        raise _fail(f"--engine ray needs Ray Data ({exc}): pip install 'quotes[ray]'") from None
    if fmt is Format.parquet and output is None:
        raise _fail("--format parquet needs --output DIR (Ray writes one Parquet file per block there)")
    _extractor(recipe)  # a configuration error is reported here, before Ray starts
    on_ray.connect(address)
    with RunProgress(quiet=quiet) as progress:
        try:
            if fmt is Format.parquet:
                assert output is not None
                on_ray.extraction_dataset(inputs, recipe).write_parquet(str(output))
                err.print(f"wrote Parquet files to {output}")
            elif fmt is Format.jsonl:
                with JsonlSink(output, resume=resume) as sink:
                    dataset = on_ray.extraction_dataset(inputs, recipe, skip=sink.done_ids)
                    for extraction in on_ray.iter_extractions(dataset):
                        sink.write(extraction)
                        progress.article_done(extraction)
            else:
                extractions = []
                for extraction in on_ray.iter_extractions(on_ray.extraction_dataset(inputs, recipe)):
                    extractions.append(extraction)
                    progress.article_done(extraction)
                _emit(sorted(extractions, key=lambda e: e.id), fmt, output)
        except on_ray.RayInputError as exc:
            raise _fail(str(exc)) from None
        progress.finish(summary_json=summary_json)
    return CHUNK_ERRORS if progress.failed_articles else OK


async def _run(
    runner: Extractor | WorkerPool,
    articles: _Inputs,
    progress: RunProgress,
    keep: Callable[[Extraction], None],
) -> None:
    """Hand each Extraction on as soon as its article is done, so an interrupted run keeps its work."""
    try:
        async with runner:
            async for extraction in runner.astream(articles):
                keep(extraction)
                progress.article_done(extraction)
    except WorkerError as exc:
        raise _fail(str(exc)) from None


def _emit(extractions: list[Extraction], fmt: Format, output: Path | None) -> None:
    """Formats written once, after every article is done (jsonl streams through JsonlSink instead)."""
    if fmt is Format.table:
        console = Console(file=io.StringIO(), width=160) if output else Console()
        console.print(render.table(extractions))
        if output is not None and isinstance(console.file, io.StringIO):
            output.write_text(console.file.getvalue(), encoding="utf-8")
        return
    renderers = {
        Format.json: render.to_json,
        Format.csv: render.to_csv,
        Format.html: render.to_html,
    }
    text = renderers[fmt](extractions)
    if output is not None:
        output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


@app.command()
def report(
    extractions: Annotated[
        Path, typer.Argument(help="A JSONL file of Extractions (quotes extract --format jsonl).")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "report.html"
    ),
    verdicts: Annotated[
        Path | None,
        typer.Option(help="Verdicts to show as badges: JSONL from `quotes verify --format jsonl`."),
    ] = None,
) -> None:
    """Render a self-contained HTML report from a JSONL run."""
    try:
        records = list(read_extractions(extractions))
        by_article: dict[str, list[Verdict]] = {}
        for verdict in read_records(verdicts, Verdict) if verdicts else []:
            by_article.setdefault(verdict.article_id or "", []).append(verdict)
        page = render.to_html(records, by_article or None)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    output.write_text(page, encoding="utf-8")
    err.print(f"wrote {output} ({len(records)} articles)")


@app.command()
def prompts() -> None:
    """List the versioned prompts, their hashes, and whether each matches the release lock."""
    locked = locked_hashes()
    for prompt in list_prompts():
        lock = locked.get(prompt.ref)
        state = (
            "locked" if lock == prompt.sha256 else "UNRELEASED" if lock is None else "CHANGED since release"
        )
        typer.echo(f"{prompt.ref}\t{prompt.sha256[:16]}\t{state}\t{prompt.description}")


_SUBSET_NAMES: dict[str, Subset] = {
    "direct": "direct",
    "direct,mixed": "direct+mixed",
    "direct+mixed": "direct+mixed",
    "all": "all",
}


@app.command("eval")
def eval_(
    gold: Annotated[
        Path, typer.Argument(help="Gold JSONL: {id, text, quotes[...]} a line (PolNeAR-converted format).")
    ],
    predictions: Annotated[
        Path | None,
        typer.Option(
            "--predictions", "-p", help="Score this JSONL of Extractions instead of running an extractor."
        ),
    ] = None,
    kinds: Annotated[
        str | None, typer.Option("--kinds", help="direct | direct,mixed | all (default: report all three).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
    unrestricted: Annotated[
        bool,
        typer.Option(
            "--unrestricted",
            help="Score every prediction in every subset, not the extractor asked for each subset's kinds.",
        ),
    ] = False,
    backend: BackendOpt = BackendName.auto,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Model requests in flight.")] = 8,
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
) -> None:
    """Score an extractor, or a finished run, against gold: quote P/R/F1 (lenient, strict, soft), e2e F1.

    The metrics are those of shared/eval/README.md. By default each gold subset scores the extractor as
    asked for that subset's kinds (direct quotes only for `direct`, as a speech-only tool is used);
    --unrestricted scores all predictions in every subset, so other kinds' misses count against it too.
    """
    if fmt not in ("table", "json"):
        raise _fail(f"--format must be table or json, not {fmt!r}")
    if kinds is not None and kinds not in _SUBSET_NAMES:
        raise _fail(f"--kinds must be one of {', '.join(_SUBSET_NAMES)}, not {kinds!r}")
    subsets: tuple[Subset, ...] = (_SUBSET_NAMES[kinds],) if kinds else SUBSETS
    try:
        articles = load_gold(gold)
        if predictions is not None:
            predicted = {e.id: e.quotes for e in read_extractions(predictions)}
        else:
            extractor = _extractor(
                _recipe(backend, model, base_url, _store(store_dir, offline, record), None, concurrency)
            )
            predicted = asyncio.run(_predict(extractor, [Article(id=a.id, text=a.text) for a in articles]))
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    scorer = score_all if unrestricted else score_restricted
    reports = scorer(articles, predicted, subsets)
    if fmt == "json":
        typer.echo(json.dumps([r.to_dict() for r in reports], indent=2))
    else:
        how = (
            "every prediction in every subset"
            if unrestricted
            else "the extractor asked for each subset's kinds"
        )
        Console(width=max(140, Console().width)).print(
            summary_table(reports, f"quotes vs {gold.name}: {how}")
        )


async def _predict(extractor: Extractor, articles: list[Article]) -> dict[str, list[Quote]]:
    async with extractor:
        return {e.id: e.quotes async for e in extractor.astream(articles)}


NOT_ALL_SUPPORTED = 1


class VerdictFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"
    csv = "csv"


@app.command("verify")
def verify_claims(
    source: Annotated[str, typer.Argument(help="The article: a text or HTML file, or - for stdin.")],
    speaker: Annotated[str | None, typer.Option("--speaker", "-s", help="Who the claim names.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", "-q", help="The words claimed.")] = None,
    claims_file: Annotated[
        Path | None,
        typer.Option(
            "--claims",
            "-c",
            help="Many claims: .jsonl ({speaker, quote, id?} a line) or .csv (header: speaker, quote, id).",
        ),
    ] = None,
    fmt: Annotated[VerdictFormat, typer.Option("--format", "-f", help="How to print the verdicts.")] = (
        VerdictFormat.table
    ),
    backend: BackendOpt = BackendName.auto,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
) -> None:
    """Did they really say it? Check claims against one article: supported, misattributed, altered, not found.

    Exit 0 when every claim is supported, 1 when any is not, 2 on usage or input errors (a bad claims line
    is reported with its file and line, and the other claims are still checked).
    """
    problems: list[InputProblem] = []
    if claims_file is not None:
        if speaker is not None or quote is not None:
            raise _fail("give --claims FILE, or --speaker with --quote, not both")
        claims, problems = read_claims(claims_file)
    elif speaker is None or quote is None or not speaker.strip() or not quote.strip():
        raise _fail("give --speaker and --quote (both non-empty), or --claims FILE")
    else:
        claims = [Claim(speaker=speaker, quote=quote)]
    items = list(iter_articles([source], stdin=sys.stdin.buffer))
    problems += [item for item in items if isinstance(item, InputProblem)]
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        err.print(Text.assemble((f"{problem.severity}: ", style), str(problem)), soft_wrap=True)
    articles = [item for item in items if isinstance(item, Article)]
    if len(articles) != 1:
        raise _fail(f"{source}: verify checks one article at a time, and this input holds {len(articles)}")
    if not claims:
        raise typer.Exit(USAGE_ERROR)
    extractor = _extractor(_recipe(backend, model, base_url, _store(store_dir, offline, record), None, 8))

    async def run() -> tuple[Extraction, list[Verdict]]:
        async with extractor:
            extraction = await extractor.aextract(articles[0])
            return extraction, await averify(articles[0], claims, extraction=extraction, extractor=extractor)

    try:
        extraction, verdicts = asyncio.run(run())
    except StoreError as exc:
        raise _fail(str(exc)) from None
    for failed in extraction.errors:
        message = (
            f"extraction failed for characters {failed.start}–{failed.end} ({failed.kind}): {failed.message}"
        )
        err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    if fmt is VerdictFormat.table:
        Console().print(render.verdicts_table(verdicts))
    else:
        writers = {
            VerdictFormat.json: render.verdicts_json,
            VerdictFormat.jsonl: render.verdicts_jsonl,
            VerdictFormat.csv: render.verdicts_csv,
        }
        sys.stdout.write(writers[fmt](verdicts))
    if any(problem.severity == "error" for problem in problems):
        raise typer.Exit(USAGE_ERROR)
    raise typer.Exit(OK if all(v.verdict == "supported" for v in verdicts) else NOT_ALL_SUPPORTED)


batch_app = typer.Typer(
    help="Send a corpus's model requests through a Batch API at half the price: the answers fill the "
    "response store, and `quotes extract --offline` then makes the outputs from it.",
    no_args_is_help=True,
)
app.add_typer(batch_app, name="batch")
JobArg = Annotated[str | None, typer.Argument(help="A job id (default: every job of the store).")]


def _batch_recipe(
    model: str | None, base_url: str | None, store_dir: Path | None, chunk_size: int | None
) -> tuple[ExtractorRecipe, Path]:
    store = ResponseStore(store_dir)
    return _recipe(BackendName.llm, model, base_url, store, chunk_size, PLANNING_CONCURRENCY), store.directory


def _run_batch(base_url: str | None, operation: Callable[[openai.AsyncOpenAI], Awaitable[T]]) -> T:
    """A batch operation with a client of the Batch API, its known failures turned into a usage error
    naming what went wrong."""
    import openai

    key = os.environ.get("OPENAI_API_KEY") or PLACEHOLDER_API_KEY

    async def run() -> T:
        # Uploads of up to 200 MB: a generous timeout, and the SDK's own retries for these few calls.
        async with openai.AsyncOpenAI(base_url=base_url, api_key=key, timeout=600) as client:
            return await operation(client)

    try:
        return asyncio.run(run())
    except (BatchError, StoreError, OSError) as exc:
        raise _fail(str(exc)) from None
    except openai.APIError as exc:
        message = redact(str(exc), [os.environ.get("OPENAI_API_KEY")])
        raise _fail(f"the batch server refused: {message}") from None


def _plan_line(plan: Plan) -> str:
    return (
        f"{plan.articles:,} articles: {plan.requests:,} requests to send ({plan.bytes / 1e6:,.1f} MB), "
        f"{plan.already_stored:,} answers already stored, {plan.pending:,} requests already in a batch"
        + (f", {plan.failed_chunks:,} chunks with no valid answer" if plan.failed_chunks else "")
    )


def _cost_line(requests: int, input_tokens: int, output_tokens: int) -> str:
    return (
        f"{requests:,} requests answered: {input_tokens:,} input and {output_tokens:,} output tokens, "
        f"billed at {PRICE_FACTOR:g}× the live price (Batch API)"
    )


@batch_app.command("submit")
def batch_submit(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, .jsonl corpora, or - for stdin.")],
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    store_dir: StoreOpt = None,
    chunk_size: Annotated[int | None, typer.Option(min=500, help="Characters per model request.")] = None,
) -> None:
    """Build every request a live run would send and is not stored yet, and send them as batches.

    Large corpora are split into several batches within the provider's per-file limits (50,000 requests,
    200 MB). Run it again after a collect to send the follow-ups (re-asks of answers that failed
    validation, halves of cut-off chunks); run it again after a kill to finish what was left unsent.
    """
    recipe, directory = _batch_recipe(model, base_url, store_dir, chunk_size)
    with RunProgress(quiet=True) as progress:
        articles = _Inputs(inputs, progress, skip=set())
        jobs, plan = _run_batch(base_url, lambda c: asubmit(articles, recipe, directory, c))
    err.print(_plan_line(plan), soft_wrap=True)
    for job in jobs:
        for part in job.parts:
            typer.echo(f"{job.id}\t{part.name}\t{part.batch_id}\t{part.requests} requests")
    if not jobs:
        err.print("nothing to submit")
    else:
        err.print("follow with `quotes batch status`, then `quotes batch collect` when the batches are done")
    raise typer.Exit(USAGE_ERROR if articles.failed else OK)


@batch_app.command("status")
def batch_status(job: JobArg = None, base_url: BaseUrlOpt = None, store_dir: StoreOpt = None) -> None:
    """Each batch's progress as the server reports it, and what collected parts cost."""
    directory = ResponseStore(store_dir).directory
    chosen = _run_batch(base_url, lambda c: arefresh(directory, c, job))
    if not chosen:
        err.print(f"no batch jobs in {directory}")
    for one in chosen:
        typer.echo(f"job {one.id} ({one.kind}, model {one.model}, {one.requests:,} requests)")
        for part in one.parts:
            typer.echo(
                f"  {part.name}\t{part.batch_id or '-'}\t{part.batch_status or part.state}\t"
                f"{part.answered:,} answered, {part.failed:,} failed of {part.requests:,}"
                + ("\tcollected" if part.state == "collected" else "")
            )
        parts = [p for p in one.parts if p.state == "collected"]
        if parts:
            answered = sum(p.answered for p in parts)
            tokens = sum(p.input_tokens for p in parts), sum(p.output_tokens for p in parts)
            typer.echo("  " + _cost_line(answered, *tokens))


@batch_app.command("collect")
def batch_collect(
    job: JobArg = None,
    files: Annotated[
        list[Path] | None,
        typer.Option("--file", help="A batch output file from a self-hosted runner, instead of the API."),
    ] = None,
    input_files: Annotated[
        list[Path] | None,
        typer.Option("--input", help="With --file: the batch input file(s) (default: those `write` made)."),
    ] = None,
    base_url: BaseUrlOpt = None,
    store_dir: StoreOpt = None,
) -> None:
    """Put the answers of finished batches into the response store (safe to run again at any time).

    Exit 0 when every request is answered, 1 when some failed, expired or are still running (the next
    `quotes batch submit` asks the failed and expired ones again), 2 on errors.
    """
    directory = ResponseStore(store_dir).directory
    if files:
        try:
            got = collect_files(directory, files, input_files)
        except BatchError as exc:
            raise _fail(str(exc)) from None
    else:
        _, got = _run_batch(base_url, lambda c: acollect(directory, c, job))
    err.print(_cost_line(got.answered, got.input_tokens, got.output_tokens), soft_wrap=True)
    for reason, count in sorted(got.failures.items(), key=lambda item: -item[1]):
        err.print(Text.assemble(("failed: ", "yellow"), f"{count:,} × {reason}"), soft_wrap=True)
    if got.failed:
        err.print("`quotes batch submit` again sends these (or `quotes extract` without --offline, live)")
    if got.running:
        err.print(f"still running: {', '.join(got.running)}")
    raise typer.Exit(CHUNK_ERRORS if got.failed or got.running else OK)


@batch_app.command("write")
def batch_write(
    inputs: Annotated[list[str], typer.Argument(help="Files, folders, .jsonl corpora, or - for stdin.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The batch input file to write.")],
    model: ModelOpt = None,
    store_dir: StoreOpt = None,
    chunk_size: Annotated[int | None, typer.Option(min=500, help="Characters per model request.")] = None,
) -> None:
    """Write the requests not yet stored to a batch input file, for a self-hosted batch runner
    (vLLM: `python -m vllm.entrypoints.openai.run_batch -i FILE -o OUT --model M`), then collect its
    output with `quotes batch collect --file OUT`."""
    recipe, directory = _batch_recipe(model, None, store_dir, chunk_size)
    with RunProgress(quiet=True) as progress:
        articles = _Inputs(inputs, progress, skip=set())
        try:
            plan = asyncio.run(awrite(articles, recipe, directory, output))
        except (BatchError, StoreError, OSError) as exc:
            raise _fail(str(exc)) from None
    err.print(_plan_line(plan), soft_wrap=True)
    err.print(f"wrote {output}")
    raise typer.Exit(USAGE_ERROR if articles.failed else OK)
