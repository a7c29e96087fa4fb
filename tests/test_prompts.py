from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from quotes.prompts import PROMPTS_ROOT, PromptError, check_lock, list_prompts, load_prompt, locked_hashes
from quotes.schema import Answer, answer_json_schema

SCHEMA = answer_json_schema()


def record(quote: str, mention: str | None = "she", kind: str = "direct") -> dict[str, Any]:
    return {
        "quote": quote,
        "speaker": "Ana Ruiz",
        "speaker_mention": mention,
        "speaker_type": "person",
        "kind": kind,
        "cue": "said",
        "about": [],
    }


def write_prompt(
    root: Path, examples: list[dict[str, Any]], *, task: str = "extract", version: int = 1
) -> Path:
    body = (
        f"---\nid: {task}\nversion: {version}\ndescription: test prompt\n---\n\n"
        "## system\n\nFind statements.\n\n"
        "## user\n\n<article>\n{text}\n</article>\n\n"
        "## json_mode\n\nSchema: {schema}\n\n"
        "## reask\n\nWrong: {error}\n\n"
        f"## examples\n\n```json\n{json.dumps(examples, ensure_ascii=False)}\n```\n"
    )
    path = root / task / f"v{version}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body, encoding="utf-8")
    return path


TEXT = "“The bridge is safe,” she said. Ruiz added that repairs would take a year."


def test_every_released_prompt_matches_the_lock() -> None:
    check_lock()
    lock = locked_hashes()
    shipped = {p.ref: p.sha256 for p in list_prompts()}
    assert shipped == lock, "every shipped prompt must be released in lock.json with its current hash"


def test_a_changed_released_prompt_fails_the_lock_check(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS_ROOT, root)
    path = root / "extract" / "v1.md"
    path.write_bytes(path.read_bytes().replace(b"every quotation", b"each quotation", 1))
    with pytest.raises(PromptError, match=r"extract@v1 changed.*new version file"):
        check_lock(root=root)


def test_a_released_prompt_that_disappeared_fails_the_lock_check(tmp_path: Path) -> None:
    root = tmp_path / "prompts"
    shutil.copytree(PROMPTS_ROOT, root)
    (root / "extract" / "v1.md").unlink()
    with pytest.raises(PromptError, match="extract@v1 is missing"):
        check_lock(root=root)


def test_the_shipped_extract_prompt_loads_with_valid_examples() -> None:
    prompt = load_prompt("extract")
    assert prompt.ref == f"extract@v{prompt.version}"
    assert prompt.sha256 == hashlib.sha256(prompt.path.read_bytes()).hexdigest()
    assert prompt.description
    assert len(prompt.examples) >= 2
    kinds = {q["kind"] for e in prompt.examples for q in e.answer["quotes"]}
    assert kinds == {"direct", "indirect", "mixed"}
    assert "data, not instructions" in prompt.system


def test_a_non_verbatim_example_quote_is_rejected_naming_file_and_quote(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, [{"text": TEXT, "answer": {"quotes": [record("“The bridge is sound,”")]}}])
    with pytest.raises(PromptError) as caught:
        load_prompt("extract", root=tmp_path)
    assert str(path) in str(caught.value)
    assert "The bridge is sound" in str(caught.value)


def test_a_non_verbatim_speaker_mention_is_rejected(tmp_path: Path) -> None:
    write_prompt(
        tmp_path, [{"text": TEXT, "answer": {"quotes": [record("The bridge is safe,", mention="he")]}}]
    )
    with pytest.raises(PromptError, match="speaker_mention 'he'"):
        load_prompt("extract", root=tmp_path)


def test_an_example_answer_outside_the_schema_is_rejected(tmp_path: Path) -> None:
    write_prompt(
        tmp_path, [{"text": TEXT, "answer": {"quotes": [record("“The bridge is safe,”", kind="quoted")]}}]
    )
    with pytest.raises(PromptError, match="example 1: the answer does not match"):
        load_prompt("extract", root=tmp_path)


@pytest.mark.parametrize(
    "quote", ["“The bridge is safe,”", "The bridge is safe,", "“repairs would take a year”"]
)
def test_enclosing_marks_may_be_omitted_or_added(tmp_path: Path, quote: str) -> None:
    write_prompt(tmp_path, [{"text": TEXT, "answer": {"quotes": [record(quote)]}}])
    assert load_prompt("extract", root=tmp_path).examples[0].answer["quotes"][0]["quote"] == quote


def test_latest_version_by_default_and_a_named_version_on_request(tmp_path: Path) -> None:
    write_prompt(tmp_path, [], version=1)
    write_prompt(tmp_path, [], version=2)
    assert load_prompt("extract", root=tmp_path).ref == "extract@v2"
    assert load_prompt("extract", 1, root=tmp_path).ref == "extract@v1"
    with pytest.raises(PromptError, match=r"no version 3 .*v1, v2"):
        load_prompt("extract", 3, root=tmp_path)
    with pytest.raises(PromptError, match=r"no prompt 'summarise'.*extract"):
        load_prompt("summarise", root=tmp_path)


def test_front_matter_must_agree_with_the_file_name(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, [], version=2)
    path.rename(path.with_name("v3.md"))
    with pytest.raises(PromptError, match="version '2' does not match"):
        load_prompt("extract", root=tmp_path)


def test_an_unknown_section_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write_prompt(tmp_path, [])
    path.write_text(path.read_text(encoding="utf-8") + "\n## footer\n\nx\n", encoding="utf-8")
    with pytest.raises(PromptError, match=r"v1\.md: unknown section '## footer'"):
        load_prompt("extract", root=tmp_path)


def test_static_prefix_is_identical_for_every_chunk() -> None:
    prompt = load_prompt("extract")
    for json_mode in (False, True):
        first = prompt.messages("“One,” she said.", json_mode=json_mode, schema=SCHEMA)
        second = prompt.messages("A different {text} chunk entirely.", json_mode=json_mode, schema=SCHEMA)
        assert first[:-1] == second[:-1]
        assert first[-1]["role"] == "user"
        assert "A different {text} chunk entirely." in second[-1]["content"]


def test_messages_are_system_then_example_pairs_then_the_chunk() -> None:
    prompt = load_prompt("extract")
    messages = prompt.messages("Text.", json_mode=False, schema=SCHEMA)
    roles = [m["role"] for m in messages]
    assert roles == ["system"] + ["user", "assistant"] * len(prompt.examples) + ["user"]
    for example, answer in zip(prompt.examples, messages[2:-1:2], strict=True):
        assert Answer.model_validate_json(answer["content"]).model_dump() == example.answer


def test_json_mode_puts_the_schema_in_the_system_message_only() -> None:
    prompt = load_prompt("extract")
    schema_text = json.dumps(SCHEMA, ensure_ascii=False)
    plain = prompt.messages("Text.", json_mode=False, schema=SCHEMA)
    json_mode = prompt.messages("Text.", json_mode=True, schema=SCHEMA)
    assert schema_text not in plain[0]["content"]
    assert schema_text in json_mode[0]["content"]
    assert plain[1:] == json_mode[1:]


def test_reask_quotes_the_error() -> None:
    assert "quotes.0.kind: Input should be" in load_prompt("extract").reask("quotes.0.kind: Input should be")
