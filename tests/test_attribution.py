"""Records pinned to planted statements: exact spans, fragments, cue and mention offsets."""

from __future__ import annotations

from quotes.attribution import ground_records
from quotes.chunking import Chunk
from quotes.grounding import SourceText
from quotes.schema import AnswerQuote, Kind, Quote


def record(quote: str, mention: str | None, cue: str | None, kind: Kind = "indirect") -> AnswerQuote:
    return AnswerQuote(
        quote=quote,
        speaker=mention,
        speaker_mention=mention,
        speaker_type="person",
        kind=kind,
        cue=cue,
        about=[],
    )


def ground(text: str, *records: AnswerQuote) -> list[Quote]:
    warnings: list[str] = []
    quotes = ground_records(SourceText(text), Chunk(0, 0, len(text), text), list(records), warnings)
    assert warnings == []
    return quotes


def pieces(text: str, quote: Quote) -> list[str]:
    return [text[a:b] for a, b in quote.fragments()]


def mention(text: str, quote: Quote) -> tuple[str, int] | None:
    speaker = quote.speaker
    if speaker.start is None or speaker.end is None:
        return None
    return text[speaker.start : speaker.end], speaker.start


def test_attribution_inside_a_relative_clause_is_found_there_and_cut_out() -> None:
    text = "He praised Ohio. He touted his record in Ohio, which he describes as his real home."
    (quote,) = ground(text, record("which he describes as his real home", "he", "describes"))
    assert quote.text == "which he describes as his real home"
    assert mention(text, quote) == ("he", text.index("he describes"))
    assert (quote.cue_start, quote.cue_end) == (text.index("describes"), text.index(" as his"))
    assert pieces(text, quote) == ["which", "as his real home"]


def test_attribution_set_off_by_commas_or_dashes_leaves_no_punctuation_in_the_fragments() -> None:
    for text in (
        "Lopez spoke. The plan, Lopez said, will fail.",
        "Lopez spoke. The plan — Lopez said — will fail.",
    ):
        statement = text[text.index("The plan") : text.index("fail") + 4]
        (quote,) = ground(text, record(statement, "Lopez", "said"))
        assert mention(text, quote) == ("Lopez", text.rindex("Lopez"))
        assert pieces(text, quote) == ["The plan", "will fail"]


def test_cue_before_the_mention_and_words_between_them_count() -> None:
    text = "Intro. The bill was attacked by several of his rivals as too costly."
    (quote,) = ground(
        text,
        record(
            "The bill was attacked by several of his rivals as too costly",
            "several of his rivals",
            "attacked",
        ),
    )
    assert mention(text, quote) == ("several of his rivals", text.index("several"))
    assert pieces(text, quote) == ["The bill was", "as too costly"]


def test_mixed_statement_keeps_its_quoted_and_unquoted_words_around_the_attribution() -> None:
    text = 'Firms are part of communities, she said: "Part of the contract is paying forward."'
    (quote,) = ground(text, record(text, "she", "said", kind="mixed"))
    assert mention(text, quote) == ("she", text.index("she"))
    assert pieces(text, quote) == [
        "Firms are part of communities",
        '"Part of the contract is paying forward."',
    ]


def test_words_inside_quotation_marks_are_never_the_attribution() -> None:
    text = "“I said no,” she said. “Then he said yes.”"
    (quote,) = ground(text, record(text, "he", "said", kind="direct"))
    assert quote.speaker.start is None or not 0 < quote.speaker.start < text.index("”")
    (quote,) = ground(text, record(text, "she", "said", kind="direct"))
    assert mention(text, quote) == ("she", text.index("she"))
    assert pieces(text, quote) == ["“I said no,”", "“Then he said yes.”"]


def test_a_direct_quote_in_one_piece_keeps_its_words_whatever_they_say() -> None:
    text = "Earlier, Ali spoke. “Ali said it first,” Omar said."
    (quote,) = ground(text, record("“Ali said it first,”", "Omar", "said", kind="direct"))
    assert quote.spans == [(quote.start, quote.end)]
    assert mention(text, quote) == ("Omar", text.index("Omar"))
    assert quote.cue_start == text.rindex("said")


def test_the_attribution_in_the_statements_own_paragraph_wins_over_a_nearer_one_across_a_break() -> None:
    text = '"We lost ground," Law said.\n\nAfter the victories, "there is urgency," Law said, noting more.'
    statement = 'After the victories, "there is urgency,"'
    (quote,) = ground(text, record(statement, "Law", "said", kind="mixed"))
    assert mention(text, quote) == ("Law", text.rindex("Law"))
    assert quote.cue_start == text.rindex("said")


