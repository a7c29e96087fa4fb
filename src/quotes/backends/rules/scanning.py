"""Quotation scanning and text structure: paragraphs, paired quotation marks, sentences and words.

Every pass is linear over the text; the regexes are compiled once at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from quotes.backends.rules.lexicon import ABBREVIATIONS

Span = tuple[int, int]

_PARA_RE = re.compile(r"\n[ \t\u00a0]*\n\s*")

_MARK_RE = re.compile(r"''|``|[\"“”«»„]")

_OPENERS = "“«„`"

_CLOSERS = "”»"

_SENT_END_RE = re.compile(
    r"(?=[.!?\n \t])(?:[.!?]+[\"”’'»)]*(?=\s+(?:''|[\"“‘'«(])?[A-Z0-9])|\n(?=[ \t]*[\"“«'])"
    r"|(?<=[.!?:;”\"])[ \t]*\n)"
)

_WORD_RE = re.compile(
    r"(?=\S)(?:(?:[A-Za-z]\.){2,}|(?:Mrs|Mr|Ms|Dr|Gov|Sens?|Reps?|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Rev|Prof|Ft|Mt)\."
    r"|[A-Z]\.|[\w$][\w’'&$-]*|[^\w\s])"
)

ALNUM_RE = re.compile(r"\w")


@dataclass
class QuoteUnit:
    """A run of quoted text: fragments include their marks; `closed` is False when a paragraph ended it."""

    fragments: list[Span]
    closed: bool = True

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


def paragraph_spans(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for match in _PARA_RE.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if e > s]


_SINGLE_MARK_RE = re.compile(r"[‘’']")
# A straight or curly apostrophe that opens no quotation: '90s, rock 'n' roll, 'em, 'til, 'tis
_ELISION_RE = re.compile(r"[’'](?:\d\d|n[’']|em\b|til\b|cause\b|tis\b|twas\b)", re.IGNORECASE)


def single_marks_quote(text: str) -> bool:
    """Whether `text` sets its quotations in single marks (British style, ‘…’ or '…', any double marks
    nested inside them): it has more single-quoted passages than double marks outside them."""
    if "'" not in text and "‘" not in text:
        return False
    passages: list[Span] = []
    open_at = None
    for match in _SINGLE_MARK_RE.finditer(text):
        role = _single_role(text, match.start(), match.group())
        if role == "open":
            open_at = match.start()
        elif role == "close" and open_at is not None:
            passages.append((open_at, match.end()))
            open_at = None
    if not passages:
        return False
    outside = sum(1 for m in _MARK_RE.finditer(text) if not any(s < m.start() < e for s, e in passages))
    return outside < len(passages)


def _single_role(text: str, i: int, mark: str) -> str:
    """A single mark's part: "none" for an apostrophe (Smith's, don’t, '90s, rock 'n' roll, players' …)."""
    before = text[i - 1] if i > 0 else " "
    after = text[i + 1] if i + 1 < len(text) else " "
    if (before.isalnum() and after.isalnum()) or _ELISION_RE.match(text, i):
        return "none"
    if before in "nN" and after == " " and text[i - 2 : i - 1] == " ":
        return "none"  # the second mark of rock 'n' roll
    opens = (before.isspace() or before in "([{—–-/\u00a0" or i == 0) and (after.isalnum() or after in '“"')
    closes = not before.isspace() and (
        after.isspace() or after in ',.;:!?)]}—–-\u00a0”"' or i + 1 == len(text)
    )
    if mark == "‘" and not closes:
        return "open"
    if opens and not closes:
        return "open"
    if closes and not opens:
        if before == "s" and after == " " and text[i + 2 : i + 3].islower():
            return "none"  # the players' union
        return "close"
    return "none"


def _mark_role(text: str, i: int, mark: str) -> str:
    if mark == "“" and 0 < i < len(text) - 1 and text[i - 1] in ",.!?" and text[i + 1].isspace():
        return "either"  # a typo'd closer: “…,“ she said
    if mark[0] in _OPENERS:
        return "open"
    if mark in _CLOSERS:
        return "close"
    before = text[i - 1] if i > 0 else " "
    after_i = i + len(mark)
    after = text[after_i] if after_i < len(text) else " "
    opens = before.isspace() or before in "([{—–-/\u00a0" or i == 0
    closes = after.isspace() or after in ",.;:!?)]}—–-\u00a0" or after_i == len(text)
    if opens and not closes:
        return "open"
    if closes and not opens:
        return "close"
    return "either"


def _line_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\u00a0":
        j -= 1
    return j < 0 or text[j] == "\n"


def trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def quote_units(text: str, paragraphs: Sequence[Span]) -> list[QuoteUnit]:
    """Pair quotation marks; unclosed quotes end at their paragraph and continue at the next opener.

    The marks are double ones, or single ones in a text that sets its quotations in them
    (`single_marks_quote`), the double marks then being quotations nested inside."""
    single = single_marks_quote(text)
    marks = _SINGLE_MARK_RE if single else _MARK_RE
    roles = _single_role if single else _mark_role
    units: list[QuoteUnit] = []
    para_ends = [e for _, e in paragraphs]
    pi = 0
    open_at: int | None = None
    pending: QuoteUnit | None = None

    pending_para = -1  # the paragraph the pending quotation was left open in

    def close_unclosed(end: int) -> None:
        nonlocal open_at, pending, pending_para
        assert open_at is not None
        end = trim_end(text, open_at, end)
        unit = pending or QuoteUnit([], closed=False)
        unit.fragments.append((open_at, end))
        unit.closed = False
        pending = unit
        pending_para = pi
        open_at = None

    for match in marks.finditer(text):
        i, mark = match.start(), match.group()
        while pi < len(para_ends) and para_ends[pi] <= i:
            if open_at is not None:
                close_unclosed(para_ends[pi])
            pi += 1
        role = roles(text, i, mark)
        if role == "none":
            continue
        if open_at is None:
            if role == "close":
                continue
            if pending is not None and (not _line_start(text, i) or pi > pending_para + 1):
                # a quotation continues only at the start of the very next paragraph
                units.append(pending)
                pending = None
            open_at = i
            continue
        if role == "open" or (role == "either" and _line_start(text, i) and "\n" in text[open_at:i]):
            newline = text.rfind("\n", open_at, i)
            if _line_start(text, i) and newline >= 0:
                close_unclosed(newline)
                open_at = i
            else:
                close_unclosed(i)
                assert pending is not None
                units.append(pending)
                pending = None
                open_at = i
            continue
        end = match.end()
        if pending is not None:
            pending.fragments.append((open_at, end))
            pending.closed = True
            units.append(pending)
            pending = None
        else:
            units.append(QuoteUnit([(open_at, end)]))
        open_at = None
    if open_at is not None:
        close_unclosed(para_ends[-1] if para_ends else len(text))
    if pending is not None:
        units.append(pending)
    return [u for u in units if any(ALNUM_RE.search(text, s, e) for s, e in u.fragments)]


def _is_abbreviation(text: str, dot: int) -> bool:
    j = dot
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "."):
        j -= 1
    word = text[j:dot].lower()
    if len(word) == 1 and word.isalpha():
        return True
    return word in ABBREVIATIONS


def sentence_spans(text: str, paragraphs: Sequence[Span], masked: Sequence[Span]) -> list[Span]:
    """Sentence spans; boundaries inside `masked` (long quotes) are ignored, but a quote that ends its
    sentence (“… for good.” Then …) ends it outside too."""
    inside = bytearray(len(text) + 1)
    for s, e in masked:
        inside[s + 1 : e] = b"\x01" * max(0, e - s - 1)
    quote_ends = {e for _, e in masked}
    spans: list[Span] = []
    for p_start, p_end in paragraphs:
        pos = p_start
        for match in _SENT_END_RE.finditer(text, p_start, p_end):
            cut = match.end()
            if inside[cut] or (inside[match.start()] and match.group()[0] in ".!?" and cut not in quote_ends):
                continue
            if match.group()[0] == "." and _is_abbreviation(text, match.start()):
                continue
            if cut > pos:
                spans.append((pos, cut))
            pos = cut
            while pos < p_end and text[pos].isspace():
                pos += 1
        if p_end > pos:
            spans.append((pos, p_end))
    return spans


def tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(text, start, end)]


def strip_span(text: str, start: int, end: int) -> Span:
    while start < end and (text[start].isspace() or text[start] in ",:;—–-"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",.:;—–-"):
        end -= 1
    return start, end


def count_words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


_ASCII_ALNUM = bytes(int(chr(b).isalnum()) for b in range(256))

_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def alnum_mask(text: str) -> bytes:
    """One byte per character, 1 where it is a letter or digit, with C-level work for the ASCII majority."""
    mask = text.encode("ascii", "replace").translate(_ASCII_ALNUM)
    if text.isascii():
        return mask
    patched = bytearray(mask)
    for match in _NON_ASCII_RE.finditer(text):
        patched[match.start() : match.end()] = bytes(map(str.isalnum, match.group()))
    return bytes(patched)


_TAG_RE = re.compile(r"<(?:(/?)([A-Za-z][A-Za-z0-9-]*)(?:\s[^<>]*)?/?|!--.*?--)>", re.DOTALL)
_BLOCK_TAGS = frozenset(
    [
        *("address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main"),
        *("nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"),
    ]
)


def without_markup(text: str) -> str:
    """`text` with any HTML or XML tags in it blanked out, character for character (so offsets hold): a
    block tag (<p>, <br>, <div> …) becomes a paragraph break, which no quotation runs across; any other
    tag, a comment or the quotation marks in its attributes become spaces."""
    if "<" not in text:
        return text
    parts: list[str] = []
    pos = 0
    for match in _TAG_RE.finditer(text):
        parts.append(text[pos : match.start()])
        size = match.end() - match.start()
        block = (match.group(2) or "").lower() in _BLOCK_TAGS
        parts.append("\n\n" + " " * (size - 2) if block and size >= 2 else " " * size)
        pos = match.end()
    parts.append(text[pos:])
    return "".join(parts)
