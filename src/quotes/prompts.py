"""Versioned prompts: `prompts/<task>/v<N>.md`, their rendering into chat messages, and the lock.

A prompt file is front matter (`id`, `version`, `description` between `---` lines) followed by
`## <section>` blocks: `system`, `user` (with a `{text}` placeholder), optionally `json_mode` (with a
`{schema}` placeholder, for servers without json_schema structured output), `reask` (with `{error}`)
and `examples` (a fenced JSON list of {"text", "answer"}). Few-shot examples are checked when the file
is loaded: a broken example must never reach a model.

Released versions are immutable: `lock.json` maps each released ref ("extract@v1") to the sha256 of
the file's bytes, and `check_lock` fails when a released file no longer matches.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from quotes.schema import Answer

PROMPTS_ROOT = Path(__file__).parent / "prompts"
LOCK_NAME = "lock.json"

_SECTIONS = frozenset({"system", "user", "json_mode", "reask", "examples"})
_REQUIRED = ("system", "user")
_HEADING = re.compile(r"^## (\w+)\s*$")
_VERSION_FILE = re.compile(r"^v(\d+)\.md$")
_FENCED_JSON = re.compile(r"```json\n(.*?)\n```", re.DOTALL)
_QUOTE_MARKS = "\"'“”„‟‘’‚‛«»‹›"


class PromptError(Exception):
    """A prompt file, its examples or the lock is wrong; the message names the file."""


@dataclass(frozen=True)
class Example:
    text: str
    answer: dict[str, Any]


@dataclass(frozen=True)
class Prompt:
    id: str
    version: int
    description: str
    sha256: str
    path: Path
    system: str
    user: str
    json_mode: str | None
    reask_template: str | None
    examples: tuple[Example, ...]

    @property
    def ref(self) -> str:
        return f"{self.id}@v{self.version}"

    def messages(self, text: str, *, json_mode: bool, schema: dict[str, Any]) -> list[dict[str, str]]:
        """System, few-shot pairs, then the chunk. Everything before the last message depends only on
        the prompt and the mode, so it is byte-identical for every chunk and providers can cache it."""
        return [*self.prefix(json_mode=json_mode, schema=schema), self.user_message(text)]

    def prefix(self, *, json_mode: bool, schema: dict[str, Any]) -> list[dict[str, str]]:
        """The messages before the chunk's: the system message and the few-shot pairs."""
        system = self.system
        if json_mode:
            if self.json_mode is None:
                raise PromptError(
                    f"{self.path}: no '## json_mode' section, needed for servers without json_schema"
                )
            schema_text = json.dumps(schema, ensure_ascii=False)
            system = f"{system}\n\n{self.json_mode.replace('{schema}', schema_text)}"
        messages = [{"role": "system", "content": system}]
        for example in self.examples:
            messages.append(self.user_message(example.text))
            messages.append({"role": "assistant", "content": json.dumps(example.answer, ensure_ascii=False)})
        return messages

    def user_message(self, text: str) -> dict[str, str]:
        """The message that asks about `text`."""
        return {"role": "user", "content": self.user.replace("{text}", text)}

    def reask(self, error: str) -> str:
        """The follow-up message asking the model to correct an answer that failed validation."""
        if self.reask_template is None:
            raise PromptError(f"{self.path}: no '## reask' section")
        return self.reask_template.replace("{error}", error)


def load_prompt(task: str, version: int | None = None, *, root: Path | None = None) -> Prompt:
    """The prompt for `task` at `version`, or its latest version."""
    base = root or PROMPTS_ROOT
    versions = _versions(base, task)
    if not versions:
        available = ", ".join(sorted(p.name for p in base.iterdir() if p.is_dir())) if base.is_dir() else ""
        raise PromptError(f"no prompt '{task}' under {base} (available: {available or 'none'})")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        listed = ", ".join(f"v{v}" for v in sorted(versions))
        raise PromptError(f"no version {chosen} of prompt '{task}' under {base} (available: {listed})")
    return _parse(versions[chosen], task, chosen)


def list_prompts(*, root: Path | None = None) -> list[Prompt]:
    """Every version of every prompt, sorted by task then version."""
    base = root or PROMPTS_ROOT
    tasks = sorted(p.name for p in base.iterdir() if p.is_dir())
    return [_parse(path, task, v) for task in tasks for v, path in sorted(_versions(base, task).items())]


def locked_hashes(*, root: Path | None = None) -> dict[str, str]:
    """The lock: released ref ("extract@v1") → sha256 of that file's bytes."""
    path = (root or PROMPTS_ROOT) / LOCK_NAME
    try:
        lock = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PromptError(f"{path}: cannot read the prompt lock: {exc}") from exc
    if not isinstance(lock, dict) or not all(isinstance(v, str) for v in lock.values()):
        raise PromptError(f"{path}: the lock must be a JSON object mapping 'task@vN' to a sha256")
    return lock


