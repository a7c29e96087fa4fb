"""A *perfect model* for benchmarks: it answers each request with the gold quotes its chunk shows.

The chunk is found in the request (quotes' `<article>` user message, or langextract's last `Q:` line),
located in a gold article, and answered with every gold quote that overlaps it — a quote cut at the
chunk's edge is given as far as the chunk shows it — in the format the caller asked for: quotes'
Answer JSON, or langextract's `{"extractions": [...]}` (fenced when its prompt's examples are). Text is
written the way a model writes it: on one line (whitespace runs collapsed), quotation marks kept.

With a perfect model, anything a tool loses is the tool's own loss.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from quotes.evaluate import GoldArticle, GoldQuote

Client = Literal["quotes", "langextract"]

_QUOTES_ARTICLE = re.compile(r"<article>\n(.*)\n</article>", re.DOTALL)
_QUESTION, _ANSWER = "\nQ: ", "\nA: "
_SPACE_RUN = re.compile(r"\s+")
_SEPARATOR = "\x00"
# The corpus is indexed by its 32-character stretches at every 32nd position: a chunk at least 64
# characters long holds one of them within its first 32 characters, wherever it starts.
_GRAM, _STRIDE = 32, 32


class UnknownRequest(ValueError):
    """The request is not one the perfect model knows how to read (no chunk, or not a gold text)."""


@dataclass(frozen=True)
class Request:
    """What the perfect model needs from a chat-completion body."""

    client: Client
    candidates: tuple[str, ...]
    fenced: bool = False


@dataclass(frozen=True)
class Located:
    article: GoldArticle
    start: int
    end: int
    ambiguous: bool


@dataclass(frozen=True)
class Visible:
    """A gold quote as far as one chunk shows it."""

    gold: GoldQuote
    start: int
    text: str
    cut: bool


def one_line(text: str) -> str:
    return _SPACE_RUN.sub(" ", text).strip()


def read_request(body: Mapping[str, Any]) -> Request:
    """Which client sent `body` and where the chunk it asks about may be.

    quotes puts the chunk between `<article>` markers in a user message (the last such one: few-shot
    examples come first, re-asks after). langextract's last user message is `...Q: <chunk>\\nA: ` after
    few-shot `Q:`/`A:` pairs, and the chunk itself may hold a `Q:` line, so every `Q:` is a candidate
    start; `GoldIndex.locate` keeps the first that is a gold text.
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise UnknownRequest("the request has no messages")
    users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    texts = [c for c in users if isinstance(c, str)]
    for content in reversed(texts):
        found = _QUOTES_ARTICLE.search(content)
        if found:
            return Request("quotes", (found.group(1),))
    if texts and texts[-1].endswith(_ANSWER):
        last = texts[-1][: -len(_ANSWER)]
        starts = [m.end() for m in re.finditer(re.escape(_QUESTION), last)]
        if starts:
            return Request("langextract", tuple(last[s:] for s in starts), fenced="```json" in texts[-1])
    raise UnknownRequest("no chunk found in the user messages (neither quotes' nor langextract's prompt)")


def corpus(gold: Sequence[GoldArticle], n: int) -> list[GoldArticle]:
    """The first n gold articles; past the end they come round again as copies with their own id
    (`<id>#2`) and text (a `(copy 2)` paragraph appended, offsets unchanged), so no two requests repeat."""
    out = []
    for i in range(n):
        article = gold[i % len(gold)]
        lap = i // len(gold) + 1
        if lap > 1:
            article = article.model_copy(
                update={"id": f"{article.id}#{lap}", "text": f"{article.text}\n\n(copy {lap})"}
            )
        out.append(article)
    return out


