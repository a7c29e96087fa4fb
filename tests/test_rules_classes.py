"""The rules backend on the classes of text issue 17 names: shapes it was not tuned on. Every sentence
here is invented."""

from __future__ import annotations

import pytest

from quotes.backends.rules import extract_quotes
from quotes.schema import Quote


def _only(text: str) -> Quote:
    quotes = extract_quotes(text)
    assert len(quotes) == 1, [q.text for q in quotes]
    quote = quotes[0]
    assert text[quote.start : quote.end] == quote.text
    return quote


# --- inverted attribution with a description before the name --------------------------------------------


@pytest.mark.parametrize(
    ("text", "mention", "role"),
    [
        ("“We will win,” said hacker Eve Smith.", "hacker Eve Smith", "hacker"),
        ("“We will win,” said retired surgeon Eve Smith.", "retired surgeon Eve Smith", "retired surgeon"),
        (
            '"The dam held," said veteran river pilot Jon Amundsen.',
            "veteran river pilot Jon Amundsen",
            "veteran river pilot",
        ),
        (
            "“It is late,” says longtime organizer Rosa Quill.",
            "longtime organizer Rosa Quill",
            "longtime organizer",
        ),
    ],
)
def test_a_description_before_the_name_after_the_cue(text: str, mention: str, role: str) -> None:
    quote = _only(text)
    assert quote.kind == "direct"
    assert quote.speaker.mention == mention
    assert quote.speaker.name == mention.removeprefix(role + " ")
    assert quote.speaker.role == role


def test_a_participle_or_an_article_after_the_cue_is_no_description() -> None:
    text = "Critics say he should resign, saying calling the Ferrow Group a charity “is a joke.”"
    assert all(q.speaker.mention != "calling the Ferrow Group" for q in extract_quotes(text))


# --- reporting verbs and nouns from a broad lexicon ---------------------------------------------------------


@pytest.mark.parametrize(
    "verb", ["muttered", "murmured", "whispered", "grumbled", "stammered", "retorted", "hissed", "confessed"]
)
def test_verbs_of_speaking_and_its_manner_next_to_a_quotation(verb: str) -> None:
    quote = _only(f"“Hello,” Sarah {verb}.")
    assert (quote.speaker.name, quote.cue) == ("Sarah", verb)
    quote = _only(f"Sarah {verb}, “Not now, please.”")
    assert (quote.speaker.name, quote.cue) == ("Sarah", verb)


@pytest.mark.parametrize(
    ("text", "statement", "speaker", "cue"),
    [
        (
            "The Harlow Fund's statement that fees will rise next year angered savers.",
            "that fees will rise next year",
            "The Harlow Fund",
            "statement",
        ),
        (
            "Ana Ruiz ignored the board's assertion that the pool had been closed for repairs.",
            "that the pool had been closed for repairs",
            "the board",
            "assertion",
        ),
        (
            "Tom Reyes spoke last. His claim that the dam could fail by spring alarmed the council.",
            "that the dam could fail by spring",
            "Tom Reyes",
            "claim",
        ),
    ],
)
def test_a_reporting_noun_between_its_owner_and_a_that_clause(
    text: str, statement: str, speaker: str, cue: str
) -> None:
    quote = _only(text)
    assert (quote.text, quote.speaker.name, quote.cue, quote.kind) == (statement, speaker, cue, "indirect")


def test_a_manner_verb_away_from_a_quotation_is_no_cue() -> None:
    assert extract_quotes("The engine growled as the convoy rumbled past the old mill.") == []


