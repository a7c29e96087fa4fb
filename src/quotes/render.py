"""Rendering Extractions: JSON, JSONL, CSV, a rich table, and a self-contained HTML report.

The report highlights every quote over its exact character offsets. Highlights come from an event sweep
over all spans (quotes, the gaps inside split quotes, verdict evidence, failed chunks), so overlapping
and nested spans become properly nested elements; a span cut by another is written as several pieces,
each with its own `data-start`/`data-end`, so `text[data-start:data-end]` is always the piece's text.
Every piece of text and every attribute goes through `html.escape`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import html
import io
import json
import re
from bisect import bisect_left
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib.resources import files
from itertools import pairwise

from rich.table import Table
from rich.text import Text

from quotes.schema import DiffOp, Extraction, Quote, SearchHit, Verdict, VerdictLabel

CSV_COLUMNS = (
    "article_id",
    "quote_id",
    "kind",
    "speaker",
    "speaker_mention",
    "speaker_start",
    "speaker_end",
    "speaker_type",
    "cue",
    "about",
    "text",
    "start",
    "end",
    "grounding",
    "chunk",
)

# str.splitlines() breaks lines on these, and JSON allows them raw inside strings; escaping them keeps
# one Extraction on exactly one line for every line reader.
_LINE_BREAKS_JSON_ALLOWS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def to_json(extractions: Extraction | Sequence[Extraction]) -> str:
    """One Extraction as a JSON object, a sequence of them as an array (of any length), newline-terminated."""
    if isinstance(extractions, Extraction):
        record: object = extractions.model_dump(mode="json")
    else:
        record = [extraction.model_dump(mode="json") for extraction in extractions]
    return json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def jsonl_line(extraction: Extraction) -> str:
    """One Extraction as one compact, newline-terminated JSON line, keys in schema order."""
    line = json.dumps(extraction.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _LINE_BREAKS_JSON_ALLOWS.items():
        line = line.replace(raw, escaped)
    return line + "\n"


def to_csv(extractions: Sequence[Extraction]) -> str:
    """One Quote per row under CSV_COLUMNS; newlines inside fields are quoted, absent values are empty."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for extraction in extractions:
        for quote in extraction.quotes:
            speaker = quote.speaker
            writer.writerow(
                [
                    extraction.id,
                    quote.id,
                    quote.kind,
                    speaker.name,
                    speaker.mention,
                    speaker.start,
                    speaker.end,
                    speaker.type,
                    quote.cue,
                    "; ".join(entity.name for entity in quote.about),
                    quote.text,
                    quote.start,
                    quote.end,
                    quote.grounding,
                    quote.chunk,
                ]
            )
    return buffer.getvalue()


def table(extractions: Sequence[Extraction]) -> Table:
    """A terminal table of quotes: speaker, cue, kind, the quote shortened, offsets."""
    several = len(extractions) > 1
    result = Table(title="quotes", title_justify="left", expand=False)
    if several:
        result.add_column("article", overflow="fold")
    result.add_column("speaker")
    result.add_column("cue")
    result.add_column("kind")
    result.add_column("quote", ratio=1)
    result.add_column("offsets", justify="right", no_wrap=True)
    quotes = errors = 0
    for extraction in extractions:
        errors += len(extraction.errors)
        for quote in sorted(extraction.quotes, key=_position):
            quotes += 1
            cells = [
                Text(_speaker_label(quote)),
                Text(quote.cue or "—"),
                Text(quote.kind),
                Text(shorten(quote.text, 90)),
                Text(f"{quote.start}–{quote.end}"),
            ]
            result.add_row(*([Text(extraction.id)] if several else []), *cells)
    result.caption = f"{plural(quotes, 'quote')}, {plural(errors, 'chunk error')}"
    return result


