"""`quotes extract --engine ray` on a local Ray with two workers: the records of a local run, Parquet with
the JSONL records' fields, and a worker killed mid-run costing nothing.

About a minute here (Ray starts once for the module); `-m "not ray"` leaves them out. Without Ray
installed (`pip install 'quotes[ray]'`) they skip, saying so.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'quotes[ray]' to run these")
pq = pytest.importorskip("pyarrow.parquet", reason="pyarrow is not installed")

from quotes import ray as on_ray  # noqa: E402
from quotes.backends import ChunkAnswer  # noqa: E402
from quotes.backends.rules import RulesBackend  # noqa: E402
from quotes.chunking import Chunk  # noqa: E402
from quotes.pipeline import Extractor  # noqa: E402
from quotes.schema import Article, Extraction  # noqa: E402
from quotes.workers import ExtractorRecipe  # noqa: E402

pytestmark = pytest.mark.ray

NAMES = ["Mara Quell", "Otto Brisk", "Lena Farrow", "Ivo Santel"]


def articles(n: int) -> list[Article]:
    return [
        Article(
            id=f"a{i}",
            text=(
                f"The harbour board of Port Elm met on Tuesday. “We will rebuild pier {i} by spring,” said "
                f"{NAMES[i % 4]}, the board's chair. Councillors said the tide tables had to change first. "
                f"{NAMES[(i + 1) % 4]} told reporters that the ferry would run again in May."
            ),
        )
        for i in range(n)
    ]


def write_corpus(path: Path, items: list[Article]) -> Path:
    path.write_text("".join(json.dumps({"id": a.id, "text": a.text}) + "\n" for a in items))
    return path


def local(items: list[Article]) -> list[Extraction]:
    async def run() -> list[Extraction]:
        async with Extractor(RulesBackend()) as extractor:
            return [e async for e in extractor.astream(items)]

    return asyncio.run(run())


def comparable(extractions: list[Extraction]) -> list[dict[str, Any]]:
    """Records in id order without `source` (Ray's readers do not number lines)."""
    return [e.model_dump(exclude={"source"}) for e in sorted(extractions, key=lambda e: e.id)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    # The workers import this module too (a recipe defined here travels to them by reference).
    here = {"env_vars": {"PYTHONPATH": str(Path(__file__).parent)}}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, runtime_env=here)
    yield
    ray.shutdown()


def test_two_workers_give_the_records_of_a_local_run(cluster: None, tmp_path: Path) -> None:
    items = articles(40)
    corpus = write_corpus(tmp_path / "corpus.jsonl", items)
    dataset = on_ray.extraction_dataset([str(corpus)], ExtractorRecipe("rules"), actors=2, batch_size=8)
    got = list(on_ray.iter_extractions(dataset))
    assert comparable(got) == comparable(local(items))
    assert {e.source for e in got} == {str(corpus)}
    assert sum(len(e.quotes) for e in got) >= 40


def test_parquet_output_holds_the_jsonl_records_fields(cluster: None, tmp_path: Path) -> None:
    items = articles(12)
    corpus = write_corpus(tmp_path / "corpus.jsonl", items)
    out = tmp_path / "out"
    on_ray.extraction_dataset([str(corpus)], ExtractorRecipe("rules"), actors=2, batch_size=4).write_parquet(
        str(out)
    )
    table = pq.read_table(out)
    rows = table.to_pylist()
    assert table.column_names == list(Extraction.model_fields)
    assert comparable([Extraction.model_validate(r) for r in rows]) == comparable(local(items))
    jsonl_record = json.loads(local(items)[0].model_dump_json())
    assert set(rows[0]) == set(jsonl_record)
    assert set(rows[0]["quotes"][0]) == set(jsonl_record["quotes"][0])


@dataclass(frozen=True)
class DyingRecipe(ExtractorRecipe):
    """Builds an extractor whose backend kills its own process the first time it meets `victim`."""

    victim: str = ""
    flag: str = ""

    def build(self, concurrency: int | None = None) -> tuple[Extractor, str]:
        return Extractor(_DyingBackend(self.victim, self.flag), concurrency=4), "backend: rules (dies once)"


class _DyingBackend(RulesBackend):
    def __init__(self, victim: str, flag: str) -> None:
        super().__init__()
        self._victim, self._flag = victim, flag

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        if self._victim in chunk.text and not os.path.exists(self._flag):
            Path(self._flag).write_text(str(os.getpid()))
            os._exit(1)  # as a kill -9: no cleanup, no exception for Ray to see
        return await super().extract_chunk(chunk)


def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(cluster: None, tmp_path: Path) -> None:
    items = articles(48)
    corpus = write_corpus(tmp_path / "corpus.jsonl", items)
    flag = tmp_path / "killed"
    recipe = DyingRecipe("rules", victim="rebuild pier 29 ", flag=str(flag))
    dataset = on_ray.extraction_dataset([str(corpus)], recipe, actors=2, batch_size=6)
    got = list(on_ray.iter_extractions(dataset))
    assert flag.exists(), "a worker died mid-run"
    assert int(flag.read_text()) != os.getpid()
    assert sorted(e.id for e in got) == sorted(a.id for a in items), "every article once"
    assert comparable(got) == comparable(local(items))


def test_the_cli_runs_on_ray_and_resumes(cluster: None, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from quotes.cli import app

    items = articles(10)
    corpus = write_corpus(tmp_path / "corpus.jsonl", items)
    out = tmp_path / "out.jsonl"
    out.write_text("".join(e.model_dump_json() + "\n" for e in local(items[:4])))
    args = ["extract", str(corpus), "--engine", "ray", "-o", str(out), "--resume", "-q", "--backend", "rules"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    written = [Extraction.model_validate_json(line) for line in out.read_text().splitlines()]
    assert comparable(written) == comparable(local(items)), "the first four kept, the other six added"
    (tmp_path / "article.txt").write_text(items[0].text)
    bad = CliRunner().invoke(app, ["extract", str(tmp_path / "article.txt"), "--engine", "ray", "-q"])
    assert bad.exit_code == 2
    assert "reads JSONL or Parquet corpora" in bad.stderr
