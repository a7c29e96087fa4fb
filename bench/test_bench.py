"""Checks of the benchmark's perfect model and stub (run by hand: .venv/bin/pytest bench/test_bench.py).

Texts here are invented for these tests.
"""

from __future__ import annotations

import pytest

from perfect_model import (
    GoldIndex,
    UnknownRequest,
    corpus,
    langextract_answer,
    quotes_answer,
    read_request,
)
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.evaluate import GoldArticle, GoldQuote
from quotes.schema import Answer
from stub_server import PerfectModel, common_prefix

TEXT = (
    "The mayor spoke on Friday.\n\n“We will rebuild the pier,\n  and soon,” Mayor Ana Ruiz said. "
    "Critics said the plan was too costly."
)


def _quote(text: str, **fields: object) -> GoldQuote:
    start = TEXT.index(text)
    return GoldQuote.model_validate({"text": text, "start": start, "end": start + len(text), **fields})


DIRECT = _quote(
    "“We will rebuild the pier,\n  and soon,”",
    kind="direct",
    speaker="Mayor Ana Ruiz",
    speaker_start=TEXT.index("Mayor Ana"),
    speaker_end=TEXT.index("Mayor Ana") + len("Mayor Ana Ruiz"),
    cue="said",
)
INDIRECT = _quote(
    "the plan was too costly",
    kind="indirect",
    speaker="Critics",
    speaker_start=TEXT.index("Critics"),
    speaker_end=TEXT.index("Critics") + 7,
    cue="said",
)
ARTICLE = GoldArticle(id="a1", text=TEXT, quotes=[DIRECT, INDIRECT])
OTHER = GoldArticle(id="a2", text="Nothing was said here.", quotes=[])


def _quotes_body(chunk: str) -> dict[str, object]:
    return LLMBackend(LLMConfig(model="m", base_url="http://127.0.0.1:9/v1", api_key="k")).request_for(chunk)


def test_quotes_request_is_answered_with_the_gold_on_one_line() -> None:
    index = GoldIndex([OTHER, ARTICLE])
    request = read_request(_quotes_body(TEXT))
    located = index.locate(request.candidates)
    assert (located.article.id, located.start, located.end) == ("a1", 0, len(TEXT))
    answer = Answer.model_validate_json(quotes_answer(index.visible(located)))
    assert [q.quote for q in answer.quotes] == [
        "“We will rebuild the pier, and soon,”",
        "the plan was too costly",
    ]
    assert answer.quotes[0].speaker_mention == "Mayor Ana Ruiz"


def test_a_quote_cut_at_the_chunk_edge_is_given_as_far_as_the_chunk_shows_it() -> None:
    chunk = TEXT[: TEXT.index("and soon")]
    located = GoldIndex([ARTICLE]).locate(read_request(_quotes_body(chunk)).candidates)
    (visible,) = GoldIndex.visible(located)
    assert visible.cut
    assert visible.text == "“We will rebuild the pier,"


def test_langextract_answer_parses_with_langextract_and_orders_by_position() -> None:
    from langextract.core import data
    from langextract.core.format_handler import FormatHandler

    located = GoldIndex([ARTICLE]).locate((TEXT,))
    content = langextract_answer(GoldIndex.visible(located), fenced=True)
    handler = FormatHandler(
        format_type=data.FormatType.JSON, use_fences=True, use_wrapper=True, wrapper_key="extractions"
    )
    items = handler.parse_output(content)
    assert [next(iter(item)) for item in items] == ["quote", "speaker", "speaker", "quote"]


def test_langextract_prompt_with_a_q_line_inside_the_chunk() -> None:
    chunk = "Q: Did you see it?\nA: Yes."
    article = GoldArticle(id="qa", text=f"Interview.\n{chunk}", quotes=[])
    prompt = f"Describe.\nExamples\nQ: example text\nA: {{}}\n\nQ: {chunk}\nA: "
    request = read_request({"messages": [{"role": "user", "content": prompt}]})
    assert request.client == "langextract"
    assert GoldIndex([article]).locate(request.candidates).start == len("Interview.\n")


@pytest.mark.parametrize("size", [5, 63, 64, 200])
def test_a_chunk_is_located_at_its_first_occurrence_and_ambiguous_when_it_recurs(size: int) -> None:
    words = " ".join(f"w{i}" for i in range(400))
    text = f"{words} | {words}"
    index = GoldIndex([OTHER, GoldArticle(id="t", text=text, quotes=[])])
    for at in range(0, len(text) - size, 37):
        chunk = text[at : at + size]
        located = index.locate((chunk,))
        first = text.find(chunk)
        assert (located.article.id, located.start, located.end) == ("t", first, first + size)
        assert located.ambiguous == (text.find(chunk, first + 1) >= 0)


def test_unknown_prompt_is_refused() -> None:
    with pytest.raises(UnknownRequest):
        read_request({"messages": [{"role": "user", "content": "hello"}]})


def test_faults_are_seeded_by_body_and_attempt_not_arrival_order() -> None:
    body = _quotes_body(TEXT)
    first = PerfectModel(GoldIndex([ARTICLE]), fault_rate=0.5, seed=3)
    second = PerfectModel(GoldIndex([ARTICLE]), fault_rate=0.5, seed=3)
    statuses = [first.complete(body).status for _ in range(12)]
    assert statuses == [second.complete(body).status for _ in range(12)]
    assert first.stats.outcomes == second.stats.outcomes
    assert set(first.stats.outcomes) - {"ok"}, "a 50 % fault rate injected no fault in 12 requests"


def test_usage_is_chars_over_four_and_the_prefix_is_shared() -> None:
    model = PerfectModel(GoldIndex([ARTICLE, OTHER]))
    one = model.complete(_quotes_body(TEXT)).payload
    model.complete(_quotes_body(OTHER.text))
    content = one["choices"][0]["message"]["content"]
    assert one["usage"]["completion_tokens"] == -(-len(content) // 4)
    stats = model.snapshot()
    assert stats["requests"] == 2
    assert 0.5 < stats["prefix_share_mean"] < 1


def test_common_prefix() -> None:
    assert common_prefix("abcdef", "abcxyz") == 3
    assert common_prefix("", "abc") == 0
    assert common_prefix("same", "same") == 4


def test_copies_past_the_end_have_their_own_ids_and_texts_and_are_located() -> None:
    articles = corpus([ARTICLE, OTHER], 3)
    assert [a.id for a in articles] == ["a1", "a2", "a1#2"]
    assert articles[2].text.startswith(TEXT)
    assert articles[2].text != TEXT
    located = GoldIndex([ARTICLE, OTHER], laps=2).locate((articles[2].text,))
    assert located.article.id == "a1#2"
    assert [v.gold for v in GoldIndex.visible(located)] == [DIRECT, INDIRECT]
