"""The OpenAI-compatible backend: structured output, tenacity retries, validation re-asks, usage.

Layers, outermost first: re-ask (the answer failed validation: tell the model why) → json_schema
fallback (the server rejects structured output: put the schema in the prompt instead) → store (serve
a stored answer, or record a live one) → transport retries (429, 5xx, timeouts, connection errors).
The SDK's own retries are off so the two retry layers never multiply.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from quotes.backends import ChunkAnswer, ChunkFailed, OutputTruncated, Provenance
from quotes.chunking import Chunk
from quotes.prompts import Prompt, load_prompt
from quotes.schema import Answer, Usage, strict_json_schema
from quotes.store import RequestTemplate, ResponseStore, StoreError, redact

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

TASK = "extract"
AnswerT = TypeVar("AnswerT", bound=BaseModel)
# Sent when no key is configured (a local server, offline replay): obviously not a credential.
PLACEHOLDER_API_KEY = "no-api-key-configured"
_REJECTION_HINTS = ("response_format", "json_schema", "not supported")


@dataclass
class LLMConfig:
    model: str
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 120.0
    max_attempts: int = 6
    max_reasks: int = 3
    wait_initial: float = 1.0
    wait_max: float = 60.0
    chunk_size: int = 12_000
    temperature: float = 0.0
    max_output_tokens: int | None = None
    store: ResponseStore | None = None
    prompt_version: int | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.max_reasks < 0:
            raise ValueError(f"max_reasks must not be negative, got {self.max_reasks}")
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be positive, got {self.chunk_size}")
        if self.timeout <= 0:
            raise ValueError(f"timeout must be positive, got {self.timeout}")

    @classmethod
    def from_env(
        cls,
        model: str | None = None,
        base_url: str | None = None,
        api_key: str | None = None,
        **overrides: Any,
    ) -> LLMConfig | None:
        """Arguments override $QUOTES_MODEL, $OPENAI_BASE_URL and $OPENAI_API_KEY; None when no model is set.

        Unless `store` is among the overrides, the default response store (cache mode) is used.
        """
        model = model or os.environ.get("QUOTES_MODEL")
        if not model:
            return None
        if "store" not in overrides:
            overrides["store"] = ResponseStore.from_env()
        return cls(
            model=model,
            base_url=base_url or os.environ.get("OPENAI_BASE_URL") or None,
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or None,
            **overrides,
        )


@dataclass(frozen=True)
class _Completion:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int


class _Transient(Exception):
    """A transport failure worth retrying; `kind` becomes the ChunkFailed kind after the last attempt."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class _StructuredOutputRejected(Exception):
    """The server refused `response_format: json_schema`."""


