from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotes.backends.rules import RULES_VERSION, RulesBackend, extract_quotes
from quotes.chunking import Chunk
from quotes.schema import Quote

SEED = Path(__file__).resolve().parent.parent / "seeds" / "kadhimi-in-iran.txt"


def _at(text: str, fragment: str, after: str = "") -> tuple[int, int]:
    start = text.index(fragment, text.index(after) if after else 0)
    return start, start + len(fragment)


def _only(text: str) -> Quote:
    quotes = extract_quotes(text)
    assert len(quotes) == 1, [q.text for q in quotes]
    return quotes[0]


def _check(quote: Quote, text: str) -> None:
    assert text[quote.start : quote.end] == quote.text
    assert quote.grounding == "exact"
    if quote.speaker.start is not None and quote.speaker.end is not None:
        assert text[quote.speaker.start : quote.speaker.end] == quote.speaker.mention
    if quote.cue_start is not None:
        assert text[quote.cue_start : quote.cue_end] == quote.cue


def test_direct_quote_with_pronoun_after() -> None:
    text = "Maria Lopez runs the shelter. “We have never been this full,” she said on Tuesday."
    quote = _only(text)
    _check(quote, text)
    assert (quote.start, quote.end) == _at(text, "“We have never been this full,”")
    assert quote.kind == "direct"
    assert (quote.speaker.mention, quote.speaker.name, quote.speaker.type) == ("she", "Maria Lopez", "person")
    assert (quote.cue_start, quote.cue_end) == _at(text, "said")


def test_split_quote_is_one_record_with_two_fragments() -> None:
    text = "“The river rose overnight,” said Tom Reyes, the county engineer. “We closed the bridge at dawn.”"
    quote = _only(text)
    _check(quote, text)
    assert quote.spans == [
        _at(text, "“The river rose overnight,”"),
        _at(text, "“We closed the bridge at dawn.”"),
    ]
    assert (quote.start, quote.end) == (0, len(text))
    assert (quote.speaker.mention, quote.speaker.name) == ("Tom Reyes", "Tom Reyes")
    assert quote.cue == "said"


def test_split_quote_mid_sentence() -> None:
    text = "“If the vote fails,” the councilwoman said, “we will try again in the spring.”"
    quote = _only(text)
    assert len(quote.spans) == 2
    assert quote.speaker.mention == "the councilwoman"
    assert (quote.speaker.start, quote.speaker.end) == _at(text, "the councilwoman")


def test_straight_quotes_and_name_after_cue() -> None:
    text = 'The plant will close in June. "This is a sad day for the town," said Mayor Ann Whitfield.'
    quote = _only(text)
    assert quote.text == '"This is a sad day for the town,"'
    assert quote.speaker.mention == "Mayor Ann Whitfield"
    assert quote.speaker.name == "Ann Whitfield"
    assert quote.speaker.role == "Mayor"


def test_two_apostrophe_quotes() -> None:
    text = "''The numbers simply do not add up,'' Mr. Okafor said."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "''The numbers simply do not add up,''")
    assert quote.speaker.mention == "Mr. Okafor"


def test_guillemets() -> None:
    text = "«We will rebuild the cathedral stone by stone», the minister said."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "«We will rebuild the cathedral stone by stone»")
    assert quote.speaker.mention == "the minister"


def test_multi_paragraph_quote_continues_at_next_opening_mark() -> None:
    text = (
        "The coach spoke after the match.\n\n"
        "He said: “We were not good enough in the first half.\n\n"
        "“In the second half we showed what this team can do.”\n\n"
        "The club plays again on Sunday."
    )
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.spans == [
        _at(text, "“We were not good enough in the first half."),
        _at(text, "“In the second half we showed what this team can do.”"),
    ]
    assert quote.speaker.mention == "He"
    assert quote.cue == "said"


