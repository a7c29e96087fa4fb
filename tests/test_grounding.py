from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from rapidfuzz import fuzz

from quotes.grounding import Alignment, Claimed, SourceText, normalize, quoted_fragments, strip_quote

SEED = Path(__file__).resolve().parent.parent / "seeds" / "kadhimi-in-iran.txt"

WORDS = ["the", "minister", "council", "talks", "border", "trade", "oil", "budget", "court", "army", "river"]


def filler(words: int, seed: int = 0) -> str:
    """Deterministic news-like filler: sentences of known words, some lines hard-wrapped."""
    rng = random.Random(seed)
    out = []
    for i in range(words):
        word = rng.choice(WORDS)
        out.append(word.capitalize() if i % 12 == 0 else word)
        if i % 12 == 11:
            out[-1] += "."
    return " ".join(out)


def plant(piece: str, before_words: int = 200, after_words: int = 200) -> tuple[str, int, int]:
    before = filler(before_words, 1) + " "
    text = before + piece + " " + filler(after_words, 2)
    return text, len(before), len(before) + len(piece)


def span(text: str, a: Alignment | None) -> str:
    assert a is not None
    return text[a.start : a.end]


# --- normalization -------------------------------------------------------------------------------------


def test_normalize_unifies_marks_dashes_whitespace_and_case() -> None:
    assert normalize(" “Iraq’s  Role” —\n said ‘‘X’’… ") == normalize('"iraq\'s role" -- said "x"...')
    assert normalize("eco\u00adnomic\u200b") == "economic"
    assert normalize("Straße") == "strasse"


def test_strip_quote_takes_off_marks_space_and_end_punctuation() -> None:
    assert strip_quote(" “We will stay,” ") == "We will stay"
    assert strip_quote("''No way!''") == "No way"
    assert strip_quote("the boys' team") == "the boys' team"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("aB ß\n\t“”\"'’‘`-—–…\u00ad.,x")), max_size=80))
def test_source_text_normalizes_like_normalize_and_maps_every_character(text: str) -> None:
    source = SourceText(text)
    assert source.normalized.strip() == normalize(text)
    previous = (0, 0)
    for i in range(len(source.normalized)):
        start, end = source.original(i, i + 1)
        assert previous[0] <= start < end <= len(text)
        previous = (start, end)


# --- quotes --------------------------------------------------------------------------------------------


def test_exact_quote_is_found_at_its_offsets() -> None:
    text, start, end = plant("the council will not accept any deal on the harbour")
    a = SourceText(text).align_quote("the council will not accept any deal on the harbour")
    assert a == Alignment(start, end, "exact", 100.0)


def test_curly_marks_line_breaks_and_case_ground_as_normalized_with_the_marks() -> None:
    piece = "“We will not\naccept any deal on the\nHarbour,”"
    text, start, end = plant(piece)
    a = SourceText(text).align_quote('"we will not accept any deal on the harbour,"')
    assert a == Alignment(start, end, "normalized", 100.0)


def test_needle_without_marks_gives_the_words_only() -> None:
    piece = "“We will not accept any deal on the harbour,”"
    text, start, end = plant(piece)
    a = SourceText(text).align_quote("We will not accept any deal on the harbour")
    assert a is not None
    assert (a.start, a.end) == (start + 1, end - 2)
    assert a.status == "exact"
    marked = SourceText(text).align_quote("We will not accept any deal", include_marks=True)
    assert marked is not None
    assert marked.start == start


def test_end_punctuation_moved_by_the_model_still_grounds() -> None:
    piece = "“the army will leave the city by the end of the week,”"
    text, start, end = plant(piece)
    a = SourceText(text).align_quote('"The army will leave the city by the end of the week."')
    assert a is not None
    assert (a.start, a.end, a.status) == (start, end, "normalized")


def test_double_apostrophe_marks() -> None:
    piece = "''the vote was stolen from the people,''"
    text, start, end = plant(piece)
    a = SourceText(text).align_quote("“the vote was stolen from the people,”")
    assert a == Alignment(start, end, "exact", 100.0)
    piece = "``the vote was stolen from the people.''"
    text, start, end = plant(piece)
    assert SourceText(text).align_quote('"the vote was stolen from the people."') == Alignment(
        start, end, "exact", 100.0
    )


def test_fuzzy_with_one_changed_word_covers_whole_words() -> None:
    piece = "the ministry said the bridge across the river would reopen next spring after repairs"
    text, start, end = plant(piece)
    a = SourceText(text).align_quote(
        "the ministry said the bridge across the river would reopen next summer after repairs"
    )
    assert a is not None
    assert a.status == "fuzzy"
    assert a.score >= 90
    assert (a.start, a.end) == (start, end)


