"""Claims → verdicts: did X really say Y, here?

A claim is judged against one article's Extraction, words first:
1. the claim's words inside an extracted statement, compared as word tokens (so quotation marks,
   whitespace, case and punctuation do not count, and a claim may quote part of a statement): supported
   when the article gives the statement to the claimed speaker, misattributed when to someone else;
2. else the statement window closest to the claim (rapidfuzz): altered, with a word-level diff;
3. else the article text itself (`SourceText.align_quote`), for words no statement covers;
4. else, for a claim in the claimant's own words ("Rouhani said Iran wants ..."), a paraphrase judgement:
   by the model with `prompts/verify` when the backend is an LLM, otherwise by content-word overlap with
   the claimed speaker's indirect and mixed statements.

The article is extracted once for all its claims; with an LLM backend the extraction and every judgement
go through the response store.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import difflib
import io
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

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
from quotes.render import diff_text
from quotes.schema import (
    Article,
    Claim,
    DiffOp,
    Evidence,
    Extraction,
    Quote,
    Speaker,
    Usage,
    Verdict,
    VerdictLabel,
    VerifyAnswer,
)
from quotes.speakers import phrase_head
from quotes.store import StoreMiss

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

JUDGE_TASK = "verify"

_NOTHING_CLOSE = (
    "nothing in the article is close to these words, and no indirect or mixed statement shares enough of "
    "their content words (judged without a model)"
)

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
_APOSTROPHES = str.maketrans(dict.fromkeys("’‘‛′`", "'"))
_NEGATIONS = frozenset({"not", "no", "never", "cannot", "nor", "neither", "nothing", "none", "nobody"})


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
# A title run just before a name ("Iranian President Hassan Rouhani"), and an appositive just after one
# (", deputy director of ..." gives "deputy director"; ", Northland Grain's chief executive," all of it).
_TITLE_BEFORE = re.compile(r"(?<![\w'’-])((?:[A-Z](?:[\w'’-]*|[a-z]{0,3}\.)\s+){1,5})$")
_TITLE_AFTER = re.compile(
    r",\s+((?:[\w'’-]+\s+){0,4}?[\w'’-]+)(?=\s+(?:of|for|at|in|from|on|to|with)\b|\s*,)"
)
_OPS: dict[str, Literal["equal", "insert", "delete", "replace"]] = {
    "equal": "equal",
    "insert": "insert",
    "delete": "delete",
    "replace": "replace",
}


# --- words ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Word:
    norm: str
    start: int
    end: int


def _words(text: str, lo: int = 0, hi: int | None = None) -> list[_Word]:
    """Word tokens of text[lo:hi) with their offsets, compared casefolded with apostrophes unified."""
    piece = text[lo:hi].translate(_APOSTROPHES)  # length-preserving, so offsets stay the text's
    return [_Word(m.group().casefold(), lo + m.start(), lo + m.end()) for m in _WORD.finditer(piece)]


def _joined(words: Sequence[_Word]) -> str:
    return " ".join(w.norm for w in words)


def _is_negation(word: str) -> bool:
    return word in _NEGATIONS or word.endswith("n't")


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _content(words: Sequence[_Word]) -> set[str]:
    return {_stem(w.norm) for w in words if w.norm not in _STOPWORDS}


def _negated(words: Sequence[_Word]) -> bool:
    return any(_is_negation(w.norm) for w in words)


def _numbers(words: Sequence[_Word]) -> set[str]:
    return {w.norm for w in words if any(c.isdigit() for c in w.norm)}


def _diff(claim: Sequence[_Word], claim_text: str, found: Sequence[_Word], text: str) -> list[DiffOp]:
    """Word-level edits from the claim's words to the article's, each side in its own spelling."""
    matcher = difflib.SequenceMatcher(None, [w.norm for w in claim], [w.norm for w in found], autojunk=False)

    def show(words: Sequence[_Word], source: str) -> str:
        return " ".join(source[w.start : w.end] for w in words)

    return [
        DiffOp(op=_OPS[op], claim=show(claim[i1:i2], claim_text), article=show(found[j1:j2], text))
        for op, i1, i2, j1, j2 in matcher.get_opcodes()
    ]


# --- speakers ------------------------------------------------------------------------------------------


def _name_words(text: str) -> tuple[str, ...]:
    words = (w.norm.removesuffix("'s") for w in _words(text))
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
            if before:
                found.add(_title(before.group(1), names))
            after = _TITLE_AFTER.match(text, m.end())
            # An appositive title is lowercase at its head ("chief executive"); "X, Rouhani and Zarif" is
            # a list of names, and "X, who ..." a relative clause.
            if after and after.group(1)[-1:].islower() and after.group(1).split()[0] not in _PRONOUNS:
                found.add(_name_words(after.group(1)))
    return {title for title in found if title}


@dataclass
class _Person:
    names: frozenset[str]  # the words of the name's head: "spokeswoman" in "a spokeswoman for Hale"
    words: frozenset[str]  # all its words
    phrases: set[tuple[str, ...]] = field(default_factory=set)

    def answers_to(self, claimed: frozenset[str]) -> bool:
        """Whether the claimed name is one the article uses for this person: a subset of the name's
        words ("Rouhani"), but not of words that name someone else in it ("Hale" is not "a spokeswoman
        for Hale") unless the claim holds the whole head too ("Department of Homeland Security"),
        name words with a title ("President Rouhani"), or a title the article gives them, with its head
        word ("the Iranian president", "the president")."""
        if not claimed:
            return False
        if claimed <= self.names or self.names <= claimed <= self.words:
            return True
        for phrase in self.phrases:
            words = set(phrase)
            if claimed & self.names and claimed <= self.names | words:
                return True
            if claimed <= words and phrase[-1] in claimed:
                return True
        return False


class _Speakers:
    """Everyone the extraction gives statements to, under every name and title the article uses."""

    def __init__(self, text: str, quotes: Sequence[Quote]) -> None:
        self._people: dict[str, _Person] = {}
        for quote in quotes:
            name = speaker_name(quote.speaker)
            if name is None:
                continue
            person = self._people.get(name)
            if person is None:
                head = frozenset(_name_words(phrase_head(name)))
                person = self._people[name] = _Person(head, frozenset(_name_words(name)))
                person.phrases.update(_titles(text, name))
            for extra in (quote.speaker.mention, quote.speaker.role):
                words = _title(phrase_head(extra or ""), person.names)
                if words and not set(words) <= _PRONOUNS:
                    person.phrases.add(words)

    def said_by(self, claimed: str, speaker: Speaker) -> bool:
        name = speaker_name(speaker)
        person = self._people.get(name) if name else None
        return person is not None and person.answers_to(frozenset(_name_words(claimed)))


# --- matching ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Statement:
    quote: Quote
    words: list[_Word]

    def overlap(self, start: int, end: int) -> int:
        return sum(max(0, min(end, e) - max(start, s)) for s, e in self.quote.fragments())


@dataclass(frozen=True)
class _Found:
    """The article's words closest to the claim: in `statement`, or in the text when it is None."""

    statement: _Statement | None
    words: list[_Word]
    score: float
    exact: bool  # the claim's words, all of them in order, with no negation just before


def _search(claim: Sequence[_Word], statement: _Statement) -> _Found | None:
    """The claim's words in the statement, else the statement's window of words most like them."""
    norms = [w.norm for w in statement.words]
    target = [w.norm for w in claim]
    n = len(target)
    negated: _Found | None = None
    for i in range(len(norms) - n + 1):
        if norms[i : i + n] != target:
            continue
        lead = next((k for k in range(max(0, i - NEGATION_LOOKBACK), i) if _is_negation(norms[k])), None)
        if lead is None:
            return _Found(statement, statement.words[i : i + n], 100.0, exact=True)
        if negated is None:
            window = statement.words[lead : i + n]
            negated = _Found(statement, window, fuzz.ratio(_joined(claim), _joined(window)), exact=False)
    if negated is not None:
        return negated
    if not norms:
        return None
    # The window is chosen by edit distance, which counts a changed word as one substitution, so a window
    # holding the article's replacement word beats one that merely stops short of it; it is scored by
    # fuzz.ratio, like every other similarity here.
    wanted = " ".join(target)
    slack = max(2, n // 3)
    best = (-1.0, 0, 0)
    for length in range(max(1, n - slack), n + slack + 1):
        for i in range(max(1, len(norms) - length + 1)):
            j = min(len(norms), i + length)
            similarity = Levenshtein.normalized_similarity(wanted, " ".join(norms[i:j]))
            if similarity > best[0]:
                best = (similarity, i, j)
    _, i, j = best
    window = statement.words[i:j]
    return _Found(statement, window, fuzz.ratio(wanted, _joined(window)), exact=False)


# --- the model as judge --------------------------------------------------------------------------------


class JudgeFailed(Exception):
    """The model gave no usable judgement (after retries and re-asks); the message says why."""


class Judge:
    """Asks a model, with the versioned verify prompt, whether an article reports a claim."""

    def __init__(self, config: LLMConfig, *, prompt: Prompt | None = None) -> None:
        self.prompt = prompt or load_judge_prompt()
        self.model = config.model
        self._backend = LLMBackend(config, prompt=self.prompt)
        self.usage = Usage()

    async def ask(self, article: str, claim: Claim) -> VerifyAnswer:
        try:
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


class _Verifier:
    """One article's extraction, indexed for judging any number of claims."""

    def __init__(self, article: Article, extraction: Extraction, judge: Judge | None) -> None:
        self.article = article
        self.extraction = extraction
        self.text = article.text
        self.source = SourceText(article.text)
        self.statements = [
            _Statement(q, [w for s, e in q.fragments() for w in _words(article.text, s, e)])
            for q in extraction.quotes
        ]
        self.speakers = _Speakers(article.text, extraction.quotes)
        self.judge = judge

    def verdict(self, claim: Claim, label: VerdictLabel, score: float, **fields: Any) -> Verdict:
        fields.setdefault("backend", self.extraction.backend)
        fields.setdefault("prompt", self.extraction.prompt)
        return Verdict(
            claim=claim, verdict=label, score=round(score, 2), article_id=self.article.id, **fields
        )

    def evidence(self, start: int, end: int, statement: _Statement | None) -> Evidence:
        quote = statement.quote if statement else None
        return Evidence(
            start=start,
            end=end,
            text=self.text[start:end],
            speaker=quote.speaker if quote else None,
            quote_id=quote.id if quote else None,
        )

    def overlapping(self, start: int, end: int) -> _Statement | None:
        best = max(self.statements, key=lambda st: st.overlap(start, end), default=None)
        return best if best is not None and best.overlap(start, end) > 0 else None

    async def check(self, claim: Claim) -> Verdict:
        words = _words(claim.quote)
        if not words:
            return self.verdict(claim, "not_found", 0.0, explanation="the claim has no words to look for")
        found = self._in_statements(claim, words) or self._in_text(claim, words)
        if found is not None:
            return self._from_words(claim, words, found)
        if self.judge is not None:
            return await self._judged(claim, words)
        return self._by_overlap(claim, words) or self._not_found(claim, _NOTHING_CLOSE)

    def _in_statements(self, claim: Claim, words: list[_Word]) -> _Found | None:
        found = [f for st in self.statements if (f := _search(words, st)) is not None]
        if not found:
            return None

        def rank(f: _Found) -> tuple[bool, float, bool]:
            assert f.statement is not None
            return f.exact, f.score, self.speakers.said_by(claim.speaker, f.statement.quote.speaker)

        best = max(found, key=rank)
        return best if best.score >= ALTERED_MIN_SCORE else None

    def _in_text(self, claim: Claim, words: list[_Word]) -> _Found | None:
        """The claim's words in the article itself, for statements the extraction did not find whole."""
        aligned = self.source.align_quote(claim.quote, include_marks=False, fuzzy_threshold=ALTERED_MIN_SCORE)
        if aligned is None:
            return None
        span = _words(self.text, aligned.start, aligned.end)
        if not span:
            return None
        exact = _joined(span) == _joined(words)
        return _Found(self.overlapping(aligned.start, aligned.end), span, aligned.score, exact)

    def _from_words(self, claim: Claim, words: list[_Word], found: _Found) -> Verdict:
        start, end = found.words[0].start, found.words[-1].end
        evidence = self.evidence(start, end, found.statement)
        if found.statement is None:
            close = "these words are" if found.exact else "words close to these are"
            return self._not_found(
                claim,
                f"{close} in the article, but in no statement it attributes to anyone",
                score=found.score,
                evidence=evidence,
            )
        speaker = found.statement.quote.speaker
        actual = speaker_name(speaker)
        said = self.speakers.said_by(claim.speaker, speaker)
        beyond = (
            ""
            if found.statement.overlap(start, end) == end - start
            else "; the claim runs past that statement"
        )
        if not found.exact:
            diff = _diff(words, claim.quote, found.words, self.text)
            who = (
                "by the claimed speaker"
                if said
                else f"by {actual or 'an unnamed speaker'}, not {claim.speaker}"
            )
            change = (
                "a negation differs" if _negated(words) != _negated(found.words) else "the wording differs"
            )
            return self.verdict(
                claim,
                "altered",
                found.score,
                evidence=evidence,
                actual_speaker=actual,
                diff=diff,
                explanation=f"close words said {who}, but {change}: {diff_text(diff)}{beyond}",
            )
        if actual is None:
            return self._not_found(
                claim,
                "these words are in the article, in a statement it attributes to no one it names",
                score=found.score,
                evidence=evidence,
            )
        if said:
            return self.verdict(
                claim,
                "supported",
                found.score,
                evidence=evidence,
                actual_speaker=actual,
                explanation=f"said by {actual}{_as_mentioned(speaker)}{beyond}",
            )
        return self.verdict(
            claim,
            "misattributed",
            found.score,
            evidence=evidence,
            actual_speaker=actual,
            explanation=f"the article attributes these words to {actual}{_as_mentioned(speaker)}, "
            f"not to {claim.speaker}{beyond}",
        )

    def _by_overlap(self, claim: Claim, words: list[_Word]) -> Verdict | None:
        """A paraphrased claim against indirect and mixed statements, by the content words they share."""
        content, numbers, negated = _content(words), _numbers(words), _negated(words)
        if not content:
            return None
        best: tuple[bool, float, _Statement, set[str]] | None = None
        for st in self.statements:
            if st.quote.kind == "direct" or _negated(st.words) != negated:
                continue
            if not numbers <= _numbers(st.words):
                continue
            shared = content & _content(st.words)
            share = len(shared) / len(content)
            least = PARAPHRASE_MIN_SHARE_WITH_FIGURES if numbers else PARAPHRASE_MIN_SHARE
            if len(shared) < PARAPHRASE_MIN_SHARED or share < least:
                continue
            candidate = (self.speakers.said_by(claim.speaker, st.quote.speaker), share, st, shared)
            if best is None or candidate[:2] > best[:2]:
                best = candidate
        if best is None:
            return None
        said, share, st, shared = best
        actual = speaker_name(st.quote.speaker)
        how = (
            f"judged without a model, by content words: the {st.quote.kind} statement holds {len(shared)} "
            f"of the claim's {len(content)} ({', '.join(sorted(shared))})"
        )
        who = f"reported of {actual}" if said else f"reported of {actual}, not {claim.speaker}"
        return self.verdict(
            claim,
            "supported" if said else "misattributed",
            100 * share,
            evidence=self.evidence(st.quote.start, st.quote.end, st),
            actual_speaker=actual,
            explanation=f"{who}; {how}",
        )

    async def _judged(self, claim: Claim, words: list[_Word]) -> Verdict:
        assert self.judge is not None
        judge = self.judge
        try:
            answer = await judge.ask(self.text, claim)
        except JudgeFailed as exc:
            fallback = self._by_overlap(claim, words) or self._not_found(claim, _NOTHING_CLOSE)
            note = f"the model could not judge this claim ({exc}); {fallback.explanation}"
            return fallback.model_copy(update={"explanation": note})
        made: dict[str, Any] = {"backend": "llm", "prompt": judge.prompt.ref}
        if answer.verdict == "not_found":
            return self._not_found(claim, f"model {judge.model}: {answer.explanation}", **made)
        aligned = (
            self.source.align_quote(answer.sentence, include_marks=False, fuzzy_threshold=SENTENCE_MIN_SCORE)
            if answer.sentence
            else None
        )
        if aligned is None:
            return self._not_found(
                claim,
                f"model {judge.model} answered {answer.verdict}, but its sentence is not in the article, "
                f"so it is not evidence: {answer.sentence!r}",
                **made,
            )
        statement = self.overlapping(aligned.start, aligned.end)
        evidence = self.evidence(aligned.start, aligned.end, statement)
        if evidence.speaker is None and answer.speaker:
            evidence.speaker = self._named(answer.speaker, aligned.start, aligned.end)
        found = _words(self.text, aligned.start, aligned.end)
        share = len(_content(words) & _content(found)) / max(1, len(_content(words)))
        actual = answer.speaker or (speaker_name(evidence.speaker) if evidence.speaker else None)
        return self.verdict(
            claim,
            answer.verdict,
            100 * share,
            evidence=evidence,
            actual_speaker=actual,
            diff=_diff(words, claim.quote, found, self.text) if answer.verdict == "altered" else [],
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

    def _not_found(self, claim: Claim, why: str, *, score: float = 0.0, **fields: Any) -> Verdict:
        if self.extraction.errors:
            failed = ", ".join(f"{e.start}–{e.end}" for e in self.extraction.errors)
            why += f" (extraction failed for characters {failed}, so statements there are unknown)"
        return self.verdict(claim, "not_found", score, explanation=why, **fields)


def _as_mentioned(speaker: Speaker) -> str:
    """How the article names the speaker at the statement, when that is neither the name nor a pronoun."""
    mention = speaker.mention
    if not mention or mention == speaker.name or set(_name_words(mention)) <= _PRONOUNS:
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
        if judge is None and isinstance(extractor.backend, LLMBackend):
            judge = Judge(extractor.backend.config)
            owned.push_async_callback(judge.aclose)
        if extraction is None:
            extraction = await extractor.aextract(doc)
        verifier = _Verifier(doc, extraction, judge)
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
