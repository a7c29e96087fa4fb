"""Aligning what a model wrote to exact character offsets in the article: exact, normalized, fuzzy.

A model repeats a quote on one line, with straight or curly marks, with or without the enclosing
quotation marks, sometimes with its end punctuation moved. `SourceText` keeps a normalized copy of the
article with a map back to the original offsets, so every alignment is a span of the article's own text.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import accumulate
from typing import NamedTuple

from rapidfuzz import fuzz

from quotes.schema import Grounding

_DOUBLE_MARKS = '"“”„‟«»″'
_SINGLE_MARKS = "'‘’‚‛‹›`′"
_DOUBLED_SINGLES = ("''", "``", "‘‘", "’’")
_OPENING = {"double": '"“„‟«»', "single": "'‘‚‛‹›`"}
_CLOSING = {"double": '"”“»«″', "single": "'’‘›‹′"}
_DASHES = "-‐‑‒–—―−"
_INVISIBLE = "\u00ad\u200b\u200c\u200d\u2060\ufeff"
_END_PUNCTUATION = ".,;:!?…"
_STRIPPED = frozenset(_DOUBLE_MARKS + _SINGLE_MARKS + _END_PUNCTUATION) | {" "}
_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())

# Length-preserving unifications: each of these characters becomes one canonical character.
_UNIFIED = (
    dict.fromkeys(_WHITESPACE, " ") | dict.fromkeys(_DOUBLE_MARKS, '"') | dict.fromkeys(_SINGLE_MARKS, "'")
)
_UNIFIED |= dict.fromkeys(_DASHES, "-")
_UNIFY = re.compile("[" + re.escape("".join(c for c, u in _UNIFIED.items() if c != u)) + "]")
# Unifications that change the length: whitespace runs, doubled single marks, dash runs, the ellipsis
# character and invisible characters (soft hyphen, zero-width spaces). Written as one leading character
# class with lookbehinds, which sre scans much faster than an alternation.
_DASH_CLASS = re.escape(_DASHES)
_RESHAPE = re.compile(
    rf"[\s'`‘’…{_DASH_CLASS}{_INVISIBLE}](?:(?<=\s)[\s{_INVISIBLE}]+"
    rf"|(?<=\S)(?:(?<=')'|(?<=`)`|(?<=‘)‘|(?<=’)’|(?<=[{_DASH_CLASS}])[{_DASH_CLASS}]+|(?<=…)|(?<=[{_INVISIBLE}])[{_INVISIBLE}]*))"
)


def _unify(text: str) -> str:
    return _UNIFY.sub(lambda m: _UNIFIED[m.group()], text)


def _replacement(piece: str) -> str:
    first = piece[0]
    if first.isspace():
        return " "
    if first in _DASHES:
        return "-"
    if first == "…":
        return "..."
    if first in _INVISIBLE:
        return ""
    return '"'


def normalize(text: str) -> str:
    """The form texts are compared in: quotation marks, apostrophes and dashes unified, whitespace runs
    collapsed to one space, soft hyphens and zero-width characters dropped, "…" spelled "...", casefolded,
    and stripped."""
    return _unify(_RESHAPE.sub(lambda m: _replacement(m.group()), text).casefold()).strip()


@functools.lru_cache(maxsize=8192)
def normalize_phrase(phrase: str) -> str:
    """`normalize`, remembered: for the names and cues ("said", "he") looked up again and again."""
    return normalize(phrase)


def _strippable(char: str) -> bool:
    return char in _STRIPPED or char.isspace() or char in _INVISIBLE


def _inner(text: str, start: int, end: int) -> tuple[int, int]:
    """[start, end) without quotation marks, whitespace and end punctuation at either edge."""
    while start < end and _strippable(text[start]):
        start += 1
    while end > start and _strippable(text[end - 1]):
        end -= 1
    return start, end


def strip_quote(text: str) -> str:
    """A quote's words without enclosing quotation marks, surrounding whitespace or end punctuation: what
    grounding compares, whichever way the model or the article punctuates the quote's edges."""
    start, end = _inner(text, 0, len(text))
    return text[start:end]


