"""A model's answer read into the answer schema, keeping whatever of it can be used.

Small and local models answer in the schema's shape but not always to the letter: a record without its
`about`, an extra field, one record of ten with a kind that is not a kind. Re-asking such a model at
temperature 0 mostly brings the same answer back, so the usable part is kept instead:
- a field the model left out takes its default (null, an empty list, "unknown"; a missing `kind` is read
  off the quote's own quotation marks), and a field the schema does not have is dropped;
- a record that is still invalid is dropped on its own, and the rest are kept;
each with a warning that says what was done. Only an answer with nothing usable (not JSON, not the
answer's shape, or every record invalid) is re-asked.
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar, get_args, get_origin

from pydantic import BaseModel, ValidationError

AnswerT = TypeVar("AnswerT", bound=BaseModel)

_OPENING_MARKS = "\"“„«‹「『'‘"
_MARKS = _OPENING_MARKS + "”»›」』’"


@dataclass
class ParsedAnswer(Generic[AnswerT]):
    answer: AnswerT
    warnings: list[str] = field(default_factory=list)


def parse_answer(content: str, answer_type: type[AnswerT]) -> ParsedAnswer[AnswerT]:
    """`content` validated as `answer_type`, with missing fields defaulted and invalid list items dropped.

    Raises ValidationError when nothing usable is left (the re-ask tells the model why); a ```json fence
    around the answer is ignored.
    """
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    try:
        return ParsedAnswer(answer_type.model_validate_json(text))
    except ValidationError as strict_error:
        try:
            data = json.loads(text)
        except ValueError:
            raise strict_error from None
        if not isinstance(data, dict):
            raise strict_error from None
        warnings: list[str] = []
        repaired = _repair(data, answer_type, warnings, path="answer", top=True)
        try:
            answer = answer_type.model_validate(repaired)
        except ValidationError:
            raise strict_error from None
        if _dropped_everything(data, answer):
            raise strict_error from None
        return ParsedAnswer(answer, warnings)


def describe_validation_error(exc: ValidationError, limit: int = 8) -> str:
    """A short, model-readable account of what is wrong, without pydantic's URLs."""
    errors = exc.errors(include_url=False)
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in errors[:limit]]
    if len(errors) > limit:
        parts.append(f"and {len(errors) - limit} more")
    return "; ".join(parts)


def _repair(
    data: dict[str, Any], model: type[BaseModel], warnings: list[str], path: str, *, top: bool = False
) -> dict[str, Any]:
    """`data` with unknown fields dropped, missing ones defaulted, and bad items of model lists dropped.
    At the `top` of an answer a missing list is not defaulted: without it the answer says nothing."""
    fields = model.model_fields
    repaired: dict[str, Any] = {}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        warnings.append(f"{path}: ignored field(s) not in the schema: {', '.join(unknown)}")
    missing: list[str] = []
    for name, info in fields.items():
        if name in data:
            repaired[name] = _repair_value(data[name], info.annotation, warnings, f"{path}.{name}")
            continue
        default = _default_for(name, info.annotation, data)
        if default is _NO_DEFAULT or (top and isinstance(default, list)):
            continue  # left missing: validation names it
        missing.append(name)
        repaired[name] = default
    if missing:
        warnings.append(f"{path}: missing field(s) given their defaults: {', '.join(missing)}")
    return repaired


def _repair_value(value: Any, annotation: Any, warnings: list[str], path: str) -> Any:
    item_model = _list_item_model(annotation)
    if item_model is None or not isinstance(value, list):
        return value
    kept = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            warnings.append(f"{where}: dropped, not an object")
            continue
        item_warnings: list[str] = []
        candidate = _repair(item, item_model, item_warnings, where)
        try:
            item_model.model_validate(candidate)
        except ValidationError as exc:
            warnings.append(f"{where}: dropped ({describe_validation_error(exc, limit=2)})")
            continue
        warnings.extend(item_warnings)
        kept.append(candidate)
    return kept


class _NoDefault:
    pass


_NO_DEFAULT: Any = _NoDefault()


def _default_for(name: str, annotation: Any, record: dict[str, Any]) -> Any:
    """What a missing field takes: null where the schema allows it, [] for a list, "unknown" where it is a
    choice, a statement's kind from its quotation marks; otherwise nothing (the field stays required)."""
    if name == "kind" and isinstance(record.get("quote"), str):
        return _kind_of(record["quote"])
    args = get_args(annotation)
    origin = get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in args:
        return None
    if origin is list:
        return []
    if origin is Literal and "unknown" in args:
        return "unknown"
    return _NO_DEFAULT


def _kind_of(quote: str) -> str:
    text = quote.strip()
    if text[:1] in _OPENING_MARKS:
        return "direct"
    return "mixed" if any(mark in text for mark in _MARKS if mark not in "'’") else "indirect"


def _list_item_model(annotation: Any) -> type[BaseModel] | None:
    if get_origin(annotation) is not list:
        return None
    (item,) = get_args(annotation) or (None,)
    return item if isinstance(item, type) and issubclass(item, BaseModel) else None


def _dropped_everything(data: dict[str, Any], answer: BaseModel) -> bool:
    """Whether every item of some non-empty list in the answer was dropped (nothing usable came)."""
    for name, value in data.items():
        if isinstance(value, list) and value and not getattr(answer, name, [None]):
            return True
    return False
