"""Speaker finding: the noun phrase before or after a cue that names who speaks, and its type."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from quotes.backends.rules.lexicon import (
    AUX,
    DETERMINERS,
    GROUP_HEADS,
    INDEFINITE_SPEAKERS,
    LONE_SPEAKERS,
    NAME_PARTICLES,
    NON_SPEAKER_CAPS,
    OCCASIONS,
    OCCUPATIONS,
    ORG_WORDS,
    PRONOUNS,
    QUANTIFIERS,
    ROLE_MODIFIERS,
    SAY_CUES,
    TIME_WORDS,
    TITLE_WORDS,
    trie_pattern,
)
from quotes.backends.rules.scanning import tokens, trim_end
from quotes.schema import SpeakerType


@dataclass
class Mention:
    start: int
    end: int
    text: str
    type: SpeakerType
    role: str | None = None
    name: str | None = None


def is_cap(word: str) -> bool:
    return word[:1].isupper() or (word[:1].isdigit() and len(word) > 1 and word[-1:].isalpha())


_COMPLEMENT_WORDS = frozenset(
    ["of", "outside", "inside", "near", "at", "in", "from", "behind", "across", "around"]
)


def classify(words: Sequence[str]) -> SpeakerType:
    lower = [w.lower().rstrip(".") for w in words]
    if not lower:
        return "unknown"
    # "residents of the tower", "witnesses outside the shop": the head comes before its complement
    cut = next(
        (k for k, w in enumerate(lower[1:], 1) if w in _COMPLEMENT_WORDS and not is_cap(words[k - 1])), 0
    )
    if cut and lower[cut - 1] in GROUP_HEADS:
        return "group"
    head = lower[-1].removesuffix("’s").removesuffix("'s")
    if len(lower) == 1 and head in PRONOUNS:
        return PRONOUNS[head]
    if any(w in ORG_WORDS for w in lower) or (len(words) == 1 and words[0].isupper() and len(words[0]) > 1):
        return "organization"
    if head in GROUP_HEADS or (head.endswith("s") and not is_cap(words[-1]) and head not in TITLE_WORDS):
        return "group"
    if head.endswith(("ans", "ians", "ese")) and is_cap(words[-1]) and len(words) <= 2:
        return "group"
    return "person"


# Words after which an indefinite pronoun opens its clause: "while almost everyone agrees", "but others say"
_CLAUSE_OPENERS = frozenset(
    ["and", "but", "while", "though", "although", "almost", "nearly", "not", "yet", "so", "then"]
)
_PERSON_INDEFINITES = frozenset(["one", "another", "someone", "somebody", "anyone", "anybody"])

_CONTRACTION_RE = re.compile(r"(\w+)[’'](?:s|d|ve|ll|re)")

_NP_REACH = 120  # characters: no speaker phrase is longer, and tokenising less is faster


def _completed_head(toks: Sequence[tuple[int, int, str]], k: int) -> int:
    """Where the phrase that the noun phrase at `k` completes begins: "a spokeswoman for" the governor, "an
    aide to" the senator; `k` itself when no such phrase opens just before it."""
    if k < 3 or toks[k - 1][2].lower() not in ("of", "for", "to"):
        return k
    m = k - 2
    while m >= 0 and m > k - 5 and toks[m][2].isalpha():
        if toks[m][2].lower() in DETERMINERS:
            return m if m < k - 2 else k
        if not toks[m][2].islower():
            break
        m -= 1
    return k


