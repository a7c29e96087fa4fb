"""Scoring extractions against gold quotes: detection, attribution, kind and cue metrics.

The metrics follow shared/eval/README.md exactly. Matching is one-to-one within an article, greedy,
largest overlap first, where overlap counts the alphanumeric characters shared by the content
fragments (`spans`). Every metric is micro-averaged over quotes and reported for three gold subsets.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from rich.table import Table

from quotes.articles import json_problem
from quotes.schema import Kind, Quote, Speaker

Subset = Literal["direct", "direct+mixed", "all"]
SUBSETS: tuple[Subset, ...] = ("direct", "direct+mixed", "all")
# The kinds each subset holds; also the kinds an extractor is asked for when scored on that subset.
SUBSET_KINDS: dict[Subset, frozenset[Kind]] = {
    "direct": frozenset({"direct"}),
    "direct+mixed": frozenset({"direct", "mixed"}),
    "all": frozenset({"direct", "mixed", "indirect"}),
}
KINDS: tuple[Kind, ...] = ("direct", "mixed", "indirect")
_EDGE = " \t\r\n\u00a0\"'“”‘’«»„‟‹›,.;:"
LENIENT = 0.5


class EvalInputError(ValueError):
    """A gold or extraction file that is missing or malformed; the message names the file and line."""


class GoldQuote(BaseModel):
    """One gold attribution: covering span, content fragments, source mention, cue and derived kind."""

    model_config = ConfigDict(extra="ignore")

    text: str
    start: int
    end: int
    kind: Kind
    speaker: str | None = None
    speaker_start: int | None = None
    speaker_end: int | None = None
    cue: str | None = None
    cue_start: int | None = None
    cue_end: int | None = None
    spans: list[tuple[int, int]] = []

    def fragments(self) -> list[tuple[int, int]]:
        return self.spans or [(self.start, self.end)]

    def as_quote(self, qid: str) -> Quote:
        """This gold record as a prediction (for self-scoring and for feeding other tools)."""
        return Quote(
            id=qid,
            text=self.text,
            start=self.start,
            end=self.end,
            kind=self.kind,
            speaker=Speaker(
                name=self.speaker, mention=self.speaker, start=self.speaker_start, end=self.speaker_end
            ),
            cue=self.cue,
            cue_start=self.cue_start,
            cue_end=self.cue_end,
            spans=list(self.spans),
        )


class GoldArticle(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    text: str
    quotes: list[GoldQuote]


def _read_jsonl(path: Path, what: str) -> Iterable[tuple[int, dict[str, Any]]]:
    if not path.is_file():
        raise EvalInputError(f"{path}: {what} file not found")
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise EvalInputError(f"{path}:{number}: {json_problem(exc)}") from exc
            if not isinstance(record, dict):
                raise EvalInputError(f"{path}:{number}: expected a JSON object per line")
            yield number, record


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}"


def load_gold(path: str | Path) -> list[GoldArticle]:
    """Read a gold JSONL file: one article a line, in the format of the README's "Gold for quotes eval".

    A line that is not that format raises EvalInputError naming the file, the line and the problem: a
    missing field, a quote whose text is not the article's at its offsets, a fragment (`spans`) outside its
    quote, a speaker or cue offset outside the article.
    """
    path = Path(path)
    articles: list[GoldArticle] = []
    for number, record in _read_jsonl(path, "gold"):
        try:
            article = GoldArticle.model_validate(record)
        except ValidationError as exc:
            raise EvalInputError(f"{path}:{number}: bad gold article ({_first_error(exc)})") from exc
        for n, quote in enumerate(article.quotes, start=1):
            problem = _gold_quote_problem(article.text, quote)
            if problem:
                raise EvalInputError(f"{path}:{number}: quote {n}: {problem}")
        articles.append(article)
    return articles


def _gold_quote_problem(text: str, quote: GoldQuote) -> str | None:
    if text[quote.start : quote.end] != quote.text:
        return f"its text does not match the article at [{quote.start}, {quote.end})"
    outside = [(s, e) for s, e in quote.spans if not quote.start <= s < e <= quote.end]
    if outside:
        return f"spans {outside} are not inside the quote's [{quote.start}, {quote.end})"
    for what, start, end in (
        ("speaker", quote.speaker_start, quote.speaker_end),
        ("cue", quote.cue_start, quote.cue_end),
    ):
        if (start is None) != (end is None) or (
            start is not None and end is not None and not 0 <= start <= end <= len(text)
        ):
            return f"{what}_start/{what}_end ({start}, {end}) are not a range in the article"
    return None


def gold_as_predictions(gold: Sequence[GoldArticle]) -> dict[str, list[Quote]]:
    return {
        article.id: [quote.as_quote(f"q{i}") for i, quote in enumerate(article.quotes, start=1)]
        for article in gold
    }


# --- metrics -----------------------------------------------------------------------------------------


@dataclass
class PRF:
    tp: int = 0
    n_pred: int = 0
    n_gold: int = 0

    @property
    def precision(self) -> float:
        return self.tp / self.n_pred if self.n_pred else (1.0 if not self.n_gold else 0.0)

    @property
    def recall(self) -> float:
        return self.tp / self.n_gold if self.n_gold else (1.0 if not self.n_pred else 0.0)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "tp": self.tp,
            "n_pred": self.n_pred,
            "n_gold": self.n_gold,
        }


@dataclass
class Report:
    """Every metric for one gold subset; fractions in [0, 1]."""

    subset: Subset
    lenient: PRF = field(default_factory=PRF)
    strict_covering: PRF = field(default_factory=PRF)
    strict_fragment: PRF = field(default_factory=PRF)
    soft: PRF = field(default_factory=PRF)
    end_to_end: PRF = field(default_factory=PRF)
    matched: int = 0
    speaker_matched: int = 0
    kind_matched: int = 0
    cue_matched: int = 0
    kind_confusion: dict[str, dict[str, int]] = field(
        default_factory=lambda: {g: dict.fromkeys(KINDS, 0) for g in KINDS}
    )

    @property
    def speaker_accuracy(self) -> float:
        return self.speaker_matched / self.matched if self.matched else 0.0

    @property
    def kind_accuracy(self) -> float:
        return self.kind_matched / self.matched if self.matched else 0.0

    @property
    def cue_accuracy(self) -> float:
        return self.cue_matched / self.matched if self.matched else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "subset": self.subset,
            "lenient": self.lenient.to_dict(),
            "strict_covering": self.strict_covering.to_dict(),
            "strict_fragment": self.strict_fragment.to_dict(),
            "soft": self.soft.to_dict(),
            "end_to_end": self.end_to_end.to_dict(),
            "matched": self.matched,
            "speaker_accuracy": self.speaker_accuracy,
            "kind_accuracy": self.kind_accuracy,
            "cue_accuracy": self.cue_accuracy,
            "kind_confusion": self.kind_confusion,
        }

    def to_table(self) -> Table:
        table = Table(title=f"gold subset: {self.subset}")
        table.add_column("metric")
        for column in ("P", "R", "F1"):
            table.add_column(column, justify="right")
        for name, prf in (
            ("quote lenient", self.lenient),
            ("quote strict (covering)", self.strict_covering),
            ("quote strict (fragment)", self.strict_fragment),
            ("quote soft (characters)", self.soft),
            ("end-to-end quote+speaker", self.end_to_end),
        ):
            table.add_row(name, _pct(prf.precision), _pct(prf.recall), _pct(prf.f1))
        for name, value in (
            ("speaker accuracy (matched)", self.speaker_accuracy),
            ("kind accuracy (matched)", self.kind_accuracy),
            ("cue exact (matched)", self.cue_accuracy),
        ):
            table.add_row(name, "", "", _pct(value))
        return table


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def summary_table(reports: Sequence[Report], title: str = "quote extraction vs gold") -> Table:
    """One row per subset with the headline numbers, as in shared/eval/README.md."""
    table = Table(title=title)
    for column in (
        "gold subset",
        "lenient P / R / F1",
        "strict cov F1",
        "strict frag F1",
        "soft F1",
        "e2e F1",
        "speaker acc",
        "kind acc",
        "cue acc",
    ):
        table.add_column(column, justify="left" if column == "gold subset" else "right")
    for report in reports:
        table.add_row(
            report.subset,
            " / ".join(_pct(v) for v in (report.lenient.precision, report.lenient.recall, report.lenient.f1)),
            _pct(report.strict_covering.f1),
            _pct(report.strict_fragment.f1),
            _pct(report.soft.f1),
            _pct(report.end_to_end.f1),
            _pct(report.speaker_accuracy),
            _pct(report.kind_accuracy),
            _pct(report.cue_accuracy),
        )
    return table


# --- matching ----------------------------------------------------------------------------------------


def _alnum(text: str, fragments: Iterable[tuple[int, int]]) -> frozenset[int]:
    return frozenset(
        i for start, end in fragments for i in range(max(start, 0), min(end, len(text))) if text[i].isalnum()
    )


def _stripped(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE:
        start += 1
    while end > start and text[end - 1] in _EDGE:
        end -= 1
    return start, end


def _fragment_set(text: str, fragments: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
    stripped = (_stripped(text, s, e) for s, e in fragments)
    return {(s, e) for s, e in stripped if s < e}


def _pred_fragments(quote: Quote) -> list[tuple[int, int]]:
    return [(int(s), int(e)) for s, e in quote.fragments()]


def _speaker_ok(gold: GoldQuote, pred: Quote) -> bool:
    if gold.speaker_start is None or gold.speaker_end is None:
        return pred.speaker.start is None
    if pred.speaker.start is None or pred.speaker.end is None:
        return False
    return pred.speaker.start < gold.speaker_end and gold.speaker_start < pred.speaker.end


@dataclass
class _Matched:
    """One article's matching, independent of the subset."""

    text: str
    gold: list[GoldQuote]
    preds: list[Quote]
    gold_chars: list[frozenset[int]]
    pred_chars: list[frozenset[int]]
    pred_to_gold: dict[int, int]


