"""The offline extractor: quotation marks, cue verbs and speaker resolution with stdlib regexes.

It reads the whole article at once, so it can resolve "he", "the Iraqi prime minister" or a bare surname
to the person the article introduced earlier. Every pass is linear over the text; the regexes are
compiled once at import.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from quotes.backends import ChunkAnswer, Provenance
from quotes.chunking import Chunk
from quotes.schema import Entity, Kind, Quote, Speaker, SpeakerType

RULES_VERSION = "6"

Span = tuple[int, int]

# --- lexicons ----------------------------------------------------------------------------------------


def _lexicon(words: str) -> list[str]:
    return words.split()


# Verbs reporting speech, writing or belief, as lemma → inflected forms (irregular forms spelled out).
_CUE_LEMMAS = """
say:says,said,saying tell:tells,told,telling add note warn pledge reveal insist argue claim state explain
ask write:writes,wrote,writing,written tweet announce confirm suggest stress urge believe
think:thinks,thought,thinking
acknowledge deny:denies,denied,denying declare continue reply:replies,replied,replying respond conclude
admit:admits,admitted,admitting agree recall predict promise vow assert contend complain report observe
emphasize emphasise maintain explain indicate concede answer charge
allege caution recommend propose reiterate remark repeat testify:testifies,testified,testifying
describe criticize criticise accuse praise blame dismiss question estimate hope fear expect
announce counter retort boast lament joke mention post elaborate exclaim shout yell scream chant
declined:declined,declines,declining acknowledged assure worry:worries,worried,worrying
feel:feels,felt,feeling
know:knows,knew,knowing want vowed cite read:reads call mock
"""
_PHRASE_CUES = (
    "according to",
    "pointed out",
    "points out",
    "point out",
    "pointing out",
    "called for",
    "calls for",
    "call for",
    "calling for",
    "went on to say",
    "goes on to say",
    "made clear",
    "makes clear",
    "expressed",
    "expressing",
    "expresses",
)


def _inflect(lemma: str) -> list[str]:
    if lemma.endswith("e"):
        return [lemma, lemma + "s", lemma + "d", lemma[:-1] + "ing"]
    if lemma.endswith(("sh", "ch", "ss", "x")):
        return [lemma, lemma + "es", lemma + "ed", lemma + "ing"]
    return [lemma, lemma + "s", lemma + "ed", lemma + "ing"]


def _cue_forms() -> list[str]:
    forms: set[str] = set(_PHRASE_CUES)
    for entry in _CUE_LEMMAS.split():
        lemma, _, irregular = entry.partition(":")
        forms.update(irregular.split(",") if irregular else _inflect(lemma))
        forms.add(lemma)
    return sorted(forms, key=lambda f: (-len(f), f))


def _trie_pattern(words: Sequence[str]) -> str:
    """One regex alternation as a prefix trie: Python's re tries alternatives one by one, a trie does not."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = [
            (r"\s+" if c == " " else re.escape(c)) + emit(child) for c, child in sorted(node.items()) if c
        ]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return emit(trie)


_EXTRA_AFTER_CUES = _lexicon(
    "pressed remarked quipped snapped interjected chimed_in shot_back fired_back cried cried_out "
    "laughed bragged mused reads read offered joked shouted yelled scoffed countered recalled put_it "
    "went_on wondered sighed whispered exclaimed boomed beamed proclaimed proclaiming demanded pleaded "
    "scolded implored thundered marveled gushed"
)
# Forms that are nouns or future-tense more often than reporting verbs when no quotation mark is near
# (chosen from how often each led to a wrong statement in aggregate on the development data).
_WEAK_CUES = frozenset(
    _lexicon(
        "state states question questioning point points continue continues continued want wanted declared "
        "report reports reporting remarks answer answers claim note tweet post posts posting maintain "
        "maintains maintained hope knew know charge charges charging concede conceded concludes confirm "
        "write writing announce promise complain yelled yells shouted reads read stress expected expect "
        "expecting expects declining recall thinking repeating worrying contend dismiss admit retort "
        "chants chanted testifying contending"
    )
)
# Verbs that report speech only when what follows holds a quotation: calling the plan a “blank cheque”.
_QUOTING_ONLY_CUES = frozenset(_lexicon("call calls called calling mock mocks mocked mocking"))
# Verbs whose content may be an infinitive: she vowed to "fight for every vote".
_INTENT_CUES = frozenset(
    _lexicon("vow vows vowed vowing pledge pledges pledged pledging promise promises promised")
)
# "A new poll shows …", "the study found …": evidence verbs count as cues only after an evidence noun.
_EVIDENCE_VERBS = frozenset(_lexicon("show shows showed found finds"))
_EVIDENCE_NOUN_RE = re.compile(
    r"(?=[a-z])\b(?:polls?|polling|surveys?|study|studies|reports?|analysis|analyses|data|research|review|audit|"
    r"records|numbers|figures|results|estimates|tally|documents|filings)\b"
)
# The leading lookaheads below only skip positions no alternative can start at: re has no such
# first-character filter of its own for these patterns, and it makes the scans up to twice as fast.


def _cue_regex(forms: Sequence[str]) -> re.Pattern[str]:
    """Any of the lowercase cue `forms`, or the one cue that opens its sentence: "According to X, …"."""
    return re.compile(r"(?:(?=[a-z])\b(?:" + _trie_pattern(forms) + r")|\bAccording\s+to)\b")


_CUE_RE = _cue_regex([f for f in _cue_forms() if f not in _WEAK_CUES] + sorted(_EVIDENCE_VERBS))
# After a closing quotation mark almost any reporting verb is a cue: “…,” the host pressed.
_AFTER_CUE_RE = _cue_regex([*_cue_forms(), *(w.replace("_", " ") for w in _EXTRA_AFTER_CUES)])
_SAY_RE = re.compile(
    r"\b(?:said|says|say|saying|told|tells|added|adds|adding|wrote|writes|tweeted|continued|replied|"
    r"responded|asked|asks|explained|explains|noted|notes|concluded|declared|stated|insisted|argued|"
    r"recalled|warned|answered|shouted|joked|quipped|offered|put\s+it|went\s+on|"
    r"according\s+to)\b",
    re.IGNORECASE,
)