def _group_before_place(toks: Sequence[tuple[int, int, str]], first: int) -> int | None:
    """Where a group phrase starts whose place the noun phrase at `first` is ("witnesses outside the
    shop", "residents of the tower"), or None."""
    if first < 2 or toks[first - 1][2].lower() not in _COMPLEMENT_WORDS:
        return None
    head = first - 2
    if toks[head][2].lower() not in GROUP_HEADS:
        return None
    k = head
    while (
        k > 0 and head - k < 2 and _is_description_word(toks[k - 1][2]) and not toks[k - 1][2].endswith("ed")
    ):
        k -= 1
    if k > 0 and toks[k - 1][2].lower() in DETERMINERS:
        k -= 1
    while k > 0 and (toks[k - 1][2].isdigit() or toks[k - 1][2].lower() in QUANTIFIERS):
        k -= 1  # "nearly half of the voters"
    return k


def _opens_clause(text: str, toks: Sequence[tuple[int, int, str]], i: int) -> bool:
    start = toks[i][0]
    return (
        i == 0
        or text[max(0, start - 4) : start].rstrip()[-1:] in ";:,—–("
        or (toks[i - 1][2].lower() in _CLAUSE_OPENERS)
    )


def np_before(text: str, start: int, end: int) -> Mention | None:
    """The noun phrase ending at `end` (after skipping auxiliaries and adverbs), not before `start`."""
    toks = tokens(text, max(start, end - _NP_REACH), end)
    if start < end - _NP_REACH and toks:
        toks = toks[1:]  # the first token may be cut in half
    i = len(toks) - 1
    while i >= 0 and (
        toks[i][2].lower() in AUX or (toks[i][2].lower().endswith("ly") and not is_cap(toks[i][2]))
    ):
        i -= 1
    if i < 0:
        return None
    last = i
    word = toks[i][2]
    lw = word.lower()
    if (contracted := _CONTRACTION_RE.fullmatch(lw)) is not None and contracted.group(1) in PRONOUNS:
        # "he's said", "they've argued": the pronoun, without its auxiliary
        end = toks[i][0] + len(contracted.group(1))
        return Mention(toks[i][0], end, text[toks[i][0] : end], PRONOUNS[contracted.group(1)])
    if lw in ("to", "by"):
        return None  # "went out of his way to praise …", "hinted at Trump by mentioning …": no subject here
    if lw == "%" and i and toks[i - 1][2].isdigit():
        # "47% say …": the share of those asked
        k = i - 1
        while k and toks[k - 1][2].lower() in QUANTIFIERS:
            k -= 1
        return Mention(toks[k][0], toks[i][1], text[toks[k][0] : toks[i][1]], "group")
    if (lw in PRONOUNS and lw != "it") or (lw == "it" and i == 0):
        return Mention(toks[i][0], toks[i][1], word, PRONOUNS[lw])
    if lw in PRONOUNS:
        return None
    if lw in INDEFINITE_SPEAKERS and _opens_clause(text, toks, i):
        # "one suggested …", "almost everyone agrees …", "but others say …"
        k = i - 1 if i and toks[i - 1][2].lower() in ("almost", "nearly", "not") else i
        type_: SpeakerType = "person" if lw in _PERSON_INDEFINITES else "group"
        return Mention(toks[k][0], toks[i][1], text[toks[k][0] : toks[i][1]], type_)
    if lw in GROUP_HEADS and not is_cap(word):
        # "officials said", "former campaign aides said": a bare plural group needs no determiner
        k = i
        while (
            k > 0
            and i - k < 3
            and toks[k - 1][2].isalpha()
            and toks[k - 1][2].islower()
            and toks[k - 1][2] not in DETERMINERS
        ):
            k -= 1
        # "About 40 percent of voters", "nearly half of voters": the count is part of the group
        while k > 0 and i - k < 7 and (toks[k - 1][2].isdigit() or toks[k - 1][2].lower() in QUANTIFIERS):
            k -= 1
        before = toks[k - 1][2] if k else ""
        if k == 0 or not (
            before.lower() in DETERMINERS or (is_cap(before) and before.lower() not in NON_SPEAKER_CAPS)
        ):
            while k < i and toks[k][2] in NON_SPEAKER_CAPS | AUX:
                k += 1
            return Mention(toks[k][0], toks[i][1], text[toks[k][0] : toks[i][1]], "group")
    first = -1
    j = i
    has_cap = False
    while j >= 0:
        w = toks[j][2]
        lw = w.lower()
        if is_cap(w) and lw not in NON_SPEAKER_CAPS:
            has_cap = True
            first = j
        elif (lw in NAME_PARTICLES and first == j + 1 and j > 0 and is_cap(toks[j - 1][2])) or (
            lw in ("of", "for", "at", "and", "&") and first == j + 1 and j > 0 and is_cap(toks[j - 1][2])
        ):
            first = j
        elif lw in ("the", "a", "an") and first == j + 1:
            first = j
            break
        elif w in ("’s", "'s") or (lw.endswith(("’s", "'s")) and first == j + 1):
            first = j
        elif not is_cap(w) and w.isalpha() and first in (-1, j + 1) and j > 0 and j >= last - 5:
            # a lowercase head or modifier; only kept if a determiner opens the phrase
            k = j
            while (
                k >= 0
                and toks[k][2].isalpha()
                and not is_cap(toks[k][2])
                and toks[k][2].lower() not in DETERMINERS
            ):
                k -= 1
            if k >= 0 and toks[k][2].lower() in DETERMINERS and last - k <= 6:
                # "At the rally Dee Hart said": a prepositional phrase before a name is no part of it
                if not (has_cap and k > 0 and PREPOSITION_RE.fullmatch(toks[k - 1][2].lower())):
                    first = _completed_head(toks, k)
                break
            if k >= 0 and is_cap(toks[k][2]) and toks[k][2].lower() not in NON_SPEAKER_CAPS and last - k <= 4:
                j = k
                first = k
                has_cap = True
                while (
                    j - 1 >= 0 and is_cap(toks[j - 1][2]) and toks[j - 1][2].lower() not in NON_SPEAKER_CAPS
                ):
                    j -= 1
                    first = j
                if j - 1 >= 0 and toks[j - 1][2].lower() in DETERMINERS:
                    first = j - 1
                break
            break
        else:
            break
        j -= 1
    if first < 0:
        return None
    while first <= last and toks[first][2].lower() in NON_SPEAKER_CAPS - {"the"}:
        first += 1
    if first > last:
        return None
    if (group := _group_before_place(toks, first)) is not None:
        # "Witnesses outside the shop said": the witnesses speak, not the shop
        s, e = toks[group][0], toks[last][1]
        return Mention(s, e, text[s:e], "group")
    s, e = toks[first][0], toks[last][1]
    words = [t[2] for t in toks[first : last + 1]]
    if not has_cap and words[0].lower() not in DETERMINERS:
        return None
    if len(words) == 1 and words[0].lower() in DETERMINERS:
        return None
    mention = text[s:e]
    return Mention(s, e, mention, classify(words))


