from __future__ import annotations

import hashlib
import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from quotes.store import (
    KeyedRequest,
    RequestTemplate,
    ResponseStore,
    StoreError,
    StoreMiss,
    StoreMode,
    chat_completion_body,
    default_store_dir,
    request_key,
)


def request(text: str = "Text of the chunk.", **params: Any) -> dict[str, Any]:
    return {
        "model": "test-model",
        "messages": [{"role": "system", "content": "Find statements."}, {"role": "user", "content": text}],
        "temperature": 0,
        "response_format": {"type": "json_object"},
        **params,
    }


def response(content: str = '{"quotes": []}') -> dict[str, Any]:
    return chat_completion_body(content, model="test-model", prompt_tokens=10, completion_tokens=3)


def test_key_is_canonical_and_covers_model_messages_format_and_sampling() -> None:
    base = request()
    reordered = dict(reversed(list(base.items())))
    assert request_key(base) == request_key(reordered)
    variants = [
        request(model="other-model"),
        request("Another chunk."),
        request(temperature=0.7),
        request(response_format={"type": "json_schema"}),
        request(max_completion_tokens=100),
    ]
    assert len({request_key(base), *(request_key(v) for v in variants)}) == 1 + len(variants)


def test_key_ignores_secret_fields() -> None:
    assert request_key(request()) == request_key(request(api_key="sk-abc", Authorization="Bearer sk-abc"))


def test_keys_never_change() -> None:
    """Stored files are found by key: a key function giving other values would orphan every store."""
    pinned = request("“Ünïcode,” she said.", api_key="sk-dropped")
    assert request_key(pinned) == "8c5ccd700171dd27054fe41e02ec4c4bfee210852cd11497c913967d4154d480"
    with_secret = ResponseStore(secrets=["she"]).key(pinned)
    assert with_secret == "687e9af03d108266e2a68da713907afdd9f3347071c883eac1f157f9214150bc"
    clean = request("“Ünïcode,” she said.")
    assert ResponseStore().key(clean) == request_key(clean) == request_key(pinned)
    assert ResponseStore(secrets=["absent"]).key(pinned) == request_key(pinned)


def test_a_keyed_request_is_filed_like_the_request_it_wraps(tmp_path: Path) -> None:
    secret = "sk-" + "keyed-2222"
    store = ResponseStore(tmp_path, secrets=[secret])
    body = request(f"text with {secret}", api_key=secret)
    keyed = store.keyed(body)
    assert isinstance(keyed, KeyedRequest)
    assert store.keyed(keyed) is keyed
    assert keyed.key == store.key(body) == request_key(keyed.request)
    assert "api_key" not in keyed.request
    assert secret not in json.dumps(keyed.request)
    assert secret not in repr(keyed)
    assert store.lookup(keyed) is None
    path = store.save(keyed, response("K"))
    assert path is not None
    assert path == store.path_for(body) == store.path_for(keyed)
    assert store.lookup(body) == store.lookup(keyed)
    assert json.loads(path.read_text(encoding="utf-8"))["request"] == keyed.request


def test_a_templated_request_is_keyed_like_the_same_body_built_whole(tmp_path: Path) -> None:
    secret = "sk-" + "templated-3333"
    base = request(max_completion_tokens=50, seed=7)
    base["messages"] = base["messages"][:1]
    chunks: list[list[dict[str, Any]]] = [
        [
            {
                "role": "user",
                "content": '“Ünïcode,” she said, with a \\ backslash, a " quote and a \n newline.',
            }
        ],
        [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "{}"},
            {"role": "user", "content": "again"},
        ],
        [{"role": "user", "content": f"the key {secret} in the text"}],
        [{"role": "user", "content": "a field to drop", "API_Key": "x"}],
    ]
    for prefix in (base, {**base, "api_key": secret}):
        template = RequestTemplate(prefix)
        for messages in chunks:
            whole = {**prefix, "messages": [*prefix["messages"], *messages]}
            store = ResponseStore(tmp_path, secrets=[secret])
            keyed = store.keyed_from(template, messages)
            assert keyed.body == whole
            assert list(keyed.body) == list(prefix), "the body keeps the template's key order"
            assert keyed.key == store.key(whole)
            assert keyed.request == store.keyed(whole).request


def test_cache_mode_misses_then_serves_what_was_saved(store: ResponseStore) -> None:
    assert store.mode is StoreMode.cache
    assert store.lookup(request()) is None
    path = store.save(request(), response("A"))
    assert path == store.path_for(request())
    served = store.lookup(request())
    assert served == json.loads(path.read_text())["response"]
    assert served["choices"][0]["message"]["content"] == "A"


def test_stored_file_holds_key_request_response_and_time(store: ResponseStore) -> None:
    path = store.save(request(), response())
    assert path is not None
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"key", "request", "response", "recorded_at"}
    assert path.name == f"{data['key']}.json"
    assert request_key(data["request"]) == data["key"]
    assert data["response"]["object"] == "chat.completion"


