"""The OpenAI-compatible backend: structured output, bounded answers, retries, re-asks, usage.

Layers, outermost first: re-ask (the answer failed validation: tell the model why; an answer that
repeats an earlier one ends it) → structured output (the server rejects a response format or a token
field: step down to what it takes, and remember that for the server, `servers.py`) → store (serve a
stored answer, a truncated one included, or record a live one) → preflight (before the first live
request: server reachable, key accepted, model known; else SetupError) → circuit breaker (a server that
stopped answering fails every request at once) → transport retries (429, 5xx and connection errors back
off; a timeout is asked once more, once the server is free, then the chunk is split). The SDK's own
retries are off so the two retry layers never multiply. Every answer is bounded by `max_tokens`, sized
to its text.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from quotes.backends import (
    ChunkAnswer,
    ChunkFailed,
    OutputTruncated,
    Provenance,
    ServerUnavailable,
    SetupError,
)
from quotes.backends.answers import describe_validation_error, parse_answer
from quotes.backends.servers import ServerMemory, ServerTraits, StructuredOutput, TokenLimit
from quotes.chunking import Chunk
from quotes.prompts import Prompt, load_prompt
from quotes.schema import Answer, Usage, strict_json_schema
from quotes.store import RequestTemplate, ResponseStore, StoreError, StoreMode, redact

if TYPE_CHECKING:
    import openai

log = logging.getLogger(__name__)

TASK = "extract"
OPENAI_URL = "https://api.openai.com/v1"
AnswerT = TypeVar("AnswerT", bound=BaseModel)
# Sent when no key is configured (a local server, offline replay): obviously not a credential.
PLACEHOLDER_API_KEY = "no-api-key-configured"
# Words in a rejection that say which part of the request the server refused, whatever its status
# (OpenAI answers 400, vLLM 400 or 422, llama-cpp-python 500 with pydantic's "Input should be 'text' or
# 'json_object'").
_FORMAT_HINTS = ("response_format", "json_schema", "json_object", "'text' or")
_TOKEN_HINTS = ("max_tokens",)
# An answer's tokens: the statements it repeats are at most the text itself (about a token per four
# characters), the fields around each add about as much again, and a short text still needs room.
ANSWER_TOKENS_PER_CHAR = 0.5
ANSWER_TOKENS_MIN = 512
_TOKEN_STEP = 256  # sizes are rounded up to this, so chunks share request templates
# A timed-out request is asked this many times in all before its chunk is split: a server that is
# still generating the abandoned answer would only be asked to start the same one again.
TIMEOUT_ATTEMPTS = 2
# Failures in a row (no answer at all: connection refused or dropped, timeouts) after which the server
# is checked with a request for its model list; if it does not answer that either, the circuit opens.
BREAKER_THRESHOLD = 4
# How long an open circuit fails requests at once before letting one through to try the server again
# (a run stops taking in articles at once; a long-lived process such as `quotes serve` recovers).
BREAKER_RETRY_SECONDS = 30.0
PROBE_TIMEOUT = 10.0
# What the store holds for a request that got no answer within the timeout: the seconds waited.
TIMED_OUT = "timed_out_after"


@dataclass
class LLMConfig:
    """How to reach the model and bound its work.

    `structured_output` None learns the mode from the server (json_schema first, remembered per server
    and model in the store's folder); `max_output_tokens` None sizes each answer's bound to its text.
    """

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
    structured_output: StructuredOutput | None = None
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
        if self.max_output_tokens is not None and self.max_output_tokens < 1:
            raise ValueError(f"max_output_tokens must be positive, got {self.max_output_tokens}")
        if self.structured_output is not None:
            self.structured_output = StructuredOutput(self.structured_output)

    @property
    def where(self) -> str:
        """The server's URL as a user would name it."""
        return (self.base_url or OPENAI_URL).rstrip("/")

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


def answer_token_limit(text_chars: int) -> int:
    """The default bound on an answer about a text of `text_chars` characters."""
    tokens = max(ANSWER_TOKENS_MIN, int(text_chars * ANSWER_TOKENS_PER_CHAR) + ANSWER_TOKENS_MIN // 2)
    return -(-tokens // _TOKEN_STEP) * _TOKEN_STEP


@dataclass(frozen=True)
class _Completion:
    content: str | None
    refusal: str | None
    finish_reason: str | None
    prompt_tokens: int
    completion_tokens: int
    cached_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True)
class Preflight:
    """What the check before the first live request found: the models the server lists (None when it
    lists none), and whether a one-token request had to confirm the model."""

    models: tuple[str, ...] | None
    probed: bool


class _Transient(Exception):
    """A transport failure worth retrying; `kind` becomes the ChunkFailed kind after the last attempt."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after


class _Rejected(Exception):
    """The server refused a part of the request (`part`: "response_format" or "token_limit") that a
    different request could do without; `traits` are those the refused request was built with."""

    def __init__(self, part: str, message: str, traits: ServerTraits) -> None:
        super().__init__(message)
        self.part = part
        self.message = message
        self.traits = traits


class _Breaker:
    """Opens after BREAKER_THRESHOLD requests in a row got no answer and the server's model list did not
    answer either; from then on every request fails at once, until BREAKER_RETRY_SECONDS have passed and
    one request is let through (half open): its failure opens the circuit again at once."""

    def __init__(self) -> None:
        self.failures = 0
        self.reason: str | None = None
        self.opened_at = 0.0
        self.checking = asyncio.Lock()  # one look at the server at a time

    @property
    def open(self) -> bool:
        return self.reason is not None

    def trip(self, reason: str) -> None:
        self.reason = reason
        self.opened_at = time.monotonic()

    def refusal(self) -> str | None:
        """Why a request must fail at once, or None; past the wait, the circuit half-opens for it."""
        if self.reason is not None and time.monotonic() - self.opened_at >= BREAKER_RETRY_SECONDS:
            self.reason = None
        return self.reason

    def answered(self) -> None:
        self.failures = 0


class LLMBackend:
    def __init__(self, config: LLMConfig, *, prompt: Prompt | None = None) -> None:
        self.config = config
        self.prompt = prompt or load_prompt(TASK, config.prompt_version)
        self._templates: dict[tuple[type[BaseModel], ServerTraits, int], RequestTemplate] = {}
        store = config.store
        self._memory = ServerMemory(
            store.directory if store is not None and store.mode is not StoreMode.off else None
        )
        learned = self._memory.get(config.base_url, config.model)
        # Only the event loop's thread touches the traits, and no await separates a read from the
        # request it shapes, so no lock is needed.
        self._traits = (
            ServerTraits(config.structured_output, learned.token_limit)
            if config.structured_output is not None
            else learned
        )
        self._secrets = [config.api_key] if config.api_key else []
        if store is not None:
            store.add_secret(config.api_key)
        # The prompt's example texts as `_in_example` compares them, worked out once.
        self._examples = tuple(_folded(e.text) for e in self.prompt.examples)
        self._preflight: asyncio.Task[Preflight] | None = None
        self._breaker = _Breaker()
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
    def structured_output(self) -> StructuredOutput:
        """The structured-output mode requests are sent in now."""
        return self._traits.structured_output

    @property
    def token_limit(self) -> TokenLimit:
        """The request field that bounds answers now."""
        return self._traits.token_limit

    def request_for(self, chunk_text: str, answer_type: type[BaseModel] = Answer) -> dict[str, Any]:
        """The exact request body the first ask for this text sends (the store key is computed from it),
        for an answer of `answer_type` (`ask`'s). Its fixed part (prompt, examples, response format) is
        shared by every request: not to be changed."""
        return self._template(answer_type, chunk_text).body(self._messages(chunk_text, []))

    async def extract_chunk(self, chunk: Chunk) -> ChunkAnswer:
        answer, usage, warnings = await self._ask(chunk.text, Answer)
        records = []
        for record in answer.quotes:
            if record.quote not in chunk.text and self._in_example(record.quote):
                warnings.append(f"dropped a statement copied from the prompt's example: {record.quote!r}")
            else:
                records.append(record)
        return ChunkAnswer(records=records, usage=usage, warnings=warnings)

    def _in_example(self, quote: str) -> bool:
        """Whether `quote` stands in one of the prompt's example texts (ignoring case and spacing, as a
        small model copying it back may change either)."""
        words = _folded(quote)
        return bool(words) and any(words in example for example in self._examples)

    async def ask(self, text: str, answer_type: type[AnswerT]) -> tuple[AnswerT, Usage]:
        """This backend's prompt asked about `text`, its answer validated as `answer_type`.

        Fields the model left out take their defaults and invalid list items are dropped (logged); an
        answer with nothing usable is re-asked with the validation error (at most `max_reasks` times,
        and never once the model repeats an answer). Raises OutputTruncated on a length cut or repeated
        timeouts, ChunkFailed on a refusal or when no valid answer comes, SetupError when the server
        cannot be used. The usage of every attempt is counted, and carried on the exceptions too.
        """
        answer, usage, warnings = await self._ask(text, answer_type)
        for warning in warnings:
            log.info("the answer was repaired: %s", warning)
        return answer, usage

    async def aclose(self) -> None:
        if self._preflight is not None and not self._preflight.done():
            self._preflight.cancel()
        await self._client.close()

    async def preflight(self) -> Preflight:
        """Check, once, that the server can be used: a key for the hosted API, the server reachable, the
        key accepted, the model known (listed by `GET /models`, or else accepted by a one-token request).

        Runs by itself before the first live request; raises SetupError naming the server and the fix.
        A failed check is not kept: the next request checks again, so a long-lived process (`quotes
        serve`) starts working once the server is up or the key fixed.
        """
        task = self._preflight
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._preflight = asyncio.ensure_future(self._check_server())
        return await asyncio.shield(task)

    async def _ask(self, text: str, answer_type: type[AnswerT]) -> tuple[AnswerT, Usage, list[str]]:
        usage = Usage()
        followups: list[dict[str, str]] = []
        problem = ""
        answers: set[str] = set()
        for _ in range(self.config.max_reasks + 1):
            completion = await self._complete(text, followups, usage, answer_type)
            if completion.finish_reason == "length":
                raise OutputTruncated(usage)
            if completion.refusal or completion.finish_reason == "content_filter":
                reason = completion.refusal or "the server's content filter stopped the answer"
                raise ChunkFailed("refusal", self._scrub(reason), usage)
            content = completion.content or ""
            try:
                parsed = parse_answer(content, answer_type)
            except ValidationError as exc:
                problem = describe_validation_error(exc)
                if content in answers:
                    problem += " (the model gave this answer before, so it was not asked again)"
                    break
                answers.add(content)
                log.info("the answer failed validation (%s); re-asking", problem)
                followups += [
                    {"role": "assistant", "content": content},
                    {"role": "user", "content": self.prompt.reask(problem)},
                ]
                continue
            return parsed.answer, usage, parsed.warnings
        raise ChunkFailed(
            "invalid_answer",
            self._scrub(f"no valid answer after {len(answers)} ask(s): {problem}"),
            usage,
        )

    def _template(self, answer_type: type[BaseModel], text: str) -> RequestTemplate:
        """What every request for `answer_type` in the current mode holds before the chunk's own messages:
        model, sampling, response format, answer bound, the system message and the few-shot pairs. Built
        once per answer type, mode and bound, as it is the bulk of every request body."""
        traits = self._traits
        limit = self.config.max_output_tokens or answer_token_limit(len(text))
        if (answer_type, traits, limit) not in self._templates:
            words = re.findall(r"[A-Z][a-z0-9]*", answer_type.__name__)
            name = "_".join(["quotes", *(w.lower() for w in words)])  # "quotes_answer" for Answer
            schema = strict_json_schema(answer_type)
            mode = traits.structured_output
            response_format: dict[str, Any] = (
                {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}
                if mode is StructuredOutput.json_schema
                else {"type": "json_object", "schema": schema}
                if mode is StructuredOutput.json_object_schema
                else {"type": "json_object"}
            )
            base: dict[str, Any] = {
                "model": self.config.model,
                "messages": self.prompt.prefix(
                    json_mode=mode is not StructuredOutput.json_schema, schema=schema
                ),
                "temperature": self.config.temperature,
                "response_format": response_format,
                traits.token_limit.value: limit,
            }
            self._templates[answer_type, traits, limit] = RequestTemplate(base)
        return self._templates[answer_type, traits, limit]

    def _messages(self, text: str, followups: list[dict[str, str]]) -> list[dict[str, str]]:
        """The messages after the template's: the chunk, then any re-asks."""
        return [self.prompt.user_message(text), *followups]

    async def _complete(
        self, text: str, followups: list[dict[str, str]], usage: Usage, answer_type: type[BaseModel]
    ) -> _Completion:
        """One answer for the conversation so far, stepping down to what the server takes if need be."""
        while True:
            template = self._template(answer_type, text)
            try:
                return await self._fetch(template, self._messages(text, followups), usage)
            except _Rejected as rejected:
                if not self._step_down(rejected):
                    raise ChunkFailed("http_4xx", rejected.message, usage) from None

    def _step_down(self, rejected: _Rejected) -> bool:
        """Whether there is another way to send what the server refused (now taken, and remembered)."""
        if rejected.traits != self._traits:
            return True  # another request already stepped down from the refused traits
        traits = self._traits
        if rejected.part == "token_limit":
            if traits.token_limit is TokenLimit.max_completion_tokens:
                return False
            self._traits = ServerTraits(traits.structured_output, TokenLimit.max_completion_tokens)
            refused, instead = traits.token_limit.value, self._traits.token_limit.value
        else:
            fallback = traits.structured_output.fallback
            if fallback is None or self.config.structured_output is not None:
                return False
            self._traits = ServerTraits(fallback, traits.token_limit)
            refused, instead = traits.structured_output.value, fallback.value
        log.warning("the server refused %s (%s); sending %s from now on", refused, rejected.message, instead)
        self._memory.set(self.config.base_url, self.config.model, self._traits)
        return True

    async def _fetch(
        self, template: RequestTemplate, messages: list[dict[str, str]], usage: Usage
    ) -> _Completion:
        store = self.config.store
        traits = self._traits
        if store is None:
            await self.preflight()
            return (await self._send(template.body(messages), usage, traits))[1]
        keyed = store.keyed_from(template, messages)  # the key is computed once, for the lookup and the save
        stored = store.lookup(keyed)
        if stored is not None:
            waited = stored.get(TIMED_OUT)
            if not isinstance(waited, int | float):
                try:
                    completion = _read_completion(stored)
                except ValueError as exc:
                    raise StoreError(f"{store.path_for(keyed)}: not a chat completion ({exc})") from exc
                usage.cached_requests += 1
                return completion
            if waited >= self.config.timeout:
                usage.cached_requests += 1
                raise OutputTruncated(usage, reason="timeout")
            # it timed out after a shorter wait than this run's: ask again
        await self.preflight()
        try:
            response, completion = await self._send(keyed.body, usage, traits)
        except OutputTruncated:
            # Remembered too, so that a rerun with the same timeout goes straight to the split.
            store.save(keyed, {TIMED_OUT: self.config.timeout})
            raise
        # Truncated answers are kept too: a rerun goes straight to the split without asking again. On
        # the event loop, fsync and all (about a millisecond): handing it to a thread cost more CPU than
        # it spared the loop (bench/README.md, "Speed at concurrency 32").
        store.save(keyed, response)
        return completion

    async def _send(
        self, body: Mapping[str, Any], usage: Usage, traits: ServerTraits
    ) -> tuple[dict[str, Any], _Completion]:
        timeouts = 0

        def worth_retrying(failure: BaseException) -> bool:
            nonlocal timeouts
            if not isinstance(failure, _Transient):
                return False
            timeouts += failure.kind == "timeout"
            return failure.kind != "timeout" or timeouts < TIMEOUT_ATTEMPTS

        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.config.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(worth_retrying),
            before_sleep=self._log_retry,
            reraise=True,
        )
        try:
            result: tuple[dict[str, Any], _Completion] = await retrying(self._attempt, body, usage, traits)
        except _Transient as exc:
            if exc.kind == "timeout":
                raise OutputTruncated(usage, reason="timeout") from None
            attempts = self.config.max_attempts
            raise ChunkFailed(
                exc.kind, f"{exc.message} (gave up after {attempts} attempt(s))", usage
            ) from None
        return result

    async def _attempt(
        self, body: Mapping[str, Any], usage: Usage, traits: ServerTraits
    ) -> tuple[dict[str, Any], _Completion]:
        """One HTTP request: the wire body and its parsed completion, or a classified failure."""
        import openai  # already loaded by __init__

        if (refusal := self._breaker.refusal()) is not None:
            raise ServerUnavailable(refusal, usage)
        try:
            # The request chat.completions.create would send, without its walk of the whole body against
            # the SDK's parameter types: that walk cost ~5 ms of CPU per request, more than the rest of
            # the SDK and HTTP together.
            content = await self._client.post("/chat/completions", cast_to=bytes, body=body)
        except openai.APITimeoutError:
            usage.failed_requests += 1
            message = f"no answer within {self.config.timeout:g}s"
            await self._no_answer(message, usage, timed_out=True)
            raise _Transient("timeout", message) from None
        except openai.APIConnectionError as exc:
            usage.failed_requests += 1
            message = self._scrub(f"{exc.message}{_cause(exc)}")
            await self._no_answer(message, usage, timed_out=False)
            raise _Transient("connection", message) from None
        except openai.APIStatusError as exc:
            usage.failed_requests += 1
            self._breaker.answered()
            raise self._classify(exc, body, usage, traits) from None
        self._breaker.answered()
        try:
            response = json.loads(content)
            completion = _read_completion(response)
        except ValueError as exc:
            usage.failed_requests += 1
            snippet = content[:200].decode("utf-8", "replace")
            raise _Transient(
                "server_error", self._scrub(f"not a chat completion ({exc}): {snippet!r}")
            ) from None
        usage.requests += 1
        usage.input_tokens += completion.prompt_tokens
        usage.output_tokens += completion.completion_tokens
        usage.cached_input_tokens += completion.cached_tokens
        usage.reasoning_tokens += completion.reasoning_tokens
        return response, completion

    async def _no_answer(self, message: str, usage: Usage, *, timed_out: bool) -> None:
        """Count a request that got no answer, and ask the server for its model list: after a timeout at
        once, else once BREAKER_THRESHOLD requests in a row got none. A server that answers it is alive
        (a slow model is not a dead server); past the threshold, one that does not opens the circuit.

        After a timeout the list is also the wait before asking again: a server with one slot (llama.cpp's)
        goes on generating the answer given up on and lists its models only once that is done, so the next
        request's clock does not run while it queues behind the abandoned one. Other servers answer at once.
        """
        breaker = self._breaker
        breaker.failures += 1
        if breaker.open or (not timed_out and breaker.failures < BREAKER_THRESHOLD):
            return
        async with breaker.checking:
            if breaker.open or (not timed_out and breaker.failures < BREAKER_THRESHOLD):
                return
            if await self._answers_at_all():
                breaker.answered()
                return
            if breaker.failures < BREAKER_THRESHOLD:
                return
            reason = (
                f"the model server at {self.config.where} stopped answering ({_one_line(message)}); "
                "what was done is kept: run the same command again to continue "
                "(with --resume when writing JSONL to a file)"
            )
            breaker.trip(reason)
            # Not logged as an error: the ServerUnavailable raised carries the message to whoever says it
            # once (the CLI's one error line), and a log line would repeat it.
            log.info("%s", reason)
            raise ServerUnavailable(reason, usage)

    async def _answers_at_all(self) -> bool:
        import openai

        try:
            # As long as an answer may take (the client's timeout): a server with one slot lists its
            # models only once the answer it is generating is done.
            await self._client.models.list()
        except (openai.APIConnectionError, openai.APITimeoutError):
            return False
        except openai.APIStatusError:
            return True
        return True

    def _classify(
        self, exc: openai.APIStatusError, body: Mapping[str, Any], usage: Usage, traits: ServerTraits
    ) -> Exception:
        status = exc.status_code
        message = self._scrub(f"HTTP {status}: {_one_line(_error_text(exc))}")
        lowered = message.lower()
        if status in (401, 403):
            return SetupError(
                f"the model server at {self.config.where} refused the API key ({message}): "
                "check OPENAI_API_KEY"
            )
        if status == 404 and "model" in lowered:
            return SetupError(f"model {self.config.model!r} not found at {self.config.where} ({message})")
        if any(hint in lowered for hint in _FORMAT_HINTS) and "response_format" in body:
            return _Rejected("response_format", message, traits)
        if status < 500 and any(hint in lowered for hint in _TOKEN_HINTS) and "max_tokens" in body:
            return _Rejected("token_limit", message, traits)
        retry_after = retry_after_seconds(exc.response.headers)
        if status == 429:
            return _Transient("rate_limited", message, retry_after)
        if status >= 500:
            return _Transient("server_error", message, retry_after)
        if status == 408:
            return _Transient("timeout", message, retry_after)
        return ChunkFailed("http_4xx", message, usage)

    async def _check_server(self) -> Preflight:
        import openai

        where, model = self.config.where, self.config.model
        if self.config.base_url is None and not self.config.api_key:
            raise SetupError(
                f"no API key for {where}: set OPENAI_API_KEY, or point --base-url (OPENAI_BASE_URL) "
                "at a local OpenAI-compatible server"
            )
        models: tuple[str, ...] | None
        try:
            page = await self._client.with_options(
                timeout=min(PROBE_TIMEOUT, self.config.timeout)
            ).models.list()
            models = tuple(m.id for m in page.data)
        except openai.APIConnectionError as exc:
            raise SetupError(self._unreachable(exc)) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise SetupError(self._refused_key(exc)) from None
        except openai.APIStatusError:
            models = None  # the server lists no models: the one-token request below decides
        if models is not None and model in models:
            return Preflight(models, probed=False)
        try:
            await self._client.post(
                "/chat/completions",
                cast_to=bytes,
                body={"model": model, "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1},
            )
        except openai.APIConnectionError as exc:
            raise SetupError(self._unreachable(exc)) from None
        except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
            raise SetupError(self._refused_key(exc)) from None
        except openai.NotFoundError as exc:
            listed = f"; it lists {', '.join(models[:8])}" if models else ""
            raise SetupError(
                f"model {model!r} not found at {where} (HTTP 404: {_one_line(_error_text(exc))}){listed}: "
                "check --model (QUOTES_MODEL)"
            ) from None
        except openai.APIStatusError:
            pass  # a refusal of this tiny request's shape still shows the server knows the model
        return Preflight(models, probed=True)

    def _unreachable(self, exc: openai.APIConnectionError) -> str:
        return self._scrub(
            f"cannot reach the model server at {self.config.where} ({exc.message}{_cause(exc)}): "
            "is it running, and is --base-url (OPENAI_BASE_URL) right?"
        )

    def _refused_key(self, exc: openai.APIStatusError) -> str:
        key = "check OPENAI_API_KEY" if self.config.api_key else "no API key was given: set OPENAI_API_KEY"
        return self._scrub(
            f"the model server at {self.config.where} refused the request "
            f"(HTTP {exc.status_code}: {_one_line(_error_text(exc))}): {key}"
        )

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
            _one_line(str(failure)),
            state.attempt_number,
            self.config.max_attempts,
            wait,
        )

    def _scrub(self, text: str) -> str:
        return redact(text, self._secrets)


def _error_text(exc: openai.APIStatusError) -> str:
    """What the server said went wrong: OpenAI's `error.message`, else the body as it came."""
    body = exc.body
    detail = body.get("message") if isinstance(body, dict) else None
    if isinstance(detail, str) and detail:
        return detail
    if isinstance(body, dict | list) and body:
        return json.dumps(body, ensure_ascii=False)
    return exc.message


def _folded(text: str) -> str:
    """`text` with its spacing and case folded, as a model copying it back may change either."""
    return " ".join(text.split()).casefold()


def _one_line(text: str, limit: int = 240) -> str:
    """A server's message as one line, cut to `limit` characters (some servers send whole tracebacks)."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return f" ({type(cause).__name__}: {_one_line(str(cause))})" if cause else ""


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
    prompt_details = usage.get("prompt_tokens_details")
    completion_details = usage.get("completion_tokens_details")
    return _Completion(
        content=content,
        refusal=refusal,
        finish_reason=choices[0].get("finish_reason"),
        prompt_tokens=int(usage.get("prompt_tokens") or 0),
        completion_tokens=int(usage.get("completion_tokens") or 0),
        cached_tokens=_count(prompt_details, "cached_tokens"),
        reasoning_tokens=_count(completion_details, "reasoning_tokens"),
    )


def _count(details: Any, name: str) -> int:
    value = details.get(name) if isinstance(details, dict) else None
    return int(value) if isinstance(value, int | float) else 0


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