_NOT_DESCRIPTIONS = frozenset(["that", "and", "but", "or", "if", "as", "than", "so", "not", "there", "here"])


def _is_description_word(word: str) -> bool:
    """A lowercase word that may describe the person named after it: "retired", "surgeon", "hacker"."""
    lw = word.lower()
    return (
        word.isalpha()
        and word.islower()
        and lw not in AUX
        and lw not in _NOT_DESCRIPTIONS
        and lw not in PRONOUNS
        and lw not in DETERMINERS
        and not lw.endswith(("ing", "ly"))
        and not PREPOSITION_RE.fullmatch(lw)
    )


def _occupation_after_cap(toks: Sequence[tuple[int, int, str]], j: int) -> bool:
    return toks[j][2].lower() in OCCUPATIONS and is_cap(toks[j - 1][2])


def np_after(text: str, start: int, end: int, titles: bool = False) -> Mention | None:
    """The noun phrase starting at `start` ("said Smith, a spokesman"); with `titles`, lowercase titles
    may open it ("said former state senator Al Ray")."""
    toks = tokens(text, start, end)
    if not toks:
        return None
    w0 = toks[0][2].lower()
    if w0 in PRONOUNS and w0 != "it":
        return Mention(toks[0][0], toks[0][1], toks[0][2], PRONOUNS[w0])
    last = -1
    for j, (_, _, w) in enumerate(toks[:12]):
        lw = w.lower()
        if j and lw in SAY_CUES:
            break  # "The Chief Said:": a verb of saying ends the phrase, capitalised or not
        if is_cap(w) and lw not in NON_SPEAKER_CAPS:
            last = j
        elif (
            (j == 0 and lw in DETERMINERS)
            or (lw in TITLE_WORDS and last == j - 1)
            # "said former state senator Al Ray", "said retired surgeon Eve Smith": a description before
            # a name (kept only if a name follows)
            or (titles and last == -1 and j < 5 and (lw in TITLE_WORDS or lw in ROLE_MODIFIERS))
            or (titles and last == -1 and j < 4 and w0 not in DETERMINERS and _is_description_word(w))
            # "said Democratic strategist Hank Sheinkopf": an occupation after a capitalised role word
            or (titles and 0 < j < 4 and w0 not in DETERMINERS and _occupation_after_cap(toks, j))
            or (lw in NAME_PARTICLES | {"of", "for", "and"} and last == j - 1)
        ):
            continue
        elif 0 < j <= 5 and w.isdigit() and toks[0][2].lower() in DETERMINERS:
            continue  # "said a 2008 Clinton veteran"
        elif (
            w.isalpha()
            and not is_cap(w)
            and toks[0][2].lower() in DETERMINERS
            and j <= 5
            and lw not in AUX
            and not lw.endswith("ed")
            and not PREPOSITION_RE.fullmatch(lw)
        ):
            last = j
        else:
            break
    if last < 0:
        # "tweeted another.", "said one": the determiner alone is the speaker
        if w0 in LONE_SPEAKERS and ATTRIBUTION_END_RE.match(text, toks[0][1]):
            return Mention(toks[0][0], toks[0][1], toks[0][2], "person")
        return None
    while last > 0 and toks[last][2].lower() in ("of", "for", "and"):
        last -= 1
    s, e = toks[0][0], toks[last][1]
    return Mention(s, e, text[s:e], classify([t[2] for t in toks[: last + 1]]))