# --- roles: titles before a name, appositions, earlier mentions --------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "role"),
    [
        ("Ostrian President Lena Varga said the talks went well.", "Lena Varga", "Ostrian President"),
        ("Eve Smith, a retired surgeon, said the clinic must stay open.", "Eve Smith", "retired surgeon"),
        (
            "Tarek Hollis, deputy director of the port authority, revealed changes to the night shifts.",
            "Tarek Hollis",
            "deputy director of the port authority",
        ),
        ("“The dam held,” said Jon Amundsen, the county engineer.", "Jon Amundsen", "county engineer"),
        ("Ohio Gov. Dana Fitch toured the plant. Fitch said the jobs would stay.", "Dana Fitch", "Ohio Gov."),
        ("Mayor Lisa Park opened the bridge. “It is a great day,” Park added.", "Lisa Park", "Mayor"),
        ("Mayor Lisa Park opened the bridge. “It is a great day,” she added.", "Lisa Park", "Mayor"),
        (
            "Crowds cheered presumptive Republican presidential nominee Dale Varn. Varn said tax would fall.",
            "Dale Varn",
            "presumptive Republican presidential nominee",
        ),
        ("The video shows reporter Mia Holt at the gate. “I was pushed,” Holt said.", "Mia Holt", "reporter"),
        (
            "“We lost,” said Bo Pike, a retired carrier who lined up at dawn to hear the senator.",
            "Bo Pike",
            "retired carrier",
        ),
    ],
)
def test_roles_from_titles_appositions_and_earlier_mentions(text: str, name: str, role: str) -> None:
    quote = _only(text)
    assert (quote.speaker.name, quote.speaker.role) == (name, role)


def test_a_courtesy_title_is_no_role() -> None:
    quote = _only("“Nothing has changed,” Mr. Okafor said.")
    assert quote.speaker.role is None


# --- names that are not people's ---------------------------------------------------------------------


def test_a_pronoun_is_never_resolved_to_a_country() -> None:
    text = "Officials from the United States met Ostrian envoy Ali Hadi. “We are ready,” he said."
    assert _only(text).speaker.name == "Ali Hadi"


def test_a_pronoun_is_never_resolved_to_a_shop_or_a_street() -> None:
    text = (
        "Dana Reyes runs a bakery. On Monday she walked past Harbor Street Market and Kellow Hardware. "
        "“Prices are up again,” she said."
    )
    assert _only(text).speaker.name == "Dana Reyes"


@pytest.mark.parametrize(
    ("text", "mention"),
    [
        ("Witnesses outside the shop said the fire started at noon.", "Witnesses outside the shop"),
        (
            "Several residents of the tower said the lift had failed for weeks.",
            "Several residents of the tower",
        ),
    ],
)
def test_people_at_a_place_are_the_group_that_speaks(text: str, mention: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.speaker.type) == (mention, "group")


@pytest.mark.parametrize(
    "text",
    [
        "The chief said the road would reopen on Monday.",
        "“Go home,” The chief said.",
        "The Chief Said: “Go home now, all of you.”",
    ],
)
def test_a_title_alone_names_no_one_and_never_holds_its_cue(text: str) -> None:
    quote = _only(text)
    assert "said" not in (quote.speaker.mention or "said").lower()
    assert "said" not in (quote.speaker.name or "said").lower()


# --- dialogue ------------------------------------------------------------------------------------------


def test_he_said_resolves_to_the_name_one_sentence_back() -> None:
    quotes = extract_quotes('Marcus walked in. "Hello," he said. Sarah replied, "Hi there!"')
    assert [(q.speaker.mention, q.speaker.name) for q in quotes] == [("he", "Marcus"), ("Sarah", "Sarah")]


def test_unattributed_lines_of_dialogue_take_turns() -> None:
    text = (
        'Marcus walked into the kitchen.\n\n"Hello," he said.\n\n"Hi there!" Sarah replied.\n\n'
        '"Did you sleep well?"\n\n"Not really."\n\n"Why not?" he asked.'
    )
    quotes = extract_quotes(text)
    assert [(q.text, q.speaker.name) for q in quotes] == [
        ('"Hello,"', "Marcus"),
        ('"Hi there!"', "Sarah"),
        ('"Did you sleep well?"', "Marcus"),
        ('"Not really."', "Sarah"),
        ('"Why not?"', "Marcus"),
    ]
    assert [q.speaker.mention for q in quotes] == ["he", "Sarah", None, None, "he"]


def test_a_quote_paragraph_after_one_speakers_quote_still_continues_it() -> None:
    text = "“We will rebuild,” Mayor Lisa Park said.\n\n“Every house, every road.”\n\nThe council agreed."
    quote = _only(text)
    assert len(quote.spans) == 2
    assert quote.speaker.name == "Lisa Park"


def test_she_said_after_two_people_resolves_to_the_last_named() -> None:
    text = "Tom Reyes left early. Later Ana Ruiz arrived at the hall. “We start at nine,” she said."
    assert _only(text).speaker.name == "Ana Ruiz"


# --- about ----------------------------------------------------------------------------------------------


