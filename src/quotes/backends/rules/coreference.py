"""Coreference: the people an article names, and which of them a pronoun, title or surname means."""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from quotes.backends.rules.lexicon import DETERMINERS, HONORIFICS, NON_SPEAKER_CAPS, ORG_WORDS, PRONOUNS
from quotes.backends.rules.roles import split_role
from quotes.backends.rules.scanning import Span, trim_end
from quotes.backends.rules.speakers import Mention, np_before
from quotes.schema import Entity

_NAME_RE = re.compile(
    r"(?=[A-Z])\b(?:[A-Z][\w’'-]+|[A-Z]\.)(?:[ \t]+|\n(?=\S))"
    r"(?:(?:[ \t]*(?:al-|bin\s+|ibn\s+|de\s+|van\s+|von\s+|al\s+)?"
    r"[A-Z][\w’'-]+|[A-Z]\.)(?:[ \t]+|\n(?=\S)|(?=\W)))*(?<=\w|\.)"
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


class Entities:
    """The people and organisations an article names, for canonical names and `about`."""

    def __init__(self, text: str) -> None:
        self.people: list[tuple[int, _Person]] = []
        self.by_key: dict[str, _Person] = {}
        self.by_role: dict[str, _Person] = {}
        for match in _NAME_RE.finditer(text):
            words = match.group().split()
            while words and words[0].lower() in NON_SPEAKER_CAPS:
                words = words[1:]
            role, name = split_role(words)
            name = [w.rstrip(".") if not _INITIAL_RE.fullmatch(w) else w for w in name]
            if len(name) < 2 or any(w.lower() in ORG_WORDS for w in name):
                continue
            if name[-1].endswith(("’s", "'s")):
                name[-1] = name[-1][:-2]
            full = " ".join(name)
            person = self.by_key.get(full.lower())
            if person is None:
                person = _Person(full, " ".join(role) or None, {full.lower()})
                self.by_key.setdefault(full.lower(), person)
                self.by_key.setdefault(_surname(name[-1]), person)
            if role:
                person.role = person.role or " ".join(role)
                self.by_role[" ".join(role).lower()] = person
                self.by_role[" ".join(role[-2:]).lower()] = person
                self.by_role[role[-1].lower()] = person
            self.people.append((match.start(), person))

    def resolve(self, mention: Mention, text_before: int) -> str | None:
        words = mention.text.split()
        if mention.type == "group":
            return mention.text
        if len(words) == 1 and words[0].lower() in PRONOUNS:
            if words[0].lower() not in ("he", "she", "who"):
                return None
            before = bisect_left(self.people, text_before, key=lambda entry: entry[0])
            return self.people[before - 1][1].name if before else None
        clean = [w for w in words if w.lower() not in HONORIFICS]
        if clean and clean[0].lower() in DETERMINERS:
            key = " ".join(clean[1:]).lower()
            for k in (key, " ".join(key.split()[-2:]), key.split()[-1] if key else ""):
                if k in self.by_role:
                    return self.by_role[k].name
            return mention.text
        _, name = split_role(clean)
        if name:
            full = " ".join(name).rstrip(".")
            found = self.by_key.get(full.lower()) or self.by_key.get(_surname(name[-1]))
            if found is not None and (len(name) == 1 or found.name.lower() == full.lower()):
                return found.name
            return full
        return mention.text

    def about(self, text: str, fragments: Sequence[Span]) -> list[Entity]:
        """Who the statement in `fragments` is about, as README and extract@v2 define `about`: the people,
        organisations and countries its own words name or refer to, each once, by full name."""
        names: list[str] = []
        for s, e in fragments:
            for match in _NAME_RE.finditer(text, s, e):
                _, name = split_role(match.group().split())
                if name and (found := self.by_key.get(" ".join(name).lower())) is not None:
                    names.append(found.name)
            for match in _CAPITALISED_RE.finditer(text, s, e):
                found = self.by_key.get(_surname(match.group()))
                if found is not None:
                    names.append(found.name)
        return [Entity(name=n) for n in dict.fromkeys(names)]


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