class GoldIndex:
    """Every gold article's text (and `laps - 1` copies of each, as `corpus` makes them), searchable."""

    def __init__(self, articles: Sequence[GoldArticle], laps: int = 1) -> None:
        self._originals = len(articles)
        self.articles = corpus(articles, laps * len(articles))
        self._starts: list[int] = []
        parts: list[str] = []
        at = 0
        for article in self.articles:
            self._starts.append(at)
            parts.append(article.text)
            at += len(article.text) + len(_SEPARATOR)
        self._corpus = _SEPARATOR.join(parts)
        self._first_lap_end = self._starts[self._originals] if laps > 1 and articles else len(self._corpus)
        self._grams: dict[str, list[int]] = {}
        for at in range(0, len(self._corpus) - _GRAM + 1, _STRIDE):
            self._grams.setdefault(self._corpus[at : at + _GRAM], []).append(at)

    def locate(self, candidates: Sequence[str]) -> Located:
        """The first candidate that is a stretch of a gold article, and where it lies."""
        for chunk in candidates:
            hits = self._occurrences(chunk) if chunk else []
            if hits:
                return self._located(chunk, hits)
        raise UnknownRequest(
            f"the chunk ({len(candidates[-1]) if candidates else 0} characters) is in no gold article"
        )

    def _occurrences(self, chunk: str) -> list[int]:
        """Where `chunk` starts in the corpus, in order. Looked up in the index rather than scanned for:
        a scan of the whole corpus took the stub milliseconds per request, which on a shared machine is
        CPU the client under test does not get."""
        corpus = self._corpus
        if len(chunk) < _GRAM + _STRIDE:
            hits = [corpus.find(chunk)]
            while hits[-1] >= 0:
                hits.append(corpus.find(chunk, hits[-1] + 1))
            return hits[:-1]
        starts = {
            at - offset
            for offset in range(_STRIDE)
            for at in self._grams.get(chunk[offset : offset + _GRAM], ())
            if at >= offset and corpus.startswith(chunk, at - offset)
        }
        return sorted(starts)

    def _located(self, chunk: str, hits: Sequence[int]) -> Located:
        hit = hits[0]
        number = bisect.bisect_right(self._starts, hit) - 1
        start = hit - self._starts[number]
        ambiguous = any(other + len(chunk) <= self._first_lap_end for other in hits[1:])
        return Located(self.articles[number], start, start + len(chunk), ambiguous)

    @staticmethod
    def visible(located: Located) -> list[Visible]:
        """The gold quotes overlapping the chunk with at least one letter or digit inside it, in order."""
        text, lo, hi = located.article.text, located.start, located.end
        seen = []
        for quote in sorted(located.article.quotes, key=lambda q: (q.start, q.end)):
            start, end = max(quote.start, lo), min(quote.end, hi)
            if start >= end or not any(c.isalnum() for c in text[start:end]):
                continue
            cut = (start, end) != (quote.start, quote.end)
            seen.append(Visible(quote, start, one_line(text[start:end]), cut))
        return seen


def quotes_answer(visible: Sequence[Visible]) -> str:
    """quotes' Answer: {"quotes": [...]} on one line."""
    records: list[dict[str, Any]] = []
    for item in visible:
        speaker = one_line(item.gold.speaker) if item.gold.speaker else None
        records.append(
            {
                "quote": item.text,
                "speaker": speaker,
                "speaker_mention": speaker,
                "speaker_type": "person" if speaker else "unknown",
                "kind": item.gold.kind,
                "cue": one_line(item.gold.cue) if item.gold.cue else None,
                "about": [],
            }
        )
    return json.dumps({"quotes": records}, ensure_ascii=False)


def langextract_answer(visible: Sequence[Visible], *, fenced: bool) -> str:
    """langextract's `{"extractions": [...]}`: a `quote` per statement and a `speaker` per mention, in
    text order, linked by a chunk-local `quote_id` (the shape bench/langextract_prompt.py teaches)."""
    items: list[tuple[int, dict[str, Any]]] = []
    for number, item in enumerate(visible, start=1):
        qid = f"q{number}"
        gold = item.gold
        speaker = one_line(gold.speaker) if gold.speaker else None
        attributes = {
            "quote_id": qid,
            "speaker": speaker,
            "kind": gold.kind,
            "cue": one_line(gold.cue) if gold.cue else None,
        }
        items.append((item.start, {"quote": item.text, "quote_attributes": attributes}))
        if speaker and gold.speaker_start is not None:
            items.append((gold.speaker_start, {"speaker": speaker, "speaker_attributes": {"quote_id": qid}}))
    items.sort(key=lambda pair: pair[0])
    payload = json.dumps({"extractions": [item for _, item in items]}, ensure_ascii=False)
    return f"```json\n{payload}\n```" if fenced else payload


def answer(request: Request, visible: Sequence[Visible]) -> str:
    if request.client == "quotes":
        return quotes_answer(visible)
    return langextract_answer(visible, fenced=request.fenced)
