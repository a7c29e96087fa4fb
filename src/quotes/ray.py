"""Extraction as a Ray Data pipeline, for corpora past one machine's CPU (`pip install 'quotes[ray]'`).

    read_json / read_parquet of the corpus ({id, text} a row)
      → map_batches(ExtractActor): each actor holds one `Extractor` (its client, request limit and
        response store) for every batch it is given
      → Extraction records: written by Ray as Parquet (`write_parquet`, one file per block, from the
        workers), or streamed to the driver (`iter_batches`) to be written as one JSONL file as a local
        run writes it.

Ray streams: blocks are read, extracted and written as they go, with backpressure, so a corpus larger
than the memory (or the object store) of the machines runs in bounded memory. An actor that dies is
restarted and its batch run again (Ray Data's default for actor pools); a batch's records reach the
output only when its task is done, so nothing is lost or written twice.

    ds = extraction_dataset(["corpus.jsonl"], ExtractorRecipe("rules"))
    ds.write_parquet("out/")

The records are those of a local run of the same articles, but for `source`: Ray's readers do not
number lines, so it is the file's path rather than `path:line`. Every row needs an `id`.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

import pyarrow as pa
import ray
import ray.data
from pydantic import BaseModel

from quotes.schema import Article, Extraction
from quotes.workers import ExtractorRecipe, freeze_startup_objects

# Articles per batch: enough to keep an actor's request limit busy across a batch's stragglers.
BATCH_SIZE = 64
_JSON_SUFFIXES = (".jsonl", ".json", ".ndjson")


class RayInputError(ValueError):
    """A corpus the Ray engine cannot read; the message names it."""


def arrow_type(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> pa.DataType:
    """The Arrow type for a node of a pydantic JSON schema (objects, arrays, scalars, nullables)."""
    if "$ref" in schema:
        return arrow_type(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
    if "anyOf" in schema:
        [kind] = [s for s in schema["anyOf"] if s.get("type") != "null"]
        return arrow_type(kind, defs)
    kind = schema.get("type", "string")  # an enum of strings (a Literal) has no type of its own here
    if kind == "object":
        return pa.struct([(n, arrow_type(s, defs)) for n, s in schema["properties"].items()])
    if kind == "array":
        items = schema.get("items") or schema["prefixItems"][0]  # a tuple's items share a type here
        return pa.list_(arrow_type(items, defs))
    scalars = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
    return scalars[kind]


def arrow_schema(model: type[BaseModel]) -> pa.Schema:
    """A record's Arrow schema, fixed from the model so every block (and Parquet file) has the same one."""
    schema = model.model_json_schema(mode="serialization")
    struct = arrow_type(schema, schema.get("$defs", {}))
    return pa.schema(list(struct))


EXTRACTION_SCHEMA = arrow_schema(Extraction)


def to_table(extractions: Sequence[Extraction]) -> pa.Table:
    return pa.Table.from_pylist([e.model_dump(mode="json") for e in extractions], schema=EXTRACTION_SCHEMA)


def from_table(table: pa.Table) -> Iterator[Extraction]:
    for row in table.to_pylist():
        yield Extraction.model_validate(row)


class ExtractActor:
    """A Ray actor holding one `Extractor` and one event loop for every batch it is given."""

    def __init__(self, recipe: ExtractorRecipe) -> None:
        self._extractor, _ = recipe.build()
        self._loop = asyncio.new_event_loop()
        freeze_startup_objects()

    def __call__(self, batch: pa.Table) -> pa.Table:
        ids, texts = batch.column("id").to_pylist(), batch.column("text").to_pylist()
        paths = batch.column("path").to_pylist() if "path" in batch.column_names else [None] * len(ids)
        articles = []
        for article_id, text, path in zip(ids, texts, paths, strict=True):
            if article_id is None or text is None:
                raise RayInputError(f"{path or 'corpus'}: a row without an id or a text: {article_id!r}")
            articles.append(Article(id=str(article_id), text=text, source=path))
        return to_table(self._loop.run_until_complete(self._extract(articles)))

    async def _extract(self, articles: list[Article]) -> list[Extraction]:
        done = {e.id: e async for e in self._extractor.astream(articles)}
        return [done[a.id] for a in articles]  # the batch's own order


def read_corpus(paths: Sequence[str]) -> ray.data.Dataset:
    """The corpus files (or folders of them) as one dataset of id, text and path."""
    json_paths = [p for p in paths if p.lower().endswith(_JSON_SUFFIXES) or _holds(p, _JSON_SUFFIXES)]
    parquet_paths = [p for p in paths if p.lower().endswith(".parquet") or _holds(p, (".parquet",))]
    unread = [p for p in paths if p not in json_paths and p not in parquet_paths]
    if unread:
        raise RayInputError(
            f"{unread[0]}: --engine ray reads JSONL or Parquet corpora ({{id, text}} a row) or their folders"
        )
    # Reading asks for no CPU of its own: the actors hold every CPU, and a read waiting for one of them
    # would stall the pipeline (reading is I/O and parsing, small beside extraction).
    datasets = []
    if json_paths:
        datasets.append(ray.data.read_json(json_paths, lines=True, include_paths=True, num_cpus=0))
    if parquet_paths:
        datasets.append(ray.data.read_parquet(parquet_paths, include_paths=True, num_cpus=0))
    return datasets[0] if len(datasets) == 1 else datasets[0].union(*datasets[1:])


def _holds(path: str, suffixes: tuple[str, ...]) -> bool:
    return os.path.isdir(path) and any(name.lower().endswith(suffixes) for name in os.listdir(path))


def extraction_dataset(
    paths: Sequence[str],
    recipe: ExtractorRecipe,
    *,
    actors: int | None = None,
    batch_size: int = BATCH_SIZE,
    skip: Iterable[str] = (),
) -> ray.data.Dataset:
    """The corpus at `paths` mapped to Extraction records by a pool of `actors` (default: one per CPU
    of the cluster), each with its own extractor taking `recipe.concurrency` requests in flight.
    Articles whose id is in `skip` (done by an earlier run) are left out."""
    dataset = read_corpus(paths)
    done = frozenset(skip)
    if done:
        dataset = dataset.filter(lambda row: str(row["id"]) not in done, num_cpus=0)
    return dataset.map_batches(
        ExtractActor,
        fn_constructor_kwargs={"recipe": recipe},
        batch_size=batch_size,
        batch_format="pyarrow",
        # Ray Data's actor pools restart an actor that dies (its node lost, the process killed) and
        # run its batch again (max_restarts and max_task_retries of -1): tests/test_ray.py holds it to that.
        compute=ray.data.ActorPoolStrategy(size=actors or _cluster_cpus()),
    )


def _cluster_cpus() -> int:
    resources = cast("Callable[[], dict[str, float]]", ray.cluster_resources)()  # untyped in Ray
    return max(1, int(resources.get("CPU", 1)))


def iter_extractions(dataset: ray.data.Dataset) -> Iterator[Extraction]:
    """The records as they are done, streamed to the driver a batch at a time."""
    for table in dataset.iter_batches(batch_format="pyarrow", batch_size=None):
        yield from from_table(table)


def connect(address: str | None = None) -> None:
    """Join the Ray cluster at `address` ("auto", "ray://host:10001", ...), or start a local one."""
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
