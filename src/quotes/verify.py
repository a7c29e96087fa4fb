"""Claims → verdicts: did X really say Y, here?

A claim is judged against one article's Extraction, words first (compared by `quotes.wording`, so
quotation marks, case, punctuation and harmless variants such as spelling or the person shift of reported
speech do not count):
1. the claim's words, or the closest run of words, in each extracted statement and in the whole text;
2. the closest of these decides, and every problem with it is reported: the words are given to someone
   other than the claimed speaker (misattributed), to no one or to a name that fits two people the
   article quotes (unattributed), or differ in meaning (altered, with a word-level diff showing both
   sides). People's names are compared word by word (`_Speakers.match`), so the article's "Brandt" or
   "Ms. Brandt" is the claimed "Elena Brandt" unless someone else it quotes fits that name too. The
   verdict is the most serious problem, in the order of `SEVERITY`; `problems` lists them all;
3. when nothing in the article is close, a claim in the claimant's own words ("Rouhani said Iran wants
   ...") gets a paraphrase judgement: by the model with `prompts/verify` when the backend is an LLM,
   otherwise by content-word overlap with indirect and mixed statements;
4. else not_found: the words are not in the article. When the extraction failed where the answer could
   be, or the model's judgement failed, the verdict is could_not_check instead, with the reason, and no
   confidence.

Every verdict but could_not_check has a `confidence` (0-1): how far the evidence bears the label out (the
similarity of the words, the share of the claim inside the statement, how the label was judged).

The article is extracted once for all its claims; with an LLM backend the extraction and every judgement
go through the response store.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import csv
import difflib
import functools
import io
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from quotes.api import as_article
from quotes.articles import InputProblem, json_problem
from quotes.backends import ChunkFailed, OutputTruncated
from quotes.backends.llm import LLMBackend, LLMConfig
from quotes.grounding import SourceText
from quotes.pipeline import BackendChoice, Extractor, choose_backend
from quotes.prompts import Prompt, PromptError, load_prompt
from quotes.schema import (
    Article,
    ChunkError,
    Claim,
    Evidence,
    Extraction,
    Quote,
    Speaker,
    Usage,
    Verdict,
    VerdictLabel,
    VerifyAnswer,
)
from quotes.speakers import name_match, person_name, phrase_head
from quotes.store import StoreMiss
from quotes.wording import (
    Change,
    Comparison,
    Word,
    compare,
    ellipses,
    is_negation,
    joined,
    negated,
    numbers,
)
from quotes.wording import stem as _stem
from quotes.wording import words as tokenize

# Fuzzy similarity (rapidfuzz ratio of the normalized words, 0-100) from which a different wording counts
# as "altered" rather than "not_found".
ALTERED_MIN_SCORE = 75.0
# A negation this many words before a contained claim ("did not say X" around the claim "X") alters it.
NEGATION_LOOKBACK = 2
# Rules paraphrase judgement. A statement must agree with the claim on negation, hold every figure in it,
# share at least this many of its content words, and this share of them: a lower share when the claim
# has figures (they are the checkable core of a paraphrase), a high one when it has none.
PARAPHRASE_MIN_SHARED = 3
PARAPHRASE_MIN_SHARE = 0.75
PARAPHRASE_MIN_SHARE_WITH_FIGURES = 0.4
# How close the model's deciding sentence must be to the article's words to count as grounded.
SENTENCE_MIN_SCORE = 90.0

# The order of seriousness of a claim's problems: its verdict is the first it has. Words given to
# someone else contradict the claim outright; words given to no one leave the speaker open; a changed
# wording of the speaker's own statement is the least.
SEVERITY: tuple[VerdictLabel, ...] = ("not_found", "misattributed", "unattributed", "altered")
# How far (in words) the closest run of words may move at either end to match more of the claim's words.
REFINE_REACH = 2
# The edit-distance similarity (0-1) below which a run of words is too far from the claim to settle.
REFINE_FROM = 0.55
# How many words of the article an ellipsis in a claim may stand for.
ELLIPSIS_REACH = 40
# How far from words no statement covers a speaker mention is still offered as the nearest.
NEAREST_REACH = 300
# Confidence weights: of words matched only through harmless variants, of a rules paraphrase judgement
# (by the share of content words), and of a model's judgement.
VARIANT_CONFIDENCE = 0.95
PARAPHRASE_CONFIDENCE = 0.7
JUDGE_CONFIDENCE = 0.85
# Not found, without a model: a paraphrase the content-word overlap misses is possible.
RULES_ABSENT_CONFIDENCE = 0.9
# The similarity (rapidfuzz ratio) of unrelated words; closer words lower a not_found's confidence.
UNRELATED_SCORE = 55.0
# How far the article's speaker is the claimed one, as a weight on a verdict's confidence: by a part of
# the name ("Brandt" for "Elena Brandt", "E. Brandt", a first name) that fits no one else the article
# quotes; by a claimed part that also fits someone else it quotes ("Brandt" when it quotes Elena and Tom
# Brandt). The same name, a title the article gives them, or a body's name weigh 1.
PARTIAL_NAME_CONFIDENCE = 0.9
VAGUE_NAME_CONFIDENCE = 0.5

JUDGE_TASK = "verify"

_NOTHING_CLOSE = (
    "nothing in the article is close to these words, and no indirect or mixed statement shares enough of "
    "their content words (judged without a model)"
)


def _wordset(words: str) -> frozenset[str]:
    return frozenset(words.split())


_PRONOUNS = _wordset(
    "i me you he him she her it we us they them who whom whose which that this these those his its their one"
)
_NAME_FILLER = frozenset({"the", "a", "an", "mr", "mrs", "ms", "dr"})
_STOPWORDS = _wordset(
    """a an the and or but if of in on at to for from by with about as into over than that this these those
    it its is are was were be been being has have had do does did will would shall should can could may might
    must he she they we i you his her their our my your him them us me who whom which what there here also
    very so such said says say told tell according"""
)
# Words no person's name starts with, though an extraction's speaker phrase can: "Now Bloomberg", "Even
# Rendell", "Said Ellis" (not "Will" or "May": those are names too).
_NOT_FIRST_NAMES = _wordset(
    """now even without just only still when while after before then also so but and or yet said says told
    according as if though although because since until unless where the a an this that these those his her
    their its our my your"""
)
# A title run just before a name ("Iranian President Hassan Rouhani"), and an appositive just after one
# (", deputy director of ..." gives "deputy director"; ", Northland Grain's chief executive," all of it).
_TITLE_BEFORE = re.compile(r"(?<![\w'’-])((?:[A-Z](?:[\w'’-]*|[a-z]{0,3}\.)\s+){1,5})$")
_TITLE_AFTER = re.compile(
    r",\s+((?:[\w'’-]+\s+){0,4}?[\w'’-]+)(?=\s+(?:of|for|at|in|from|on|to|with)\b|\s*,)"
)
_CURLY = re.compile(r"“[^“”]*”")
_STRAIGHT = re.compile(r'"[^"\n]*"')
_CHANGES: dict[Change, str] = {
    "negation": "a negation added or dropped",
    "number": "a number changed",
    "name": "a name changed",
    "wording": "words replaced, added or left out",
}


def _content(tokens: Sequence[Word]) -> set[str]:
    return {_stem(w.norm) for w in tokens if w.norm not in _STOPWORDS}


# --- speakers ------------------------------------------------------------------------------------------


def _name_words(text: str) -> tuple[str, ...]:
    words = (w.norm.removesuffix("'s") for w in tokenize(text))
    return tuple(w for w in words if w and w not in _NAME_FILLER)


def speaker_name(speaker: Speaker) -> str | None:
    """Who a speaker is, for a verdict: the canonical name, else the mention when it is not a pronoun."""
    if speaker.name:
        return speaker.name
    if speaker.mention and not set(_name_words(speaker.mention)) <= _PRONOUNS:
        return speaker.mention
    return None


def _title(words: str, names: set[str] | frozenset[str]) -> tuple[str, ...]:
    """The words of a title or mention without the name words at its end ("Farm union leader Ada Kern"
    gives "farm union leader"), so that its last word is the title's head."""
    title = list(_name_words(words))
    while title and title[-1] in names:
        title.pop()
    return tuple(title)