def to_html(
    extractions: Sequence[Extraction],
    verdicts: Mapping[str, Sequence[Verdict]] | None = None,
    title: str = "quotes report",
) -> str:
    """A self-contained HTML report (inline CSS and JS, no network) of the extractions and verdicts.

    `verdicts` maps an article id to the verdicts about that article; an id with no extraction is an error.
    """
    verdicts = verdicts or {}
    unknown = sorted(set(verdicts) - {extraction.id for extraction in extractions})
    if unknown:
        raise ValueError(f"verdicts given for articles that are not in the report: {', '.join(unknown)}")
    docs = [_Doc.build(n, e, verdicts.get(e.id, ())) for n, e in enumerate(extractions, 1)]
    css = stylesheet()
    js = report_script()
    policy = (
        f"default-src 'none'; style-src '{_csp_hash(css)}'; script-src '{_csp_hash(js)}'; "
        "img-src data:; base-uri 'none'; form-action 'none'"
    )
    total_quotes = sum(len(doc.extraction.quotes) for doc in docs)
    total_errors = sum(len(doc.extraction.errors) for doc in docs)
    summary = [plural(len(docs), "article"), plural(total_quotes, "quote")]
    if total_errors:
        summary.append(plural(total_errors, "chunk error"))
    if verdicts:
        summary.append(plural(sum(len(v) for v in verdicts.values()), "verdict"))
    return "".join(
        [
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
            f'<meta http-equiv="Content-Security-Policy" content="{_e(policy)}">\n',
            '<link rel="icon" href="data:,">\n',
            f"<title>{_e(title)}</title>\n<style>{css}</style>\n</head>\n<body>\n",
            f'<header class="top">\n<h1>{_e(title)}</h1>\n<p class="sub">{_e(" · ".join(summary))}</p>\n',
            LEGEND,
            "</header>\n",
            _index(docs) if len(docs) > 1 else "",
            "<main>\n",
            *(doc.html() for doc in docs),
            "</main>\n",
            '<div class="tip" id="tip" role="tooltip" hidden></div>\n',
            f"<script>{js}</script>\n</body>\n</html>\n",
        ]
    )


def article_html(
    extraction: Extraction,
    verdicts: Sequence[Verdict] = (),
    *,
    n: int = 1,
    check_link: Callable[[Quote], str] | None = None,
    verdict_table: bool = True,
) -> str:
    """One article as the report shows it (highlighted text, who said what, verdicts), for a page that
    supplies `stylesheet()`, `report_script()` and the `#tip` element itself. `n` numbers its element
    ids; `check_link` gives each statement a "check a claim about this" link to that URL;
    `verdict_table=False` marks the verdicts' evidence in the text without their table."""
    return _Doc.build(n, extraction, verdicts, check_link).html(verdict_table=verdict_table)


def report_script() -> str:
    """The report's script: tooltips on highlights and jumps between a highlight and its row."""
    return files("quotes").joinpath("assets/report.js").read_text(encoding="utf-8")


# --- shared helpers ----------------------------------------------------------------------------------


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _text(value: str) -> str:
    """Article text for element content. The HTML parser turns a raw CR into LF, a character reference
    survives, so the DOM's text content stays equal to the article text."""
    return html.escape(value, quote=False).replace("\r", "&#13;")


def plural(count: int, noun: str) -> str:
    """`1 quote`, `2 quotes`, `0 quotes`, `1,200 quotes`."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def shorten(text: str, width: int) -> str:
    """The text on one line, cut at a word boundary to at most `width` characters (with an ellipsis)."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    return flat[: width - 1].rsplit(" ", 1)[0].rstrip(",;:") + "…"


def _position(quote: Quote) -> tuple[int, int]:
    return quote.start, -quote.end


def _speaker_label(quote: Quote) -> str:
    return quote.speaker.name or quote.speaker.mention or "unknown speaker"


def _csp_hash(source: str) -> str:
    digest = base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii")
    return f"sha256-{digest}"


# Speaker colours: (highlight, accent) in light mode, then in dark mode. Text over every highlight meets
# WCAG AA (4.5:1) in both modes; accents (underlines, chip borders) reach 3:1 against the highlight.
# The hues verdicts speak in (green, orange, red, ochre, brown) are left out, so a verdict's colour is
# never read as a speaker's: tests hold every pair at least VERDICT_DISTANCE apart (CIEDE2000).
PALETTE: tuple[tuple[str, str, str, str], ...] = (
    ("#a5d8ff", "#1864ab", "#123a5c", "#74c0fc"),
    ("#fcc2d7", "#a61e4d", "#5c1a33", "#faa2c1"),
    ("#99e9f2", "#0b7285", "#0e4049", "#66d9e8"),
    ("#d0bfff", "#5f3dc4", "#35245e", "#b197fc"),
    ("#eebefa", "#862e9c", "#4a1f55", "#e599f7"),
    ("#dbe4ff", "#364fc7", "#242f66", "#91a7ff"),
)
UNKNOWN_COLOURS = ("#e9ecef", "#495057", "#343a40", "#adb5bd")
INK = ("#1a1a1a", "#ececec")