def _alnum_count(text: str, at_least: int) -> bool:
    count = 0
    for c in text:
        count += c.isalnum()
        if count >= at_least:
            return True
    return False


class Alignment(NamedTuple):
    """Where a model's text lies in the article: `text[start:end]`, how it was found, and how well.

    `exact`: the span's words (without enclosing marks and end punctuation, see `strip_quote`) are the
    needle's; `normalized`: they are equal after `normalize`; `fuzzy`: `score` (0-100, rapidfuzz's ratio of
    the normalized words) reached the threshold. `score` is 100 for exact and normalized alignments.
    """

    start: int
    end: int
    status: Grounding
    score: float


# A mention cut inside words is looked for when it has at least this many letters or digits.
_PART_WORD_MIN = 4
# Needles up to this long may stand more than once in a text, spaced differently each time.
_REPEATABLE = 60


def overlaps_any(span: tuple[int, int], spans: Iterable[tuple[int, int]]) -> bool:
    """Whether `span` shares a character with any of `spans` (a few: for many, see `Claimed`)."""
    return any(span[0] < b and a < span[1] for a, b in spans)


class Claimed:
    """Spans already given to earlier records, for overlap tests in O(log n)."""

    def __init__(self, spans: Iterable[tuple[int, int]] = ()) -> None:
        self.spans = sorted((s, e) for s, e in spans if e > s)
        self.starts = [s for s, _ in self.spans]
        self.max_end = list(accumulate((e for _, e in self.spans), max))

    def add(self, start: int, end: int) -> None:
        """Claim [start, end) too: O(1) when spans come in text order, as a model lists them."""
        if end <= start:
            return
        k = bisect_right(self.spans, (start, end))
        self.spans.insert(k, (start, end))
        self.starts.insert(k, start)
        running = self.max_end[k - 1] if k else end
        tail = []
        for _, e in self.spans[k:]:
            running = max(running, e)
            tail.append(running)
        self.max_end[k:] = tail

    def overlaps(self, start: int, end: int) -> bool:
        k = bisect_left(self.starts, end)
        return k > 0 and self.max_end[k - 1] > start

    def holds(self, start: int, end: int) -> bool:
        """Whether [start, end) itself is claimed."""
        k = bisect_left(self.spans, (start, end))
        return k < len(self.spans) and self.spans[k] == (start, end)

    def gaps(self, lo: int, hi: int) -> list[tuple[int, int]]:
        """The parts of [lo, hi) no claimed span covers."""
        gaps, current = [], lo
        for s, e in self.spans:
            if s > current:
                gaps.append((current, min(s, hi)))
            current = max(current, e)
            if current >= hi:
                break
        if current < hi:
            gaps.append((current, hi))
        return [(s, e) for s, e in gaps if e > s]


class _Needle(NamedTuple):
    core: str
    family: str | None

    @staticmethod
    def parse(needle: str) -> _Needle:
        """The needle without its enclosing marks, and which kind of marks ("double"/"single") it had."""
        text = needle.strip()
        family = None
        changed = True
        while changed and text:
            changed = False
            if text[:2] in _DOUBLED_SINGLES or text[0] in _DOUBLE_MARKS:
                text = text[2 if text[:2] in _DOUBLED_SINGLES else 1 :].strip()
                family, changed = "double", True
            if text[-2:] in _DOUBLED_SINGLES or (text and text[-1] in _DOUBLE_MARKS):
                text = text[: -2 if text[-2:] in _DOUBLED_SINGLES else -1].strip()
                family, changed = "double", True
            # A lone single mark may be an apostrophe ("the boys'"), so only a pair is taken off.
            if len(text) > 1 and text[0] in _SINGLE_MARKS and text[-1] in _SINGLE_MARKS:
                text = text[1:-1].strip()
                family = family or "single"
                changed = True
        return _Needle(text, family)

    def variants(self) -> list[str]:
        """The needle as given, then without end punctuation (models move it in and out of quotes)."""
        trimmed = self.core.rstrip(_END_PUNCTUATION).rstrip()
        if trimmed != self.core and _alnum_count(trimmed, 2):
            return [self.core, trimmed]
        return [self.core]


