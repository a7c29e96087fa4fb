"""The quote archive: adding runs, search, claims against every article, and what goes wrong.

Articles are invented (a harbour town's council); the rules backend extracts them at test time.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from quotes.api import extract_many
from quotes.archive import Archive, ArchiveError
from quotes.schema import Article, Claim, Extraction, Verdict
from quotes.verify import verify

BRANDT, REYES, MARSH, PIKE = "Elena Brandt", "Tomas Reyes", "Ida Marsh", "Jonas Pike"
WALL = "The harbour tax will pay for the new sea wall"
NOBODY = "Nobody in Port Velmora asked for a sea wall"

ARTICLES = [
    Article(
        id="harbour-2023",
        date="2023-05-02",
        url="https://example.test/harbour",
        text="Harbour tax vote delayed in Port Velmora\n\n“The harbour tax will pay for the new sea wall,” "
        "Mayor Elena Brandt said on Tuesday.\n\nCouncillor Tomas Reyes disagreed. “Nobody in Port Velmora "
        "asked for a sea wall,” Reyes said.\n\nThe fishing cooperative said it would study the plan, "
        "according to its chair, Ida Marsh.\n",
    ),
    Article(
        id="wall-2022",
        date="2022-11-20",
        text="Sea wall plan unveiled\n\n“The harbour tax will pay for the new sea wall,” said Tomas Reyes, "
        "the council's finance chair, at a meeting on Monday.\n\n“We will not raise fares on the ferry,” "
        "Reyes added.\n",
    ),
    Article(
        id="reprint-2024",
        date="2024-01-15",
        text="A year of the harbour tax\n\nLast spring Mayor Elena Brandt told residents: “The harbour tax "
        "will pay for the new sea wall.”\n\nThe wall is still unfinished. Construction resumes in March, "
        "and engineer Jonas Pike is back on the site.\n",
    ),
    Article(
        id="notes",
        text="Council notes\n\nThe agenda listed the harbour tax, the ferry timetable and the orchard "
        "permits.\n\n“The orchard permits are overdue,” said clerk Hanna Lind.\n",
    ),
]


@pytest.fixture(scope="module")
def extractions() -> list[Extraction]:
    return sorted(extract_many(ARTICLES, backend="rules"), key=lambda e: e.id)


@pytest.fixture
def archive(tmp_path: Path, extractions: list[Extraction]) -> Archive:
    archive = Archive(tmp_path / "quotes.db")
    report = archive.add(extractions)
    assert (report.added, report.skipped, report.problems) == (len(ARTICLES), 0, [])
    return archive


def write_run(path: Path, extractions: list[Extraction]) -> Path:
    path.write_text("".join(e.model_dump_json() + "\n" for e in extractions), encoding="utf-8")
    return path


# --- adding ---------------------------------------------------------------------------------------------


def test_the_same_run_added_twice_adds_nothing(tmp_path: Path, extractions: list[Extraction]) -> None:
    run = write_run(tmp_path / "run.jsonl", extractions)
    with Archive(tmp_path / "quotes.db") as archive:
        first = archive.add_run(run)
        again = archive.add_run(run)
        stats = archive.stats()
    assert (first.added, first.skipped) == (4, 0)
    assert (again.added, again.skipped) == (0, 4)
    assert (stats.articles, stats.extractions, stats.texts) == (4, 4, 4)
    assert stats.statements == sum(len(e.quotes) for e in extractions)
    assert (stats.first_date, stats.last_date) == ("2022-11-20", "2024-01-15")


def test_a_rerun_answered_from_the_store_is_the_same_content(
    archive: Archive, extractions: list[Extraction]
) -> None:
    cached = [
        e.model_copy(update={"usage": e.usage.model_copy(update={"cached_requests": 3})}) for e in extractions
    ]
    assert archive.add(cached).skipped == 4


def test_a_new_prompt_version_is_kept_apart_and_answers_from_then_on(
    archive: Archive, extractions: list[Extraction]
) -> None:
    old = next(e for e in extractions if e.id == "wall-2022")
    newer = old.model_copy(
        update={"prompt": "extract@v2", "prompt_sha256": "f" * 64, "quotes": old.quotes[:1]}
    )
    report = archive.add([newer])
    assert (report.added, report.skipped) == (1, 0)
    assert [e.prompt for e in archive.extractions("wall-2022")] == [old.prompt, "extract@v2"]
    assert archive.extraction("wall-2022") == newer
    stats = archive.stats()
    assert (stats.articles, stats.extractions, stats.texts) == (4, 5, 4)
    assert [p.prompt for p in stats.provenances] == [old.prompt, "extract@v2"]
    # Only the current extraction is searched: the ferry statement was dropped by the new version.
    assert archive.search("ferry fares") == []
    assert archive.add([old]).skipped == 1  # the old one is still there, not added again


def test_an_article_under_two_ids_stores_its_text_once(tmp_path: Path, extractions: list[Extraction]) -> None:
    copy = extractions[0].model_copy(update={"id": "syndicated"})
    with Archive(tmp_path / "quotes.db") as archive:
        assert archive.add([extractions[0], copy]).added == 2
        assert archive.stats().texts == 1
        assert archive.extraction("syndicated") == copy


def test_the_stored_extraction_comes_back_whole_with_its_text(
    archive: Archive, extractions: list[Extraction]
) -> None:
    for extraction in extractions:
        assert archive.extraction(extraction.id) == extraction
    assert archive.extraction("no-such-article") is None


def test_bad_run_lines_are_reported_by_line_and_the_rest_added(
    tmp_path: Path, extractions: list[Extraction]
) -> None:
    textless = extractions[1].model_copy(update={"text": None})
    tampered = extractions[2].model_copy(update={"text": "Another text."})
    run = tmp_path / "run.jsonl"
    run.write_text(
        extractions[0].model_dump_json()
        + "\n{not json\n"
        + textless.model_dump_json()
        + "\n"
        + tampered.model_dump_json()
        + "\n"
        + extractions[3].model_dump_json()[:50],  # a line cut off by a killed run
        encoding="utf-8",
    )
    with Archive(tmp_path / "quotes.db") as archive:
        report = archive.add_run(run)
        assert report.added == 1
        assert [(p.source, p.line) for p in report.problems] == [(str(run), n) for n in (2, 3, 4, 5)]
        messages = [p.message for p in report.problems]
        assert "not an Extraction" in messages[0]
        assert "has no text" in messages[1]
        assert "does not match its text_sha256" in messages[2]
        assert all(m.endswith("not added") for m in messages)
        assert archive.extraction(extractions[0].id) is not None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"this is no database, just words" * 100, "not a usable quotes archive"),
        (b"", None),  # an empty file becomes a new archive
    ],
)
def test_a_file_that_is_not_a_database(tmp_path: Path, content: bytes, message: str | None) -> None:
    path = tmp_path / "quotes.db"
    path.write_bytes(content)
    if message is None:
        Archive(path).close()
        return
    with pytest.raises(ArchiveError, match=message) as caught:
        Archive(path)
    assert str(path) in str(caught.value)
    assert path.read_bytes() == content  # nothing written over it


def test_another_sqlite_database_is_not_taken_for_an_archive(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE orchard (tree TEXT)")
    with pytest.raises(ArchiveError, match="not a quotes archive"):
        Archive(path)


def test_a_missing_archive_is_created_only_when_asked(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="no such archive"):
        Archive(tmp_path / "missing.db", create=False)
    assert not (tmp_path / "missing.db").exists()


# --- searching ------------------------------------------------------------------------------------------


def test_search_ranks_hits_and_gives_their_evidence(archive: Archive) -> None:
    hits = archive.search("sea wall")
    assert [h.rank for h in hits] == list(range(1, len(hits) + 1))
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert {h.article_id for h in hits} == {"harbour-2023", "wall-2022", "reprint-2024"}
    for hit in hits:
        text = next(a.text for a in ARTICLES if a.id == hit.article_id)
        assert text[hit.quote.start : hit.quote.end] == hit.quote.text
        assert "sea wall" in hit.quote.text
    top = next(h for h in hits if h.article_id == "harbour-2023" and h.quote.speaker.name == BRANDT)
    assert (top.date, top.url) == ("2023-05-02", "https://example.test/harbour")


def test_search_filters_by_speaker_about_and_dates(archive: Archive) -> None:
    by_reyes = archive.search("sea wall", speaker="Reyes")
    assert {h.article_id for h in by_reyes} == {"harbour-2023", "wall-2022"}
    assert all("Reyes" in (h.quote.speaker.name or "") for h in by_reyes)
    about = archive.search(about="Port Velmora")
    assert [h.quote.text for h in about] == ["“Nobody in Port Velmora asked for a sea wall,”"]
    since = archive.search("harbour tax", since="2023-01-01")
    assert {h.article_id for h in since} == {"harbour-2023", "reprint-2024"}
    until = archive.search("harbour tax", until=date(2023, 5, 2))
    assert {h.article_id for h in until} == {"harbour-2023", "wall-2022"}
    assert archive.search("harbour tax", since="2023-05-03", until="2023-12-31") == []


def test_search_takes_phrases_and_prefixes_and_lists_newest_first_without_words(archive: Archive) -> None:
    assert {h.quote.text for h in archive.search('"raise fares"')} == {
        "“We will not raise fares on the ferry,”"
    }
    assert archive.search('"fares raise"') == []
    assert {h.article_id for h in archive.search("Velm*")} == {"harbour-2023"}
    newest = archive.search(since="2022-01-01")
    assert [h.date for h in newest] == sorted((h.date or "" for h in newest), reverse=True)
    assert {h.score for h in newest} == {0.0}


def test_search_words_that_are_not_words_and_bad_dates(archive: Archive) -> None:
    assert archive.search('"" * ( ) :') != []  # no words: every statement, newest first
    with pytest.raises(ValueError, match="not an ISO 8601 date"):
        archive.search("wall", since="last spring")


# --- verifying ------------------------------------------------------------------------------------------


def one(archive: Archive, speaker: str, words: str) -> Verdict:
    [verdict] = archive.verify([Claim(speaker=speaker, quote=words)])
    return verdict


def test_supported_first_where_with_every_evidence_earliest_first(archive: Archive) -> None:
    [verdict] = archive.verify([Claim(speaker=BRANDT, quote=WALL)], candidates=3)
    assert verdict.verdict == "supported"
    assert verdict.article_id == "harbour-2023"
    assert verdict.evidence is not None
    assert (verdict.evidence.article_id, verdict.evidence.date) == ("harbour-2023", "2023-05-02")
    assert verdict.explanation is not None
    assert verdict.explanation.startswith("first in harbour-2023 (2023-05-02)")
    trail = [(e.article_id, e.date, e.verdict) for e in verdict.evidence_all]
    assert trail == [
        ("wall-2022", "2022-11-20", "misattributed"),
        ("harbour-2023", "2023-05-02", "supported"),
        ("reprint-2024", "2024-01-15", "supported"),
    ]
    for evidence in verdict.evidence_all:
        text = next(a.text for a in ARTICLES if a.id == evidence.article_id)
        assert text[evidence.start : evidence.end] == evidence.text


def test_the_same_words_are_first_someone_else_s_when_they_said_them_first(archive: Archive) -> None:
    [verdict] = archive.verify([Claim(speaker=REYES, quote=WALL)], candidates=3)
    assert verdict.verdict == "supported"
    assert verdict.article_id == "wall-2022"
    assert [e.verdict for e in verdict.evidence_all] == ["supported", "misattributed", "misattributed"]


def test_misattributed_names_who_said_it_and_where(archive: Archive) -> None:
    verdict = one(archive, MARSH, NOBODY)
    assert verdict.verdict == "misattributed"
    assert verdict.actual_speaker is not None
    assert "Reyes" in verdict.actual_speaker
    assert verdict.article_id == "harbour-2023"
    assert [e.article_id for e in verdict.evidence_all] == ["harbour-2023"]


def test_altered_gives_the_closest_wording_and_its_diff(archive: Archive) -> None:
    verdict = one(archive, REYES, "Nobody in Port Velmora asked for a harbour wall")
    assert verdict.verdict == "altered"
    assert verdict.article_id == "harbour-2023"
    assert {(op.claim, op.article) for op in verdict.diff if op.op != "equal"} == {("harbour", "sea")}


def test_words_no_statement_covers_get_the_single_article_verdict(
    archive: Archive, extractions: list[Extraction]
) -> None:
    claim = Claim(speaker=PIKE, quote="Construction resumes in March")
    stored = next(e for e in extractions if e.id == "reprint-2024")
    [alone] = verify(ARTICLES[2], claim, extraction=stored, backend="rules")
    assert alone.verdict == "unattributed"
    [verdict] = archive.verify([claim])
    assert verdict.verdict == alone.verdict
    assert verdict.evidence is not None
    assert (verdict.evidence.article_id, verdict.evidence.text) == (
        "reprint-2024",
        "Construction resumes in March",
    )


def test_not_found_anywhere(archive: Archive) -> None:
    verdict = one(archive, BRANDT, "Lighthouse keepers demand raises")
    assert verdict.verdict == "not_found"
    assert verdict.evidence is None
    assert verdict.evidence_all == []
    assert verdict.explanation == "no article in the archive holds any of these words"
    near = one(archive, BRANDT, "The orchard permits will cost more")
    assert near.verdict == "not_found"
    assert near.explanation is not None
    assert near.explanation.startswith("no article holds these words")


def test_many_claims_at_once_keep_their_order(archive: Archive) -> None:
    claims = [
        Claim(id="c1", speaker=MARSH, quote=NOBODY),
        Claim(id="c2", speaker=BRANDT, quote=WALL),
        Claim(id="c3", speaker=BRANDT, quote="The lighthouse keepers demand a pay rise"),
    ]
    verdicts = archive.verify(claims)
    assert [(v.claim.id, v.verdict) for v in verdicts] == [
        ("c1", "misattributed"),
        ("c2", "supported"),
        ("c3", "not_found"),
    ]


async def test_averify_is_the_async_form(archive: Archive) -> None:
    [verdict] = await archive.averify([Claim(speaker=BRANDT, quote=WALL)])
    assert verdict.verdict == "supported"


def test_candidates_are_the_earliest_by_the_claimed_speaker_then_the_earliest_of_all(
    archive: Archive,
) -> None:
    claim = Claim(speaker=BRANDT, quote=WALL)
    [two] = archive.verify([claim])  # the default: two articles
    assert [(e.article_id, e.verdict) for e in two.evidence_all] == [
        ("wall-2022", "misattributed"),
        ("harbour-2023", "supported"),
    ]
    assert two.explanation is not None
    assert two.explanation.endswith(
        "; 1 article more holding these words not judged (raise `candidates` to judge them)"
    )
    [one_only] = archive.verify([claim], candidates=1)
    assert [e.article_id for e in one_only.evidence_all] == ["harbour-2023"]
    assert one_only.explanation is not None
    assert "2 articles more holding these words not judged" in one_only.explanation


def test_the_archive_file_can_be_copied_and_reopened(archive: Archive, tmp_path: Path) -> None:
    archive.close()
    copy = tmp_path / "copy.db"
    copy.write_bytes((tmp_path / "quotes.db").read_bytes())
    with Archive(copy, create=False) as reopened:
        assert reopened.stats().articles == 4
        assert json.loads(reopened.search("ferry")[0].model_dump_json())["article_id"] == "wall-2022"


def test_a_locked_archive_is_an_error_naming_it_and_keeps_what_it_holds(
    tmp_path: Path, extractions: list[Extraction]
) -> None:
    path = tmp_path / "quotes.db"
    with Archive(path) as archive:
        archive.add(extractions[:1])
    writer = sqlite3.connect(path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another process in the middle of adding
    try:
        with (
            Archive(path, timeout=0) as archive,
            pytest.raises(ArchiveError, match=f"{path}: database is locked"),
        ):
            archive.add(extractions[1:])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with Archive(path) as archive:
        assert archive.stats().articles == 1
        assert archive.add(extractions[1:]).added == 3


def test_claims_of_common_words_are_looked_for_in_a_row(
    archive: Archive, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every word counts as common: candidates come from the claim's words in a row, an altered claim's
    # from its longest run of words that some statement holds ("never" is in none).
    monkeypatch.setattr("quotes.archive.COUNT_CAP", 1)
    assert one(archive, REYES, "will not raise fares on the ferry").verdict == "supported"
    altered = one(archive, REYES, "We will never raise fares on the ferry")
    assert (altered.verdict, altered.article_id) == ("altered", "wall-2022")
