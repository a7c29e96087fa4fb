"""A model's records pinned to the article: each statement's span and content fragments, its cue and the
mention of its speaker, all as offsets into the article's own text.

Where the attribution is looked for, in order:

1. **Inside the statement**, next to each other: the model's mention and cue adjacent ("which *he
   describes* as his second home", "The plan, *Lopez said*, will fail", "“A,” *she said*. “B.”"), outside
   any quoted words. The statement's fragments are then its words on either side of the attribution.
2. Else **the cue nearest the statement** (between its quoted fragments counts as nearest of all), then
   **the mention nearest that cue**.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import islice

from quotes.chunking import Chunk
from quotes.grounding import Alignment, Claimed, SourceText, normalize_phrase, quoted_fragments
from quotes.schema import AnswerQuote, Entity, Quote, Speaker

Span = tuple[int, int]

# An attribution's mention and cue may be one to three words apart ("criticized *by* rivals", "Beck *on
# Wednesday* called"), never across the end of a sentence or a quotation mark.
_MAX_GAP_WORDS = 3
_GAP_BREAKS = frozenset('.!?;:"“”„«»')
_REACH = 60
# Statements this short may stand more than once in a chunk; beside this many later cues they are looked for.
_SHORT_WORDS = 6
_PROBES = 8
# What is left off a fragment's edge next to the attribution it is cut from.
_LEFT_EDGE = frozenset(" \t\r\n,;:—–-(")
_RIGHT_EDGE = frozenset(" \t\r\n,;:—–-)")


@dataclass(frozen=True)
class _Attribution:
    mention: Span | None
    cue: Span | None


def ground_records(
    source: SourceText, chunk: Chunk, records: Sequence[AnswerQuote], warnings: list[str]
) -> list[Quote]:
    """Pin each of the model's records to the article's characters, or drop it with a warning."""
    quotes: list[Quote] = []
    taken = Claimed()
    for record in records:
        aligned = _locate(source, record, chunk, quotes[-1].start if quotes else chunk.start, taken)
        if aligned is None:
            warnings.append(
                f"dropped a quote not found in the source (chunk {chunk.index}): {short(record.quote)}"
            )
            continue
        taken.add(aligned.start, aligned.end)
        quotes.append(_pinned(source, aligned, record, chunk.index))
    return quotes


def _pinned(source: SourceText, aligned: Alignment, record: AnswerQuote, chunk: int) -> Quote:
    text, start, end = source.text, aligned.start, aligned.end
    quoted = quoted_fragments(text, start, end)
    within = _attribution_within(source, start, end, record, quoted)
    if within is not None:
        attribution, spans = within, quoted if record.kind == "direct" and quoted else []
        if not spans:
            spans = _around(text, start, end, _extent(within))
    else:
        attribution = _attribution_near(source, start, end, record, quoted)
        spans = quoted if record.kind != "mixed" else []
    speaker = Speaker(name=record.speaker or record.speaker_mention, type=record.speaker_type)
    if attribution.mention is not None:
        speaker.mention = text[attribution.mention[0] : attribution.mention[1]]
        speaker.start, speaker.end = attribution.mention
    cue = attribution.cue
    return Quote(
        id="",
        text=text[start:end],
        start=start,
        end=end,
        kind=record.kind,
        speaker=speaker,
        cue=text[cue[0] : cue[1]] if cue else record.cue,
        cue_start=cue[0] if cue else None,
        cue_end=cue[1] if cue else None,
        about=[Entity(name=name) for name in record.about if name.strip()],
        grounding=aligned.status,
        chunk=chunk,
        spans=spans,
    )


def _attribution_within(
    source: SourceText, start: int, end: int, record: AnswerQuote, quoted: Sequence[Span]
) -> _Attribution | None:
    """The record's mention and cue side by side inside [start, end), outside its quoted words.

    A direct quote that is one quoted piece has no unquoted words to hold an attribution.
    """
    if not (record.speaker_mention and record.cue):
        return None
    if not quoted and record.kind == "direct":
        return None
    mention, cue = normalize_phrase(record.speaker_mention), normalize_phrase(record.cue)
    text = source.text

    def unquoted(span: Span) -> bool:
        return not any(span[0] < b and a < span[1] for a, b in quoted)

    for cue_span in source.words(cue, start, end):
        if not unquoted(cue_span):
            continue
        lo, hi = cue_span
        options: list[tuple[int, Span]] = []
        before = next(source.words(mention, max(start, lo - _REACH), lo, backward=True), None)
        if before is not None and unquoted(before) and _joined(text[before[1] : lo]):
            options.append((lo - before[1], before))
        after = next(source.words(mention, hi, min(end, hi + _REACH)), None)
        if after is not None and unquoted(after) and _joined(text[hi : after[0]]):
            options.append((after[0] - hi, after))
        if options:
            return _Attribution(mention=min(options)[1], cue=cue_span)
    return None


def _joined(gap: str) -> bool:
    """Whether the text between a mention and its cue still reads as one attribution."""
    return len(gap.split()) <= _MAX_GAP_WORDS and not any(c in _GAP_BREAKS for c in gap)


def _attribution_near(
    source: SourceText, start: int, end: int, record: AnswerQuote, quoted: Sequence[Span]
) -> _Attribution:
    """The cue nearest the statement, then the mention nearest the cue. Both may stand between the
    fragments of a split quote ("“A,” he said. “B.”"), never inside its words."""
    content = list(quoted) or [(start, end)]
    cue = source.align_mention(record.cue, start, end, exclude=content) if record.cue else None
    mention = None
    if record.speaker_mention:
        anchor = (cue.start, cue.end) if cue else (start, end)
        mention = source.align_mention(
            record.speaker_mention, *anchor, exclude=[*content, anchor], cut_words=True
        )
    return _Attribution(
        mention=(mention.start, mention.end) if mention else None,
        cue=(cue.start, cue.end) if cue else None,
    )


def _extent(attribution: _Attribution) -> Span:
    spans = [s for s in (attribution.mention, attribution.cue) if s is not None]
    return min(s for s, _ in spans), max(e for _, e in spans)


def _around(text: str, start: int, end: int, cut: Span) -> list[Span]:
    """The statement's words on either side of its attribution, without the commas or dashes that set
    the attribution off (one piece when the attribution opens or closes the statement)."""
    left, right = cut
    while left > start and text[left - 1] in _LEFT_EDGE:
        left -= 1
    while right < end and text[right] in _RIGHT_EDGE:
        right += 1
    pieces = [(a, b) for a, b in ((start, left), (right, end)) if any(c.isalnum() for c in text[a:b])]
    return pieces


def _locate(
    source: SourceText, record: AnswerQuote, chunk: Chunk, after: int, taken: Claimed
) -> Alignment | None:
    """A record's span: models list statements in text order, so a statement is looked for after the
    previous record first, and only then anywhere in the chunk. A short statement ("Trump", "that") that
    is there more than once is taken where its cue stands beside it, if it does anywhere."""
    aligned = _first_free(source, record.quote, chunk, after, taken)
    if aligned is None or not record.cue or len(record.quote.split()) > _SHORT_WORDS:
        return aligned
    cue = source.align_mention(record.cue, aligned.start, aligned.end, window=_REACH)
    if cue is not None and source.one_sentence(min(cue.end, aligned.end), max(cue.start, aligned.start)):
        return aligned
    later_cues = source.words(normalize_phrase(record.cue), aligned.end, chunk.end)
    for cue_start, cue_end in islice(later_cues, _PROBES):
        lo, hi = max(aligned.end, cue_start - _REACH), min(chunk.end, cue_end + _REACH)
        beside = source.align_quote(record.quote, lo=lo, hi=hi, taken=taken, fuzzy=False)
        if beside is not None and not taken.overlaps(beside.start, beside.end):
            return beside
    return aligned


def _first_free(source: SourceText, words: str, chunk: Chunk, after: int, taken: Claimed) -> Alignment | None:
    if after > chunk.start:
        aligned = source.align_quote(words, lo=after, hi=chunk.end, taken=taken, fuzzy=False)
        if aligned is not None and not taken.overlaps(aligned.start, aligned.end):
            return aligned
    return source.align_quote(words, lo=chunk.start, hi=chunk.end, taken=taken)


def short(text: str, limit: int = 80) -> str:
    """`text` on one line, cut to `limit` characters, quoted: for warnings."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 1] + "…")
