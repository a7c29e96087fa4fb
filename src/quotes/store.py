"""The response store: one JSON file per model request, serving as cache, recorder and replay.

A file is named `<key>.json`, the key being the sha256 of the canonical JSON of the request body as sent
(model, messages — which carry the rendered prompt —, response_format and sampling parameters). The key
never depends on the API key, base URL or headers, so the same request hits the same file wherever it
is sent from. The response is kept exactly as the server sent it (OpenAI chat.completion wire format),
so replay runs through the same code as a live answer.

Files sit in one folder per first two hex digits of their key, `<dir>/3f/3fa9….json`, as git shards its
objects: 256 folders keep each one small at millions of answers (a folder of a million names is slow
for `ls`, backups, network mounts and file systems without hashed directories; bench/README.md). A file
in the folder itself, where stores written before the sharding put them, is still found. A file is
written to a temporary name in its own folder and renamed into place, so any number of processes
(workers, Ray actors on a shared folder) may write the same store at once and a reader sees a whole
answer or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

REDACTED = "[REDACTED]"
# `_write` lays a file out one top-level member per line, the key first, each line starting with two spaces
# and a quote; the response alone spreads over further lines, indented deeper. No JSON string holds a raw
# newline, so the response member is found without parsing the request before it. (Files in any other
# JSON layout, such as json.dumps(indent=2) of the whole record, are parsed whole.)
_STORE_LAYOUT = b'{\n  "key": '
_RESPONSE_MEMBER = b'\n  "response": '
_DECODER = json.JSONDecoder()
_SECRET_FIELDS = frozenset({"authorization", "api_key", "api-key", "apikey", "x-api-key", "openai_api_key"})


class StoreMode(StrEnum):
    cache = "cache"  # hit → served; miss → call the model, then write
    record = "record"  # always call the model and overwrite
    offline = "offline"  # hit → served; miss → StoreMiss, never a network call
    off = "off"  # neither read nor write


class StoreError(Exception):
    """A stored file cannot be read; the message names it."""


class StoreMiss(Exception):
    """Offline mode and no stored response for this request."""


def default_store_dir() -> Path:
    """$QUOTES_STORE, else the user cache dir ($XDG_CACHE_HOME or ~/.cache) + quotes/responses."""
    if explicit := os.environ.get("QUOTES_STORE"):
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "quotes" / "responses"


def request_key(request: Mapping[str, Any]) -> str:
    """sha256 of the request's canonical JSON (sorted keys, no whitespace), after dropping secret fields."""
    return KeyedRequest(request, ()).key


@dataclass(frozen=True, eq=False)
class KeyedRequest:
    """A request body with the secrets to scrub from it; the scrubbed request (as the store files it)
    and its key are computed on first use, so a lookup and the save after it share that work.

    `canonical` (the body's canonical JSON) and `secret_field` (whether any of its fields is
    secret-named) may be given by a caller that has them already, as a RequestTemplate does.
    """

    body: Mapping[str, Any] = field(repr=False)
    secrets: tuple[str, ...] = field(repr=False)
    canonical: str | None = field(default=None, repr=False)
    secret_field: bool | None = field(default=None, repr=False)

    @cached_property
    def request(self) -> dict[str, Any]:
        clean: dict[str, Any] = _scrub(self.body, list(self.secrets))
        return clean

    @cached_property
    def request_json(self) -> str:
        """The scrubbed request's canonical JSON: what the key hashes, and what the store file holds."""
        # Most bodies hold no secret and no secret-named field: their canonical JSON is then the scrubbed
        # request's, and the scrubbed copy need not be built.
        canonical = _canonical_json(self.body) if self.canonical is None else self.canonical
        secret_field = _names_secret_field(self.body) if self.secret_field is None else self.secret_field
        if secret_field or any(s in canonical for s in self.secrets if s):
            return _canonical_json(self.request)
        return canonical

    @cached_property
    def key(self) -> str:
        return hashlib.sha256(self.request_json.encode("utf-8")).hexdigest()


