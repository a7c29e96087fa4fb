from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from quotes.runlog import JsonlSink, RecordFileError, read_extractions
from quotes.schema import ChunkError, Extraction, Quote


def extraction(article_id: str, *, failed: bool = False) -> Extraction:
    quote = Quote(id=f"{article_id}-q1", text="We will win", start=1, end=12, kind="direct")
    errors = [ChunkError(chunk=1, start=100, end=200, kind="timeout", message="gave up")] if failed else []
    return Extraction(id=article_id, text_sha256="0" * 64, backend="rules", quotes=[quote], errors=errors)


def line(e: Extraction) -> bytes:
    return e.model_dump_json().encode() + b"\n"


def ids_in(path: Path) -> list[str]:
    return [json.loads(raw)["id"] for raw in path.read_bytes().splitlines()]


def test_each_write_is_one_flushed_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlSink(out) as sink:
        sink.write(extraction("a"))
        assert out.read_bytes() == line(extraction("a"))  # on disk before the sink closes
        sink.write(extraction("b", failed=True))
        assert sink.done_ids == {"a"}
    assert [e.id for e in read_extractions(out)] == ["a", "b"]
    assert list(read_extractions(out))[1].errors[0].kind == "timeout"


def test_without_resume_an_existing_file_is_truncated(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("old")))
    with JsonlSink(out) as sink:
        assert sink.done_ids == set()
        sink.write(extraction("new"))
    assert ids_in(out) == ["new"]


def test_resume_on_a_missing_file_starts_fresh(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == set()
        sink.write(extraction("a"))
    assert ids_in(out) == ["a"]


def test_resume_drops_a_half_written_last_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")) + line(extraction("b"))[:40])
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == {"a"}
        assert sink.report.partial_last_line
        assert out.read_bytes() == line(extraction("a"))  # rewritten before anything is appended
        sink.write(extraction("b"))
    assert ids_in(out) == ["a", "b"]


def test_resume_drops_a_complete_record_missing_only_its_newline(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")) + line(extraction("b")).rstrip(b"\n"))
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == {"a"}


def test_resume_redoes_articles_with_chunk_errors(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")) + line(extraction("b", failed=True)) + line(extraction("c")))
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == {"a", "c"}
        assert sink.report.with_errors == 1
        assert ids_in(out) == ["a", "c"]
        sink.write(extraction("b"))
    assert ids_in(out) == ["a", "c", "b"]
    assert all(e.ok for e in read_extractions(out))


def test_resume_keeps_the_first_of_duplicates_and_drops_garbage(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    first = extraction("a")
    second = first.model_copy(update={"backend": "llm"})
    out.write_bytes(line(first) + b"not json\n" + line(second) + b'{"id": "x"}\n')
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == {"a"}
        assert (sink.report.duplicates, sink.report.unparseable, sink.report.kept) == (1, 2, 1)
    assert out.read_bytes() == line(first)


def test_resume_leaves_a_clean_file_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")))
    out.chmod(0o640)
    inode = out.stat().st_ino
    with JsonlSink(out, resume=True) as sink:
        assert sink.report.dropped == 0
    assert out.stat().st_ino == inode


def test_rewrite_keeps_permissions_and_leaves_no_temp_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")) + b"{partial")
    out.chmod(0o640)
    with JsonlSink(out, resume=True):
        pass
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_writing_an_id_twice_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")))
    with JsonlSink(out, resume=True) as sink, pytest.raises(ValueError, match="'a' is already"):
        sink.write(extraction("a"))
    assert ids_in(out) == ["a"]


def test_resume_needs_a_file() -> None:
    with pytest.raises(ValueError, match="stdout"):
        JsonlSink(None, resume=True)


def test_no_path_writes_to_stdout(capfdbinary: pytest.CaptureFixture[bytes]) -> None:
    with JsonlSink(None) as sink:
        sink.write(extraction("a"))
    assert capfdbinary.readouterr().out == line(extraction("a"))


def run(out: Path, articles: list[str], *, fails: set[str], crash_after: int | None) -> None:
    """One run of a pretend pipeline: resume, do what is not done, maybe die mid-line."""
    with JsonlSink(out, resume=True) as sink:
        todo = [a for a in articles if a not in sink.done_ids]
        for count, article_id in enumerate(todo):
            e = extraction(article_id, failed=article_id in fails)
            if crash_after is not None and count == crash_after:
                with out.open("ab") as raw:  # what a SIGKILL in the middle of write() leaves
                    raw.write(line(e)[: len(line(e)) // 2])
                return
            sink.write(e)


def test_exactly_one_line_per_article_after_crashes_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    articles = [f"art-{i}" for i in range(20)]
    run(out, articles, fails={"art-3", "art-11"}, crash_after=5)
    run(out, articles, fails={"art-11"}, crash_after=4)
    run(out, articles, fails={"art-11"}, crash_after=0)
    run(out, articles, fails=set(), crash_after=None)
    assert sorted(ids_in(out)) == sorted(articles)
    assert all(e.ok for e in read_extractions(out))
    with JsonlSink(out, resume=True) as sink:
        assert sink.done_ids == set(articles)
        assert sink.report.dropped == 0


def test_read_extractions_names_file_and_line_of_a_bad_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(line(extraction("a")) + b"\n" + b'{"id": "b", "backend": "rules"}\n')
    reader = read_extractions(out)
    assert next(reader).id == "a"
    with pytest.raises(RecordFileError) as caught:
        next(reader)
    assert caught.value.line == 3
    assert str(caught.value).startswith(f"{out}:3: not an Extraction: text_sha256: Field required")


def test_read_extractions_reports_invalid_json(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"{truncated")
    with pytest.raises(RecordFileError, match=r":1: not an Extraction"):
        list(read_extractions(out))
