from __future__ import annotations

import io
import json
from pathlib import Path
from typing import BinaryIO, TextIO

import pytest

from quotes.articles import (
    InputProblem,
    article_id_for,
    decode_text,
    html_to_text,
    iter_articles,
    looks_binary,
)
from quotes.schema import Article


def read(*inputs: str, stdin: TextIO | BinaryIO | None = None) -> tuple[list[Article], list[InputProblem]]:
    articles: list[Article] = []
    problems: list[InputProblem] = []
    for item in iter_articles(inputs, stdin=stdin):
        if isinstance(item, Article):
            articles.append(item)
        else:
            problems.append(item)
    return articles, problems


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- single files ---------------------------------------------------------------------------------------


def test_text_file_is_one_article_with_its_stem_as_id(tmp_path: Path) -> None:
    path = tmp_path / "budget-vote.txt"
    path.write_text("“We will win,” the mayor said.\n", encoding="utf-8")
    articles, problems = read(str(path))
    assert problems == []
    assert articles == [Article(id="budget-vote", text="“We will win,” the mayor said.\n", source=str(path))]


def test_line_endings_and_bom_are_kept_as_given_except_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "crlf.md"
    path.write_bytes(b"\xef\xbb\xbfFirst line.\r\nSecond\rThird\n")
    [article], _ = read(str(path))
    assert article.text == "First line.\r\nSecond\rThird\n"


def test_missing_path_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.txt")
    articles, [problem] = read(missing)
    assert articles == []
    assert problem == InputProblem(missing, "no such file or directory")
    assert str(problem) == f"{missing}: no such file or directory"


@pytest.mark.parametrize(("content", "message"), [(b"", "empty"), (b"  \n\t\r\n", "empty (only whitespace)")])
def test_empty_file_is_an_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    articles, problems = read(str(path))
    assert articles == []
    assert problems == [InputProblem(str(path), message)]


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04\x14\x00\x00\x00 zip header", bytes(range(1, 32)) * 50, b"text\xff\xfe" + b"\x00" * 10],
)
def test_binary_file_is_skipped(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "photo.txt"
    path.write_bytes(content)
    articles, problems = read(str(path))
    assert articles == []
    assert problems == [InputProblem(str(path), "looks binary, skipped")]


def test_utf16_is_reported_not_garbled(tmp_path: Path) -> None:
    path = tmp_path / "notepad.txt"
    path.write_bytes("Hello".encode("utf-16"))
    articles, [problem] = read(str(path))
    assert articles == []
    assert "UTF-16" in problem.message


def test_cp1252_bytes_are_decoded_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_bytes(b"caf\xe9 \x93quoted\x94")
    [article], [problem] = read(str(path))
    assert article.text == "café “quoted”"
    assert problem.severity == "warning"
    assert problem.source == str(path)
    assert "cp1252" in problem.message
    assert "offset 3" in problem.message


def test_bytes_undefined_in_cp1252_fall_back_to_latin1() -> None:
    text, warning = decode_text(b"a\x81b\xe9")
    assert text == "a\x81bé"
    assert warning is not None
    assert "latin-1" in warning


def test_text_with_escape_codes_is_not_binary() -> None:
    assert not looks_binary(b"\x1b[1mbold\x1b[0m and plain text\x0c\n" * 20)
    assert not looks_binary("naïve – ünïcode “text”".encode())


def test_large_file_is_one_article(tmp_path: Path) -> None:
    paragraph = "“Rates will stay put,” the governor said on Tuesday.\n\n"
    path = tmp_path / "big.txt"
    path.write_text(paragraph * 400_000, encoding="utf-8")  # about 22 MB
    [article], problems = read(str(path))
    assert problems == []
    assert len(article.text) == len(paragraph) * 400_000


# --- HTML -----------------------------------------------------------------------------------------------

PAGE = """<!doctype html><html><head><title>Page title</title>
<style>p { color: red; }</style><script>var said = "not a quote";</script></head>
<body><h1>Council  votes</h1>
<p>“We are ready,” said the
   mayor &amp; her deputy.<br>New line here.</p>
<div>Intro<p>Nested paragraph.</p></div>
<script type="module">console.log("hidden")</script>
</body></html>"""


def test_html_gives_visible_text_with_paragraph_breaks() -> None:
    assert html_to_text(PAGE) == (
        "Council votes\n\n"
        "“We are ready,” said the mayor & her deputy.\nNew line here.\n\n"
        "Intro\n\n"
        "Nested paragraph."
    )


def test_html_file_is_extracted_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "story.html"
    path.write_text(PAGE, encoding="utf-8")
    [article], [problem] = read(str(path))
    assert article.id == "story"
    assert "console.log" not in article.text
    assert "not a quote" not in article.text
    assert "color: red" not in article.text
    assert "Page title" not in article.text
    assert problem.severity == "warning"
    assert "HTML" in problem.message


def test_html_without_visible_text_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "blank.htm"
    path.write_text("<html><script>x()</script><p> </p></html>", encoding="utf-8")
    articles, problems = read(str(path))
    assert articles == []
    assert [p.severity for p in problems] == ["error"]


# --- folders --------------------------------------------------------------------------------------------


def test_folder_reads_text_files_recursively_in_sorted_order(tmp_path: Path) -> None:
    (tmp_path / "2024" / "jan").mkdir(parents=True)
    (tmp_path / "b.txt").write_text("Bee.", encoding="utf-8")
    (tmp_path / "a.md").write_text("Ay.", encoding="utf-8")
    (tmp_path / "2024" / "jan" / "story.html").write_text("<p>Hello.</p>", encoding="utf-8")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "secret.txt").write_text("Hidden.", encoding="utf-8")
    articles, problems = read(str(tmp_path))
    assert [a.id for a in articles] == ["2024/jan/story", "a", "b"]
    assert [a.text for a in articles] == ["Hello.", "Ay.", "Bee."]
    assert articles[0].source == str(tmp_path / "2024" / "jan" / "story.html")
    assert [p.severity for p in problems] == ["warning"]  # the HTML one


