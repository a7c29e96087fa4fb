"""Every verdict class, end to end through `quotes verify --format json`, on invented articles.

Each claim below is checked with the rules backend and with the LLM backend replaying authored answers
(tests/fixtures/answers: the extraction and the verify judgements a careful model gives, written into
tests/fixtures/responses in the exact wire format by tests/fixtures/author.py and marked `authored`).
Asserted exactly: the verdict, who the article says said the words, the evidence offsets, the diff's
changed words (both sides), and the harmless variant named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from quotes.cli import app
from quotes.schema import VerdictLabel
from report_tables import verdict_rows

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"
BACKENDS = {
    "rules": ["--backend", "rules"],
    "llm": [
        *("--backend", "llm", "--model", "gpt-4o-mini"),
        *("--store", str(FIXTURES / "responses"), "--offline"),
    ],
}


@dataclass(frozen=True)
class Expect:
    """A claim and its verdict. `evidence` is the article's words the evidence spans (located in the
    article, once, for its offsets); `changed` the diff's (claim, article) pairs that are not equal."""

    id: str
    speaker: str
    quote: str
    verdict: VerdictLabel
    said_by: str | None
    evidence: str | None
    changed: tuple[tuple[str, str], ...] = ()
    variant: str | None = None
    problems: tuple[VerdictLabel, ...] = ()


OKAFOR, VARGA, QUIST, RENN = "Ines Okafor", "Piet Varga", "Amara Quist", "Tobias Renn"
PLAN = "This plan honours our promise to the fishing families"
POLITICS = "Our politics is based on good will, not on threats"

HARBOUR = [
    Expect("exact", OKAFOR, PLAN, "supported", OKAFOR, PLAN),
    Expect(
        "spelling",
        "Okafor",
        "This plan honors our promise to the fishing families",
        "supported",
        OKAFOR,
        PLAN,
        variant="spelling “honors” / “honours”",
    ),
    Expect(
        "typography",
        "Mayor Okafor",
        '"THIS PLAN HONOURS OUR PROMISE TO THE FISHING FAMILIES!"',
        "supported",
        OKAFOR,
        PLAN,
        variant="case",
    ),
    Expect(
        "compound",
        VARGA,
        "Our politics is based on goodwill - not on threats",
        "supported",
        VARGA,
        POLITICS,
        changed=(("goodwill", "good will"),),
        variant="compound “goodwill” / “good will”",
    ),
    Expect(
        "hyphen",
        "Varga",
        "I sent the email to every councillor",
        "supported",
        VARGA,
        "I sent the e-mail to every councillor",
        changed=(("email", "e mail"),),
        variant="compound “email” / “e-mail”",
    ),
    Expect(
        "ellipsis",
        "Okafor",
        "This plan honours … the fishing families",
        "supported",
        OKAFOR,
        PLAN,
        changed=(("", "our promise to"),),
        variant="an ellipsis for “our promise to”",
    ),
    Expect(
        "person-we",
        "Okafor",
        "we had discussed a fair price for every berth",
        "supported",
        OKAFOR,
        "they had discussed “a fair price for every berth",
        changed=(("we", "they"),),
        variant="person shift of reported speech (“we” / “they”)",
    ),
    Expect(
        "person-my",
        "Varga",
        "my district would pay the most",
        "supported",
        VARGA,
        "his district would pay the most",
        changed=(("my", "his"),),
        variant="person shift of reported speech (“my” / “his”)",
    ),
    Expect("misattributed", VARGA, PLAN, "misattributed", OKAFOR, PLAN, problems=("misattributed",)),
    Expect(
        "number",
        "Okafor",
        "the new quay would open in 2028 and employ 240 people",
        "altered",
        OKAFOR,
        "the new quay would open in 2027 and employ 240 people",
        changed=(("2028", "2027"),),
        problems=("altered",),
    ),
    Expect(
        "negation",
        "Varga",
        "Our politics is not based on good will",
        "altered",
        VARGA,
        "Our politics is based on good will",
        changed=(("not", ""),),
        problems=("altered",),
    ),
    Expect(
        "last-word",
        "Varga",
        "Our politics is based on good will, not on force",
        "altered",
        VARGA,
        POLITICS,
        changed=(("force", "threats"),),
        problems=("altered",),
    ),
    Expect(
        "both",
        OKAFOR,
        "Our politics is based on bad faith, not on threats",
        "misattributed",
        VARGA,
        POLITICS,
        changed=(("bad faith", "good will"),),
        problems=("misattributed", "altered"),
    ),
    Expect(
        "unattributed",
        "Okafor",
        "the harbour handled 1.2 million tonnes of cargo last year",
        "unattributed",
        None,
        "The harbour handled 1.2 million tonnes of cargo last year",
        problems=("unattributed",),
    ),
    Expect(
        "unattributed-altered",
        "Okafor",
        "the harbour handled 2.1 million tonnes of cargo last year",
        "unattributed",
        None,
        "The harbour handled 1.2 million tonnes of cargo last year",
        changed=(("2.1", "1.2"),),
        problems=("unattributed", "altered"),
    ),
    Expect("absent", "Okafor", "the harbour will be sold to a private buyer", "not_found", None, None),
]