def _titles(text: str, name: str) -> set[tuple[str, ...]]:
    """Titles the article attaches to `name` (or its last word) right before it or in an appositive."""
    parts = name.split()
    names = set(_name_words(name))
    found: set[tuple[str, ...]] = set()
    for form in {name, parts[-1]} if parts else set():
        pattern = re.compile(r"(?<!\w)" + r"\s+".join(map(re.escape, form.split())) + r"(?!\w)")
        for m in pattern.finditer(text):
            before = _TITLE_BEFORE.search(text, max(0, m.start() - 80), m.start())
            if before and not _someone_else(before.group(1) + form, name):
                found.add(_title(before.group(1), names))
            after = _TITLE_AFTER.match(text, m.end())
            # An appositive title is lowercase at its head ("chief executive"); "X, Rouhani and Zarif" is
            # a list of names, and "X, who ..." a relative clause.
            if after and after.group(1)[-1:].islower() and after.group(1).split()[0] not in _PRONOUNS:
                found.add(_name_words(after.group(1)))
    return {title for title in found if title}


def _someone_else(written: str, name: str) -> bool:
    """Whether `written` (words before a name's last word, and that word) is another person's name: "Tom
    Ebeling" is not Betsy Ebeling with the title "Tom"; "Iranian President Rouhani" is Hassan Rouhani."""
    theirs, ours = person_name(written), person_name(name)
    return theirs is not None and ours is not None and name_match(theirs, ours) == "conflict"


@dataclass
class _Person:
    names: frozenset[str]  # the words of the name's head: "spokeswoman" in "a spokeswoman for Hale"
    words: frozenset[str]  # all its words
    phrases: set[tuple[str, ...]] = field(default_factory=set)

    def answers_to(self, claimed: frozenset[str]) -> bool:
        """Whether the claimed name is one the article uses for this speaker: a subset of the name's
        words ("the ministry"), but not of words that name someone else in it ("Hale" is not "a
        spokeswoman for Hale") unless the claim holds the whole head too ("Department of Homeland
        Security"), name words with a title ("the Health Ministry's spokesman"), or a title the article
        gives them (`titled`)."""
        if not claimed:
            return False
        if claimed <= self.names or self.names <= claimed <= self.words:
            return True
        if any(claimed & self.names and claimed <= self.names | set(phrase) for phrase in self.phrases):
            return True
        return self.titled(claimed)

    def titled(self, claimed: frozenset[str]) -> bool:
        """Whether the claim is a title the article gives them, with its head word ("the Iranian
        president", "the president")."""
        return any(claimed <= set(phrase) and phrase[-1] in claimed for phrase in self.phrases)


@dataclass(frozen=True)
class _Match:
    """Whether the article's speaker of a statement is the claimed one, and how far.

    `said`: as far as the article tells, with `weight` on the verdict's confidence and `note` naming
    what the match rests on. `unclear`: the article's name for the speaker fits the claimed person and
    someone else it quotes ("Brandt" when it quotes Elena and Tom Brandt), so it does not tell who said
    it; `note` names them. Neither: someone else said it.
    """

    said: bool
    weight: float = 1.0
    note: str = ""
    unclear: bool = False


_SOMEONE_ELSE = _Match(False)


