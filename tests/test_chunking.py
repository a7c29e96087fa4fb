from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotes.chunking import Chunk, chunk_text, paragraph_spans, sentence_spans, split_chunk

SEED = Path(__file__).resolve().parent.parent / "seeds" / "kadhimi-in-iran.txt"


def sentences(text: str, start: int = 0, end: int | None = None) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text, start, end)]


def assert_chunk_guarantees(text: str, chunks: list[Chunk], size: int) -> None:
    if not text:
        assert chunks == []
        return
    assert chunks[0].start == 0
    assert chunks[-1].end == len(text)
    for i, chunk in enumerate(chunks):
        assert chunk.index == i
        assert chunk.text == text[chunk.start : chunk.end]
        assert 0 < len(chunk.text) <= size
    for before, after in itertools.pairwise(chunks):
        assert before.start < after.start <= before.end, (before, after)
        assert before.end < after.end


# --- sentences ---------------------------------------------------------------------------------------


def test_abbreviations_and_initials_do_not_end_sentences() -> None:
    text = (
        "Mr. Smith met Dr. Jones and Gov. Brown in Washington, D.C. on Sept. 4 with John F. Kennedy Jr. "
        "and U.S. Sen. Lee of Acme Corp. and Acme Co. Ltd. at No. 10 vs. the rest. It rained."
    )
    assert sentences(text) == [text[: text.index(" It rained")], "It rained."]


def test_sentence_ends_after_its_closing_quote() -> None:
    for closer in ['."', ".”", ".''", "?”", "!'"]:
        text = f"He said: “We are ready today{closer} Then he left."
        first = text[: text.index(" Then")]
        assert sentences(text) == [first, "Then he left."]
        assert first.endswith(closer)


def test_question_inside_quote_followed_by_lowercase_continues_the_sentence() -> None:
    text = '"Why now?" he asked. "Because," she said.'
    assert sentences(text) == ['"Why now?" he asked.', '"Because," she said.']


def test_newline_alone_does_not_end_a_sentence_but_a_blank_line_does() -> None:
    text = "The minister said\nthat talks would go on.\n  \nHeadline without a period\n\nNext one."
    assert sentences(text) == [
        "The minister said\nthat talks would go on.",
        "Headline without a period",
        "Next one.",
    ]


def test_offsets_are_exact_and_whitespace_is_trimmed() -> None:
    text = "  First one.   Second one!\n\n\tThird?  "
    spans = sentence_spans(text)
    assert spans == [(2, 12), (15, 26), (29, 35)]


def test_range_restricts_to_part_of_the_text() -> None:
    text = "One here. Two here. Three here. Four here."
    start = text.index("Two")
    end = text.index(" Four")
    assert sentences(text, start, end) == ["Two here.", "Three here."]
    assert sentence_spans(text, 0, 0) == []
    with pytest.raises(ValueError, match="bad range"):
        sentence_spans(text, 5, 2)


def test_seed_article_sentences_keep_hard_wrapped_lines_together() -> None:
    text = SEED.read_text(encoding="utf-8")
    found = sentences(text)
    assert len(found) == 16
    assert found[6].startswith("During the conference, Rouhani also called for")
    assert found[6].endswith("politics in Iraq is based on goodwill.”")


def test_long_punctuation_runs_and_empty_text() -> None:
    assert sentence_spans("") == []
    assert sentence_spans("   \n\n ") == []
    text = "." * 100_000 + "x"
    assert sentence_spans(text) == [(0, len(text))]


# --- paragraphs --------------------------------------------------------------------------------------


def test_paragraph_spans_split_at_blank_lines_only() -> None:
    text = "\n\nFirst line\nstill first.\n \t\nSecond.\n\n\n\nThird \n"
    assert [text[s:e] for s, e in paragraph_spans(text)] == ["First line\nstill first.", "Second.", "Third"]
    assert paragraph_spans("") == []


# --- chunks ------------------------------------------------------------------------------------------


def article(paragraphs: int) -> str:
    body = []
    for p in range(paragraphs):
        sents = [f"Paragraph {p} sentence {s} says something about the talks in Baghdad." for s in range(6)]
        body.append(" ".join(sents))
    return "\n\n".join(body)


def test_short_text_is_one_chunk() -> None:
    text = SEED.read_text(encoding="utf-8")
    assert chunk_text(text) == [Chunk(0, 0, len(text), text)]
    assert chunk_text("") == []


def test_long_text_chunks_end_at_paragraphs_and_overlap() -> None:
    text = article(40)
    chunks = chunk_text(text, size=2000, overlap=400)
    assert len(chunks) > 5
    assert_chunk_guarantees(text, chunks, 2000)
    for before, after in itertools.pairwise(chunks):
        assert text[before.end : before.end + 2] == "\n\n"
        assert before.end - after.start >= 200
        assert after.start == 0 or text[after.start - 1] == " " or text[after.start - 1] == "\n"
        assert text[after.start] == "P"


def test_without_paragraphs_chunks_end_at_sentences() -> None:
    text = article(40).replace("\n\n", " ")
    chunks = chunk_text(text, size=1500, overlap=300)
    assert_chunk_guarantees(text, chunks, 1500)
    for chunk in chunks[:-1]:
        assert chunk.text.endswith("Baghdad.")


