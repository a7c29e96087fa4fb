"""Splitting an article into overlapping chunks at paragraph and sentence boundaries, offsets kept.

Everything here is regex-driven and linear in the length of the text: the rules backend runs
`sentence_spans` on every article, and `chunk_text` must handle corpus-sized inputs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Chunk:
    """`text == article_text[start:end]`; `index` is the chunk's position in the article."""

    index: int
    start: int
    end: int
    text: str


# Words whose period does not end a sentence (case-sensitive): abbreviations common in news, single
# initials ("John F. Kennedy") and dotted initialisms ("U.S.", "D.C.").
_ABBREVIATION = re.compile(
    r"Mrs?|Ms|Dr|Gov|Sen|Rep|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Inc|Corp|Co|Ltd"
    r"|Jan|Feb|Mar|Apr|Aug|Sept|Oct|Nov|Dec|No|vs|etc|(?:[A-Z]\.)*[A-Z]"
)
_OPENERS = "\"'“‘„‚«‹([{`"

# A break is either a run of terminal punctuation (matched from its first character only, and
# possessively, so a long run costs linear time) with its closing quotes/brackets, then whitespace not
# followed by a lowercase ASCII letter (`"Why?" he asked` is one sentence) or the end of the text;
# or a blank line, which always ends a sentence. Both branches share one leading character class,
# which keeps the scan fast.
_BREAK = re.compile(
    r"""[.!?…\n](?:"""
    r"""(?<=[.!?…])(?<![.!?…].)[.!?…]*+["'”’»›)\]]*+(?:(?=\s)(?!\s*+[a-z])|\Z)"""
    r"""|(?<=\n)(?:[^\S\n]*+\n)++)"""
)
_NON_SPACE = re.compile(r"\S")
_BLANK_LINE = re.compile(r"\n(?:[^\S\n]*+\n)++")
_LAST_SPACE = re.compile(r"(?s).*\s")
_SPACE_RUN = re.compile(r"\s+")
# How far past a range's end a break may still be looked at (closing marks after a final period).
_LOOKAHEAD = 256


def _next_non_space(text: str, pos: int, limit: int) -> int:
    """The first non-space position in [pos, limit), or `limit`: bounded, so runs of blank lines
    spanning many chunks are not rescanned by each of them."""
    m = _NON_SPACE.search(text, pos, limit)
    return m.start() if m else limit


def _is_abbreviation(text: str, dot: int) -> bool:
    """Whether the period at `dot` closes an abbreviation or an initial rather than a sentence."""
    before = text[max(0, dot - 24) : dot]
    cut = max(before.rfind(" "), before.rfind("\n"), before.rfind("\t"))
    if cut < 0 and dot > 24:
        return False
    token = before[cut + 1 :].lstrip(_OPENERS)
    return _ABBREVIATION.fullmatch(token) is not None


