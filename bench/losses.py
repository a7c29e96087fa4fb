"""Why a run lost gold quotes: each miss and each spurious prediction, classified and described by
position and shape only (never by its text or article id, which are PolNeAR's).

Matching is quotes.evaluate's own (one-to-one, largest alphanumeric overlap first, lenient 50 %).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from quotes.chunking import chunk_text
from quotes.evaluate import GoldArticle, GoldQuote, _alnum, _match, _speaker_ok
from quotes.pipeline import DEFAULT_OVERLAP
from quotes.schema import Quote

_PRONOUNS = frozenset(["he", "she", "they", "it", "we", "i", "you", "his", "her", "their", "its"])
EXAMPLES_PER_CAUSE = 6


def _chunk_ranges(text: str, size: int) -> list[tuple[int, int]]:
    if len(text) <= size:
        return [(0, len(text))]
    return [(c.start, c.end) for c in chunk_text(text, size=size, overlap=min(DEFAULT_OVERLAP, size // 2))]


def _shape(article: GoldArticle, gold: GoldQuote, chunks: Sequence[tuple[int, int]]) -> dict[str, Any]:
    text = article.text
    speaker = (gold.speaker or "").strip()
    others = [g for g in article.quotes if g is not gold and g.start < gold.end and gold.start < g.end]
    return {
        "kind": gold.kind,
        "chars": gold.end - gold.start,
        "fragments": len(gold.fragments()),
        "paragraphs": text[gold.start : gold.end].count("\n\n") + 1,
        "whole_in_a_chunk": any(lo <= gold.start and gold.end <= hi for lo, hi in chunks),
        "chunks_in_article": len(chunks),
        "overlaps_other_gold": len(others),
        "speaker": "none"
        if not speaker
        else "pronoun"
        if speaker.lower() in _PRONOUNS
        else "name/description",
        "speaker_occurrences": text.count(speaker) if speaker else 0,
        "speaker_inside_quote": gold.speaker_start is not None
        and gold.start <= gold.speaker_start < gold.end,
    }


def explain(
    gold: Sequence[GoldArticle], predictions: Mapping[str, Sequence[Quote]], *, chunk_size: int
) -> dict[str, Any]:
    causes: Counter[str] = Counter()
    features: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = {}
    for number, article in enumerate(gold):
        preds = list(predictions.get(article.id, ()))
        matched = _match(article, preds)
        gold_to_pred = {g: p for p, g in matched.pred_to_gold.items()}
        chunks = _chunk_ranges(article.text, chunk_size)
        for gi, quote in enumerate(article.quotes):
            pi = gold_to_pred.get(gi)
            if pi is not None and _speaker_ok(quote, preds[pi]):
                continue
            shape = _shape(article, quote, chunks)
            detail: dict[str, Any] = {"article_number": number, "article_chars": len(article.text)}
            detail["gold_span"] = [quote.start, quote.end]
            if pi is None:
                overlaps = [
                    (len(matched.gold_chars[gi] & pc) / max(1, len(matched.gold_chars[gi])), p)
                    for p, pc in enumerate(matched.pred_chars)
                ]
                best, best_p = max(overlaps, default=(0.0, -1))
                if best == 0:
                    cause = "missed: nothing predicted there"
                elif best_p in matched.pred_to_gold:
                    cause = "missed: the overlapping prediction matched another gold quote"
                else:
                    cause = "missed: overlapping prediction below the 50 % lenient threshold"
                if best_p >= 0:
                    p = preds[best_p]
                    detail["best_prediction_span"] = [p.start, p.end]
                detail["best_overlap"] = round(best, 3)
            else:
                p = preds[pi]
                detail["prediction_span"] = [p.start, p.end]
                if p.speaker.start is None:
                    cause = "speaker: mention not grounded"
                elif quote.speaker_start is None:
                    cause = "speaker: gold has none, prediction has one"
                else:
                    cause = "speaker: grounded at another occurrence"
                    detail["speaker_offset_from_gold"] = p.speaker.start - quote.speaker_start
            causes[cause] += 1
            for key in ("whole_in_a_chunk", "speaker_inside_quote"):
                features[f"{cause} | {key}={shape[key]}"] += 1
            features[f"{cause} | fragments>1={shape['fragments'] > 1}"] += 1
            features[f"{cause} | speaker={shape['speaker']}"] += 1
            bucket = examples.setdefault(cause, [])
            if len(bucket) < EXAMPLES_PER_CAUSE:
                bucket.append(detail | shape)
        used = set(matched.pred_to_gold)
        for pi, pred in enumerate(preds):
            if pi in used:
                continue
            chars = _alnum(article.text, pred.fragments())
            touching = sum(1 for gc in matched.gold_chars if chars & gc)
            cause = "spurious: overlaps a gold quote" if touching else "spurious: overlaps no gold quote"
            causes[cause] += 1
            bucket = examples.setdefault(cause, [])
            if len(bucket) < EXAMPLES_PER_CAUSE:
                bucket.append(
                    {
                        "article_number": number,
                        "prediction_span": [pred.start, pred.end],
                        "grounding": pred.grounding,
                        "chunk": pred.chunk,
                        "gold_quotes_touched": touching,
                    }
                )
    return {"causes": dict(causes), "features": dict(sorted(features.items())), "examples": examples}
