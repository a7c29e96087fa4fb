"""Reported statements whose speaker or cue the rules once missed: a time between speaker and cue, a
count as the speaker, verbs of praise and blame, headlines, and the questions people are asked.
Every text is invented."""

from __future__ import annotations

import pytest

from quotes.backends.rules import extract_quotes
from quotes.schema import Quote


def _only(text: str) -> Quote:
    quotes = extract_quotes(text)
    assert len(quotes) == 1, [q.text for q in quotes]
    quote = quotes[0]
    assert text[quote.start : quote.end] == quote.text
    if quote.speaker.start is not None and quote.speaker.end is not None:
        assert text[quote.speaker.start : quote.speaker.end] == quote.speaker.mention
    return quote


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Mayor Lisa Park on Tuesday said the bridge would reopen in May.", "Mayor Lisa Park"),
        ("Officials late last week said the tunnel was safe to use.", "Officials"),
        ("Ana Ruiz in a statement said the budget would pass by June.", "Ana Ruiz"),
        ("The council two days ago said that the levy would stay.", "The council"),
        ("Dr. Omar Haddad on Thursday evening said the clinic was full.", "Dr. Omar Haddad"),
    ],
)
def test_a_time_or_occasion_between_speaker_and_cue(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker
    assert quote.cue == "said"
    assert quote.kind == "indirect"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("About 40 percent of voters said they would back the bridge plan.", "About 40 percent of voters"),
        ("Nearly half of the voters said they would back the plan.", "Nearly half of the voters"),
        ("Some 35 percent said they had no preference at all.", "Some 35 percent"),
        (
            "Attorneys and legal experts said that a conviction is highly unlikely.",
            "Attorneys and legal experts",
        ),
        (
            "Thirty-one percent of those surveyed say they would be satisfied.",
            "Thirty-one percent of those surveyed",
        ),
    ],
)
def test_a_count_or_a_plural_phrase_is_the_speaker(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker
    assert quote.speaker.type == "group"


@pytest.mark.parametrize(
    "text",
    [
        "Since regulators announced a settlement in May, the bank has been quiet.",
        "Clinton leads Sanders by 271 pledged delegates in the count.",
        "She also proved adept at filibustering questions she preferred not to answer.",
    ],
)
def test_a_clause_before_a_cue_word_is_no_speaker(text: str) -> None:
    assert extract_quotes(text) == []


@pytest.mark.parametrize(
    ("text", "cue", "content"),
    [
        (
            "Senator Ana Ruiz slammed the plan as a giveaway to wealthy donors.",
            "slammed",
            "the plan as a giveaway to wealthy donors",
        ),
        (
            "The governor talked about the flooded homes along the river.",
            "talked about",
            "the flooded homes along the river",
        ),
        (
            "Mr. Lee defended his record on the bridge at the hearing.",
            "defended",
            "his record on the bridge at the hearing",
        ),
        (
            "The mayor pointed to the new figures on housing starts.",
            "pointed to",
            "the new figures on housing starts",
        ),
    ],
)
def test_verbs_of_praise_blame_and_reference_are_cues(text: str, cue: str, content: str) -> None:
    quote = _only(text)
    assert (quote.cue, quote.text, quote.kind) == (cue, content, "indirect")
    assert quote.speaker.mention is not None


@pytest.mark.parametrize(
    ("text", "speaker", "cue", "content"),
    [
        (
            "Ruiz: Bridge Plan Is a Giveaway to Donors.\n\nThe senator spoke on Monday.",
            "Ruiz",
            ":",
            "Bridge Plan Is a Giveaway to Donors",
        ),
        (
            "Council Says Bridge Will Reopen in May.\n\nThe council met on Monday.",
            "Council",
            "Says",
            "Bridge Will Reopen in May",
        ),
        (
            "Mayor Lisa Park: ‘We Will Rebuild Every Home.’\n\nThe storm hit on Monday.",
            "Mayor Lisa Park",
            ":",
            "‘We Will Rebuild Every Home.’",
        ),
    ],
)
def test_a_headline_names_its_speaker_first(text: str, speaker: str, cue: str, content: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.cue, quote.text) == (speaker, cue, content)


@pytest.mark.parametrize(
    "text",
    [
        "Breaking: Bridge Plan Passes the Senate.\n\nThe vote was close.",
        "The Latest: Storm Reaches the Coast.\n\nWinds rose overnight.",
        "WOW: You Will Not Believe This Bridge.\n\nIt is long.",
        "Our Budget in Five Charts: Where the Money Goes Next Year and Why It Matters to You and Yours.",
    ],
)
def test_a_headline_label_that_names_no_one_is_no_speaker(text: str) -> None:
    assert extract_quotes(text) == []


def test_a_question_asked_by_someone_is_their_statement() -> None:
    text = "When asked by a reporter whether the bridge was safe, Ms. Park said, “Yes.”"
    question, answer = extract_quotes(text)
    assert (question.text, question.cue, question.speaker.mention) == (
        "whether the bridge was safe",
        "asked",
        "a reporter",
    )
    assert (answer.text, answer.speaker.mention) == ("“Yes.”", "Ms. Park")


def test_a_question_no_one_is_named_for_has_no_speaker() -> None:
    text = "Asked on Monday if the levy would rise, the treasurer shook her head."
    quote = _only(text)
    assert (quote.text, quote.cue) == ("if the levy would rise", "Asked")
    assert quote.speaker.name is None
    assert quote.speaker.mention is None


def test_an_active_asked_keeps_its_asker() -> None:
    quote = _only("The senator asked whether the tunnel had been inspected this year.")
    assert quote.speaker.mention == "The senator"
    assert quote.text.startswith("whether the tunnel")


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "The levy could matter more for schools than for roads, said county strategist Ana Ruiz.",
            "county strategist Ana Ruiz",
            "The levy could matter more for schools than for roads",
        ),
        (
            "The list also includes donors obtained from the party, the sources said.",
            "the sources",
            "The list also includes donors obtained from the party",
        ),
    ],
)
def test_an_attribution_after_its_unquoted_statement(text: str, speaker: str, content: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.text, quote.kind) == (speaker, content, "indirect")