def test_folder_keeps_going_past_a_bad_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"\x00\x01binary")
    (tmp_path / "b.txt").write_text("Good.", encoding="utf-8")
    articles, problems = read(str(tmp_path))
    assert [a.id for a in articles] == ["b"]
    assert problems == [InputProblem(str(tmp_path / "a.txt"), "looks binary, skipped")]


def test_folder_with_same_id_twice_reports_the_second(tmp_path: Path) -> None:
    (tmp_path / "story.md").write_text("One.", encoding="utf-8")
    (tmp_path / "story.txt").write_text("Two.", encoding="utf-8")
    articles, problems = read(str(tmp_path))
    assert [a.text for a in articles] == ["One."]
    assert problems == [InputProblem(str(tmp_path / "story.txt"), "duplicate id 'story', skipped")]


def test_folder_without_readable_files_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    articles, problems = read(str(tmp_path))
    assert articles == []
    assert [(p.source, p.severity) for p in problems] == [(str(tmp_path), "error")]
    assert "no .txt" in problems[0].message


def test_folder_whose_files_all_fail_is_an_error_too(tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")
    _, problems = read(str(tmp_path))
    assert [p.source for p in problems] == [str(tmp_path / "empty.txt"), str(tmp_path)]


def test_article_id_for() -> None:
    assert article_id_for(Path("/data/news/2024/a.b.txt"), Path("/data/news")) == "2024/a.b"
    assert article_id_for(Path("some/where/story.html")) == "story"


# --- JSONL corpora --------------------------------------------------------------------------------------


def test_jsonl_reports_bad_lines_by_number_and_keeps_the_good_ones(tmp_path: Path) -> None:
    corpus = write_jsonl(
        tmp_path / "corpus.jsonl",
        [
            json.dumps({"id": "a", "text": "First.", "url": "ignored"}),
            "{not json",
            json.dumps({"id": "b", "title": "no text"}),
            "",
            json.dumps({"id": "c", "text": "   "}),
            json.dumps(["a", "list"]),
            json.dumps({"id": "a", "text": "Duplicate."}),
            json.dumps({"text": "No id."}),
            json.dumps({"id": 7, "text": 12}),
            json.dumps({"id": 7, "text": "Integer id."}),
            json.dumps({"id": {"x": 1}, "text": "Odd id."}),
        ],
    )
    articles, problems = read(str(corpus))
    assert [(a.id, a.text) for a in articles] == [
        ("a", "First."),
        ("corpus:8", "No id."),
        ("7", "Integer id."),
    ]
    assert articles[0].source == f"{corpus}:1"
    assert all(p.source == str(corpus) and p.severity == "error" for p in problems)
    assert [p.line for p in problems] == [2, 3, 5, 6, 7, 9, 11]
    messages = [p.message for p in problems]
    assert messages[0].startswith("not valid JSON")
    assert messages[1] == "no 'text' field, skipped"
    assert messages[2] == "empty text, skipped"
    assert messages[3] == "expected a JSON object, got list, skipped"
    assert messages[4] == "duplicate id 'a', skipped"
    assert messages[5] == "'text' is int, not a string, skipped"
    assert str(problems[0]).startswith(f"{corpus}:2: not valid JSON")


def test_jsonl_dates_and_urls_are_kept_and_a_date_that_is_not_iso_8601_is_reported(tmp_path: Path) -> None:
    corpus = write_jsonl(
        tmp_path / "dated.jsonl",
        [
            json.dumps({"id": "a", "text": "One.", "date": "2024-03-05", "url": "https://example.test/a"}),
            json.dumps({"id": "b", "text": "Two.", "date": "2024-03-05T09:30:00Z"}),
            json.dumps({"id": "c", "text": "Three.", "date": "March 5th"}),
            json.dumps({"id": "d", "text": "Four.", "date": 20240305}),
            json.dumps({"id": "e", "text": "Five.", "url": ["not", "a", "url"]}),
            json.dumps({"id": "f", "text": "Six."}),
        ],
    )
    articles, problems = read(str(corpus))
    assert [(a.id, a.date, a.url) for a in articles] == [
        ("a", "2024-03-05", "https://example.test/a"),
        ("b", "2024-03-05T09:30:00+00:00", None),
        ("f", None, None),
    ]
    assert [(p.line, p.message) for p in problems] == [
        (3, "'date' is not an ISO 8601 date (YYYY-MM-DD, or with a time): 'March 5th', skipped"),
        (4, "'date' must be a string, got int, skipped"),
        (5, "'url' must be a string, got list, skipped"),
    ]
    assert str(problems[0]).startswith(f"{corpus}:3: 'date'")


def test_jsonl_text_is_kept_exactly(tmp_path: Path) -> None:
    text = "Line one.\r\nLine two\u2028still two.\n"
    corpus = write_jsonl(tmp_path / "c.jsonl", [json.dumps({"id": "x", "text": text}, ensure_ascii=False)])
    [article], problems = read(str(corpus))
    assert problems == []
    assert article.text == text


def test_jsonl_line_in_cp1252_is_decoded_with_a_warning_on_that_line(tmp_path: Path) -> None:
    corpus = tmp_path / "c.jsonl"
    corpus.write_bytes(b'{"id": "a", "text": "ok"}\n{"id": "b", "text": "caf\xe9"}\n')
    articles, [problem] = read(str(corpus))
    assert [a.text for a in articles] == ["ok", "café"]
    assert (problem.line, problem.severity) == (2, "warning")


def test_jsonl_is_streamed(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", [json.dumps({"text": "Article one."})])
    stream = iter_articles([str(corpus)])
    first = next(stream)
    assert isinstance(first, Article)
    assert first.id == "c:1"
    with corpus.open("a", encoding="utf-8") as more:  # a reader that had slurped the file would miss this
        more.write(json.dumps({"text": "Appended later."}) + "\n")
    assert [a.text for a in stream if isinstance(a, Article)] == ["Appended later."]


def test_jsonl_without_articles_is_an_error(tmp_path: Path) -> None:
    corpus = write_jsonl(tmp_path / "c.jsonl", ["", "   "])
    articles, problems = read(str(corpus))
    assert articles == []
    assert [(p.source, p.line, p.severity) for p in problems] == [(str(corpus), None, "error")]


def test_duplicate_ids_across_inputs_are_reported(tmp_path: Path) -> None:
    (tmp_path / "story.txt").write_text("From the file.", encoding="utf-8")
    corpus = write_jsonl(tmp_path / "c.jsonl", [json.dumps({"id": "story", "text": "From the corpus."})])
    articles, problems = read(str(tmp_path / "story.txt"), str(corpus))
    assert [a.text for a in articles] == ["From the file."]
    assert problems == [InputProblem(str(corpus), "duplicate id 'story', skipped", 1)]


# --- stdin ----------------------------------------------------------------------------------------------


def test_stdin_plain_text_is_one_article_with_bytes_kept() -> None:
    text = "\n“Hi,” she said.\r\nEnd.\n"
    articles, problems = read("-", stdin=io.BytesIO(text.encode()))
    assert problems == []
    assert articles == [Article(id="stdin", text=text, source="stdin")]


def test_stdin_text_stream_reads_the_bytes_underneath() -> None:
    wrapper = io.TextIOWrapper(io.BytesIO(b"A\r\nB"), encoding="utf-8")
    [article], _ = read("-", stdin=wrapper)
    assert article.text == "A\r\nB"


def test_stdin_string_stream_works() -> None:
    [article], _ = read("-", stdin=io.StringIO("Plain words."))
    assert article.text == "Plain words."


def test_stdin_jsonl_is_read_as_a_corpus_with_line_numbers() -> None:
    lines = ["", json.dumps({"id": "a", "text": "One."}), "not json", json.dumps({"text": "Two."}), ""]
    data = "\n".join(lines)
    articles, problems = read("-", stdin=io.BytesIO(data.encode()))
    assert [(a.id, a.text) for a in articles] == [("a", "One."), ("stdin:4", "Two.")]
    assert [(p.source, p.line) for p in problems] == [("stdin", 3)]


def test_stdin_that_is_json_but_not_a_record_is_plain_text() -> None:
    [article], _ = read("-", stdin=io.BytesIO(b'{"title": "x"}\nMore.'))
    assert article.text == '{"title": "x"}\nMore.'


def test_empty_stdin_is_an_error() -> None:
    articles, problems = read("-", stdin=io.BytesIO(b"\n\n"))
    assert articles == []
    assert problems == [InputProblem("stdin", "empty (only whitespace)")]