def _match(article: GoldArticle, preds: Sequence[Quote]) -> _Matched:
    text = article.text
    gold_chars = [_alnum(text, g.fragments()) for g in article.quotes]
    pred_chars = [_alnum(text, _pred_fragments(p)) for p in preds]
    candidates: list[tuple[int, int, int]] = []
    for pi, pc in enumerate(pred_chars):
        if not pc:
            continue
        for gi, gc in enumerate(gold_chars):
            if not gc:
                continue
            overlap = len(pc & gc)
            if overlap and overlap >= LENIENT * len(gc) and overlap >= LENIENT * len(pc):
                candidates.append((overlap, pi, gi))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    pred_to_gold: dict[int, int] = {}
    used_gold: set[int] = set()
    for _, pi, gi in candidates:
        if pi not in pred_to_gold and gi not in used_gold:
            pred_to_gold[pi] = gi
            used_gold.add(gi)
    return _Matched(text, list(article.quotes), list(preds), gold_chars, pred_chars, pred_to_gold)


def _accumulate(report: Report, m: _Matched) -> None:
    kinds = SUBSET_KINDS[report.subset]
    in_subset = [g.kind in kinds for g in m.gold]
    kept = [pi for pi in range(len(m.preds)) if pi not in m.pred_to_gold or in_subset[m.pred_to_gold[pi]]]
    gold_idx = [gi for gi, ok in enumerate(in_subset) if ok]
    text = m.text

    for prf in (report.lenient, report.strict_covering, report.end_to_end):
        prf.n_pred += len(kept)
        prf.n_gold += len(gold_idx)

    for pi in kept:
        gi = m.pred_to_gold.get(pi)
        if gi is None:
            continue
        gold, pred = m.gold[gi], m.preds[pi]
        report.lenient.tp += 1
        report.matched += 1
        if _stripped(text, gold.start, gold.end) == _stripped(text, pred.start, pred.end):
            report.strict_covering.tp += 1
        if _speaker_ok(gold, pred):
            report.speaker_matched += 1
            report.end_to_end.tp += 1
        if gold.kind == pred.kind:
            report.kind_matched += 1
        report.kind_confusion[gold.kind][pred.kind] += 1
        if (gold.cue_start, gold.cue_end) == (pred.cue_start, pred.cue_end):
            report.cue_matched += 1

    gold_frags = _fragment_set(text, (f for gi in gold_idx for f in m.gold[gi].fragments()))
    pred_frags = _fragment_set(text, (f for pi in kept for f in _pred_fragments(m.preds[pi])))
    report.strict_fragment.tp += len(gold_frags & pred_frags)
    report.strict_fragment.n_gold += len(gold_frags)
    report.strict_fragment.n_pred += len(pred_frags)

    gold_union = frozenset[int]().union(*(m.gold_chars[gi] for gi in gold_idx))
    pred_union = frozenset[int]().union(*(m.pred_chars[pi] for pi in kept))
    report.soft.tp += len(gold_union & pred_union)
    report.soft.n_gold += len(gold_union)
    report.soft.n_pred += len(pred_union)


