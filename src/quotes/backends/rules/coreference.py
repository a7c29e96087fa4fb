"""Coreference: the people an article names, and which of them a pronoun, title or surname means."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from quotes.backends.rules.lexicon import (
    AFTER_WORD_START,
    COUNTRIES,
    COUNTRY_BY_DEMONYM,
    COUNTRY_RE,
    CUE_WORDS,
    DETERMINERS,
    GROUP_HEADS,
    HONORIFICS,
    NON_SPEAKER_CAPS,
    ORG_WORDS,
    PLACE_WORDS,
    PRONOUNS,
)
from quotes.backends.rules.roles import apposition_role, is_role, role_before, split_role
from quotes.backends.rules.scanning import Span, trim_end
from quotes.backends.rules.speakers import Mention, np_before
from quotes.schema import Entity

_ABBREVIATED_TITLE = r"(?:Mrs|Mr|Ms|Dr|Gov|Sens?|Reps?|Gen|Lt|Col|Sgt|Capt|Rev|Prof|Jr|Sr)\."
_NAME_RE = re.compile(
    rf"(?=[A-Z])\b(?:{_ABBREVIATED_TITLE}|[A-Z][\w’'-]+|[A-Z]\.)(?:[ \t]+|\n(?=\S))"
    r"(?:(?:[ \t]*(?:al-|bin\s+|ibn\s+|de\s+|van\s+|von\s+|al\s+)?"
    rf"(?:{_ABBREVIATED_TITLE}|[A-Z][\w’'-]+)|[A-Z]\.)(?:[ \t]+|\n(?=\S)|(?=\W)))*(?<=\w|\.)"
)

_CAPITALISED_RE = re.compile(r"(?=[A-Z])\b[A-Z][\w’'-]+")


@dataclass
class _Person:
    name: str
    role: str | None
    keys: set[str] = field(default_factory=set)


_ARTICLE_PREFIX_RE = re.compile(r"^(?:al-|Al-|el-)")

_INITIAL_RE = re.compile(r"[A-Z]\.")


@lru_cache(maxsize=1 << 16)
def _surname(word: str) -> str:
    return _ARTICLE_PREFIX_RE.sub("", word).rstrip(".’'s").lower()


# A capitalised word, and the lowercase verb after it that makes it a person's name when it is the only
# one: "Marcus walked in", "Sarah replied"
_SINGLE_NAME_RE = re.compile(
    r"([A-Z]" + AFTER_WORD_START + r"[a-z][\w’'-]*)[ \t]+(?:[a-z]+ed|says|said|told|asked|went|came)\b"
)
# the owner of a reporting noun ("his claim that …") may be a possessive pronoun
_POSSESSIVES = frozenset(["his", "her", "their", "its"])
_ROLE_HEAD_RE = re.compile(r"\s+(?:of|for|at|to|in|with|from)\s+")
_ACRONYM_RE = re.compile(r"[A-Z]" + AFTER_WORD_START + r"[A-Z]{1,4}\b")
_NOT_ACRONYMS = frozenset(["AM", "PM", "TV", "OK", "ID", "AP", "II", "III", "IV"])
# he/him/his/she/her outside quotation marks refer to someone else; "his country" to the speaker's. The
# lookahead on the first letters halves the scan: re would try every branch at every word start.
_THIRD_PERSON_RE = re.compile(
    r"\b(?=[hiotms])(?:(?:his|her|their|its|our|my)\s+(country|nation)|he|him|his|she|her)\b", re.IGNORECASE
)


def _whole_word(text: str, start: int, end: int) -> bool:
    return not (start and (text[start - 1].isalnum() or text[start - 1] == "-")) and not (
        end < len(text) and (text[end].isalnum() or text[end] == "-")
    )


def _name_words(name: str) -> list[str]:
    """A capitalised run's words, from its first that may start a name to before its first cue word
    (a headline's "Mayor Says …")."""
    words = name.split()
    while words and words[0].lower() in NON_SPEAKER_CAPS:
        words = words[1:]
    for k, word in enumerate(words):
        if word.lower() in CUE_WORDS:
            return words[:k]
    return words


def _could_be_a_person(name: Sequence[str]) -> bool:
    """Whether no word of `name` makes it an organisation's, a place's, a group's or a country's."""
    full = " ".join(name)
    return not (
        full in COUNTRIES
        or full.rstrip("s") in COUNTRY_BY_DEMONYM
        or any(w.lower() in ORG_WORDS for w in name)
        or name[-1].lower() in PLACE_WORDS
        or name[-1].lower() in GROUP_HEADS
    )


def _role_country(role: str | None) -> str | None:
    for word in (role or "").split():
        if (country := COUNTRY_BY_DEMONYM.get(word)) is not None:
            return country
    return None


class Entities:
    """The people, organisations and countries an article names, for canonical names, roles and `about`.

    People are the capitalised names of two words or more that no organisation, place or country word
    marks as something else, and single names the article uses as a person's ("Marcus walked in",
    "Sarah replied"); every later mention of a known person (full name or surname) is a place where a
    pronoun may point back to them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.people: list[tuple[int, _Person]] = []
        self.by_key: dict[str, _Person] = {}
        self.by_role: dict[str, _Person] = {}
        # every place the article names or refers to someone: (start, name or "" for "his country", whether
        # a pronoun refers there)
        self.mentions: list[tuple[int, str, bool]] = []
        for match in _NAME_RE.finditer(text):
            words = _name_words(match.group())
            role, name = split_role(words)
            name = [w.rstrip(".") if not _INITIAL_RE.fullmatch(w) else w for w in name]
            if len(name) >= 2 and any(w.lower() in ORG_WORDS for w in name[1:]):
                self.mentions.append((match.start(), " ".join(name), False))
            if len(name) < 2 or not _could_be_a_person(name):
                continue
            if name[-1].endswith(("’s", "'s")):
                name[-1] = name[-1][:-2]
            full = " ".join(name)
            person = self.by_key.get(full.lower())
            if person is None:
                person = _Person(full, None, {full.lower()})
                self.by_key.setdefault(full.lower(), person)
                self.by_key.setdefault(_surname(name[-1]), person)
            if role and is_role(role):
                person.role = person.role or " ".join(role)
                self.by_role[" ".join(role).lower()] = person
                self.by_role[" ".join(role[-2:]).lower()] = person
                self.by_role[role[-1].lower()] = person
            if person.role is None and (
                described := apposition_role(text, match.end()) or role_before(text, match.start())
            ):
                person.role = described
                self._index_role(described, person)
            self.people.append((match.start(), person))
        self._single_names(text)
        self.mentions += [(start, person.name, False) for start, person in self.people]
        self._countries(text)
        self.mentions.sort()
        self.people_starts = [start for start, _ in self.people]

    def _index_role(self, role: str, person: _Person) -> None:
        """ "Eve Smith, a retired surgeon": "the retired surgeon" and "the surgeon" are Eve Smith."""
        head = _ROLE_HEAD_RE.split(role, maxsplit=1)[0].lower().split()
        for key in (" ".join(head), " ".join(head[-2:]), head[-1] if head else ""):
            if key:
                self.by_role.setdefault(key, person)

    def _single_names(self, text: str) -> None:
        """Surnames of known people, and one-word names acting as a person's, as places pronouns see."""
        seen = {start for start, _ in self.people}
        for surname in {_ARTICLE_PREFIX_RE.sub("", person.name.split()[-1]) for _, person in self.people}:
            person = self.by_key.get(_surname(surname))
            at = text.find(surname)
            while at >= 0 and person is not None:
                end = at + len(surname)
                if at not in seen and _whole_word(text, at, end):
                    self.people.append((at, person))
                at = text.find(surname, end)
        for match in _SINGLE_NAME_RE.finditer(text):
            word = match.group(1)
            key = _surname(word)
            if key in self.by_key or word.lower() in NON_SPEAKER_CAPS or word.lower() in PRONOUNS:
                continue
            if word in COUNTRIES or not _could_be_a_person([word]):
                continue
            person = _Person(word, None, {key})
            self.by_key[key] = person
            at = text.find(word)
            while at >= 0:
                if _whole_word(text, at, at + len(word)):
                    self.people.append((at, person))
                at = text.find(word, at + len(word))
        self.people.sort(key=itemgetter(0))

    def _countries(self, text: str) -> None:
        for match in COUNTRY_RE.finditer(text):
            word = match.group()
            country = COUNTRIES.get(word) or COUNTRY_BY_DEMONYM.get(word) or COUNTRY_BY_DEMONYM[word[:-1]]
            self.mentions.append((match.start(), country, False))
        self.mentions.extend(
            (match.start(), match.group(), False)
            for match in _ACRONYM_RE.finditer(text)
            if match.group() not in COUNTRIES and match.group() not in _NOT_ACRONYMS
        )

    def role_of(self, name: str | None) -> str | None:
        """The role the article gives the person called `name` anywhere, if any."""
        person = self.by_key.get(name.lower()) if name else None
        return person.role if person is not None else None

    def resolve(self, mention: Mention, text_before: int) -> str | None:
        words = mention.text.split()
        if mention.type == "group":
            return mention.text
        if len(words) == 1 and (words[0].lower() in PRONOUNS or words[0].lower() in _POSSESSIVES):
            if words[0].lower() not in ("he", "she", "who", "his", "her"):
                return None
            return self.person_before(text_before)
        clean = [w for w in words if w.lower() not in HONORIFICS]
        if clean and clean[0].lower() in DETERMINERS:
            key = " ".join(clean[1:]).lower()
            for k in (key, " ".join(key.split()[-2:]), key.split()[-1] if key else ""):
                if k in self.by_role:
                    return self.by_role[k].name
            return mention.text
        _, name = split_role(clean)
        if name and name[0][:1].islower():
            # "retired surgeon Eve Smith": the description is the role, the name is what follows it
            name = [w for w in name if not w[:1].islower()] or name
        if name:
            full = " ".join(name).rstrip(".")
            found = self.by_key.get(full.lower()) or self.by_key.get(_surname(name[-1]))
            if found is not None and (len(name) == 1 or found.name.lower() == full.lower()):
                return found.name
            return full
        return mention.text

    def person_before(self, position: int) -> str | None:
        """The person mentioned last before `position`: who "he" or "she" there most likely is."""
        before = bisect_left(self.people_starts, position)
        return self.people[before - 1][1].name if before else None

    def about(self, fragments: Sequence[Span], speaker: str | None, speaker_role: str | None) -> list[Entity]:
        """Who the statement in `fragments` is about, as README and extract@v2 define `about`: the people,
        organisations and countries its own words name or refer to, each once, by full name, in the
        order it first mentions them; a pronoun that means the speaker does not list them."""
        names: list[str] = []
        for s, e in fragments:
            found = self.mentions[bisect_left(self.mentions, (s,)) : bisect_left(self.mentions, (e,))]
            for match in _THIRD_PERSON_RE.finditer(self.text, s, e):
                # "his country" is the speaker's, whoever speaks; a pronoun is the person last mentioned
                someone = "" if match.group(1) else self.person_before(match.start())
                if someone is not None:
                    found.append((match.start(), someone, True))
            for _, name, pronoun in sorted(found):
                if not name:
                    # "his country": the speaker's own country, as their role's demonym tells it
                    own = _role_country(speaker_role)
                    names.extend([own] if own else [])
                elif not (pronoun and name == speaker):
                    names.append(name)
        return [Entity(name=name) for name in dict.fromkeys(names)]


def who_antecedents(text: str, mentions: Iterable[Mention | None]) -> dict[int, str]:
    """ "X, who said …": the relative pronoun's antecedent is the noun phrase just before its comma."""
    out: dict[int, str] = {}
    for mention in mentions:
        if mention is None or mention.text.lower() != "who":
            continue
        comma = trim_end(text, 0, mention.start)
        antecedent = np_before(text, max(0, comma - 120), max(0, comma - 1))
        if antecedent is not None:
            out[mention.start] = antecedent.text
    return out