def test_said_that_is_indirect() -> None:
    text = "Governor Lena Park said that the state would cut fuel taxes next year."
    quote = _only(text)
    assert quote.kind == "indirect"
    assert quote.text == "that the state would cut fuel taxes next year"
    assert (quote.speaker.mention, quote.speaker.name, quote.speaker.role) == (
        "Governor Lena Park",
        "Lena Park",
        "Governor",
    )


def test_according_to() -> None:
    text = "The factory will hire 300 workers, according to the Ministry of Labour."
    quote = _only(text)
    assert quote.text == "The factory will hire 300 workers"
    assert quote.speaker.mention == "the Ministry of Labour"
    assert quote.speaker.type == "organization"
    assert quote.cue == "according to"


def test_apposition_does_not_confuse_the_speaker() -> None:
    text = (
        "Gov. Harold J. Wexler of Nebraska, who signed three budgets, said the surplus would go to schools."
    )
    quote = _only(text)
    assert quote.text == "the surplus would go to schools"
    assert quote.speaker.mention == "Gov. Harold J. Wexler of Nebraska"
    assert quote.speaker.start == 0


def test_mixed_quote_with_pointed_out() -> None:
    text = "Dana Cole pointed out that the deal “protects every worker in the plant.”"
    quote = _only(text)
    assert quote.kind == "mixed"
    assert quote.text == "that the deal “protects every worker in the plant.”"
    assert quote.cue == "pointed out"


@pytest.mark.parametrize(
    ("text", "statement", "kind"),
    [
        (
            "Tomas Varga spoke last, saying that “Ostland stands with Wend in its crisis.”",
            "“Ostland stands with Wend in its crisis.”",
            "direct",
        ),
        (
            "Tomas Varga spoke last, saying that Ostland “stands with Wend in its crisis.”",
            "that Ostland “stands with Wend in its crisis.”",
            "mixed",
        ),
        (
            "Tomas Varga pointed out that “the border stays open,” pledging to keep it so.",
            "“the border stays open,”",
            "direct",
        ),
        (
            "Tomas Varga said that the border stays open for now.",
            "that the border stays open for now",
            "indirect",
        ),
    ],
)
def test_kind_is_decided_by_the_statements_own_words_not_a_joining_that(
    text: str, statement: str, kind: str
) -> None:
    quote = next(q for q in extract_quotes(text) if q.kind != "indirect" or kind == "indirect")
    assert (quote.text, quote.kind) == (statement, kind)
    assert quote.speaker.name == "Tomas Varga"


def test_said_colon_introduces_a_direct_quote() -> None:
    text = "The union leader said: “We will strike on Monday if nothing changes.”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "The union leader"
    assert quote.cue == "said"


def test_surname_resolves_to_full_name_and_about() -> None:
    text = (
        "Senator Rita Alvarez met Mayor John Whitcombe on Friday. "
        "Alvarez said that Whitcombe had promised more buses."
    )
    quote = _only(text)
    assert quote.speaker.name == "Rita Alvarez"
    assert [e.name for e in quote.about] == ["John Whitcombe"]


def test_no_quotes_in_plain_prose() -> None:
    assert extract_quotes("The bridge opened in 1932. It carries two lanes of traffic.") == []


# --- the seed article ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed() -> tuple[str, list[Quote]]:
    text = SEED.read_text(encoding="utf-8")
    return text, extract_quotes(text)


def _covering(quotes: list[Quote], text: str, fragment: str) -> Quote:
    start, end = _at(text, fragment)
    found = [q for q in quotes if q.start <= start and end <= q.end]
    assert len(found) == 1, fragment
    return found[0]


def test_seed_has_ten_attributions_in_order(seed: tuple[str, list[Quote]]) -> None:
    text, quotes = seed
    assert len(quotes) == 10
    assert [q.id for q in quotes] == [f"q{i}" for i in range(1, 11)]
    assert [q.start for q in quotes] == sorted(q.start for q in quotes)
    for quote in quotes:
        _check(quote, text)