def test_quote_cut_at_a_chunk_edge_grounds_within_the_chunk() -> None:
    piece = "“the police will protect every polling station in the region,”"
    text, start, _ = plant(piece)
    hi = start + piece.index(" station")
    a = SourceText(text).align_quote('"the police will protect every polling', lo=0, hi=hi)
    assert a is not None
    assert (a.start, a.end, a.status) == (start, hi, "exact")


def test_same_quote_twice_lands_on_the_unclaimed_occurrence() -> None:
    quote = "“we will rebuild the station,”"
    text = filler(50, 1) + f" {quote} he said. " + filler(50, 2) + f" {quote} she said. " + filler(20, 3)
    first = text.index(quote)
    second = text.index(quote, first + 1)
    source = SourceText(text)
    a = source.align_quote(quote)
    assert a is not None
    assert a.start == first
    b = source.align_quote(quote, taken=[(a.start, a.end)])
    assert b is not None
    assert (b.start, b.end) == (second, second + len(quote))
    again = source.align_quote(quote, taken=[(first, first + len(quote)), (second, second + len(quote))])
    assert again is not None
    assert again.start == first


def test_word_bounded_occurrence_preferred() -> None:
    text = "Tomorrow the minister resigns. He said morrow the minister resigns is wrong."
    a = SourceText(text).align_quote("morrow the minister resigns")
    assert a is not None
    assert a.start == text.index(" morrow") + 1


def test_search_stays_within_the_chunk_range() -> None:
    quote = "the harbour will close"
    text = f"{quote} on Monday. " + filler(100) + f" Later {quote} again."
    late = text.rindex(quote)
    a = SourceText(text).align_quote(quote, lo=50)
    assert a is not None
    assert a.start == late
    assert SourceText(text).align_quote(quote, lo=50, hi=late + 5) is None


def test_hallucinated_or_too_short_needles_are_rejected() -> None:
    text, _, _ = plant("the council will meet on Monday")
    source = SourceText(text)
    assert source.align_quote("Inflation has doubled since the central bank raised interest rates.") is None
    assert source.align_quote("“a”") is None
    assert source.align_quote("  ") is None
    assert source.align_quote("…") is None


@st.composite
def text_and_needle(draw: st.DrawFn) -> tuple[str, str]:
    pieces = st.sampled_from([*WORDS, "Iraq’s", "“", "”", '"', "''", "—", "--", "…", "\n", ".", ",", "ß"])
    words = draw(st.lists(pieces, min_size=1, max_size=60))
    text = " ".join(words)
    how = draw(st.sampled_from(["substring", "perturbed", "random"]))
    if how == "random":
        return text, draw(st.text(max_size=60))
    a = draw(st.integers(0, len(text) - 1))
    b = draw(st.integers(a + 1, len(text)))
    needle = text[a:b]
    if how == "perturbed":
        change = draw(st.sampled_from(["upper", "oneline", "marks", "char"]))
        if change == "upper":
            needle = needle.upper()
        elif change == "oneline":
            needle = " ".join(needle.split())
        elif change == "marks":
            needle = '"' + needle.replace("“", '"').replace("’", "'") + '"'
        else:
            i = draw(st.integers(0, len(needle) - 1))
            needle = needle[:i] + draw(st.sampled_from("xq ")) + needle[i + 1 :]
    return text, needle


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_and_needle())
def test_every_alignment_satisfies_the_claim_of_its_status(case: tuple[str, str]) -> None:
    text, needle = case
    a = SourceText(text).align_quote(needle)
    if a is None:
        return
    assert 0 <= a.start < a.end <= len(text)
    found = text[a.start : a.end]
    if a.status == "exact":
        assert strip_quote(found) == strip_quote(needle)
    elif a.status == "normalized":
        assert normalize(strip_quote(found)) == normalize(strip_quote(needle))
    else:
        assert a.score >= 90
        assert a.score == fuzz.ratio(normalize(strip_quote(needle)), normalize(strip_quote(found)))
        inside_word = [
            a.start > 0 and text[a.start - 1].isalnum() and text[a.start].isalnum(),
            a.end < len(text) and text[a.end - 1].isalnum() and text[a.end].isalnum(),
        ]
        assert not any(inside_word)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(WORDS), min_size=3, max_size=40), st.data())
