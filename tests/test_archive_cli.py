"""`quotes archive`, `quotes search` and `quotes verify --archive` as a user runs them, from a dated
corpus (invented) through `quotes extract` to verdicts, with the exit codes and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from quotes.cli import app
from quotes.schema import SearchHit, Verdict

runner = CliRunner()

CORPUS = [
    {
        "id": "harbour-2023",
        "date": "2023-05-02",
        "url": "https://example.test/harbour",
        "text": "Harbour tax vote delayed\n\n“The harbour tax will pay for the new sea wall,” Mayor Elena "
        "Brandt said on Tuesday.\n\nCouncillor Tomas Reyes disagreed. “Nobody in Port Velmora asked for a "
        "sea wall,” Reyes said.\n",
    },
    {
        "id": "wall-2022",
        "date": "2022-11-20",
        "text": "Sea wall plan unveiled\n\n“The harbour tax will pay for the new sea wall,” said Tomas "
        "Reyes, the council's finance chair.\n\n“We will not raise fares on the ferry,” Reyes added.\n",
    },
    {
        "id": "reprint-2024",
        "date": "2024-01-15",
        "text": "A year of the harbour tax\n\nLast spring Mayor Elena Brandt told residents: “The harbour "
        "tax will pay for the new sea wall.”\n",
    },
]
WALL = "The harbour tax will pay for the new sea wall"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    corpus = folder / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(a) + "\n" for a in CORPUS), encoding="utf-8")
    out = folder / "run.jsonl"
    result = runner.invoke(app, ["extract", str(corpus), "-o", str(out), "-q", "--backend", "rules"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture
def db(tmp_path: Path, run: Path) -> Path:
    path = tmp_path / "quotes.db"
    result = runner.invoke(app, ["archive", "add", str(run), "--db", str(path)])
    assert result.exit_code == 0, result.output
    assert f"{run}: 3 added, 0 already in {path}" in result.stderr
    return path


def test_adding_a_run_again_adds_nothing_and_stats_say_what_is_held(db: Path, run: Path) -> None:
    again = runner.invoke(app, ["archive", "add", str(run), "--db", str(db)])
    assert again.exit_code == 0
    assert "0 added, 3 already" in again.stderr
    stats = runner.invoke(app, ["archive", "stats", "--db", str(db), "--json"])
    assert stats.exit_code == 0
    held = json.loads(stats.stdout)
    assert (held["articles"], held["extractions"], held["first_date"], held["last_date"]) == (
        3,
        3,
        "2022-11-20",
        "2024-01-15",
    )
    assert [p["backend"] for p in held["provenances"]] == ["rules"]
    text = runner.invoke(app, ["archive", "stats", "--db", str(db)])
    assert "3 articles" in text.stdout
    assert "2022-11-20 to 2024-01-15" in text.stdout


def test_search_gives_ranked_hits_with_their_evidence(db: Path) -> None:
    result = runner.invoke(app, ["search", "sea wall", "--speaker", "Reyes", "--db", str(db), "-f", "json"])
    assert result.exit_code == 0, result.output
    hits = [SearchHit.model_validate(h) for h in json.loads(result.stdout)]
    assert {h.article_id for h in hits} == {"harbour-2023", "wall-2022"}
    assert [h.rank for h in hits] == [1, 2]
    for hit in hits:
        text = next(a["text"] for a in CORPUS if a["id"] == hit.article_id)
        assert text[hit.quote.start : hit.quote.end] == hit.quote.text
    jsonl = runner.invoke(app, ["search", "harbour", "--since", "2024-01-01", "--db", str(db), "-f", "jsonl"])
    assert [json.loads(line)["article_id"] for line in jsonl.stdout.splitlines()] == ["reprint-2024"]
    table = runner.invoke(app, ["search", "ferry", "--db", str(db), "-f", "table"])
    assert table.exit_code == 0
    assert "wall-2022" in table.stdout
    assert "Tomas Reyes" in table.stdout


def test_search_without_hits_exits_1_and_without_anything_to_search_for_exits_2(db: Path) -> None:
    none = runner.invoke(app, ["search", "zeppelin", "--db", str(db), "-f", "json"])
    assert (none.exit_code, json.loads(none.stdout)) == (1, [])
    empty = runner.invoke(app, ["search", "--db", str(db)])
    assert empty.exit_code == 2
    assert "give words to search for" in empty.stderr
    bad = runner.invoke(app, ["search", "wall", "--since", "last spring", "--db", str(db)])
    assert bad.exit_code == 2
    assert "not an ISO 8601 date" in bad.stderr


def test_verify_against_the_archive_says_where_and_first_when(db: Path) -> None:
    args = ["verify", "--archive", str(db), "--speaker", "Elena Brandt", "--quote", WALL, "-f", "json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    [verdict] = [Verdict.model_validate(v) for v in json.loads(result.stdout)]
    assert (verdict.verdict, verdict.article_id) == ("supported", "harbour-2023")
    assert [(e.article_id, e.verdict) for e in verdict.evidence_all] == [
        ("wall-2022", "misattributed"),
        ("harbour-2023", "supported"),
    ]
    table = runner.invoke(app, ["verify", "--archive", str(db), "--speaker", "Elena Brandt", "--quote", WALL])
    assert table.exit_code == 0
    assert "harbour-2023" in table.stdout
    assert "2022-11-20" in table.stdout  # the earlier article's evidence, in its own row


def test_verify_many_claims_against_the_archive(db: Path, tmp_path: Path) -> None:
    claims = tmp_path / "claims.jsonl"
    rows = [
        {"id": "wall", "speaker": "Tomas Reyes", "quote": WALL},
        {"id": "nobody", "speaker": "Elena Brandt", "quote": "Nobody in Port Velmora asked for a sea wall"},
        {"id": "fares", "speaker": "Tomas Reyes", "quote": "We will not raise fares on the bus"},
        {"id": "absent", "speaker": "Tomas Reyes", "quote": "Lighthouse keepers demand raises"},
    ]
    claims.write_text("".join(json.dumps(r) + "\n" for r in rows) + "{broken\n", encoding="utf-8")
    result = runner.invoke(app, ["verify", "--archive", str(db), "--claims", str(claims), "-f", "jsonl"])
    assert result.exit_code == 2  # the broken line; every good claim is still answered
    assert f"{claims}:5" in result.stderr
    verdicts = [Verdict.model_validate_json(line) for line in result.stdout.splitlines()]
    assert [(v.claim.id, v.verdict, v.article_id) for v in verdicts] == [
        ("wall", "supported", "wall-2022"),
        ("nobody", "misattributed", "harbour-2023"),
        ("fares", "altered", "wall-2022"),
        ("absent", "not_found", None),
    ]
    assert verdicts[1].actual_speaker is not None
    assert "Reyes" in verdicts[1].actual_speaker
    claims.write_text("".join(json.dumps(r) + "\n" for r in rows[1:]), encoding="utf-8")
    not_all = runner.invoke(app, ["verify", "--archive", str(db), "--claims", str(claims), "-f", "jsonl"])
    assert not_all.exit_code == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["verify", "article.txt", "--archive", "{db}", "-s", "X", "--quote", "Y"],
            "give the article SOURCE, or --archive",
        ),
        (["verify", "-s", "X", "--quote", "Y"], "give the article SOURCE, or --archive"),
        (["verify", "--archive", "{missing}", "-s", "X", "--quote", "Y"], "no such archive"),
        (["search", "wall", "--db", "{missing}"], "no such archive"),
        (["archive", "stats", "--db", "{missing}"], "no such archive"),
    ],
)
def test_usage_errors_exit_2(db: Path, tmp_path: Path, args: list[str], message: str) -> None:
    filled = [a.format(db=db, missing=tmp_path / "missing.db") for a in args]
    result = runner.invoke(app, filled)
    assert result.exit_code == 2
    assert message in " ".join(result.stderr.split())
    assert not (tmp_path / "missing.db").exists()


def test_a_damaged_archive_is_named_and_left_as_it_was(tmp_path: Path, run: Path) -> None:
    damaged = tmp_path / "quotes.db"
    damaged.write_bytes(b"not a database at all " * 200)
    for args in (["archive", "add", str(run)], ["search", "wall"], ["archive", "stats"]):
        result = runner.invoke(app, [*args, "--db", str(damaged)])
        assert result.exit_code == 2
        assert f"{damaged}: not a usable quotes archive" in " ".join(result.stderr.split())
    assert damaged.read_bytes() == b"not a database at all " * 200


def test_a_bad_run_line_is_named_and_every_other_line_added(tmp_path: Path, run: Path) -> None:
    lines = run.read_text(encoding="utf-8").splitlines()
    bad = tmp_path / "bad.jsonl"
    bad.write_text(f'{lines[0]}\n{{"id": "x"}}\n{lines[1]}\n', encoding="utf-8")
    db = tmp_path / "quotes.db"
    result = runner.invoke(app, ["archive", "add", str(bad), str(tmp_path / "gone.jsonl"), "--db", str(db)])
    assert result.exit_code == 2
    stderr = " ".join(result.stderr.split())
    assert f"{bad}:2: not an Extraction" in stderr
    assert f"{bad}: 2 added, 0 already in {db}, 1 not added" in stderr
    assert f"{tmp_path / 'gone.jsonl'}: cannot read" in stderr
    stats = runner.invoke(app, ["archive", "stats", "--db", str(db), "--json"])
    assert json.loads(stats.stdout)["articles"] == 2
