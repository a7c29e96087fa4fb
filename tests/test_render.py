"""Output formats: JSON, JSONL, CSV, the rich table and the HTML report (checked by parsing, no browser)."""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import get_args

import pytest
from rich.console import Console

from quotes.render import (
    CSV_COLUMNS,
    INK,
    PALETTE,
    UNKNOWN_COLOURS,
    jsonl_line,
    table,
    to_csv,
    to_html,
    to_json,
)
from quotes.schema import (
    ChunkError,
    Claim,
    DiffOp,
    Entity,
    Evidence,
    Extraction,
    Quote,
    Speaker,
    Usage,
    Verdict,
    VerdictLabel,
)
from report_tables import verdict_rows

TEXT = (
    "“We will not sign,” said Mara Lind on Tuesday.\n"
    "The union, she added, “will strike & <march> if needed”.\r\n"
    "Officials said talks would go on, while Ben Ortiz called it “a stunt\nfor the cameras”"
)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _quote(text: str, qid: str, snippet: str, **fields: object) -> Quote:
    start = text.index(snippet)
    return Quote.model_validate(
        {"id": qid, "text": snippet, "start": start, "end": start + len(snippet)} | fields
    )


def default_quotes() -> list[Quote]:
    at = TEXT.index("Mara Lind")
    lind = Speaker(name="Mara Lind", mention="Mara Lind", start=at, end=at + len("Mara Lind"), type="person")
    return [
        _quote(TEXT, "q1", "“We will not sign,”", kind="direct", speaker=lind, cue="said"),
        _quote(
            TEXT,
            "q2",
            "“will strike & <march> if needed”",
            kind="direct",
            speaker=Speaker(name="Mara Lind", mention="she", type="person"),
            cue="added",
            about=[Entity(name="the union")],
        ),
        _quote(
            TEXT,
            "q3",
            "talks would go on",
            kind="indirect",
            speaker=Speaker(mention="Officials", type="group"),
        ),
        _quote(
            TEXT,
            "q4",
            "it “a stunt\nfor the cameras”",
            kind="mixed",
            speaker=Speaker(name="Ben Ortiz"),
            cue="called",
            about=[Entity(name="Mara Lind"), Entity(name="the union")],
            grounding="normalized",
            chunk=1,
        ),
    ]


def make_extraction(text: str | None = TEXT, **extra: object) -> Extraction:
    """An extraction of `text` (the quotes of TEXT unless `quotes` is given); text=None drops the text."""
    fields: dict[str, object] = {
        "id": "strike-talks",
        "source": "strike.txt",
        "text_sha256": _sha(TEXT if text is None else text),
        "backend": "llm",
        "model": "test-model",
        "prompt": "extract@v1",
        "quotes": default_quotes(),
        "usage": Usage(requests=2, input_tokens=900, output_tokens=120),
        "text": text,
    }
    return Extraction.model_validate(fields | extra)


# --- JSON and JSONL ----------------------------------------------------------------------------------


def test_jsonl_line_parses_back_to_the_same_extraction() -> None:
    extraction = make_extraction(
        errors=[ChunkError(chunk=2, start=5, end=9, kind="timeout", message="took too long")],
        warnings=["dropped 1 answer"],
    )
    line = jsonl_line(extraction)
    assert line.endswith("\n")
    assert line.count("\n") == 1
    assert Extraction.model_validate_json(line) == extraction
    assert list(json.loads(line))[:3] == ["schema_version", "id", "source"]


def test_jsonl_line_stays_one_line_for_unicode_line_separators() -> None:
    text = "He said “one\u2028two\u2029three\x85four”"
    extraction = make_extraction(text=text, quotes=[_quote(text, "q1", text[8:], kind="direct")])
    line = jsonl_line(extraction)
    assert len(line.splitlines()) == 1
    assert Extraction.model_validate_json(line) == extraction


