"""Reading inputs: files, folders, JSONL corpora and stdin, as a stream of Articles and InputProblems.

An input is one of:

* a text file (any extension): one article, id = the file name without its extension;
* an HTML file (`.html`/`.htm`): its visible text (script/style/head dropped, paragraphs kept as blank
  lines) is the article, with a warning saying the text was extracted from HTML;
* a folder: its `.txt`, `.md`, `.html` and `.htm` files, recursively, in sorted order (hidden files and
  folders skipped); ids are the paths relative to the folder without extension, e.g. `2024/jan/story`;
* a `.jsonl` / `.ndjson` corpus: one `{"id": ..., "text": ..., "date"?: ..., "url"?: ...}` object per
  line (other fields ignored; `date` is ISO 8601, a line with any other date is reported and skipped),
  read line by line so a corpus of millions of lines is never held in memory. Blank lines are skipped;
  a bad line is reported with its line number and skipped while the other lines still come through;
  a missing id becomes `<file stem>:<line number>`;
* `-`: stdin. When its first non-blank line is a JSON object with a string `text`, stdin is read as a
  JSONL corpus (streamed, ids as above with stem `stdin`); otherwise all of it is one article, id `stdin`.

Text is decoded as UTF-8 (a BOM stripped; UTF-16 is reported, not guessed). Bytes that are not UTF-8 are
decoded as cp1252, with latin-1 for the five bytes cp1252 leaves undefined, and a warning names the
file. Line endings are NOT normalised: the article text is exactly the decoded text, so character
offsets refer to the text as given (CRLF stays CRLF).

Ids are unique across one call: a later article with an id already seen is reported as an error and
skipped, so every id in the output stands for exactly one article.
"""

from __future__ import annotations

import codecs
import io
import itertools
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import BinaryIO, Literal, NamedTuple, TextIO, cast

from quotes.schema import Article, iso_date

FOLDER_SUFFIXES = frozenset({".txt", ".md", ".html", ".htm"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})