_APPOSITION_RE = re.compile(
    r",\s+(?:who|which|whose|a|an|the|his|her|its|their|[A-Z][a-z]+’s|\d+|former|deputy|senior|chief|"
    r"director|spokesman|spokeswoman|president|chairman|head|founder|executive|member|leader|professor|"
    r"one|ranking|for\s+example|for\s+instance|however|too|meanwhile|in\s+turn|"
    r"in|at|on|during|after|before|speaking|clad|like|along|also|though|[a-z]+ing|[a-z]+ed)\b"
)

_PAREN_TAIL_RE = re.compile(r"\s*\([^()]{1,30}\)$")


# A time or an occasion between a speaker and the cue: "Smith on Tuesday said", "officials late last week
# said", "Lee in a statement said", "the agency two days ago said"
_TIME_TAIL_RE = re.compile(
    r"(?:[ \t]+(?:(?:late|early|earlier|later)[ \t]+)?(?:(?:on|last|this|next|that|in|by)[ \t]+)?"
    r"(?i:" + trie_pattern(TIME_WORDS) + r")(?:[ \t]+\d{1,2}(?:,[ \t]*\d{4})?)?"
    r"(?:[ \t]+(?:morning|afternoon|evening|night))?"
    r"|[ \t]+in[ \t]+(?:a|an|his|her|its|their)[ \t]+(?:[\w-]+[ \t]+){0,2}"
    r"(?:" + trie_pattern(OCCASIONS) + r")"
    r"|[ \t]+(?:\d+|two|three|four|five|several|a[ \t]+few)[ \t]+(?:days|weeks|months|years)[ \t]+ago)$"
)