def test_the_subject_of_the_cue_in_the_same_sentence_wins_over_a_nearer_pronoun_in_the_next() -> None:
    text = (
        "Mr. Trump met donors in Calif. and posted on Twitter that taxes would rise. Mr. Trump will gain.\n"
    )
    (quote,) = ground(text, record("that taxes would rise", "Mr. Trump", "posted on Twitter"))
    assert mention(text, quote) == ("Mr. Trump", 0)


def test_statements_are_placed_in_text_order_even_where_the_article_spaces_them_differently() -> None:
    text = "Voters who backed Donald\xa0Trump spoke. Later, “Donald Trump will lose,” Graham said."
    first, second = ground(
        text,
        record("Donald Trump", "Voters", "backed"),
        record("“Donald Trump will lose,”", "Graham", "said", kind="direct"),
    )
    assert (first.start, first.grounding) == (text.index("Donald"), "normalized")
    assert second.start == text.index("“")
    case = "He defended his plan. His aide agreed."
    (his,) = ground(case, record("His", None, None))
    assert (his.start, his.grounding) == (case.index("His"), "exact")


def test_a_short_statement_repeated_in_the_chunk_is_taken_where_its_cue_stands() -> None:
    text = "“Those days are over,” Marsh said. Hale was in town. Later Marsh attacked Hale again."
    said, attacked = ground(
        text,
        record("“Those days are over,”", "Marsh", "said", kind="direct"),
        record("Hale", "Marsh", "attacked"),
    )
    assert said.start == 0
    assert (attacked.start, attacked.cue_start) == (text.rindex("Hale"), text.index("attacked"))
    assert mention(text, attacked) == ("Marsh", text.rindex("Marsh"))


def test_a_sentence_that_ends_right_before_the_cue_still_ends_there() -> None:
    text = "Polls show Sanders near Clinton. In response to the pressure, Clinton has returned to attack."
    (quote,) = ground(text, record("the pressure", "Clinton", "In response to"))
    assert quote.cue_start == text.index("In response")
    assert mention(text, quote) == ("Clinton", text.rindex("Clinton"))


def test_a_cue_inside_an_unquoted_statement_is_cut_out_with_the_aside_before_it() -> None:
    text = (
        "Sales fell. Mr. Dorn, who began his career in retail lending, was seen as more devoted to branches."
    )
    statement = text[text.index("Mr.") : text.index("branches") + 8]
    (quote,) = ground(text, record(statement, None, "was seen as"))
    assert (quote.start, quote.end) == (text.index("Mr."), text.index("branches") + 8)
    assert (quote.cue_start, quote.cue_end) == (text.index("was seen"), text.index(" more"))
    assert pieces(text, quote) == ["Mr. Dorn", "more devoted to branches"]
    plain = "To the board, it must have looked like a wise move."
    (quote,) = ground(
        plain, record("it must have looked like a wise move", "the board", "must have looked like")
    )
    assert pieces(plain, quote) == ["it", "a wise move"]
    assert mention(plain, quote) == ("the board", plain.index("the board"))


def test_a_mention_inside_the_statement_after_its_cue_is_found_there_and_cut_out() -> None:
    text = "In 2014, Varga was sentenced to three years of probation by a county judge for selling secrets."
    statement = text[text.index("Varga") : text.index("secrets") + 7]
    (quote,) = ground(text, record(statement, "a county judge", "was sentenced"))
    assert mention(text, quote) == ("a county judge", text.index("a county"))
    assert pieces(text, quote) == ["Varga", "to three years of probation by", "for selling secrets"]


def test_a_title_or_a_nickname_in_quotation_marks_inside_the_attribution_is_not_the_speakers_words() -> None:
    text = "Intro. “It’s nonsense,” he said on “Morning Forum.” “She lies.” Later he left."
    statement = text[text.index("“It") : text.index("lies.”") + 6]
    (quote,) = ground(text, record(statement, "he", "said on “Morning Forum.”", kind="direct"))
    assert (quote.cue_start, quote.cue_end) == (text.index("said on"), text.index(" “She"))
    assert mention(text, quote) == ("he", text.index("he said"))
    assert pieces(text, quote) == ["“It’s nonsense,”", "“She lies.”"]
    nick = 'Intro. "We win!" Del. Marcia "Cia" Price shouted. "Watch us." Then she sat.'
    statement = nick[nick.index('"We') : nick.index('us."') + 4]
    (quote,) = ground(nick, record(statement, 'Del. Marcia "Cia" Price', "shouted", kind="direct"))
    assert mention(nick, quote) == ('Del. Marcia "Cia" Price', nick.index("Del."))
    assert pieces(nick, quote) == ['"We win!"', '"Watch us."']


