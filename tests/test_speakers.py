from __future__ import annotations

import pytest

from quotes.schema import Speaker
from quotes.speakers import canonical_speakers
from records import person, quote


def names(speakers: list[Speaker]) -> list[str | None]:
    return [s.name for s in speakers]


def test_kadhimi_cluster_gets_one_name_and_the_title_becomes_the_role() -> None:
    quotes = [
        quote(0, 10, speaker=person("Kadhimi")),
        quote(20, 30, speaker=person("Mustafa al-Kadhimi")),
        quote(40, 50, speaker=person("Iraqi Prime Minister Mustafa al-Kadhimi")),
        quote(60, 70, speaker=person("al-Kadhimi")),
        quote(80, 90, speaker=person(None, "Kadhimi")),
        quote(100, 110, speaker=person(None, "he")),
    ]
    clustered = canonical_speakers(quotes)
    assert names(clustered) == ["Mustafa al-Kadhimi"] * 5 + [None]
    assert clustered[2].role == "Iraqi Prime Minister"
    assert clustered[0].role is None
    assert [q.speaker.name for q in quotes][:2] == ["Kadhimi", "Mustafa al-Kadhimi"]
    assert quotes[2].speaker.role is None
    assert clustered[5] is quotes[5].speaker


def test_two_hassans_stay_apart_and_a_bare_first_name_is_ambiguous() -> None:
    quotes = [
        quote(0, 10, speaker=person("Hassan Rouhani")),
        quote(20, 30, speaker=person("Hassan Nasrallah")),
        quote(40, 50, speaker=person("President Hassan Rouhani")),
        quote(60, 70, speaker=person("Hassan")),
        quote(80, 90, speaker=person("Rouhani")),
    ]
    assert names(canonical_speakers(quotes)) == [
        "Hassan Rouhani",
        "Hassan Nasrallah",
        "Hassan Rouhani",
        "Hassan",
        "Hassan Rouhani",
    ]


def test_titles_and_case_are_ignored_for_matching() -> None:
    quotes = [
        quote(0, 10, speaker=person("Mr. Zarif")),
        quote(20, 30, speaker=person("Iranian Foreign Minister Mohammad Javad Zarif")),
        quote(40, 50, speaker=person("ZARIF")),
    ]
    clustered = canonical_speakers(quotes)
    assert names(clustered) == ["Mohammad Javad Zarif"] * 3
    assert clustered[0].role is None
    assert clustered[1].role == "Iranian Foreign Minister"


def test_mentions_that_are_not_names_are_not_used() -> None:
    quotes = [
        quote(0, 10, speaker=person(None, "the Iraqi prime minister")),
        quote(20, 30, speaker=person(None, "He")),
        quote(40, 50, speaker=person(None, "Supreme Leader Ali Khamenei")),
    ]
    assert names(canonical_speakers(quotes)) == [None, None, "Ali Khamenei"]


def test_organisations_cluster_apart_from_people_and_keep_their_words() -> None:
    org = Speaker(name="Iranian Foreign Ministry", type="organization")
    quotes = [
        quote(0, 10, speaker=org),
        quote(20, 30, speaker=Speaker(name="Foreign Ministry", type="organization")),
        quote(40, 50, speaker=person("Iran")),
    ]
    assert names(canonical_speakers(quotes)) == [
        "Iranian Foreign Ministry",
        "Iranian Foreign Ministry",
        "Iran",
    ]


def test_name_with_only_a_title_word_at_its_end_is_kept_whole() -> None:
    quotes = [quote(0, 10, speaker=person("Martin Luther King Jr.")), quote(20, 30, speaker=person("King"))]
    assert names(canonical_speakers(quotes)) == ["Martin Luther King Jr."] * 2