BUDGET = "The budget does not add up"
CLINIC = [
    Expect(
        "exact",
        QUIST,
        "We have never considered closing a clinic that serves 4,000 patients",
        "supported",
        QUIST,
        "We have never considered closing a clinic that serves 4,000 patients",
    ),
    Expect(
        "number",
        "Quist",
        "We have never considered closing a clinic that serves 40,000 patients",
        "altered",
        QUIST,
        "We have never considered closing a clinic that serves 4,000 patients",
        changed=(("40,000", "4,000"),),
        problems=("altered",),
    ),
    Expect(
        "negation",
        RENN,
        "The budget adds up",
        "altered",
        RENN,
        BUDGET,
        changed=(("adds", "does not add"),),
        problems=("altered",),
    ),
    Expect(
        "dash",
        "Renn",
        "Someone will have to pay for this -- and soon",
        "supported",
        RENN,
        "Someone will have to pay for this — and soon",
    ),
    Expect("misattributed", QUIST, BUDGET, "misattributed", RENN, BUDGET, problems=("misattributed",)),
    Expect(
        "both",
        "Quist",
        "Someone will have to pay for this and later",
        "misattributed",
        RENN,
        "Someone will have to pay for this — and soon",
        changed=(("later", "soon"),),
        problems=("misattributed", "altered"),
    ),
    Expect(
        "unattributed",
        "Renn",
        "The clinic opened in 1962 and has two doctors",
        "unattributed",
        None,
        "The clinic opened in 1962 and has two doctors",
        problems=("unattributed",),
    ),
    Expect("absent", "Quist", "the clinic will merge with the county hospital", "not_found", None, None),
]
# The rules backend finds no statement in "... three more years, its chair, Amara Quist, announced": the
# words are the article's, given to no one; the model reports them as Quist's. The rules give Renn's
# split quotation as one statement; the model as two, so the claim runs over the attribution between.
INDIRECT = "The health board will keep the Marsh Hollow clinic open for at least three more years"
SPLIT = "The budget does not add up. Someone will have to pay for this"
SPLIT_EVIDENCE = "The budget does not add up,” he said. “Someone will have to pay for this"
BY_BACKEND = {
    "rules": [
        Expect("indirect", "Quist", INDIRECT, "unattributed", None, INDIRECT, problems=("unattributed",)),
        Expect("split", "Renn", SPLIT, "supported", RENN, SPLIT_EVIDENCE),
    ],
    "llm": [
        Expect("indirect", "Quist", INDIRECT, "supported", QUIST, INDIRECT),
        Expect(
            "split",
            "Renn",
            SPLIT,
            "supported",
            RENN,
            SPLIT_EVIDENCE,
            changed=(("", "he said"),),
            variant="the attribution “he said” between quoted words",
        ),
    ],
}


def verify_json(article: Path, claims: list[Expect], backend: str, tmp_path: Path) -> list[dict[str, Any]]:
    path = tmp_path / "claims.jsonl"
    lines = [json.dumps({"id": e.id, "speaker": e.speaker, "quote": e.quote}) for e in claims]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["verify", str(article), "--claims", str(path), *BACKENDS[backend], "--format", "json"]
    )
    assert result.exit_code == 1, result.output  # some claims are not supported
    verdicts: list[dict[str, Any]] = json.loads(result.stdout)
    return verdicts