def score_all(
    gold: Sequence[GoldArticle],
    predictions: Mapping[str, Sequence[Quote]],
    subsets: Sequence[Subset] = SUBSETS,
) -> list[Report]:
    """Score predictions (article id → quotes; a missing id means no quotes) for each subset."""
    reports = [Report(subset=s) for s in subsets]
    for article in gold:
        matched = _match(article, predictions.get(article.id, ()))
        for report in reports:
            _accumulate(report, matched)
    return reports


def score(gold: Sequence[GoldArticle], predictions: Mapping[str, Sequence[Quote]], kinds: Subset) -> Report:
    return score_all(gold, predictions, (kinds,))[0]


def restrict(predictions: Mapping[str, Sequence[Quote]], subset: Subset) -> dict[str, list[Quote]]:
    """Only the predictions of the subset's kinds: what an extractor asked for just those kinds returns."""
    kinds = SUBSET_KINDS[subset]
    return {article: [q for q in quotes if q.kind in kinds] for article, quotes in predictions.items()}


def score_restricted(
    gold: Sequence[GoldArticle],
    predictions: Mapping[str, Sequence[Quote]],
    subsets: Sequence[Subset] = SUBSETS,
) -> list[Report]:
    """Each subset scored on the predictions of its own kinds (see `restrict`); the metrics are unchanged.

    A speech-only tool asked for direct quotes makes no indirect predictions to count against it; this
    scores a full extractor the same way when it is used like one.
    """
    return [score(gold, restrict(predictions, subset), subset) for subset in subsets]