class SourceText:
    """One article, with a normalized copy and a map from normalized positions to original offsets.

    The map is piecewise: runs of characters that normalize one-to-one are stored as a single segment, so
    building it is linear and costs memory in proportion to the places where normalization changes length.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        parts: list[str] = []
        # Per segment: normalized start, original start, original end, and whether it maps one-to-one.
        self._seg_norm: list[int] = []
        self._seg_orig: list[int] = []
        self._seg_orig_end: list[int] = []
        self._seg_linear: list[bool] = []
        size = 0

        def add(piece: str, orig: int, orig_end: int, linear: bool) -> None:
            nonlocal size
            if piece:
                self._seg_norm.append(size)
                self._seg_orig.append(orig)
                self._seg_orig_end.append(orig_end)
                self._seg_linear.append(linear)
                parts.append(piece)
                size += len(piece)

        def add_plain(start: int, end: int) -> None:
            folded = text[start:end].casefold()
            if len(folded) == end - start:
                add(folded, start, end, True)
                return
            run = start  # a few characters ("ß" -> "ss") fold to more than one
            for i in range(start, end):
                char = text[i].casefold()
                if len(char) != 1:
                    add(text[run:i].casefold(), run, i, True)
                    add(char, i, i + 1, False)
                    run = i + 1
            add(text[run:end].casefold(), run, end, True)

        current = 0
        for m in _RESHAPE.finditer(text):
            add_plain(current, m.start())
            add(_replacement(m.group()), m.start(), m.end(), False)
            current = m.end()
        add_plain(current, len(text))
        self.normalized = _unify("".join(parts))

    # --- the map ---------------------------------------------------------------------------------------

    def _start_of(self, i: int) -> int:
        """Original offset where normalized character `i` begins."""
        k = bisect_right(self._seg_norm, i) - 1
        return self._seg_orig[k] + (i - self._seg_norm[k] if self._seg_linear[k] else 0)

    def _end_of(self, i: int) -> int:
        """Original offset where normalized character `i` ends."""
        k = bisect_right(self._seg_norm, i) - 1
        if self._seg_linear[k]:
            return self._seg_orig[k] + (i - self._seg_norm[k]) + 1
        return self._seg_orig_end[k]

    def original(self, i: int, j: int) -> tuple[int, int]:
        """The original span of the normalized span [i, j) (non-empty)."""
        return self._start_of(i), self._end_of(j - 1)

    def _next_segment(self, k: int) -> int:
        return self._seg_norm[k + 1] if k + 1 < len(self._seg_norm) else len(self.normalized)

    def _norm_from(self, pos: int) -> int:
        """The first normalized position whose character begins at or after original offset `pos`."""
        k = bisect_right(self._seg_orig, pos) - 1
        if k < 0:
            return 0
        if self._seg_linear[k] and pos < self._seg_orig_end[k]:
            return self._seg_norm[k] + pos - self._seg_orig[k]
        if pos == self._seg_orig[k]:
            return self._seg_norm[k]
        return self._next_segment(k)

    def _norm_until(self, pos: int) -> int:
        """The end of the normalized characters that end at or before original offset `pos`."""
        k = bisect_right(self._seg_orig, pos) - 1
        if k < 0:
            return 0
        if pos >= self._seg_orig_end[k]:
            return self._next_segment(k)
        if self._seg_linear[k]:
            return self._seg_norm[k] + pos - self._seg_orig[k]
        return self._seg_norm[k]

    # --- quotes ----------------------------------------------------------------------------------------

    def align_quote(
        self,
        needle: str,
        lo: int = 0,
        hi: int | None = None,
        taken: Sequence[tuple[int, int]] | Claimed = (),
        *,
        fuzzy_threshold: float = 90.0,
        include_marks: bool | None = None,
        fuzzy: bool = True,
    ) -> Alignment | None:
        """Where the quote `needle` lies in the text within [lo, hi): exact, else normalized, else fuzzy
        (unless `fuzzy` is False).

        Occurrences overlapping `taken` (spans claimed by earlier records) and occurrences starting or
        ending inside a word are used only when there is no other. The span includes the source's own
        quotation marks around the words when the needle had marks of that kind (`include_marks=None`), or
        whenever the source has them (True), or never (False). None when the needle has fewer than two
        letters or digits or is not in the text.
        """
        text = self.text
        hi = len(text) if hi is None else min(hi, len(text))
        lo = max(0, lo)
        parsed = _Needle.parse(needle)
        if not _alnum_count(parsed.core, 2) or lo >= hi:
            return None
        claimed = taken if isinstance(taken, Claimed) else Claimed(taken)
        variants = parsed.variants()
        fallback: tuple[int, int, Grounding] | None = None
        statuses: tuple[Grounding, ...] = ("exact", "normalized")
        for status in statuses:
            for variant in variants:
                found = (
                    self._find_exact(variant, lo, hi, claimed)
                    if status == "exact"
                    else self._find_normalized(variant, lo, hi, claimed)
                )
                if found is None:
                    continue
                start, end, free = found
                if free:
                    earlier = (
                        self._earlier_variant(variant, lo, start, claimed)
                        if status == "exact" and start > lo and len(variant) <= _REPEATABLE
                        else None
                    )
                    if earlier is not None:
                        return self._widen(*earlier, "normalized", 100.0, parsed.family, include_marks)
                    return self._widen(start, end, status, 100.0, parsed.family, include_marks)
                if fallback is None:
                    fallback = (start, end, status)
        if fallback is not None:
            return self._widen(*fallback, 100.0, parsed.family, include_marks)
        near = self._find_fuzzy(parsed.core, lo, hi, claimed, fuzzy_threshold) if fuzzy else None
        if near is None:
            return None
        alignment = self._widen(*near, "fuzzy", 0.0, parsed.family, include_marks)
        score = fuzz.ratio(
            normalize(strip_quote(parsed.core)), normalize(strip_quote(text[alignment.start : alignment.end]))
        )
        if score < fuzzy_threshold:
            return None
        return Alignment(alignment.start, alignment.end, "fuzzy", score)

    def _earlier_variant(self, variant: str, lo: int, hi: int, claimed: Claimed) -> tuple[int, int] | None:
        """A free occurrence in [lo, hi) that differs from `variant` only in spacing, dashes or marks (not
        in case: "His" is not "his"), at word boundaries."""
        words = _WORD_RUN.findall(variant)
        if not words or self.text.find(max(words, key=len), lo, hi) < 0:
            return None
        found = self._find_normalized(variant, lo, hi, claimed)
        if found is None or not found[2] or not self.bounded(found[0], found[1]):
            return None
        letters = [c for c in self.text[found[0] : found[1]] if c.isalpha()]
        return (found[0], found[1]) if letters == [c for c in variant if c.isalpha()] else None

    def bounded(self, start: int, end: int) -> bool:
        """Whether [start, end) neither begins nor ends inside a word."""
        text = self.text
        inside_left = start > 0 and text[start - 1].isalnum() and text[start].isalnum()
        inside_right = end < len(text) and text[end - 1].isalnum() and text[end].isalnum()
        return not (inside_left or inside_right)

    def _best(self, occurrences: Iterable[tuple[int, int]], claimed: Claimed) -> tuple[int, int, bool] | None:
        """The first free occurrence at word boundaries, else the first free one, else the first one."""
        first: tuple[int, int] | None = None
        first_free: tuple[int, int] | None = None
        for start, end in occurrences:
            if first is None:
                first = (start, end)
            if claimed.overlaps(start, end):
                continue
            if self.bounded(start, end):
                return start, end, True
            if first_free is None:
                first_free = (start, end)
        if first_free is not None:
            return (*first_free, True)
        return (*first, False) if first is not None else None

    def _find_exact(self, variant: str, lo: int, hi: int, claimed: Claimed) -> tuple[int, int, bool] | None:
        at = self.text.find(variant, lo, hi)
        if at < 0:
            return None
        end = at + len(variant)
        if not claimed.overlaps(at, end) and self.bounded(at, end):
            return at, end, True  # the first occurrence, free and whole: most statements
        return self._best(_Occurrences(self.text, variant, at, hi, None), claimed)

    def _find_normalized(
        self, variant: str, lo: int, hi: int, claimed: Claimed
    ) -> tuple[int, int, bool] | None:
        wanted = normalize(variant)
        return self._best(
            _Occurrences(self.normalized, wanted, self._norm_from(lo), self._norm_until(hi), self), claimed
        )

    def _find_fuzzy(
        self, core: str, lo: int, hi: int, claimed: Claimed, threshold: float
    ) -> tuple[int, int] | None:
        wanted = normalize(strip_quote(core))
        if not _alnum_count(wanted, 2):
            return None
        norm = self.normalized
        windows = [(self._norm_from(s), self._norm_until(e)) for s, e in claimed.gaps(lo, hi)]
        best: tuple[float, int, int] | None = None
        for windows_tried in (windows, [(self._norm_from(lo), self._norm_until(hi))]):
            for a, b in windows_tried:
                if b - a < len(wanted) * 0.8:
                    continue
                found = fuzz.partial_ratio_alignment(wanted, norm[a:b], score_cutoff=threshold)
                if found is not None and (best is None or found.score > best[0]):
                    best = (found.score, a + found.dest_start, a + found.dest_end)
            if best is not None:
                break
        if best is None:
            return None
        start, end = self._refine(wanted, best[1], best[2])
        # Marks and punctuation at the edges are the source's, added back by `_widen` as asked.
        return _inner(self.text, *self.original(start, end))

    def _refine(self, wanted: str, start: int, end: int) -> tuple[int, int]:
        """Adjust a fuzzy match [start, end) in the normalized text to word boundaries, trying nearby word
        starts and ends and keeping the pair most similar to `wanted` (never cutting into a word)."""
        norm = self.normalized
        slack = max(4, len(wanted) // 8)

        def inside(i: int) -> bool:
            return 0 < i < len(norm) and norm[i - 1].isalnum() and norm[i].isalnum()

        left, right = start, end
        while inside(left):
            left -= 1
        while inside(right):
            right += 1
        # Word starts just after a space, word ends just before one (or the end of the text).
        starts = {left} | {
            i
            for i in range(max(1, start - slack), min(len(norm), start + slack))
            if norm[i - 1] == " " != norm[i]
        }
        ends = {right} | {
            i
            for i in range(max(1, end - slack), min(len(norm), end + slack) + 1)
            if norm[i - 1] != " " and norm[i : i + 1] in (" ", "")
        }
        best = (-1.0, left, right)
        for s in sorted(starts):
            for e in sorted(ends):
                if e <= s:
                    continue
                score = fuzz.ratio(wanted, strip_quote(norm[s:e]))
                if score > best[0] or (score == best[0] and e - s > best[2] - best[1]):
                    best = (score, s, e)
        return best[1], best[2]

    def _widen(
        self,
        start: int,
        end: int,
        status: Grounding,
        score: float,
        family: str | None,
        include_marks: bool | None,
    ) -> Alignment:
        """Take in the source's quotation marks directly around [start, end) (and end punctuation before a
        closing mark), as gold spans of direct quotes include them."""
        families: tuple[str, ...]
        if include_marks is False or (include_marks is None and family is None):
            families = ()
        elif include_marks is None and family is not None:
            families = (family,)
        else:
            families = ("double", "single")
        text = self.text
        for kind in families:
            opened = start
            if text[max(0, start - 2) : start] in _DOUBLED_SINGLES and kind == "double":
                opened = start - 2
            elif start > 0 and text[start - 1] in _OPENING[kind]:
                opened = start - 1
            closed = end
            after = end
            while after < len(text) and after - end < 3 and text[after] in _END_PUNCTUATION:
                after += 1
            if text[after : after + 2] in _DOUBLED_SINGLES and kind == "double":
                closed = after + 2
            elif after < len(text) and text[after] in _CLOSING[kind]:
                closed = after + 1
            if opened != start or closed != end:
                return Alignment(opened, closed, status, score)
        return Alignment(start, end, status, score)

    # --- speakers --------------------------------------------------------------------------------------

    def align_mention(
        self,
        mention: str,
        near_start: int,
        near_end: int,
        window: int = 500,
        exclude: Sequence[tuple[int, int]] | None = None,
        *,
        cut_words: bool = False,
    ) -> Alignment | None:
        """The whole-word occurrence of `mention` ("Rouhani", "he", "said") nearest to [near_start, near_end).

        Occurrences overlapping `exclude` (by default the span itself) are skipped; one inside the span
        but outside `exclude` — the "he said" between the fragments of a split quote — counts as nearest
        of all. Outside, only occurrences within `window` characters of the span's edges count, and on
        equal distance the one after the span (", he said") wins over the one before it. One in the span's
        own paragraph wins over one across a line break, and one in the span's own sentence over one across
        a sentence's end, whatever their distances. Case-insensitive and normalized; `exact` when the span
        is the mention character for character. With `cut_words`, a mention of four or more letters that
        only stands inside longer words ("rump's campaign", cut from "Trump's campaign") lands on those
        whole words, `fuzzy`.
        """
        wanted = normalize_phrase(mention)
        if not _alnum_count(wanted, 1):
            return None
        skipped = [(near_start, near_end)] if exclude is None else exclude

        def free(span: tuple[int, int]) -> bool:
            return not overlaps_any(span, skipped)

        best = self._nearest(wanted, near_start, near_end, window, free, whole=True)
        if best is not None:
            start, end = best
            status: Grounding = "exact" if self.text[start:end] == mention.strip() else "normalized"
            return Alignment(start, end, status, 100.0)
        if not cut_words or not _alnum_count(wanted, _PART_WORD_MIN):
            return None
        part = self._nearest(wanted, near_start, near_end, window, free, whole=False)
        if part is None:
            return None
        start, end = self._whole_words(*part)
        score = fuzz.ratio(wanted, normalize(self.text[start:end]))
        return Alignment(start, end, "fuzzy", score) if free((start, end)) else None

    def _nearest(
        self,
        wanted: str,
        near_start: int,
        near_end: int,
        window: int,
        free: Callable[[tuple[int, int]], bool],
        *,
        whole: bool,
    ) -> tuple[int, int] | None:
        """The nearest free occurrence after the span's start (inside it, else after it) or before it."""
        reach = window + len(wanted)
        after_hi, before_lo = min(len(self.text), near_end + reach), max(0, near_start - reach)
        after = next(filter(free, self.words(wanted, near_start, after_hi, whole=whole)), None)
        before = next(
            filter(free, self.words(wanted, before_lo, near_start, backward=True, whole=whole)), None
        )
        if after is not None and after[0] >= near_end and before is not None:
            return after if self._nearer(near_end, after[0], before[1], near_start) else before
        return after or before

    def _whole_words(self, start: int, end: int) -> tuple[int, int]:
        text = self.text
        while start > 0 and _is_word(text[start - 1]):
            start -= 1
        while end < len(text) and _is_word(text[end]):
            end += 1
        return start, end

    def one_sentence(self, lo: int, hi: int) -> bool:
        """Whether text[lo:hi) crosses neither a line break nor the end of a sentence."""
        return self.text.find("\n", lo, hi) < 0 and not _crosses_sentence(self.text, lo, hi)

    def _nearer(self, span_end: int, after: int, before: int, span_start: int) -> bool:
        """Whether text[span_end:after) is a nearer gap than text[before:span_start): one without a line
        break, else one without a sentence's end, else the shorter (the one after on a tie)."""
        text = self.text
        breaks = (text.find("\n", span_end, after) >= 0, text.find("\n", before, span_start) >= 0)
        if breaks[0] != breaks[1]:
            return not breaks[0]
        ends = (_crosses_sentence(text, span_end, after), _crosses_sentence(text, before, span_start))
        if ends[0] != ends[1]:
            return not ends[0]
        return after - span_end <= span_start - before

    def words(
        self, wanted: str, lo: int, hi: int, *, backward: bool = False, whole: bool = True
    ) -> Iterator[tuple[int, int]]:
        """The whole-word occurrences of the normalized words `wanted` within original [lo, hi), in text
        order (or the reverse), as original spans (with `whole` False, occurrences inside words too)."""
        while (hit := self.word(wanted, lo, hi, backward=backward, whole=whole)) is not None:
            yield hit
            if backward:
                hi = hit[1] - 1
            else:
                lo = hit[0] + 1

    def word(
        self, wanted: str, lo: int, hi: int, *, backward: bool = False, whole: bool = True
    ) -> tuple[int, int] | None:
        """The first of `words` (the last with `backward`), or None: most lookups want only the nearest."""
        if not wanted:
            return None
        norm, seg_norm = self.normalized, self._seg_norm
        nlo, nhi = self._norm_from(lo), self._norm_until(hi)
        size, last = len(wanted), len(norm)
        # "'ve said" may follow "they" directly: only a needle's word characters must not touch others.
        open_left, open_right = _is_word(wanted[0]), _is_word(wanted[-1])
        at = norm.rfind(wanted, nlo, nhi) if backward else norm.find(wanted, nlo, nhi)
        # The hottest loop of grounding: word tests inlined, and a hit inside one one-to-one segment (most
        # of them) mapped back from that segment alone.
        while at >= 0:
            end = at + size
            if not whole or not (
                (open_left and at > 0 and (norm[at - 1].isalnum() or norm[at - 1] == "_"))
                or (open_right and end < last and (norm[end].isalnum() or norm[end] == "_"))
            ):
                k = bisect_right(seg_norm, at) - 1
                if self._seg_linear[k] and end <= self._next_segment(k):
                    start = self._seg_orig[k] + at - seg_norm[k]
                    return start, start + size
                start, stop = self.original(at, end)
                if normalize(self.text[start:stop]) == wanted:
                    return start, stop
            at = norm.rfind(wanted, nlo, end - 1) if backward else norm.find(wanted, at + 1, nhi)
        return None


