"""The `quotes` command: parses, calls the public API, renders, sets the exit code.

Exit codes: 0 every chunk succeeded · 1 finished with chunk errors (partial output written) ·
2 usage or input error (everything that could be computed is still written).
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import ipaddress
import json
import os
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator, Mapping
from enum import StrEnum
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from quotes import render
from quotes.archive import CANDIDATES, Archive, ArchiveError
from quotes.articles import InputProblem, holds_one_article, iter_articles
from quotes.backends import ConfigurationError, ServerUnavailable
from quotes.backends.llm import PLACEHOLDER_API_KEY, LLMConfig
from quotes.backends.servers import StructuredOutput
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
from quotes.check import acheck
from quotes.evaluate import SUBSETS, Subset, load_gold, score_all, score_restricted, summary_table
from quotes.pipeline import HOW_TO_CONFIGURE, BackendChoice, Extractor
from quotes.progress import RERUN_HINT, RESUME_HINT, RunProgress, usage_line
from quotes.prompts import list_prompts, locked_hashes
from quotes.runlog import JsonlSink, read_extractions, read_records
from quotes.schema import Article, Claim, Extraction, Kind, Quote, Verdict
from quotes.store import ResponseStore, StoreError, StoreMode, redact
from quotes.verify import Judge, averify, read_claims
from quotes.workers import ExtractorRecipe, WorkerError, WorkerPool, freeze_startup_objects

if TYPE_CHECKING:
    import openai

OK, CHUNK_ERRORS, USAGE_ERROR = 0, 1, 2
T = TypeVar("T")

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Soft-wrapped: a message is one line in a log file or CI log, however long; a terminal wraps it itself.
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"quotes {version('quotes')}")
        raise typer.Exit(OK)


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version of quotes and exit."
        ),
    ] = False,
) -> None:
    """Who said what about whom in news text: quotes and reported speech, pinned to character offsets."""


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


class StructuredOutputChoice(StrEnum):
    auto = "auto"
    json_schema = "json_schema"
    json_object_schema = "json_object_schema"
    json_object = "json_object"


def _model_options(
    timeout: float,
    max_attempts: int,
    structured_output: StructuredOutputChoice,
    max_output_tokens: int | None,
) -> dict[str, object]:
    """The model options every command that calls a model takes, as LLMConfig fields."""
    options: dict[str, object] = {"timeout": timeout, "max_attempts": max_attempts}
    if structured_output is not StructuredOutputChoice.auto:
        options["structured_output"] = StructuredOutput(structured_output.value)
    if max_output_tokens is not None:
        options["max_output_tokens"] = max_output_tokens
    return options


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


def _writable(path: Path, what: str) -> Path:
    """`path`, with its parent folders created: checked before any work, so no result is lost at the end."""
    if path.is_dir():
        raise _fail(f"{what} {path} is a folder; give a file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _fail(f"{what} {path}: cannot create its folder ({exc.strerror or exc})") from None
    if not os.access(path.parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise _fail(f"{what} {path}: not writable")
    return path


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
ChunkSizeOpt = Annotated[int | None, typer.Option(min=500, help="Characters per model request.")]
TimeoutOpt = Annotated[
    float,
    typer.Option(
        min=1, help="Seconds to wait for one model answer (a timeout is asked once more, then split)."
    ),
]
MaxAttemptsOpt = Annotated[int, typer.Option(min=1, help="Tries per request (429, 5xx, connection errors).")]
StructuredOutputOpt = Annotated[
    StructuredOutputChoice,
    typer.Option(
        "--structured-output",
        help="How the answer schema reaches the server; auto learns it from the server (and remembers it).",
    ),
]
MaxOutputTokensOpt = Annotated[
    int | None,
    typer.Option(min=16, help="Bound on one answer's tokens (default: sized to the chunk)."),
]


def _recipe(
    backend: BackendName,
    model: str | None,
    base_url: str | None,
    store: ResponseStore,
    chunk_size: int | None,
    concurrency: int,
    kinds: frozenset[Kind] | None = None,
    lang: str | None = None,
    llm_options: Mapping[str, object] | None = None,
) -> ExtractorRecipe:
    options: dict[str, object] = {"store": store, **(llm_options or {})}
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
        lang=lang,
    )


def _lang(lang: str | None) -> str | None:
    if lang is not None and not re.fullmatch(r"[a-z]{2}", lang):
        raise _fail(f"--lang {lang!r}: give a two-letter ISO 639-1 code such as en, fr or zh")
    return lang


def _extractor(recipe: ExtractorRecipe, quiet: bool = False) -> Extractor:
    try:
        extractor, why = recipe.build()
    except ConfigurationError as exc:
        raise _fail(str(exc)) from None
    if not quiet:
        err.print(why)
    return extractor


def _pool(recipe: ExtractorRecipe, workers: int, quiet: bool = False) -> WorkerPool:
    """Worker processes, started (so a configuration error is reported before any input is read)."""
    if workers > recipe.concurrency:
        raise _fail(f"--workers ({workers}) cannot exceed --concurrency ({recipe.concurrency})")
    pool = WorkerPool(recipe, workers)
    try:
        asyncio.run(pool.astart())
    except (ConfigurationError, WorkerError) as exc:
        raise _fail(str(exc)) from None
    if not quiet:
        err.print(pool.description)
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
    """Articles from the inputs; every problem is reported on stderr as it is met, and counted.

    `one_article` tells whether the inputs are one article by their kind (a single file, or stdin
    holding text rather than JSONL), whatever they turn out to hold: it decides the shape of `--format json`.
    """

    def __init__(self, inputs: list[str], progress: RunProgress, skip: set[str]) -> None:
        self.inputs = inputs
        self.progress = progress
        self.skip = skip
        self.failed = False
        self.one_article = len(inputs) == 1 and (inputs[0] == "-" or holds_one_article(inputs[0]))

    def __iter__(self) -> Iterator[Article]:
        for item in iter_articles(self.inputs, stdin=sys.stdin.buffer):
            if self.inputs == ["-"] and item.source != "stdin":
                self.one_article = False  # stdin held a JSONL corpus: its lines are sourced stdin:N
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
            help=(
                "Text or HTML files; folders (their .txt, .md, .html and .htm files, recursively); "
                ".jsonl corpora ({id, text} a line, other fields ignored); or - for stdin (text, or JSONL)."
            )
        ),
    ],
    fmt: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help=(
                "Default: from --output's suffix, else table on a terminal, else jsonl. json is one object "
                "for one file or stdin text, and a list for folders, corpora or several inputs."
            ),
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
    chunk_size: ChunkSizeOpt = None,
    kinds: Annotated[
        str | None, typer.Option("--kinds", help="Keep only these kinds, e.g. direct or direct,mixed.")
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            help="The articles' language (ISO 639-1, e.g. fr) for the rules backend; default: detected.",
        ),
    ] = None,
    timeout: TimeoutOpt = 120,
    max_attempts: MaxAttemptsOpt = 6,
    structured_output: StructuredOutputOpt = StructuredOutputChoice.auto,
    max_output_tokens: MaxOutputTokensOpt = None,
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Skip articles already complete in --output (jsonl).")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option("--quiet", "-q", help="No backend line, progress bar or summary; errors still print."),
    ] = False,
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
    if output is not None:
        _writable(output, "--output")
    if summary_json is not None:
        _writable(summary_json, "--summary-json")
    store = _store(store_dir, offline, record)
    recipe = _recipe(
        backend,
        model,
        base_url,
        store,
        chunk_size,
        concurrency,
        kinds=_kinds(kinds),
        lang=_lang(lang),
        llm_options=_model_options(timeout, max_attempts, structured_output, max_output_tokens),
    )
    if fmt is Format.parquet and engine is not Engine.ray:
        raise _fail("--format parquet is written by --engine ray")
    if engine is Engine.ray:
        if workers != 1:
            raise _fail("--workers is for the local engine; with --engine ray, Ray's actors share the work")
        code = _extract_on_ray(inputs, recipe, ray_address, fmt, output, resume, quiet, summary_json)
        raise typer.Exit(code)
    runner = _extractor(recipe, quiet) if workers == 1 else _pool(recipe, workers, quiet)
    freeze_startup_objects()
    resumable = output is not None and fmt is Format.jsonl
    # JSONL lines streaming to the terminal would be torn by the redraws; they show the progress anyway.
    live = not (fmt is Format.jsonl and output is None and sys.stdout.isatty())
    hint = RESUME_HINT if resumable else RERUN_HINT
    with RunProgress(quiet=quiet, retry_hint=hint, live=live) as progress:
        if fmt is Format.jsonl:
            with JsonlSink(output, resume=resume) as sink:
                articles = _Inputs(inputs, progress, skip=sink.done_ids)
                asyncio.run(_run(runner, articles, progress, sink.write))
        else:
            articles = _Inputs(inputs, progress, skip=set())
            extractions: list[Extraction] = []
            asyncio.run(_run(runner, articles, progress, extractions.append))
            progress.stop_display()
            _emit(sorted(extractions, key=lambda e: e.id), fmt, output, one_article=articles.one_article)
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
                _emit(sorted(extractions, key=lambda e: e.id), fmt, output, one_article=False)
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
    """Hand each Extraction on as soon as its article is done, so an interrupted run keeps its work.

    A server that cannot be used (ConfigurationError, before any request) ends the run with exit 2; one
    that stops answering ends it after the articles in flight, which are kept with their errors."""
    try:
        async with runner:
            async for extraction in runner.astream(articles):
                keep(extraction)
                progress.article_done(extraction)
    except (WorkerError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None
    except ServerUnavailable as exc:
        err.print(Text.assemble(("error: ", "bold red"), exc.message), soft_wrap=True)


def _emit(extractions: list[Extraction], fmt: Format, output: Path | None, *, one_article: bool) -> None:
    """Formats written once, after every article is done (jsonl streams through JsonlSink instead).

    `--format json` is one object for an input that is one article and a list for every other input (a
    folder, a corpus, several inputs), whatever the count; one article that could not be read writes nothing.
    """
    if fmt is Format.table:
        if output is None:
            Console().print(render.table(extractions))
            return
        buffer = io.StringIO()
        Console(file=buffer, width=160).print(render.table(extractions))
        text = buffer.getvalue()
    elif fmt is Format.json:
        if one_article and not extractions:
            return
        text = render.to_json(extractions[0] if one_article else extractions)
    else:
        text = render.to_csv(extractions) if fmt is Format.csv else render.to_html(extractions)
    if output is None:
        sys.stdout.write(text)
    else:
        _write(output, text)


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise _fail(f"cannot write {path}: {exc.strerror or exc}") from None


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
    _writable(output, "--output")
    try:
        records = list(read_extractions(extractions))
        by_article: dict[str, list[Verdict]] = {}
        for verdict in read_records(verdicts, Verdict) if verdicts else []:
            by_article.setdefault(verdict.article_id or "", []).append(verdict)
        page = render.to_html(records, by_article or None)
    except (OSError, ValueError) as exc:
        raise _fail(str(exc)) from None
    _write(output, page)
    err.print(f"wrote {output} ({render.plural(len(records), 'article')})")


@app.command()
def check(
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    timeout: TimeoutOpt = 120,
    structured_output: StructuredOutputOpt = StructuredOutputChoice.auto,
    max_output_tokens: MaxOutputTokensOpt = None,
    store_dir: StoreOpt = None,
) -> None:
    """Whether the model configuration works, step by step.

    The server reachable, the key accepted, the model known, the structured-output mode it takes, and
    one tiny extraction's latency and tokens.

    Exit 0 when every step works (a weak answer is a warning), 1 when a step fails, 2 when no model is set.
    """
    options = _model_options(timeout, 1, structured_output, max_output_tokens)
    config = LLMConfig.from_env(model, base_url, None, store=ResponseStore(store_dir), **options)
    if config is None:
        raise _fail(f"no model configured: {HOW_TO_CONFIGURE}")
    err.print(f"checking model {config.model} at {config.where}", soft_wrap=True)
    report = asyncio.run(acheck(config))
    marks = {"ok": ("✓", "green"), "warning": ("!", "yellow"), "failed": ("✗", "bold red")}
    for step in report.steps:
        mark, style = marks[step.status]
        Console(soft_wrap=True).print(Text.assemble((f"{mark} {step.name}: ", style), step.detail))
    raise typer.Exit(OK if report.ok else CHUNK_ERRORS)


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
        Path,
        typer.Argument(
            help="Gold JSONL: {id, text, quotes: [{text, start, end, kind, speaker, ...}]} a line (README: "
            "'Gold for quotes eval')."
        ),
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

    The gold format and the metrics are described in the README ("Gold for quotes eval"). By default each
    gold subset scores the extractor as asked for that subset's kinds (direct quotes only for `direct`, as a
    speech-only tool is used); --unrestricted scores all predictions in every subset, so other kinds'
    misses count against it too.
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
    source: Annotated[
        str | None,
        typer.Argument(help="The article: a text or HTML file, or - for stdin (not with --archive)."),
    ] = None,
    speaker: Annotated[str | None, typer.Option("--speaker", "-s", help="Who the claim names.")] = None,
    quote: Annotated[str | None, typer.Option("--quote", help="The words claimed.")] = None,
    claims_file: Annotated[
        Path | None,
        typer.Option(
            "--claims",
            "-c",
            help="Many claims: .jsonl ({speaker, quote, id?} a line) or .csv (header: speaker, quote, id).",
        ),
    ] = None,
    archive_db: Annotated[
        Path | None,
        typer.Option(
            "--archive", help="Check the claims against a whole quote archive (`quotes archive add`)."
        ),
    ] = None,
    candidates: Annotated[
        int,
        typer.Option(min=1, help="With --archive: articles holding a claim's words judged, earliest first."),
    ] = CANDIDATES,
    fmt: Annotated[VerdictFormat, typer.Option("--format", "-f", help="How to print the verdicts.")] = (
        VerdictFormat.table
    ),
    backend: BackendOpt = BackendName.auto,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: Annotated[int, typer.Option(min=1, help="Model requests in flight.")] = 8,
    chunk_size: ChunkSizeOpt = None,
    timeout: TimeoutOpt = 120,
    max_attempts: MaxAttemptsOpt = 6,
    structured_output: StructuredOutputOpt = StructuredOutputChoice.auto,
    max_output_tokens: MaxOutputTokensOpt = None,
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
    summary_json: Annotated[
        Path | None, typer.Option(help="Write the verdict counts and the model usage as JSON here.")
    ] = None,
) -> None:
    """Did they really say it? Check claims against one article, or a whole archive.

    Against one article, or with --archive against every article in a quote archive (where, and first
    when): supported, misattributed, unattributed, altered, not found, or could not check, each with its
    evidence and a confidence.

    Exit 0 when every claim is supported, 1 when any is not, 2 on usage or input errors (a bad claims line
    is reported with its file and line, and the other claims are still checked).
    """
    if (source is None) == (archive_db is None):
        raise _fail("give the article SOURCE, or --archive FILE, (one of them)")
    problems: list[InputProblem] = []
    if claims_file is not None:
        if speaker is not None or quote is not None:
            raise _fail("give --claims FILE, or --speaker with --quote, not both")
        claims, problems = read_claims(claims_file)
    elif speaker is None or quote is None or not speaker.strip() or not quote.strip():
        raise _fail("give --speaker and --quote (both non-empty), or --claims FILE")
    else:
        claims = [Claim(speaker=speaker, quote=quote)]
    options = _model_options(timeout, max_attempts, structured_output, max_output_tokens)
    store = _store(store_dir, offline, record)
    recipe = _recipe(backend, model, base_url, store, chunk_size, concurrency, llm_options=options)
    if archive_db is not None:
        _report_problems(problems)
        archive = _open_archive(archive_db)
        if not claims:
            raise typer.Exit(USAGE_ERROR)
        with archive:
            verdicts = _verify_in_archive(archive, claims, _extractor(recipe), candidates)
        _write_verdicts(verdicts, fmt, across=True)
        _exit_for(verdicts, problems)
    assert source is not None
    items = list(iter_articles([source], stdin=sys.stdin.buffer))
    problems += [item for item in items if isinstance(item, InputProblem)]
    _report_problems(problems)
    articles = [item for item in items if isinstance(item, Article)]
    if not articles:
        raise typer.Exit(USAGE_ERROR)  # why is in the input problems printed above
    if len(articles) > 1:
        raise _fail(f"{source}: verify checks one article at a time, and this input holds {len(articles)}")
    if not claims:
        raise typer.Exit(USAGE_ERROR)
    extractor = _extractor(recipe)
    judge = Judge.for_extractor(extractor)

    async def run() -> tuple[Extraction, list[Verdict]]:
        async with extractor:
            try:
                extraction = await extractor.aextract(articles[0])
                verdicts = await averify(
                    articles[0], claims, extraction=extraction, extractor=extractor, judge=judge
                )
            finally:
                if judge is not None:
                    await judge.aclose()
            return extraction, verdicts

    try:
        extraction, verdicts = asyncio.run(run())
    except (StoreError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None
    usage = extraction.usage.model_copy()
    if judge is not None:
        usage.add(judge.usage)
        err.print(f"model usage: {usage_line(usage)}", soft_wrap=True)
    if summary_json is not None:
        counts = Counter(v.verdict for v in verdicts)
        summary = {"claims": len(verdicts), "verdicts": dict(counts), "usage": usage.model_dump()}
        summary_json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    for failed in extraction.errors:
        message = (
            f"extraction failed for characters {failed.start}–{failed.end} ({failed.kind}): {failed.message}"
        )
        err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
    _write_verdicts(verdicts, fmt, across=False)
    _exit_for(verdicts, problems)


def _report_problems(problems: list[InputProblem]) -> None:
    for problem in problems:
        style = "red" if problem.severity == "error" else "yellow"
        err.print(Text.assemble((f"{problem.severity}: ", style), str(problem)), soft_wrap=True)


def _verify_in_archive(
    archive: Archive, claims: list[Claim], extractor: Extractor, candidates: int
) -> list[Verdict]:
    """The claims judged against the archive; by the configured model when there is one."""

    async def run() -> list[Verdict]:
        async with extractor:
            judge = Judge.for_extractor(extractor)
            try:
                return await archive.averify(claims, judge=judge, candidates=candidates)
            finally:
                if judge is not None:
                    await judge.aclose()

    try:
        return asyncio.run(run())
    except (StoreError, ArchiveError, ConfigurationError) as exc:
        raise _fail(str(exc)) from None


def _write_verdicts(verdicts: list[Verdict], fmt: VerdictFormat, *, across: bool) -> None:
    if fmt is VerdictFormat.table:
        table = render.archive_verdicts_table if across else render.verdicts_table
        Console().print(table(verdicts))
        return
    writers = {
        VerdictFormat.json: render.verdicts_json,
        VerdictFormat.jsonl: render.verdicts_jsonl,
        VerdictFormat.csv: render.verdicts_csv,
    }
    sys.stdout.write(writers[fmt](verdicts))


def _exit_for(verdicts: list[Verdict], problems: list[InputProblem]) -> NoReturn:
    if any(problem.severity == "error" for problem in problems):
        raise typer.Exit(USAGE_ERROR)
    raise typer.Exit(OK if all(v.verdict == "supported" for v in verdicts) else NOT_ALL_SUPPORTED)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@app.command("serve")
def serve_(
    archive: Annotated[
        Path | None,
        typer.Option("--archive", help="A quote archive (quotes archive add) to search and check."),
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on; other than loopback needs --token.")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8000,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="QUOTES_SERVE_TOKEN",
            help="Required of every request (env QUOTES_SERVE_TOKEN); never logged or shown.",
            show_default=False,
        ),
    ] = None,
    backend: BackendOpt = BackendName.auto,
    model: ModelOpt = None,
    base_url: BaseUrlOpt = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Model requests in flight, across every user of the server.")
    ] = 8,
    chunk_size: ChunkSizeOpt = None,
    timeout: TimeoutOpt = 120,
    max_attempts: MaxAttemptsOpt = 6,
    structured_output: StructuredOutputOpt = StructuredOutputChoice.auto,
    max_output_tokens: MaxOutputTokensOpt = None,
    max_request_bytes: Annotated[
        int, typer.Option(min=1000, help="Largest request body, uploads included (413 above).")
    ] = 2_000_000,
    max_chars: Annotated[int, typer.Option(min=100, help="Longest article, in characters (413 above).")] = (
        200_000
    ),
    store_dir: StoreOpt = None,
    offline: OfflineOpt = False,
    record: RecordOpt = False,
    openapi: Annotated[
        Path | None, typer.Option("--openapi", help="Write the HTTP API's OpenAPI schema here and exit.")
    ] = None,
) -> None:
    """A web page for fact-checkers and an HTTP API: check claims, read articles, search the archive."""
    try:
        import uvicorn

        from quotes.serve import Limits, Service, create_app
    except ImportError as exc:
        raise _fail(
            f"quotes serve needs the serve extra ({exc.name} is missing): pip install 'quotes[serve]'"
        ) from None
    if not _loopback(host) and not token:
        raise _fail(
            f"--host {host} can be reached from other machines: give --token or set QUOTES_SERVE_TOKEN"
        )
    recipe = _recipe(
        backend,
        model,
        base_url,
        _store(store_dir, offline, record),
        chunk_size,
        concurrency,
        llm_options=_model_options(timeout, max_attempts, structured_output, max_output_tokens),
    )
    extractor = _extractor(recipe)
    opened = None
    if archive is not None:
        try:
            opened = Archive(archive, create=False)
        except ArchiveError as exc:
            raise _fail(str(exc)) from None
    limits = Limits(max_request_bytes=max_request_bytes, max_article_chars=max_chars)
    backend_line = extractor.backend.provenance.model or extractor.backend.provenance.backend
    service = Service(extractor, backend_line=f"backend {backend_line}", archive=opened, limits=limits)
    web = create_app(service, token=token or None, loopback_only=_loopback(host))
    if openapi is not None:
        openapi.write_text(json.dumps(web.openapi(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        err.print(f"wrote {openapi}")
        return
    where = f"http://{host}:{port}/"
    err.print(
        f"serving on {where}" + (" (every request needs the token)" if token else "") + " · Ctrl+C stops",
        soft_wrap=True,
    )
    uvicorn.run(web, host=host.strip("[]"), port=port, log_level="info", server_header=False)


# --- the quote archive ---------------------------------------------------------------------------------

archive_app = typer.Typer(
    help="A quote archive: runs of `quotes extract` in one SQLite file, for `quotes search` and "
    "`quotes verify --archive`.",
    no_args_is_help=True,
)
app.add_typer(archive_app, name="archive")

DbOpt = Annotated[
    Path, typer.Option("--db", envvar="QUOTES_ARCHIVE", help="The archive file (env QUOTES_ARCHIVE).")
]
DEFAULT_DB = Path("quotes.db")


def _open_archive(db: Path, *, create: bool = False) -> Archive:
    try:
        return Archive(db, create=create)
    except ArchiveError as exc:
        raise _fail(str(exc)) from None


@archive_app.command("add")
def archive_add(
    runs: Annotated[
        list[Path], typer.Argument(help="JSONL runs of `quotes extract` (one Extraction a line).")
    ],
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Add runs to the archive (created when missing). Extractions already in it are skipped; the same
    articles extracted again with another prompt version, model or backend are kept beside the old.

    Exit 0 when every line was added or already there, 2 when a file or a line could not be read (each
    is reported with its file and line; every other line is still added).
    """
    failed = False
    with _open_archive(db, create=True) as archive:
        for run in runs:
            try:
                report = archive.add_run(run)
            except OSError as exc:
                message = f"{run}: cannot read: {exc.strerror or exc}"
                err.print(Text.assemble(("error: ", "red"), message), soft_wrap=True)
                failed = True
                continue
            except ArchiveError as exc:
                raise _fail(str(exc)) from None
            _report_problems(report.problems)
            failed |= bool(report.problems)
            bad = f", {len(report.problems)} not added" if report.problems else ""
            err.print(f"{run}: {report.added} added, {report.skipped} already in {db}{bad}", soft_wrap=True)
    raise typer.Exit(USAGE_ERROR if failed else OK)


