from __future__ import annotations

import json
from pathlib import Path

import pytest

from quotes.evaluate import (
    EvalInputError,
    GoldArticle,
    gold_as_predictions,
    load_gold,
    restrict,
    score,
    score_all,
    score_restricted,
    summary_table,
)
from quotes.schema import Quote, Speaker

TEXT = (
    "“We will win this state,” the senator said. “Nobody doubts it.”\n\n"
    "The mayor said that the budget was balanced.\n\n"
    "Critics called the plan “a reckless gamble” on Monday."
)


def _span(fragment: str) -> tuple[int, int]:
    start = TEXT.index(fragment)
    return start, start + len(fragment)


def _gold_quote(fragments: list[str], kind: str, speaker: str | None, cue: str | None) -> dict[str, object]:
    spans = [_span(f) for f in fragments]
    start, end = spans[0][0], spans[-1][1]
    record: dict[str, object] = {
        "text": TEXT[start:end],
        "start": start,
        "end": end,
        "kind": kind,
        "spans": [list(s) for s in spans],
        "speaker": speaker,
        "speaker_start": None,
        "speaker_end": None,
        "cue": cue,
        "cue_start": None,
        "cue_end": None,
    }
    if speaker is not None:
        record["speaker_start"], record["speaker_end"] = _span(speaker)
    if cue is not None:
        record["cue_start"], record["cue_end"] = _span(cue)
    return record


def _write_gold(tmp_path: Path) -> Path:
    article = {
        "id": "a1",
        "text": TEXT,
        "quotes": [
            _gold_quote(
                ["“We will win this state,”", "“Nobody doubts it.”"], "direct", "the senator", "said"
            ),
            _gold_quote(["that the budget was balanced"], "indirect", "The mayor", "said"),
            _gold_quote(["the plan “a reckless gamble”"], "mixed", "Critics", "called"),
        ],
    }
    # the mayor's cue is the second "said" in the text
    mayor_cue = TEXT.index("said", TEXT.index("The mayor"))
    article["quotes"][1]["cue_start"], article["quotes"][1]["cue_end"] = mayor_cue, mayor_cue + 4  # type: ignore[index]
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps(article) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def gold(tmp_path: Path) -> list[GoldArticle]:
    return load_gold(_write_gold(tmp_path))


def _pred(fragments: list[tuple[int, int]], kind: str = "direct", speaker: str | None = None) -> Quote:
    start, end = fragments[0][0], fragments[-1][1]
    mention = Speaker()
    if speaker is not None:
        s, e = _span(speaker)
        mention = Speaker(mention=speaker, start=s, end=e)
    return Quote(
        id="q1", text=TEXT[start:end], start=start, end=end, kind=kind, speaker=mention, spans=fragments
    )


def test_gold_scored_against_itself_is_perfect_everywhere(gold: list[GoldArticle]) -> None:
    for report in score_all(gold, gold_as_predictions(gold)):
        for prf in (
            report.lenient,
            report.strict_covering,
            report.strict_fragment,
            report.soft,
            report.end_to_end,
        ):
            assert (prf.precision, prf.recall, prf.f1) == (1.0, 1.0, 1.0), report.subset
        assert report.speaker_accuracy == report.kind_accuracy == report.cue_accuracy == 1.0


def test_subset_ignores_predictions_matching_gold_outside_it(gold: list[GoldArticle]) -> None:
    predictions = {"a1": [_pred([_span("that the budget was balanced")], "indirect", "The mayor")]}
    direct = score(gold, predictions, "direct")
    assert (direct.lenient.tp, direct.lenient.n_pred, direct.lenient.n_gold) == (0, 0, 1)
    everything = score(gold, predictions, "all")
    assert (everything.lenient.tp, everything.lenient.n_pred, everything.lenient.n_gold) == (1, 1, 3)
    assert everything.end_to_end.tp == 1


def test_unmatched_prediction_is_a_false_positive_in_every_subset(gold: list[GoldArticle]) -> None:
    predictions = {"a1": [_pred([_span("on Monday")], "indirect")]}
    for report in score_all(gold, predictions):
        assert (report.lenient.tp, report.lenient.n_pred) == (0, 1)