class _Speakers:
    """Everyone the extraction gives statements to, under every name and title the article uses."""

    def __init__(self, text: str, quotes: Sequence[Quote]) -> None:
        self._people: dict[str, _Person] = {}
        # The people the extraction quotes, by name: their words (`person_name`) and the name as written.
        self._names: dict[str, tuple[str, ...]] = {}
        for quote in quotes:
            name = speaker_name(quote.speaker)
            if name is None:
                continue
            words = person_name(name) if quote.speaker.type in ("person", "unknown") else None
            if words is not None:
                self._names[name] = words
            person = self._people.get(name)
            if person is None:
                head = frozenset(_name_words(phrase_head(name)))
                person = self._people[name] = _Person(head, frozenset(_name_words(name)))
                person.phrases.update(_titles(text, name))
            for extra in (quote.speaker.mention, quote.speaker.role):
                words = _title(phrase_head(extra or ""), person.names)
                if words and not set(words) <= _PRONOUNS:
                    person.phrases.add(words)
        # A phrase ending in another speaker's name is no title of this one ("said Ann Vey" or "after Vey"
        # taken into a role): it would let Vey's name pass for this speaker.
        for person in self._people.values():
            others = set().union(*(p.names for p in self._people.values() if p is not person))
            person.phrases = {phrase for phrase in person.phrases if phrase[-1] not in others - person.names}

    def match(self, claimed: str, speaker: Speaker) -> _Match:
        """Whether `speaker`, as the article names them, is the claimed one.

        People's names are compared word by word (`quotes.speakers.name_match`: case, accents, titles,
        a possessive and initials aside). The same name is the speaker. A part of one in the other
        ("Brandt", "E. Brandt", "Elena" for "Elena Brandt") is the speaker too, unless someone else the
        article quotes fits: when the article's name for the speaker fits another of its people ("Brandt"
        when it quotes Elena and Tom Brandt), it does not say which said the words (unclear), and where
        the extraction took that name for one of them, its reading is followed at a low weight; when
        only the claimed name fits someone else (the claim "Brandt" for Elena Brandt's words), the
        speaker is said at a low weight. A different name ("Tom Brandt" for "Elena Brandt", "Tom" for
        "Betsy Ebeling") is someone else, unless the claim is a title the article gives the speaker.
        Other speakers (bodies, descriptions such as "a spokeswoman for Hale") answer to their name's
        words and the titles the article gives them (`_Person.answers_to`).
        """
        name = speaker_name(speaker)
        person = self._people.get(name) if name else None
        if name is None or person is None:
            return _SOMEONE_ELSE
        words = frozenset(_name_words(claimed))
        # A claim typed in lowercase ("elena brandt") is still a name; the article's case tells names
        # from descriptions.
        ours = person_name(claimed.title() if claimed.islower() else claimed)
        theirs = self._names.get(name)
        if ours is None or theirs is None:
            return _Match(True) if person.answers_to(words) else _SOMEONE_ELSE
        # The article's own name for the speaker at the statement, when it is a part of theirs ("Brandt"),
        # and the others it quotes whom that name fits too: the extraction chose between them.
        mentioned = person_name(speaker.mention) if speaker.mention else None
        here = mentioned if mentioned is not None and _fits(mentioned, theirs) else theirs
        others = {n: w for n, w in self._names.items() if n != name and w[0] not in _NOT_FIRST_NAMES}
        rivals = [n for n, w in others.items() if _also(w, here, theirs) and not _fits(w, theirs)]
        chose = (
            f"; but the article names the speaker here only “{speaker.mention}”, which fits "
            f"{' and '.join(rivals)} too: the extraction took it for {name}"
        )
        fit = name_match(ours, theirs)
        if fit == "conflict":
            if person.titled(words):
                return _Match(True)
            if any(_fits(ours, others[n]) for n in rivals):
                return _Match(False, VAGUE_NAME_CONFIDENCE, chose)
            return _SOMEONE_ELSE
        if any(not _fits(others[n], ours) for n in rivals):
            return _Match(True, VAGUE_NAME_CONFIDENCE, chose)
        if any(_also(w, theirs, ours) and not _fits(w, ours) for w in others.values()):
            fitting = [n for n, w in others.items() if _also(w, theirs, ours)]
            who = fitting if any(_fits(others[n], ours) for n in fitting) else [claimed, *fitting]
            return _Match(
                False,
                note=f"the article gives these words to “{name}”, who may be {' or '.join(who)}: it quotes "
                f"{'both' if len(who) == 2 else 'each'} and does not say which",
                unclear=True,
            )
        if fit == "exact":
            return _Match(True)
        vague = [n for n, w in others.items() if _also(w, ours, theirs) and not _fits(w, theirs)]
        if vague:
            return _Match(
                True,
                VAGUE_NAME_CONFIDENCE,
                f"; but “{claimed}” fits {' and '.join(vague)} too, whom the article also quotes",
            )
        if len(theirs) >= len(ours) and all(len(w) > 1 for w in theirs):
            return _Match(True, PARTIAL_NAME_CONFIDENCE)
        return _Match(
            True,
            PARTIAL_NAME_CONFIDENCE,
            f"; the article names the speaker only “{name}”, which fits {claimed} and no one else it quotes",
        )