@archive_app.command("stats")
def archive_stats(
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="As one JSON object.")] = False,
) -> None:
    """What the archive holds: articles, statements, dates, and the provenance of its extractions."""
    with _open_archive(db) as archive:
        stats = archive.stats()
    if as_json:
        typer.echo(json.dumps(dataclasses.asdict(stats), default=str, indent=2))
        return
    dates = f"{stats.first_date} to {stats.last_date}" if stats.first_date else "no dates"
    typer.echo(
        f"{stats.path}: {stats.articles} articles, {stats.statements} statements ({dates}); "
        f"{stats.extractions} extractions of {stats.texts} texts; {stats.bytes / 2**20:.1f} MB"
    )
    for p in stats.provenances:
        typer.echo(f"  {p.extractions}\t{p.backend}\t{p.model or '-'}\t{p.prompt or '-'}")


class SearchFormat(StrEnum):
    table = "table"
    json = "json"
    jsonl = "jsonl"


@app.command("search")
def search(
    words: Annotated[
        str, typer.Argument(help='Words every hit holds; "a phrase" in quotes, word* for a prefix.')
    ] = "",
    speaker: Annotated[str | None, typer.Option("--speaker", "-s", help="Said by (name words).")] = None,
    about: Annotated[str | None, typer.Option("--about", "-a", help="About (name words).")] = None,
    since: Annotated[str | None, typer.Option(help="From this day on (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this day (YYYY-MM-DD).")] = None,
    limit: Annotated[int, typer.Option("--limit", "-n", min=1, help="Hits to show.")] = 20,
    fmt: Annotated[
        SearchFormat | None,
        typer.Option("--format", "-f", help="Default: table on a terminal, else jsonl."),
    ] = None,
    db: DbOpt = DEFAULT_DB,
) -> None:
    """Search the archive's statements: ranked hits with their article, offsets, words and speaker.

    Exit 0 with hits, 1 with none, 2 on usage errors.
    """
    if not (words.strip() or speaker or about or since or until):
        raise _fail("give words to search for, or --speaker, --about, --since or --until")
    with _open_archive(db) as archive:
        try:
            hits = archive.search(words, speaker=speaker, about=about, since=since, until=until, limit=limit)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    fmt = fmt or (SearchFormat.table if sys.stdout.isatty() else SearchFormat.jsonl)
    if fmt is SearchFormat.table:
        Console().print(render.hits_table(hits))
    else:
        sys.stdout.write((render.hits_json if fmt is SearchFormat.json else render.hits_jsonl)(hits))
    raise typer.Exit(OK if hits else NOT_ALL_SUPPORTED)


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