# Each verdict's colour, in both modes: a badge's background under white text (WCAG AA) and the outline
# of its evidence in the text.
VERDICT_COLOURS: dict[VerdictLabel, str] = {
    "supported": "#1b6e2e",
    "misattributed": "#b34700",
    "altered": "#c92a2a",
    "unattributed": "#8a6d00",
    "not_found": "#6b4f3a",
    "could_not_check": "#000000",
}
VERDICT_DISTANCE = 15.0


def stylesheet() -> str:
    """The report's stylesheet with the speaker colour classes."""
    base = files("quotes").joinpath("assets/report.css").read_text(encoding="utf-8")
    named = [(f"s{i}", colours) for i, colours in enumerate(PALETTE)] + [("su", UNKNOWN_COLOURS)]
    light = "".join(f".{name}{{--hl:{c[0]};--ac:{c[1]}}}" for name, c in named)
    dark = "".join(f".{name}{{--hl:{c[2]};--ac:{c[3]}}}" for name, c in named)
    verdicts = "".join(f".v-{label}{{--v:{colour}}}" for label, colour in VERDICT_COLOURS.items())
    return f"{base}{light}{verdicts}\n@media (prefers-color-scheme: dark){{{dark}}}\n"


LEGEND = (
    '<ul class="legend" aria-label="How to read the highlights">'
    "<li>colour: one per speaker in each article</li>"
    '<li><mark class="q su k-direct sample">direct</mark> solid underline</li>'
    '<li><mark class="q su k-mixed sample">mixed</mark> dashed</li>'
    '<li><mark class="q su k-indirect sample">indirect</mark> dotted</li>'
    '<li class="hint">hover or Tab to a highlight for details; Enter jumps to its row</li>'
    "</ul>\n"
)

_VERDICT_BADGES: dict[VerdictLabel, str] = {
    "supported": "✓ supported",
    "misattributed": "⇄ misattributed",
    "altered": "✎ altered",
    "unattributed": "? unattributed",
    "not_found": "∅ not found",
    "could_not_check": "⚠ could not check",
}


def _badge(label: VerdictLabel) -> str:
    return f'<span class="badge v-{label}">{_e(_VERDICT_BADGES[label])}</span>'


# --- highlighting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Span:
    """One span to mark in the text. `layer` orders spans with equal extents: lower is outer."""

    start: int
    end: int
    layer: int
    tag: str
    classes: str
    attrs: Mapping[str, str] = field(default_factory=dict)
    first_attrs: Mapping[str, str] = field(default_factory=dict)


@dataclass
class _Piece:
    span: _Span
    start: int
    first: bool
    depth: int
    end: int = -1

    def open_tag(self) -> str:
        classes = self.span.classes + (f" d{min(self.depth, 3)}" if self.span.tag == "mark" else "")
        attrs = {
            "class": classes,
            **self.span.attrs,
            "data-start": str(self.start),
            "data-end": str(self.end),
        }
        if self.first:
            attrs.update(self.span.first_attrs)
        return f"<{self.span.tag}" + "".join(f' {k}="{_e(v)}"' for k, v in attrs.items()) + ">"


_BLANK_LINE = re.compile(r"\n[^\S\n]*\n")
_SENTENCE_END = re.compile(r"[.!?…:][\"'”’)\]]*\s*$")


def soft_breaks(text: str) -> list[int]:
    """The offsets of the line breaks inside paragraphs (hard-wrapped source text), in order.

    In a text with blank lines between paragraphs, every break between two non-blank lines is soft. A
    text without any is taken to hold a paragraph a line, hard-wrapped: a break is soft unless the line
    before it ends a sentence or is the first line (a headline).
    """
    blank_separated = _BLANK_LINE.search(text.strip()) is not None
    soft = []
    lines = text.split("\n")
    offset = 0
    for n, (line, following) in enumerate(pairwise(lines)):
        offset += len(line)
        inside = line.strip() and following.strip()
        if inside and (blank_separated or not (n == 0 or _SENTENCE_END.search(line))):
            soft.append(offset)
        offset += 1
    return soft


def _article_text(text: str, left: int, right: int, soft: Sequence[int]) -> str:
    """`text[left:right]` for the report, each soft line break (with its CR) wrapped to be drawn as a
    space: the characters stay, so the DOM's text and every offset are the article's."""
    parts = []
    position = left
    for i in soft[bisect_left(soft, left) : bisect_left(soft, right)]:
        start = i - 1 if i - 1 >= position and text[i - 1] == "\r" else i
        parts += [_text(text[position:start]), f'<span class="nl">{_text(text[start : i + 1])}</span>']
        position = i + 1
    parts.append(_text(text[position:right]))
    return "".join(parts)