_PRONOUNS: dict[str, SpeakerType] = {
    "he": "person",
    "she": "person",
    "i": "person",
    "we": "group",
    "they": "group",
    "it": "organization",
    "you": "person",
    "who": "person",
}
_AUX = frozenset(
    _lexicon(
        "has have had also later previously repeatedly would will is was are were once often recently "
        "publicly privately then reportedly already even never not did does do just further again still "
        "has_also first last earlier flatly quickly simply may might could should can must being been be "
        "initially finally frequently openly angrily bluntly explicitly specifically"
    )
)
_DETERMINERS = frozenset(
    _lexicon(
        "the a an my your his her their its our some many most several both all two three four five few "
        "other these those this that one another each every any no"
    )
)
_TITLE_WORDS = frozenset(
    _lexicon(
        "president prime minister leader supreme foreign secretary senator sen sen. rep rep. "
        "representative gov gov. governor mayor gen gen. general judge justice dr dr. mr mr. mrs mrs. ms "
        "ms. chairman chairwoman speaker director deputy vice king queen prince pope ambassador chief "
        "officer ceo spokesman spokeswoman spokesperson attorney former candidate nominee adviser advisor "
        "aide commissioner lt lt. col col. sgt sgt. capt capt. ayatollah sheikh premier chancellor "
        "councilman councilwoman congressman congresswoman sens. reps. lawmaker host anchor pastor rev "
        "rev. professor prof. house senate majority minority whip manager chair founder executive "
        "interior defense state energy labor treasury commerce health education homeland security "
        "national advisor democratic republican gop presidential hopeful businessman billionaire mogul "
        "businesswoman"
    )
)
_ROLE_MODIFIERS = frozenset(
    _lexicon("campaign press communications finance policy political senior top chief of strategist pollster")
)
_HONORIFICS = frozenset(
    _lexicon("mr mr. mrs mrs. ms ms. dr dr. sen sen. rep rep. gov gov. gen gen. rev rev.")
)
_ORG_WORDS = frozenset(
    _lexicon(
        "campaign committee party department ministry agency news times post journal network media press "
        "foundation council association institute inc inc. corp corp. company university court commission "
        "congress senate house administration office government group organization pac poll polls survey "
        "center centre board union bureau cnn fox msnbc abc nbc cbs reuters ap politico breitbart tribune "
        "herald gazette magazine report website team staff firm bank fund league caucus movement "
        "coalition alliance federation service services agency army navy police"
    )
)
_GROUP_HEADS = frozenset(
    _lexicon(
        "officials republicans democrats experts voters critics analysts aides supporters leaders people "
        "observers activists advisers advocates members residents americans iranians iraqis conservatives "
        "liberals progressives economists scholars sources polls others many some lawmakers politicians "
        "candidates delegates donors protesters opponents allies strategists insiders insurers investors "
        "officers workers women men parents students voters prosecutors lawyers attorneys investigators "
        "researchers authors editors organizers senators governors employees executives staffers volunteers "
        "pollsters"
    )
)
_NAME_PARTICLES = frozenset(
    _lexicon("al al- bin ibn de del della di da van von der den la le du dos das st. st")
)
_ABBREVIATIONS = frozenset(
    _lexicon(
        "mr mrs ms dr gov sen rep gen lt col sgt capt st jr sr inc co corp ltd u.s u.n u.k a.m p.m vs no "
        "jan feb mar apr jun jul aug sep sept oct nov dec rev prof ft mt d.c e.g i.e etc"
    )
)
_NON_SPEAKER_CAPS = frozenset(
    _lexicon(
        "but and or so yet then when while if as after before because since although though however "
        "meanwhile monday tuesday wednesday thursday friday saturday sunday in on at of for with by from "
        "the this that these those it its there here what which who whom whose where how why also still "
        "asked last earlier later"
    )
)

# --- text structure ----------------------------------------------------------------------------------

_PARA_RE = re.compile(r"\n[ \t\u00a0]*\n\s*")
_MARK_RE = re.compile(r"''|``|[\"“”«»„]")
_OPENERS = "“«„`"
_CLOSERS = "”»"
_SENT_END_RE = re.compile(
    r"(?=[.!?\n \t])(?:[.!?]+[\"”’'»)]*(?=\s+(?:''|[\"“‘'«(])?[A-Z0-9])|\n(?=[ \t]*[\"“«'])"
    r"|(?<=[.!?:;”\"])[ \t]*\n)"
)
_WORD_RE = re.compile(
    r"(?=\S)(?:(?:[A-Za-z]\.){2,}|(?:Mrs|Mr|Ms|Dr|Gov|Sens?|Reps?|Gen|Lt|Col|Sgt|Capt|St|Jr|Sr|Rev|Prof|Ft|Mt)\."
    r"|[A-Z]\.|[\w$][\w’'&$-]*|[^\w\s])"
)
_ALNUM_RE = re.compile(r"\w")


@dataclass
class _QuoteUnit:
    """A run of quoted text: fragments include their marks; `closed` is False when a paragraph ended it."""

    fragments: list[Span]
    closed: bool = True

    @property
    def start(self) -> int:
        return self.fragments[0][0]

    @property
    def end(self) -> int:
        return self.fragments[-1][1]


def _paragraphs(text: str) -> list[Span]:
    spans: list[Span] = []
    pos = 0
    for match in _PARA_RE.finditer(text):
        spans.append((pos, match.start()))
        pos = match.end()
    spans.append((pos, len(text)))
    return [(s, e) for s, e in spans if e > s]


def _mark_role(text: str, i: int, mark: str) -> str:
    if mark == "“" and 0 < i < len(text) - 1 and text[i - 1] in ",.!?" and text[i + 1].isspace():
        return "either"  # a typo'd closer: “…,“ she said
    if mark[0] in _OPENERS:
        return "open"
    if mark in _CLOSERS:
        return "close"
    before = text[i - 1] if i > 0 else " "
    after_i = i + len(mark)
    after = text[after_i] if after_i < len(text) else " "
    opens = before.isspace() or before in "([{—–-/\u00a0" or i == 0
    closes = after.isspace() or after in ",.;:!?)]}—–-\u00a0" or after_i == len(text)
    if opens and not closes:
        return "open"
    if closes and not opens:
        return "close"
    return "either"


def _line_start(text: str, i: int) -> bool:
    j = i - 1
    while j >= 0 and text[j] in " \t\u00a0":
        j -= 1
    return j < 0 or text[j] == "\n"


def _trim_end(text: str, start: int, end: int) -> int:
    while end > start and text[end - 1].isspace():
        end -= 1
    return end


def _quote_units(text: str, paragraphs: Sequence[Span]) -> list[_QuoteUnit]:
    """Pair quotation marks; unclosed quotes end at their paragraph and continue at the next opener."""
    units: list[_QuoteUnit] = []
    para_ends = [e for _, e in paragraphs]
    pi = 0
    open_at: int | None = None
    pending: _QuoteUnit | None = None

    def close_unclosed(end: int) -> None:
        nonlocal open_at, pending
        assert open_at is not None
        end = _trim_end(text, open_at, end)
        unit = pending or _QuoteUnit([], closed=False)
        unit.fragments.append((open_at, end))
        unit.closed = False
        pending = unit
        open_at = None

    for match in _MARK_RE.finditer(text):
        i, mark = match.start(), match.group()
        while pi < len(para_ends) and para_ends[pi] <= i:
            if open_at is not None:
                close_unclosed(para_ends[pi])
            pi += 1
        role = _mark_role(text, i, mark)
        if open_at is None:
            if role == "close":
                continue
            if pending is not None and not _line_start(text, i):
                units.append(pending)
                pending = None
            open_at = i
            continue
        if role == "open" or (role == "either" and _line_start(text, i) and "\n" in text[open_at:i]):
            newline = text.rfind("\n", open_at, i)
            if _line_start(text, i) and newline >= 0:
                close_unclosed(newline)
                open_at = i
            else:
                close_unclosed(i)
                assert pending is not None
                units.append(pending)
                pending = None
                open_at = i
            continue
        end = match.end()
        if pending is not None:
            pending.fragments.append((open_at, end))
            pending.closed = True
            units.append(pending)
            pending = None
        else:
            units.append(_QuoteUnit([(open_at, end)]))
        open_at = None
    if open_at is not None:
        close_unclosed(para_ends[-1] if para_ends else len(text))
    if pending is not None:
        units.append(pending)
    return [u for u in units if any(_ALNUM_RE.search(text, s, e) for s, e in u.fragments)]


def _is_abbreviation(text: str, dot: int) -> bool:
    j = dot
    while j > 0 and (text[j - 1].isalnum() or text[j - 1] == "."):
        j -= 1
    word = text[j:dot].lower()
    if len(word) == 1 and word.isalpha():
        return True
    return word in _ABBREVIATIONS


def _sentences(text: str, paragraphs: Sequence[Span], masked: Sequence[Span]) -> list[Span]:
    """Sentence spans; boundaries inside `masked` (long quotes) are ignored, but a quote that ends its
    sentence (“… for good.” Then …) ends it outside too."""
    inside = bytearray(len(text) + 1)
    for s, e in masked:
        inside[s + 1 : e] = b"\x01" * max(0, e - s - 1)
    quote_ends = {e for _, e in masked}
    spans: list[Span] = []
    for p_start, p_end in paragraphs:
        pos = p_start
        for match in _SENT_END_RE.finditer(text, p_start, p_end):
            cut = match.end()
            if inside[cut] or (inside[match.start()] and match.group()[0] in ".!?" and cut not in quote_ends):
                continue
            if match.group()[0] == "." and _is_abbreviation(text, match.start()):
                continue
            if cut > pos:
                spans.append((pos, cut))
            pos = cut
            while pos < p_end and text[pos].isspace():
                pos += 1
        if p_end > pos:
            spans.append((pos, p_end))
    return spans


