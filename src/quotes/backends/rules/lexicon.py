"""Language data for the rules: the TOML files in `lang/`, one per language, read with importlib.resources.

The files hold words only (cue verbs, titles, pronouns …); the modules beside this one hold the
algorithms, as spaCy keeps its language data apart from its pipeline. `lang/README.md` lists the keys.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from typing import Any, cast

from quotes.schema import SpeakerType

LANG_PACKAGE = "quotes.backends.rules.lang"


@cache
def language_data(code: str) -> dict[str, Any]:
    """The parsed `lang/<code>.toml`; KeyError when there is no such file."""
    resource = files(LANG_PACKAGE).joinpath(f"{code}.toml")
    if not resource.is_file():
        raise KeyError(code)
    return tomllib.loads(resource.read_text(encoding="utf-8"))


def words(value: str) -> list[str]:
    """A word list as the data files write it: separated by whitespace, "_" joining a phrase's words."""
    return [word.replace("_", " ") for word in value.split()]


def inflect(lemma: str) -> list[str]:
    """The regular forms of an English verb: note → notes, noted, noting."""
    if lemma.endswith("e"):
        return [lemma, lemma + "s", lemma + "d", lemma[:-1] + "ing"]
    if lemma.endswith(("sh", "ch", "ss", "x")):
        return [lemma, lemma + "es", lemma + "ed", lemma + "ing"]
    return [lemma, lemma + "s", lemma + "ed", lemma + "ing"]


def verb_forms(lemmas: str) -> set[str]:
    """Every form of every `lemma` or `lemma:form,form` entry (irregular forms replace the regular)."""
    forms: set[str] = set()
    for entry in lemmas.split():
        lemma, _, irregular = entry.partition(":")
        forms.update(irregular.split(",") if irregular else inflect(lemma))
        forms.add(lemma)
    return forms


# After a word's first character: no word character before it. In this place, rather than as a `\b` before
# the word, it lets re skip in C to the characters that may start a match (a pattern whose first item is an
# assertion gets no such skip: every position is tried), which is faster when they are few (capitals).
AFTER_WORD_START = r"(?<!\w.)"


