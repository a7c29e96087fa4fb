"""A model's records pinned to the article: each statement's span and content fragments, its cue and the
mention of its speaker, all as offsets into the article's own text.

Where the attribution is looked for, in order:

1. **Right before the statement**, the mention and cue side by side a few words from its start
   ("Sanders *said last week* that he …"); a copy of them inside the statement is then another's.
2. **Inside the statement**, next to each other: the model's mention and cue adjacent ("which *he
   describes* as his real home", "The plan, *Lopez said*, will fail", "“A,” *she said*. “B.”"), outside
   any quoted words. The statement's fragments are then its words on either side of the attribution.
3. Else, in a statement with no quoted words, **the cue inside it** ("Mr. Dorn, who began in retail,
   *was seen as* more devoted to branches"), then the mention nearest that cue, inside or out; the
   fragments leave out both, and an aside between the subject and the cue.
4. Else **the cue nearest the statement** (between its quoted fragments counts as nearest of all), then
   **the mention nearest that cue**.

A pronoun mention found apart from its cue is moved to the subject of the cue's clause; what the record
before owns (its statement, the cue of a direct quote before a direct quote) is not taken again.

Words in quotation marks inside the record's own cue or mention (said on “Meet the Press.”) are not
taken for the speaker's words, and a reported statement's fragments leave out the attributions nested in
its unquoted words ("whether Mr. Carson, *who claimed that China was in Syria*, is a wise choice").
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from itertools import islice
from typing import NamedTuple

from quotes.chunking import Chunk
from quotes.grounding import (
    Alignment,
    Claimed,
    SourceText,
    normalize_phrase,
    overlaps_any,
    quoted_fragments,
    quoted_pieces,
)
from quotes.schema import AnswerQuote, Entity, Grounding, Quote, Speaker

Span = tuple[int, int]

# An attribution's mention and cue may be one to three words apart ("criticized *by* rivals", "Beck *on
# Wednesday* called"), never across the end of a sentence or a quotation mark.
_MAX_GAP_WORDS = 3
_GAP_BREAKS = frozenset('.!?;:"“”„«»')
_REACH = 60
_PRONOUNS = frozenset({"he", "she", "they", "we", "i", "you", "who", "which", "that"})
_REPORTING = frozenset({"said", "says", "say", "saying", "that", "whether", "which", "whom"})
_SENTENCE_REACH = 400
# Statements this short may stand more than once in a chunk; beside this many later cues they are looked for.
_SHORT_WORDS = 6
_PROBES = 8
# What is left off a fragment's edge next to the attribution it is cut from.
_LEFT_EDGE = frozenset(" \t\r\n,;:—–-(")
_RIGHT_EDGE = frozenset(" \t\r\n,;:—–-)")


class _Attribution(NamedTuple):
    mention: Span | None
    cue: Span | None


class _Spent(NamedTuple):
    """What the record before already owns: its statement, and its cue when both are direct quotes
    ("“A,” Trump said. “B,” Trump said.")."""

    cue: Span | None = None
    statement: Span | None = None

    @staticmethod
    def before(previous: Quote | None, record: AnswerQuote, start: int, end: int) -> _Spent:
        if previous is None:
            return _NOTHING_SPENT
        cue_start, cue_end = previous.cue_start, previous.cue_end
        direct = previous.kind == record.kind == "direct"
        apart = previous.end <= start or previous.start >= end
        return _Spent(
            cue=(cue_start, cue_end) if direct and cue_start is not None and cue_end is not None else None,
            statement=(previous.start, previous.end) if apart else None,
        )

    def cues(self) -> list[Span]:
        return [self.cue] if self.cue else []

    def statements(self) -> list[Span]:
        return [self.statement] if self.statement else []


_NOTHING_SPENT = _Spent()


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
        spent = _Spent.before(quotes[-1] if quotes else None, record, aligned.start, aligned.end)
        quotes.append(_pinned(source, aligned, record, chunk.index, spent))
    return _nested_cut(source.text, quotes)


def _nested_cut(text: str, quotes: list[Quote]) -> list[Quote]:
    """A reported statement's words without the attributions nested in them ("whether Mr. Carson, *who
    claimed that China was in Syria*, is a wise choice"): those words are another speaker's. A statement
    inside quoted words (the speaker quoting someone) stays; a quotation of its own is cut."""
    by_start = sorted(quotes, key=lambda q: q.start)
    starts = [q.start for q in by_start]
    out = []
    for outer in quotes:
        first, last = bisect_left(starts, outer.start), bisect_left(starts, outer.end)
        nested = [
            inner
            for inner in by_start[first:last]
            if inner.end <= outer.end and (inner.start, inner.end) != (outer.start, outer.end)
        ]
        if outer.kind == "direct" or not nested:
            out.append(outer)
            continue
        quoted = quoted_pieces(text, outer.start, outer.end)
        cuts = [_extent_within(inner, outer) for inner in nested if not _within_quoted(inner, quoted)]
        pieces = []
        for a, b in outer.fragments():
            inside = sorted((max(a, lo), min(b, hi)) for lo, hi in cuts if lo < b and a < hi)
            pieces += _around(text, a, b, _merged(inside)) if inside else [(a, b)]
        out.append(outer.model_copy(update={"spans": pieces}) if cuts else outer)
    return out


def _within_quoted(inner: Quote, quoted: Sequence[Span]) -> bool:
    """Whether `inner` lies inside one of the quoted pieces, without being that whole piece."""
    return any(a <= inner.start and inner.end <= b and (a, b) != (inner.start, inner.end) for a, b in quoted)


def _extent_within(inner: Quote, outer: Quote) -> Span:
    """Where `inner`'s statement, cue and speaker mention lie, counting those inside `outer` only."""
    edges = [inner.start, inner.end]
    for lo, hi in ((inner.speaker.start, inner.speaker.end), (inner.cue_start, inner.cue_end)):
        if lo is not None and hi is not None and outer.start <= lo and hi <= outer.end:
            edges += [lo, hi]
    return min(edges), max(edges)