@pytest.mark.parametrize(
    ("fragment", "name", "kind", "cue"),
    [
        ("changes in Kadhimi’s reception ceremony", "Alireza Moezzi", "indirect", "revealed"),
        ("“expanding trade relations,", "Hassan Rouhani", "mixed", "said"),
        ("desire to raise the level of bilateral trade", "Hassan Rouhani", "indirect", "expressing"),
        ("“honoring Qassem\nSoleimani and Abu Mahdi al-Muhandis,”", "Hassan Rouhani", "direct", "called for"),
        ("“Iraq stands with Iran in its\neconomic crisis”", "Mustafa al-Kadhimi", "direct", "saying"),
        ("“politics in Iraq is based on goodwill.”", "Mustafa al-Kadhimi", "direct", "adding"),
        ("“Iraq’s foreign relations depend on", "Mustafa al-Kadhimi", "direct", "pointed out"),
        ("not to allow\nany threat to Iran", "Mustafa al-Kadhimi", "indirect", "pledging"),
        ("“greatness of Khamenei,”", "Iranians", "mixed", "said"),
        ("upcoming visits by Kadhimi", "Russian media", "indirect", "reported"),
    ],
)
def test_seed_attribution(
    seed: tuple[str, list[Quote]], fragment: str, name: str, kind: str, cue: str
) -> None:
    text, quotes = seed
    quote = _covering(quotes, text, fragment)
    assert quote.speaker.name == name
    assert quote.kind == kind
    assert quote.cue == cue


def test_seed_title_mention_resolves_to_the_prime_minister(seed: tuple[str, list[Quote]]) -> None:
    text, quotes = seed
    quote = _covering(quotes, text, "“Iraq stands with Iran in its\neconomic crisis”")
    expected = _at(text, "the Iraqi prime minister", "al-Muhandis")
    assert (quote.speaker.start, quote.speaker.end) == expected
    assert quote.speaker.mention == "the Iraqi prime minister"


def test_seed_speaker_types(seed: tuple[str, list[Quote]]) -> None:
    text, quotes = seed
    assert _covering(quotes, text, "“greatness of Khamenei,”").speaker.type == "group"
    rouhani = _covering(quotes, text, "“honoring Qassem")
    assert (rouhani.speaker.mention, rouhani.speaker.type) == ("Rouhani", "person")
    assert {e.name for e in rouhani.about} == {"Qassem Soleimani", "Abu Mahdi al-Muhandis"}


# --- the backend and invariants ------------------------------------------------------------------------


async def test_backend_offsets_by_chunk_start() -> None:
    text = "“We have never been this full,” she said."
    backend = RulesBackend()
    assert backend.provenance.backend == "rules"
    assert backend.provenance.model == f"quotes-rules/{RULES_VERSION}"
    assert backend.chunk_size is None
    answer = await backend.extract_chunk(Chunk(index=2, start=100, end=100 + len(text), text=text))
    (quote,) = answer.quotes
    assert (quote.start, quote.end, quote.chunk) == (100, 100 + len(text) - len(" she said."), 2)
    assert (quote.speaker.start, quote.cue_start) == (100 + text.index("she"), 100 + text.index("said"))
    assert quote.spans == [(quote.start, quote.end)]
    assert answer.records == []
    await backend.aclose()


_PIECES = st.sampled_from(
    [
        '"',
        "“",
        "”",
        "''",
        "«",
        "»",
        " said ",
        " he ",
        "Anna Berg",
        ", ",
        ". ",
        "\n\n",
        "\n",
        "that ",
        "according to ",
        "the mayor",
        " who ",
        "We won",
        ":",
        "told reporters",
        "Mr. ",
        "x",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=40))
def test_offsets_always_match_the_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    for quote in extract_quotes(text):
        _check(quote, text)
        for start, end in quote.spans:
            assert quote.start <= start < end <= quote.end


def test_speaker_with_lowercase_role_after_quote() -> None:
    text = "“We will appeal the ruling,” campaign manager Lena Park told reporters in Denver."
    quote = _only(text)
    assert quote.speaker.mention == "Lena Park"
    assert quote.cue == "told"


