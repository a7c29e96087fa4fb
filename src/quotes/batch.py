"""Batch API runs: the requests of a corpus sent through an OpenAI-compatible Batch API (half the price,
limits counted per day), their answers put into the response store.

A batch only fills the store; `quotes extract --offline` then makes the outputs from it, through the
same code as any replay. The requests are found by running the pipeline itself over the corpus against
the store in offline mode and noting each request it would send: every body in a batch file is the one a
live run sends (built by the backend, the chunks cut by `Extractor.chunks`) and its `custom_id` is that
body's store key. Run after a collect, the same planning finds the next round's requests: the re-ask of
an answer that failed validation (its conversation carries the stored answer and the validation error)
and the halves of a chunk whose answer was cut off. These go out as a follow-up batch rather than live
requests, as they are few and the run was sent by batch to save on price and rate limits; a plain
`quotes extract` (the store in cache mode) would send them live instead.

    job = await asubmit(articles, recipe, store_dir, client)   # plan, write, upload, create
    await astatus(store_dir, client)                             # progress of every part
    await acollect(store_dir, client)                            # download, check, store

A job lives in `<store>/batches/<job id>/`: `job.json` (its state, rewritten atomically after every
step) and one `part-NNNN.jsonl` input file per batch with its keys in `part-NNNN.keys`. Every step is
recorded before the next begins, so a submit or collect killed anywhere and run again sends no request
twice and loses no answer: a part whose upload or batch creation was under way when the run stopped is
looked for among the server's files and batches (by file name, by input file) before it is sent again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import shutil
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Final, Literal

from pydantic import BaseModel, Field

from quotes.schema import Article
from quotes.store import KeyedRequest, ResponseStore, StoreMiss, StoreMode, write_atomically

if TYPE_CHECKING:
    import openai

    from quotes.workers import ExtractorRecipe

ENDPOINT: Final = "/v1/chat/completions"
COMPLETION_WINDOW: Final = "24h"
# OpenAI's limits for one batch input file; other providers' are the same or larger.
MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
# What a batched request costs relative to the same request sent live.
PRICE_FACTOR = 0.5
JOBS_FOLDER = "batches"
# A batch in one of these states will change no more: its output and error files are final.
TERMINAL = frozenset({"completed", "expired", "cancelled", "failed"})
# The pipeline's requests in flight while planning: none is sent, a miss costs only its body's hash.
PLANNING_CONCURRENCY = 64

PartState = Literal["written", "uploading", "uploaded", "creating", "submitted", "collected"]


class BatchError(Exception):
    """A batch file, job or server answer that cannot be used; the message names it."""


class Part(BaseModel):
    """One batch input file and what became of it."""

    name: str
    requests: int
    bytes: int
    state: PartState = "written"
    file_id: str | None = None
    batch_id: str | None = None
    batch_status: str | None = None
    answered: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    failures: dict[str, int] = Field(default_factory=dict)


class Job(BaseModel):
    """A `quotes batch submit` (kind "api") or `quotes batch write` (kind "file")."""

    id: str
    kind: Literal["api", "file"]
    created_at: str
    model: str
    base_url: str | None = None
    parts: list[Part] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)  # kind "file": the batch files written

    @property
    def requests(self) -> int:
        return sum(p.requests for p in self.parts)


@dataclasses.dataclass
class Plan:
    """What planning found: articles read, requests to send, and what needs none."""

    articles: int = 0
    requests: int = 0
    bytes: int = 0
    already_stored: int = 0  # chunk answers served from the store
    pending: int = 0  # requests already in a batch not yet collected
    failed_chunks: int = 0  # chunks whose stored answers end in an error (no valid answer, refusal)


@dataclasses.dataclass
class Collected:
    """What a collect put into the store, and what is left to ask."""

    answered: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    failures: dict[str, int] = dataclasses.field(default_factory=dict)
    running: list[str] = dataclasses.field(default_factory=list)  # batch ids not finished yet

    def add_failure(self, reason: str) -> None:
        self.failed += 1
        self.failures[reason] = self.failures.get(reason, 0) + 1


class Jobs:
    """The jobs kept next to a response store, in `<store>/batches/`."""

    def __init__(self, store_dir: Path) -> None:
        self.root = store_dir / JOBS_FOLDER

    def all(self) -> list[Job]:
        if not self.root.is_dir():
            return []
        return [self.load(p.name) for p in sorted(self.root.iterdir()) if (p / "job.json").is_file()]

    def load(self, job_id: str) -> Job:
        path = self.root / job_id / "job.json"
        try:
            return Job.model_validate_json(path.read_bytes())
        except FileNotFoundError:
            known = ", ".join(j.id for j in self.all()) or "none"
            raise BatchError(f"no batch job {job_id!r} in {self.root} (jobs there: {known})") from None
        except ValueError as exc:
            raise BatchError(f"{path}: not a batch job's state ({exc})") from exc

    def new(self, kind: Literal["api", "file"], model: str, base_url: str | None) -> Job:
        now = datetime.now(UTC)
        job_id = f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(3)}"
        (self.root / job_id).mkdir(parents=True)
        return Job(
            id=job_id, kind=kind, created_at=now.isoformat(timespec="seconds"), model=model, base_url=base_url
        )

    def folder(self, job: Job) -> Path:
        return self.root / job.id

    def save(self, job: Job) -> None:
        write_atomically(self.folder(job) / "job.json", job.model_dump_json(indent=2).encode())

    def pending_keys(self) -> set[str]:
        """Keys of requests in batches sent or about to be sent, whose answers are not collected yet."""
        keys: set[str] = set()
        for job in self.all():
            for part in job.parts:
                if job.kind == "api" and part.state != "collected":
                    keys.update(_read_keys(self.folder(job) / f"{part.name}.keys"))
        return keys


class _PlanningStore(ResponseStore):
    """The store in offline mode that hands each request it misses to `on_miss` before raising."""

    def __init__(self, directory: Path, on_miss: Callable[[KeyedRequest], None]) -> None:
        super().__init__(directory, StoreMode.offline)
        self._on_miss = on_miss

    def lookup(self, request: Mapping[str, Any] | KeyedRequest) -> dict[str, Any] | None:
        keyed = self.keyed(request)
        try:
            return super().lookup(keyed)
        except StoreMiss:
            self._on_miss(keyed)
            raise


class BatchWriter:
    """Batch input lines written to numbered files, each within the request and byte limits.

    A file is written under a temporary name and renamed when full; `on_file` is called with each
    finished Part (the `.keys` list beside it) so the caller can record it before the next begins.
    """

    def __init__(
        self,
        folder: Path,
        *,
        on_file: Callable[[Part], None],
        skip: set[str] | None = None,
        max_requests: int = MAX_REQUESTS_PER_FILE,
        max_bytes: int = MAX_BYTES_PER_FILE,
        name: Callable[[int], str] = lambda n: f"part-{n:04d}",
    ) -> None:
        self.folder = folder
        self.on_file = on_file
        self.skip = skip if skip is not None else set()
        self.max_requests = max_requests
        self.max_bytes = max_bytes
        self.name = name
        self.seen: set[str] = set()
        self.pending = 0
        self.requests = 0
        self.bytes = 0
        self._number = 0
        self._handle: IO[bytes] | None = None
        self._keys: list[str] = []
        self._size = 0

    def add(self, keyed: KeyedRequest) -> None:
        key = keyed.key
        if key in self.seen:  # the same chunk twice in a corpus: one request
            return
        self.seen.add(key)
        if key in self.skip:
            self.pending += 1
            return
        body = json.dumps(keyed.body, ensure_ascii=False, separators=(",", ":"))
        line = f'{{"custom_id":"{key}","method":"POST","url":"{ENDPOINT}","body":{body}}}\n'.encode()
        if len(line) > self.max_bytes:
            raise BatchError(
                f"one request is {len(line):,} bytes, over the batch file limit of {self.max_bytes:,}"
            )
        if self._handle is not None and (
            len(self._keys) >= self.max_requests or self._size + len(line) > self.max_bytes
        ):
            self._close()
        if self._handle is None:
            self._number += 1
            self._handle = (self.folder / f"{self.name(self._number)}.jsonl.tmp").open("wb")
        self._handle.write(line)
        self._keys.append(key)
        self._size += len(line)
        self.requests += 1
        self.bytes += len(line)

    def close(self) -> None:
        if self._handle is not None:
            self._close()

    def _close(self) -> None:
        assert self._handle is not None
        name = self.name(self._number)
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        self._handle = None
        write_atomically(self.folder / f"{name}.keys", "".join(k + "\n" for k in self._keys).encode())
        os.replace(self.folder / f"{name}.jsonl.tmp", self.folder / f"{name}.jsonl")
        part = Part(name=name, requests=len(self._keys), bytes=self._size)
        self._keys, self._size = [], 0
        self.on_file(part)


async def aplan(
    articles: Iterable[Article] | AsyncIterable[Article],
    recipe: ExtractorRecipe,
    store_dir: Path,
    writer: BatchWriter,
) -> Plan:
    """Run the pipeline over `articles` against the store, writing every request it would send."""
    planner = _PlanningStore(store_dir, writer.add)
    options = {**recipe.llm_options, "store": planner}
    extractor, _ = dataclasses.replace(recipe, backend="llm", llm_options=options).build(PLANNING_CONCURRENCY)
    plan = Plan()
    async with extractor:
        async for extraction in extractor.astream(articles):
            plan.articles += 1
            plan.already_stored += extraction.usage.cached_requests
            plan.failed_chunks += sum(e.kind != "not_recorded" for e in extraction.errors)
    writer.close()
    plan.requests, plan.bytes, plan.pending = writer.requests, writer.bytes, writer.pending
    return plan


async def awrite(
    articles: Iterable[Article] | AsyncIterable[Article],
    recipe: ExtractorRecipe,
    store_dir: Path,
    output: Path,
) -> Plan:
    """Write the requests `articles` still need into one batch input file at `output`, for a
    self-hosted batch runner (vLLM's `run-batch`); the job remembers the file for `collect --file`."""
    jobs = Jobs(store_dir)
    job = jobs.new("file", _model(recipe), recipe.base_url)
    written: list[Part] = []
    writer = BatchWriter(jobs.folder(job), on_file=written.append, max_requests=2**62, max_bytes=2**62)
    plan = await aplan(articles, recipe, store_dir, writer)
    if not written:  # nothing to ask: an empty file, so a runner given it has nothing to do
        _remove_job(jobs, job)
        output.write_bytes(b"")
        return plan
    shutil.move(jobs.folder(job) / f"{written[0].name}.jsonl", output)
    job.parts, job.files = written, [str(output.resolve())]
    jobs.save(job)
    return plan


def _model(recipe: ExtractorRecipe) -> str:
    model = recipe.model or os.environ.get("QUOTES_MODEL")
    if not model:
        raise BatchError("no model configured: set QUOTES_MODEL or --model")
    return model


async def asubmit(
    articles: Iterable[Article] | AsyncIterable[Article],
    recipe: ExtractorRecipe,
    store_dir: Path,
    client: openai.AsyncOpenAI,
    *,
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> tuple[list[Job], Plan]:
    """Send what earlier submits left unsent, then plan, write and send the requests `articles` need
    that are neither stored nor in a batch already. Returns the jobs sent to (resumed first) and the plan.
    """
    jobs = Jobs(store_dir)
    resumed = [job for job in jobs.all() if job.kind == "api" and any(_unsent(p) for p in job.parts)]
    for job in resumed:
        await _send(jobs, job, client)
    job = jobs.new("api", _model(recipe), recipe.base_url)

    def record(part: Part) -> None:
        job.parts.append(part)
        jobs.save(job)

    writer = BatchWriter(
        jobs.folder(job),
        on_file=record,
        skip=jobs.pending_keys(),
        max_requests=max_requests,
        max_bytes=max_bytes,
    )
    jobs.save(job)
    try:
        plan = await aplan(articles, recipe, store_dir, writer)
    finally:
        if not job.parts:  # nothing written (nothing to ask, or planning failed): no job to keep
            _remove_job(jobs, job)
    if not job.parts:
        return resumed, plan
    await _send(jobs, job, client)
    return [*resumed, job], plan


def _unsent(part: Part) -> bool:
    return part.state in ("written", "uploading", "uploaded", "creating")


async def _send(jobs: Jobs, job: Job, client: openai.AsyncOpenAI) -> None:
    """Upload each unsent part and create its batch, recording every step before the next."""
    folder = jobs.folder(job)
    for tmp in folder.glob("*.tmp"):  # a file being written when an earlier run stopped
        tmp.unlink()
    for part in job.parts:
        filename = f"quotes-{job.id}-{part.name}.jsonl"
        if part.state in ("written", "uploading"):
            found = await _uploaded(client, filename) if part.state == "uploading" else None
            if found is None:
                part.state = "uploading"
                jobs.save(job)
                with (folder / f"{part.name}.jsonl").open("rb") as handle:
                    uploaded = await client.files.create(file=(filename, handle), purpose="batch")
                found = uploaded.id
            part.file_id, part.state = found, "uploaded"
            jobs.save(job)
        if part.state in ("uploaded", "creating"):
            assert part.file_id is not None
            batch_id = await _batch_for(client, part.file_id) if part.state == "creating" else None
            if batch_id is None:
                part.state = "creating"
                jobs.save(job)
                batch = await client.batches.create(
                    input_file_id=part.file_id,
                    endpoint=ENDPOINT,
                    completion_window=COMPLETION_WINDOW,
                    metadata={"quotes_job": job.id, "quotes_part": part.name},
                )
                batch_id, part.batch_status = batch.id, batch.status
            part.batch_id, part.state = batch_id, "submitted"
            jobs.save(job)


async def _uploaded(client: openai.AsyncOpenAI, filename: str) -> str | None:
    """The id of a file already uploaded under `filename` (by a run stopped before it recorded it)."""
    async for file in client.files.list(purpose="batch"):
        if file.filename == filename:
            return file.id
    return None


async def _batch_for(client: openai.AsyncOpenAI, file_id: str) -> str | None:
    """The id of a batch already made from `file_id` (by a run stopped before it recorded it)."""
    async for batch in client.batches.list():
        if batch.input_file_id == file_id:
            return batch.id
    return None


def _remove_job(jobs: Jobs, job: Job) -> None:
    folder = jobs.folder(job)
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


async def arefresh(store_dir: Path, client: openai.AsyncOpenAI, job_id: str | None = None) -> list[Job]:
    """Each submitted part's batch status and request counts, as the server has them now."""
    jobs = Jobs(store_dir)
    chosen = [jobs.load(job_id)] if job_id else [j for j in jobs.all() if j.kind == "api"]
    for job in chosen:
        for part in job.parts:
            if part.state == "submitted" and part.batch_id:
                batch = await client.batches.retrieve(part.batch_id)
                part.batch_status = batch.status
                if batch.request_counts is not None:
                    part.answered = batch.request_counts.completed
                    part.failed = batch.request_counts.failed
        jobs.save(job)
    return chosen


async def acollect(
    store_dir: Path, client: openai.AsyncOpenAI, job_id: str | None = None
) -> tuple[list[Job], Collected]:
    """Download the output and error files of every finished batch and put each answer into the store.

    A part is marked collected only once all its answers are stored, so a collect stopped halfway is
    simply run again. Requests that failed or expired are counted by reason; the next submit asks them
    again.
    """
    jobs = Jobs(store_dir)
    chosen = [jobs.load(job_id)] if job_id else [j for j in jobs.all() if j.kind == "api"]
    store = ResponseStore(store_dir, StoreMode.cache)
    total = Collected()
    for job in chosen:
        folder = jobs.folder(job)
        for part in job.parts:
            if part.state != "submitted" or part.batch_id is None:
                continue
            batch = await client.batches.retrieve(part.batch_id)
            part.batch_status = batch.status
            if batch.status not in TERMINAL:
                total.running.append(batch.id)
                jobs.save(job)
                continue
            outputs = []
            for kind, file_id in (("output", batch.output_file_id), ("errors", batch.error_file_id)):
                if file_id:
                    path = folder / f"{part.name}.{kind}.jsonl"
                    if not path.exists():
                        await _download(client, file_id, path)
                    outputs.append(path)
            got = ingest(store, outputs, [folder / f"{part.name}.jsonl"])
            unanswered = part.requests - got.answered - got.failed
            if unanswered > 0:  # a failed batch writes no lines for the requests it never ran
                reason = f"batch {batch.status}" + (f": {_batch_errors(batch)}" if batch.errors else "")
                for _ in range(unanswered):
                    got.add_failure(reason)
            part.answered, part.failed, part.failures = got.answered, got.failed, got.failures
            part.input_tokens, part.output_tokens = got.input_tokens, got.output_tokens
            part.state = "collected"
            jobs.save(job)
            _merge(total, got)
    return chosen, total


def _batch_errors(batch: Any) -> str:
    return "; ".join(str(e.message) for e in (batch.errors.data or []))[:300]


def _merge(total: Collected, got: Collected) -> None:
    total.answered += got.answered
    total.failed += got.failed
    total.input_tokens += got.input_tokens
    total.output_tokens += got.output_tokens
    for reason, count in got.failures.items():
        total.failures[reason] = total.failures.get(reason, 0) + count


async def _download(client: openai.AsyncOpenAI, file_id: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    async with client.files.with_streaming_response.content(file_id) as response:
        with tmp.open("wb") as handle:
            async for block in response.iter_bytes():
                handle.write(block)
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def ingest(store: ResponseStore, outputs: Iterable[Path], inputs: Iterable[Path]) -> Collected:
    """Put the answers in batch output files into `store`, each under the request its `custom_id` keys.

    The requests are read from the batch input files `inputs` (the store files each answer with its
    request); a line whose body does not hash to its custom_id is an error. The output files are indexed
    by offset rather than held in memory, so a 200 MB pair is read in bounded memory.
    """
    got = Collected()
    answers: dict[str, tuple[Path, int]] = {}
    for path in outputs:
        for offset, line in _lines(path):
            item = _parse_line(path, line)
            custom_id = item.get("custom_id")
            if not isinstance(custom_id, str):
                raise BatchError(f"{path}: a line without a custom_id at byte {offset}")
            reason = _failure(item)
            if reason is None:
                answers[custom_id] = (path, offset)
            elif custom_id not in answers:
                got.add_failure(reason)
    found: set[str] = set()
    for path in inputs:
        for _, line in _lines(path):
            request = _parse_line(path, line)
            custom_id = request.get("custom_id")
            if custom_id not in answers or custom_id in found:
                continue
            keyed = store.keyed(request.get("body") or {})
            if keyed.key != custom_id:
                raise BatchError(
                    f"{path}: the body of request {custom_id} hashes to {keyed.key}: not a request this "
                    "store keys by that id (written by another version of quotes?)"
                )
            out_path, offset = answers[custom_id]
            response = _read_line_at(out_path, offset)["response"]["body"]
            store.save(keyed, response)
            found.add(custom_id)
            usage = response.get("usage") or {}
            got.answered += 1
            got.input_tokens += int(usage.get("prompt_tokens") or 0)
            got.output_tokens += int(usage.get("completion_tokens") or 0)
    missing = len(answers) - len(found)
    if missing:
        names = ", ".join(str(p) for p in inputs)
        raise BatchError(f"{missing} answer(s) have no request in {names}: give the batch input file(s)")
    return got


def _failure(item: Mapping[str, Any]) -> str | None:
    """Why a batch output line holds no answer, or None when it holds one."""
    error = item.get("error")
    if error:
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else str(error)
        return str(code or message or "error")
    response = item.get("response")
    if not isinstance(response, dict):
        return "no response"
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        detail = body.get("error", {}).get("message") if isinstance(body, dict) else None
        return f"HTTP {status}" + (f": {detail}" if detail else "")
    if not isinstance(body, dict) or not body.get("choices"):
        return "not a chat completion"
    return None


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    try:
        with path.open("rb") as handle:
            offset = 0
            for line in handle:
                if line.strip():
                    yield offset, line
                offset += len(line)
    except OSError as exc:
        raise BatchError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def _parse_line(path: Path, line: bytes) -> dict[str, Any]:
    try:
        item = json.loads(line)
    except ValueError as exc:
        raise BatchError(f"{path}: not a batch JSONL line ({exc}): {line[:80]!r}") from exc
    if not isinstance(item, dict):
        raise BatchError(f"{path}: not a batch JSONL line (not an object): {line[:80]!r}")
    return item


def _read_line_at(path: Path, offset: int) -> dict[str, Any]:
    with path.open("rb") as handle:
        handle.seek(offset)
        return _parse_line(path, handle.readline())


def collect_files(store_dir: Path, outputs: list[Path], inputs: list[Path] | None = None) -> Collected:
    """`quotes batch collect --file`: answers from a self-hosted runner's output files into the store,
    the requests read from `inputs` or else from the files `quotes batch write` recorded."""
    if not inputs:
        inputs = [Path(f) for job in Jobs(store_dir).all() if job.kind == "file" for f in job.files]
        inputs = [p for p in inputs if p.exists()]
        if not inputs:
            raise BatchError(
                f"no batch input file recorded in {store_dir / JOBS_FOLDER}: give it with --input"
            )
    return ingest(ResponseStore(store_dir, StoreMode.cache), outputs, inputs)


def _read_keys(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="ascii").split()
    except FileNotFoundError:
        return []
