"""The public records (schema_version "1") and the answer schema the model is asked to fill.

Public fields may be added, never renamed. The model-facing schema carries no offsets: the model says
*what* was said, and grounding finds *where*.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1"

Kind = Literal["direct", "indirect", "mixed"]
SpeakerType = Literal["person", "organization", "group", "unknown"]
Grounding = Literal["exact", "normalized", "fuzzy"]


def iso_date(value: str) -> str:
    """An ISO 8601 date or date and time, in its normal form ("2024-03-05", "2024-03-05T09:30:00+01:00"),
    so that dates compare as strings; ValueError for anything else."""
    text = value.strip()
    try:
        if len(text) <= 10:
            return dt.date.fromisoformat(text).isoformat()
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        raise ValueError(f"not an ISO 8601 date (YYYY-MM-DD, or with a time): {value!r}") from None


IsoDate = Annotated[str, AfterValidator(iso_date)]


class Article(BaseModel):
    """One input text. `id` is kept through to the output; `source` says where it was read from;
    `date` (ISO 8601) and `url` are the article's own, when the input gives them."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    source: str | None = None
    date: IsoDate | None = None
    url: str | None = None

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


class Speaker(BaseModel):
    """Who said it: `mention` is the words in the article at [start, end); `name` the canonical name."""

    name: str | None = None
    mention: str | None = None
    start: int | None = None
    end: int | None = None
    type: SpeakerType = "unknown"
    role: str | None = None


class Entity(BaseModel):
    """Someone a statement is about."""

    name: str