def check(text: str, expect: Expect, verdict: dict[str, Any]) -> None:
    where = f"claim {expect.id}: {verdict['explanation']}"
    assert verdict["claim"]["id"] == expect.id
    assert (verdict["verdict"], verdict["actual_speaker"]) == (expect.verdict, expect.said_by), where
    assert verdict["problems"] == list(expect.problems), where
    evidence = verdict["evidence"]
    if expect.evidence is None:
        assert evidence is None, where
    else:
        assert text.count(expect.evidence) == 1
        start = text.index(expect.evidence)
        assert (evidence["start"], evidence["end"]) == (start, start + len(expect.evidence)), where
        assert evidence["text"] == expect.evidence
    changed = [(op["claim"], op["article"]) for op in verdict["diff"] if op["op"] != "equal"]
    assert changed == list(expect.changed), where
    if expect.variant is not None:
        assert verdict["variants"] == [expect.variant], where
        assert expect.variant in verdict["explanation"]
    if expect.variant is None:
        assert verdict["variants"] == [], where
    assert 0 < verdict["confidence"] <= 1, where


@pytest.mark.parametrize("backend", sorted(BACKENDS))
@pytest.mark.parametrize(
    ("name", "claims"), [("harbour-vote", HARBOUR), ("marsh-clinic", CLINIC)], ids=["harbour", "clinic"]
)
def test_every_class_of_claim_gets_its_verdict_speaker_and_evidence(
    backend: str, name: str, claims: list[Expect], tmp_path: Path
) -> None:
    article = ARTICLES / f"{name}.txt"
    text = article.read_text(encoding="utf-8")
    if name == "marsh-clinic":
        claims = [*claims, *BY_BACKEND[backend]]
    verdicts = verify_json(article, claims, backend, tmp_path)
    assert len(verdicts) == len(claims)
    for expect, verdict in zip(claims, verdicts, strict=True):
        check(text, expect, verdict)
    # Who is mentioned nearest to words the extraction gives no one: a lead for the fact-checker.
    unattributed = next(v for v in verdicts if v["claim"]["id"] == "unattributed")
    nearest = unattributed["evidence"]["nearest_speaker"]
    assert (nearest["mention"], unattributed["evidence"]["cue"]) == (
        ("Varga", "added") if name == "harbour-vote" else ("he", "said")
    )
    judged = [v["prompt"] for v in verdicts if v["claim"]["id"] == "absent"]
    assert judged == (["verify@v1"] if backend == "llm" else [None])


def test_the_table_shows_confidence_and_each_diff_once(tmp_path: Path) -> None:
    claims = [e for e in HARBOUR if e.id in ("last-word", "absent")]
    path = tmp_path / "claims.jsonl"
    path.write_text(
        "".join(json.dumps({"id": e.id, "speaker": e.speaker, "quote": e.quote}) + "\n" for e in claims),
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app,
        ["verify", str(ARTICLES / "harbour-vote.txt"), "--claims", str(path), "--backend", "rules"],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 1
    assert "confidence" in result.stdout
    assert result.stdout.count("[-force-] {+threats+}") == 1
    assert "score" not in result.stdout


def test_the_report_of_a_run_with_its_verdicts_shows_both_sides_of_the_diff_and_no_misleading_score(
    tmp_path: Path,
) -> None:
    article = ARTICLES / "harbour-vote.txt"
    run = tmp_path / "run.jsonl"
    extracted = CliRunner().invoke(
        app, ["extract", str(article), "--backend", "rules", "--format", "jsonl", "--output", str(run)]
    )
    assert extracted.exit_code == 0, extracted.output
    claims = [e for e in HARBOUR if e.id in ("last-word", "unattributed", "absent")]
    path = tmp_path / "claims.jsonl"
    path.write_text(
        "".join(json.dumps({"id": e.id, "speaker": e.speaker, "quote": e.quote}) + "\n" for e in claims),
        encoding="utf-8",
    )
    verified = CliRunner().invoke(
        app, ["verify", str(article), "--claims", str(path), "--backend", "rules", "--format", "jsonl"]
    )
    verdicts = tmp_path / "verdicts.jsonl"
    verdicts.write_text(verified.stdout, encoding="utf-8")
    page = tmp_path / "report.html"
    reported = CliRunner().invoke(app, ["report", str(run), "--verdicts", str(verdicts), "-o", str(page)])
    assert reported.exit_code == 0, reported.output
    html = page.read_text(encoding="utf-8")
    assert "<del>force</del> <ins>threats</ins>" in html
    cells = verdict_rows(html)
    confidence = {
        json.loads(line)["claim"]["id"]: json.loads(line)["confidence"]
        for line in verified.stdout.splitlines()
    }
    assert [row[2] for row in cells] == [f"{confidence[e.id]:.2f}" for e in claims]
    assert [row[3] for row in cells] == ["92", "100", "—"]  # the not_found row has no score to show