# --- noun phrases and speakers -----------------------------------------------------------------------


@dataclass
class _Mention:
    start: int
    end: int
    text: str
    type: SpeakerType
    role: str | None = None
    name: str | None = None


def _tokens(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), m.group()) for m in _WORD_RE.finditer(text, start, end)]


def _is_cap(word: str) -> bool:
    return word[:1].isupper() or (word[:1].isdigit() and len(word) > 1 and word[-1:].isalpha())


def _classify(words: Sequence[str]) -> SpeakerType:
    lower = [w.lower().rstrip(".") for w in words]
    if not lower:
        return "unknown"
    head = lower[-1].removesuffix("’s").removesuffix("'s")
    if len(lower) == 1 and head in _PRONOUNS:
        return _PRONOUNS[head]
    if any(w in _ORG_WORDS for w in lower) or (len(words) == 1 and words[0].isupper() and len(words[0]) > 1):
        return "organization"
    if head in _GROUP_HEADS or (head.endswith("s") and not _is_cap(words[-1]) and head not in _TITLE_WORDS):
        return "group"
    if head.endswith(("ans", "ians", "ese")) and _is_cap(words[-1]) and len(words) <= 2:
        return "group"
    return "person"


_LONE_SPEAKERS = frozenset(_lexicon("another one"))
_NP_REACH = 120  # characters: no speaker phrase is longer, and tokenising less is faster


def _completed_head(toks: Sequence[tuple[int, int, str]], k: int) -> int:
    """Where the phrase that the noun phrase at `k` completes begins: "a spokeswoman for" the governor, "an
    aide to" the senator; `k` itself when no such phrase opens just before it."""
    if k < 3 or toks[k - 1][2].lower() not in ("of", "for", "to"):
        return k
    m = k - 2
    while m >= 0 and m > k - 5 and toks[m][2].isalpha():
        if toks[m][2].lower() in _DETERMINERS:
            return m if m < k - 2 else k
        if not toks[m][2].islower():
            break
        m -= 1
    return k


def _np_before(text: str, start: int, end: int) -> _Mention | None:
    """The noun phrase ending at `end` (after skipping auxiliaries and adverbs), not before `start`."""
    toks = _tokens(text, max(start, end - _NP_REACH), end)
    if start < end - _NP_REACH and toks:
        toks = toks[1:]  # the first token may be cut in half
    i = len(toks) - 1
    while i >= 0 and (
        toks[i][2].lower() in _AUX or (toks[i][2].lower().endswith("ly") and not _is_cap(toks[i][2]))
    ):
        i -= 1
    if i < 0:
        return None
    last = i
    word = toks[i][2]
    lw = word.lower()
    if (lw in _PRONOUNS and lw != "it") or (lw == "it" and i == 0):
        return _Mention(toks[i][0], toks[i][1], word, _PRONOUNS[lw])
    if lw in _PRONOUNS:
        return None
    if lw in _GROUP_HEADS and not _is_cap(word):
        # "officials said", "former campaign aides said": a bare plural group needs no determiner
        k = i
        while k > 0 and i - k < 3 and toks[k - 1][2].isalpha() and toks[k - 1][2].islower():
            k -= 1
        if k == 0 or not (toks[k - 1][2].lower() in _DETERMINERS or _is_cap(toks[k - 1][2])):
            while k < i and toks[k][2] in _NON_SPEAKER_CAPS | _AUX:
                k += 1
            return _Mention(toks[k][0], toks[i][1], text[toks[k][0] : toks[i][1]], "group")
    first = -1
    j = i
    has_cap = False
    while j >= 0:
        w = toks[j][2]
        lw = w.lower()
        if _is_cap(w) and lw not in _NON_SPEAKER_CAPS:
            has_cap = True
            first = j
        elif (lw in _NAME_PARTICLES and first == j + 1 and j > 0 and _is_cap(toks[j - 1][2])) or (
            lw in ("of", "for", "at", "and", "&") and first == j + 1 and j > 0 and _is_cap(toks[j - 1][2])
        ):
            first = j
        elif lw in ("the", "a", "an") and first == j + 1:
            first = j
            break
        elif w in ("’s", "'s") or (lw.endswith(("’s", "'s")) and first == j + 1):
            first = j
        elif not _is_cap(w) and w.isalpha() and first in (-1, j + 1) and j > 0 and j >= last - 5:
            # a lowercase head or modifier; only kept if a determiner opens the phrase
            k = j
            while (
                k >= 0
                and toks[k][2].isalpha()
                and not _is_cap(toks[k][2])
                and toks[k][2].lower() not in _DETERMINERS
            ):
                k -= 1
            if k >= 0 and toks[k][2].lower() in _DETERMINERS and last - k <= 6:
                # "At the rally Dee Hart said": a prepositional phrase before a name is no part of it
                if not (has_cap and k > 0 and _PREPOSITION_RE.fullmatch(toks[k - 1][2].lower())):
                    first = _completed_head(toks, k)
                break
            if (
                k >= 0
                and _is_cap(toks[k][2])
                and toks[k][2].lower() not in _NON_SPEAKER_CAPS
                and last - k <= 4
            ):
                j = k
                first = k
                has_cap = True
                while (
                    j - 1 >= 0 and _is_cap(toks[j - 1][2]) and toks[j - 1][2].lower() not in _NON_SPEAKER_CAPS
                ):
                    j -= 1
                    first = j
                if j - 1 >= 0 and toks[j - 1][2].lower() in _DETERMINERS:
                    first = j - 1
                break
            break
        else:
            break
        j -= 1
    if first < 0:
        return None
    while first <= last and toks[first][2].lower() in _NON_SPEAKER_CAPS - {"the"}:
        first += 1
    if first > last:
        return None
    s, e = toks[first][0], toks[last][1]
    words = [t[2] for t in toks[first : last + 1]]
    if not has_cap and words[0].lower() not in _DETERMINERS:
        return None
    if len(words) == 1 and words[0].lower() in _DETERMINERS:
        return None
    mention = text[s:e]
    return _Mention(s, e, mention, _classify(words))


def _np_after(text: str, start: int, end: int, titles: bool = False) -> _Mention | None:
    """The noun phrase starting at `start` ("said Smith, a spokesman"); with `titles`, lowercase titles
    may open it ("said former state senator Al Ray")."""
    toks = _tokens(text, start, end)
    if not toks:
        return None
    w0 = toks[0][2].lower()
    if w0 in _PRONOUNS and w0 != "it":
        return _Mention(toks[0][0], toks[0][1], toks[0][2], _PRONOUNS[w0])
    last = -1
    for j, (_, _, w) in enumerate(toks[:12]):
        lw = w.lower()
        if _is_cap(w) and lw not in _NON_SPEAKER_CAPS:
            last = j
        elif (
            (j == 0 and lw in _DETERMINERS)
            or (lw in _TITLE_WORDS and last == j - 1)
            # "said former state senator Al Ray": lowercase titles before a name
            or (titles and last == -1 and j < 5 and (lw in _TITLE_WORDS or lw in _ROLE_MODIFIERS))
            or (lw in _NAME_PARTICLES | {"of", "for", "and"} and last == j - 1)
        ):
            continue
        elif 0 < j <= 5 and w.isdigit() and toks[0][2].lower() in _DETERMINERS:
            continue  # "said a 2008 Clinton veteran"
        elif (
            w.isalpha()
            and not _is_cap(w)
            and toks[0][2].lower() in _DETERMINERS
            and j <= 5
            and lw not in _AUX
            and not lw.endswith("ed")
            and not _PREPOSITION_RE.fullmatch(lw)
        ):
            last = j
        else:
            break
    if last < 0:
        # "tweeted another.", "said one": the determiner alone is the speaker
        if w0 in _LONE_SPEAKERS and _ATTRIBUTION_END_RE.match(text, toks[0][1]):
            return _Mention(toks[0][0], toks[0][1], toks[0][2], "person")
        return None
    while last > 0 and toks[last][2].lower() in ("of", "for", "and"):
        last -= 1
    s, e = toks[0][0], toks[last][1]
    return _Mention(s, e, text[s:e], _classify([t[2] for t in toks[: last + 1]]))


