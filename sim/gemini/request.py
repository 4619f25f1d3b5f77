"""Reading and checking a generateContent / countTokens request body (the REST JSON the SDK sends)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .envelope import estimate_tokens
from .errors import GeminiRequestError, field_error
from .schema import Schema, camel_or_snake, read_schema

JSON_MIME = "application/json"
ENUM_MIME = "text/x.enum"
_TEXT_MIMES = ("text/plain", "application/xml", "application/yaml")
_ROLES = ("user", "model", "function", "tool")


@dataclass(frozen=True)
class Request:
    system: str  # the system instruction's text
    user: str  # the text of every user turn
    prompt_tokens: int
    mime_type: str  # "" when not set
    schema: Schema | None
    max_output_tokens: int | None
    stop_sequences: tuple[str, ...]
    seed: int  # from a hash of the whole request: same body, same answer

    @property
    def wants_json(self) -> bool:
        return self.mime_type == JSON_MIME

    @property
    def wants_enum(self) -> bool:
        return self.mime_type == ENUM_MIME


def _parts_text(parts: Any, path: str) -> list[str]:
    if isinstance(parts, str):
        return [parts]
    if isinstance(parts, Mapping):
        parts = [parts]
    if not isinstance(parts, list):
        raise field_error(path, f"expected a list of parts, got {type(parts).__name__}")
    if not parts:
        raise field_error(path, "contents.parts must not be empty.")
    texts: list[str] = []
    for i, part in enumerate(parts):
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Mapping):
            text = part.get("text")
            if text is not None and not isinstance(text, str):
                raise field_error(f"{path}[{i}].text", "must be a string")
            if isinstance(text, str) and not part.get("thought"):
                texts.append(text)
        else:
            raise field_error(f"{path}[{i}]", "a part must be an object")
    return texts


def _content(raw: Any, path: str) -> tuple[str, list[str]]:
    """(role, texts) of one Content, also accepting a bare string or a bare part."""
    if isinstance(raw, str):
        return "user", [raw]
    if not isinstance(raw, Mapping):
        raise field_error(path, f"a content must be an object, got {type(raw).__name__}")
    if "parts" not in raw and "text" in raw:  # a bare part
        return "user", _parts_text([raw], path)
    role = raw.get("role") or "user"
    if role not in _ROLES:
        raise GeminiRequestError("Please use a valid role: user, model.")
    return str(role), _parts_text(raw.get("parts"), f"{path}.parts")


def read_contents(body: Mapping[str, Any]) -> tuple[str, list[tuple[str, list[str]]]]:
    """(system text, [(role, texts) per turn]) of a request; raises when there are no contents."""
    if not isinstance(body, Mapping):
        raise GeminiRequestError("Invalid JSON payload received. Expected an object.")
    contents = body.get("contents")
    if contents is None or contents == [] or contents == "":
        raise field_error("contents", "contents is not specified")
    if isinstance(contents, str | Mapping):
        contents = [contents]
    if not isinstance(contents, list):
        raise field_error("contents", f"expected a list of contents, got {type(contents).__name__}")
    if all(isinstance(c, str) or (isinstance(c, Mapping) and "parts" not in c and "text" in c) for c in contents):
        turns = [("user", _parts_text(contents, "contents[0].parts"))]  # a list of bare parts: one user turn
    else:
        turns = [_content(c, f"contents[{i}]") for i, c in enumerate(contents)]
    system_raw = camel_or_snake(body, "systemInstruction")
    system: list[str] = []
    if isinstance(system_raw, Mapping) and "parts" in system_raw:  # its role, if any, is ignored
        system = _parts_text(system_raw["parts"], "system_instruction.parts")
    elif system_raw is not None:
        system = _parts_text(system_raw, "system_instruction.parts")
    return "\n".join(system), turns


def prompt_tokens(system: str, turns: list[tuple[str, list[str]]]) -> int:
    """Tokens of every text part, the system instruction first: what usage and countTokens report."""
    texts = ([system] if system else []) + [t for _, parts in turns for t in parts]
    return estimate_tokens("\n".join(texts))


def _config(body: Mapping[str, Any]) -> Mapping[str, Any]:
    config = camel_or_snake(body, "generationConfig")
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise field_error("generation_config", "must be an object")
    return config


def _number(config: Mapping[str, Any], camel: str, path: str) -> float | None:
    value = camel_or_snake(config, camel)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise field_error(f"generation_config.{path}", f"invalid value {value!r}: expected a number")
    try:
        return float(value)
    except ValueError:
        raise field_error(f"generation_config.{path}", f"invalid value {value!r}: expected a number") from None


def read_request(body: Mapping[str, Any]) -> Request:
    system, turns = read_contents(body)
    config = _config(body)
    mime = str(camel_or_snake(config, "responseMimeType") or "").split(";")[0].strip().lower()
    if mime and mime not in (JSON_MIME, ENUM_MIME, *_TEXT_MIMES):
        raise field_error(
            "generation_config.response_mime_type",
            "allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` "
            "and `text/x.enum`.",
        )
    open_api = camel_or_snake(config, "responseSchema")
    json_schema = camel_or_snake(config, "responseJsonSchema")
    if open_api is not None and json_schema is not None:
        raise field_error("generation_config", "only one of response_schema and response_json_schema may be set.")
    schema: Schema | None = None
    if open_api is not None or json_schema is not None:
        if mime not in (JSON_MIME, ENUM_MIME):
            raise field_error(
                "generation_config.response_mime_type",
                "response_mime_type must be application/json or text/x.enum when a response schema is set.",
            )
        schema = read_schema(open_api, "openapi") if open_api is not None else read_schema(json_schema, "json")
        if mime == ENUM_MIME and schema.resolve(schema.root).enum is None:
            raise field_error("generation_config.response_schema", "must be a STRING enum for text/x.enum.")
    elif mime == ENUM_MIME:
        raise field_error("generation_config.response_schema", "is required for text/x.enum.")

    temperature = _number(config, "temperature", "temperature")
    if temperature is not None and not 0 <= temperature <= 2:
        raise field_error("generation_config.temperature", "temperature must be in the range [0.0, 2.0].")
    top_p = _number(config, "topP", "top_p")
    if top_p is not None and not 0 <= top_p <= 1:
        raise field_error("generation_config.top_p", "top_p must be in the range [0.0, 1.0].")
    max_tokens = _number(config, "maxOutputTokens", "max_output_tokens")
    if max_tokens is not None and (max_tokens < 1 or not math.isfinite(max_tokens) or max_tokens != int(max_tokens)):
        raise field_error("generation_config.max_output_tokens", "max_output_tokens must be a positive integer.")
    stops = camel_or_snake(config, "stopSequences") or []
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > 5:
        raise field_error("generation_config.stop_sequences", "must be a list of at most 5 strings.")

    user = "\n".join(t for role, parts in turns if role == "user" for t in parts)
    material = json.dumps({"system": system, "turns": turns, "config": config}, sort_keys=True, default=str)
    seed = int.from_bytes(hashlib.blake2b(material.encode(), digest_size=8).digest(), "big")
    return Request(
        system=system,
        user=user,
        prompt_tokens=prompt_tokens(system, turns),
        mime_type=mime,
        schema=schema,
        max_output_tokens=int(max_tokens) if max_tokens is not None else None,
        stop_sequences=tuple(s for s in stops if s),
        seed=seed,
    )