_WORD_RUN = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"[.!?][\"'”’)]*\s+[\"“'‘(]*[A-Z0-9]")
# Words whose full stop ends no sentence ("Mr. Trump", "Sen. Warren", "Calif. Gov.").
_ABBREVIATION_WORDS = """
mr mrs ms dr sen rep gov gen lt col maj capt sgt adm st jr sr inc co corp ltd prof rev ft no vs
jan feb mar apr aug sept sep oct nov dec
ariz calif colo conn fla ga ill ind kan ky la md mass mich minn miss mo mont neb nev okla ore pa
tenn tex va vt wash wis wyo
"""
_ABBREVIATIONS = frozenset(_ABBREVIATION_WORDS.split())


def _crosses_sentence(text: str, lo: int, hi: int) -> bool:
    """Whether text[lo:hi) holds the end of a sentence (seen one character further: the capital after it)."""
    return any(_ends_sentence(text, m) for m in _SENTENCE_END.finditer(text, lo, min(len(text), hi + 1)))


def _ends_sentence(text: str, mark: re.Match[str]) -> bool:
    """Whether the full stop, question or exclamation mark `mark` ends a sentence: a full stop after an
    abbreviation ("Mr.", "Calif.") or an initial does not."""
    at = mark.start()
    if text[at] != ".":
        return True
    word_start = at
    while word_start > 0 and not text[word_start - 1].isspace():
        word_start -= 1
    last = text[word_start:at].rsplit(".", 1)[-1].lstrip("(\"“'‘").lower()
    return len(last) > 1 and last not in _ABBREVIATIONS


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