def _fits(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    return name_match(a, b) != "conflict"


def _also(other: tuple[str, ...], part: tuple[str, ...], like: tuple[str, ...]) -> bool:
    """Whether another name fits `part` of a name as `like` does: a one-word part in the same place, a
    surname as a surname ("Clinton" in "Bill Clinton" as in "Hillary Clinton", not in "Clinton Hale")."""
    if not _fits(other, part):
        return False
    return len(part) > 1 or not _places(part[0], other).isdisjoint(_places(part[0], like))


def _places(word: str, name: tuple[str, ...]) -> set[str]:
    return {place for place, at in (("first", name[0]), ("last", name[-1])) if at == word}


# --- matching ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    quote: Quote
    words: list[Word]

    def overlap(self, start: int, end: int) -> int:
        return sum(max(0, min(end, e) - max(start, s)) for s, e in self.quote.fragments())


@dataclass(frozen=True)
class _Claimed:
    claim: Claim
    words: list[Word]
    ellipses: frozenset[int]


@dataclass(frozen=True)
class _Found:
    """The article's words closest to the claim: in `statement`, or in the text when it is None, and what
    differs between them."""

    statement: _Statement | None
    words: list[Word]
    score: float
    comparison: Comparison

    @property
    def start(self) -> int:
        return self.words[0].start

    @property
    def end(self) -> int:
        return self.words[-1].end


def _window(target: list[str], norms: list[str]) -> tuple[int, int]:
    """The run of words most like `target`, as [i, j) into `norms`.

    Found by edit distance over the whole segment, which counts a changed word as one substitution; then
    settled nearby on the run that matches most of the claim's words (by stem) with fewest words of its
    own; then widened by the claim's words left over at either end, so the diff shows the article's side
    of a changed first or last word.
    """
    wanted = " ".join(target)
    n = len(target)
    slack = max(2, n // 3)
    lo, hi = _neighbourhood(wanted, norms, n + 2 * slack)
    best = (-1.0, lo, lo)
    for length in range(max(1, n - slack), n + slack + 1):
        for i in range(lo, max(lo + 1, hi - length + 1)):
            j = min(hi, i + length)
            similarity = Levenshtein.normalized_similarity(wanted, " ".join(norms[i:j]))
            if similarity > best[0]:
                best = (similarity, i, j)
    similarity, i, j = best
    if similarity < REFINE_FROM:
        return i, j  # nothing here is close to the claim: the window only says how far it is
    stems = [_stem(w) for w in target]
    near = {k: _stem(norms[k]) for k in range(max(0, i - REFINE_REACH), min(len(norms), j + REFINE_REACH))}

    def matched(a: int, b: int) -> list[difflib.Match]:
        window = [near.get(k) or _stem(norms[k]) for k in range(a, b)]
        return [
            m
            for m in difflib.SequenceMatcher(None, stems, window, autojunk=False).get_matching_blocks()
            if m.size
        ]

    def fit(span: tuple[int, int]) -> tuple[int, int, int]:
        a, b = span
        hits = sum(m.size for m in matched(a, b))
        return hits, -(b - a - hits), -(abs(a - i) + abs(b - j))

    spans = [
        (a, b)
        for a in range(max(0, i - REFINE_REACH), min(len(norms), i + REFINE_REACH + 1))
        for b in range(max(a + 1, j - REFINE_REACH), min(len(norms), j + REFINE_REACH) + 1)
    ]
    i, j = max(spans, key=fit, default=(i, j))
    blocks = matched(i, j)
    if blocks:
        first, last = blocks[0], blocks[-1]
        left = max(0, first.a - first.b)
        right = max(0, (n - last.a - last.size) - (j - i - last.b - last.size))
        i, j = max(0, i - left), min(len(norms), j + right)
    return i, j


def _neighbourhood(wanted: str, norms: list[str], reach: int) -> tuple[int, int]:
    """Where in a long segment to look for the words closest to `wanted`, as [lo, hi) into `norms`: around
    the best partial alignment of the characters (found in C, so the word-by-word scan stays short)."""
    if len(norms) <= 3 * reach:
        return 0, len(norms)
    starts = list(itertools.accumulate((len(w) + 1 for w in norms), initial=0))
    aligned = fuzz.partial_ratio_alignment(wanted, " ".join(norms))
    if aligned is None:
        return 0, len(norms)
    first = bisect.bisect_right(starts, aligned.dest_start) - 1
    last = bisect.bisect_left(starts, aligned.dest_end)
    return max(0, first - reach), min(len(norms), last + reach)


def _search(
    claimed: _Claimed, segment: list[Word], compare_with: Callable[[list[Word]], Comparison]
) -> tuple[list[Word], Comparison] | None:
    """The claim's words in the segment (a statement's words or the article's), else the segment's run of
    words most like them; with a negation just before the words, the window holds it."""
    norms = [w.norm for w in segment]
    target = [w.norm for w in claimed.words]
    n = len(target)
    if not norms:
        return None
    if claimed.ellipses:
        chain = _chain(_pieces(target, claimed.ellipses), norms)
        if chain is not None:
            window = segment[chain[0] : chain[1]]
            return window, compare_with(window)
    first: tuple[list[Word], Comparison] | None = None
    for i in range(len(norms) - n + 1):
        if norms[i : i + n] != target:
            continue
        lead = next((k for k in range(max(0, i - NEGATION_LOOKBACK), i) if is_negation(norms[k])), i)
        window = segment[lead : i + n]
        found = (window, compare_with(window))
        if lead == i:
            return found
        first = first or found
    if first is not None:
        return first
    i, j = _window(target, norms)
    window = segment[i:j]
    return window, compare_with(window)


def _pieces(target: list[str], cuts: frozenset[int]) -> list[list[str]]:
    """The claim's words between its ellipses."""
    bounds = [0, *sorted(cuts), len(target)]
    return [target[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _chain(pieces: list[list[str]], norms: list[str]) -> tuple[int, int] | None:
    """Where the pieces stand in order, each within `ELLIPSIS_REACH` words of the one before, as [i, j)."""

    def at(piece: list[str], lo: int, hi: int) -> list[int]:
        return [
            i for i in range(lo, min(hi, len(norms) - len(piece) + 1)) if norms[i : i + len(piece)] == piece
        ]

    if not pieces:
        return None
    for start in at(pieces[0], 0, len(norms)):
        end = start + len(pieces[0])
        for piece in pieces[1:]:
            found = at(piece, end, end + ELLIPSIS_REACH + 1)
            if not found:
                break
            end = found[0] + len(piece)
        else:
            return start, end
    return None


def _quoted(text: str) -> list[tuple[int, int]]:
    """Spans inside quotation marks: curly pairs, and straight double quotes paired in order."""
    spans = [(m.start(), m.end()) for m in _CURLY.finditer(text)]
    spans += [(m.start(), m.end()) for m in _STRAIGHT.finditer(text)]
    return spans


# --- the model as judge --------------------------------------------------------------------------------


class JudgeFailed(Exception):
    """The model gave no usable judgement (after retries and re-asks); the message says why."""


class Judge:
    """Asks a model, with the versioned verify prompt, whether an article reports a claim."""

    def __init__(
        self, config: LLMConfig, *, prompt: Prompt | None = None, limit: asyncio.Semaphore | None = None
    ) -> None:
        self.prompt = prompt or load_judge_prompt()
        self.model = config.model
        self._backend = LLMBackend(config, prompt=self.prompt)
        self._limit = limit
        self.usage = Usage()

    @classmethod
    def for_extractor(cls, extractor: Extractor) -> Judge | None:
        """A judge asking the model `extractor` runs, under the same bound on requests in flight, or None
        when it runs none (the rules backend)."""
        backend = extractor.backend
        return cls(backend.config, limit=extractor.limit) if isinstance(backend, LLMBackend) else None

    async def ask(self, article: str, claim: Claim) -> VerifyAnswer:
        try:
            async with self._limit or contextlib.nullcontext():
                answer, usage = await self._backend.ask(judge_text(article, claim), VerifyAnswer)
        except (ChunkFailed, OutputTruncated) as exc:
            self.usage.add(exc.usage)
            raise JudgeFailed(str(exc)) from None
        except StoreMiss as miss:
            raise JudgeFailed(f"not_recorded: {miss}") from None
        self.usage.add(usage)
        return answer

    async def aclose(self) -> None:
        await self._backend.aclose()


def judge_text(article: str, claim: Claim) -> str:
    """What the model is shown for one claim: the `{text}` of the verify prompt's user message."""
    return (
        f"<article>\n{article}\n</article>\n\n<claim>\nspeaker: {' '.join(claim.speaker.split())}\n"
        f"statement: {' '.join(claim.quote.split())}\n</claim>"
    )


_EXAMPLE_ARTICLE = re.compile(r"^<article>\n(.*?)\n</article>$", re.MULTILINE | re.DOTALL)
_EXAMPLE_CLAIM = re.compile(
    r"^<claim>\nspeaker: (.+)\nstatement: (.+)\n</claim>\nAnswer: (.+)$", re.MULTILINE
)


def load_judge_prompt(version: int | None = None, *, root: Path | None = None) -> Prompt:
    """The verify prompt, with its worked examples checked: a broken example never reaches a model.

    The examples sit in the system message (article, claims, answers) rather than in `## examples`,
    whose entries are checked against the extraction answer schema.
    """
    prompt = load_prompt(JUDGE_TASK, version, root=root)
    articles = [(m.start(), m.group(1)) for m in _EXAMPLE_ARTICLE.finditer(prompt.system)]
    claims = list(_EXAMPLE_CLAIM.finditer(prompt.system))
    if not claims:
        raise PromptError(f"{prompt.path}: no worked examples (<claim> blocks with an Answer) in '## system'")
    for number, match in enumerate(claims, start=1):
        where = f"{prompt.path}: example {number}"
        article = next((text for at, text in reversed(articles) if at < match.start()), None)
        if article is None:
            raise PromptError(f"{where}: no <article> before the claim")
        try:
            answer = VerifyAnswer.model_validate_json(match.group(3))
        except ValidationError as exc:
            raise PromptError(f"{where}: the answer does not match the verify schema: {exc}") from exc
        if (answer.verdict == "not_found") != (answer.sentence is None):
            raise PromptError(f"{where}: a sentence must be given exactly when the verdict is not not_found")
        if answer.sentence is not None and answer.sentence not in article:
            raise PromptError(f"{where}: sentence {answer.sentence!r} is not verbatim in the example article")
    return prompt


# --- verdicts ------------------------------------------------------------------------------------------


class Verifier:
    """One article's extraction, indexed once for judging any number of claims against it.

    `averify` builds one per article; a caller that judges claims against many stored articles (the
    archive) builds one per article it needs and calls `check` for each claim.
    """

    def __init__(self, article: Article, extraction: Extraction, judge: Judge | None = None) -> None:
        if extraction.text_sha256 != article.sha256:
            raise ValueError(f"extraction {extraction.id!r} is of another text than article {article.id!r}")
        self.article = article
        self.extraction = extraction
        self.text = article.text
        self.words = tokenize(article.text)
        self.statements = [
            _Statement(q, [w for s, e in q.fragments() for w in tokenize(article.text, s, e)])
            for q in extraction.quotes
        ]
        self.speakers = _Speakers(article.text, extraction.quotes)
        self.quoted = _quoted(article.text)
        self.judge = judge

    async def check(self, claim: Claim) -> Verdict:
        """The verdict on one claim."""
        tokens = tokenize(claim.quote)
        if not tokens:
            return self.verdict(
                claim, "not_found", 0.0, 1.0, explanation="the claim has no words to look for"
            )
        claimed = _Claimed(claim, tokens, ellipses(claim.quote, tokens))
        candidates = self._candidates(claimed)
        close = [f for f in candidates if f.comparison.same or f.score >= ALTERED_MIN_SCORE]
        if close:
            return self._from_words(claimed, max(close, key=lambda f: self._rank(claim, f)))
        nearest = max((f.score for f in candidates), default=0.0)
        if self.judge is not None:
            return await self._judged(claimed, nearest)
        return self._by_overlap(claimed) or self._absent(
            claimed, _NOTHING_CLOSE, nearest, RULES_ABSENT_CONFIDENCE
        )

    def verdict(
        self, claim: Claim, label: VerdictLabel, score: float, confidence: float | None, **fields: Any
    ) -> Verdict:
        fields.setdefault("backend", self.extraction.backend)
        fields.setdefault("prompt", self.extraction.prompt)
        return Verdict(
            claim=claim,
            verdict=label,
            score=round(score, 2),
            confidence=None if confidence is None else round(min(1.0, max(0.0, confidence)), 3),
            article_id=self.article.id,
            **fields,
        )

    def evidence(self, start: int, end: int, statement: _Statement | None) -> Evidence:
        quote = statement.quote if statement else None
        return Evidence(
            start=start,
            end=end,
            text=self.text[start:end],
            speaker=quote.speaker if quote else None,
            quote_id=quote.id if quote else None,
            cue=quote.cue if quote else None,
        )

    def overlapping(self, start: int, end: int) -> _Statement | None:
        best = max(self.statements, key=lambda st: st.overlap(start, end), default=None)
        return best if best is not None and best.overlap(start, end) > 0 else None

    def _covered(self, found: Sequence[Word], statement: _Statement) -> float:
        """The share of these words (by characters) inside statements of the statement's speaker."""
        name = speaker_name(statement.quote.speaker)
        same = [
            st
            for st in self.statements
            if st is statement or (name and speaker_name(st.quote.speaker) == name)
        ]
        inside = sum(max(st.overlap(w.start, w.end) for st in same) for w in found)
        return inside / max(1, sum(w.end - w.start for w in found))

    @functools.cached_property
    def source(self) -> SourceText:
        """The article indexed for grounding a model's sentence (only a model's judgement needs it)."""
        return SourceText(self.text)

    def _reported(self, offset: int) -> bool:
        return not any(s <= offset < e for s, e in self.quoted)

    def _compare(self, claimed: _Claimed, found: list[Word]) -> Comparison:
        return compare(
            claimed.words,
            claimed.claim.quote,
            found,
            self.text,
            claim_ellipses=claimed.ellipses,
            reported=self._reported,
        )

    def _candidates(self, claimed: _Claimed) -> list[_Found]:
        """The closest words in each statement, and, unless a statement holds the claim's very words, in
        the whole text (words the extraction gives no one, or a claim running past a statement)."""

        def compare_with(found: list[Word]) -> Comparison:
            return self._compare(claimed, found)

        wanted = joined(claimed.words)
        found: list[_Found] = []
        for st in self.statements:
            hit = _search(claimed, st.words, compare_with)
            if hit is not None:
                found.append(_Found(st, hit[0], fuzz.ratio(wanted, joined(hit[0])), hit[1]))
        if not any(f.score == 100 and f.comparison.same for f in found):
            hit = _search(claimed, self.words, compare_with)
            if hit is not None:
                span, comparison = hit
                statement = self.overlapping(span[0].start, span[-1].end)
                found.append(_Found(statement, span, fuzz.ratio(wanted, joined(span)), comparison))
        return found

    def _rank(self, claim: Claim, found: _Found) -> tuple[bool, float, float, bool]:
        match = self._match(claim, found.statement)
        said = match.weight if match.said else 0.0
        return found.comparison.same, found.score, said, found.statement is not None

    def _match(self, claim: Claim, statement: _Statement | None) -> _Match:
        if statement is None:
            return _SOMEONE_ELSE
        return self.speakers.match(claim.speaker, statement.quote.speaker)

    def _failed(self, start: int, end: int) -> list[ChunkError]:
        return [e for e in self.extraction.errors if e.start < end and start < e.end]

    def _from_words(self, claimed: _Claimed, found: _Found) -> Verdict:
        claim, comparison, statement = claimed.claim, found.comparison, found.statement
        start, end = found.start, found.end
        evidence = self.evidence(start, end, statement)
        diff = comparison.ops if any(op.op != "equal" for op in comparison.ops) else []
        actual = speaker_name(statement.quote.speaker) if statement else None
        said = [w for k, w in enumerate(found.words) if k not in comparison.skipped]
        coverage = self._covered(said, statement) if statement else 1.0
        wording = _wording(comparison)
        if actual is None and (failed := self._failed(start, end)):
            return self.verdict(
                claim,
                "could_not_check",
                found.score,
                None,
                evidence=evidence,
                diff=diff,
                variants=comparison.variants,
                explanation=f"the article holds {'these' if comparison.same else 'close'} words, "
                f"but who said them is unknown: {_failure(failed)}",
            )
        problems: list[VerdictLabel] = []
        match = self._match(claim, statement)
        if actual is None:
            problems.append("unattributed")
            who = self._nobody(evidence, statement, "these" if comparison.same else "close")
        elif match.said:
            who = f"said by {actual}{_as_mentioned(evidence.speaker)}{match.note}"
        elif match.unclear:
            problems.append("unattributed")
            who = match.note
        else:
            problems.append("misattributed")
            who = (
                f"the article attributes these words to {actual}{_as_mentioned(evidence.speaker)}, "
                f"not to {claim.speaker}{match.note}"
            )
        if comparison.changes:
            problems.append("altered")
        beyond = "" if coverage == 1.0 else "; the claim runs past that statement"
        confidence = (
            found.score
            / 100
            * (0.5 + 0.5 * coverage)
            * (VARIANT_CONFIDENCE if comparison.variants else 1)
            * match.weight
        )
        problems.sort(key=SEVERITY.index)
        return self.verdict(
            claim,
            problems[0] if problems else "supported",
            found.score,
            confidence,
            evidence=evidence,
            actual_speaker=actual,
            diff=diff,
            variants=comparison.variants,
            problems=problems,
            explanation=f"{who}{wording}{beyond}",
        )

    def _nobody(self, evidence: Evidence, statement: _Statement | None, which: str) -> str:
        """Why no one is named for `which` ("these" or "close") words the article holds, and who is
        mentioned nearest to them."""
        if statement is not None:
            mention = statement.quote.speaker.mention
            return (
                f"the article holds {which} words in a statement whose speaker it does not name"
                f"{f' (“{mention}”)' if mention else ''}"
            )
        why = f"the article holds {which} words, but the extraction attributes them to no one"
        near = self._nearest(evidence.start, evidence.end)
        if near is None:
            return f"{why}, and it names no speaker within {NEAREST_REACH} characters of them"
        evidence.nearest_speaker, evidence.cue = near.speaker, near.cue
        name = speaker_name(near.speaker)
        who = f"“{near.speaker.mention}”" + (f" ({name})" if name and name != near.speaker.mention else "")
        cue = f", cue “{near.cue}”" if near.cue else ""
        return f"{why}; the nearest speaker it names is {who}{cue}"

    def _nearest(self, start: int, end: int) -> Quote | None:
        """The statement whose speaker mention is closest to [start, end), within `NEAREST_REACH`."""
        near = [
            (min(abs(q.speaker.start - end), abs(q.speaker.end - start)), q)
            for q in self.extraction.quotes
            if q.speaker.mention and q.speaker.start is not None and q.speaker.end is not None
        ]
        close = [pair for pair in near if pair[0] <= NEAREST_REACH]
        return min(close, key=lambda pair: pair[0])[1] if close else None

    def _by_overlap(self, claimed: _Claimed) -> Verdict | None:
        """A paraphrased claim against indirect and mixed statements, by the content words they share."""
        claim, tokens = claimed.claim, claimed.words
        content, figures, negative = _content(tokens), numbers(tokens), negated(tokens)
        if not content:
            return None
        best: tuple[float, float, _Statement, set[str], _Match] | None = None
        for st in self.statements:
            if st.quote.kind == "direct" or negated(st.words) != negative:
                continue
            if not figures <= numbers(st.words):
                continue
            shared = content & _content(st.words)
            share = len(shared) / len(content)
            least = PARAPHRASE_MIN_SHARE_WITH_FIGURES if figures else PARAPHRASE_MIN_SHARE
            if len(shared) < PARAPHRASE_MIN_SHARED or share < least:
                continue
            match = self.speakers.match(claim.speaker, st.quote.speaker)
            candidate = (match.weight if match.said else 0.0, share, st, shared, match)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is None:
            return None
        _, share, st, shared, match = best
        actual = speaker_name(st.quote.speaker)
        how = (
            f"judged without a model, by content words: the {st.quote.kind} statement holds {len(shared)} "
            f"of the claim's {len(content)} ({', '.join(sorted(shared))})"
        )
        problems: list[VerdictLabel] = []
        if match.said:
            who = f"reported of {actual}{match.note}"
        elif match.unclear:
            who, problems = match.note, ["unattributed"]
        else:
            who, problems = f"reported of {actual}, not {claim.speaker}", ["misattributed"]
        return self.verdict(
            claim,
            problems[0] if problems else "supported",
            100 * share,
            PARAPHRASE_CONFIDENCE * share * match.weight,
            evidence=self.evidence(st.quote.start, st.quote.end, st),
            actual_speaker=actual,
            problems=problems,
            explanation=f"{who}; {how}",
        )

    async def _judged(self, claimed: _Claimed, nearest: float) -> Verdict:
        assert self.judge is not None
        claim, judge = claimed.claim, self.judge
        try:
            answer = await judge.ask(self.text, claim)
        except JudgeFailed as exc:
            fallback = self._by_overlap(claimed)
            if fallback is None:
                # The words are not in the article; whether it reports them in other words was the
                # model's to judge, and it could not.
                return self.verdict(
                    claim,
                    "could_not_check",
                    0.0,
                    None,
                    explanation="these words are not in the article, and the model that judges a report of "
                    f"them in other words could not: {exc}",
                )
            note = f"the model could not judge this claim ({exc}); {fallback.explanation}"
            return fallback.model_copy(update={"explanation": note})
        made: dict[str, Any] = {"backend": "llm", "prompt": judge.prompt.ref}
        if answer.verdict == "not_found":
            return self._absent(
                claimed, f"model {judge.model}: {answer.explanation}", nearest, JUDGE_CONFIDENCE, **made
            )
        aligned = (
            self.source.align_quote(answer.sentence, include_marks=False, fuzzy_threshold=SENTENCE_MIN_SCORE)
            if answer.sentence
            else None
        )
        if aligned is None:
            return self._absent(
                claimed,
                f"model {judge.model} answered {answer.verdict}, but its sentence is not in the article, "
                f"so it is not evidence: {answer.sentence!r}",
                nearest,
                JUDGE_CONFIDENCE / 2,
                **made,
            )
        statement = self.overlapping(aligned.start, aligned.end)
        evidence = self.evidence(aligned.start, aligned.end, statement)
        if evidence.speaker is None and answer.speaker:
            evidence.speaker = self._named(answer.speaker, aligned.start, aligned.end)
        found = tokenize(self.text, aligned.start, aligned.end)
        share = len(_content(claimed.words) & _content(found)) / max(1, len(_content(claimed.words)))
        actual = answer.speaker or (speaker_name(evidence.speaker) if evidence.speaker else None)
        return self.verdict(
            claim,
            answer.verdict,
            100 * share,
            JUDGE_CONFIDENCE * (0.5 + 0.5 * share),
            evidence=evidence,
            actual_speaker=actual,
            diff=self._compare(claimed, found).ops if answer.verdict == "altered" else [],
            problems=[] if answer.verdict == "supported" else [answer.verdict],
            explanation=f"model {judge.model}: {answer.explanation}",
            **made,
        )

    def _named(self, name: str, start: int, end: int) -> Speaker:
        speaker = Speaker(name=name)
        mention = self.source.align_mention(name, start, end)
        if mention is not None:
            speaker.mention = self.text[mention.start : mention.end]
            speaker.start, speaker.end = mention.start, mention.end
        return speaker

    def _absent(
        self, claimed: _Claimed, why: str, nearest: float, weight: float = 1.0, **fields: Any
    ) -> Verdict:
        """Not found: the words are not in the article, and no statement reports them in other words;
        could not check when a failed extraction leaves the second unknown."""
        if self.extraction.errors and fields.get("backend") != "llm":
            return self.verdict(
                claimed.claim,
                "could_not_check",
                0.0,
                None,
                explanation="these words are not in the article, but a report of them in other words "
                f"could be where the extraction failed: {_failure(self.extraction.errors)}",
                **fields,
            )
        # Unrelated words of a text are 40-60 alike by rapidfuzz's ratio: only nearer than that lowers the
        # confidence, down to none at the threshold from which they would be altered.
        distance = min(1.0, (ALTERED_MIN_SCORE - nearest) / (ALTERED_MIN_SCORE - UNRELATED_SCORE))
        confidence = weight * distance
        return self.verdict(claimed.claim, "not_found", 0.0, confidence, explanation=why, **fields)


def _wording(comparison: Comparison) -> str:
    if comparison.changes:
        return f"; the wording differs: {', '.join(_CHANGES[c] for c in comparison.changes)}"
    if comparison.variants:
        return f"; differs only by {'; '.join(comparison.variants)}"
    return ""


def _failure(errors: Sequence[ChunkError]) -> str:
    return "; ".join(f"characters {e.start}–{e.end} failed ({e.kind}: {e.message})" for e in errors)


def _as_mentioned(speaker: Speaker | None) -> str:
    """How the article names the speaker at the statement, when that is neither the name nor a pronoun."""
    mention = speaker.mention if speaker else None
    if not speaker or not mention or mention == speaker.name or set(_name_words(mention)) <= _PRONOUNS:
        return ""
    return f" (as “{mention}”)"


# --- the API -------------------------------------------------------------------------------------------


async def averify(
    article: str | Article,
    claims: Sequence[Claim] | Claim,
    *,
    extraction: Extraction | None = None,
    extractor: Extractor | None = None,
    judge: Judge | None = None,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> list[Verdict]:
    """Judge each claim against the article: one verdict per claim, in order.

    The article is extracted once (unless `extraction` is given), with `extractor` or else the backend
    `choose_backend(backend, model=model, base_url=base_url)` picks. With an LLM backend, claims not found
    word for word are judged by the model (`judge`, or one built from the backend's configuration); with
    the rules backend, by content-word overlap.
    """
    doc = as_article(article)
    wanted = [claims] if isinstance(claims, Claim) else list(claims)
    if extraction is not None and extraction.text_sha256 != doc.sha256:
        raise ValueError(f"extraction {extraction.id!r} is of another text than article {doc.id!r}")
    async with contextlib.AsyncExitStack() as owned:
        if extractor is None:
            chosen, _ = choose_backend(backend, model=model, base_url=base_url)
            extractor = Extractor(chosen)
            owned.push_async_callback(extractor.aclose)
        if judge is None and (judge := Judge.for_extractor(extractor)) is not None:
            owned.push_async_callback(judge.aclose)
        if extraction is None:
            extraction = await extractor.aextract(doc)
        verifier = Verifier(doc, extraction, judge)
        return list(await asyncio.gather(*(verifier.check(claim) for claim in wanted)))


def verify(
    article: str | Article,
    claims: Sequence[Claim] | Claim,
    *,
    extraction: Extraction | None = None,
    extractor: Extractor | None = None,
    judge: Judge | None = None,
    model: str | None = None,
    base_url: str | None = None,
    backend: BackendChoice = "auto",
) -> list[Verdict]:
    """Sync form of `averify`; call `averify` instead from inside a running event loop."""
    return asyncio.run(
        averify(
            article,
            claims,
            extraction=extraction,
            extractor=extractor,
            judge=judge,
            model=model,
            base_url=base_url,
            backend=backend,
        )
    )


# --- claims files --------------------------------------------------------------------------------------


def read_claims(path: Path) -> tuple[list[Claim], list[InputProblem]]:
    """Claims from a .jsonl (one {speaker, quote, id?} object a line) or .csv (a header naming speaker,
    quote and optionally id) file, and a problem naming the file and line for each line that is not one."""
    source = str(path)
    suffix = path.suffix.lower()
    if suffix not in (".jsonl", ".ndjson", ".json", ".csv"):
        return [], [
            InputProblem(source, f"unknown claims format {suffix or '(no suffix)'}: use .jsonl or .csv")
        ]
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [InputProblem(source, f"cannot read the claims: {exc}")]
    claims: list[Claim] = []
    problems: list[InputProblem] = []
    records = (
        _csv_records(source, text, problems) if suffix == ".csv" else _jsonl_records(source, text, problems)
    )
    for line, record in records:
        claim = _claim(record)
        if isinstance(claim, Claim):
            claims.append(claim)
        else:
            problems.append(InputProblem(source, claim, line=line))
    if not claims and not problems:
        problems.append(InputProblem(source, "no claims in the file"))
    return claims, sorted(problems, key=lambda problem: problem.line or 0)


def _jsonl_records(source: str, text: str, problems: list[InputProblem]) -> list[tuple[int, dict[str, Any]]]:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(InputProblem(source, json_problem(exc), line=number))
            continue
        if not isinstance(record, dict):
            problems.append(InputProblem(source, "not a JSON object {speaker, quote, id?}", line=number))
            continue
        records.append((number, record))
    return records


def _csv_records(source: str, text: str, problems: list[InputProblem]) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    missing = [name for name in ("speaker", "quote") if name not in header]
    if missing:
        problems.append(InputProblem(source, f"the header lacks column(s) {', '.join(missing)}", line=1))
        return []
    records = []
    try:
        for row in reader:
            if None in row:
                problems.append(
                    InputProblem(source, "more fields than the header names", line=reader.line_num)
                )
            elif any(value or "" for value in row.values()):
                records.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        problems.append(InputProblem(source, f"not CSV: {exc}", line=reader.line_num))
    return records


def _claim(record: dict[str, Any]) -> Claim | str:
    """The claim in a record, or what is wrong with it."""
    empty = [k for k in ("speaker", "quote") if not isinstance(record.get(k), str) or not record[k].strip()]
    if empty:
        return f"missing or empty {' and '.join(empty)}"
    ident = record.get("id")
    if ident is not None and not isinstance(ident, str | int):
        return "id must be a string or a number"
    return Claim(
        id=str(ident) if ident not in (None, "") else None, speaker=record["speaker"], quote=record["quote"]
    )


# --- output --------------------------------------------------------------------------------------------