def _breaks(text: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """Sentence breaks found at positions in [lo, hi): (end of the sentence, start of the next one).

    The text around the range is consulted (a period's word, what follows it), so a range that cuts
    through a sentence does not invent a break at its own edge.
    """
    limit = min(len(text), hi + _LOOKAHEAD)
    for m in _BREAK.finditer(text, lo, limit):
        if m.start() >= hi:
            return
        if text[m.start()] != "\n":
            end = m.end()
            if m.group() == "." and _is_abbreviation(text, m.start()):
                continue
            following = _next_non_space(text, end, limit)
            if following < limit and text[following].islower():
                continue
        else:
            end = m.start()
            following = _next_non_space(text, m.end(), limit)
        yield end, following


def _trimmed(text: str, start: int, end: int) -> tuple[int, int] | None:
    start = _next_non_space(text, start, end)
    if end > start and text[end - 1].isspace():
        end = start + len(text[start:end].rstrip())
    return (start, end) if end > start else None


def _check_range(text: str, start: int, end: int | None) -> int:
    stop = len(text) if end is None else min(end, len(text))
    if not 0 <= start <= stop:
        raise ValueError(f"bad range [{start}, {end}) for a text of {len(text)} characters")
    return stop


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentences of `text[start:end]` as (start, end) offsets into `text`, without surrounding whitespace.

    A sentence ends at terminal punctuation (and any closing quotes after it) followed by whitespace and
    not by a lowercase word, or at a blank line; newlines alone do not end sentences, nor do the periods
    of common abbreviations ("Mr.", "U.S.", "Sept.") and initials ("John F. Kennedy").
    """
    stop = _check_range(text, start, end)
    spans: list[tuple[int, int]] = []
    current = start
    for brk, following in _breaks(text, start, stop):
        span = _trimmed(text, current, min(brk, stop))
        if span:
            spans.append(span)
        current = max(current, following)
        if current >= stop:
            return spans
    span = _trimmed(text, current, stop)
    if span:
        spans.append(span)
    return spans


def paragraph_spans(text: str) -> list[tuple[int, int]]:
    """Paragraphs (separated by blank lines) as (start, end) offsets, without surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    current = 0
    for m in _BLANK_LINE.finditer(text):
        span = _trimmed(text, current, m.start())
        if span:
            spans.append(span)
        current = m.end()
    span = _trimmed(text, current, len(text))
    if span:
        spans.append(span)
    return spans


def _cut(text: str, start: int, limit: int, floor: int) -> int:
    """Where a chunk beginning at `start` should end: in (floor, limit], past the window's middle."""
    half = max(start + max(1, (limit - start) // 2), floor + 1)
    last_paragraph = None
    for blank in _BLANK_LINE.finditer(text, half, min(len(text), limit + 1)):
        if blank.start() <= limit:
            last_paragraph = blank.start()
    if last_paragraph is not None:
        span = _trimmed(text, start, last_paragraph)
        if span and span[1] >= half:
            return span[1]
    # The last sentence break: look at growing stretches from the end, so sentence-dense text is not
    # walked break by break across the whole half window.
    hi, width = limit, 512
    while hi > half:
        lo = max(half, hi - width)
        breaks = [brk for brk, _ in _breaks(text, lo, hi) if half <= brk <= limit]
        if breaks:
            return breaks[-1]
        hi, width = lo, width * 4
    up_to_space = _LAST_SPACE.match(text, half, min(len(text), limit + 1))
    if up_to_space:
        space = up_to_space.end() - 1
        while space > half and text[space - 1].isspace():
            space -= 1
        return space
    return limit


def _snap(text: str, lo: int, end: int) -> int:
    """The start of the chunk after one ending at `end`: the first sentence start at or after `lo`, else
    the first word start, looked for no further than halfway to `end` so the overlap stays useful."""
    reach = lo + (end - lo) // 2
    for _, following in _breaks(text, max(0, lo - 4), reach + 1):
        if lo <= following <= reach:
            return following
        if following > reach:
            break
    m = _SPACE_RUN.search(text, max(0, lo - 1), reach + 1)
    if m and lo <= m.end() <= reach:
        return m.end()
    return lo


def chunk_text(text: str, size: int = 12000, overlap: int = 2000) -> list[Chunk]:
    """Overlapping chunks of at most `size` characters covering the whole text, in order.

    A text of at most `size` characters is one chunk. Otherwise each chunk ends at the last paragraph
    break in the second half of its window, else the last sentence break there, else the last
    whitespace, else at `size`; the next chunk starts about `overlap` characters before that end, at a
    sentence or word start, so a quote cut at one chunk's edge lies whole in its neighbour. An empty
    text has no chunks.
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    if not 0 <= overlap < size:
        raise ValueError(
            f"chunk overlap must be at least 0 and less than the chunk size {size}, not {overlap}"
        )
    n = len(text)
    if n <= size:
        return [Chunk(0, 0, n, text)] if n else []
    chunks: list[Chunk] = []
    start = end = 0
    while True:
        end = n if n - start <= size else _cut(text, start, start + size, floor=end)
        chunks.append(Chunk(len(chunks), start, end, text[start:end]))
        if end >= n:
            return chunks
        start = _snap(text, max(end - overlap, start + 1), end)


def split_chunk(text: str, chunk: Chunk, overlap: int) -> tuple[Chunk, Chunk]:
    """Two halves of `chunk` (both keep its index), cut at the paragraph or sentence break nearest its
    middle and overlapping by up to `overlap` characters (at most half of either half).

    Used when a model's answer for the chunk was cut off at the output limit.
    """
    length = chunk.end - chunk.start
    if length < 200:
        raise ValueError(f"chunk {chunk.index} has {length} characters, too short to split (needs 200)")
    if overlap < 0:
        raise ValueError(f"overlap must be at least 0, not {overlap}")
    if text[chunk.start : chunk.end] != chunk.text:
        raise ValueError(f"chunk {chunk.index} does not match the text at [{chunk.start}, {chunk.end})")
    middle = chunk.start + length // 2
    lo, hi = chunk.start + length // 4, chunk.end - length // 4

    def nearest(candidates: Iterator[int]) -> int | None:
        inside = [c for c in candidates if lo <= c <= hi]
        return min(inside, key=lambda c: abs(c - middle)) if inside else None

    paragraph_ends = (_trimmed(text, chunk.start, m.start()) for m in _BLANK_LINE.finditer(text, lo, hi))
    cut = nearest(span[1] for span in paragraph_ends if span)
    if cut is None:
        cut = nearest(brk for brk, _ in _breaks(text, lo, hi))
    if cut is None:
        cut = nearest(m.start() for m in _SPACE_RUN.finditer(text, lo, hi))
    if cut is None:
        cut = middle
    shared = min(overlap, (cut - chunk.start) // 2, (chunk.end - cut) // 2)
    second = _snap(text, cut - shared, cut) if shared else cut
    return (
        Chunk(chunk.index, chunk.start, cut, text[chunk.start : cut]),
        Chunk(chunk.index, second, chunk.end, text[second : chunk.end]),
    )