def _highlight(text: str, spans: Sequence[_Span]) -> str:
    """The text with every span marked, nested by extent; a span crossing another's end is split.

    A paragraph's single line breaks (`soft_breaks`) are drawn as spaces, so hard-wrapped source text
    flows; paragraph breaks stay."""
    soft = soft_breaks(text)
    live = [s for s in spans if 0 <= s.start < s.end <= len(text)]
    bounds = sorted({0, len(text), *(s.start for s in live), *(s.end for s in live)})
    starting: dict[int, list[_Span]] = {}
    for s in live:
        starting.setdefault(s.start, []).append(s)

    def order(s: _Span) -> tuple[int, int, int]:
        return s.start, -s.end, s.layer

    active: list[_Span] = []
    stack: list[_Piece] = []
    started: set[int] = set()
    out: list[str | _Piece] = []
    for left, right in pairwise(bounds):
        active = [s for s in active if s.end > left] + starting.get(left, [])
        want = sorted(active, key=order)
        keep = 0
        while keep < min(len(stack), len(want)) and stack[keep].span is want[keep]:
            keep += 1
        while len(stack) > keep:
            piece = stack.pop()
            piece.end = left
            out.append(f"</{piece.span.tag}>")
        for span in want[keep:]:
            depth = sum(p.span.tag == "mark" for p in stack)
            piece = _Piece(span, left, first=id(span) not in started, depth=depth)
            started.add(id(span))
            stack.append(piece)
            out.append(piece)
        out.append(_article_text(text, left, right, soft))
    while stack:
        piece = stack.pop()
        piece.end = len(text)
        out.append(f"</{piece.span.tag}>")
    return "".join(part if isinstance(part, str) else part.open_tag() for part in out)


# --- one article -------------------------------------------------------------------------------------