def test_lenient_needs_half_of_gold_and_half_of_prediction(gold: list[GoldArticle]) -> None:
    first_fragment_only = {"a1": [_pred([_span("“We will win this state,”")], speaker="the senator")]}
    report = score(gold, first_fragment_only, "direct")
    # 18 of the gold's 32 alphanumeric characters: a lenient match, but not a strict one
    assert report.lenient.tp == 1
    assert report.strict_covering.tp == 0
    assert report.strict_fragment.tp == 1
    too_small = {"a1": [_pred([_span("“Nobody doubts it.”")])]}
    assert score(gold, too_small, "direct").lenient.tp == 0


def test_speaker_must_overlap_the_gold_source_span(gold: list[GoldArticle]) -> None:
    fragments = [_span("“We will win this state,”"), _span("“Nobody doubts it.”")]
    right = score(gold, {"a1": [_pred(fragments, speaker="senator")]}, "direct")
    wrong = score(gold, {"a1": [_pred(fragments, speaker="The mayor")]}, "direct")
    assert (right.end_to_end.tp, right.speaker_accuracy) == (1, 1.0)
    assert (wrong.end_to_end.tp, wrong.speaker_accuracy, wrong.lenient.tp) == (0, 0.0, 1)


def test_kind_confusion_counts_matched_pairs(gold: list[GoldArticle]) -> None:
    predictions = {"a1": [_pred([_span("the plan “a reckless gamble”")], "indirect", "Critics")]}
    report = score(gold, predictions, "all")
    assert report.kind_confusion["mixed"]["indirect"] == 1
    assert report.kind_accuracy == 0.0


def test_soft_scores_characters(gold: list[GoldArticle]) -> None:
    predictions = {"a1": [_pred([_span("“We will win this state,”")])]}
    report = score(gold, predictions, "direct")
    assert report.soft.precision == 1.0
    assert report.soft.recall == pytest.approx(18 / 32)


def test_report_renders(gold: list[GoldArticle]) -> None:
    reports = score_all(gold, gold_as_predictions(gold))
    assert reports[0].to_dict()["lenient"]["f1"] == 1.0
    assert reports[0].to_table().row_count == 8
    assert summary_table(reports).row_count == 3


def test_missing_gold_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(EvalInputError, match=r"absent\.jsonl: gold file not found"):
        load_gold(tmp_path / "absent.jsonl")


def test_bad_gold_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "x", "text": "", "quotes": []}\n{not json\n', encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"gold\.jsonl:2: not valid JSON"):
        load_gold(path)
    path.write_text('{"id": "x", "quotes": []}\n', encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"gold\.jsonl:1: bad gold article \(text"):
        load_gold(path)


def test_gold_text_must_match_offsets(tmp_path: Path) -> None:
    quote = _gold_quote(["Nobody doubts it."], "direct", None, None)
    quote["start"] = 0
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "x", "text": TEXT, "quotes": [quote]}) + "\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"gold\.jsonl:1: quote 1: its text does not match the article"):
        load_gold(path)


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("spans", [[0, 3]], r"spans \[\(0, 3\)\] are not inside the quote's"),
        ("speaker_start", 10_000, r"speaker_start/speaker_end \(10000, None\) are not a range"),
        ("cue_end", -1, r"cue_start/cue_end \(None, -1\) are not a range"),
    ],
)
def test_gold_offsets_must_lie_in_the_article(
    tmp_path: Path, field: str, value: object, problem: str
) -> None:
    quote = _gold_quote(["Nobody doubts it."], "direct", None, None)
    quote[field] = value
    path = tmp_path / "gold.jsonl"
    path.write_text(json.dumps({"id": "x", "text": TEXT, "quotes": [quote]}) + "\n", encoding="utf-8")
    with pytest.raises(EvalInputError, match=r"gold\.jsonl:1: quote 1: " + problem):
        load_gold(path)


def test_restricted_scoring_asks_each_subset_for_its_own_kinds(gold: list[GoldArticle]) -> None:
    predictions = {"a1": [_pred([_span("on Monday")], "indirect"), _pred([_span("“Nobody doubts it.”")])]}
    direct, mixed, everything = score_restricted(gold, predictions)
    assert (direct.subset, direct.lenient.n_pred) == ("direct", 1), "the stray indirect one is not asked for"
    assert mixed.lenient.n_pred == 1
    assert everything.lenient.n_pred == 2, "all kinds are asked for in `all`"
    assert [q.kind for q in restrict(predictions, "direct")["a1"]] == ["direct"]