def test_a_pronoun_mention_is_the_subject_of_its_cue_not_one_in_a_clause_it_reports() -> None:
    text = "Intro. She said she had met him twice but said neither man played a role."
    (quote,) = ground(text, record("neither man played a role", "she", "said"))
    assert quote.cue_start == text.rindex("said")
    assert mention(text, quote) == ("She", text.index("She"))
    relative = "Intro. Young Latinos, who registered to oppose Trump and who like Sanders, matter."
    (quote,) = ground(relative, record("Trump", "who", "to oppose"))
    assert mention(relative, quote) == ("who", relative.index("who"))
    inverted = "Intro. “We will win,” said he, and she nodded."
    (quote,) = ground(inverted, record("“We will win,”", "he", "said", kind="direct"))
    assert mention(inverted, quote) == ("he", inverted.index("he,"))
    beside = "Intro. She said that he would win the state, he added."
    (quote,) = ground(beside, record("he would win the state", "he", "added"))
    assert mention(beside, quote) == ("he", beside.rindex("he added"))


def test_a_short_statement_is_never_taken_inside_a_word_beside_a_later_cue() -> None:
    text = (
        "Intro. While he has drawn big crowds to town halls across the whole state for many months now, "
        "Smith won the endorsement of the paper."
    )
    (quote,) = ground(text, record("he", "Smith", "won the endorsement"))
    assert (quote.start, quote.end) == (text.index("he has"), text.index("he has") + 2)


def test_an_attribution_right_before_the_statement_wins_over_a_copy_inside_it() -> None:
    text = (
        "Intro. Marsh said last month that he will file a bill after attacking a plan that Marsh said "
        'would make "a bad deal worse." Then he left.'
    )
    statement = text[text.index("that he") : text.index('worse."') + 7]
    (quote,) = ground(text, record(statement, "Marsh", "said", kind="mixed"))
    assert (quote.cue_start, mention(text, quote)) == (text.index("said"), ("Marsh", text.index("Marsh")))
    assert quote.spans == [(quote.start, quote.end)]


def test_the_cue_of_the_direct_quote_before_is_not_taken_again() -> None:
    text = "Intro. “I’d win that,” Hale said. “I would like him to try it,” Hale said.\n\nHale left."
    first, second = ground(
        text,
        record("“I’d win that,”", "Hale", "said", kind="direct"),
        record("“I would like him to try it,”", "Hale", "said", kind="direct"),
    )
    assert (first.cue_start, mention(text, first)) == (text.index("said"), ("Hale", text.index("Hale")))
    second_said = text.index("said", text.index("like"))
    assert second.cue_start == second_said
    assert mention(text, second) == ("Hale", text.rindex("Hale", 0, second_said))


def test_a_mention_inside_the_statement_before_is_passed_over_for_one_outside() -> None:
    text = (
        "Intro. Trump, who questioned whether the judge was biased against Trump, "
        "said Friday that the judge was unfair."
    )
    _, second = ground(
        text,
        record("whether the judge was biased against Trump", "who", "questioned"),
        record("that the judge was unfair", "Trump", "said"),
    )
    assert mention(text, second) == ("Trump", text.index("Trump"))


def test_a_short_statement_beside_a_later_cue_is_taken_in_the_cues_own_sentence() -> None:
    text = (
        "Intro. Marsh won. Then 45 percent chose Marsh.\n\n"
        "Among Democrats, 61 percent would back Marsh for mayor."
    )
    (quote,) = ground(text, record("Marsh", "61 percent", "would back"))
    assert quote.start == text.rindex("Marsh")
    assert quote.cue_start == text.index("would back")


def test_an_attribution_nested_in_a_reported_statement_is_cut_from_its_words() -> None:
    text = (
        "Intro. Voters may now ask whether rivals like Mr. Dunn, who claimed that Peru was "
        "in Asia, are wise choices."
    )
    outer = text[text.index("whether") : text.index("choices") + 7]
    asked, claimed = ground(
        text,
        record(outer, "Voters", "may now ask"),
        record("that Peru was in Asia", "who", "claimed"),
    )
    assert pieces(text, asked) == ["whether rivals like Mr. Dunn", "are wise choices"]
    assert mention(text, claimed) == ("who", text.index("who"))
    assert claimed.spans == [(claimed.start, claimed.end)]


def test_an_attribution_nested_in_quoted_words_stays_in_them() -> None:
    text = 'Intro. Trump said the deal is "a mess that Obama claimed would work," and left.'
    outer = text[text.index("the deal") : text.index('work,"') + 6]
    said, _ = ground(
        text,
        record(outer, "Trump", "said", kind="mixed"),
        record("would work", "Obama", "claimed"),
    )
    assert (said.start, said.end) == (text.index("the deal"), text.index('work,"') + 6)
    assert said.spans == [(said.start, said.end)]