@dataclass
class _Doc:
    n: int
    extraction: Extraction
    verdicts: Sequence[Verdict]
    quotes: list[Quote]
    colour: dict[str, str]
    shown: set[int]
    evidence_shown: set[int]
    problems: list[str]
    check_link: Callable[[Quote], str] | None = None

    @classmethod
    def build(
        cls,
        n: int,
        extraction: Extraction,
        verdicts: Sequence[Verdict],
        check_link: Callable[[Quote], str] | None = None,
    ) -> _Doc:
        quotes = sorted(extraction.quotes, key=_position)
        colour: dict[str, str] = {}
        for quote in quotes:
            key = _speaker_label(quote)
            if key not in colour:
                known = quote.speaker.name or quote.speaker.mention
                colour[key] = f"s{len(colour) % len(PALETTE)}" if known else "su"
        text = extraction.text
        problems: list[str] = []
        shown: set[int] = set()
        evidence_shown: set[int] = set()
        if text is not None:
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != extraction.text_sha256:
                problems.append("the article text does not match text_sha256: offsets may be off")
            for i, quote in enumerate(quotes):
                if 0 <= quote.start < quote.end <= len(text) and text[quote.start : quote.end] == quote.text:
                    shown.add(i)
                else:
                    problems.append(
                        f"quote {quote.id}: text[{quote.start}:{quote.end}] is not the quote's text; "
                        "it is listed but not highlighted"
                    )
            for k, verdict in enumerate(verdicts):
                ev = verdict.evidence
                if ev is None:
                    continue
                if 0 <= ev.start < ev.end <= len(text) and text[ev.start : ev.end] == ev.text:
                    evidence_shown.add(k)
                else:
                    problems.append(f"verdict {k + 1}: evidence text[{ev.start}:{ev.end}] does not match")
        return cls(n, extraction, verdicts, quotes, colour, shown, evidence_shown, problems, check_link)

    def anchor(self, kind: str, i: int) -> str:
        return f"{kind}-{self.n}-{i + 1}"

    def spans(self) -> list[_Span]:
        spans = [
            _Span(
                error.start,
                error.end,
                0,
                "span",
                "failed",
                {"title": f"chunk {error.chunk} failed ({error.kind}): no quotes were extracted here"},
                {"data-badge": f"⚠ chunk {error.chunk} failed"},
            )
            for error in self.extraction.errors
        ]
        for k, verdict in enumerate(self.verdicts):
            ev = verdict.evidence
            if ev is None or k not in self.evidence_shown:
                continue
            tip = self.anchor("dv", k)
            spans.append(
                _Span(
                    ev.start,
                    ev.end,
                    1,
                    "span",
                    f"ev v-{verdict.verdict}",
                    {"data-verdict": verdict.verdict, "data-tip": tip, "aria-describedby": tip},
                    {
                        "id": self.anchor("ev", k),
                        "tabindex": "0",
                        "data-badge": _VERDICT_BADGES[verdict.verdict],
                        "data-go": self.anchor("vrow", k),
                    },
                )
            )
        for i, quote in enumerate(self.quotes):
            if i not in self.shown:
                continue
            tip = self.anchor("d", i)
            spans.append(
                _Span(
                    quote.start,
                    quote.end,
                    2,
                    "mark",
                    f"q {self.colour[_speaker_label(quote)]} k-{quote.kind}",
                    {
                        "data-quote-id": quote.id,
                        "data-tip": tip,
                        "aria-describedby": tip,
                        "data-go": self.anchor("row", i),
                    },
                    {"id": self.anchor("q", i), "tabindex": "0", "role": "link", "data-n": str(i + 1)},
                )
            )
            fragments = sorted(quote.fragments())
            for (_, gap_start), (gap_end, _) in pairwise(fragments):
                if quote.start <= gap_start < gap_end <= quote.end:
                    spans.append(_Span(gap_start, gap_end, 3, "span", "gap"))
        return spans

    def html(self, *, verdict_table: bool = True) -> str:
        e = self.extraction
        return "".join(
            [
                f'<article class="doc" id="a-{self.n}" aria-labelledby="h-{self.n}">\n',
                f'<h2 id="h-{self.n}" tabindex="-1">{_e(e.id)}</h2>\n',
                f'<p class="prov">{_e(self._provenance())}</p>\n',
                self._problems(),
                f'<div class="layout{"" if e.text is not None else " bare"}">\n<div class="main">\n',
                self._body(),
                "</div>\n",
                f'<aside class="side" aria-label="Who said what in {_e(e.id)}">\n',
                self._who(),
                "</aside>\n</div>\n",
                self._verdicts() if verdict_table else "",
                *(self._description(i, q) for i, q in enumerate(self.quotes) if i in self.shown),
                *(
                    self._verdict_description(k, v)
                    for k, v in enumerate(self.verdicts)
                    if k in self.evidence_shown
                ),
                "</article>\n",
            ]
        )

    def _provenance(self) -> str:
        e = self.extraction
        parts = [f"source {e.source}" if e.source else None, f"backend {e.backend}"]
        parts += [f"model {e.model}" if e.model else None, f"prompt {e.prompt}" if e.prompt else None]
        if e.usage.requests:
            parts.append(
                f"{plural(e.usage.requests, 'request')}, {e.usage.input_tokens} tokens in, "
                f"{e.usage.output_tokens} out"
            )
        return " · ".join(p for p in parts if p)

    def _problems(self) -> str:
        e = self.extraction
        blocks = []
        if e.errors:
            items = "".join(
                f"<li>chunk {err.chunk}, characters {err.start}–{err.end} (<code>{_e(err.kind)}</code>): "
                f"{_e(err.message)}</li>"
                for err in e.errors
            )
            blocks.append(
                f'<section class="errors" aria-label="Chunk errors"><h3>'
                f"{plural(len(e.errors), 'chunk error')} — quotes in these ranges are missing"
                f"</h3><ul>{items}</ul></section>"
            )
        warnings = [*e.warnings, *self.problems]
        if warnings:
            items = "".join(f"<li>{_e(w)}</li>" for w in warnings)
            heading = plural(len(warnings), "warning")
            blocks.append(
                f'<section class="warnings" aria-label="Warnings"><h3>{heading}</h3>'
                f"<ul>{items}</ul></section>"
            )
        return f'<div class="problems">{"".join(blocks)}</div>\n' if blocks else ""

    def _body(self) -> str:
        text = self.extraction.text
        if text is None:
            return (
                '<p class="notext" role="note">This extraction does not carry the article text, so its '
                "quotes are listed without highlighting. Extract with the text kept to see them in place."
                "</p>\n"
            )
        return f'<div class="text" id="text-{self.n}">{_highlight(text, self.spans())}</div>\n'

    def _who(self) -> str:
        """Quotes grouped by speaker (in order of first appearance), each row linked to its highlight."""
        if not self.quotes:
            return '<h3>Who said what</h3>\n<p class="sub">No quotes were found in this article.</p>\n'
        groups: dict[str, list[int]] = {}
        for i, quote in enumerate(self.quotes):
            groups.setdefault(_speaker_label(quote), []).append(i)
        bodies = []
        for who, members in groups.items():
            count = plural(len(members), "quote")
            rows = [
                f'<tr class="spk"><th colspan="3" scope="rowgroup"><span class="chip {self.colour[who]}">'
                f'</span>{_e(who)} <span class="count">{count}</span></th></tr>'
            ]
            rows += [self._who_row(i) for i in members]
            bodies.append(f"<tbody>{''.join(rows)}</tbody>")
        return (
            "<h3>Who said what about whom</h3>\n"
            '<table class="who"><thead><tr><th class="num">#</th><th>quote</th><th>about</th></tr></thead>'
            f"{''.join(bodies)}</table>\n"
        )

    def _who_row(self, i: int) -> str:
        quote = self.quotes[i]
        number = str(i + 1)
        if i in self.shown:
            label = f"quote {i + 1} in the text"
            number = f'<a class="n" href="#{self.anchor("q", i)}" aria-label="{label}">{i + 1}</a>'
        said = shorten(quote.text, 220) if self.extraction.text is not None else quote.text
        meta = [quote.cue or "no cue", quote.kind]
        if quote.speaker.mention and quote.speaker.mention != quote.speaker.name:
            meta.append(f"as “{quote.speaker.mention}”")
        about = "; ".join(entity.name for entity in quote.about)
        check = (
            f' · <a class="check" href="{_e(self.check_link(quote))}">check a claim about this</a>'
            if self.check_link is not None
            else ""
        )
        return (
            f'<tr id="{self.anchor("row", i)}" tabindex="-1"><td class="num">{number}</td>'
            f'<td><span class="said">{_e(said)}</span><div class="meta">{_e(" · ".join(meta))}{check}</div>'
            "</td>"
            f'<td class="about">{_e(about) if about else "<span class=zero>—</span>"}</td></tr>'
        )

    def _verdicts(self) -> str:
        if not self.verdicts:
            return ""
        rows = []
        for k, v in enumerate(self.verdicts):
            evidence = "—"
            if v.evidence is not None:
                span = f"{v.evidence.start}–{v.evidence.end}"
                evidence = (
                    f'<a href="#{self.anchor("ev", k)}">{span}</a>' if k in self.evidence_shown else _e(span)
                )
            diff = diff_html(v.diff)
            note = f'<div class="meta">{_e(v.explanation)}</div>' if v.explanation else ""
            rows.append(
                f'<tr id="{self.anchor("vrow", k)}" tabindex="-1"><td>{_badge(v.verdict)}</td>'
                f"<td>{_e(v.claim.speaker)}: “{_e(v.claim.quote)}”{note}</td>"
                f'<td class="num">{_e(confidence_text(v))}</td><td class="num">{_e(score_text(v))}</td>'
                f"<td>{evidence}</td><td>{_e(v.actual_speaker or '—')}</td><td>{diff or '—'}</td></tr>"
            )
        return (
            f'<section class="verdicts" aria-labelledby="vh-{self.n}"><h3 id="vh-{self.n}">Verdicts</h3>\n'
            '<table><thead><tr><th>verdict</th><th>claim</th><th class="num">confidence</th>'
            '<th class="num">similarity</th><th>evidence</th><th>actually said by</th>'
            f"<th>claim → article</th></tr></thead><tbody>{''.join(rows)}</tbody></table></section>\n"
        )

    def _description(self, i: int, quote: Quote) -> str:
        speaker = quote.speaker
        mention = (
            f' <span class="mention">as “{_e(speaker.mention)}”</span>'
            if speaker.mention and speaker.mention != speaker.name
            else ""
        )
        role = f", {_e(speaker.role)}" if speaker.role else ""
        about = "; ".join(entity.name for entity in quote.about) or "—"
        rows = [
            ("cue", quote.cue or "—"),
            ("kind", quote.kind),
            ("about", about),
            ("grounding", quote.grounding),
            ("characters", f"{quote.start}–{quote.end} · chunk {quote.chunk}"),
        ]
        badges = "".join(
            f" {_badge(v.verdict)}"
            for v in self.verdicts
            if v.evidence is not None and v.evidence.quote_id == quote.id
        )
        return (
            f'<div class="desc" id="{self.anchor("d", i)}" hidden><p>'
            f'<span class="chip {self.colour[_speaker_label(quote)]}"></span>'
            f"<b>{_e(_speaker_label(quote))}</b>{role}{mention} · quote {i + 1}</p><dl>"
            + "".join(f"<dt>{k}</dt><dd>{_e(v)}</dd>" for k, v in rows)
            + f"</dl>{badges}</div>\n"
        )

    def _verdict_description(self, k: int, verdict: Verdict) -> str:
        actual = f"<dt>said by</dt><dd>{_e(verdict.actual_speaker)}</dd>" if verdict.actual_speaker else ""
        return (
            f'<div class="desc" id="{self.anchor("dv", k)}" hidden><p>{_badge(verdict.verdict)} '
            f"confidence {_e(confidence_text(verdict))}</p><dl><dt>claim</dt>"
            f"<dd>{_e(verdict.claim.speaker)}: “{_e(verdict.claim.quote)}”</dd>{actual}</dl></div>\n"
        )


