"""`--structured`: a task's reply as JSON of a fixed schema instead of free text, yielding the same pairs.

Step in the flow: a task that has a `ReplyFormat` (its schema, kept beside the task) builds its jobs
with `response_format: {"type": "json_schema", ...}` (OpenAI, vLLM and SGLang accept this shape;
vLLM also enforces it with guided decoding) and its few-shot answers shown in the same JSON shape.
Those JSON answers are made from the template's own text answers by the task's text parser
(`structured_template`), so one template folder serves both modes. The task's `parse` then reads a
structured reply with `ReplyFormat.parse` and gets exactly the pairs its text parser would give, so
filters, records and exports do not know which mode produced a sample.

A reply that is not valid JSON, or lacks a field, is a `ParseError` like any text reply that does
not fit: the engine asks again up to `--max-attempts`, then records it in failures.jsonl.

The schemas keep to what every server's strict mode accepts (objects with all fields required and
no others, arrays, strings, integers, descriptions): no `minItems` or `minimum`, which some servers
refuse. Those rules (at least one turn, a score from 1 to 10) are checked here and in `to_pairs`.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datagen.errors import ParseError, TemplateError
from datagen.prompts.templates import TaskTemplate

# tasks/base.py names this module's ReplyFormat on `Task`, so nothing here imports base: a job is
# anything with `response_format` (a `tasks.base.Job`), pairs are (question, answer) strings.
QAPairs = list[tuple[str, str]]
Job = Any

_FENCE_RE = re.compile(r"^```[A-Za-z]*\s*\n(.*)\n\s*```$", re.S)


def obj(properties: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A strict object schema: every property required, no others."""
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }


def string(description: str) -> dict[str, Any]:
    return {"type": "string", "description": description}


def integer(description: str) -> dict[str, Any]:
    return {"type": "integer", "description": description}


def array(items: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "array", "items": items, "description": description}


@dataclass(frozen=True)
class ReplyFormat:
    """One task's structured reply: its JSON schema and the two conversions to and from pairs."""

    name: str  # the schema's name in response_format (letters, digits, '_' and '-')
    schema: dict[str, Any]
    to_json: Callable[[QAPairs], dict[str, Any]]  # pairs (from the text parser) -> the JSON shape
    to_pairs: Callable[[dict[str, Any], Job], QAPairs]  # a checked JSON reply -> pairs

    def response_format(self) -> dict[str, Any]:
        """The request's `response_format` (a fresh dict: a job may carry it into a request body)."""
        schema = json.loads(json.dumps(self.schema))
        return {"type": "json_schema", "json_schema": {"name": self.name, "strict": True, "schema": schema}}

    def render(self, pairs: QAPairs) -> str:
        """A few-shot answer in the JSON shape (compact: it is sent with every request)."""
        return json.dumps(self.to_json(pairs), ensure_ascii=False)

    def parse(self, reply: str, job: Job) -> QAPairs:
        """A structured reply → the pairs the task's text parser would give (or ParseError)."""
        return self.to_pairs(load_reply(reply, self.schema), job)

    def template_hash(self, text_hash: str) -> str:
        """The hash of a template shown in this JSON shape: differs from the text template's."""
        blob = json.dumps([text_hash, self.name, self.schema], sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


def load_reply(reply: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Decode a JSON reply and check it against `schema`; ParseError says what is wrong and where."""
    body = reply.strip()
    fenced = _FENCE_RE.match(body)  # servers that ignore response_format often wrap JSON in a fence
    if fenced:
        body = fenced.group(1).strip()
    if not body:
        raise ParseError("empty reply (expected a JSON object)")
    try:
        data = json.loads(body)
    except ValueError as e:
        raise ParseError(f"reply is not valid JSON ({e}; starts {body[:40]!r})") from None
    check(data, schema, "reply")
    assert isinstance(data, dict)
    return data


_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def check(value: Any, schema: dict[str, Any], where: str) -> None:
    """The part of JSON Schema our reply schemas use: types, required fields, array items, enums."""
    kind = schema.get("type")
    if kind is not None and not _TYPES[kind](value):
        raise ParseError(f"{where} should be of type {kind}, got {type(value).__name__}")
    if "enum" in schema and value not in schema["enum"]:
        raise ParseError(f"{where} is {value!r}, not one of {schema['enum']}")
    if kind == "object":
        for name in schema.get("required", []):
            if name not in value:
                raise ParseError(f"{where} has no field {name!r}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                check(value[name], sub, f"{where}.{name}")
    elif kind == "array" and "items" in schema:
        for i, item in enumerate(value):
            check(item, schema["items"], f"{where}[{i}]")


def structured_template(
    tpl: TaskTemplate, fmt: ReplyFormat, text_pairs: Callable[[str, str], QAPairs]
) -> TaskTemplate:
    """`tpl` with each few-shot answer shown in `fmt`'s JSON shape: `text_pairs(context, answer)`
    (the task's text parser) reads the template's text answer, `fmt.render` writes it as JSON."""
    examples = []
    for i, (context, answer) in enumerate(tpl.examples):
        try:
            pairs = text_pairs(context, answer)
        except ParseError as e:
            raise TemplateError(
                f"{tpl.folder}: few-shot answer {i + 1} cannot be shown as JSON for --structured ({e})",
                hint="write it in the task's text format (docs/templates.md), or drop --structured",
            ) from None
        examples.append((context, fmt.render(pairs)))
    return dataclasses.replace(tpl, examples=examples, hash=fmt.template_hash(tpl.hash))


def is_structured(job: Job) -> bool:
    """Whether `job` asked for a JSON reply (so its task's `parse` reads JSON)."""
    return job.response_format is not None


def nonempty(value: Any, where: str) -> str:
    """A JSON string field, stripped; empty is a ParseError like an empty block in a text reply."""
    out = str(value).strip()
    if not out:
        raise ParseError(f"{where} is empty")
    return out