def test_speaker_with_party_tag_and_apposition_after_quote() -> None:
    text = "“The bill is dead,” Rep. Omar Diaz (D-Texas), a committee member, said in an interview."
    quote = _only(text)
    assert quote.speaker.mention == "Rep. Omar Diaz"


def test_cue_inside_a_quote_is_not_a_separate_statement() -> None:
    text = "“I think the council will agree with us in the end,” Ruth Adler said."
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Ruth Adler"


def test_quote_after_cue_with_colon_and_tail() -> None:
    text = "The crowd grew quiet. Then the governor leaned in and boomed to the room: “We are not done yet.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“We are not done yet.”")
    assert quote.speaker.mention == "the governor"
    assert quote.cue == "boomed"


def test_quote_right_after_cue_without_comma() -> None:
    text = "At the rally, Jo Banks declared “What a night for this town!”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Jo Banks"


def test_participle_cue_before_quote_takes_the_clause_subject() -> None:
    text = "Mayor Ed Hale defended the plan, saying, “It will pay for itself within five years.”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Mayor Ed Hale"


def test_attribution_after_a_quote_is_not_a_second_statement() -> None:
    text = "“We are ready,” Kim Osei told the station in an interview on Monday."
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.cue == "told"


def test_short_quote_inside_a_sentence_before_a_statement_is_not_direct() -> None:
    text = "He once praised the “fresh start,” but on Sunday he said it was a failed plan for the region."
    quotes = extract_quotes(text)
    assert all(q.kind != "direct" for q in quotes), [q.text for q in quotes]


def test_speaker_with_party_tag_before_cue() -> None:
    text = "Gov. Ann Ruiz (R) said the new budget would cut school funding by a third."
    quote = _only(text)
    assert quote.kind == "indirect"
    assert quote.speaker.mention == "Gov. Ann Ruiz"


def test_bare_plural_group_after_content() -> None:
    text = "The agency will close four regional offices next spring, former officials said."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "The agency will close four regional offices next spring")
    assert quote.speaker.mention == "former officials"
    assert quote.speaker.type == "group"


def test_according_to_a_lowercase_source() -> None:
    text = "About four million families rent their homes in the region, according to federal statistics."
    quote = _only(text)
    assert quote.speaker.mention == "federal statistics"
    assert quote.cue == "according to"


def test_quote_before_a_mid_sentence_lead_is_mixed() -> None:
    text = "The town needs leaders “who can fix the roads before winter,” Mayor Ida Cole said."
    quote = _only(text)
    assert quote.kind == "mixed"
    assert quote.start == 0
    assert quote.speaker.mention == "Mayor Ida Cole"


def test_name_set_off_by_commas_after_a_role() -> None:
    text = "“We will not sign this deal,” the union’s spokesman, Dan Moss, said on Friday."
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Dan Moss"


def test_noun_that_looks_like_a_cue_before_the_verb() -> None:
    text = "“Wages have not kept up with rents,” the report concluded."
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "the report"
    assert quote.cue == "concluded"


def test_name_and_apposition_before_a_colon() -> None:
    text = "The debate drew mixed reviews.\n\nNina Park, a pollster: “Neither of them moved a single voter.”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Nina Park"


def test_coordinated_cue_takes_the_clause_subject() -> None:
    text = "Governor Ruth Vale toured the flooded bridge and said the state would cover the repair costs."
    quote = _only(text)
    assert quote.speaker.mention == "Governor Ruth Vale"
    assert quote.cue == "said"


def test_statement_saying_takes_the_clause_subject() -> None:
    text = "The county board released a statement saying the landfill would close by the end of the year."
    quote = _only(text)
    assert quote.speaker.mention == "The county board"


def test_poll_shows_is_an_attribution_to_the_poll() -> None:
    text = "A new county poll released on Monday shows the incumbent with a narrow lead among likely voters."
    quote = _only(text)
    assert quote.kind == "indirect"
    assert quote.speaker.mention == "A new county poll"
    assert quote.cue == "shows"