def diff_html(ops: Sequence[DiffOp]) -> str:
    """A word diff from the claim to the article: the claim's words struck out, the article's inserted."""
    parts = []
    for op in ops:
        if op.op == "equal":
            parts.append(_e(op.claim) + " ")
            continue
        parts.append(f"<del>{_e(op.claim)}</del> " if op.claim else "")
        parts.append(f"<ins>{_e(op.article)}</ins> " if op.article else "")
    return "".join(parts)


def _index(docs: Sequence[_Doc]) -> str:
    has_verdicts = any(doc.verdicts for doc in docs)

    def cell(count: int, tone: str = "") -> str:
        cls = "zero" if not count else tone
        return f'<td class="num {cls}">{count}</td>'

    rows = []
    for doc in docs:
        e = doc.extraction
        rows.append(
            f'<tr><td class="num">{doc.n}</td><td><a href="#h-{doc.n}">{_e(e.id)}</a></td>'
            + cell(len(e.quotes))
            + cell(len(doc.colour))
            + cell(len(e.errors), "nonzero-bad")
            + cell(len(e.warnings) + len(doc.problems), "nonzero-warn")
            + (cell(len(doc.verdicts)) if has_verdicts else "")
            + "</tr>"
        )
    totals = [
        sum(len(d.extraction.quotes) for d in docs),
        sum(len(d.colour) for d in docs),
        sum(len(d.extraction.errors) for d in docs),
        sum(len(d.extraction.warnings) + len(d.problems) for d in docs),
    ] + ([sum(len(d.verdicts) for d in docs)] if has_verdicts else [])
    heads = ["quotes", "speakers", "errors", "warnings"] + (["verdicts"] if has_verdicts else [])
    return (
        '<nav class="index" aria-label="Articles"><h3>Articles</h3><table><thead><tr><th class="num">#</th>'
        "<th>article</th>"
        + "".join(f'<th class="num">{h}</th>' for h in heads)
        + f"</tr></thead><tbody>{''.join(rows)}</tbody><tfoot><tr><td></td><td>all</td>"
        + "".join(f'<td class="num">{t}</td>' for t in totals)
        + "</tr></tfoot></table></nav>\n"
    )