class LLMBackend:
    def __init__(self, config: LLMConfig, *, prompt: Prompt | None = None) -> None:
        self.config = config
        self.prompt = prompt or load_prompt(TASK, config.prompt_version)
        self._templates: dict[tuple[type[BaseModel], bool], RequestTemplate] = {}
        # Switched once when a server rejects json_schema. Only the event loop's thread touches it and
        # no await separates a read from the request it shapes, so no lock is needed.
        self._json_object = False
        self._secrets = [config.api_key] if config.api_key else []
        if config.store is not None:
            config.store.add_secret(config.api_key)
        # Imported here rather than at the top: the SDK takes about a second to import, and `import
        # quotes` or a run with the offline rules backend should not pay for it.
        import openai

        self._client = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key or PLACEHOLDER_API_KEY,
            max_retries=0,
            timeout=config.timeout,
        )
        # Full jitter between wait_initial and an exponentially growing ceiling, so that many clients
        # backing off from the same 429 spread out instead of returning together.
        self._backoff = wait_random_exponential(
            multiplier=config.wait_initial, max=config.wait_max, min=config.wait_initial
        )

    @property
    def provenance(self) -> Provenance:
        return Provenance(
            backend="llm", model=self.config.model, prompt=self.prompt.ref, prompt_sha256=self.prompt.sha256
        )

    @property
    def chunk_size(self) -> int | None:
        return self.config.chunk_size

    @property
    def json_object_mode(self) -> bool:
        """True once the server has rejected json_schema structured output."""
        return self._json_object

    def request_for(self, chunk_text: str, answer_type: type[BaseModel] = Answer) -> dict[str, Any]:
        """The exact request body the first ask for this text sends (the store key is computed from it),
        for an answer of `answer_type` (`ask`'s). Its fixed part (prompt, examples, response format) is
        shared by every request: not to be changed."""
        return self._template(answer_type).body(self._messages(chunk_text, []))

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        answer, usage = await self.ask(chunk.text, Answer)
        return ChunkAnswer(records=answer.quotes, usage=usage)

    async def ask(self, text: str, answer_type: type[AnswerT]) -> tuple[AnswerT, Usage]:
        """This backend's prompt asked about `text`, its answer validated as `answer_type`.

        An answer that fails validation is re-asked with the validation error (at most `max_reasks`
        times); raises OutputTruncated on a length cut and ChunkFailed on a refusal or when no valid
        answer comes. The usage of every attempt is counted, and carried on the exceptions too.
        """
        usage = Usage()
        followups: list[dict[str, str]] = []
        problem = ""
        for _ in range(self.config.max_reasks + 1):
            completion = await self._complete(text, followups, usage, answer_type)
            if completion.finish_reason == "length":
                raise OutputTruncated(usage)
            if completion.refusal or completion.finish_reason == "content_filter":
                reason = completion.refusal or "the server's content filter stopped the answer"
                raise ChunkFailed("refusal", self._scrub(reason), usage)
            content = completion.content or ""
            try:
                return parse_answer(content, answer_type), usage
            except ValidationError as exc:
                problem = describe_validation_error(exc)
                log.info("the answer failed validation (%s); re-asking", problem)
                followups += [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": self.prompt.reask(problem)},
                ]
        raise ChunkFailed(
            "invalid_answer",
            self._scrub(f"no valid answer after {self.config.max_reasks} re-ask(s): {problem}"),
            usage,
        )

    async def aclose(self) -> None:
        await self._client.close()

    def _template(self, answer_type: type[BaseModel]) -> RequestTemplate:
        """What every request for `answer_type` in the current mode holds before the chunk's own messages:
        model, sampling, response format, the system message and the few-shot pairs. Built once per
        answer type and mode, as it is the bulk of every request body."""
        json_object = self._json_object
        if (answer_type, json_object) not in self._templates:
            words = re.findall(r"[A-Z][a-z0-9]*", answer_type.__name__)
            name = "_".join(["quotes", *(w.lower() for w in words)])  # "quotes_answer" for Answer
            schema = strict_json_schema(answer_type)
            response_format: dict[str, Any] = (
                {"type": "json_object"}
                if json_object
                else {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
            )
            base: dict[str, Any] = {
                "model": self.config.model,
                "messages": self.prompt.prefix(json_mode=json_object, schema=schema),
                "temperature": self.config.temperature,
                "response_format": response_format,
            }
            if self.config.max_output_tokens is not None:
                base["max_completion_tokens"] = self.config.max_output_tokens
            self._templates[answer_type, json_object] = RequestTemplate(base)
        return self._templates[answer_type, json_object]

    def _messages(self, text: str, followups: list[dict[str, str]]) -> list[dict[str, str]]:
        """The messages after the template's: the chunk, then any re-asks."""
        return [self.prompt.user_message(text), *followups]

    async def _complete(
        self, text: str, followups: list[dict[str, str]], usage: Usage, answer_type: type[BaseModel]
    ) -> _Completion:
        """One answer for the conversation so far, switching to json_object once if the server needs it."""
        try:
            return await self._fetch(self._template(answer_type), self._messages(text, followups), usage)
        except _StructuredOutputRejected as exc:
            if not self._json_object:
                self._json_object = True
                log.warning(
                    "the server rejected json_schema structured output (%s); "
                    "using json_object with the schema in the prompt from now on",
                    exc,
                )
        return await self._fetch(self._template(answer_type), self._messages(text, followups), usage)

    async def _fetch(
        self, template: RequestTemplate, messages: list[dict[str, str]], usage: Usage
    ) -> _Completion:
        store = self.config.store
        if store is None:
            return (await self._send(template.body(messages), usage))[1]
        keyed = store.keyed_from(template, messages)  # the key is computed once, for the lookup and the save
        stored = store.lookup(keyed)
        if stored is not None:
            try:
                completion = _read_completion(stored)
            except ValueError as exc:
                raise StoreError(f"{store.path_for(keyed)}: not a chat completion ({exc})") from exc
            usage.cached_requests += 1
            return completion
        response, completion = await self._send(keyed.body, usage)
        if completion.finish_reason != "length":
            # On the event loop, fsync and all (about a millisecond): handing it to a thread cost more CPU
            # than it spared the loop, and slowed a concurrent run (bench/README.md, "Speed at
            # concurrency 32").
            store.save(keyed, response)
        return completion

    async def _send(self, body: Mapping[str, Any], usage: Usage) -> tuple[dict[str, Any], _Completion]:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type(_Transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            result: tuple[dict[str, Any], _Completion] = await retrying(self._attempt, body, usage)
        except _Transient as exc:
            attempts = self.config.max_attempts
            raise ChunkFailed(
                exc.kind, f"{exc.message} (gave up after {attempts} attempt(s))", usage
            ) from None
        return result

    async def _attempt(self, body: Mapping[str, Any], usage: Usage) -> tuple[dict[str, Any], _Completion]:
        """One HTTP request: the wire body and its parsed completion, or a classified failure."""
        import openai  # already loaded by __init__

        try:
            # The request chat.completions.create would send, without its walk of the whole body against
            # the SDK's parameter types: that walk cost ~5 ms of CPU per request, more than the rest of
            # the SDK and HTTP together.
            content = await self._client.post("/chat/completions", cast_to=bytes, body=body)
        except openai.APITimeoutError:
            raise _Transient("timeout", f"no answer within {self.config.timeout:g}s") from None
        except openai.APIConnectionError as exc:
            cause = f" ({type(exc.__cause__).__name__}: {exc.__cause__})" if exc.__cause__ else ""
            raise _Transient("connection", self._scrub(f"{exc.message}{cause}")) from None
        except openai.APIStatusError as exc:
            raise self._classify(exc, body, usage) from None
        try:
            response = json.loads(content)
            completion = _read_completion(response)
        except ValueError as exc:
            snippet = content[:200].decode("utf-8", "replace")
            raise _Transient(
                "server_error", self._scrub(f"not a chat completion ({exc}): {snippet!r}")
            ) from None
        usage.requests += 1
        usage.input_tokens += completion.prompt_tokens
        usage.output_tokens += completion.completion_tokens
        return response, completion

    def _classify(self, exc: openai.APIStatusError, body: Mapping[str, Any], usage: Usage) -> Exception:
        status = exc.status_code
        detail = exc.body.get("message") if isinstance(exc.body, dict) else None
        message = self._scrub(
            f"HTTP {status}: {detail if isinstance(detail, str) and detail else exc.message}"
        )
        retry_after = retry_after_seconds(exc.response.headers)
        if status == 429:
            return _Transient("rate_limited", message, retry_after)
        if status >= 500:
            return _Transient("server_error", message, retry_after)
        if status == 408:
            return _Transient("timeout", message, retry_after)
        asked_schema = body["response_format"]["type"] == "json_schema"
        if status == 400 and asked_schema and any(hint in message.lower() for hint in _REJECTION_HINTS):
            return _StructuredOutputRejected(message)
        return ChunkFailed("http_4xx", message, usage)

    def _wait(self, state: RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        if isinstance(failure, _Transient) and failure.retry_after is not None:
            return min(failure.retry_after, self.config.wait_max)
        return self._backoff(state)

    def _log_retry(self, state: RetryCallState) -> None:
        failure = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "model request failed (%s); attempt %d of %d, retrying in %.2fs",
            failure,
            state.attempt_number,
            self.config.max_attempts,
            wait,
        )

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)


def parse_answer(content: str, answer_type: type[AnswerT]) -> AnswerT:
    """The model's content validated as `answer_type`; a ```json fence around it is ignored."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return answer_type.model_validate_json(text)


def describe_validation_error(exc: ValidationError, limit: int = 8) -> str:
    """A short, model-readable account of what is wrong, without pydantic's URLs."""
    errors = exc.errors(include_url=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in errors[:limit]]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)


def _read_completion(body: Any) -> _Completion:
    """The fields we use from a chat.completion body; ValueError when it is not one."""
    if not isinstance(body, dict):
        raise ValueError("the body is not a JSON object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ValueError("no choices")
    message = choices[0].get("message")
    if not isinstance(message, dict):
        raise ValueError("the first choice has no message")
    content, refusal = message.get("content"), message.get("refusal")
    if not isinstance(content, str | None) or not isinstance(refusal, str | None):
        raise ValueError("message content and refusal must be strings or null")
    usage = body.get("usage")
    if not isinstance(usage, dict):
        usage = {}
    return _Completion(
        content=content,
        refusal=refusal,
        finish_reason=choices[0].get("finish_reason"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
    )


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait (Retry-After as seconds or HTTP date, or retry-after-ms)."""
    if milliseconds := headers.get("retry-after-ms"):
        try:
            return max(0.0, float(milliseconds) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