def test_shows_without_an_evidence_noun_is_no_cue() -> None:
    assert extract_quotes("The senator shows up at the diner every Sunday before church.") == []


def test_quote_after_but_coordinated_cue() -> None:
    text = "Mayor Lin Cho skipped the vote, but told her staff, “We will fight this in court.”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Mayor Lin Cho"


def test_quote_after_by_saying() -> None:
    text = "When he came back, Judge Omar Tate began by saying, “Nobody here is going to jail today.”"
    quote = _only(text)
    assert quote.speaker.mention == "Judge Omar Tate"


def test_quote_after_a_colon_takes_the_subject() -> None:
    text = "The fans booed. Senator Kay Dunn then turned to the crowd again: “I hear you, and I am staying.”"
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Senator Kay Dunn"
    assert quote.cue == ":"


def test_quoted_label_after_called() -> None:
    text = "Councilwoman Rosa Pike called the new parking rules “a tax on working families.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“a tax on working families.”")
    assert quote.speaker.mention == "Councilwoman Rosa Pike"
    assert quote.cue == "called"


def test_prepositional_aside_between_speaker_and_cue() -> None:
    text = "Tom Reed, in a statement released by his lawyer on Friday, said he would appeal the fine."
    quote = _only(text)
    assert quote.speaker.mention == "Tom Reed"
    assert (quote.start, quote.end) == _at(text, "he would appeal the fine")


def test_called_counts_as_a_cue_only_with_a_quotation() -> None:
    quote = _only("At the rally Dee Hart called her rival a “career politician” who never listens.")
    assert quote.kind == "mixed"
    assert quote.speaker.mention == "Dee Hart"
    assert extract_quotes("At the rally Dee Hart called her rival to the stage for a handshake.") == []


def test_participle_intro_before_the_speaker() -> None:
    text = (
        "Smiling at the crowd, Senator Ana Ruiz thanked her staff and said, “Tonight we proved them wrong.”"
    )
    quote = _only(text)
    assert quote.speaker.mention == "Senator Ana Ruiz"


def test_two_apostrophe_split_quote_is_merged() -> None:
    text = "''The plant will stay open,'' Ms. Arno said. ''We owe that to the town.'' She said more later."
    quote = extract_quotes(text)[0]
    assert quote.spans == [
        _at(text, "''The plant will stay open,''"),
        _at(text, "''We owe that to the town.''"),
    ]
    assert quote.speaker.mention == "Ms. Arno"


def test_quote_paragraph_continues_the_attributed_quote() -> None:
    text = "“We start on Monday,” Jo Kent said.\n\n“Nobody will be left behind.”\n\nThe plan passed."
    quote = _only(text)
    assert quote.spans == [
        _at(text, "“We start on Monday,”"),
        _at(text, "“Nobody will be left behind.”"),
    ]


def test_opening_mark_typed_as_a_closer() -> None:
    text = "“We will rebuild the pier by summer,“ said Lena Ortiz, the harbour master."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“We will rebuild the pier by summer,“")
    assert quote.kind == "direct"
    assert quote.speaker.mention == "Lena Ortiz"


def test_several_intro_phrases_before_a_participle_subject() -> None:
    text = "On Friday, after weeks of silence, Mayor Ida Bell backed the plan, saying, “It is time to build.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“It is time to build.”")
    assert quote.speaker.mention == "Mayor Ida Bell"


def test_quote_ending_a_sentence_ends_it_for_the_statement_before() -> None:
    text = "She says the council chose the “cheapest road it could find.” She adds, “Nobody asked us.”"
    quotes = extract_quotes(text)
    assert [(q.kind, q.text) for q in quotes] == [
        ("mixed", "the council chose the “cheapest road it could find.”"),
        ("direct", "“Nobody asked us.”"),
    ]


def test_intro_phrase_is_no_content_before_a_quoted_label() -> None:
    text = "The day after the storm, Governor Al Moss called the repairs “sluggish” at best."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "the repairs “sluggish” at best")
    assert quote.kind == "mixed"
    assert quote.speaker.mention == "Governor Al Moss"