# --- verdicts of `quotes verify` ---------------------------------------------------------------------


def diff_text(ops: Sequence[DiffOp]) -> str:
    """A diff on one line, wdiff style: `[-claim's words-]{+article's words+}`."""
    parts = []
    for op in ops:
        if op.op == "equal":
            parts.append(op.article)
            continue
        if op.claim:
            parts.append(f"[-{op.claim}-]")
        if op.article:
            parts.append(f"{{+{op.article}+}}")
    return " ".join(parts)


def confidence_text(verdict: Verdict) -> str:
    """The verdict's confidence for people, or a dash when there is none (could_not_check)."""
    return "—" if verdict.confidence is None else f"{verdict.confidence:.2f}"


def score_text(verdict: Verdict) -> str:
    """The similarity of the claim to its evidence, or a dash when there is no evidence to be like (a
    score of a missing or unchecked span would mislead)."""
    if verdict.evidence is None or verdict.verdict == "could_not_check":
        return "—"
    return f"{verdict.score:.0f}"


VERDICT_CSV_COLUMNS = (
    "claim_id",
    "speaker",
    "quote",
    "verdict",
    "confidence",
    "score",
    "actual_speaker",
    "evidence_start",
    "evidence_end",
    "evidence_text",
    "evidence_mention",
    "quote_id",
    "diff",
    "problems",
    "variants",
    "article_id",
    "backend",
    "prompt",
    "explanation",
)
_VERDICT_STYLES: dict[VerdictLabel, str] = {
    "supported": "bold green",
    "misattributed": "bold magenta",
    "altered": "bold yellow",
    "unattributed": "bold cyan",
    "not_found": "bold red",
    "could_not_check": "bold white on red",
}


def verdicts_json(verdicts: Sequence[Verdict]) -> str:
    return json.dumps([v.model_dump(mode="json") for v in verdicts], ensure_ascii=False, indent=2) + "\n"


