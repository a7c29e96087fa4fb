"""The public functions take what a corpus holds (issue 14, item 3): text, an Article, or a record with
`id` and `text`, other keys ignored, by the same rules as a JSONL corpus line."""

from __future__ import annotations

import pytest

import quotes
from quotes.api import as_article
from quotes.schema import Article

BRIDGE = "“The bridge is safe,” said Tomas Berg, the city engineer."
FERRY = "The ferry will run twice a day, Mayor Lina Ortiz said."


def test_extract_many_keeps_the_ids_of_corpus_records() -> None:
    records = [
        {"id": "bridge", "text": BRIDGE, "date": "2024-03-05", "url": "https://example.org/bridge"},
        {"id": 7, "text": FERRY},
        {"text": FERRY},
        Article(id="as-article", text=BRIDGE),
        FERRY,
    ]
    got = {e.id: e for e in quotes.extract_many(records, backend="rules")}
    assert set(got) == {"bridge", "7", "text-2", "as-article", "text-4"}
    assert [q.speaker.name for q in got["bridge"].quotes] == ["Tomas Berg"]
    assert got["7"].text == FERRY


def test_extract_takes_a_record_too() -> None:
    extraction = quotes.extract({"id": "ferry", "text": FERRY, "date": "2024-03-05"}, backend="rules")
    assert extraction.id == "ferry"
    assert [q.speaker.name for q in extraction.quotes] == ["Lina Ortiz"]


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        ({"id": "x"}, "article 3: no 'text' field"),
        ({"id": "x", "text": 5}, "article 3: 'text' is int, not a string"),
        ({"id": ["x"], "text": FERRY}, "article 3: 'id' must be a string or an integer, got list"),
    ],
)
def test_a_record_that_is_not_an_article_says_why(record: dict[str, object], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        as_article(record, 3)
