"""The JSONL file a corpus run appends to, one Extraction per line, and resuming from it.

Every finished article is written as one line and flushed at once, so a killed run keeps everything it
finished (a SIGKILL loses at most the line being written; flushing reaches the OS, not the disk, so a
power cut may lose more). Resuming keeps the complete, error-free lines, drops the rest (a half-written
last line, a line that does not parse, a line whose Extraction has chunk errors, a repeated id) so those
articles are done again, and appends after them. However often a run is killed and resumed, the file
ends with exactly one line per article.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import BinaryIO, Self, TypeVar

from pydantic import BaseModel, ValidationError

from quotes.schema import Extraction

RecordT = TypeVar("RecordT", bound=BaseModel)


class RecordFileError(ValueError):
    """A line of a JSONL file that is not the record it should hold; names the file and the line."""

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


@dataclass
class ResumeReport:
    """What resuming found in the existing file."""

    kept: int = 0
    with_errors: int = 0
    duplicates: int = 0
    unparseable: int = 0
    partial_last_line: bool = False

    @property
    def dropped(self) -> int:
        return self.with_errors + self.duplicates + self.unparseable + self.partial_last_line


class JsonlSink:
    """Appends Extractions to a JSONL file, one compact line each, flushed per line.

    With `resume=True` an existing file is cleaned (see the module docstring) and `done_ids` holds the
    ids whose lines were kept: skip those articles. Without it an existing file is truncated.
    `path=None` writes to stdout (which is flushed, not closed).
    """

    def __init__(self, path: str | os.PathLike[str] | None, *, resume: bool = False) -> None:
        if path is None and resume:
            raise ValueError("resuming needs an output file, not stdout")
        self.path = None if path is None else Path(path)
        self.resume = resume
        self.done_ids: set[str] = set()
        self.report = ResumeReport()
        self._written: set[str] = set()
        self._file: BinaryIO | None = None

    def __enter__(self) -> Self:
        self.open()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()

    def open(self) -> None:
        if self.path is None:
            self._file = sys.stdout.buffer
        elif self.resume and self.path.exists():
            self._resume(self.path)
            self._file = self.path.open("ab")
        else:
            self._file = self.path.open("wb")

    def close(self) -> None:
        if self._file is not None:
            if self.path is None:
                self._file.flush()
            else:
                self._file.close()
            self._file = None

    def write(self, extraction: Extraction) -> None:
        """Append one Extraction. An id already in the file is a caller's bug and raises ValueError."""
        where = self.path or "stdout"
        if self._file is None:
            raise RuntimeError(f"{where}: sink is not open")
        if extraction.id in self._written:
            raise ValueError(f"{where}: article {extraction.id!r} is already in the output")
        self._file.write(extraction.model_dump_json().encode("utf-8") + b"\n")
        self._file.flush()
        self._written.add(extraction.id)
        if extraction.ok:
            self.done_ids.add(extraction.id)

    def _resume(self, path: Path) -> None:
        drop: set[int] = set()
        report = ResumeReport()
        with path.open("rb") as handle:
            for number, raw in enumerate(handle):
                if not raw.endswith(b"\n"):
                    report.partial_last_line = True
                    drop.add(number)
                    continue
                try:
                    extraction = Extraction.model_validate_json(raw)
                except ValidationError:
                    report.unparseable += 1
                    drop.add(number)
                    continue
                if extraction.errors:
                    report.with_errors += 1
                    drop.add(number)
                elif extraction.id in self.done_ids:
                    report.duplicates += 1
                    drop.add(number)
                else:
                    report.kept += 1
                    self.done_ids.add(extraction.id)
        if drop:
            _rewrite_without(path, drop)
        self.report = report
        self._written = set(self.done_ids)


def _rewrite_without(path: Path, drop: set[int]) -> None:
    """Replace the file, atomically, by a copy without the dropped lines (0-based line numbers)."""
    descriptor, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as out, path.open("rb") as source:
            out.writelines(raw for number, raw in enumerate(source) if number not in drop)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, stat.S_IMODE(path.stat().st_mode))
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def read_records(path: str | os.PathLike[str], model: type[RecordT]) -> Iterator[RecordT]:
    """Yield the `model` records of a JSONL file (Extractions, Verdicts); a bad line raises
    RecordFileError naming file and line. Blank lines are skipped.
    """
    for _, record in scan_records(path, model):
        if isinstance(record, RecordFileError):
            raise record
        yield record


def scan_records(
    path: str | os.PathLike[str], model: type[RecordT]
) -> Iterator[tuple[int, RecordT | RecordFileError]]:
    """Like `read_records`, but with each record's line number, and a bad line yielded as its
    RecordFileError while the lines after it still come: for callers that keep every good record and
    report the bad ones."""
    name = os.fspath(path)
    with open(name, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield number, model.model_validate_json(raw)
            except ValidationError as error:
                yield number, RecordFileError(name, number, _first_error(error, model.__name__))


def read_extractions(path: str | os.PathLike[str]) -> Iterator[Extraction]:
    return read_records(path, Extraction)


def _first_error(error: ValidationError, what: str) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    more = error.error_count() - 1
    suffix = f" (and {more} more)" if more else ""
    article = "an" if what[0] in "AEIOU" else "a"
    return f"not {article} {what}: {where + ': ' if where else ''}{first['msg']}{suffix}"