class Quote(BaseModel):
    """One statement. Invariant: `article.text[start:end] == text`.

    `start`/`end` cover the whole statement; `spans` always lists its content fragments, at least one:
    `[[start, end]]` when its words are one piece, several when they are not: a split quote (“A,” he said.
    “B.”), a statement with its cue or speaker inside it ("The plan, Lopez said, will fail"), one with
    another speaker's attribution nested in it. (A record written with `spans: []`, as older runs and
    backends did for one piece, is read as `[[start, end]]`.)
    """

    id: str
    text: str
    start: int
    end: int
    kind: Kind
    speaker: Speaker = Field(default_factory=Speaker)
    cue: str | None = None
    cue_start: int | None = None
    cue_end: int | None = None
    about: list[Entity] = Field(default_factory=list)
    grounding: Grounding = "exact"
    chunk: int = 0
    spans: list[tuple[int, int]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_piece_is_listed(self) -> Quote:
        if not self.spans:
            self.spans = [(self.start, self.end)]
        return self

    def fragments(self) -> list[tuple[int, int]]:
        return self.spans


class Usage(BaseModel):
    """What the model side cost. `requests` got an answer (from a server; `cached_requests` of them from
    the response store instead); `failed_requests` were sent and got none (timeouts, refused or dropped
    connections, error statuses: a provider may bill work the client gave up on). `cached_input_tokens`
    are input tokens the provider served from its prompt cache; `reasoning_tokens` output tokens a
    reasoning model spent thinking (both already inside the input and output counts)."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_requests: int = 0
    failed_requests: int = 0
    cached_input_tokens: int = 0
    reasoning_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.requests += other.requests
        self.input_tokens += other.input_tokens
        self.output_tokens += other.output_tokens
        self.cached_requests += other.cached_requests
        self.failed_requests += other.failed_requests
        self.cached_input_tokens += other.cached_input_tokens
        self.reasoning_tokens += other.reasoning_tokens


class ChunkError(BaseModel):
    """A chunk that failed after every retry: its character range and why. Its quotes are missing."""

    chunk: int
    start: int
    end: int
    kind: str
    message: str


class Extraction(BaseModel):
    """Everything found in one article, with where it came from and what went wrong."""

    schema_version: str = SCHEMA_VERSION
    id: str
    source: str | None = None
    text_sha256: str
    backend: str
    model: str | None = None
    prompt: str | None = None
    prompt_sha256: str | None = None
    quotes: list[Quote] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    errors: list[ChunkError] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    text: str | None = None
    date: IsoDate | None = None
    url: str | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class SearchHit(BaseModel):
    """One statement found in a quote archive (`quotes.Archive.search`), with the article it stands in.

    `rank` counts from 1; `score` is the full-text relevance (higher is better; 0 when the search had no
    words and hits are listed newest first).
    """

    rank: int
    score: float
    article_id: str
    source: str | None = None
    date: str | None = None
    url: str | None = None
    quote: Quote


# --- the model-facing answer -------------------------------------------------------------------------


_EDGE_PUNCTUATION = ",;: \t\n"


def _to_last_word(phrase: str) -> str:
    """A mention or cue as far as its last word: the comma that closes an apposition ("Holt, Ohio's
    governor, said") and the colon after a cue ("added:") belong to the sentence. A cue that is
    punctuation only (the colon of a headline's "Holt: We will win") stays as it is."""
    phrase = phrase.strip()
    words = phrase.rstrip(",;:").rstrip()
    return words if any(c.isalnum() for c in words) else phrase


class AnswerQuote(BaseModel):
    """One statement as the model reports it: words as written, no offsets."""

    model_config = ConfigDict(extra="forbid")

    quote: str = Field(description="The statement's words exactly as they appear in the text.")
    speaker: str | None = Field(
        description="The speaker's full name as resolved from the whole text, or null."
    )
    speaker_mention: str | None = Field(
        description="The words next to the statement that name the speaker, exactly as written "
        "(a name, a title, or a pronoun such as 'he'), or null."
    )
    speaker_type: SpeakerType
    kind: Kind
    cue: str | None = Field(description="The verb or phrase introducing the statement, as written, or null.")
    about: list[str] = Field(description="People or organisations the statement is about, named in it.")

    @model_validator(mode="after")
    def _phrases_end_at_their_last_word(self) -> Self:
        # One check per record, in place: a validator per field cost twice as much, on every record.
        mention, cue = self.speaker_mention, self.cue
        if mention and (mention[-1] in _EDGE_PUNCTUATION or mention[0].isspace()):
            self.speaker_mention = _to_last_word(mention)
        if cue and (cue[-1] in _EDGE_PUNCTUATION or cue[0].isspace()):
            self.cue = _to_last_word(cue)
        return self


class Answer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quotes: list[AnswerQuote]


def answer_json_schema() -> dict[str, Any]:
    """The answer schema in the strict form OpenAI's `json_schema` response format accepts."""
    return strict_json_schema(Answer)


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A model-facing schema in the strict form OpenAI's `json_schema` response format accepts.

    Strict mode wants every property required and no additional properties, with nullables spelled
    as `anyOf` with null; pydantic's own output already does the latter.
    """
    schema = model.model_json_schema()

    def tighten(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                node["required"] = list(node["properties"])
                node["additionalProperties"] = False
            node.pop("title", None)
            node.pop("default", None)
            for value in node.values():
                tighten(value)
        elif isinstance(node, list):
            for value in node:
                tighten(value)

    tighten(schema)
    return schema


# --- verification ------------------------------------------------------------------------------------

# `unattributed`: the article holds the words but no extracted statement covers them; `could_not_check`:
# the extraction the verdict needs failed, so nothing can be said either way.
VerdictLabel = Literal[
    "supported", "misattributed", "altered", "unattributed", "not_found", "could_not_check"
]
# What the model may answer when it judges a claim (prompts/verify): the labels it can tell from one article.
JudgedLabel = Literal["supported", "misattributed", "altered", "not_found"]


class Claim(BaseModel):
    """What a fact-checker asks about: did `speaker` say `quote`?"""

    id: str | None = None
    speaker: str
    quote: str


class DiffOp(BaseModel):
    """One word-level edit from the claim's words to the article's: equal, insert, delete or replace."""

    op: Literal["equal", "insert", "delete", "replace"]
    claim: str
    article: str


class Evidence(BaseModel):
    """The article's span that decided the verdict and who the article says said it.

    `cue` is the statement's cue. For words no statement covers (`unattributed`), `speaker` is None and
    `nearest_speaker` and `cue` are those of the statement whose speaker is mentioned closest to the
    words (within 300 characters), if any: a lead, not an attribution. Evidence from a quote archive
    also names its article (`article_id`, `source`, `date`, `url`) and the verdict that article alone
    gives the claim (`verdict`).
    """

    start: int
    end: int
    text: str
    speaker: Speaker | None = None
    quote_id: str | None = None
    article_id: str | None = None
    source: str | None = None
    date: str | None = None
    url: str | None = None
    verdict: VerdictLabel | None = None
    cue: str | None = None
    nearest_speaker: Speaker | None = None


class Verdict(BaseModel):
    """The answer to one claim against one article.

    `verdict` is the most serious of `problems` (not_found, misattributed, unattributed, altered, in that
    order), or supported when there is none; could_not_check when a failed extraction leaves it unknown.
    `score` is the similarity (0-100) of the claim's words to the evidence; `confidence` (0-1) how far the
    evidence bears the verdict out, None for could_not_check. `diff` is word by word from the claim to the
    article, both sides shown; `variants` names the differences that change no meaning (spelling, case,
    a compound, an ellipsis, the person or tense shift of reported speech).
    """

    claim: Claim
    verdict: VerdictLabel
    score: float
    evidence: Evidence | None = None
    actual_speaker: str | None = None
    diff: list[DiffOp] = Field(default_factory=list)
    article_id: str | None = None
    backend: str | None = None
    prompt: str | None = None
    explanation: str | None = None
    # Across a quote archive: every article's evidence, earliest first (undated articles last).
    evidence_all: list[Evidence] = Field(default_factory=list)
    confidence: float | None = None
    problems: list[VerdictLabel] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)


class VerifyAnswer(BaseModel):
    """The model's judgement of one claim against one article (prompts/verify): no offsets, the
    deciding sentence is grounded like every other answer."""

    model_config = ConfigDict(extra="forbid")

    verdict: JudgedLabel
    sentence: str | None = Field(
        description="The article's sentence that decides the verdict, copied exactly; null for not_found."
    )
    speaker: str | None = Field(
        description="Who the article says made that statement, by the full name the article gives, or null."
    )
    explanation: str = Field(description="One or two sentences for a fact-checker: why this verdict.")