def test_quote_cut_at_an_edge_lies_whole_in_the_neighbour() -> None:
    quote = "“We will not allow any threat to our neighbours from our territory,”"
    # One endless sentence, so chunks end at whitespace and some quotes are cut at an edge.
    text = article(30).replace("\n\n", " ").replace("Baghdad.", f"Baghdad and he said {quote} and")
    chunks = chunk_text(text, size=3000, overlap=600)
    starts = [i for i in range(len(text)) if text.startswith(quote, i)]
    cut = 0
    for start in starts:
        end = start + len(quote)
        assert any(c.start <= start and end <= c.end for c in chunks)
        cut += any(c.start < end and start < c.end and not c.start <= start < end <= c.end for c in chunks)
    assert cut > 0


def test_no_whitespace_at_all_is_cut_hard() -> None:
    text = "x" * 10_001
    chunks = chunk_text(text, size=1000, overlap=100)
    assert_chunk_guarantees(text, chunks, 1000)
    assert all(len(c.text) == 1000 for c in chunks[:-1])


@pytest.mark.parametrize(("size", "overlap"), [(0, 0), (100, 100), (100, 150), (100, -1)])
def test_bad_sizes_are_rejected(size: int, overlap: int) -> None:
    with pytest.raises(ValueError, match="chunk"):
        chunk_text("some text", size=size, overlap=overlap)


_alphabet = st.sampled_from([*list("ab .\n\n“”\"',?!Mr"), "Mr. ", "U.S. ", ".” ", "\n\n"])


@settings(max_examples=300, deadline=None)
@given(
    text=st.lists(_alphabet, max_size=400).map("".join),
    size=st.integers(min_value=1, max_value=120),
    overlap_share=st.floats(min_value=0, max_value=0.99),
)
def test_chunk_guarantees_hold_for_any_text(text: str, size: int, overlap_share: float) -> None:
    overlap = min(size - 1, int(size * overlap_share))
    assert_chunk_guarantees(text, chunk_text(text, size=size, overlap=overlap), size)


@settings(max_examples=200, deadline=None)
@given(text=st.lists(_alphabet, max_size=300).map("".join))
def test_sentence_spans_are_ordered_trimmed_and_inside_the_text(text: str) -> None:
    spans = sentence_spans(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace()
        assert not text[end - 1].isspace()
        previous_end = end
    assert "".join("".join(text[s:e].split()) for s, e in spans) == "".join(text.split())


# --- splitting a truncated chunk -----------------------------------------------------------------------


def test_split_chunk_cuts_near_the_middle_at_a_paragraph() -> None:
    text = article(4)
    chunk = Chunk(0, 0, len(text), text)
    first, second = split_chunk(text, chunk, overlap=300)
    assert first.index == second.index == 0
    assert first.start == 0
    assert second.end == len(text)
    assert first.text == text[: first.end]
    assert second.text == text[second.start :]
    assert text[first.end : first.end + 2] == "\n\n"
    assert abs(first.end - len(text) / 2) < len(text) / 4
    assert 0 < first.end - second.start <= 300
    assert len(first.text) < len(text)
    assert len(second.text) < len(text)


def test_split_chunk_respects_the_chunks_own_range_and_half_overlap() -> None:
    text = article(6).replace("\n\n", " ")
    chunk = Chunk(3, 100, 700, text[100:700])
    first, second = split_chunk(text, chunk, overlap=10_000)
    assert (first.start, second.end) == (100, 700)
    assert first.index == second.index == 3
    assert first.text.endswith(".")
    shared = first.end - second.start
    assert 0 < shared <= min(first.end - first.start, second.end - first.end) // 2


def test_split_chunk_rejects_short_or_mismatched_chunks() -> None:
    text = article(2)
    with pytest.raises(ValueError, match="too short"):
        split_chunk(text, Chunk(0, 0, 150, text[:150]), overlap=10)
    with pytest.raises(ValueError, match="does not match"):
        split_chunk(text, Chunk(0, 0, 300, "x" * 300), overlap=10)


@settings(max_examples=200, deadline=None)
@given(
    text=st.lists(_alphabet, min_size=5, max_size=60).map(lambda pieces: "".join(pieces) * 30),
    overlap=st.integers(min_value=0, max_value=300),
    data=st.data(),
)
def test_split_halves_cover_the_chunk_and_are_smaller(text: str, overlap: int, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, max(0, len(text) - 200)))
    end = data.draw(st.integers(start + 200, len(text))) if len(text) - start >= 200 else len(text)
    if end - start < 200:
        return
    chunk = Chunk(7, start, end, text[start:end])
    first, second = split_chunk(text, chunk, overlap)
    assert (first.start, second.end) == (start, end)
    assert first.index == second.index == 7
    assert first.text == text[first.start : first.end]
    assert second.text == text[second.start : second.end]
    assert start < second.start <= first.end < end
    shared = first.end - second.start
    assert shared <= overlap
    assert shared <= min(first.end - start, end - first.end) // 2