_APPOSITION_RE = re.compile(
    r",\s+(?:who|which|whose|a|an|the|his|her|its|their|[A-Z][a-z]+’s|\d+|former|deputy|senior|chief|"
    r"director|spokesman|spokeswoman|president|chairman|head|founder|executive|member|leader|professor|"
    r"one|ranking|for\s+example|for\s+instance|however|too|meanwhile|in\s+turn|"
    r"in|at|on|during|after|before|speaking|clad|like|along|also|though|[a-z]+ing|[a-z]+ed)\b"
)


_PAREN_TAIL_RE = re.compile(r"\s*\([^()]{1,30}\)$")


def _speaker_before(text: str, sent_start: int, cue_start: int) -> _Mention | None:
    """The subject before a cue, looking through appositions such as "X, a spokesman for Y, said"."""
    pre_end = _trim_end(text, sent_start, cue_start)
    j = pre_end
    while j > sent_start and text[j - 1] in ",—–-":
        j -= 1
    window_start = max(sent_start, cue_start - 300)
    if text[pre_end - 1 : pre_end] in (",", "—", "–") and pre_end > sent_start:
        for match in _APPOSITION_RE.finditer(text, window_start, pre_end):
            head_end = match.start()
            if paren := _PAREN_TAIL_RE.search(text, window_start, head_end):
                head_end = paren.start()
            mention = _np_before(text, window_start, head_end)
            if mention is not None:
                return mention
        # "the agency's spokesman, Jo Earl, said": a name set off by commas is the speaker
        if paren := _PAREN_TAIL_RE.search(text, window_start, j):
            j = paren.start()
        name = _np_before(text, window_start, j)
        if name is not None and _is_cap(name.text) and text[: name.start].rstrip().endswith(","):
            return name
        return None
    if paren := _PAREN_TAIL_RE.search(text, window_start, j):
        j = paren.start()
    return _np_before(text, window_start, j)


# --- entities and resolution -------------------------------------------------------------------------

_NAME_RE = re.compile(
    r"(?=[A-Z])\b(?:[A-Z][\w’'-]+|[A-Z]\.)(?:[ \t]+|\n(?=\S))"
    r"(?:(?:[ \t]*(?:al-|bin\s+|ibn\s+|de\s+|van\s+|von\s+|al\s+)?"
    r"[A-Z][\w’'-]+|[A-Z]\.)(?:[ \t]+|\n(?=\S)|(?=\W)))*(?<=\w|\.)"
)
_CAPITALISED_RE = re.compile(r"(?=[A-Z])\b[A-Z][\w’'-]+")
_ROLE_WORD_RE = re.compile(r"^[A-Z][a-z]+(?:i|ian|an|ese|ish|ch)$")


@dataclass
class _Person:
    name: str
    role: str | None
    keys: set[str] = field(default_factory=set)


def _split_role(words: list[str]) -> tuple[list[str], list[str]]:
    """Leading titles ("Iraqi Prime Minister") and the name that follows them."""
    k = 0
    saw_title = False
    while k < len(words) - 1:
        lw = words[k].lower()
        if lw in _TITLE_WORDS:
            saw_title = True
        elif not (_ROLE_WORD_RE.match(words[k]) and words[k + 1].lower() in _TITLE_WORDS):
            break
        k += 1
    if not saw_title:
        return [], words
    return words[:k], words[k:]


_ARTICLE_PREFIX_RE = re.compile(r"^(?:al-|Al-|el-)")
_INITIAL_RE = re.compile(r"[A-Z]\.")


@lru_cache(maxsize=1 << 16)
def _surname(word: str) -> str:
    return _ARTICLE_PREFIX_RE.sub("", word).rstrip(".’'s").lower()


class _Entities:
    """The people and organisations an article names, for canonical names and `about`."""

    def __init__(self, text: str) -> None:
        self.people: list[tuple[int, _Person]] = []
        self.by_key: dict[str, _Person] = {}
        self.by_role: dict[str, _Person] = {}
        for match in _NAME_RE.finditer(text):
            words = match.group().split()
            while words and words[0].lower() in _NON_SPEAKER_CAPS:
                words = words[1:]
            role, name = _split_role(words)
            name = [w.rstrip(".") if not _INITIAL_RE.fullmatch(w) else w for w in name]
            if len(name) < 2 or any(w.lower() in _ORG_WORDS for w in name):
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

    def resolve(self, mention: _Mention, text_before: int) -> str | None:
        words = mention.text.split()
        if mention.type == "group":
            return mention.text
        if len(words) == 1 and words[0].lower() in _PRONOUNS:
            if words[0].lower() not in ("he", "she", "who"):
                return None
            before = bisect_left(self.people, text_before, key=lambda entry: entry[0])
            return self.people[before - 1][1].name if before else None
        clean = [w for w in words if w.lower() not in _HONORIFICS]
        if clean and clean[0].lower() in _DETERMINERS:
            key = " ".join(clean[1:]).lower()
            for k in (key, " ".join(key.split()[-2:]), key.split()[-1] if key else ""):
                if k in self.by_role:
                    return self.by_role[k].name
            return mention.text
        _, name = _split_role(clean)
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
                _, name = _split_role(match.group().split())
                if name and (found := self.by_key.get(" ".join(name).lower())) is not None:
                    names.append(found.name)
            for match in _CAPITALISED_RE.finditer(text, s, e):
                found = self.by_key.get(_surname(match.group()))
                if found is not None:
                    names.append(found.name)
        return [Entity(name=n) for n in dict.fromkeys(names)]


# --- attribution -------------------------------------------------------------------------------------


@dataclass
class _Record:
    fragments: list[Span]
    kind: Kind
    mention: _Mention | None
    cue: Span | None