class _Occurrences:
    """Occurrences of `needle` in `haystack[lo:hi)`, as original spans; for a normalized haystack, those
    whose original text normalizes back to the needle (a match may begin inside an expanded character)."""

    # More occurrences than this are not looked at: a needle that common is no quote worth grounding.
    LIMIT = 10_000

    def __init__(self, haystack: str, needle: str, lo: int, hi: int, source: SourceText | None) -> None:
        self.haystack, self.needle, self.lo, self.hi, self.source = haystack, needle, lo, hi, source

    def __iter__(self) -> Iterator[tuple[int, int]]:
        at = self.haystack.find(self.needle, self.lo, self.hi)
        for _ in range(self.LIMIT):
            if at < 0:
                return
            end = at + len(self.needle)
            if self.source is None:
                yield at, end
            else:
                start, stop = self.source.original(at, end)
                if normalize(self.source.text[start:stop]) == self.needle:
                    yield start, stop
            at = self.haystack.find(self.needle, at + 1, self.hi)


# A double quotation mark, or a single ' or ` (kept only when doubled: '' and `` are typed for marks).
# One character class first: sre scans for it several times faster than for an alternation.
_MARK_TOKEN = re.compile("[\"“”„‟«»'`](?:(?<=')'|(?<=`)`)?")