def test_substrings_at_word_edges_always_ground_exactly(words: list[str], data: st.DataObject) -> None:
    text = " ".join(words)
    i = data.draw(st.integers(0, len(words) - 1))
    j = data.draw(st.integers(i + 1, len(words)))
    needle = " ".join(words[i:j])
    assume(sum(c.isalnum() for c in needle) >= 2)
    a = SourceText(text).align_quote(needle)
    assert a is not None
    assert a.status == "exact"
    assert text[a.start : a.end] == needle


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["said", "Said", "he", "she", "shed", "the", "—", "he’s", "“he”"]),
            st.sampled_from([" ", "  ", "\n"]),
        ),
        max_size=30,
    ),
    st.data(),
)
def test_words_are_every_whole_word_occurrence_in_range_nearest_first(
    tokens: list[tuple[str, str]], data: st.DataObject
) -> None:
    text = "".join(word + gap for word, gap in tokens)
    source = SourceText(text)
    lo = data.draw(st.integers(0, len(text)))
    hi = data.draw(st.integers(lo, len(text)))
    wanted = data.draw(st.sampled_from(["said", "he", "the", "he's", "he said"]))
    # In the original text a space of the normalized words may be any whitespace run, and an apostrophe
    # either kind.
    pattern = r"\s+".join(re.escape(word).replace("'", "['’]") for word in wanted.split())
    expected = [
        (m.start(), m.end())
        for m in re.finditer(rf"(?<!\w){pattern}(?!\w)", text, re.IGNORECASE)
        if lo <= m.start() and m.end() <= hi
    ]
    assert list(source.words(wanted, lo, hi)) == expected
    assert list(source.words(wanted, lo, hi, backward=True)) == expected[::-1]
    assert source.word(wanted, lo, hi) == (expected[0] if expected else None)
    assert source.word(wanted, lo, hi, backward=True) == (expected[-1] if expected else None)


def test_words_across_a_whitespace_run_map_back_to_the_original_span() -> None:
    text = "She said:\n\nhe  said it … and he\nsaid more."
    source = SourceText(text)
    first, second = text.index("he  said"), text.index("he\nsaid")
    assert list(source.words("he said", 0, len(text))) == [(first, first + 8), (second, second + 7)]
    assert source.word("he said", 0, len(text), backward=True) == (second, second + 7)
    assert source.word("he said", first + 1, len(text)) == (second, second + 7)


# --- the seed article ----------------------------------------------------------------------------------


def test_seed_article_quotes_ground_across_hard_wrapped_lines() -> None:
    text = SEED.read_text(encoding="utf-8")
    source = SourceText(text)
    a = source.align_quote("Iraq stands with Iran in its economic crisis")
    assert a is not None
    assert a.status == "normalized"
    assert text[a.start : a.end] == "Iraq stands with Iran in its\neconomic crisis"
    assert a.start == text.index("Iraq stands with Iran")

    b = source.align_quote('"honoring Qassem Soleimani and Abu Mahdi al-Muhandis,"')
    assert b is not None
    assert b.status == "normalized"
    assert text[b.start : b.end] == "“honoring Qassem\nSoleimani and Abu Mahdi al-Muhandis,”"


# --- speaker mentions ----------------------------------------------------------------------------------


def test_mention_matches_whole_words_only() -> None:
    text = "The theory, the other one. “We stay,” he said."
    source = SourceText(text)
    quote_start, quote_end = text.index("“"), text.index(" he")
    a = source.align_mention("he", quote_start, quote_end)
    assert a == Alignment(text.index(" he said") + 1, text.index(" he said") + 3, "exact", 100.0)
    assert span(text, source.align_mention("THE", quote_start, quote_end)) == "the"


def test_mention_nearest_to_the_quote_and_outside_it() -> None:
    text = "Rouhani arrived. Later Rouhani said “Rouhani will not bow,” and left. Rouhani smiled."
    source = SourceText(text)
    quote_start = text.index("“")
    quote_end = text.index("” and") + 1
    a = source.align_mention("Rouhani", quote_start, quote_end)
    assert a is not None
    assert a.start == text.index("Later Rouhani") + len("Later ")
    assert not quote_start <= a.start < quote_end


def test_mention_tie_prefers_after_the_quote_then_window_limits() -> None:
    text = "Kadhimi “We agree.” Kadhimi"
    source = SourceText(text)
    quote_start, quote_end = text.index("“"), text.index("”") + 1
    a = source.align_mention("kadhimi", quote_start, quote_end)
    assert a == Alignment(text.rindex("Kadhimi"), len(text), "normalized", 100.0)
    far = "Kadhimi said. " + filler(200) + " “We agree.”"
    assert SourceText(far).align_mention("Kadhimi", far.index("“"), len(far), window=100) is None