def _merged(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for lo, hi in spans:
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


def _pinned(source: SourceText, aligned: Alignment, record: AnswerQuote, chunk: int, spent: _Spent) -> Quote:
    text, start, end = source.text, aligned.start, aligned.end
    quoted = _titles_dropped(source, start, end, record, quoted_fragments(text, start, end))
    attribution, cuts = _attribution(source, start, end, record, quoted, spent)
    if quoted and (record.kind == "direct" or not cuts):
        spans = quoted if record.kind != "mixed" else []
    elif cuts:
        if attribution.cue is not None and cuts[0][0] == attribution.cue[0]:
            cuts[0] = (_subject_end(text, start, cuts[0][0]), cuts[0][1])
        spans = _around(text, start, end, cuts)
    else:
        spans = []
    mention = attribution.mention
    speaker = Speaker(
        name=record.speaker or record.speaker_mention,
        type=record.speaker_type,
        mention=text[mention[0] : mention[1]] if mention else None,
        start=mention[0] if mention else None,
        end=mention[1] if mention else None,
    )
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


def _attribution(
    source: SourceText, start: int, end: int, record: AnswerQuote, quoted: list[Span], spent: _Spent
) -> tuple[_Attribution, list[Span]]:
    """The record's mention and cue, and the parts of them inside the statement to cut from its words."""
    leading = _attribution_leading(source, start, record, spent)
    if leading is not None:
        return leading, []
    within = _attribution_within(source, start, end, record, quoted)
    if within is not None:
        return within, [_extent(within)]
    inner_cue = _cue_inside(source, start, end, record) if not quoted else None
    near = _attribution_near(source, start, end, record, [] if inner_cue else quoted, spent, cue=inner_cue)
    inside = (near.mention, inner_cue) if inner_cue else ()
    return near, sorted(s for s in inside if s is not None and start <= s[0] < end)


def _titles_dropped(
    source: SourceText, start: int, end: int, record: AnswerQuote, quoted: list[Span]
) -> list[Span]:
    """`quoted` without the quoted words inside the record's cue or speaker mention: a programme, a title
    or a nickname in quotation marks (“A,” he said on “Meet the Press.”; Del. Marcia "Cia" Price) is not
    the speaker's words."""
    for phrase in (record.cue, record.speaker_mention) if quoted else ():
        wanted = normalize_phrase(phrase or "")
        if '"' not in wanted:
            continue
        found = source.word(wanted, start, end)
        if found is not None:
            quoted = [(a, b) for a, b in quoted if not (found[0] <= a and b <= found[1])]
    return quoted


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

    for cue_span in source.words(cue, start, end):
        if overlaps_any(cue_span, quoted):
            continue
        beside = _mention_beside(source, mention, cue_span, start, end, quoted)
        if beside is not None:
            return _Attribution(mention=beside, cue=cue_span)
    return None


def _attribution_leading(
    source: SourceText, start: int, record: AnswerQuote, spent: _Spent
) -> _Attribution | None:
    """The record's mention and cue side by side right before the statement, a few words from its start
    ("Sanders *said last week* that he …"): then a copy of them inside it belongs to another statement."""
    if not (record.speaker_mention and record.cue):
        return None
    text = source.text
    cue = source.word(normalize_phrase(record.cue), max(0, start - _REACH), start, backward=True)
    if cue is None or not _joined(text[cue[1] : start]):
        return None
    mention = _mention_beside(
        source, normalize_phrase(record.speaker_mention), cue, 0, start, spent.statements()
    )
    if mention is None:
        return None
    return _Attribution(mention=_pronoun_subject(source, mention, cue, [(start, start)]), cue=cue)


def _mention_beside(
    source: SourceText, mention: str, cue: Span, lo: int, hi: int, avoided: Sequence[Span]
) -> Span | None:
    """The mention a few words before or after the cue within [lo, hi), the nearer of the two."""
    text, reach = source.text, _REACH + len(mention)
    options: list[tuple[int, Span]] = []
    before = source.word(mention, max(lo, cue[0] - reach), cue[0], backward=True)
    if before is not None and not overlaps_any(before, avoided) and _joined(gap := text[before[1] : cue[0]]):
        if len(gap) <= 1:  # "Sanders said": none after the cue can be nearer
            return before
        options.append((cue[0] - before[1], before))
    after = source.word(mention, cue[1], min(hi, cue[1] + reach))
    if after is not None and not overlaps_any(after, avoided) and _joined(text[cue[1] : after[0]]):
        options.append((after[0] - cue[1], after))
    return min(options)[1] if options else None


def _joined(gap: str) -> bool:
    """Whether the text between a mention and its cue still reads as one attribution."""
    return _GAP_BREAKS.isdisjoint(gap) and len(gap.split()) <= _MAX_GAP_WORDS


def _cue_inside(source: SourceText, start: int, end: int, record: AnswerQuote) -> Span | None:
    """The record's cue among the words of a reported (not direct) statement, if it stands there."""
    if not record.cue or record.kind == "direct":
        return None
    return source.word(normalize_phrase(record.cue), start, end)


def _attribution_near(
    source: SourceText,
    start: int,
    end: int,
    record: AnswerQuote,
    quoted: Sequence[Span],
    spent: _Spent,
    cue: Span | None = None,
) -> _Attribution:
    """The cue nearest the statement (or `cue`, found inside it), then the mention nearest the cue. Both
    may stand between the fragments of a split quote ("“A,” he said. “B.”"), never inside its words. A
    mention inside the previous statement gives way to one in the cue's own sentence."""
    content = list(quoted) or ([] if cue else [(start, end)])
    if cue is None and record.cue:
        cue_found = source.align_mention(record.cue, start, end, exclude=[*content, *spent.cues()])
        cue = (cue_found.start, cue_found.end) if cue_found else None
        if cue is not None and cue[0] >= end and record.kind != "direct":
            cue = _cue_in_sentence(source, record.cue, start, end) or cue
    if not record.speaker_mention:
        return _Attribution(mention=None, cue=cue)
    anchor = cue or (start, end)
    skipped = [*content, anchor]
    mention = source.align_mention(record.speaker_mention, *anchor, exclude=skipped, cut_words=True)
    owned = spent.statement
    if mention is not None and owned is not None and overlaps_any((mention.start, mention.end), [owned]):
        outside = source.align_mention(
            record.speaker_mention, *anchor, exclude=[*skipped, owned], cut_words=True
        )
        if outside is not None and source.one_sentence(
            min(outside.end, anchor[1]), max(outside.start, anchor[0])
        ):
            mention = outside
    if mention is None:
        return _Attribution(mention=None, cue=cue)
    found = (mention.start, mention.end)
    return _Attribution(mention=_pronoun_subject(source, found, cue, skipped) if cue else found, cue=cue)


def _cue_in_sentence(source: SourceText, cue: str, start: int, end: int) -> Span | None:
    """For a reported statement that ends its sentence ("… that the deal “sets the gold standard.”"), a
    cue after it stands in the next sentence: the copy before it in its own sentence, if there is one."""
    text = source.text
    if text[max(0, end - 2) : end].rstrip("\"”'’")[-1:] not in (".", "!", "?"):
        return None
    earlier = source.word(normalize_phrase(cue), max(0, start - _SENTENCE_REACH), start, backward=True)
    return earlier if earlier is not None and source.one_sentence(earlier[1], start) else None


def _pronoun_subject(source: SourceText, found: Span, cue: Span, skipped: Sequence[Span]) -> Span:
    """A pronoun is its cue's subject, which stands before the cue and not in a clause reported by
    another verb: "*She* said she had met him twice but said …", "*He* says he respects Marsh and calls
    her …", "Voters, *who* registered to oppose Hale and who …". From the pronoun nearest before the
    cue in its sentence, earlier ones are taken while the one at hand follows "said", "that", "whether"
    or a relative "which"/"whom" ("he turned against the bill - which he once backed - and has
    embraced …"); one right beside the cue is kept."""
    text = source.text
    word = normalize_phrase(text[found[0] : found[1]])
    if word not in _PRONOUNS or _beside(text, found, cue):
        return found
    best: Span | None = found if found[1] <= cue[0] else None
    earlier = source.words(word, max(0, cue[0] - _SENTENCE_REACH), best[0] if best else cue[0], backward=True)
    for span in earlier:
        if best is not None and _previous_word(text, best[0]) not in _REPORTING:
            break
        if not source.one_sentence(span[0], cue[0]):
            break
        if not overlaps_any(span, skipped):
            best = span
    return best or found


def _beside(text: str, pronoun: Span, cue: Span) -> bool:
    """Whether the pronoun is the cue's subject by position alone: right before it ("that he told"), or
    right after it and closing the clause ("said he,")."""
    if pronoun[1] <= cue[0]:
        return not text[pronoun[1] : cue[0]].strip()
    after = text[pronoun[1] : pronoun[1] + 1]
    return not text[cue[1] : pronoun[0]].strip() and (not after or after in ",.;:!?\n")


def _previous_word(text: str, at: int) -> str:
    words = text[max(0, at - 20) : at].split()
    return words[-1].lower() if words else ""


def _extent(attribution: _Attribution) -> Span:
    spans = [s for s in (attribution.mention, attribution.cue) if s is not None]
    return min(s for s, _ in spans), max(e for _, e in spans)


_ASIDE_MARKS = {",": ",", "—": "—", "–": "–", "-": " - "}


def _subject_end(text: str, start: int, cue_start: int) -> int:
    """Where a statement's subject ends when an aside set off by commas or dashes stands between it and
    the cue ("Mr. Dorn, who began his career in retail lending, was seen as …"); else `cue_start`."""
    at = cue_start
    while at > start and text[at - 1].isspace():
        at -= 1
    mark = _ASIDE_MARKS.get(text[at - 1]) if at > start else None
    if mark is None:
        return cue_start
    opening = text.find(mark, start, at - 1)
    return opening if opening > start else cue_start


def _around(text: str, start: int, end: int, cuts: Sequence[Span]) -> list[Span]:
    """The statement's words on either side of each attribution span in `cuts` (in text order), without
    the commas or dashes that set them off; one opening or closing the statement leaves one piece fewer."""
    pieces, at = [], start
    for left, right in cuts:
        while left > at and text[left - 1] in _LEFT_EDGE:
            left -= 1
        pieces.append((at, left))
        at = max(at, right)
        while at < end and text[at] in _RIGHT_EDGE:
            at += 1
    pieces.append((at, end))
    return [(a, b) for a, b in pieces if a < b and any(c.isalnum() for c in text[a:b])]


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
        return _nearer_copy(source, record.quote, aligned, (cue.start, cue.end), taken) or aligned
    cue_words = normalize_phrase(record.cue)
    for later in islice(source.words(cue_words, aligned.end, chunk.end), _PROBES):
        beside = _beside_cue(source, record.quote, later, max(aligned.end, later[0] - _REACH), chunk, taken)
        if beside is not None:
            return beside
    # Nested in a statement already placed ("The committee, which supported *Kloppenburg*, spent …").
    for nearby in islice(source.words(cue_words, max(chunk.start, after), chunk.end), _PROBES):
        lo = max(after, nearby[0] - _REACH)
        beside = _beside_cue(source, record.quote, nearby, lo, chunk, taken, nested=True)
        if beside is not None:
            return beside
    return aligned


def _nearer_copy(
    source: SourceText, words: str, aligned: Alignment, cue: Span, taken: Claimed
) -> Alignment | None:
    """A free whole-word copy of `words` between `aligned` and its cue, the one next to the cue: "some
    tax breaks — *some* (favored by Republicans) for …"."""
    if cue[0] >= aligned.end:
        lo, hi = aligned.end, cue[0]
    elif cue[1] <= aligned.start:
        lo, hi = cue[1], aligned.start
    else:
        return None
    copies = source.words(normalize_phrase(words), lo, hi, backward=cue[0] >= aligned.end)
    found = next((span for span in copies if not taken.overlaps(*span)), None)
    if found is None:
        return None
    status: Grounding = "exact" if source.text[found[0] : found[1]] == words else "normalized"
    return Alignment(found[0], found[1], status, 100.0)


def _beside_cue(
    source: SourceText, words: str, cue: Span, lo: int, chunk: Chunk, taken: Claimed, *, nested: bool = False
) -> Alignment | None:
    """A whole-word copy of `words` in the cue's sentence, within reach of the cue: a free one, or with
    `nested` one inside a claimed span (but not a claimed span itself)."""
    hi = min(chunk.end, cue[1] + _REACH)
    while lo < hi:
        beside = source.align_quote(words, lo=lo, hi=hi, taken=taken, fuzzy=False)
        if beside is None:
            return None
        claimed = taken.overlaps(beside.start, beside.end)
        wanted = claimed and not taken.holds(beside.start, beside.end) if nested else not claimed
        if (
            wanted
            and source.bounded(beside.start, beside.end)
            and source.one_sentence(min(cue[1], beside.end), max(cue[0], beside.start))
        ):
            return beside
        lo = beside.end
    return None


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