def verdicts_jsonl(verdicts: Sequence[Verdict]) -> str:
    return "".join(v.model_dump_json() + "\n" for v in verdicts)


def verdicts_csv(verdicts: Sequence[Verdict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(VERDICT_CSV_COLUMNS)
    for v in verdicts:
        ev = v.evidence
        writer.writerow(
            [
                v.claim.id or "",
                v.claim.speaker,
                v.claim.quote,
                v.verdict,
                "" if v.confidence is None else f"{v.confidence:.3f}",
                "" if v.verdict == "could_not_check" else f"{v.score:.2f}",
                v.actual_speaker or "",
                "" if ev is None else ev.start,
                "" if ev is None else ev.end,
                "" if ev is None else ev.text,
                "" if ev is None or ev.speaker is None else ev.speaker.mention or "",
                "" if ev is None else ev.quote_id or "",
                diff_text(v.diff),
                " ".join(v.problems),
                "; ".join(v.variants),
                v.article_id or "",
                v.backend or "",
                v.prompt or "",
                v.explanation or "",
            ]
        )
    return out.getvalue()


def verdicts_table(verdicts: Sequence[Verdict]) -> Table:
    table = Table(show_lines=True)
    table.add_column("claim", ratio=3)
    table.add_column("verdict", no_wrap=True)
    table.add_column("confidence", justify="right", no_wrap=True)
    table.add_column("evidence", ratio=3)
    table.add_column("said by", ratio=2)
    table.add_column("why", ratio=4)
    for n, v in enumerate(verdicts, start=1):
        label = v.claim.id or str(n)
        evidence = (
            "—"
            if v.evidence is None
            else f"{' '.join(v.evidence.text.split())} [{v.evidence.start}–{v.evidence.end}]"
        )
        why = v.explanation or ""
        if v.diff:
            why += f"\nclaim → article: {diff_text(v.diff)}"
        table.add_row(
            f"{label}. {v.claim.speaker}: “{v.claim.quote}”",
            Text(v.verdict, style=_VERDICT_STYLES[v.verdict]),
            confidence_text(v),
            evidence,
            v.actual_speaker or "—",
            why,
        )
    return table


# --- the quote archive ---------------------------------------------------------------------------------


def hits_json(hits: Sequence[SearchHit]) -> str:
    return json.dumps([h.model_dump(mode="json") for h in hits], ensure_ascii=False, indent=2) + "\n"


def hits_jsonl(hits: Sequence[SearchHit]) -> str:
    return "".join(h.model_dump_json() + "\n" for h in hits)


def hits_table(hits: Sequence[SearchHit]) -> Table:
    """Search hits best first: where each statement stands (article, date, offsets) and who said it."""
    table = Table(show_lines=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("article", ratio=2)
    table.add_column("date", no_wrap=True)
    table.add_column("speaker", ratio=2)
    table.add_column("statement", ratio=6)
    for hit in hits:
        quote = hit.quote
        table.add_row(
            str(hit.rank),
            f"{hit.score:.2f}",
            f"{hit.article_id} [{quote.start}–{quote.end}]",
            hit.date or "—",
            _speaker_label(quote),
            f"{' '.join(quote.text.split())}" + (f" ({quote.cue})" if quote.cue else ""),
        )
    return table


def archive_verdicts_table(verdicts: Sequence[Verdict]) -> Table:
    """Verdicts across a quote archive: each claim's verdict, then every article's evidence earliest
    first, with the verdict that article alone gives."""
    table = Table(show_lines=True)
    table.add_column("claim / where", ratio=3)
    table.add_column("verdict", no_wrap=True)
    table.add_column("evidence", ratio=4)
    table.add_column("said by", ratio=2)
    for n, v in enumerate(verdicts, start=1):
        label = v.claim.id or str(n)
        table.add_row(
            f"{label}. {v.claim.speaker}: “{v.claim.quote}”",
            Text(v.verdict, style=_VERDICT_STYLES[v.verdict]),
            v.explanation or "",
            v.actual_speaker or "—",
        )
        for ev in v.evidence_all:
            where = f"  {ev.article_id}" + (f" ({ev.date})" if ev.date else "")
            said = (ev.speaker.name or ev.speaker.mention) if ev.speaker else None
            table.add_row(
                where,
                Text(ev.verdict or "", style=_VERDICT_STYLES[ev.verdict] if ev.verdict else ""),
                f"{' '.join(ev.text.split())} [{ev.start}–{ev.end}]",
                said or "—",
            )
    return table