def test_vowed_to_takes_the_infinitive_as_content() -> None:
    text = "Mayor Ida Bell vowed to close “every loophole the developers found.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "to close “every loophole the developers found.”")
    assert quote.kind == "mixed"


def test_lowercase_titles_before_a_name_after_the_cue() -> None:
    text = "“We lost the vote,” said former state senator Al Ray."
    quote = _only(text)
    assert quote.speaker.mention == "former state senator Al Ray"


def test_one_word_quote_after_said_comma() -> None:
    text = "Asked whether she would run again, Ms. Vane said, “Never.”"
    question, quote = extract_quotes(text)
    assert (quote.start, quote.end) == _at(text, "“Never.”")
    assert quote.speaker.mention == "Ms. Vane"
    # the question put to her is a statement of its own, by no one the sentence names
    assert (question.text, question.kind) == ("whether she would run again", "indirect")
    assert question.cue == "Asked"
    assert question.speaker.name is None


def test_inverted_said_before_the_speaker() -> None:
    text = "The fire spread fast. Said Chief Ada Moss, “We had no water left.”"
    quote = _only(text)
    assert quote.speaker.mention == "Chief Ada Moss"
    assert quote.cue == "Said"


def test_quoted_show_name_in_the_attribution_of_a_split_quote() -> None:
    text = "“The deal is dead,” he said on “Morning Talk.” “We start again on Monday.”"
    quote = _only(text)
    assert quote.spans == [_at(text, "“The deal is dead,”"), _at(text, "“We start again on Monday.”")]


def test_coordinated_second_cue_starts_its_own_statement() -> None:
    text = "Ms. Dale said the budget was “not ready” for a vote, and suggested that the council wait a month."
    quotes = extract_quotes(text)
    assert [(q.kind, q.text, q.speaker.mention) for q in quotes] == [
        ("mixed", "the budget was “not ready” for a vote", "Ms. Dale"),
        ("indirect", "that the council wait a month", "Ms. Dale"),
    ]


def test_told_someone_on_a_day_that() -> None:
    text = "Tia Moon told a local radio host on Monday that the fee was “a mistake.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "that the fee was “a mistake.”")


def test_mid_sentence_quote_statement_starts_at_its_clause() -> None:
    text = "The hearing ran late, and the ruling was “a long time coming,” Ed Park said."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "the ruling was “a long time coming,”")
    assert quote.kind == "mixed"


def test_quote_running_on_into_its_sentence_before_the_attribution() -> None:
    text = "“More buses” would help, Senator Al Ray said on Monday."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“More buses” would help")
    assert quote.kind == "mixed"
    assert quote.speaker.mention == "Senator Al Ray"
    text = "“We can try, but it looks grim” that the bill passes, said Ed Moss, a lobbyist."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "“We can try, but it looks grim” that the bill passes")
    assert quote.speaker.mention == "Ed Moss"


def test_including_does_not_end_the_content() -> None:
    text = "Ms. Dale said the town has “many options,” including a new ferry to the island."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(
        text, "the town has “many options,” including a new ferry to the island"
    )


def test_clause_before_comma_said_name_is_the_content() -> None:
    text = "Prices will fall next year, said Al Ray, an economist."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "Prices will fall next year")
    assert quote.kind == "indirect"
    assert quote.speaker.mention == "Al Ray"
    text = "Ann Cole, the county clerk, said Ed Moss had filed late."
    quote = _only(text)
    assert quote.speaker.mention == "Ann Cole"


def test_quote_after_a_new_subject_and_ends_the_content() -> None:
    text = "Mayor Lane called him a “nice guy” and she left the stage."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "him a “nice guy”")