_OPENS_AFTER = frozenset("([{—–-/")
_CLOSES_BEFORE = frozenset(",.;:!?)]}—–-/…")


def _mark_opens(text: str, at: int, end: int, token: str, inside: bool) -> bool:
    """Whether the quotation mark text[at:end] opens a quote: by what stands around it ("word,“ he" closes
    even with an opening mark, as typed in a hurry), else by its shape, else by whether a quote is open."""
    before = text[at - 1] if at > 0 else " "
    after = text[end] if end < len(text) else " "
    opening_context = before.isspace() or before in _OPENS_AFTER
    closing_context = after.isspace() or after in _CLOSES_BEFORE
    if opening_context != closing_context:
        return opening_context
    if token in "“„«":
        return True
    if token in "”»":
        return False
    return not inside


def quoted_fragments(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The quoted pieces of a split or multi-paragraph quote in text[start:end], marks included.

    “A,” he said. “B.” gives the two quoted pieces, without the attribution between them. A span with one
    quoted piece gives [] — the span itself is then its only fragment.
    """
    pieces = quoted_pieces(text, start, end)
    return pieces if len(pieces) > 1 else []


def quoted_pieces(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Every piece of text[start:end] inside quotation marks, marks included ([] when they do not pair up).

    Marks are paired in order, each read as opening or closing from the characters around it. An opening
    mark met while a quote is open (a quote running on into the next paragraph) ends the first piece at
    its paragraph's end; a span that begins or ends inside a quote has a piece running to its edge.
    """
    pieces: list[tuple[int, int]] = []
    opened: int | None = None
    for mark in _MARK_TOKEN.finditer(text, start, end):
        token = mark.group()
        if token in ("'", "`"):
            continue
        if _mark_opens(text, mark.start(), mark.end(), token, opened is not None):
            if opened is not None:
                paragraph_end = text.rfind("\n", opened, mark.start())
                if paragraph_end < 0:
                    return []
                pieces.append((opened, len(text[opened:paragraph_end].rstrip()) + opened))
            opened = mark.start()
        elif opened is not None:
            pieces.append((opened, mark.end()))
            opened = None
        elif pieces:
            return []
        else:
            pieces.append((start, mark.end()))
    if opened is not None:
        pieces.append((opened, len(text[opened:end].rstrip()) + opened))
    return [(a, b) for a, b in pieces if any(c.isalnum() for c in text[a:b])]