def check_lock(*, root: Path | None = None) -> None:
    """Raise PromptError when a released prompt (one in the lock) is missing or its bytes changed."""
    base = root or PROMPTS_ROOT
    for ref, expected in sorted(locked_hashes(root=base).items()):
        task, _, version = ref.partition("@v")
        if not version.isdigit():
            raise PromptError(f"{base / LOCK_NAME}: bad ref {ref!r} (want 'task@vN')")
        path = base / task / f"v{version}.md"
        if not path.is_file():
            raise PromptError(f"{path}: released prompt {ref} is missing")
        actual = hashlib.sha256(path.read_bytes()).hexdigest()
        if actual != expected:
            raise PromptError(
                f"{path}: released prompt {ref} changed (sha256 {actual}, lock {expected}); "
                "released prompts are immutable: put the change in a new version file"
            )


def _versions(base: Path, task: str) -> dict[int, Path]:
    folder = base / task
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.iterdir():
        match = _VERSION_FILE.match(path.name)
        if match:
            found[int(match.group(1))] = path
    return found


def _parse(path: Path, task: str, version: int) -> Prompt:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PromptError(f"{path}: not UTF-8 ({exc})") from exc
    meta, body = _front_matter(path, text)
    if meta.get("id") != task:
        raise PromptError(f"{path}: front matter id {meta.get('id')!r} does not match the folder {task!r}")
    if meta.get("version") != str(version):
        raise PromptError(
            f"{path}: front matter version {meta.get('version')!r} does not match the file name"
        )
    sections = _sections(path, body)
    missing = [name for name in _REQUIRED if not sections.get(name)]
    if missing:
        raise PromptError(f"{path}: missing section(s) {', '.join('## ' + m for m in missing)}")
    if "{text}" not in sections["user"]:
        raise PromptError(f"{path}: the '## user' section has no {{text}} placeholder")
    if "json_mode" in sections and "{schema}" not in sections["json_mode"]:
        raise PromptError(f"{path}: the '## json_mode' section has no {{schema}} placeholder")
    examples = _examples(path, sections["examples"]) if "examples" in sections else ()
    return Prompt(
        id=task,
        version=version,
        description=meta.get("description", ""),
        sha256=hashlib.sha256(raw).hexdigest(),
        path=path,
        system=sections["system"],
        user=sections["user"],
        json_mode=sections.get("json_mode"),
        reask_template=sections.get("reask"),
        examples=examples,
    )


def _front_matter(path: Path, text: str) -> tuple[dict[str, str], str]:
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise PromptError(f"{path}: must start with front matter between '---' lines")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise PromptError(f"{path}: front matter is not closed with '---'") from None
    meta = {}
    for number, line in enumerate(lines[1:end], start=2):
        if not line.strip():
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            raise PromptError(f"{path}:{number}: front matter lines are 'key: value', got {line!r}")
        meta[key.strip()] = value.strip()
    missing = [key for key in ("id", "version", "description") if key not in meta]
    if missing:
        raise PromptError(f"{path}: front matter lacks {', '.join(missing)}")
    return meta, "\n".join(lines[end + 1 :])


def _sections(path: Path, body: str) -> dict[str, str]:
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in body.split("\n"):
        match = _HEADING.match(line)
        if match:
            name = match.group(1)
            if name not in _SECTIONS:
                raise PromptError(
                    f"{path}: unknown section '## {name}' (known: {', '.join(sorted(_SECTIONS))})"
                )
            if name in sections:
                raise PromptError(f"{path}: section '## {name}' appears twice")
            current = sections[name] = []
        elif current is not None:
            current.append(line)
        elif line.strip():
            raise PromptError(f"{path}: text before the first '## section': {line!r}")
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def _examples(path: Path, section: str) -> tuple[Example, ...]:
    match = _FENCED_JSON.search(section)
    if not match:
        raise PromptError(f"{path}: '## examples' must hold a ```json fenced list")
    try:
        items = json.loads(match.group(1))
    except json.JSONDecodeError as exc:
        raise PromptError(f"{path}: '## examples' is not valid JSON: {exc}") from exc
    if not isinstance(items, list):
        raise PromptError(f"{path}: '## examples' must be a JSON list")
    examples = []
    for number, item in enumerate(items, start=1):
        where = f"{path}: example {number}"
        if not isinstance(item, dict) or set(item) != {"text", "answer"} or not isinstance(item["text"], str):
            raise PromptError(f"{where}: must be an object with exactly 'text' (a string) and 'answer'")
        try:
            answer = Answer.model_validate(item["answer"])
        except ValidationError as exc:
            raise PromptError(f"{where}: the answer does not match the answer schema: {exc}") from exc
        text = item["text"]
        for record in answer.quotes:
            if not _verbatim(record.quote, text):
                raise PromptError(f"{where}: quote {record.quote!r} is not verbatim in the example's text")
            if record.speaker_mention is not None and not _whole_words_in(record.speaker_mention, text):
                raise PromptError(
                    f"{where}: speaker_mention {record.speaker_mention!r} (quote {record.quote!r}) "
                    "is not verbatim in the example's text"
                )
        examples.append(Example(text=text, answer=answer.model_dump(mode="json")))
    return tuple(examples)


def _whole_words_in(words: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text) is not None


def _verbatim(quote: str, text: str) -> bool:
    """Verbatim, except that the enclosing quotation marks may be omitted or added."""
    if quote in text:
        return True
    inner = quote[1:] if quote[:1] in _QUOTE_MARKS else quote
    inner = inner[:-1] if inner[-1:] in _QUOTE_MARKS else inner
    return bool(inner) and inner in text
