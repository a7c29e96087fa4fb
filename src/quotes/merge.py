"""One article's quotes made whole: duplicates from chunk overlaps merged, each statement kept once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from quotes.schema import Quote

_GROUNDING_RANK = {"exact": 2, "normalized": 1, "fuzzy": 0}


def _same_statement(a: Quote, b: Quote) -> bool:
    """One contains the other, or they overlap by at least half of the shorter one; but two statements
    from one chunk with cues or speaker mentions of their own are two (one nested in the other's words:
    "X said that Y claimed Z"). Across chunks a cut statement and its whole form may be attributed apart,
    as the model saw only part of the first."""
    if not ((a.start <= b.start and b.end <= a.end) or (b.start <= a.start and a.end <= b.end)):
        overlap = min(a.end, b.end) - max(a.start, b.start)
        if overlap <= 0 or 2 * overlap < min(a.end - a.start, b.end - b.start):
            return False
    return not (a.chunk == b.chunk and _attributed_apart(a, b))


def _attributed_apart(a: Quote, b: Quote) -> bool:
    cues = (a.cue_start, b.cue_start)
    mentions = (a.speaker.start, b.speaker.start)
    return any(x is not None and y is not None and x != y for x, y in (cues, mentions))


def _wins(a: Quote, b: Quote) -> bool:
    """Whether `a` is kept over `b`: the longer span, then the better grounding, then the first seen."""
    if a.end - a.start != b.end - b.start:
        return a.end - a.start > b.end - b.start
    return _GROUNDING_RANK[a.grounding] >= _GROUNDING_RANK[b.grounding]


def _filled(kept: Quote, other: Quote) -> Quote:
    """`kept` with the speaker, cue and about fields it lacks taken from `other`."""
    speaker: dict[str, Any] = {}
    mine, theirs = kept.speaker, other.speaker
    if mine.name is None and theirs.name is not None:
        speaker["name"] = theirs.name
    if mine.mention is None and theirs.mention is not None:
        speaker.update(mention=theirs.mention, start=theirs.start, end=theirs.end)
    if mine.type == "unknown" and theirs.type != "unknown":
        speaker["type"] = theirs.type
    if mine.role is None and theirs.role is not None:
        speaker["role"] = theirs.role
    update: dict[str, Any] = {}
    if speaker:
        update["speaker"] = mine.model_copy(update=speaker)
    if kept.cue is None and other.cue is not None:
        update.update(cue=other.cue, cue_start=other.cue_start, cue_end=other.cue_end)
    if not kept.about and other.about:
        update["about"] = [entity.model_copy() for entity in other.about]
    return kept.model_copy(update=update) if update else kept


def dedupe(quotes: Sequence[Quote]) -> list[Quote]:
    """Quotes found twice (in overlapping chunks, or given twice by a model) merged into one, sorted by start.

    Of two quotes whose spans overlap by at least half of the shorter one, or where one contains the other,
    and that one chunk does not attribute apart (see `_same_statement`), the longer is kept (a quote cut
    at a chunk's edge loses to its whole form from the neighbour; on equal length the better grounding
    wins), with the speaker, cue and about fields it lacks filled from the other. A sweep over the quotes
    sorted by start compares each one with the last kept quote and with the kept quote reaching furthest
    right: O(n log n).
    """
    kept: list[Quote] = []
    furthest = -1
    for quote in sorted(quotes, key=lambda q: (q.start, -q.end)):
        candidates = dict.fromkeys((len(kept) - 1, furthest)) if kept else {}  # each index once, in order
        target = next((i for i in candidates if _same_statement(kept[i], quote)), None)
        if target is None:
            kept.append(quote)
            target = len(kept) - 1
        else:
            other = kept[target]
            kept[target] = _filled(other, quote) if _wins(other, quote) else _filled(quote, other)
        if furthest < 0 or kept[target].end > kept[furthest].end:
            furthest = target
    return sorted(kept, key=lambda q: (q.start, q.end))