def test_the_window_counts_to_where_a_mention_starts_not_where_it_ends() -> None:
    text = "“We agree.” " + "x" * 50 + " won the endorsement of the paper"
    source = SourceText(text)
    end = text.index("”") + 1
    found = source.align_mention("won the endorsement", 0, end, window=60)
    assert found is not None
    assert found.start == text.index("won")
    assert source.align_mention("won the endorsement", 0, end, window=50) is None
    before = "won the endorsement " + "x" * 50 + " “We agree.”"
    found = SourceText(before).align_mention("won the endorsement", before.index("“"), len(before), window=52)
    assert found is not None
    assert found.start == 0


def test_mention_of_a_title_across_a_line_break() -> None:
    text = SEED.read_text(encoding="utf-8")
    source = SourceText(text)
    quote = source.align_quote("Iraq stands with Iran in its economic crisis")
    assert quote is not None
    a = source.align_mention("the Iraqi prime minister", quote.start, quote.end)
    assert a is not None
    assert text[a.start : a.end] == "the Iraqi prime minister"
    assert a.end <= quote.start


@pytest.mark.parametrize("mention", ["", "  ", "“”"])
def test_empty_mentions_are_rejected(mention: str) -> None:
    assert SourceText("he said it").align_mention(mention, 0, 2) is None


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("“We will win,” she said. “And soon.”", ["“We will win,”", "“And soon.”"]),
        ("''A,'' he said, ''B.''", ["''A,''", "''B.''"]),
        (
            "“First paragraph runs on.\n\n“Second paragraph.”",
            ["“First paragraph runs on.", "“Second paragraph.”"],
        ),
        ("“Only one piece.”", []),
        ("they discussed “expanding trade,” also", []),
        ("” stray closing first “", []),
        ("“Apparently not,“ he said. “A leopard.”", ["“Apparently not,“", "“A leopard.”"]),
        (
            '"Whether it is A.\n\n"And he is B," Marsh continued. "When you see it, C."',
            ['"Whether it is A.', '"And he is B,"', '"When you see it, C."'],
        ),
        ("“A,” he said. “B", ["“A,”", "“B"]),
        ("A,” he said. “B.”", ["A,”", "“B.”"]),
        ("“A,” he said, “B,” and “C.”", ["“A,”", "“B,”", "“C.”"]),
        ("“A,” he said. “B.” And then ” C", []),
    ],
)
def test_quoted_fragments_of_split_quotes(text: str, pieces: list[str]) -> None:
    assert [text[a:b] for a, b in quoted_fragments(text, 0, len(text))] == pieces


@given(st.lists(st.tuples(st.integers(0, 60), st.integers(0, 12)), max_size=15))
def test_claimed_spans_added_one_by_one_answer_overlaps_like_a_scan(pairs: list[tuple[int, int]]) -> None:
    claimed = Claimed()
    spans: list[tuple[int, int]] = []
    for start, length in pairs:
        claimed.add(start, start + length)
        spans.append((start, start + length))
        for lo in range(0, 75, 3):
            for hi in range(lo + 1, 78, 5):
                assert claimed.overlaps(lo, hi) == any(s < hi and lo < e for s, e in spans if e > s)
                assert claimed.holds(lo, hi) == ((lo, hi) in spans)
    assert claimed.gaps(0, 80) == Claimed(spans).gaps(0, 80)


def test_a_mention_cut_inside_words_lands_on_the_whole_words_only_when_asked() -> None:
    text = "“We will win,” Trump’s campaign said in a statement on Monday."
    source = SourceText(text)
    quote_end = text.index("”") + 1
    assert source.align_mention("rump’s campaign", 0, quote_end) is None
    cut = source.align_mention("rump’s campaign", 0, quote_end, cut_words=True)
    assert cut is not None
    assert (text[cut.start : cut.end], cut.status) == ("Trump’s campaign", "fuzzy")
    assert source.align_mention("ump", 0, quote_end, cut_words=True) is None


def test_a_cue_that_begins_with_an_apostrophe_is_found_after_its_pronoun() -> None:
    text = "Officials said they've administered the test to everyone who asked."
    source = SourceText(text)
    statement = text.index("the test")
    cue = source.align_mention("'ve administered", statement, len(text) - 1)
    assert cue is not None
    assert (cue.start, cue.end, cue.status) == (text.index("'ve"), statement - 1, "exact")
    assert source.align_mention("ey've administered", statement, len(text) - 1) is None