def test_unattributed_quote_after_a_reported_statement_continues_it() -> None:
    text = "She says people should choose for themselves. “It is their life, and nobody is hurt.”"
    quote = _only(text)
    assert quote.spans == [
        _at(text, "people should choose for themselves"),
        _at(text, "“It is their life, and nobody is hurt.”"),
    ]
    assert quote.kind == "mixed"
    assert extract_quotes("She says people should choose.\n\n“It is their life, and nobody is hurt.”")[
        0
    ].spans == [_at("She says people should choose.", "people should choose")]


def test_but_before_the_quoted_part_does_not_end_the_content() -> None:
    text = "Ms. Dale said the town had tried hard, but that the result was “a disgrace.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(
        text, "the town had tried hard, but that the result was “a disgrace.”"
    )
    assert quote.kind == "mixed"


def test_subordinate_clause_between_cue_and_quote_is_content() -> None:
    text = "Ms. Swan said because the mayor is popular, “he is a very good surrogate.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(
        text, "because the mayor is popular, “he is a very good surrogate.”"
    )
    assert quote.kind == "mixed"
    assert quote.speaker.mention == "Ms. Swan"


def test_quote_after_a_second_verb_belongs_to_the_first_statement() -> None:
    text = "Mr. Hale said the callers kept asking “every single hour.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "the callers kept asking “every single hour.”")
    assert quote.kind == "mixed"
    assert quote.cue == "said"


def test_more_after_cues_and_plural_group_speakers() -> None:
    text = "“Why was the gate left open?” Ms. Ward demanded."
    assert _only(text).speaker.mention == "Ms. Ward"
    text = "“The damage is beyond measure,” federal prosecutors wrote in the filing."
    quote = _only(text)
    assert (quote.speaker.mention, quote.speaker.type) == ("federal prosecutors", "group")


def test_short_quoted_label_after_called_keeps_its_object() -> None:
    text = "Governor Al Moss called the repairs “sluggish.”"
    quote = _only(text)
    assert (quote.start, quote.end) == _at(text, "the repairs “sluggish.”")
    assert quote.kind == "mixed"
    assert quote.speaker.mention == "Governor Al Moss"


def test_lead_in_phrase_before_an_attributed_quote_is_content() -> None:
    text = "When it comes to the new stadium, “it is the best deal in years,” Mayor Ida Bell said."
    quote = _only(text)
    assert (quote.start, quote.end) == _at(
        text, "When it comes to the new stadium, “it is the best deal in years,”"
    )
    assert quote.kind == "mixed"
    assert _only("He said, “it is the best deal in years,” and left.").kind == "direct"


@pytest.mark.parametrize(
    ("text", "statement", "mention", "cue"),
    [
        (
            "“We live in a hard place,” my father often said.",
            "“We live in a hard place,”",
            "my father",
            "said",
        ),
        (
            "“She did not like that,” said a 2008 Nolan veteran.",
            "“She did not like that,”",
            "a 2008 Nolan veteran",
            "said",
        ),
        (
            "“Better watch out for the count,” tweeted another.",
            "“Better watch out for the count,”",
            "another",
            "tweeted",
        ),
        (
            "According to the campaign, “The speech will be at the college.”",
            "“The speech will be at the college.”",
            "the campaign",
            "According to",
        ),
        (
            "According to federal statistics, crime fell by a third.",
            "crime fell by a third",
            "federal statistics",
            "According to",
        ),
    ],
)
def test_speakers_with_a_possessive_a_number_or_a_lone_determiner_and_an_opening_according_to(
    text: str, statement: str, mention: str, cue: str
) -> None:
    quote = _only(text)
    _check(quote, text)
    assert (quote.start, quote.end) == _at(text, statement)
    assert quote.speaker.mention == mention
    assert (quote.cue_start, quote.cue_end) == _at(text, cue)


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("“We will cut taxes,” a spokeswoman for the governor said.", "a spokeswoman for the governor"),
        ("An aide to the senator said the vote would be close.", "An aide to the senator"),
    ],
)
def test_the_speaker_is_the_phrase_a_noun_phrase_completes_not_its_object(text: str, mention: str) -> None:
    quote = _only(text)
    _check(quote, text)
    assert quote.speaker.mention == mention