_SNIFF_BYTES = 8192
# Control bytes that text never contains in bulk (tab, LF, VT, FF, CR and ESC are left out).
_CONTROL_BYTES = frozenset([*range(0x01, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])
_BINARY_CONTROL_SHARE = 0.3


@dataclass(frozen=True)
class InputProblem:
    """Something wrong with an input; `line` is the 1-based line of a JSONL corpus when it applies."""

    source: str
    message: str
    line: int | None = None
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        return f"{where}: {self.message}"


def json_problem(error: json.JSONDecodeError) -> str:
    """What is wrong with a JSON text, where: `not valid JSON: invalid control character at column 27`.

    For one JSONL line the caller names the line (the column is within it); a text of several lines
    gets `line L, column C`.
    """
    what = error.msg.removesuffix(" at")
    where = f"column {error.colno}" if error.lineno == 1 else f"line {error.lineno}, column {error.colno}"
    return f"not valid JSON: {what[:1].lower()}{what[1:]} at {where}"


def _latin1_for_undefined(error: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte cp1252 leaves undefined becomes the latin-1 character of that byte."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


_CP1252_ERRORS = "quotes-cp1252-latin1"
codecs.register_error(_CP1252_ERRORS, _latin1_for_undefined)


def looks_binary(sample: bytes) -> bool:
    """True when the sample has a NUL byte or is mostly control bytes."""
    if b"\x00" in sample:
        return True
    if not sample:
        return False
    controls = sum(1 for byte in sample if byte in _CONTROL_BYTES)
    return controls / len(sample) > _BINARY_CONTROL_SHARE


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode bytes as UTF-8 (BOM stripped), else cp1252/latin-1; returns (text, warning or None)."""
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        position = error.start
    text = data.decode("cp1252", errors=_CP1252_ERRORS)
    undefined = any(byte in data for byte in b"\x81\x8d\x8f\x90\x9d")
    encoding = "cp1252 (latin-1 for bytes cp1252 leaves undefined)" if undefined else "cp1252"
    return text, f"not valid UTF-8 (first bad byte at offset {position}); decoded as {encoding}"


# --- HTML ----------------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "div", "dl", "dt",
        "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "td", "th",
        "tr", "ul",
    }
)  # fmt: skip
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template", "noscript", "svg"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


class _VisibleText(HTMLParser):
    """Collects visible text as paragraphs: block elements separate paragraphs, <br> breaks a line."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._parts: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._pre += tag == "pre"
        elif tag == "br" and not self._hidden:
            self._parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._hidden:
            self._parts.append("\n")
        elif tag in _BLOCK_TAGS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self._flush()
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        self._parts.append(data if self._pre else _HTML_SPACE.sub(" ", data))

    def close(self) -> None:
        super().close()
        self._flush()

    def _flush(self) -> None:
        raw = "".join(self._parts)
        self._parts.clear()
        lines = raw.split("\n") if self._pre else [line.strip(" ") for line in raw.split("\n")]
        paragraph = "\n".join(lines).strip("\n")
        if paragraph.strip():
            self.paragraphs.append(paragraph)


def html_to_text(html: str) -> str:
    """The visible text of an HTML document, one paragraph per block element, separated by blank lines."""
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n\n".join(parser.paragraphs)


# --- ids -----------------------------------------------------------------------------------------------


def article_id_for(path: Path, root: Path | None = None) -> str:
    """The id of a file's article: its path relative to `root` without extension (posix slashes),
    or its name without extension when it was given on its own."""
    if root is None:
        return path.stem
    return path.relative_to(root).with_suffix("").as_posix()


# --- reading -------------------------------------------------------------------------------------------

Item = Article | InputProblem


class RecordFields(NamedTuple):
    id: str
    text: str
    date: str | None
    url: str | None


def record_fields(record: Mapping[str, object], default_id: str) -> RecordFields | str:
    """The id, text, date and url of a corpus record `{"id", "text", "date"?, "url"?}`, or what is wrong
    with it.

    Other fields are ignored; a missing or empty id becomes `default_id`; an integer id is kept as its
    digits; a date must be ISO 8601 (kept in its normal form).
    """
    text = record.get("text")
    if not isinstance(text, str):
        return "no 'text' field" if text is None else f"'text' is {type(text).__name__}, not a string"
    raw_id = record.get("id")
    if raw_id is None or raw_id == "":
        article_id = default_id
    elif isinstance(raw_id, str) or (isinstance(raw_id, int) and not isinstance(raw_id, bool)):
        article_id = str(raw_id)
    else:
        return f"'id' must be a string or an integer, got {type(raw_id).__name__}"
    date, url = record.get("date"), record.get("url")
    for name, value in (("date", date), ("url", url)):
        if value is not None and not isinstance(value, str):
            return f"'{name}' must be a string, got {type(value).__name__}"
    if isinstance(date, str):
        try:
            date = iso_date(date)
        except ValueError as error:
            return f"'date' is {error}"
    return RecordFields(
        article_id, text, date if isinstance(date, str) else None, url if isinstance(url, str) else None
    )


def holds_one_article(name: str) -> bool:
    """Whether an input named on the command line is one article by its kind, not its content: a file
    that is neither a folder nor a JSONL corpus. (Stdin is one article unless it turns out to be JSONL.)
    """
    path = Path(name)
    return name != "-" and not path.is_dir() and path.suffix.lower() not in JSONL_SUFFIXES


def iter_articles(inputs: Sequence[str], stdin: TextIO | BinaryIO | None = None) -> Iterator[Item]:
    """Yield the articles of every input in order, with any problems as InputProblems next to them.

    `stdin` is read for the input `-` (defaults to the process's stdin). Nothing is raised for bad
    input: every problem is yielded, naming the file (and line) and what is wrong.
    """
    reader = _Reader(stdin)
    for name in inputs:
        yield from reader.read(name)


def read_bytes(data: bytes, article_id: str, *, source: str, is_html: bool = False) -> list[Item]:
    """One article from bytes already in memory (an upload), decoded and checked as a file's would be:
    the article, or what is wrong with the bytes, and any warning (not UTF-8, text taken from HTML)."""
    return list(_Reader(None)._text(data, article_id, source, is_html=is_html))


class _Reader:
    """Reads inputs one after another, remembering ids so that a duplicate is reported, not yielded."""

    def __init__(self, stdin: TextIO | BinaryIO | None) -> None:
        self._stdin = stdin
        self._seen: set[str] = set()
        self._readable = 0  # articles read, duplicates included: "no readable files" must not count them

    def read(self, name: str) -> Iterator[Item]:
        if name == "-":
            yield from self._stdin_items()
            return
        path = Path(name)
        if path.is_dir():
            yield from self._folder(path)
        elif not path.exists():
            yield InputProblem(name, "no such file or directory")
        elif path.suffix.lower() in JSONL_SUFFIXES:
            yield from self._jsonl_file(path)
        else:
            yield from self._file(path, article_id_for(path), name)

    def _article(
        self,
        article_id: str,
        text: str,
        source: str,
        line: int | None = None,
        *,
        date: str | None = None,
        url: str | None = None,
    ) -> Item:
        self._readable += 1
        if article_id in self._seen:
            return InputProblem(source, f"duplicate id {article_id!r}, skipped", line)
        self._seen.add(article_id)
        where = source if line is None else f"{source}:{line}"
        return Article(id=article_id, text=text, source=where, date=date, url=url)

    def _file(self, path: Path, article_id: str, source: str) -> Iterator[Item]:
        try:
            data = path.read_bytes()
        except OSError as error:
            yield InputProblem(source, f"cannot read: {error.strerror or error}")
            return
        yield from self._text(data, article_id, source, is_html=path.suffix.lower() in HTML_SUFFIXES)

    def _text(self, data: bytes, article_id: str, source: str, *, is_html: bool) -> Iterator[Item]:
        if not data.strip():
            yield InputProblem(source, "empty" if not data else "empty (only whitespace)")
            return
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            yield InputProblem(source, "UTF-16 text is not supported (save it as UTF-8), skipped")
            return
        if looks_binary(data[:_SNIFF_BYTES]):
            yield InputProblem(source, "looks binary, skipped")
            return
        text, warning = decode_text(data)
        if warning:
            yield InputProblem(source, warning, severity="warning")
        if is_html:
            text = html_to_text(text)
            if not text.strip():
                yield InputProblem(source, "HTML has no visible text")
                return
            yield InputProblem(
                source, "text extracted from HTML; offsets refer to that text", severity="warning"
            )
        yield self._article(article_id, text, source)

    def _folder(self, root: Path) -> Iterator[Item]:
        files: list[Path] = []
        for directory, subdirs, names in os.walk(root):
            subdirs[:] = [d for d in subdirs if not d.startswith(".")]
            files.extend(
                Path(directory, n)
                for n in names
                if not n.startswith(".") and Path(n).suffix.lower() in FOLDER_SUFFIXES
            )
        files.sort(key=lambda p: p.relative_to(root).as_posix())
        before = self._readable
        for path in files:
            yield from self._file(path, article_id_for(path, root), str(path))
        if self._readable == before:
            what = "no readable" if files else "no"
            yield InputProblem(str(root), f"folder has {what} .txt, .md, .html or .htm files")

    def _jsonl_file(self, path: Path) -> Iterator[Item]:
        try:
            handle = path.open("rb")
        except OSError as error:
            yield InputProblem(str(path), f"cannot read: {error.strerror or error}")
            return
        with handle:
            if looks_binary(handle.read(_SNIFF_BYTES)):
                yield InputProblem(str(path), "looks binary, skipped")
                return
            handle.seek(0)
            yield from self._jsonl_lines(handle, str(path), path.stem)

    def _jsonl_lines(self, lines: Iterable[bytes], source: str, stem: str, start: int = 1) -> Iterator[Item]:
        before = self._readable
        for number, raw in enumerate(lines, start=start):
            if raw.strip():
                yield from self._jsonl_line(raw, source, stem, number)
        if self._readable == before:
            yield InputProblem(source, "no articles in corpus")

    def _jsonl_line(self, raw: bytes, source: str, stem: str, number: int) -> Iterator[Item]:
        line, warning = decode_text(raw)
        if warning:
            yield InputProblem(source, warning, number, "warning")
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            yield InputProblem(source, f"{json_problem(error)}, skipped", number)
            return
        if not isinstance(record, dict):
            kind = type(record).__name__
            yield InputProblem(source, f"expected a JSON object, got {kind}, skipped", number)
            return
        fields = record_fields(record, default_id=f"{stem}:{number}")
        if isinstance(fields, str):
            yield InputProblem(source, f"{fields}, skipped", number)
            return
        article_id, text = fields.id, fields.text
        if not text.strip():
            yield InputProblem(source, "empty text, skipped", number)
            return
        yield self._article(article_id, text, source, number, date=fields.date, url=fields.url)

    def _stdin_items(self) -> Iterator[Item]:
        stream = _byte_stream(sys.stdin if self._stdin is None else self._stdin)
        skipped = b""
        head = stream.readline()
        while head and not head.strip():
            skipped += head
            head = stream.readline()
        if _is_jsonl_record(head):
            start = skipped.count(b"\n") + 1
            yield from self._jsonl_lines(itertools.chain([head], stream), "stdin", "stdin", start)
        else:
            yield from self._text(skipped + head + stream.read(), "stdin", "stdin", is_html=False)


def _byte_stream(stream: TextIO | BinaryIO) -> BinaryIO:
    """The bytes under a stream: a text wrapper would translate line endings and change offsets."""
    if isinstance(stream, io.BufferedIOBase | io.RawIOBase):
        return cast(BinaryIO, stream)
    buffer = getattr(stream, "buffer", None)
    if isinstance(buffer, io.BufferedIOBase | io.RawIOBase):
        return cast(BinaryIO, buffer)
    data = stream.read()
    return io.BytesIO(data.encode("utf-8") if isinstance(data, str) else data)


def _is_jsonl_record(line: bytes) -> bool:
    if not line.lstrip().startswith(b"{"):
        return False
    try:
        record = json.loads(decode_text(line)[0])
    except json.JSONDecodeError:
        return False
    return isinstance(record, dict) and isinstance(record.get("text"), str)