def test_about_lists_people_organisations_and_countries_named_or_referred_to() -> None:
    text = (
        "Iraqi Prime Minister Nuri Halabi met Iranian President Reza Tavan. Tavan said that “Iraq stands "
        "with Iran.” Halabi pledged not to allow any threat to Iran from Iraqi territory."
    )
    quotes = extract_quotes(text)
    assert [[e.name for e in q.about] for q in quotes] == [["Iraq", "Iran"], ["Iran", "Iraq"]]


def test_about_leaves_out_the_speaker_referring_to_themselves() -> None:
    quote = _only("Ana Ruiz said she would run for the council again next year.")
    assert quote.about == []


def test_about_gives_a_pronoun_for_someone_else_by_name() -> None:
    text = "Ana Ruiz met Tom Reyes on Monday. Later the Kellow Bank board said he had misled the Harlow Fund."
    assert [e.name for e in _only(text).about] == ["Tom Reyes", "Harlow Fund"]


def test_his_country_is_the_speakers_country() -> None:
    text = "Iranian President Reza Tavan expressed his country's wish to double trade."
    assert [e.name for e in _only(text).about] == ["Iran"]


# --- single quotation marks, and apostrophes that open nothing ------------------------------------------


@pytest.mark.parametrize(
    ("text", "statement", "name"),
    [
        ("'It is over,' said Jo Marsh.", "'It is over,'", "Jo Marsh"),
        ("‘It is over,’ Jo Marsh said.", "‘It is over,’", "Jo Marsh"),
        (
            "Ann Lee said: ‘He told me “never again” and left.’",
            "‘He told me “never again” and left.’",
            "Ann Lee",
        ),
    ],
)
def test_single_marks_as_quotation_marks(text: str, statement: str, name: str) -> None:
    quote = _only(text)
    assert (quote.text, quote.speaker.name) == (statement, name)


def test_double_marks_nested_in_single_ones_are_one_quotation() -> None:
    text = "‘They called it “a fair deal” and walked out,’ said Jo Marsh."
    quote = _only(text)
    assert quote.text == "‘They called it “a fair deal” and walked out,’"
    assert quote.kind == "direct"


def test_single_marks_nested_in_double_ones_open_nothing() -> None:
    quote = _only("“He told me ‘never again’ and left,” Tom Reyes said.")
    assert quote.text == "“He told me ‘never again’ and left,”"


def test_apostrophes_never_open_a_quotation() -> None:
    text = (
        "Smith's shop played rock 'n' roll all night in the '90s, and the players' union met there. "
        "'Great times,' said Jo Marsh. 'We danced till the 'til-dawn shows ended.'"
    )
    quotes = extract_quotes(text)
    assert [q.text for q in quotes] == [
        "'Great times,' said Jo Marsh. 'We danced till the 'til-dawn shows ended.'"
    ]
    assert quotes[0].speaker.name == "Jo Marsh"


def test_apostrophes_in_a_double_quoted_text_change_nothing() -> None:
    text = "Smith's shop played rock 'n' roll in the '90s. “Great times,” said Jo Marsh."
    assert [q.text for q in extract_quotes(text)] == ["“Great times,”"]


# --- HTML: a quotation never runs through markup ----------------------------------------------------------


def test_a_quotation_left_open_across_tags_stops_at_the_block() -> None:
    text = (
        '<p class="lead">Mayor Lisa Park spoke on Monday. “We will rebuild the bridge,</p>'
        '<p>the council meets at <a href="/agenda">noon</a>.</p>'
        "<p>“It is a great day,” Park said.</p>"
    )
    quotes = extract_quotes(text)
    assert all("<" not in text[s:e] for q in quotes for s, e in (q.spans or [(q.start, q.end)]))
    assert [(q.text, q.speaker.name) for q in quotes] == [("“It is a great day,”", "Lisa Park")]


def test_quotation_marks_in_attributes_are_no_quotations() -> None:
    text = '<div data-note="the plan is dead" title="a b c d"><p>Nothing here was said by anyone.</p></div>'
    assert extract_quotes(text) == []


def test_an_inline_tag_inside_a_quotation_keeps_it_whole() -> None:
    text = "<p>“We will <em>not</em> close the school,” said Ana Ruiz.</p>"
    quote = _only(text)
    assert quote.text == "“We will <em>not</em> close the school,”"
    assert quote.speaker.name == "Ana Ruiz"