def before_time(text: str, start: int, end: int) -> int:
    """`end` moved back over the time and occasion phrases that end text[start:end]."""
    while end > start and (tail := _TIME_TAIL_RE.search(text, max(start, end - 60), end)) is not None:
        end = tail.start()
    return end


_LAST_WORD_RE = re.compile(r"(\w+)\s*$")


def _before_auxiliaries(text: str, start: int, end: int) -> int:
    """`end` moved back over the auxiliaries and adverbs ending text[start:end]: "X, a lawyer, has also"."""
    end = trim_end(text, start, end)
    while (last := _LAST_WORD_RE.search(text, max(start, end - 20), end)) is not None and (
        last.group(1).lower() in AUX or (last.group(1).endswith("ly") and last.group(1).islower())
    ):
        end = trim_end(text, start, last.start())
    return end


_SUBJECT_LEAD_RE = re.compile(r"(?:(?:but|and|so|yet|still|now|then)\b[ \t]*)*", re.IGNORECASE)


def _sentence_subject(text: str, start: int, end: int) -> Mention | None:
    """ "Jo Earl, Color of Change's director, said", "Sullivan, struck by her story, told": the noun
    phrase that opens the sentence, up to its first comma, when an aside follows it."""
    lead = _SUBJECT_LEAD_RE.match(text, start, end)
    opening = lead.end() if lead else start
    comma = text.find(",", opening, end)
    if comma < 0 or len(text[comma:end].split()) > 16:
        return None
    head = np_before(text, opening, comma)
    return head if head is not None and head.start == opening else None


def speaker_before(text: str, sent_start: int, cue_start: int) -> Mention | None:
    """The subject before a cue, looking through appositions such as "X, a spokesman for Y, said"."""
    pre_end = before_time(text, sent_start, _before_auxiliaries(text, sent_start, cue_start))
    j = pre_end
    while j > sent_start and text[j - 1] in ",—–-":
        j -= 1
    window_start = max(sent_start, cue_start - 300)
    if text[pre_end - 1 : pre_end] in (",", "—", "–") and pre_end > sent_start:
        for match in _APPOSITION_RE.finditer(text, window_start, pre_end):
            head_end = match.start()
            if paren := _PAREN_TAIL_RE.search(text, window_start, head_end):
                head_end = paren.start()
            mention = np_before(text, window_start, head_end)
            if mention is not None:
                return mention
        # "the agency's spokesman, Jo Earl, said": a name set off by commas is the speaker
        if paren := _PAREN_TAIL_RE.search(text, window_start, j):
            j = paren.start()
        name = np_before(text, window_start, j)
        if name is not None and is_cap(name.text) and text[: name.start].rstrip().endswith(","):
            return name
        return _sentence_subject(text, window_start, j)
    if paren := _PAREN_TAIL_RE.search(text, window_start, j):
        j = paren.start()
    return np_before(text, window_start, j)


PREPOSITION_RE = re.compile(
    r"(?:in|on|at|during|with|of|to|for|from|after|before|last|this|when|into|through|by|as|"
    r"over|against|up|out|back|down|off)\b",
    re.IGNORECASE,
)

ATTRIBUTION_END_RE = re.compile(r"[ \t]*(?:[.,;:!?]|$)", re.MULTILINE)

_SOURCE_PHRASE_RE = re.compile(r"\s*([^,;:“”\"()]{2,80}?)\s*(?:[,;:(]|[.!?]?$)")


def source_phrase(text: str, start: int, end: int) -> Mention | None:
    """ "according to federal statistics": any short phrase up to the next comma names the source."""
    match = _SOURCE_PHRASE_RE.match(text, start, end)
    if match is None or len(match.group(1).split()) > 10:
        return None
    words = match.group(1).split()
    return Mention(match.start(1), match.end(1), match.group(1), classify(words))
