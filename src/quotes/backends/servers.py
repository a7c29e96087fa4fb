"""What a server takes, learned from its answers and remembered across runs.

Servers differ in how they take structured output and how they bound an answer:
- OpenAI, vLLM and others take `response_format: json_schema` (strict);
- llama.cpp's servers reject it (llama-cpp-python with HTTP 500) but take `json_object` with the schema
  attached, and then decode under a grammar that follows the schema;
- others take only plain `json_object`, with the schema in the prompt.
Likewise most take `max_tokens`, and OpenAI's reasoning models only `max_completion_tokens`.

A backend starts from what is remembered for its server and model (or from what the user set), steps
down one mode when the server rejects one, and remembers the step in `servers.json` in the response
store's folder, so a later run neither sends the rejected request again nor changes its store keys.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from quotes.store import write_atomically

log = logging.getLogger(__name__)

MEMORY_FILE = "servers.json"


class StructuredOutput(StrEnum):
    """How the answer's JSON schema reaches the server, strictest first."""

    json_schema = "json_schema"  # response_format json_schema, strict
    json_object_schema = "json_object_schema"  # response_format json_object with the schema attached
    json_object = "json_object"  # response_format json_object; the schema is only in the prompt

    @property
    def fallback(self) -> StructuredOutput | None:
        """The next mode to try when the server rejects this one."""
        order = list(StructuredOutput)
        at = order.index(self)
        return order[at + 1] if at + 1 < len(order) else None


class TokenLimit(StrEnum):
    """The request field that bounds an answer's length."""

    max_tokens = "max_tokens"
    max_completion_tokens = "max_completion_tokens"


@dataclass(frozen=True)
class ServerTraits:
    structured_output: StructuredOutput = StructuredOutput.json_schema
    token_limit: TokenLimit = TokenLimit.max_tokens


class ServerMemory:
    """Traits per (base URL, model), kept in `directory/servers.json`; in memory only with no directory.

    Only the event loop's thread changes it, and a write replaces the file atomically; two processes
    learning at once each write what they learned over the other's, which costs at most one more
    rejected request later.
    """

    def __init__(self, directory: Path | None) -> None:
        self.path = directory / MEMORY_FILE if directory is not None else None
        self._traits: dict[str, ServerTraits] = {}
        if self.path is not None:
            self._traits = _read(self.path)

    def get(self, base_url: str | None, model: str) -> ServerTraits:
        return self._traits.get(_server_key(base_url, model), ServerTraits())

    def set(self, base_url: str | None, model: str, traits: ServerTraits) -> None:
        key = _server_key(base_url, model)
        if self._traits.get(key) == traits:
            return
        self._traits[key] = traits
        if self.path is not None:
            try:
                _write(self.path, self._traits)
            except OSError as exc:  # remembering is an optimisation: the run goes on without it
                log.warning("could not remember what the server takes in %s (%s)", self.path, exc)


def _server_key(base_url: str | None, model: str) -> str:
    return f"{(base_url or 'https://api.openai.com/v1').rstrip('/')} {model}"


def _read(path: Path) -> dict[str, ServerTraits]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        log.warning("ignoring %s, which cannot be read (%s)", path, exc)
        return {}
    traits: dict[str, ServerTraits] = {}
    for key, value in data.items() if isinstance(data, dict) else ():
        try:
            traits[key] = ServerTraits(
                StructuredOutput(value["structured_output"]), TokenLimit(value["token_limit"])
            )
        except (KeyError, TypeError, ValueError):
            log.warning("ignoring an unreadable entry for %s in %s", key, path)
    return traits


def _write(path: Path, traits: dict[str, ServerTraits]) -> None:
    data = {
        key: {"structured_output": t.structured_output.value, "token_limit": t.token_limit.value}
        for key, t in sorted(traits.items())
    }
    write_atomically(path, (json.dumps(data, indent=2) + "\n").encode("utf-8"))