def test_a_short_statement_nested_in_a_placed_statement_is_taken_beside_its_cue_there() -> None:
    text = (
        "Intro. Voss ran again. The committee, which supported Voss, spent $2 million, "
        "according to the Civic Center."
    )
    outer = text[text.index("The committee") : text.index("million") + 7]
    spent, supported = ground(
        text,
        record(outer, "the Civic Center", "according to"),
        record("Voss", "which", "supported"),
    )
    assert (supported.start, supported.end) == (text.rindex("Voss"), text.rindex("Voss") + 4)
    assert mention(text, supported) == ("which", text.index("which"))
    assert (spent.start, spent.end) == (text.index("The committee"), text.index("million") + 7)


def test_a_short_statement_is_the_copy_next_to_its_cue_in_the_sentence() -> None:
    text = (
        "Intro. The deal makes permanent some tax breaks — some (favored by Republicans) for firms and "
        "some (favored by Democrats) for the poor."
    )
    republicans, democrats = ground(
        text,
        record("some", "Republicans", "favored by"),
        record("some", "Democrats", "favored by"),
    )
    assert republicans.start == text.index("some (")
    assert mention(text, republicans) == ("Republicans", text.index("Republicans"))
    assert democrats.start == text.rindex("some")
    assert mention(text, democrats) == ("Democrats", text.index("Democrats"))


def test_a_long_mention_beside_its_cue_is_found_whole() -> None:
    text = (
        "Intro. 79-year-old Walt Becker, a lifelong Democrat who voted for Carter and Tom Hale, said that "
        'given the field "there is only one: Marsh." Later he left.'
    )
    who = "79-year-old Walt Becker, a lifelong Democrat who voted for Carter and Tom Hale,"
    statement = text[text.index("that given") : text.index('Marsh."') + 7]
    (quote,) = ground(text, record(statement, who, "said", kind="mixed"))
    assert mention(text, quote) == (who.removesuffix(","), text.index("79"))
    assert quote.cue_start == text.index("said")


def test_a_pronoun_opening_a_relative_clause_is_not_the_subject_of_the_cue() -> None:
    text = "Intro. He turned against the tax - which he once backed - and has embraced the plan."
    (quote,) = ground(text, record("the plan", "he", "has embraced"))
    assert mention(text, quote) == ("He", text.index("He"))


def test_a_mention_in_the_statement_before_stays_when_the_other_copy_is_in_another_sentence() -> None:
    text = 'Intro. And the pact, which Hale had called a "failure" and vowed to "tear up"? This Hale spoke.'
    called, promised = ground(
        text,
        record('which Hale had called a "failure"', "Hale", "had called", kind="mixed"),
        record('"tear up"', "Hale", "vowed to", kind="direct"),
    )
    assert mention(text, called) == ("Hale", text.index("Hale"))
    assert mention(text, promised) == ("Hale", text.index("Hale"))


def test_a_reported_statement_ending_its_sentence_takes_the_cue_before_it() -> None:
    text = (
        'Intro. In 2011, Marsh said during a visit to Lima that the deal "sets the high bar." '
        "Last year, Marsh said no."
    )
    statement = text[text.index("that the deal") : text.index('bar."') + 5]
    (quote,) = ground(text, record(statement, "Marsh", "said", kind="mixed"))
    assert quote.cue_start == text.index("said")
    assert mention(text, quote) == ("Marsh", text.index("Marsh"))
    direct = 'Intro. Later: "We won." Hale said. Then he left.'
    (won,) = ground(direct, record('"We won."', "Hale", "said", kind="direct"))
    assert won.cue_start == direct.index("said")


def test_a_quotation_nested_in_a_reported_statement_is_cut_like_any_attribution() -> None:
    text = 'Intro. Aides said the plan, which Lopez called "a disaster," will pass.'
    outer = text[text.index("the plan") : text.index("pass") + 4]
    said, _ = ground(
        text,
        record(outer, "Aides", "said"),
        record('"a disaster,"', "Lopez", "called", kind="direct"),
    )
    assert pieces(text, said) == ["the plan, which", "will pass"]


def test_a_mention_and_a_cue_end_at_their_last_word_whatever_punctuation_the_model_keeps() -> None:
    text = "Holt, Ohio’s current governor, added: “We will win.” Smith Jr. agreed."
    first = record("We will win.", "Holt, Ohio’s current governor, ", "added:", kind="direct")
    (quote,) = ground(text, first)
    assert mention(text, quote) == ("Holt, Ohio’s current governor", 0)
    assert quote.speaker.mention == "Holt, Ohio’s current governor"
    assert (quote.cue, quote.cue_start, quote.cue_end) == ("added", text.index("added"), text.index(":"))
    assert record("x", "Smith Jr.", "said;").speaker_mention == "Smith Jr.", "a full stop is the name's"
    headline = "Holt: We are going all the way"
    (quote,) = ground(headline, record("We are going all the way", "Holt", " :", kind="direct"))
    assert (quote.cue, quote.cue_start, quote.cue_end) == (":", 4, 5), "a cue that is only a colon stays"