def test_a_stored_request_is_one_line_whose_sha256_is_the_key(tmp_path: Path) -> None:
    secret = "sk-" + "line-4444"
    store = ResponseStore(tmp_path, secrets=[secret])
    for body in (request("plain\ntext, “quoted”"), request(f"holds {secret}", api_key=secret)):
        path = store.save(body, response("multi\nline"))
        assert path is not None
        lines = path.read_text(encoding="utf-8").splitlines()
        heads = ('  "key": "', '  "recorded_at": "', '  "request": {"')
        assert [line.startswith(head) for line, head in zip(lines[1:4], heads, strict=True)] == [True] * 3
        request_json = lines[3].removeprefix('  "request": ').removesuffix(",")
        assert hashlib.sha256(request_json.encode()).hexdigest() == path.stem
        assert json.loads(request_json) == store.keyed(body).request
        assert secret not in request_json
        assert lines[4] == '  "response": {', "the response is indented, one member a line"


def test_record_mode_never_serves_and_overwrites(tmp_path: Path) -> None:
    ResponseStore(tmp_path, StoreMode.cache).save(request(), response("old"))
    recorder = ResponseStore(tmp_path, StoreMode.record)
    assert recorder.lookup(request()) is None
    recorder.save(request(), response("new"))
    served = ResponseStore(tmp_path).lookup(request())
    assert served is not None
    assert served["choices"][0]["message"]["content"] == "new"


def test_offline_miss_names_the_request(tmp_path: Path) -> None:
    offline = ResponseStore(tmp_path, StoreMode.offline)
    chunk = "The mayor said the new bridge would open in March, three months later than planned " * 3
    with pytest.raises(StoreMiss) as caught:
        offline.lookup(request(chunk))
    message = str(caught.value)
    assert "'test-model'" in message
    assert request_key(request(chunk)) in message
    assert str(offline.path_for(request(chunk))) in message
    assert "The mayor said the new bridge would open in March" in message
    assert chunk not in message, "only the start of the message is quoted"
    assert offline.save(request(chunk), response()) is None
    assert not list(tmp_path.iterdir())


def test_off_mode_neither_reads_nor_writes(tmp_path: Path) -> None:
    ResponseStore(tmp_path).save(request(), response())
    off = ResponseStore(tmp_path, StoreMode.off)
    assert off.lookup(request()) is None
    assert off.save(request("new"), response()) is None
    assert len(list(tmp_path.iterdir())) == 1


def test_secrets_never_reach_a_stored_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Keys are built, not written out, so that no key-shaped literal is ever tracked.
    from_env, given = "sk-" + "from-the-environment-0000", "sk-" + "given-to-the-store-1111"
    monkeypatch.setenv("OPENAI_API_KEY", from_env)
    store = ResponseStore(tmp_path, secrets=[given])
    leaky_request = request(f"key {given} in text", headers={"Authorization": "Bearer sk-x"}, api_key="sk-y")
    leaky_response = response(f"echo {from_env} and {given}")
    leaky_response["authorization"] = "Bearer sk-z"
    path = store.save(leaky_request, leaky_response)
    assert path is not None
    assert store.path_for(leaky_request) == path
    written = path.read_text(encoding="utf-8")
    for secret in (from_env, given, "sk-x", "sk-y", "sk-z"):
        assert secret not in written
    assert "[REDACTED]" in written


