"""Reading and checking a generateContent body (the REST JSON google-genai sends), schema included.

The schema subset is what this repository's callers send: `type`, `properties` (with `required` and
`propertyOrdering`), `items`, `enum`, `minimum`/`maximum`, `minItems`/`maxItems`, `title`, `description`,
in `responseSchema` (the SDK's OpenAPI form, upper-case types, some keys in snake_case) or
`responseJsonSchema`. Anything else is refused with a 400 naming it, rather than answered wrongly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .envelope import estimate_tokens

JSON_MIME = "application/json"
_TYPES = ("object", "array", "string", "number", "integer", "boolean")
_SCHEMA_KEYS = frozenset(
    "type properties required propertyOrdering items enum minimum maximum minItems maxItems title description".split()
)


class GeminiRequestError(Exception):
    """A malformed request; the route answers 400 INVALID_ARGUMENT with str(exc) as the message."""


def field_error(path: str, problem: str) -> GeminiRequestError:
    """Worded like the real API's: "* GenerateContentRequest.<field path>: <problem>"."""
    return GeminiRequestError(f"* GenerateContentRequest.{path}: {problem}")


@dataclass(frozen=True)
class Node:
    type: str
    properties: tuple[tuple[str, Node], ...] = ()  # in the order answers list them
    items: Node | None = None
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    min_items: int = 0
    max_items: int | None = None
    required: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Request:
    system: str  # the system instruction's text
    user: str  # the text of every user turn
    prompt_tokens: int
    wants_json: bool
    schema: Node | None
    max_output_tokens: int | None


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


def _get(raw: Mapping[str, Any], camel: str) -> Any:
    """The API's proto-JSON parser takes camelCase and snake_case keys alike, and the SDK sends both."""
    return next((v for k, v in raw.items() if _camel(k) == camel), None)


def _texts(parts: Any, path: str) -> list[str]:
    if not isinstance(parts, list) or not parts:
        raise field_error(path, "contents.parts must not be empty.")
    for i, part in enumerate(parts):
        if not isinstance(part, Mapping) or not isinstance(part.get("text", ""), str):
            raise field_error(f"{path}[{i}]", "a part must be an object with a string `text`")
    return [part.get("text", "") for part in parts]


def read_request(body: Any) -> Request:
    if not isinstance(body, Mapping):
        raise GeminiRequestError("Invalid JSON payload received. Expected an object.")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        raise field_error("contents", "contents is not specified")
    turns: list[tuple[str, list[str]]] = []
    for i, content in enumerate(contents):
        if not isinstance(content, Mapping):
            raise field_error(f"contents[{i}]", "a content must be an object")
        if content.get("role", "user") not in ("user", "model"):
            raise GeminiRequestError("Please use a valid role: user, model.")
        turns.append((content.get("role", "user"), _texts(content.get("parts"), f"contents[{i}].parts")))
    system_raw = _get(body, "systemInstruction") or {}
    if not isinstance(system_raw, Mapping):
        raise field_error("system_instruction", "must be a Content object")
    system = "\n".join(_texts(system_raw["parts"], "system_instruction.parts")) if "parts" in system_raw else ""
    config = _get(body, "generationConfig") or {}
    if not isinstance(config, Mapping):
        raise field_error("generation_config", "must be an object")
    mime = str(_get(config, "responseMimeType") or "").split(";")[0].strip().lower()
    if mime not in ("", "text/plain", JSON_MIME):
        raise field_error(
            "generation_config.response_mime_type", "allowed mimetypes are `text/plain` and `application/json`."
        )
    open_api, json_schema = _get(config, "responseSchema"), _get(config, "responseJsonSchema")
    if open_api is not None and json_schema is not None:
        raise field_error("generation_config", "only one of response_schema and response_json_schema may be set.")
    raw_schema = open_api if open_api is not None else json_schema
    if raw_schema is not None and mime != JSON_MIME:
        raise field_error("generation_config.response_mime_type", "must be application/json with a response schema.")
    temperature = _get(config, "temperature")
    if temperature is not None and not (isinstance(temperature, int | float) and 0 <= temperature <= 2):
        raise field_error("generation_config.temperature", "temperature must be in the range [0.0, 2.0].")
    max_tokens = _get(config, "maxOutputTokens")
    if max_tokens is not None and (type(max_tokens) is not int or max_tokens < 1):  # a bool is no count
        raise field_error("generation_config.max_output_tokens", "max_output_tokens must be a positive integer.")
    texts = ([system] if system else []) + [t for _, parts in turns for t in parts]
    return Request(
        system=system,
        user="\n".join(t for role, parts in turns if role == "user" for t in parts),
        prompt_tokens=estimate_tokens("\n".join(texts)),
        wants_json=mime == JSON_MIME,
        schema=None if raw_schema is None else read_schema(raw_schema, "generation_config.response_schema"),
        max_output_tokens=max_tokens,
    )


def read_schema(raw: Any, path: str) -> Node:
    if not isinstance(raw, Mapping):
        raise field_error(path, f"a schema must be an object, got {type(raw).__name__}")
    unsupported = sorted({_camel(k) for k in raw} - _SCHEMA_KEYS)
    if unsupported:
        raise field_error(path, f"{', '.join(unsupported)} not supported by the simulator (see sim/gemini/README.md)")
    kind = str(raw.get("type", "")).lower()
    if kind not in _TYPES:
        raise field_error(f"{path}.type", f"must be one of {', '.join(t.upper() for t in _TYPES)}, got {kind!r}")
    raw_properties = raw.get("properties") or {}
    if kind == "object" and not (isinstance(raw_properties, Mapping) and raw_properties):
        raise field_error(f"{path}.properties", "should be non-empty for OBJECT type")
    missing = [name for name in raw.get("required") or () if name not in raw_properties]
    if missing:
        raise field_error(f"{path}.required", f"{missing} are not properties")
    order = list(_get(raw, "propertyOrdering") or raw_properties)
    order += [name for name in raw_properties if name not in order]
    if kind == "array" and not isinstance(raw.get("items"), Mapping):
        raise field_error(f"{path}.items", "missing field; ARRAY needs items")
    node = Node(
        type=kind,
        properties=tuple((n, read_schema(raw_properties[n], f"{path}.properties[{n}]")) for n in order),
        items=read_schema(raw["items"], f"{path}.items") if kind == "array" else None,
        enum=tuple(raw["enum"]) if isinstance(raw.get("enum"), list) and raw["enum"] else None,
        minimum=_get(raw, "minimum"),
        maximum=_get(raw, "maximum"),
        min_items=int(_get(raw, "minItems") or 0),
        max_items=None if _get(raw, "maxItems") is None else int(_get(raw, "maxItems")),
        required=frozenset(raw.get("required") or ()),
    )
    for low, high, name in ((node.minimum, node.maximum, "minimum"), (node.min_items, node.max_items, "min_items")):
        if low is not None and high is not None and low > high:
            raise field_error(f"{path}.{name}", f"{low} is greater than the maximum {high}")
    return node