def test_to_json_gives_an_object_for_one_and_an_array_otherwise() -> None:
    one = make_extraction()
    two = make_extraction(id="other")
    assert Extraction.model_validate(json.loads(to_json([one]))) == one
    assert [Extraction.model_validate(r) for r in json.loads(to_json([one, two]))] == [one, two]
    assert json.loads(to_json([])) == []


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_has_one_row_per_quote_with_the_documented_columns() -> None:
    first = make_extraction()
    second = make_extraction(id="second", quotes=first.quotes[:1])
    rows = list(csv.reader(io.StringIO(to_csv([first, second]), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert len(records) == len(first.quotes) + 1
    for record, quote in zip(records, [*first.quotes, first.quotes[0]], strict=True):
        assert record["quote_id"] == quote.id
        assert record["text"] == quote.text
        assert (int(record["start"]), int(record["end"])) == (quote.start, quote.end)
        assert record["kind"] == quote.kind
        assert record["grounding"] == quote.grounding
        assert int(record["chunk"]) == quote.chunk
    assert [r["article_id"] for r in records] == ["strike-talks"] * 4 + ["second"]

    lind, union, officials, ortiz = records[:4]
    assert (lind["speaker"], lind["speaker_mention"], lind["speaker_type"], lind["cue"]) == (
        "Mara Lind",
        "Mara Lind",
        "person",
        "said",
    )
    assert TEXT[int(lind["speaker_start"]) : int(lind["speaker_end"])] == "Mara Lind"
    assert union["about"] == "the union"
    assert (officials["speaker"], officials["speaker_start"], officials["cue"]) == ("", "", "")
    assert ortiz["about"] == "Mara Lind; the union"
    assert ortiz["text"] == "it “a stunt\nfor the cameras”"


# --- the rich table ----------------------------------------------------------------------------------


def test_table_lists_quotes_and_prints_markup_literally() -> None:
    text = "Ana said “[bold]not bold[/bold] at all” today"
    extraction = make_extraction(
        text=text,
        quotes=[
            _quote(text, "q1", "[bold]not bold[/bold] at all", kind="direct", speaker=Speaker(name="Ana"))
        ],
        errors=[ChunkError(chunk=1, start=0, end=3, kind="http", message="500")],
    )
    buffer = io.StringIO()
    Console(file=buffer, width=200, color_system=None).print(table([extraction]))
    out = buffer.getvalue()
    assert "[bold]not bold[/bold] at all" in out
    assert "Ana" in out
    assert "10–38" in out
    assert "1 quote, 1 chunk error" in out


# --- the HTML report ---------------------------------------------------------------------------------


@dataclass
class Piece:
    attrs: dict[str, str]
    offset: int
    text: str = ""


@dataclass
class Report(HTMLParser):
    """Reads one article container back: its text, and each marked element with its offset in that text."""

    container: str
    text: str = ""
    pieces: list[Piece] = field(default_factory=list)
    _open: list[Piece | None] = field(default_factory=list)
    _inside: bool = False

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if values.get("id") == self.container:
            self._inside = True
            self._open = [None]
        elif self._inside:
            piece = Piece(values, len(self.text)) if "data-start" in values else None
            if piece is not None:
                self.pieces.append(piece)
            self._open.append(piece)

    def handle_endtag(self, tag: str) -> None:
        if self._inside:
            self._open.pop()
            self._inside = bool(self._open)

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.text += data
            for piece in self._open:
                if piece is not None:
                    piece.text += data


def read_article(page: str, n: int = 1) -> Report:
    report = Report(f"text-{n}")
    report.feed(page)
    report.close()
    return report


def assert_highlights_match(page: str, extraction: Extraction, n: int = 1) -> Report:
    report = read_article(page, n)
    assert report.text == extraction.text
    for piece in report.pieces:
        start, end = int(piece.attrs["data-start"]), int(piece.attrs["data-end"])
        assert (piece.offset, piece.offset + len(piece.text)) == (start, end), piece
    for quote in extraction.quotes:
        mine = [p for p in report.pieces if p.attrs.get("data-quote-id") == quote.id]
        assert mine, f"{quote.id} is not highlighted"
        assert "".join(p.text for p in mine) == quote.text
        assert int(mine[0].attrs["data-start"]) == quote.start
        assert int(mine[-1].attrs["data-end"]) == quote.end
    return report


def test_every_quote_is_highlighted_over_its_offsets_including_cr_and_markup() -> None:
    extraction = make_extraction()
    page = to_html([extraction])
    report = assert_highlights_match(page, extraction)
    assert "\r" in report.text
    assert {p.attrs["data-quote-id"] for p in report.pieces if "data-quote-id" in p.attrs} == {
        "q1",
        "q2",
        "q3",
        "q4",
    }


def test_article_text_and_names_are_escaped() -> None:
    text = "<script>alert('x')</script> & “<b>bold</b> & co,” said <i>Zed</i>."
    extraction = make_extraction(
        text=text,
        id="<img src=x onerror=alert(1)>",
        quotes=[
            _quote(
                text,
                'q"1',
                "“<b>bold</b> & co,”",
                kind="direct",
                speaker=Speaker(name="<i>Zed</i>", mention="<i>Zed</i>"),
                cue="<said>",
                about=[Entity(name="<u>co</u>")],
            )
        ],
        warnings=["<blink>warning</blink>"],
    )
    page = to_html([extraction], title="<title> & more")
    assert "<script>alert" not in page
    assert "<b>bold" not in page
    assert "<i>Zed" not in page
    assert "<img" not in page
    assert "<blink>" not in page
    assert "<u>co" not in page
    assert "&lt;script&gt;alert('x')&lt;/script&gt; &amp; " in page
    assert "<title>&lt;title&gt; &amp; more</title>" in page
    assert_highlights_match(page, extraction)


def test_crossing_and_nested_spans_nest_as_elements() -> None:
    text = "Kim said that the deal “is off for now” and that it was never real."
    crossing_a = "the deal “is off"
    crossing_b = "“is off for now” and that"
    extraction = make_extraction(
        text=text,
        quotes=[
            _quote(text, "a", crossing_a, kind="mixed"),
            _quote(text, "b", crossing_b, kind="mixed"),
            _quote(
                text, "outer", "that the deal “is off for now” and that it was never real", kind="indirect"
            ),
            _quote(text, "inner", "is off for now", kind="direct"),
            _quote(text, "head", "that", kind="indirect"),
        ],
    )
    page = to_html([extraction])
    report = assert_highlights_match(page, extraction)
    count = Counter(p.attrs.get("data-quote-id") for p in report.pieces)
    assert count["a"] + count["b"] == 3, "one of two crossing spans is split in two"
    assert count["outer"] == count["head"] == 1, (
        "a span holding the others, or sharing its start, is not split"
    )


def test_quotes_at_the_start_and_at_the_end_of_the_text() -> None:
    text = "“Go now,” she said, and he replied “no”"
    extraction = make_extraction(
        text=text,
        quotes=[
            _quote(text, "first", "“Go now,”", kind="direct"),
            _quote(text, "last", "“no”", kind="direct"),
        ],
    )
    page = to_html([extraction])
    assert_highlights_match(page, extraction)
    assert re.search(r'<div class="text" id="text-1"><mark [^>]*data-quote-id="first"', page)
    assert re.search(r"“no”</mark></div>", page)


def test_split_quote_marks_the_words_between_its_fragments() -> None:
    text = "“Yes,” he said, “we agree.”"
    quote = _quote(text, "q1", text, kind="direct", spans=[(0, 6), (16, len(text))])
    page = to_html([make_extraction(text=text, quotes=[quote])])
    gaps = [p for p in read_article(page).pieces if p.attrs["class"] == "gap"]
    assert [g.text for g in gaps] == [" he said, "]


def test_verdict_badges_sit_on_the_evidence_and_in_the_verdicts_table() -> None:
    extraction = make_extraction()
    q2 = extraction.quotes[1]
    verdicts = [
        Verdict(
            claim=Claim(speaker="Ben Ortiz", quote="will strike if needed"),
            verdict="misattributed",
            score=0.9,
            evidence=Evidence(start=q2.start, end=q2.end, text=q2.text, quote_id=q2.id),
            actual_speaker="Mara Lind",
        ),
        Verdict(claim=Claim(speaker="Mara Lind", quote="we love the deal"), verdict="not_found", score=0.1),
    ]
    page = to_html([extraction], {extraction.id: verdicts})
    report = assert_highlights_match(page, extraction)
    evidence = [p for p in report.pieces if "ev" in p.attrs["class"].split()]
    assert len(evidence) == 1
    assert evidence[0].attrs["data-verdict"] == "misattributed"
    assert evidence[0].attrs["data-badge"] == "⇄ misattributed"
    assert evidence[0].text == q2.text
    assert (
        page.count('<span class="badge v-misattributed">') == 3
    )  # table row, quote tooltip, evidence tooltip
    assert '<span class="badge v-not_found">∅ not found</span>' in page
    assert 'href="#ev-1-1"' in page


def test_the_verdicts_table_shows_confidence_never_a_score_without_evidence_and_the_diff_once() -> None:
    extraction = make_extraction()
    q1 = extraction.quotes[0]
    altered = Verdict(
        claim=Claim(speaker="Mara Lind", quote="We will sign"),
        verdict="altered",
        score=88.0,
        confidence=0.88,
        evidence=Evidence(start=q1.start, end=q1.end, text=q1.text, quote_id=q1.id),
        diff=[
            DiffOp(op="equal", claim="We will", article="We will"),
            DiffOp(op="insert", claim="", article="not"),
            DiffOp(op="equal", claim="sign", article="sign"),
        ],
        explanation="said by Mara Lind; the wording differs: a negation added or dropped",
    )
    absent = Verdict(
        claim=Claim(speaker="Mara Lind", quote="we love the deal"),
        verdict="not_found",
        score=100.0,
        confidence=0.9,
    )
    unknown = Verdict(
        claim=Claim(speaker="Mara Lind", quote="talks would go on"),
        verdict="could_not_check",
        score=100.0,
        explanation="who said them is unknown",
    )
    page = to_html([extraction], {extraction.id: [altered, absent, unknown]})
    rows = verdict_rows(page)
    assert [row[2:4] for row in rows] == [["0.88", "88"], ["0.90", "—"], ["—", "—"]]
    assert "100" not in " ".join(rows[1] + rows[2])
    assert page.count("<ins>not</ins>") == 1  # in the diff column, not again in the explanation


def test_verdicts_for_an_article_not_in_the_report_are_an_error() -> None:
    verdict = Verdict(claim=Claim(speaker="A", quote="b"), verdict="not_found", score=0.0)
    with pytest.raises(ValueError, match="not in the report: elsewhere"):
        to_html([make_extraction()], {"elsewhere": [verdict]})


def test_side_table_rows_and_highlights_link_to_each_other() -> None:
    page = to_html([make_extraction()])
    for n in range(1, 5):
        assert re.search(rf'<mark [^>]*data-go="row-1-{n}"[^>]*id="q-1-{n}"', page)
        assert f'<tr id="row-1-{n}"' in page
        assert f'href="#q-1-{n}"' in page


def test_without_text_quotes_are_listed_and_the_page_says_why() -> None:
    extraction = make_extraction(text=None)
    page = to_html([extraction])
    assert "does not carry the article text" in page
    assert "data-quote-id" not in page
    assert "talks would go on" in page


def test_quotes_whose_offsets_do_not_match_are_reported_not_highlighted() -> None:
    extraction = make_extraction()
    bad = extraction.quotes[0].model_copy(update={"start": 1, "id": "bad"})
    page = to_html([extraction.model_copy(update={"quotes": [*extraction.quotes, bad]})])
    assert 'data-quote-id="bad"' not in page
    assert "quote bad: text[1:" in page


def test_chunk_errors_and_warnings_are_listed_and_failed_ranges_marked() -> None:
    error = ChunkError(chunk=1, start=48, end=100, kind="timeout", message="gave up after 3 tries")
    extraction = make_extraction(errors=[error], warnings=["dropped an answer not in the source"])
    page = to_html([extraction, make_extraction(id="clean")])
    assert "1 chunk error" in page
    assert "gave up after 3 tries" in page
    assert "dropped an answer not in the source" in page
    failed = [p for p in read_article(page).pieces if p.attrs["class"] == "failed"]
    assert (failed[0].offset, int(failed[-1].attrs["data-end"])) == (48, 100)
    assert '<nav class="index"' in page
    assert '<a href="#h-2">clean</a>' in page


def test_the_page_is_self_contained_and_its_inline_code_is_allowed_by_its_policy() -> None:
    page = to_html([make_extraction()])
    assert not re.search(r"(src|href)=\"(https?:)?//", page)
    assert "@import" not in page
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert policy is not None
    assert "default-src &#x27;none&#x27;" in policy.group(1)
    for tag in ("style", "script"):
        body = re.search(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert body is not None
        digest = base64.b64encode(hashlib.sha256(body.group(1).encode()).digest()).decode()
        assert f"sha256-{digest}" in policy.group(1)


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colours", [*PALETTE, UNKNOWN_COLOURS])
def test_text_over_every_speaker_colour_meets_wcag_aa(colours: tuple[str, str, str, str]) -> None:
    light, light_accent, dark, dark_accent = colours
    assert _contrast(INK[0], light) >= 4.5
    assert _contrast(INK[1], dark) >= 4.5
    assert _contrast(light_accent, light) >= 3
    assert _contrast(dark_accent, dark) >= 3


def test_every_verdict_label_has_a_badge_colour() -> None:
    css = to_html([make_extraction()])
    for label in get_args(VerdictLabel):
        assert re.search(rf"\.v-{label} \{{ --v: [^;]+; \}}", css), label