_CLAUSE_END_RE = re.compile(
    r"(?=[,;”\"'\s])(?:,[”\"']*\s+(?:and\s+|while\s+)?(?:also\s+|then\s+)?(?!(?:includ|dur|someth|noth|anyth|everyth)ing\b)[a-z]+ing\b|[”\"']*\s+and\s+(?:also\s+|then\s+)?"
    r"(?:adding|saying|noting|arguing|calling|pledging|vowing|insisting|warning|stressing|expressing)\b"
    r"|,[”\"']*\s+(?:but|which|while|although|though|whereas)\b|;\s"
    # after a quotation, "and" + a new subject starts a new clause: called him a “fraud” and she left
    r"|(?<=[”\"'])\s+and\s+(?=(?:he|she|they|then|[A-Z][a-z]+)\b)"
    # a second reporting verb starts a statement of its own: "… and said …", "X, who asked …, said …"
    r"|(?:,[”\"']*\s+(?:and\s+)?|[”\"']*\s+and\s+)(?:also\s+|then\s+|later\s+)?"
    r"(?:said|told|added|suggested|argued|insisted|warned|noted|called|accused|urged|vowed|pledged|promised|"
    r"continued|lamented|asked|acknowledged|admitted|claimed|predicted|explained|dismissed|blamed|"
    r"criticized|praised|described|declared|announced|complained|wrote|tweeted)\b)"
)
_SOFT_CLAUSE_WORDS = ("but", "which", "while", "although", "though", "whereas")
_CLAUSE_START_RE = re.compile(r"(?:,[”\"']*\s+(?:but|and|while|yet|so)|;)\s+")
_INTRO_RE = re.compile(
    r"(?:During|After|Before|In|On|At|Meanwhile|However|Later|Earlier|Since|When|While|As|Asked|But|And|"
    r"[A-Z][a-z]+ing)\b[^,]{0,80},\s*",
    re.IGNORECASE,
)
_CLAUSE_ADVERB_RE = re.compile(r"(?:(?:then|but|and|so|still|yet|later|meanwhile|also)\s+)+", re.IGNORECASE)
_DOCUMENT_LEAD_RE = re.compile(r"\b(?:statement|letter|tweet|message|memo|email|video|ad|release|post)s?\s+$")
_AND_LEAD_RE = re.compile(r",?\s*\b(?:and|but)\s+(?:then\s+|also\s+)?$")
_PARTICIPLE_LEAD_RE = re.compile(r"(?:,[”\"']*|\band)\s+(?:also\s+|then\s+|instead\s+)?$")
_PREPOSITION_RE = re.compile(
    r"(?:in|on|at|during|with|of|to|for|from|after|before|last|this|when|into|through|by|as|"
    r"over|against|up|out|back|down|off)\b",
    re.IGNORECASE,
)
_SENTENCE_GAP_RE = re.compile(r"[a-z]{3}[.!?]\s")
_ATTRIBUTION_END_RE = re.compile(r"[ \t]*(?:[.,;:!?]|$)", re.MULTILINE)
_AFTER_LEAD_RE = re.compile(r"[\s,—–-]*")
# Between a cue and the colon or comma opening a quote: "told reporters on Tuesday", "wrote in a statement".
_LEAD_TAIL_RE = re.compile(r"(?:\s+[^\s,:;.!?“”\"]+){0,8}\s*")
_LABEL_RE = re.compile(
    r"((?:[A-Z][\w.’'-]*[ \t]+){0,3}[A-Z][\w.’'-]*)(?:,[ \t]+[^,:;.!?“”\"\n]{2,60})?[ \t]*"
)
_NAMING_LEAD_RE = re.compile(
    r"\b(?:call(?:s|ed|ing)?|label(?:s|ed|led|ing|ling)?|dub(?:s|bed|bing)?|brand(?:s|ed|ing)?|"
    r"thank(?:s|ed|ing)?)(?:\s+[^\s,:;.!?“”\"]+){0,5}?\s*$"
)
_NO_TAIL_RE = re.compile(r"\s*")
_SUBORDINATE_RE = re.compile(r"\b(?:that|because|if|unless|although|though|whether)\b")
# A `that` with nothing but a quotation after it joins the cue to a direct statement: no word of it.
_JOINING_THAT_RE = re.compile(r"that\s*$")
_INVERTED_CUE_RE = re.compile(r"(?:Said|Says|Added|Adds|Asked|Asks|Wrote|Writes|Replied|Explained)\b")
_MODIFIERS_RE = re.compile(r"[\w’'.-]*(?:,?\s+[\w’'.-]+)*,?\s*")
_LATE_THAT_RE = re.compile(r"(?:on|in|at|during|after|before|last|this|to)\b[^,.“”\"]{0,60}?\bthat\b")
_TOLD_THAT_RE = re.compile(r"[^,.;:“”\"]{0,100}?\bthat\b")
_THAT_RE = re.compile(r"\s*(?:(?:instead|also|again|repeatedly|publicly|privately)\s+)?(?:that\b\s*)?")
_TOLD_OBJECT_RE = re.compile(
    r"\s+(?:(?:him|her|them|me|us|you|reporters|journalists|supporters|the\s+crowd|an?\s+(?:audience|crowd|interviewer)|"
    r"[A-Z][\w.&’'-]*(?:\s+[A-Z][\w.&’'-]*){0,4})(?:\s+(?:on|in|at|last|this|during)\s+[\w.’' -]{1,40}?)?)?"
    r"(?:\s*,)?\s*(?:that\b\s*)?"
)


_CLOSING_MARKS = "”\"'»’"
_ORPHAN_GAP = " \t\n\u00a0.;:!?”\"'»’"


def _last_inside(text: str, end: int) -> str:
    """The last character before a quote's closing marks."""
    return text[max(0, end - 4) : end].rstrip(_CLOSING_MARKS)[-1:]


def _after_attribution(text: str, end: int, limit: int) -> tuple[_Mention, Span, int] | None:
    """“…,” he said / said Smith / Smith, a spokesman, said — right after a quote, within `limit`."""
    if _last_inside(text, end) == "." or "\n" in text[end : end + 3]:
        return None
    lead = _AFTER_LEAD_RE.match(text, end, limit)
    pos = lead.end() if lead else end
    window = min(limit, pos + 160)
    # a noun that looks like a cue ("the report concluded") gives way to the next candidate
    for n, cue in enumerate(_AFTER_CUE_RE.finditer(text, pos, window)):
        if n == 2:
            break
        between = text[pos : cue.start()]
        if any(c in between for c in '“”"') or "''" in between or _SENTENCE_GAP_RE.search(between):
            return None
        # “Boots on the ground” would do, said Al Ray: the quote runs on into its sentence
        if (
            _last_inside(text, end) not in ",!?"
            and between.rstrip().endswith(",")
            and (mention := _np_after(text, cue.end(), window, titles=True)) is not None
        ):
            return mention, (cue.start(), cue.end()), mention.end
        found = _attribution_at(text, pos, cue, window)
        if found is not None:
            return found
    return None


def _attribution_at(
    text: str, pos: int, cue: re.Match[str], window: int
) -> tuple[_Mention, Span, int] | None:
    if cue.start() == pos:
        mention = _np_after(text, cue.end(), window, titles=True)
        if mention is None:
            return None
        return mention, (cue.start(), cue.end()), mention.end
    if len(text[pos : cue.start()].split()) > 25:
        return None
    mention = _np_after(text, pos, cue.start())
    if mention is None or (
        _ALNUM_RE.search(text, mention.end, cue.start())
        and not text[mention.end : cue.start()].lstrip().startswith(",")
        and not all(w.lower() in _AUX or w.endswith("ly") for w in text[mention.end : cue.start()].split())
    ):
        # "campaign manager Jane Doe told", "Rep. Ann Cole (D-Iowa), an aide, said": parse back from the cue.
        mention = _speaker_before(text, pos, cue.start())
        if mention is None or not _MODIFIERS_RE.fullmatch(text, pos, mention.start):
            return None
    return mention, (cue.start(), cue.end()), cue.end()


_SOURCE_PHRASE_RE = re.compile(r"\s*([^,;:“”\"()]{2,80}?)\s*(?:[,;:(]|[.!?]?$)")


def _source_phrase(text: str, start: int, end: int) -> _Mention | None:
    """ "according to federal statistics": any short phrase up to the next comma names the source."""
    match = _SOURCE_PHRASE_RE.match(text, start, end)
    if match is None or len(match.group(1).split()) > 10:
        return None
    words = match.group(1).split()
    return _Mention(match.start(1), match.end(1), match.group(1), _classify(words))


def _clause_end(text: str, pos: int, sent_end: int) -> int:
    return pos + len(text[pos:sent_end].rstrip())


def _content_kind(alnum: bytes, quoted: bytes, fragments: Sequence[Span]) -> Kind:
    """The kind, decided by the statement's own words (extract@v2 and README define it the same way):
    direct when every letter and digit of them is inside quotation marks, mixed when some are, indirect
    when none are. The speaker, the cue and a `that` joining them to the statement are not its words, so
    `saying that “Iraq stands with Iran”` is direct (see `_JOINING_THAT_RE`)."""
    chars = sum(alnum[s:e].count(1) for s, e in fragments)
    inside = sum(quoted[s:e].count(1) for s, e in fragments)
    if chars and inside == chars:
        return "direct"
    return "mixed" if inside else "indirect"


def _strip_span(text: str, start: int, end: int) -> Span:
    while start < end and (text[start].isspace() or text[start] in ",:;—–-"):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",.:;—–-"):
        end -= 1
    return start, end


def _words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


_ASCII_ALNUM = bytes(int(chr(b).isalnum()) for b in range(256))
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


