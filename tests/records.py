"""Quotes and speakers for tests that need only their spans and attribution."""

from __future__ import annotations

from quotes.schema import Quote, Speaker

TEXT = "x" * 2000


def quote(start: int, end: int, **fields: object) -> Quote:
    values: dict[str, object] = {"id": f"q{start}-{end}", "text": TEXT[start:end], "start": start, "end": end}
    values.setdefault("kind", "direct")
    values.update(fields)
    return Quote.model_validate(values)


def person(name: str | None = None, mention: str | None = None, **fields: object) -> Speaker:
    return Speaker.model_validate({"name": name, "mention": mention, "type": "person", **fields})