@pytest.mark.parametrize(
    ("text", "speaker", "spans"),
    [
        (
            "This budget, he says, is different from the last one.",
            "he",
            ["This budget", "is different from the last one"],
        ),
        (
            "The editorial, sources said, nailed the story the campaign had told.",
            "sources",
            ["The editorial", "nailed the story the campaign had told"],
        ),
        (
            "So it makes sense, strategists said on Monday, for the council to act now.",
            "strategists",
            ["So it makes sense", "for the council to act now"],
        ),
    ],
)
def test_an_attribution_set_inside_its_statement(text: str, speaker: str, spans: list[str]) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker
    assert [text[s:e] for s, e in quote.spans] == spans
    assert quote.kind == "indirect"


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "Rosa Vent, Color of Truth's executive director, said her group would keep pressing the firms.",
            "Rosa Vent",
        ),
        ("Sullivan, struck by her story, told her she did not need any talking points.", "Sullivan"),
        (
            "The newspaper, long a vocal advocate of reform, writes that the mayor has changed course.",
            "The newspaper",
        ),
        (
            "Farm groups, including the Grain Council of Iowa, have argued that the tariff hurts growers.",
            "Farm groups",
        ),
    ],
)
def test_the_subject_before_an_aside_speaks(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker


@pytest.mark.parametrize(
    ("text", "speaker", "kind"),
    [
        ("She met three lawyers; one suggested she apply for a visa first.", "one", "person"),
        ("Others say the plan will never work in a small town.", "Others", "group"),
        ("Then someone asked how the council could pay for the bridge.", "someone", "person"),
    ],
)
def test_an_indefinite_pronoun_speaks(text: str, speaker: str, kind: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.speaker.type) == (speaker, kind)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Polls show voters trust the mayor more than any of her rivals.", "Polls"),
        ("The emails show the aide was asked to pitch major donors.", "The emails"),
        (
            "One influential paper found gains in math scores but none in reading.",
            "One influential paper",
        ),
        ("Pew found that twice as many residents favoured the levy as opposed it.", "Pew"),
    ],
)
def test_evidence_and_who_found_it(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker


def test_what_a_video_shows_is_no_statement() -> None:
    assert extract_quotes("The video shows a reporter at the gate of the plant.") == []


@pytest.mark.parametrize(
    ("text", "cue", "content"),
    [
        ("The Lane campaign declined to comment.", "declined", "to comment"),
        (
            "The court refused to reconsider the ruling on the bridge.",
            "refused",
            "to reconsider the ruling on the bridge",
        ),
        (
            "The firm and its founder agreed to a $7 million settlement.",
            "agreed",
            "to a $7 million settlement",
        ),
    ],
)
def test_an_intent_with_its_infinitive(text: str, cue: str, content: str) -> None:
    quote = _only(text)
    assert (quote.cue, quote.text) == (cue, content)


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "“We feel great about every state,” he said, adding that he would not offer predictions.",
            "he",
            "that he would not offer predictions",
        ),
        (
            "“Change is coming,” Mayor Ann Cole said in a statement, noting that the vote was close.",
            "Mayor Ann Cole",
            "that the vote was close",
        ),
    ],
)
def test_a_participle_after_a_quote_is_its_speakers(text: str, speaker: str, content: str) -> None:
    quote, participle = extract_quotes(text)
    assert quote.kind == "direct"
    assert (participle.speaker.mention, participle.text) == (speaker, content)


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        (
            "In the long run, many economists say, the levy could lift wages across the county.",
            ["In the long run", "the levy could lift wages across the county"],
        ),
        (
            "While some clerks could get a warning, she added, firing them would be unusual.",
            ["While some clerks could get a warning", "firing them would be unusual"],
        ),
    ],
)
def test_an_aside_after_an_opening_phrase(text: str, spans: list[str]) -> None:
    quote = _only(text)
    assert [text[s:e] for s, e in quote.spans] == spans


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "Sanders hasn't said whether he has a plan for the summer.",
            "Sanders",
            "whether he has a plan for the summer",
        ),
        (
            "The Charlotte Observer found that one in four residents lived in poor areas.",
            "The Charlotte Observer",
            "that one in four residents lived in poor areas",
        ),
        (
            "Two networks both reported Sunday that the council had obtained a warrant.",
            "Two networks",
            "that the council had obtained a warrant",
        ),
        (
            "He has said from the start that the county will pay for the wall.",
            "He",
            "that the county will pay for the wall",
        ),
    ],
)
def test_negations_named_finders_and_a_late_that(text: str, speaker: str, content: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.text) == (speaker, content)


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        ("Mayor Ann Cole went out of her way in the debate to praise the new bridge plan.", "Mayor Ann Cole"),
        ("Lee hinted at the rift by mentioning the budget vote of last spring.", "Lee"),
    ],
)
def test_a_purpose_clause_keeps_the_clause_subject(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker


@pytest.mark.parametrize(
    "text",
    [
        "“First and foremost,” she told the host, “I would never wish that on anyone.”",
        "“It is unanimous,” he said of the council’s vote, “and it should have been.”",
    ],
)
def test_a_quote_resumed_after_its_attribution_is_one_statement(text: str) -> None:
    quote = _only(text)
    assert quote.kind == "direct"
    assert len(quote.spans) == 2


def test_a_quote_resumed_after_adding_is_a_statement_of_its_own() -> None:
    text = "“They are not with us,” she said, adding, “We are grateful all the same.”"
    first, second = extract_quotes(text)
    assert (first.text, second.text) == ("“They are not with us,”", "“We are grateful all the same.”")


@pytest.mark.parametrize(
    ("text", "poll", "content"),
    [
        (
            "In a new Metro News poll released Monday, Lee leads Cole by eight points.",
            "a new Metro News poll released Monday",
            "Lee leads Cole by eight points",
        ),
        (
            "Lee leads Cole by eight points in the latest county survey.",
            "the latest county survey",
            "Lee leads Cole by eight points",
        ),
    ],
)
def test_what_a_poll_finds_is_attributed_to_the_poll(text: str, poll: str, content: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.text, quote.speaker.type) == (poll, content, "organization")


def test_a_poll_word_elsewhere_is_no_source() -> None:
    assert extract_quotes("He spent years in the poll tax fight before the war.") == []


@pytest.mark.parametrize(
    ("text", "speaker", "content"),
    [
        (
            "On the war there is less consensus: 47% say the county should send help.",
            "47%",
            "the county should send help",
        ),
        (
            "Among likely voters, about two-thirds, 67 percent, say they will vote for Lee.",
            "about two-thirds",
            "they will vote for Lee",
        ),
        (
            "While only 7 percent said they are undecided, most had chosen.",
            "only 7 percent",
            "they are undecided",
        ),
    ],
)
def test_shares_of_those_asked(text: str, speaker: str, content: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.text) == (speaker, content)


def test_a_statement_in_a_subordinate_clause_ends_with_it() -> None:
    quote = _only("While liberals dismissed him as an actor, he won two terms as governor.")
    assert (quote.speaker.mention, quote.cue, quote.text) == ("liberals", "dismissed", "him as an actor")


def test_a_relative_clause_statement_ends_with_the_clause() -> None:
    text = "Lee, who said he would vote for the levy, has argued against every other tax."
    quotes = extract_quotes(text)
    assert quotes[0].text == "he would vote for the levy"


def test_a_coordinated_attribution_ends_the_statement_before_it() -> None:
    text = "Six in 10 voters said the mayor is honest, and three-quarters said the same of her rival."
    first, second = extract_quotes(text)
    assert first.text == "the mayor is honest"
    assert (second.speaker.mention, second.text) == ("three-quarters", "the same of her rival")


@pytest.mark.parametrize(
    ("text", "speaker", "named"),
    [
        ("The union, which endorsed Ana Ruiz in November, is the largest in the state.", "which", "Ana Ruiz"),
        ("Mayor Lisa Park endorsed her in June.", "Mayor Lisa Park", "her"),
    ],
)
def test_an_endorsement_names_whom_it_endorses(text: str, speaker: str, named: str) -> None:
    quote = _only(text)
    assert (quote.speaker.mention, quote.text, quote.cue) == (speaker, named, "endorsed")


def test_an_endorsed_candidate_is_no_statement() -> None:
    assert extract_quotes("The endorsed candidate won the primary by a wide margin.") == []


@pytest.mark.parametrize(
    ("text", "speaker"),
    [
        (
            "At an event in Ames, Iowa, on Sunday, Mrs. Lane spoke to farmers, saying it would cut costs.",
            "Mrs. Lane",
        ),
        (
            "WASHINGTON (AP) – Senator Ann Cole has taken a swipe at her rival, saying he failed workers.",
            "Senator Ann Cole",
        ),
        (
            "The Iraqi prime minister met the council on Monday, saying the talks had gone well.",
            "The Iraqi prime minister",
        ),
    ],
)
def test_a_participle_takes_the_subject_of_its_clause(text: str, speaker: str) -> None:
    quote = _only(text)
    assert quote.speaker.mention == speaker
    assert quote.cue == "saying"


@pytest.mark.parametrize(
    ("text", "cue", "content"),
    [
        (
            "Critics claim that the levy will hurt small farms.",
            "claim",
            "that the levy will hurt small farms",
        ),
        ("She knows that the vote will be close in May.", "knows", "that the vote will be close in May"),
    ],
)
def test_a_weak_cue_before_that_is_a_cue(text: str, cue: str, content: str) -> None:
    quote = _only(text)
    assert (quote.cue, quote.text) == (cue, content)


def test_a_weak_cue_as_a_noun_is_none() -> None:
    assert extract_quotes("The claim that the levy would hurt farms turned out to be false.") == []


def test_the_share_a_poll_reports_is_the_polls_statement() -> None:
    quote = _only("In a new Metro News poll released Monday, 60 percent of voters said they back the levy.")
    assert (quote.speaker.mention, quote.text) == (
        "a new Metro News poll released Monday",
        "they back the levy",
    )
