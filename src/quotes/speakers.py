"""Speaker names made canonical within an article: titles, parties and labels taken off, one name per
person ("Kadhimi" and "Iraqi Prime Minister Mustafa al-Kadhimi" both "Mustafa al-Kadhimi")."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

from quotes.schema import Quote, Speaker


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words of titles and offices that come before a name ("Iraqi Prime Minister Mustafa al-Kadhimi", "Chief of
# Staff Dana Whitfield").
_TITLES = _words(
    """mr mrs ms miss mx dr prof professor sir dame lord lady madam president vice prime minister
    secretary state sen senator rep representative gov governor gen general lt col colonel maj major sgt
    capt captain adm admiral cmdr commander king queen prince princess emir sheikh sultan ayatollah imam
    supreme leader chairman chairwoman chair chief ceo director spokesman spokeswoman spokesperson
    ambassador envoy mayor sheriff judge justice pope cardinal bishop rev reverend rabbi father pastor foreign
    interior defense defence deputy former acting speaker chancellor premier mp staff whip congressman
    congresswoman councilman councilwoman assemblyman assemblywoman commissioner superintendent"""
)
# A party before a name is taken off it like a title ("Republican Lena Ortiz"), unless the words after it
# name a body ("Republican National Committee", "the Democratic Leadership Council"); nor is a title taken
# off a body's one word ("the State Department", "the Supreme Court").
_PARTIES = _words("republican republicans democrat democrats democratic gop libertarian labour tory")
_BODIES = _words(
    """national party committee convention caucus campaign congress senate house leadership council union
    conference establishment candidates department court office agency administration ministry commission
    service bureau"""
)
_HONORIFICS = _words("mr mrs ms miss mx dr sir dame madam")
_PARTICLES = _words("al el bin ibn bint de da di van von der den la le du del dos")
_SUFFIXES = _words("jr sr ii iii iv")
_SUFFIXES_OR_PARTICLES = _SUFFIXES | _PARTICLES
_NOT_NAMES = _words("he she they it we i you him her them this that these those the a an one someone who")
_NAME_PREFIXES = ("al-", "el-")
# Words after which a speaker phrase names something else: a place or a group ("Gov. Ann Holt *of New
# Jersey*", "Supporters *of Marsh*"), or what the speaker does ("an activist, *who backs Hale*").
_RELATIVES = _words("who whom whose which that")
_COMPLEMENTS = (
    _words("of for from at in with under to by on against behind inside backing supporting including")
    | _words("released published filed")  # "a poll released Monday"
    | _RELATIVES
)
_DETERMINERS = _words("the a an")
# Words before a name that make no role on their own: "the", "some", "many" Democrats.
_NOT_ROLES = _DETERMINERS | _words(
    "some many most several both all few other another only one two three four"
)
# A sentence's first word that a speaker span can start with: "But Nina Marsh".
_CONJUNCTIONS = _words("but and or so yet then")
_BREAKS = _COMPLEMENTS | {"and", "&"}
# A party and state after a name, as US papers write them: "Sen. Harold P. Grant (D-Ill.)", "(R)"; a
# chunk's edge can cut its closing bracket.
_AFFILIATION = re.compile(r"\s+\([^()\s]{1,12}\)?[,;:]?$")
_POSSESSIVES = ("'s", "’s", "'", "’")


@functools.lru_cache(maxsize=16384)
def _key(token: str) -> str:
    """A name token as compared: lowercased, without dots, possessive or an "al-"/"el-" prefix."""
    word = token.replace("’", "'").lower().strip(".,;:")
    word = word.removesuffix("'s").removesuffix("'")
    for prefix in _NAME_PREFIXES:
        if word.startswith(prefix) and len(word) > len(prefix):
            word = word[len(prefix) :]
    return word.replace(".", "")


def _name_like(token: str) -> bool:
    word = token.replace("’", "'").lower()
    return token[:1].isupper() or word in _PARTICLES or word.startswith(_NAME_PREFIXES)


class _Name(NamedTuple):
    """A speaker name split into the name proper and any title in front of it."""

    name: str
    title: str | None
    key: frozenset[str]

    @staticmethod
    def parse(raw: str, strip_titles: bool) -> _Name | None:
        """The name in `raw`; with `strip_titles` (a person's), its head's name proper and the title
        before it, or None when the phrase names no one speaker."""
        proper = 0
        if strip_titles:
            head = _name_part(raw)
            if head is None:
                return None
            raw = head
        tokens = raw.split()
        keys = [_key(t) for t in tokens]
        if strip_titles:
            while len(tokens) > 1 and keys[0] in _CONJUNCTIONS:
                del tokens[0], keys[0]
            start = _name_start(tokens, keys)
            if start is None:
                return None
            proper = start
        key = frozenset(k for k in keys[proper:] if k and k not in _PARTICLES)
        if not key or not any(c.isalnum() for k in key for c in k):
            return None
        title = _without_possessive(" ".join(tokens[:proper])) or None
        return _Name(_without_possessive(" ".join(tokens[proper:]).rstrip(",;:")), title, key)

    @staticmethod
    def from_mention(mention: str) -> _Name | None:
        """A mention that is itself a name ("Rouhani", "President Hassan Rouhani"), not "he" or "the
        Iraqi prime minister"."""
        tokens = mention.split()
        if not tokens or _key(tokens[0]) in _NOT_NAMES:
            return None
        parsed = _Name.parse(mention, strip_titles=True)
        if parsed is None or (parsed.title is None and not all(_name_like(t) for t in tokens)):
            return None
        return parsed if all(_name_like(t) for t in parsed.name.split()) else None


def _name_start(tokens: list[str], keys: list[str]) -> int | None:
    """Where the name proper begins in a person's phrase: after its title, party or outlet; 0 when the
    phrase is all name; None when it names no one ("Nolan campaign allies", "a former prime minister of
    Estonia")."""
    # The run of capitalised tokens (and particles) at the end, up to a title, a party or a possessive
    # before at least two more ("Metro News’s Sam Reyes").
    proper = len(tokens) - _surname(tokens, keys, len(tokens))
    while (
        proper > 0
        and _name_like(tokens[proper - 1])
        and keys[proper - 1] not in _TITLES
        and keys[proper - 1] not in _PARTIES
        and (proper > len(tokens) - 2 or not tokens[proper - 1].endswith(_POSSESSIVES))
    ):
        proper -= 1
    if proper and (
        (keys[proper - 1] in _PARTIES and not _BODIES.isdisjoint(keys[proper:]))
        or (proper == len(tokens) - 1 and keys[proper] in _BODIES)
    ):
        while proper > 0 and _name_like(tokens[proper - 1]):
            proper -= 1
    before = proper - 2 if proper > 1 and keys[proper - 1] in _DETERMINERS else proper - 1
    if before > 0 and keys[before] in _COMPLEMENTS:
        return None  # a place or a body after "of", "for": not the speaker's name
    if _SUFFIXES_OR_PARTICLES.issuperset(keys[proper:]):
        if not all(_name_like(t) for t in tokens):
            return None  # a description, not a name: it takes no other's
        return 0  # no name after the titles: "Martin Luther King Jr." keeps all its words
    return proper


@functools.lru_cache(maxsize=16384)
def _role(title: str, name: str) -> str | None:
    """What the words taken off a name say the speaker is ("Sen.", "FBI Director", "retired surgeon"
    Paul Rhee), without the words that only point or count ("the", "many"); None for an honorific
    ("Mr.") or when nothing else is left. Lowercase words alone describe a person's name only: "senior"
    Democrats or "a super" PAC are not roles."""
    tokens = title.split()
    keys = [_key(t) for t in tokens]
    if keys[-1] in _HONORIFICS:
        return None
    start = next((i for i, k in enumerate(keys) if k not in _NOT_ROLES), len(keys))
    personal = len(name.split()) > 1
    for token, key in zip(tokens[start:], keys[start:], strict=True):
        if (
            key in _TITLES
            or key in _PARTIES
            or (token[:1].isupper() and key not in _PARTICLES)
            or (personal and key.replace("-", "").isalpha())
        ):
            return " ".join(tokens[start:])
    return None


def _without_possessive(words: str) -> str:
    ending = next((p for p in _POSSESSIVES if words.endswith(p)), "")
    return words[: len(words) - len(ending)]


def _names_listed(parts: Sequence[str], i: int) -> bool:
    """Whether comma part `i` of a speaker phrase ends a list of names: names joined by "and" ("Ana Ruiz
    and Rosa Quill"; "Hale, Marsh and Quinn"; "…, and Tom Dunn (D)"), not a description's
    last words ("…, a Republican who chairs the Committee on Science, Space and Technology")."""
    tokens = parts[i].split()
    joiners = [n for n, t in enumerate(tokens) if t in ("and", "&")]
    if not joiners or not all(_name_like(t) for n, t in enumerate(tokens) if n not in joiners):
        return False
    return i == 0 or joiners[0] == 0 or all(_name_like(t) for t in parts[i - 1].split())


def _surname(tokens: list[str], keys: list[str], end: int) -> int:
    """1 when the title word that ends `tokens[:end]` is a surname after a first name ("Ella Pope", "Rep.
    Tom King"), else 0."""
    last = end - 1
    return int(
        last > 0
        and keys[last] in _TITLES
        and _name_like(tokens[last])
        and _name_like(tokens[last - 1])
        and keys[last - 1] not in _TITLES
        and keys[last - 1] not in _DETERMINERS
        and keys[last - 1] not in _PARTIES
        and keys[last - 1] not in _BODIES
    )


def _complement_at(tokens: Sequence[str], keys: Sequence[str]) -> int:
    """Where the words start that name something else than the speaker ("of New Jersey", "for the governor"),
    or len(tokens); an "of" inside a title ("Secretary of State") and a word opening them do not count."""
    return next(
        (
            i
            for i, k in enumerate(keys)
            if i
            and k in _COMPLEMENTS
            and tokens[i][:1].islower()
            and not (k == "of" and keys[i - 1] in _TITLES)
        ),
        len(tokens),
    )


def phrase_head(phrase: str) -> str:
    """The words of a speaker phrase before those that name someone or something else: "a spokeswoman"
    for the governor, "Supporters" of Marsh, "Gov. Ann Holt" of New Jersey; "Secretary of State Paul
    Dorsey" whole."""
    tokens = phrase.split()
    return " ".join(tokens[: _complement_at(tokens, [_key(t) for t in tokens])])


def _name_part(phrase: str) -> str | None:
    """The words of a person's speaker phrase that hold the name, or None when none do.

    A phrase with neither a comma nor a word such as "of" or "who" is its own name part. Otherwise the
    name is in the first comma-separated part ("Murphy, the head of …", "his father, Carl Weston, Jr.")
    whose words before such a word end in a name, not after it: "Gov. Ann Holt" of New Jersey,
    never "New Jersey"; "Supporters of Marsh" holds no name. An "of" inside a title ("Secretary of State
    Paul Dorsey") does not end the part, nor does one that opens it; a lone capitalised word opening the
    phrase before "of" is taken for a sentence's first word, not a name. Names joined by "and" are a
    group's, which no one name stands for.
    """
    if "," not in phrase and _BREAKS.isdisjoint(_key(t) for t in phrase.split()):
        return _AFFILIATION.sub("", phrase)
    parts: list[str] = []
    for part in phrase.split(","):
        part = _AFFILIATION.sub("", part)
        words = [_key(t) for t in part.split()]
        if parts and words and _SUFFIXES.issuperset(words):
            parts[-1] += "," + part  # "Carl Weston, Jr.": a suffix is the name's own
        elif words:
            parts.append(part.strip())
    if any(_names_listed(parts, i) for i in range(len(parts))):
        return None  # "Lena Marsh, Joe Hale and Rosa Quill": no one name speaks for them all
    for number, part in enumerate(parts):
        tokens = part.split()
        keys = [_key(t) for t in tokens]
        if "and" in keys or "&" in keys:
            return None  # "Marsh and her aides": no one name speaks for them all
        if keys[0] in _RELATIVES or (number and keys[0] in _COMPLEMENTS):
            continue  # ", who backs Hale", ", including Marsh": what the speaker does or holds, not who
        end = _complement_at(tokens, keys)
        start = end - _surname(tokens, keys, end)
        while (
            start > 0
            and _name_like(tokens[start - 1])
            and keys[start - 1] not in _TITLES
            and keys[start - 1] not in _DETERMINERS
        ):
            start -= 1
        sentence_start = number == 0 and start == 0 and end == 1 < len(tokens)
        if start == end or sentence_start or (start and keys[start - 1] in _DETERMINERS):
            continue
        return " ".join(tokens[:end])
    return None


NameMatch = Literal["exact", "partial", "conflict"]


def _unaccented(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


@functools.lru_cache(maxsize=16384)
def person_name(text: str) -> tuple[str, ...] | None:
    """The words of the person's name `text` is, in order and as names are compared: lowercased, without
    accents, dots, a possessive, titles ("Dr.", "Sen.", "Iraqi Prime Minister"), particles ("van",
    "al-") and suffixes ("Jr."); "Ms. Müller's" gives ("muller",). None when `text` is no person's name:
    a pronoun, a description ("the mayor"), a body ("the Health Ministry", "Pew Research Council"), a
    bare title or a lone initial."""
    parsed = _parsed_mention(" ".join(text.split()))
    if parsed is None:
        return None
    words = tuple(
        w
        for w in (_unaccented(_key(t)) for t in parsed.name.split())
        if w and w not in _SUFFIXES_OR_PARTICLES
    )
    lone_initial = len(words) == 1 and len(words[0]) == 1
    if not words or lone_initial or not _BODIES.isdisjoint(words) or _TITLES.issuperset(words):
        return None
    return words


def _same_word(a: str, b: str) -> bool:
    """Whether two words of names agree: equal, or one is the other's initial ("e" and "elena")."""
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def name_match(a: tuple[str, ...], b: tuple[str, ...]) -> NameMatch:
    """How two people's names (from `person_name`) agree.

    exact: the same words. partial: the shorter's words stand in the longer, in order, an initial
    standing for a word it begins, and one word at least whole ("Brandt", "Elena", "E. Brandt" and
    "Elena Maria Brandt" all fit "Elena Brandt"): it may be the same person, as far as the names tell.
    conflict: a word of the shorter is not in the longer, or only as an initial ("Tom Brandt" and
    "Elena Brandt", "Tom" and "Betsy Ebeling", "Wasserman" and "Gregory W. Meeks"): other people.
    """
    if a == b:
        return "exact"
    short, long = sorted((a, b), key=len)
    rest = iter(long)
    in_order = all(any(_same_word(s, w) for w in rest) for s in short)
    # At least one whole word in common: "Wasserman" is not the "W." of "Gregory W. Meeks".
    whole = any(len(s) > 1 and s in long for s in short)
    return "partial" if in_order and whole else "conflict"


def _canonical(names: Sequence[_Name]) -> dict[frozenset[str], str]:
    """For each distinct key, the name it stands for: the longest name whose tokens include it, when all
    such names lie on one chain ("Kadhimi" ⊂ "Mustafa al-Kadhimi"); itself when two different full names
    contain it ("Hassan" in "Hassan Rouhani" and "Hassan Nasrallah")."""
    display: dict[frozenset[str], str] = {}
    for n in names:
        if n.key not in display or len(n.name) > len(display[n.key]):
            display[n.key] = n.name
    holders: dict[str, set[frozenset[str]]] = {}
    for key in display:
        for token in key:
            holders.setdefault(token, set()).add(key)
    result = {}
    for key in display:
        supersets = set.intersection(*(holders[token] for token in key)) - {key}
        maximal = [s for s in supersets if not any(s < other for other in supersets)]
        result[key] = display[maximal[0]] if len(maximal) == 1 else display[key]
    return result


def _parsed(name: str | None, mention: str | None, person: bool) -> _Name | None:
    """The name a speaker goes by: its name (titles taken off for people), else a mention that is a name."""
    if name:
        return _parsed_name(name, person)
    return _parsed_mention(mention) if mention else None


# Names recur across a corpus ("Trump" in thousands of articles); a corpus run holds some thousands of
# distinct ones, which a smaller cache would keep evicting before they came round again.
@functools.lru_cache(maxsize=16384)
def _parsed_name(name: str, person: bool) -> _Name | None:
    return _Name.parse(name, strip_titles=person)


@functools.lru_cache(maxsize=16384)
def _parsed_mention(mention: str) -> _Name | None:
    return _Name.from_mention(mention)


def canonical_speakers(quotes: Sequence[Quote]) -> list[Speaker]:
    """Each quote's speaker carrying one canonical name within the article.

    A name whose tokens (compared case-insensitively, with "al-"/"el-" prefixes taken off, titles such as
    "Mr." or "Prime Minister" in front ignored) are a subset of a longer name maps to the longest one; two
    full names that share only some tokens ("Hassan Rouhani", "Hassan Nasrallah") stay apart. A record
    without a name whose mention is a name uses the mention. People and organisations are clustered
    separately. A title taken off a name becomes the speaker's role when it had none. A speaker that
    needs no change is returned as it is; the others are new, and the input is left untouched.
    """
    parsed: list[tuple[str, _Name] | None] = []
    for quote in quotes:
        speaker = quote.speaker
        person = speaker.type in ("person", "unknown")
        name = _parsed(speaker.name, speaker.mention, person)
        parsed.append(("person" if person else "organization", name) if name else None)
    canonical = {
        kind: _canonical([p[1] for p in parsed if p and p[0] == kind]) for kind in ("person", "organization")
    }
    result: list[Speaker] = []
    for quote, entry in zip(quotes, parsed, strict=True):
        speaker = quote.speaker
        if entry is None:
            result.append(speaker)
            continue
        kind, name = entry
        update: dict[str, Any] = {}
        if speaker.name != canonical[kind][name.key]:
            update["name"] = canonical[kind][name.key]
        role = _role(name.title, name.name) if speaker.role is None and name.title else None
        if role:
            update["role"] = role
        result.append(speaker.model_copy(update=update) if update else speaker)
    return result
