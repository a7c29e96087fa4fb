"""Roles: what the article says a speaker is, from the titles before a name ("Iraqi Prime Minister
Mustafa al-Kadhimi"), a description before it ("retired surgeon Eve Smith") or an apposition after it
("Eve Smith, a retired surgeon,")."""

from __future__ import annotations

import re

from quotes.backends.rules.lexicon import (
    AUX,
    COURTESY_TITLES,
    DETERMINERS,
    OCCUPATIONS,
    ROLE_ADJECTIVES,
    ROLE_MODIFIERS,
    TITLE_WORDS,
)
from quotes.backends.rules.lexicon import (
    NON_SPEAKER_CAPS as NOT_NAMES,
)

_ROLE_WORD_RE = re.compile(r"^[A-Z][a-z]+(?:i|ian|an|ese|ish|ch)$")
# ", a retired surgeon," / ", 64, deputy director of the office," / ", the agency's spokesman." up to the
# comma, dash or full stop that closes the apposition
_APPOSITION_RE = re.compile(
    r",\s+(?:\d{1,3},\s+)?(?P<role>(?:(?:a|an|the)\s+)?[^,;:()“”\".!?—–]{2,100}?)\s*(?=[,—–.;!?]|$)"
)
_NOT_ROLES = frozenset(
    [
        *("who", "which", "whose", "whom", "where", "when", "in", "at", "on", "during", "after", "before"),
        *("speaking", "clad", "like", "along", "also", "though", "however", "too", "meanwhile", "for"),
        *("one", "and", "but", "or", "said", "says", "told", "added", "adding", "saying", "according"),
    ]
)
_RELATIVES = frozenset(["who", "whom", "whose", "which", "that", "where", "when"])
_ARTICLE_RE = re.compile(r"(?:a|an|the)\s+", re.IGNORECASE)


def split_role(words: list[str]) -> tuple[list[str], list[str]]:
    """Leading titles ("Iraqi Prime Minister", "Minnesota Gov.") and the name that follows them: the words
    up to the last title word that has a word of the name after it."""
    last = -1
    for k, word in enumerate(words[:-1]):
        if word.lower() in TITLE_WORDS:
            last = k
        elif last < 0 and k >= 3:
            break
    if last < 0:
        return [], words
    return words[: last + 1], words[last + 1 :]


def is_role(words: list[str]) -> bool:
    """Whether titles say what someone is: "Sen." does, "Mr." does not."""
    return any(word.lower() not in COURTESY_TITLES for word in words)


def mention_role(words: list[str]) -> str | None:
    """The role a person's mention carries before the name: "Mayor" in "Mayor Lisa Park", "retired
    surgeon" in "retired surgeon Eve Smith", None for "Eve Smith" or "the chief"."""
    if not words or words[0].lower() in DETERMINERS:
        return None
    k = 0
    while k < len(words) and words[k][:1].islower():
        k += 1
    role = words[:k] + split_role(words[k:])[0] if 0 < k < len(words) else split_role(words)[0]
    return " ".join(role) if is_role(role) else None


def apposition_role(text: str, end: int) -> str | None:
    """The apposition right after a name ending at `end`, as a role: ", a retired surgeon," gives "retired
    surgeon"; a relative clause or an aside (", who …", ", speaking on …") gives None."""
    match = _APPOSITION_RE.match(text, end)
    if match is None:
        return None
    role = match.group("role")
    article = _ARTICLE_RE.match(role)
    first = role.split()[0]
    if article is None:
        lead = first.lower()
        if not (lead in TITLE_WORDS or lead in ROLE_MODIFIERS or first.endswith(("’s", "'s"))):
            return None
    if "\n\n" in role:
        return None
    words = (role[article.end() :] if article else role).split()
    # "a retired carrier who lined up …": the role ends where a relative clause begins
    cut = next((k for k, w in enumerate(words) if w.lower() in _RELATIVES), len(words))
    words = words[:cut]
    if any(w.lower() in AUX for w in words) or sum(len(w) > 2 for w in words) == 0:
        return None  # a clause ("Rubio's days are over"), or a label such as "D"
    if not words or words[0].lower() in _NOT_ROLES or words[0].lower().endswith("ing") or len(words) > 12:
        return None
    return " ".join(words)


_ROLE_HEADS = OCCUPATIONS | TITLE_WORDS


def role_before(text: str, start: int) -> str | None:
    """The role written right before a name starting at `start`: "presumptive Republican presidential
    nominee" before Donald Trump, "reporter" before Michelle Fields; None when the word before the name
    says nothing of what the person is."""
    lo = max(0, start - 80)
    while 0 < lo < start and not text[lo - 1].isspace():
        lo += 1  # no word cut in half
    window = text[lo:start]
    if not window.endswith((" ", "\t")):
        return None
    before = window[window.rfind("\n") + 1 :].split()[-6:]
    if not before or before[-1].lower() not in _ROLE_HEADS:
        return None
    k = len(before) - 1
    while k > 0 and _in_role(before[k - 1]):
        k -= 1
    role = before[k:]
    return " ".join(role) if is_role(role) else None


def _in_role(word: str) -> bool:
    lower = word.lower()
    if lower in DETERMINERS or lower in _NOT_ROLES or lower in NOT_NAMES:
        return False
    if word[:1].isupper():
        return True
    return lower in OCCUPATIONS or lower in TITLE_WORDS or lower in ROLE_MODIFIERS or lower in ROLE_ADJECTIVES
