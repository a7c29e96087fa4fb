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
        ("Gov. Ann Holt of New Jersey", "Ann Holt", "Gov."),
        ("Secretary of State Paul Dorsey", "Paul Dorsey", "Secretary of State"),
        ("Murphy, the head of Forward Ohio PAC", "Murphy", None),
        ("Hale’s Democratic opponent, Vermont Sen. Lena Marsh", "Lena Marsh", "Vermont Sen."),
        ("his father, Carl Weston, Jr.", "Carl Weston, Jr.", None),
        ("Ivo Grant’s", "Ivo Grant", None),
        ("Dr. Rita Vance, the former NIH director under President Sam Hale", "Rita Vance", None),
        ("Chief of Staff Dana Whitfield", "Dana Whitfield", "Chief of Staff"),
        ("Sen. Harold P. Grant (D-Ill.), the minority whip", "Harold P. Grant", "Sen."),
        ("Gov. Tess Morrow (R)", "Tess Morrow", "Gov."),
        ("Rep. Owen Marsh (R-TX", "Owen Marsh", "Rep."),
        ("Republican Lena Ortiz", "Lena Ortiz", "Republican"),
        ("Metro News’s Sam Reyes", "Sam Reyes", "Metro News"),
        ("Pastor Ruth Bell", "Ruth Bell", "Pastor"),
        ("Rep. Carl T. Moss (D-Mich.), a delegate supporting Nolan", "Carl T. Moss", "Rep."),
        ("Ella Pope, a deputy security adviser", "Ella Pope", None),
        ("Rep. Tom King", "Tom King", "Rep."),
        ("Congressman Ray Dunn", "Ray Dunn", "Congressman"),
        ("But Nina Marsh", "Nina Marsh", None),
        ("Ida From, who founded the council", "Ida From", None),
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
        "Supporters of Marsh",
        "The influential delegate, who backs Hale",
        "the Department of Homeland Security",
        "Ana Ruiz and Rosa Quill",
        "Nolan campaign allies",
        "a former prime minister of Estonia",
        "A spokeswoman for Hale",
        "A spokesman for Sen. Joe Hale",
        "a Daily Ledger poll released Monday",
        "Several candidates, including Marsh,",
        "Rosa Quill, Ana Ruiz and Lena Marsh",
    ],
)
def test_a_phrase_that_names_no_one_speaker_keeps_its_words_and_takes_no_other_name(phrase: str) -> None:
    others = [person("Lena Marsh"), person("Joe Hale"), person("Rosa Quill"), person("Nolan")]
    quotes = [quote(0, 10, speaker=person(phrase))] + [
        quote(20 * i, 20 * i + 10, speaker=s) for i, s in enumerate(others, 1)
    ]
    clustered = canonical_speakers(quotes)
    assert clustered[0].name == phrase
    assert names(clustered[1:]) == ["Lena Marsh", "Joe Hale", "Rosa Quill", "Nolan"]


@pytest.mark.parametrize(
    "phrase",
    ["Republican National Committee", "The Democratic Leadership Council", "Civic Data Center’s Pell"],
)
def test_a_party_word_before_a_body_and_a_possessive_before_one_word_are_not_taken_off(phrase: str) -> None:
    (speaker,) = canonical_speakers([quote(0, 10, speaker=person(phrase))])
    assert (speaker.name, speaker.role) == (phrase, None)


def test_a_name_with_its_party_and_state_clusters_with_the_bare_surname() -> None:
    quotes = [
        quote(0, 10, speaker=person("Sen. Joe Hale (R-Tex.)")),
        quote(20, 30, speaker=person("Hale")),
        quote(40, 50, speaker=person(None, "Hale")),
    ]
    assert names(canonical_speakers(quotes)) == ["Joe Hale"] * 3


def test_the_group_backing_a_candidate_is_not_named_for_the_candidate() -> None:
    backers, candidate = canonical_speakers(
        [
            quote(0, 10, speaker=person("the super PAC backing Mara Quinn")),
            quote(20, 30, speaker=person("Quinn")),
        ]
    )
    assert (backers.name, candidate.name) == ("PAC", "Quinn")


@pytest.mark.parametrize(
    ("phrase", "name", "role"),
    [
        ("the Associated Press", "Associated Press", None),
        ("some Democrats", "some Democrats", None),
        ("retired surgeon Paul Rhee", "Paul Rhee", "retired surgeon"),
        ("The conservative writer Ivo Grant", "Ivo Grant", "conservative writer"),
        ("76-year-old Ada Brook", "Ada Brook", None),
        ("The State Department", "The State Department", None),
        ("the Supreme Court", "Supreme Court", None),
        ("Mayor De Luca", "De Luca", "Mayor"),
    ],
)
def test_a_role_is_what_the_words_before_a_name_say_the_speaker_is(
    phrase: str, name: str, role: str | None
) -> None:
    (speaker,) = canonical_speakers([quote(0, 10, speaker=person(phrase))])
    assert (speaker.name, speaker.role) == (name, role)
