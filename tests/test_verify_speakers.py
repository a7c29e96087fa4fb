"""Whether the article's speaker is the claimed one: a name in part, in full, with titles, initials or
accents, and when someone else the article quotes fits the same name.

Articles and names are invented (a harbour town's council); the rules backend extracts them at test
time, except where a test needs an extraction the rules backend does not make (marked there).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quotes import Claim, Verdict, verify
from quotes.api import extract_many
from quotes.archive import Archive
from quotes.cli import app
from quotes.schema import Article, Extraction, Quote, Speaker
from quotes.verify import PARTIAL_NAME_CONFIDENCE, VAGUE_NAME_CONFIDENCE

WALL = "The harbour tax will pay for the sea wall"
CLAIMED = "The harbour tax will pay"
SURNAME_ONLY = f"“{WALL},” Brandt said again."
FULL_NAME = f"“{WALL},” said Elena Brandt, the mayor of Port Velmora."
TWO_BRANDTS = f"“{WALL},” said Elena Brandt. “It will not,” said Tom Brandt, her brother."


def judge(text: str, speaker: str, quote: str = CLAIMED) -> Verdict:
    [verdict] = verify(text, Claim(speaker=speaker, quote=quote), backend="rules")
    return verdict


@pytest.mark.parametrize(
    ("speaker", "full"),
    [
        ("Elena Brandt", True),
        ("Mayor Elena Brandt", True),
        ("E. Brandt", True),
        ("ELENA BRANDT", True),
        ("elena brandt", True),
        ("Ms. Brandt", False),
        ("Dr. Brandt", False),
        ("Sen. Brandt", False),
    ],
)
def test_a_full_name_or_title_fits_an_article_that_names_the_speaker_by_surname(
    speaker: str, full: bool
) -> None:
    verdict = judge(SURNAME_ONLY, speaker)
    assert (verdict.verdict, verdict.problems, verdict.actual_speaker) == ("supported", [], "Brandt")
    assert verdict.explanation is not None
    if full:
        # Nothing in the article contradicts the full name, and the verdict says why it is less sure.
        assert verdict.confidence == PARTIAL_NAME_CONFIDENCE
        assert "the article names the speaker only “Brandt”" in verdict.explanation
    else:
        assert verdict.confidence == 1.0  # a title and the surname: the article's own name


@pytest.mark.parametrize("speaker", ["Brandt", "brandt", "Brandt’s", "Ms. Brandt", "Elena", "E. Brandt"])
def test_a_part_of_the_article_s_full_name_is_the_speaker(speaker: str) -> None:
    verdict = judge(FULL_NAME, speaker)
    assert (verdict.verdict, verdict.actual_speaker) == ("supported", "Elena Brandt")
    assert verdict.confidence == PARTIAL_NAME_CONFIDENCE


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (FULL_NAME, "Tom Brandt"),  # another first name, the same surname
        (FULL_NAME, "T. Brandt"),  # another initial
        (FULL_NAME, "Tom"),
        (FULL_NAME, "Elena Ortiz"),  # the same first name, another surname
        (SURNAME_ONLY, "Marsh"),
    ],
)
def test_a_name_that_differs_in_any_word_is_someone_else(text: str, speaker: str) -> None:
    verdict = judge(text, speaker)
    assert (verdict.verdict, verdict.problems) == ("misattributed", ["misattributed"])
    assert verdict.confidence == 1.0


@pytest.mark.parametrize("speaker", ["Jürgen Müller", "Jurgen Muller", "Muller", "Dr. Müller's", "J. Muller"])
def test_accents_case_and_possessives_do_not_matter(speaker: str) -> None:
    verdict = judge(f"“{WALL},” Dr. Jürgen Müller told the council.", speaker)
    assert verdict.verdict == "supported"


def test_a_first_name_before_a_shared_surname_is_another_person_not_a_title() -> None:
    # "Tom" before "Ebeling" was taken for a title of Betsy Ebeling, so either name passed for the other.
    text = f"“{WALL},” Betsy Ebeling said. Her husband, Tom Ebeling, was less sure."
    assert judge(text, "Betsy Ebeling").verdict == "supported"
    assert judge(text, "Ebeling").verdict == "supported"
    wrong = judge(text, "Tom Ebeling")
    assert (wrong.verdict, wrong.actual_speaker) == ("misattributed", "Betsy Ebeling")
    both = f"{text} “We should wait for the survey,” Tom Ebeling said."
    assert judge(both, "Betsy Ebeling", "We should wait for the survey").verdict == "misattributed"
    assert judge(both, "Tom Ebeling", "We should wait for the survey").verdict == "supported"


def test_a_claimed_surname_that_fits_two_quoted_people_is_supported_at_low_confidence() -> None:
    vague = judge(TWO_BRANDTS, "Brandt")
    assert (vague.verdict, vague.actual_speaker, vague.confidence) == (
        "supported",
        "Elena Brandt",
        VAGUE_NAME_CONFIDENCE,
    )
    assert vague.explanation is not None
    assert "“Brandt” fits Tom Brandt too" in vague.explanation
    exact = judge(TWO_BRANDTS, "Elena Brandt")
    assert (exact.verdict, exact.confidence) == ("supported", 1.0)
    other = judge(TWO_BRANDTS, "Tom Brandt")
    assert (other.verdict, other.confidence) == ("misattributed", 1.0)


def test_confidence_orders_the_full_name_above_a_part_above_an_ambiguous_part() -> None:
    full = judge(TWO_BRANDTS, "Elena Brandt").confidence
    part = judge(FULL_NAME, "Brandt").confidence
    ambiguous = judge(TWO_BRANDTS, "Brandt").confidence
    assert None not in (full, part, ambiguous)
    assert full is not None  # for mypy
    assert part is not None
    assert ambiguous is not None
    assert full > part > ambiguous


def test_a_surname_the_extraction_took_for_one_of_two_quoted_people_is_followed_at_low_confidence() -> None:
    text = f"“We need the wall,” said Elena Brandt. “We do not,” said Tom Brandt. “{WALL},” Brandt said."
    for speaker, label in (("Elena Brandt", "supported"), ("Tom Brandt", "misattributed")):
        verdict = judge(text, speaker)
        assert (verdict.verdict, verdict.actual_speaker) == (label, "Elena Brandt")
        assert verdict.confidence == VAGUE_NAME_CONFIDENCE
        assert verdict.explanation is not None
        assert "names the speaker here only “Brandt”, which fits Tom Brandt too" in verdict.explanation


def unresolved_brandt() -> tuple[Article, Extraction]:
    """Authored: an extraction (in the shape any backend returns) that leaves the last speaker "Brandt",
    as canonical names do when two full names hold the surname."""
    article = Article(
        id="two-brandts",
        text=f"“We need the wall,” said Elena Brandt. “We do not,” said Tom Brandt. “{WALL},” Brandt said.",
    )
    quotes = []
    for n, (words, name, mention) in enumerate(
        [
            ("“We need the wall,”", "Elena Brandt", "Elena Brandt"),
            ("“We do not,”", "Tom Brandt", "Tom Brandt"),
            (f"“{WALL},”", "Brandt", "Brandt"),
        ]
    ):
        start, at = article.text.index(words), article.text.rindex(mention)
        speaker = Speaker(name=name, mention=mention, start=at, end=at + len(mention), type="person")
        quotes.append(
            Quote(id=f"q{n}", text=words, start=start, end=start + len(words), kind="direct", speaker=speaker)
        )
    return article, Extraction(id=article.id, text_sha256=article.sha256, backend="rules", quotes=quotes)


@pytest.mark.parametrize("speaker", ["Elena Brandt", "Tom Brandt", "E. Brandt"])
def test_an_article_name_that_fits_two_quoted_people_is_unattributed_naming_both(speaker: str) -> None:
    article, extraction = unresolved_brandt()
    [verdict] = verify(article, Claim(speaker=speaker, quote=CLAIMED), extraction=extraction, backend="rules")
    assert (verdict.verdict, verdict.problems, verdict.actual_speaker) == (
        "unattributed",
        ["unattributed"],
        "Brandt",
    )
    assert verdict.explanation is not None
    assert verdict.explanation.startswith("the article gives these words to “Brandt”, who may be")
    assert "Elena Brandt" in verdict.explanation
    assert "Tom Brandt" in verdict.explanation
    [same] = verify(article, Claim(speaker="Brandt", quote=CLAIMED), extraction=extraction, backend="rules")
    assert (same.verdict, same.confidence) == ("supported", 1.0)


@pytest.mark.parametrize(
    ("speaker", "label"),
    [("the ministry", "supported"), ("the Health Ministry", "supported"), ("Elena Brandt", "misattributed")],
)
def test_bodies_keep_answering_to_their_name_s_words(speaker: str, label: str) -> None:
    verdict = judge(f"“{WALL},” the Health Ministry said in a statement.", speaker)
    assert (verdict.verdict, verdict.confidence) == (label, 1.0)


def test_a_paraphrase_judged_by_content_words_uses_the_same_name_match() -> None:
    text = "Brandt said the harbour tax would pay for the new sea wall within six years."
    claim = "the sea wall will be paid for by the harbour tax within six years"
    verdict = judge(text, "Elena Brandt", claim)
    assert (verdict.verdict, verdict.actual_speaker) == ("supported", "Brandt")
    assert judge(text, "Tom Ortiz", claim).verdict == "misattributed"


def test_cli_json_verdict_for_a_full_name_against_a_surname(tmp_path: Path) -> None:
    article = tmp_path / "harbour.txt"
    article.write_text(SURNAME_ONLY, encoding="utf-8")
    args = [str(article), "--speaker", "Elena Brandt", "--quote", CLAIMED, "--format", "json"]
    result = CliRunner().invoke(app, ["verify", *args, "--backend", "rules"])
    assert result.exit_code == 0, result.output
    [verdict] = json.loads(result.stdout)
    assert (verdict["verdict"], verdict["actual_speaker"]) == ("supported", "Brandt")
    assert verdict["confidence"] == PARTIAL_NAME_CONFIDENCE


def test_across_an_archive_both_the_full_name_and_the_surname_article_support_it(tmp_path: Path) -> None:
    articles = [
        Article(id="full", date="2023-03-01", text=f"“{WALL},” Mayor Elena Brandt said on Tuesday."),
        Article(id="surname", date="2023-04-01", text=f"Budget night.\n\n“{WALL},” Brandt said again."),
    ]
    with Archive(tmp_path / "quotes.db") as archive:
        archive.add(extract_many(articles, backend="rules"))
        [verdict] = archive.verify([Claim(speaker="Elena Brandt", quote=CLAIMED)])
    assert (verdict.verdict, verdict.article_id) == ("supported", "full")
    assert [(e.article_id, e.verdict) for e in verdict.evidence_all] == [
        ("full", "supported"),
        ("surname", "supported"),
    ]


def test_a_surname_is_not_taken_for_someone_else_s_first_name() -> None:
    text = f"“{WALL},” said Ida Marsh. “We will see,” said Marsh Devlin, the harbour master."
    verdict = judge(text, "Marsh")
    assert (verdict.verdict, verdict.actual_speaker) == ("supported", "Ida Marsh")
    assert verdict.confidence == PARTIAL_NAME_CONFIDENCE  # "Marsh" in "Marsh Devlin" is a first name
    assert judge(text, "Devlin", "We will see").confidence == PARTIAL_NAME_CONFIDENCE


def test_first_names_that_are_also_words_still_make_someone_else() -> None:
    text = f"“{WALL},” said Ana Ortiz. “We will see,” said Will Ortiz, her cousin."
    verdict = judge(text, "Ortiz")
    assert (verdict.verdict, verdict.actual_speaker) == ("supported", "Ana Ortiz")
    assert verdict.confidence == VAGUE_NAME_CONFIDENCE
    assert verdict.explanation is not None
    assert "fits Will Ortiz too" in verdict.explanation