def _alnum_mask(text: str) -> bytes:
    """One byte per character, 1 where it is a letter or digit, with C-level work for the ASCII majority."""
    mask = text.encode("ascii", "replace").translate(_ASCII_ALNUM)
    if text.isascii():
        return mask
    patched = bytearray(mask)
    for match in _NON_ASCII_RE.finditer(text):
        patched[match.start() : match.end()] = bytes(map(str.isalnum, match.group()))
    return bytes(patched)


class _Extractor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.paragraphs = _paragraphs(text)
        all_units = _quote_units(text, self.paragraphs)
        self.units = all_units
        self.alnum = _alnum_mask(text)
        quoted = bytearray(len(text))
        for unit in all_units:
            for s, e in unit.fragments:
                quoted[s:e] = self.alnum[s:e]
        self.quoted = bytes(quoted)
        in_quote = bytearray(len(text) + 1)
        for unit in all_units:
            for s, e in unit.fragments:
                in_quote[s:e] = b"\x01" * (e - s)
        self.in_quote = bytes(in_quote)
        self.long_units = [u for u in all_units if self._is_long(u)]
        self.unit_end_at = {u.start: u.end for u in self.long_units}
        self.sentences = _sentences(text, self.paragraphs, [f for u in self.long_units for f in u.fragments])
        self.used = bytearray(len(text) + 1)
        self.orphans: list[_QuoteUnit] = []

    def _is_long(self, unit: _QuoteUnit) -> bool:
        words = sum(_words(self.text, s, e) for s, e in unit.fragments)
        inner = self.text[unit.start : unit.end].rstrip("”\"'» ")
        return words >= 4 or (words >= 1 and inner[-1:] in ".!?,")

    def _sentence_of(self, pos: int) -> Span:
        lo, hi = 0, len(self.sentences) - 1
        while lo <= hi:
            mid = (lo + hi) // 2
            s, e = self.sentences[mid]
            if pos < s:
                hi = mid - 1
            elif pos >= e:
                lo = mid + 1
            else:
                return s, e
        return pos, pos

    def _paragraph_end(self, pos: int) -> int:
        for s, e in self.paragraphs:
            if s <= pos < e:
                return e
        return len(self.text)

    def _mark_used(self, fragments: Sequence[Span]) -> None:
        for s, e in fragments:
            self.used[s:e] = b"\x01" * (e - s)

    def run(self) -> list[_Record]:
        records = self._direct()
        records += self._reported()
        self._attach_orphans(records)
        return records

    def _attach_orphans(self, records: Sequence[_Record]) -> None:
        """She says the plan works. “It saved us a year.”: an unattributed quote right after a reported
        statement in the same paragraph continues it."""
        by_end = {r.fragments[-1][1]: r for r in records if r.kind != "direct"}
        if not by_end:
            return
        for unit in self.orphans:
            gap_start = unit.start
            while gap_start > 0 and self.text[gap_start - 1] in _ORPHAN_GAP:
                gap_start -= 1
            record = by_end.pop(gap_start, None)
            if record is None or "\n" in self.text[gap_start : unit.start]:
                continue
            record.fragments.extend(unit.fragments)
            record.kind = _content_kind(self.alnum, self.quoted, record.fragments)
            by_end[unit.end] = record

    # direct quotes and their split continuations

    def _direct(self) -> list[_Record]:
        text = self.text
        records: list[_Record] = []
        units = self.long_units
        k = 0
        while k < len(units):
            unit = units[k]
            fragments = list(unit.fragments)
            para_end = self._paragraph_end(unit.end - 1)
            mention: _Mention | None = None
            cue: Span | None = None
            after = _after_attribution(text, unit.end, para_end)
            k += 1
            # a short quote inside a sentence whose "he said" goes on with content is part of that statement
            if (
                after is not None
                and _words(text, unit.start, unit.end) < 4
                and self._sentence_of(unit.start)[0] < unit.start
                and not _ATTRIBUTION_END_RE.match(text, after[2])
            ):
                after = None
            kind: Kind = "direct"
            if after is not None:
                mention, cue, attr_end = after
                run_on = text[unit.end : min(mention.start, cue[0])].rstrip()
                if (
                    _ALNUM_RE.search(run_on)
                    and run_on.endswith(",")
                    and _last_inside(text, unit.end) not in ",.!?"
                ):
                    fragments[-1] = (fragments[-1][0], unit.end + len(run_on) - 1)
                    kind = "mixed"
                lead_start = self._mid_sentence_lead(unit.start)
                if lead_start is not None:
                    # The town wants a mayor “who …,” she said: the statement starts with the sentence
                    fragments[0] = (lead_start, fragments[0][1])
                    kind = "mixed"
                while k < len(units) and units[k].start < para_end:
                    gap = text[attr_end : units[k].start]
                    if self._title_in_attribution(units, k, gap, para_end):
                        # “…,” he said on “Morning Talk.” “…”: the quoted show name is part of the attribution
                        attr_end = units[k].end
                        k += 1
                        continue
                    _, sent_end = self._sentence_of(attr_end)
                    if _ALNUM_RE.search(gap) and not (
                        sent_end <= units[k].start and not text[sent_end : units[k].start].strip()
                    ):
                        break
                    nxt = units[k]
                    if _after_attribution(text, nxt.end, self._paragraph_end(nxt.end - 1)) is not None:
                        break
                    fragments += nxt.fragments
                    attr_end = nxt.end
                    k += 1
                k = self._absorb_quote_paragraphs(units, k, fragments, para_end)
            else:
                before = self._before_attribution(unit.start)
                if before is not None:
                    mention, cue = before
                    # "She said because turnout was low, “we lost.”": the clause is part of the statement
                    clause = _SUBORDINATE_RE.search(text, cue[1], unit.start)
                    if clause and not _JOINING_THAT_RE.match(text, clause.start(), unit.start):
                        fragments[0] = (clause.start(), fragments[0][1])
                        kind = "mixed"
            if mention is None and not self._stands_alone(unit):
                self.orphans.append(unit)
                continue
            used = [(fragments[0][0], fragments[-1][1])]
            if cue is not None and mention is not None:
                # the attribution itself ("he told CNN", "she said: ") is no statement of its own
                if cue[0] >= fragments[-1][1]:
                    used.append((fragments[-1][1], max(cue[1], mention.end)))
                else:
                    used.append(cue)
            self._mark_used(used)
            records.append(_Record(fragments, kind, mention, cue))
        return records

    def _title_in_attribution(self, units: Sequence[_QuoteUnit], k: int, gap: str, para_end: int) -> bool:
        unit = units[k]
        return (
            k + 1 < len(units)
            and units[k + 1].start < para_end
            and not self.text[unit.end : units[k + 1].start].strip()
            and not any(c in gap for c in ".!?;,:")
            and _words(self.text, unit.start, unit.end) <= 6
            and self.text[unit.start : unit.end].rstrip(_CLOSING_MARKS)[-1:] == "."
        )

    def _absorb_quote_paragraphs(
        self, units: Sequence[_QuoteUnit], k: int, fragments: list[Span], para_end: int
    ) -> int:
        """Paragraphs right after an attributed quote that hold nothing but quotation continue it."""
        text = self.text
        while k < len(units) and units[k].start >= para_end and not text[para_end : units[k].start].strip():
            start = units[k].start
            end = self._paragraph_end(start)
            last = k
            while last + 1 < len(units) and units[last + 1].start < end:
                last += 1
            outside = [text[units[i].end : units[i + 1].start] for i in range(k, last)]
            outside.append(text[units[last].end : end])
            if any(_ALNUM_RE.search(gap) for gap in outside) or (
                _after_attribution(text, units[last].end, end) is not None
            ):
                break
            for unit in units[k : last + 1]:
                fragments += unit.fragments
            k, para_end = last + 1, end
        return k

    def _mid_sentence_lead(self, start: int) -> int | None:
        """Where the sentence starts if a quote's sentence has words of its own before it (not "He said:")."""
        s_start, _ = self._sentence_of(start)
        lead = self.text[s_start:start]
        if not _ALNUM_RE.search(lead) or lead.rstrip()[-1:] in ":—–-" or self.in_quote[s_start]:
            return None
        # "When it comes to taxes, “…,” she said": a lead-in phrase without a cue is part of the statement
        if lead.rstrip().endswith(",") and _AFTER_CUE_RE.search(self.text, s_start, start):
            return None
        # "While it is early, and the bill is “doomed,” she said": the statement is the last clause
        clause = s_start
        for match in _CLAUSE_START_RE.finditer(self.text, s_start, start):
            if not self.in_quote[match.start()]:
                clause = match.end()
        return clause

    def _stands_alone(self, unit: _QuoteUnit) -> bool:
        return False

    def _before_attribution(self, start: int) -> tuple[_Mention, Span] | None:
        """He said: “…” / she told reporters, “…” / Smith declared “…!” — the cue ends the lead-in."""
        text = self.text
        s_start, _ = self._sentence_of(start)
        lead = text[max(s_start, start - 200) : start]
        if not lead.strip():
            prev = text[max(0, start - 300) : start].rstrip()
            if not prev.endswith(":"):
                return None
            s_start, _ = self._sentence_of(len(prev) - 1 + max(0, start - 300))
            lead_end = max(0, start - 300) + len(prev) - 1
        else:
            stripped = lead.rstrip()
            lead_end = start - (len(lead) - len(stripped))
            if stripped.endswith((":", ",")):
                lead_end -= 1
            elif not self._ends_statement(start):
                return None
        if text[lead_end : lead_end + 1] not in ":," and self._earlier_cue(s_start, lead_end):
            # "X said the staff kept calling “every hour.”": the quote belongs to X's mixed statement
            return None
        if (
            text[lead_end : lead_end + 1] not in ":,"
            and _words(text, start, self.unit_end_at.get(start, start)) >= 4
            and (naming := _NAMING_LEAD_RE.search(text, max(s_start, lead_end - 80), lead_end))
        ):
            # She dubbed the budget “a fairy tale for adults.”: a long quoted label is the whole statement;
            # with a short one ("called it “a farce.”") the object belongs to the statement too
            verb = (naming.start(), naming.start() + len(naming.group().split()[0]))
            subject = self._clause_subject(s_start, naming.start())
            return (subject, verb) if subject is not None else None
        cue = _INVERTED_CUE_RE.match(text, s_start, lead_end)
        for match in _AFTER_CUE_RE.finditer(text, s_start, lead_end):
            cue = match
        if cue is None and text[lead_end : lead_end + 1] == ":":
            return self._label_attribution(s_start, lead_end)
        if cue is None or self.in_quote[cue.start()]:
            return None
        tail = _LEAD_TAIL_RE if text[lead_end : lead_end + 1] in ":," else _NO_TAIL_RE
        if not tail.fullmatch(text, cue.end(), lead_end):
            return None
        word = cue.group().lower()
        if word.startswith("according") or not text[s_start : cue.start()].strip():
            # "According to X, …" and the inverted "Said X, …"
            mention = _np_after(text, cue.end(), lead_end)
        elif coordinated := _AND_LEAD_RE.search(text, max(s_start, cue.start() - 12), cue.start()):
            mention = self._clause_subject(s_start, coordinated.start())
        elif word.endswith("ing"):
            mention = self._clause_subject(s_start, cue.start())
        else:
            mention = _speaker_before(text, s_start, cue.start())
        if mention is None:
            return None
        return mention, (cue.start(), cue.end())

    def _earlier_cue(self, s_start: int, end: int) -> bool:
        """Whether a reporting verb outside quotation marks comes before the last one in text[s_start:end]."""
        last = None
        for match in _AFTER_CUE_RE.finditer(self.text, s_start, end):
            last = match.start()
        if last is None:
            return False
        return any(not self.in_quote[m.start()] for m in _CUE_RE.finditer(self.text, s_start, last))

    def _label_attribution(self, s_start: int, colon: int) -> tuple[_Mention, Span] | None:
        """Jo Earl, an economist: “…” — a bare name (with an apposition) before a colon is the speaker."""
        label = _LABEL_RE.fullmatch(self.text, s_start, colon)
        if label is None:
            # "The mayor turned to the council: “…”": a person as the subject of the lead-in speaks
            subject = self._clause_subject(s_start, colon)
            if subject is None or subject.type != "person" or self.in_quote[s_start]:
                return None
            return subject, (colon, colon + 1)
        mention = _np_after(self.text, s_start, label.end(1))
        if mention is None or mention.type == "unknown" or not _is_cap(mention.text):
            return None
        return mention, (colon, colon + 1)

    def _ends_statement(self, start: int) -> bool:
        """A quote right after its cue, without a comma, is the whole statement only if nothing follows it."""
        unit_end = self.unit_end_at.get(start, start)
        inner = self.text[start:unit_end].rstrip("”\"'» ")
        after = self.text[unit_end : unit_end + 3].lstrip(" ")
        return inner[-1:] in ".!?" or not after or after[0] in ".\n"

    # mixed and indirect statements

    def _reported(self) -> list[_Record]:
        text = self.text
        records: list[_Record] = []
        # one scan of the whole text; a cue is then placed in its sentence
        for cue in _CUE_RE.finditer(text):
            if self.used[cue.start()] or self.in_quote[cue.start()]:
                continue
            s_start, s_end = self._sentence_of(cue.start())
            if cue.end() <= s_end:
                record = self._reported_at(cue, s_start, s_end, records)
                if record is not None:
                    self._mark_used([(record.fragments[0][0], record.fragments[-1][1])])
                    records.append(record)
        return records

    def _content_end(self, start: int, end: int) -> int:
        """Where a statement's content stops: the sentence end or a new clause outside quotation marks."""
        for match in _CLAUSE_END_RE.finditer(self.text, start, end):
            if not self.in_quote[match.end() - 1]:
                # "X said the plan failed, but that it was “a start”": the quotation is the point
                if match.group().lstrip(",”\"' ").startswith(_SOFT_CLAUSE_WORDS) and (
                    1 in self.quoted[match.end() : end] and 1 not in self.quoted[start : match.start()]
                ):
                    continue
                cut = match.start()
                while self.in_quote[cut] and cut < match.end():
                    cut += 1
                return cut
        return end

    def _clause_subject(self, s_start: int, cue_start: int) -> _Mention | None:
        """The subject of the clause a participle (", saying …") hangs on."""
        text = self.text
        clause = s_start
        for match in _CLAUSE_START_RE.finditer(text, s_start, cue_start):
            if not self.in_quote[match.end() - 1]:
                clause = match.end()
        if clause == s_start:
            # "On Monday, after a long silence, X said …": any number of introductory phrases
            while intro := _INTRO_RE.match(text, clause, cue_start):
                clause = intro.end()
        if lead := _CLAUSE_ADVERB_RE.match(text, clause, cue_start):
            clause = lead.end()
        return _np_after(text, clause, cue_start)

    def _reported_at(
        self, cue: re.Match[str], s_start: int, s_end: int, records: Sequence[_Record]
    ) -> _Record | None:
        text = self.text
        word = cue.group().lower()
        end = self._content_end(cue.end(), _clause_end(text, cue.end(), s_end))
        if word.startswith("according"):
            mention = _np_after(text, cue.end(), end) or _source_phrase(text, cue.end(), end)
            if mention is None:
                return None
            if cue.start() - s_start < 3:
                comma = text.find(",", mention.end, end)
                if comma < 0:
                    return None
                content = _strip_span(text, comma + 1, end)
            else:
                content = _strip_span(text, s_start, cue.start())
            return self._make(content, mention, cue)
        if word in _QUOTING_ONLY_CUES and 1 not in self.quoted[cue.end() : end]:
            return None
        participle = word.split()[0].endswith("ing") and _PARTICIPLE_LEAD_RE.search(
            text, max(s_start, cue.start() - 12), cue.start()
        )
        if participle:
            previous = records[-1] if records and records[-1].fragments[0][0] >= s_start else None
            new_clause = previous is not None and any(
                not self.in_quote[m.end() - 1]
                for m in _CLAUSE_START_RE.finditer(text, previous.fragments[-1][1] - 3, cue.start())
            )
            if previous is not None and not new_clause:
                mention = previous.mention
            else:
                mention = self._clause_subject(s_start, cue.start())
        elif coordinated := _AND_LEAD_RE.search(text, max(s_start, cue.start() - 12), cue.start()):
            # "X toured the site and said …": the subject of the first verb speaks
            mention = self._clause_subject(s_start, coordinated.start())
        elif word.endswith("ing") and _DOCUMENT_LEAD_RE.search(
            text, max(s_start, cue.start() - 30), cue.start()
        ):
            # "X released a statement saying …"
            mention = self._clause_subject(s_start, cue.start())
        elif word in _EVIDENCE_VERBS:
            mention = self._evidence_source(s_start, cue.start())
        else:
            mention = _speaker_before(text, s_start, cue.start())
            before = text[s_start : cue.start()].rstrip()
            if mention is None and before.endswith(",") and _SAY_RE.fullmatch(word):
                # "Prices will fall, said Al Ray, an economist.": the clause before the comma is the content
                mention = _np_after(text, cue.end(), end, titles=True)
                if (
                    mention is None
                    or _words(text, s_start, cue.start()) < 3
                    or not _ATTRIBUTION_END_RE.match(text, mention.end)
                ):
                    return None
                return self._make(_strip_span(text, s_start, cue.start()), mention, cue)
        if mention is None:
            return None
        prefix = text[s_start : mention.start]
        rest = text[cue.end() : end].split()
        if (
            mention.start > s_start
            and prefix.rstrip().endswith(",")
            and len(rest) <= 6
            and 1 not in self.quoted[cue.end() : end]
            and not _INTRO_RE.fullmatch(text, s_start, mention.start)
        ):
            content = _strip_span(text, s_start, mention.start)
            if _words(text, *content) >= 3 and not (rest and rest[0].lower() == "that"):
                return self._make(content, mention, cue)
        obj = (
            _TOLD_OBJECT_RE.match(text, cue.end(), end)
            if word in ("told", "tells", "telling", "tell")
            else None
        )
        that = _THAT_RE.match(text, cue.end(), end)
        start = obj.end() if obj else that.end() if that else cue.end()
        if obj and not obj.group().rstrip().endswith("that"):
            # "told a radio host on Monday that …": the content starts at the first "that"
            if late_that := _TOLD_THAT_RE.match(text, cue.end(), end):
                start = late_that.end() - 4
        elif not obj and (late_that := _LATE_THAT_RE.match(text, start, end)):
            start = late_that.end() - 4
        lead = text[cue.end() : start].lower()
        if lead.strip().endswith("that"):
            # PolNeAR's annotators count "that" as the statement's; it is left out only before a direct one
            that_start = cue.end() + lead.rfind("that")
            if _content_kind(self.alnum, self.quoted, [_strip_span(text, start, end)]) != "direct":
                start = that_start
        content = _strip_span(text, start, end)
        if _words(text, *content) < 3 or (
            _PREPOSITION_RE.match(text, content[0])
            and not (word in _INTENT_CUES and text.startswith("to ", content[0]))
        ):
            return None
        return self._make(content, mention, cue)

    def _evidence_source(self, s_start: int, cue_start: int) -> _Mention | None:
        """The poll or study a "shows"/"found" hangs on: the last evidence noun shortly before the verb."""
        noun = None
        for match in _EVIDENCE_NOUN_RE.finditer(self.text, max(s_start, cue_start - 80), cue_start):
            noun = match
        if noun is None or any(c in self.text[noun.end() : cue_start] for c in '.;:“”"'):
            return None
        mention = _np_before(self.text, s_start, noun.end())
        if mention is None or mention.end != noun.end():
            return _Mention(noun.start(), noun.end(), noun.group(), "organization")
        return mention

    def _make(self, content: Span, mention: _Mention, cue: re.Match[str]) -> _Record | None:
        s, e = content
        if e <= s or any(self.used[s:e]):
            return None
        kind = _content_kind(self.alnum, self.quoted, [content])
        return _Record([content], kind, mention, (cue.start(), cue.end()))