def trie_pattern(alternatives: Iterable[str], after_first: str = "") -> str:
    """One regex alternation as a prefix trie: Python's re tries alternatives one by one, a trie does not.
    A space in an alternative matches any run of whitespace; `after_first` follows each alternative's
    first character (`AFTER_WORD_START`)."""
    trie: dict[str, Any] = {}
    for word in alternatives:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any], after: str = "") -> str:
        ends = "" in node
        branches = [
            (r"\s+" if c == " " else re.escape(c)) + after + emit(child)
            for c, child in sorted(node.items())
            if c
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(trie, after_first)


def _cue_regex(forms: Sequence[str]) -> re.Pattern[str]:
    """Any of the lowercase cue `forms`, or the two cues that open their sentence: "According to X, …",
    "Asked whether …, X said"."""
    # One \b before the alternation (re tried each branch's own \b at every position), then a lookahead
    # that skips positions no lowercase form can start at: re has no such first-character filter of its
    # own for these patterns, and each makes the scan about twice as fast.
    return re.compile(r"\b(?:(?=[a-z])(?:" + trie_pattern(forms) + r")|According\s+to|Asked)\b")


# --- English, which the statement finder in statements.py is written for -----------------------------

_EN = language_data("en")
_CUES: dict[str, str] = _EN["cues"]
_WORDS: dict[str, str] = _EN["words"]

CUE_FORMS = sorted(verb_forms(_CUES["lemmas"]) | set(words(_CUES["phrases"])))
WEAK_CUES = frozenset(words(_CUES["weak"]))
QUOTING_ONLY_CUES = frozenset(words(_CUES["quoting_only"]))
INTENT_CUES = frozenset(words(_CUES["intent"]))
NAMING_CUES = frozenset(words(_CUES["naming"]))
EVIDENCE_VERBS = frozenset(words(_CUES["evidence_verbs"]))
EVIDENCE_NOUN_RE = re.compile(r"\b(?i:" + trie_pattern(words(_CUES["evidence_nouns"])) + r")\b")
SAY_CUES = frozenset(words(_CUES["say"]))
# "the mayor's claim that …", "his warning that …": a reporting noun before a that-clause, and its owner
# right before it (matched backwards from the noun, which is rare, so the owner's pattern runs seldom)
NOUN_CUE_RE = re.compile(r"(?=[a-z])\b(?:" + trie_pattern(words(_CUES["nouns"])) + r")(?=[ \t,]+that\b)")
NOUN_OWNER_RE = re.compile(
    r"(?:(?P<owner>[Tt]he[ \t]+[a-z]+(?:[ \t]+[a-z]+)?|[A-Z][\w.’'-]*(?:[ \t]+[A-Z][\w.’'-]*){0,3})[’']s"
    r"|\b(?P<pronoun>[Hh]is|[Hh]er|[Tt]heir|[Ii]ts))(?:[ \t]+[a-z][\w-]*){0,2}?[ \t]+$"
)
INVERTED_CUE_RE = re.compile(r"(?:" + trie_pattern(words(_CUES["inverted"])) + r")\b")
# Cues anywhere in a sentence; after a closing quotation mark almost any reporting verb is one:
# “…,” the host pressed.
CUE_RE = _cue_regex(
    [f for f in CUE_FORMS if f not in WEAK_CUES] + sorted(EVIDENCE_VERBS) + sorted(NAMING_CUES)
)
# A weak cue right before "that" is a cue too ("critics claim that …"): matched at a word found before
# each "that", which is cheaper than a second alternation tried at every word of the text
WEAK_CUE_RE = re.compile(r"(?:" + trie_pattern(sorted(WEAK_CUES)) + r")(?=[ \t]+that\b)")
AFTER_CUE_RE = _cue_regex([*CUE_FORMS, *words(_CUES["after_quote"]), *words(_CUES["manner"])])

PRONOUNS = cast(dict[str, SpeakerType], _EN["pronouns"])
AUX = frozenset(words(_WORDS["auxiliaries"]))
DETERMINERS = frozenset(words(_WORDS["determiners"]))
TITLE_WORDS = frozenset(words(_WORDS["titles"]))
ROLE_MODIFIERS = frozenset(words(_WORDS["role_modifiers"]))
OCCUPATIONS = frozenset(words(_WORDS["occupations"]))
ROLE_ADJECTIVES = frozenset(words(_WORDS["role_adjectives"]))
HONORIFICS = frozenset(words(_WORDS["honorifics"]))
COURTESY_TITLES = frozenset(words(_WORDS["courtesy_titles"]))
ORG_WORDS = frozenset(words(_WORDS["organisations"]))
GROUP_HEADS = frozenset(words(_WORDS["groups"]))
NAME_PARTICLES = frozenset(words(_WORDS["name_particles"]))
ABBREVIATIONS = frozenset(words(_WORDS["abbreviations"]))
NON_SPEAKER_CAPS = frozenset(words(_WORDS["not_names"]))
LONE_SPEAKERS = frozenset(words(_WORDS["lone_speakers"]))
INDEFINITE_SPEAKERS = frozenset(words(_WORDS["indefinite_speakers"]))
PLACE_WORDS = frozenset(words(_WORDS["places"]))
TIME_WORDS = words(_WORDS["time_words"])
OCCASIONS = words(_WORDS["occasions"])
QUANTIFIERS = frozenset(words(_WORDS["quantifiers"]))
HEADLINE_KICKERS = frozenset(words(_WORDS["headline_kickers"]))
IRREGULAR_PASTS = frozenset(words(_WORDS["irregular_pasts"]))


def _countries(data: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Country by every name it goes by, and by its demonym ("Iranian" → "Iran")."""
    by_name: dict[str, str] = {}
    by_demonym: dict[str, str] = {}
    for line in data["names"].splitlines():
        if line.strip():
            name, _, demonym = line.partition(":")
            by_name[name.strip()] = name.strip()
            by_demonym[demonym.strip()] = name.strip()
    for line in data["aliases"].splitlines():
        if line.strip():
            alias, _, name = line.partition("=")
            by_name[alias.strip()] = by_name[name.strip()]
    return by_name, by_demonym


COUNTRIES, COUNTRY_BY_DEMONYM = _countries(_EN["countries"])
# Any country name, alias or demonym (singular or plural: "Iraqi", "Iraqis"), as a whole word
COUNTRY_RE = re.compile(
    r"(?:"
    + trie_pattern(
        [*COUNTRIES, *COUNTRY_BY_DEMONYM, *(d + "s" for d in COUNTRY_BY_DEMONYM)], AFTER_WORD_START
    )
    + r")(?![\w-])"
)
CUE_WORDS = frozenset(CUE_FORMS) | frozenset(words(_CUES["after_quote"])) | frozenset(words(_CUES["manner"]))