@pytest.mark.parametrize(
    ("phrase", "name", "role"),
    [
        ("Gov. Chris Christie of New Jersey", "Chris Christie", "Gov."),
        ("Secretary of State John Kerry", "John Kerry", "Secretary of State"),
        ("Murphy, the head of Right to Rise USA", "Murphy", None),
        ("Clinton’s Democratic opponent, Vermont Sen. Bernie Sanders", "Bernie Sanders", "Vermont Sen."),
        ("his father, Brent Bozell, Jr.", "Brent Bozell, Jr.", None),
        ("Donald Trump’s", "Donald Trump", None),
        ("Dr. Harold Varmus, the former NIH director under President Bill Clinton", "Harold Varmus", None),
        ("Chief of Staff John Kelly", "John Kelly", "Chief of Staff"),
        ("Sen. Richard J. Durbin (D-Ill.), the minority whip", "Richard J. Durbin", "Sen."),
        ("Gov. Pat McCrory (R)", "Pat McCrory", "Gov."),
        ("Rep. Michael McCaul (R-TX", "Michael McCaul", "Rep."),
        ("Republican Donald Trump", "Donald Trump", "Republican"),
        ("Fox News’s Ed Henry", "Ed Henry", "Fox News"),
        ("Pastor Kevin Swanson", "Kevin Swanson", "Pastor"),
        ("Rep. Sander M. Levin (D-Mich.), a superdelegate supporting Clinton", "Sander M. Levin", "Rep."),
        ("Amy Pope, deputy homeland security advisor", "Amy Pope", None),
        ("Rep. Steve King", "Steve King", "Rep."),
        ("Congressman Chris Collins", "Chris Collins", "Congressman"),
        ("But Matt Morrison", "Matt Morrison", None),
        ("Al From, who helped found the DLC", "Al From", None),
    ],
)
def test_the_name_in_a_descriptive_phrase_is_its_head_not_a_place_or_person_after_it(
    phrase: str, name: str, role: str | None
) -> None:
    (speaker,) = canonical_speakers([quote(0, 10, speaker=person(phrase))])
    assert (speaker.name, speaker.role) == (name, role)


@pytest.mark.parametrize(
    "phrase",
    [
        "Supporters of Sanders",
        "The influential delegate, who backs Cruz",
        "the Department of Homeland Security",
        "Gwen Ifill and Judy Woodruff",
        "Clinton campaign allies",
        "a former prime minister of Ukraine",
        "A spokeswoman for Cruz",
        "A spokesman for Sen. Ted Cruz",
        "an NBC News/Wall Street Journal poll released Monday",
        "Several candidates, including Sanders,",
        "Judy Woodruff, Gwen Ifill and Bernie Sanders",
    ],
)
def test_a_phrase_that_names_no_one_speaker_keeps_its_words_and_takes_no_other_name(phrase: str) -> None:
    others = [person("Bernie Sanders"), person("Ted Cruz"), person("Judy Woodruff"), person("Clinton")]
    quotes = [quote(0, 10, speaker=person(phrase))] + [
        quote(20 * i, 20 * i + 10, speaker=s) for i, s in enumerate(others, 1)
    ]
    clustered = canonical_speakers(quotes)
    assert clustered[0].name == phrase
    assert names(clustered[1:]) == ["Bernie Sanders", "Ted Cruz", "Judy Woodruff", "Clinton"]


@pytest.mark.parametrize(
    "phrase",
    ["Republican National Committee", "The Democratic Leadership Council", "Media Research Center’s Bozell"],
)
def test_a_party_word_before_a_body_and_a_possessive_before_one_word_are_not_taken_off(phrase: str) -> None:
    (speaker,) = canonical_speakers([quote(0, 10, speaker=person(phrase))])
    assert (speaker.name, speaker.role) == (phrase, None)


def test_a_name_with_its_party_and_state_clusters_with_the_bare_surname() -> None:
    quotes = [
        quote(0, 10, speaker=person("Sen. Ted Cruz (R-Tex.)")),
        quote(20, 30, speaker=person("Cruz")),
        quote(40, 50, speaker=person(None, "Cruz")),
    ]
    assert names(canonical_speakers(quotes)) == ["Ted Cruz"] * 3


def test_the_group_backing_a_candidate_is_not_named_for_the_candidate() -> None:
    backers, candidate = canonical_speakers(
        [
            quote(0, 10, speaker=person("the super PAC backing Hillary Clinton")),
            quote(20, 30, speaker=person("Clinton")),
        ]
    )
    assert (backers.name, candidate.name) == ("PAC", "Clinton")


@pytest.mark.parametrize(
    ("phrase", "name", "role"),
    [
        ("the Associated Press", "Associated Press", None),
        ("some Democrats", "some Democrats", None),
        ("retired neurosurgeon Ben Carson", "Ben Carson", "retired neurosurgeon"),
        ("The conservative writer David Frum", "David Frum", "conservative writer"),
        ("76-year-old Morton Blackwell", "Morton Blackwell", None),
        ("The State Department", "The State Department", None),
        ("the Supreme Court", "Supreme Court", None),
        ("Mayor De Blasio", "De Blasio", "Mayor"),
    ],
)
def test_a_role_is_what_the_words_before_a_name_say_the_speaker_is(
    phrase: str, name: str, role: str | None
) -> None:
    (speaker,) = canonical_speakers([quote(0, 10, speaker=person(phrase))])
    assert (speaker.name, speaker.role) == (name, role)