def _speaker(text: str, record: _Record, entities: _Entities, resolved: dict[int, str]) -> Speaker:
    mention = record.mention
    if mention is None:
        return Speaker()
    name = entities.resolve(mention, mention.start)
    if mention.text.lower() == "who":
        name = resolved.get(mention.start, name)
    role = None
    if mention.type == "person" and not mention.text[:1].islower():
        role_words, _ = _split_role(mention.text.split())
        role = " ".join(role_words) or None
    return Speaker(
        name=name, mention=mention.text, start=mention.start, end=mention.end, type=mention.type, role=role
    )


def _who_antecedents(text: str, records: Sequence[_Record]) -> dict[int, str]:
    """ "X, who said …": the relative pronoun's antecedent is the noun phrase just before its comma."""
    out: dict[int, str] = {}
    for record in records:
        mention = record.mention
        if mention is None or mention.text.lower() != "who":
            continue
        comma = _trim_end(text, 0, mention.start)
        antecedent = _np_before(text, max(0, comma - 120), max(0, comma - 1))
        if antecedent is not None:
            out[mention.start] = antecedent.text
    return out


def extract_quotes(text: str) -> list[Quote]:
    """Every direct, mixed and indirect statement in `text`, with offsets into it."""
    extractor = _Extractor(text)
    records = sorted(extractor.run(), key=lambda r: r.fragments[0][0])
    entities = _Entities(text)
    antecedents = {
        pos: entities.resolve(_Mention(0, 0, name, "person"), pos) or name
        for pos, name in _who_antecedents(text, records).items()
    }
    quotes: list[Quote] = []
    for n, record in enumerate(records, start=1):
        start, end = record.fragments[0][0], record.fragments[-1][1]
        cue_start, cue_end = record.cue if record.cue else (None, None)
        quotes.append(
            Quote(
                id=f"q{n}",
                text=text[start:end],
                start=start,
                end=end,
                kind=record.kind,
                speaker=_speaker(text, record, entities, antecedents),
                cue=text[cue_start:cue_end] if cue_start is not None else None,
                cue_start=cue_start,
                cue_end=cue_end,
                about=entities.about(text, record.fragments),
                spans=list(record.fragments),
            )
        )
    return quotes