def test_writes_are_atomic_under_concurrency(tmp_path: Path) -> None:
    store = ResponseStore(tmp_path)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for _ in range(20):
                store.save(request(), response(f"writer {n}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    key = request_key(request())
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()] == [
        Path(key[:2], f"{key}.json")
    ], "no temp files left"
    assert store.lookup(request()) is not None


def test_answers_are_sharded_by_the_first_two_hex_digits_of_their_key(store: ResponseStore) -> None:
    paths = [store.save(request(f"chunk {n}"), response()) for n in range(20)]
    for path in paths:
        assert path is not None
        assert path.parent.parent == store.directory
        assert path.parent.name == path.stem[:2]
    assert len({p.parent for p in paths if p}) > 1
    assert all(store.lookup(request(f"chunk {n}")) is not None for n in range(20))
    assert request_key(request("chunk 3")) in store
    assert request_key(request("never stored")) not in store


def test_a_store_in_the_flat_layout_is_still_read(tmp_path: Path) -> None:
    """Stores written before the sharding hold `<key>.json` in the folder itself."""
    writer = ResponseStore(tmp_path / "staging")
    sharded = writer.save(request(), response("from an old store"))
    assert sharded is not None
    old = tmp_path / "old"
    old.mkdir()
    flat = old / sharded.name
    sharded.rename(flat)
    for mode in (StoreMode.cache, StoreMode.offline):
        served = ResponseStore(old, mode).lookup(request())
        assert served is not None
        assert served["choices"][0]["message"]["content"] == "from an old store"
    assert request_key(request()) in ResponseStore(old)
    ResponseStore(old, StoreMode.record).save(request(), response("re-recorded"))
    served = ResponseStore(old).lookup(request())
    assert served is not None
    assert served["choices"][0]["message"]["content"] == "re-recorded", "a new answer wins over the old file"


def _write_many(directory: str, writer: int, rounds: int) -> None:
    store = ResponseStore(directory)
    for n in range(rounds):
        # Every writer writes the shared request (racing for one file) and some of its own.
        store.save(request(), response(f"writer {writer} round {n} " + "x" * 20_000))
        store.save(request(f"writer {writer} chunk {n}"), response(f"own {n}"))


def test_many_processes_write_one_store_and_readers_never_see_half_an_answer(tmp_path: Path) -> None:
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=_write_many, args=(str(tmp_path), n, 40)) for n in range(3)]
    for process in writers:
        process.start()
    reader = ResponseStore(tmp_path, StoreMode.cache)
    seen = set()
    while any(p.is_alive() for p in writers):
        served = reader.lookup(request())  # a half-written file would raise StoreError here
        if served is not None:
            content = served["choices"][0]["message"]["content"]
            assert content.endswith("x" * 20_000)
            seen.add(content.split(" round")[0])
    for process in writers:
        process.join()
        assert process.exitcode == 0
    assert seen, "the reader raced the writers at least once"
    for writer in range(3):
        for n in range(40):
            assert reader.lookup(request(f"writer {writer} chunk {n}")) is not None
    assert not list(tmp_path.rglob("*.tmp")), "no temp files left"


def test_a_corrupt_file_is_an_error_naming_it(store: ResponseStore) -> None:
    path = store.save(request(), response())
    assert path is not None
    path.write_text('{"key": "half a fi', encoding="utf-8")
    with pytest.raises(StoreError, match=re.escape(str(path))):
        store.lookup(request())


def test_the_response_is_read_from_a_stored_file_in_any_json_layout(store: ResponseStore) -> None:
    # A request field named like the record's members must not be taken for them.
    decoy = request(metadata={"response": {"object": "decoy"}, "key": "decoy"})
    path = store.save(decoy, response("stored"))
    assert path is not None
    written = path.read_text(encoding="utf-8")
    assert written.index('"decoy"') < written.index('"response": {\n    "id"'), "the decoy comes first"
    served = store.lookup(decoy)
    assert served is not None
    assert served["choices"][0]["message"]["content"] == "stored"
    record = json.loads(path.read_text(encoding="utf-8"))
    reordered = {"response": record["response"], "key": record["key"], "request": record["request"]}
    for text in (json.dumps(record), json.dumps(reordered, indent=2), json.dumps(record, indent=1)):
        path.write_text(text, encoding="utf-8")
        assert store.lookup(decoy) == served


def test_a_stored_file_without_a_response_object_is_an_error_naming_it(store: ResponseStore) -> None:
    path = store.save(request(), response())
    assert path is not None
    record = json.loads(path.read_text(encoding="utf-8"))
    for broken in ({**record, "response": "text"}, {k: v for k, v in record.items() if k != "response"}):
        path.write_text(json.dumps(broken, indent=2), encoding="utf-8")
        with pytest.raises(StoreError, match=re.escape(str(path))):
            store.lookup(request())


def test_write_authored_wraps_hand_written_json_in_a_wire_body(store: ResponseStore) -> None:
    path = store.write_authored(request(), '{"quotes": []}', "written by hand for the seed", 120, 8)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["authored"] == "written by hand for the seed"
    body = data["response"]
    assert body["object"] == "chat.completion"
    assert body["model"] == "test-model"
    assert body["choices"][0]["message"] == {
        "role": "assistant",
        "content": '{"quotes": []}',
        "refusal": None,
    }
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["usage"] == {"prompt_tokens": 120, "completion_tokens": 8, "total_tokens": 128}
    assert store.lookup(request()) == body
    with pytest.raises(ValueError, match="not valid JSON"):
        store.write_authored(request(), "{quotes", "broken", 1, 1)


def test_default_directory_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUOTES_STORE", str(tmp_path / "explicit"))
    assert default_store_dir() == tmp_path / "explicit"
    monkeypatch.delenv("QUOTES_STORE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_store_dir() == tmp_path / "xdg" / "quotes" / "responses"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_store_dir() == tmp_path / "home" / ".cache" / "quotes" / "responses"


def test_quotes_record_env_selects_record_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ResponseStore.from_env().mode is StoreMode.cache
    monkeypatch.setenv("QUOTES_RECORD", "1")
    assert ResponseStore.from_env().mode is StoreMode.record
    assert ResponseStore.from_env(mode="offline").mode is StoreMode.offline
