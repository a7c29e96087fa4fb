from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from quotes.merge import dedupe
from quotes.schema import Entity
from records import person, quote


def test_quote_cut_at_a_chunk_edge_loses_to_its_whole_form() -> None:
    cut = quote(100, 140, chunk=0, speaker=person("Rouhani"))
    whole = quote(100, 180, chunk=1, cue="said", cue_start=190, cue_end=194, speaker=person(None, "he"))
    merged = dedupe([cut, whole])
    assert len(merged) == 1
    kept = merged[0]
    assert (kept.start, kept.end, kept.chunk) == (100, 180, 1)
    assert kept.speaker.name == "Rouhani"
    assert kept.speaker.mention == "he"
    assert kept.cue == "said"


def test_a_statement_nested_in_anothers_words_with_its_own_attribution_is_kept() -> None:
    outer = quote(
        100, 300, cue="said", cue_start=90, cue_end=94, speaker=person("Lee", "Lee", start=86, end=89)
    )
    inner = quote(
        150, 200, cue="claimed", cue_start=140, cue_end=147, speaker=person("Kim", "Kim", start=136, end=139)
    )
    assert [(q.start, q.end) for q in dedupe([outer, inner])] == [(100, 300), (150, 200)]
    again = inner.model_copy(update={"cue_start": 90, "cue_end": 94, "speaker": outer.speaker})
    assert [(q.start, q.end) for q in dedupe([outer, again])] == [(100, 300)]


def test_a_cut_statement_merges_with_its_whole_form_from_another_chunk_however_attributed() -> None:
    cut = quote(
        100, 140, chunk=0, cue="said", cue_start=20, cue_end=24, speaker=person("Lee", "he", start=17, end=19)
    )
    whole = quote(
        100,
        180,
        chunk=1,
        cue="said",
        cue_start=190,
        cue_end=194,
        speaker=person("Lee", "Lee", start=186, end=189),
    )
    assert [(q.start, q.end, q.chunk) for q in dedupe([cut, whole])] == [(100, 180, 1)]


def test_fields_the_kept_quote_lacks_are_filled_from_the_other() -> None:
    longer = quote(10, 90)
    shorter = quote(
        20,
        80,
        cue="pointed out",
        cue_start=5,
        cue_end=16,
        about=[Entity(name="Iran")],
        speaker=person("Kadhimi", "Kadhimi", start=0, end=7, role="prime minister"),
    )
    (kept,) = dedupe([shorter, longer])
    assert (kept.start, kept.end) == (10, 90)
    assert (kept.cue, kept.cue_start, kept.cue_end) == ("pointed out", 5, 16)
    assert [e.name for e in kept.about] == ["Iran"]
    assert kept.speaker == person("Kadhimi", "Kadhimi", start=0, end=7, role="prime minister")
    assert longer.cue is None
    assert longer.speaker.name is None


def test_equal_spans_prefer_exact_grounding() -> None:
    fuzzy = quote(10, 50, grounding="fuzzy", id="a")
    exact = quote(10, 50, grounding="exact", id="b")
    assert [q.id for q in dedupe([fuzzy, exact])] == ["b"]
    assert [q.id for q in dedupe([exact, fuzzy])] == ["b"]


def test_overlap_of_half_the_shorter_merges_less_does_not() -> None:
    assert len(dedupe([quote(0, 100), quote(70, 130)])) == 1
    assert len(dedupe([quote(0, 100), quote(80, 140)])) == 2
    assert len(dedupe([quote(0, 100), quote(100, 200)])) == 2


def test_result_is_sorted_and_separate_quotes_survive() -> None:
    quotes = [quote(500, 600), quote(0, 50), quote(300, 350), quote(10, 40)]
    assert [(q.start, q.end) for q in dedupe(quotes)] == [(0, 50), (300, 350), (500, 600)]
    assert dedupe([]) == []


def test_long_quote_containing_later_short_ones_absorbs_them() -> None:
    quotes = [quote(0, 1000), quote(100, 150), quote(600, 700), quote(900, 1200)]
    assert [(q.start, q.end) for q in dedupe(quotes)] == [(0, 1000), (900, 1200)]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1900), st.integers(1, 100)), max_size=40))
def test_dedupe_leaves_no_containment_and_never_invents_spans(spans: list[tuple[int, int]]) -> None:
    quotes = [quote(s, s + n) for s, n in spans]
    merged = dedupe(quotes)
    assert [q.start for q in merged] == sorted(q.start for q in merged)
    assert {(q.start, q.end) for q in merged} <= {(q.start, q.end) for q in quotes}
    for a in merged:
        for b in merged:
            if a is not b:
                assert not (a.start <= b.start and b.end <= a.end)


def test_dedupe_is_fast_on_many_quotes() -> None:
    quotes = [quote(i % 1900, i % 1900 + 50, id=str(i)) for i in range(20_000)]
    began = time.perf_counter()
    dedupe(quotes)
    assert time.perf_counter() - began < 2