def _iter_offset(quotes: Sequence[Quote], offset: int) -> Iterator[Quote]:
    for quote in quotes:
        if not offset:
            yield quote
            continue
        speaker = quote.speaker.model_copy(
            update={
                "start": None if quote.speaker.start is None else quote.speaker.start + offset,
                "end": None if quote.speaker.end is None else quote.speaker.end + offset,
            }
        )
        yield quote.model_copy(
            update={
                "start": quote.start + offset,
                "end": quote.end + offset,
                "cue_start": None if quote.cue_start is None else quote.cue_start + offset,
                "cue_end": None if quote.cue_end is None else quote.cue_end + offset,
                "spans": [(s + offset, e + offset) for s, e in quote.spans],
                "speaker": speaker,
            }
        )


class RulesBackend:
    """The Backend protocol over `extract_quotes`: whole article in one chunk, no I/O, free."""

    @property
    def provenance(self) -> Provenance:
        return Provenance(backend="rules", model=f"quotes-rules/{RULES_VERSION}")

    @property
    def chunk_size(self) -> int | None:
        return None

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        quotes = list(_iter_offset(extract_quotes(chunk.text), chunk.start))
        return ChunkAnswer(quotes=[q.model_copy(update={"chunk": chunk.index}) for q in quotes])

    async def aclose(self) -> None:
        return None