class RequestTemplate:
    """Request bodies that differ only in the messages after a fixed prefix (a prompt's system message
    and few-shot examples). The fixed part's canonical JSON and its check for secret-named fields are
    worked out once, so keying one body costs only the JSON of its own messages and the hash.

    `base` is a body whose "messages" are the fixed prefix; the bodies built from it keep its key order
    and share its objects, so neither is to be changed.
    """

    def __init__(self, base: Mapping[str, Any]) -> None:
        self.base = base
        self._prefix = list(base["messages"])
        members = [(k, f"{_canonical_json(k)}:{_canonical_json(v)}") for k, v in sorted(base.items())]
        # The canonical JSON joins sorted members with "," and list items with ",": the messages' items go
        # between this head and tail.
        self._head = "{" + "".join(m + "," for k, m in members if k < "messages") + '"messages":['
        self._tail = "]" + "".join("," + m for k, m in members if k > "messages") + "}"
        self._prefix_json = [_canonical_json(m) for m in self._prefix]
        self._secret_field = _names_secret_field(base)

    def body(self, messages: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        """The body with `messages` after the fixed prefix."""
        return {**self.base, "messages": [*self._prefix, *messages]}

    def keyed(self, messages: Sequence[Mapping[str, Any]], secrets: Iterable[str]) -> KeyedRequest:
        items = ",".join([*self._prefix_json, *(_canonical_json(m) for m in messages)])
        return KeyedRequest(
            self.body(messages),
            tuple(secrets),
            canonical=self._head + items + self._tail,
            secret_field=self._secret_field or _names_secret_field(messages),
        )


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every occurrence of each (non-empty) secret replaced by a marker."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def chat_completion_body(
    content: str | None,
    *,
    model: str,
    finish_reason: str = "stop",
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    refusal: str | None = None,
    id: str | None = None,
    created: int | None = None,
) -> dict[str, Any]:
    """A chat.completion response body in the exact OpenAI wire format."""
    return {
        "id": id or f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": refusal},
                "finish_reason": finish_reason,
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


class ResponseStore:
    """Stored model responses under `directory`, used according to `mode`.

    `secrets` (plus $OPENAI_API_KEY) are scrubbed from everything written, in case a server echoes them.
    """

    def __init__(
        self,
        directory: Path | str | None = None,
        mode: StoreMode | str = StoreMode.cache,
        *,
        secrets: Iterable[str | None] = (),
    ) -> None:
        self.directory = Path(directory) if directory is not None else default_store_dir()
        self.mode = StoreMode(mode)
        self._secrets = [s for s in secrets if s]

    @classmethod
    def from_env(
        cls, directory: Path | str | None = None, mode: StoreMode | str | None = None
    ) -> ResponseStore:
        """Arguments override the environment: $QUOTES_STORE (directory), QUOTES_RECORD=1 (record mode)."""
        if mode is None:
            mode = StoreMode.record if os.environ.get("QUOTES_RECORD") == "1" else StoreMode.cache
        return cls(directory, mode)

    def add_secret(self, secret: str | None) -> None:
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def keyed(self, request: Mapping[str, Any] | KeyedRequest) -> KeyedRequest:
        if isinstance(request, KeyedRequest):
            return request
        return KeyedRequest(request, tuple(self._all_secrets()))

    def keyed_from(self, template: RequestTemplate, messages: Sequence[Mapping[str, Any]]) -> KeyedRequest:
        """The body `template` builds with `messages`, keyed from the template's precomputed parts."""
        return template.keyed(messages, self._all_secrets())

    def key(self, request: Mapping[str, Any] | KeyedRequest) -> str:
        return self.keyed(request).key

    def path_for(self, request: Mapping[str, Any] | KeyedRequest) -> Path:
        """Where the answer to `request` is written (its key's shard)."""
        return self.path_for_key(self.key(request))

    def path_for_key(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.json"

    def __contains__(self, key: str) -> bool:
        """Whether an answer is stored under `key` (in either layout), whatever the mode."""
        return self.path_for_key(key).is_file() or (self.directory / f"{key}.json").is_file()

    def lookup(self, request: Mapping[str, Any] | KeyedRequest) -> dict[str, Any] | None:
        """The stored response body to serve instead of calling the model, or None to call it.

        Raises StoreMiss in offline mode when nothing is stored.
        """
        if self.mode in (StoreMode.off, StoreMode.record):
            return None
        keyed = self.keyed(request)
        path = self.path_for(keyed)
        for candidate in (path, self.directory / path.name):  # sharded, then the flat layout of old stores
            try:
                raw = candidate.read_bytes()
            except (FileNotFoundError, NotADirectoryError, IsADirectoryError):  # nothing stored there
                continue
            except OSError as exc:
                raise _unreadable(candidate, exc) from exc
            return _response_from(candidate, raw)
        if self.mode is StoreMode.offline:
            raise StoreMiss(self._miss_message(keyed, path))
        return None

    def save(self, request: Mapping[str, Any] | KeyedRequest, response: Mapping[str, Any]) -> Path | None:
        """Record a live response (not in off or offline mode); returns the file written."""
        if self.mode in (StoreMode.off, StoreMode.offline):
            return None
        return self._write(self.keyed(request), response, authored=None)

    def write_authored(
        self,
        request: Mapping[str, Any],
        content_json: str,
        note: str,
        prompt_tokens: int,
        completion_tokens: int,
    ) -> Path:
        """Store a hand-written answer for `request` (whatever the mode), marked `authored` with `note`."""
        try:
            json.loads(content_json)
        except json.JSONDecodeError as exc:
            raise ValueError(f"authored answer is not valid JSON: {exc}") from exc
        keyed = self.keyed(request)
        body = chat_completion_body(
            content_json,
            model=str(request.get("model", "")),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            id=f"chatcmpl-authored-{keyed.key[:16]}",
            created=int(time.time()),
        )
        return self._write(keyed, body, authored=note)

    def _write(self, keyed: KeyedRequest, response: Mapping[str, Any], *, authored: str | None) -> Path:
        secrets = self._all_secrets()
        key = keyed.key
        # The request on one line as its canonical JSON, the very text its key hashes (written compact:
        # the indenting encoder is pure Python and took a millisecond per file); the response, short and
        # the part a reviewer reads, indented.
        members = {
            "key": json.dumps(key),
            "recorded_at": json.dumps(datetime.now(UTC).isoformat(timespec="seconds")),
        }
        if authored is not None:
            members["authored"] = json.dumps(redact(authored, secrets), ensure_ascii=False)
        members["request"] = keyed.request_json
        scrubbed = _scrub(response, secrets)
        members["response"] = json.dumps(scrubbed, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        path = self.path_for_key(key)
        text = "{\n" + ",\n".join(f'  "{name}": {value}' for name, value in members.items()) + "\n}\n"
        write_atomically(path, text.encode("utf-8"))
        return path

    def _all_secrets(self) -> list[str]:
        env_key = os.environ.get("OPENAI_API_KEY")
        return [*self._secrets, env_key] if env_key else list(self._secrets)

    def _miss_message(self, keyed: KeyedRequest, path: Path) -> str:
        request = keyed.request
        messages = request.get("messages") or []
        users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        last = str(users[-1]) if users else ""
        snippet = " ".join(last.split())[:80]
        return (
            f"no stored response for model {request.get('model')!r}, key {path.stem} "
            f"(expected {path}); last user message starts {snippet!r}. "
            "Offline mode never calls the model: record it first (cache or record mode)."
        )


def write_atomically(path: Path, data: bytes) -> None:
    """`data` written to a temporary file beside `path`, flushed to disk and renamed over it: a reader
    sees the old file or the new one, never part of either. A missing folder is made."""
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except FileNotFoundError:  # a shard's first answer (its folder is made once, not per write)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _response_from(path: Path, raw: bytes) -> dict[str, Any]:
    """The response body in a stored file's bytes: in the layout `_write` produces, decoded from its own
    line without decoding the request before it (most of the file); any other file is parsed whole."""
    try:
        at = raw.find(_RESPONSE_MEMBER) if raw.startswith(_STORE_LAYOUT) else -1
        if at >= 0:
            response, _ = _DECODER.raw_decode(raw[at + len(_RESPONSE_MEMBER) :].decode("utf-8"))
        else:
            data = json.loads(raw.decode("utf-8"))
            response = data.get("response") if isinstance(data, dict) else None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _unreadable(path, exc) from exc
    if not isinstance(response, dict):
        raise StoreError(f"{path}: not a stored response (no 'response' object); delete it to re-record")
    return response


def _unreadable(path: Path, exc: Exception) -> StoreError:
    return StoreError(f"{path}: unreadable stored response ({exc}); delete it to re-record")


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _names_secret_field(value: Any) -> bool:
    """Whether `_scrub` would drop a field somewhere in `value`."""
    if isinstance(value, str):
        return False
    if isinstance(value, Mapping):
        for k, v in value.items():
            if str(k).lower() in _SECRET_FIELDS or _names_secret_field(v):
                return True
    elif isinstance(value, list | tuple):
        for v in value:
            if _names_secret_field(v):
                return True
    return False


def _scrub(value: Any, secrets: list[str]) -> Any:
    """Secret-named fields dropped and secret strings redacted, at any depth."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, Mapping):
        return {k: _scrub(v, secrets) for k, v in value.items() if str(k).lower() not in _SECRET_FIELDS}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    return value
