"""Both schema dialects the API accepts, read into one tree the filler walks.

`responseSchema` is Gemini's OpenAPI-3.0 subset (types in upper case, `nullable`, `propertyOrdering`; the
SDK sends some keys in snake_case, which the real API's proto-JSON parser also accepts). `responseJsonSchema`
is JSON Schema as pydantic emits it (`$defs`/`$ref`, `anyOf` with null, `const`, `prefixItems`,
`additionalProperties`, exclusive bounds). References are kept as references and resolved on use, so
recursive schemas work.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from .errors import GeminiRequestError, field_error

Dialect = Literal["openapi", "json"]
TYPES = frozenset({"string", "number", "integer", "boolean", "array", "object", "null"})
_ANY: frozenset[str] = frozenset()
_N = TypeVar("_N", int, float)


def _lowest(x: _N | None, y: _N | None) -> _N | None:
    return y if x is None else x if y is None else min(x, y)


def _highest(x: _N | None, y: _N | None) -> _N | None:
    return y if x is None else x if y is None else max(x, y)


@dataclass(frozen=True)
class Node:
    types: frozenset[str] = _ANY  # empty: any type
    properties: tuple[tuple[str, Node], ...] = ()  # in the order answers should list them
    required: frozenset[str] = frozenset()
    extra: Node | None = None  # schema of additional properties: a dict-like object
    key_names: tuple[str, ...] | None = None  # allowed keys (propertyNames.enum)
    min_properties: int = 0
    max_properties: int | None = None
    items: Node | None = None
    prefix: tuple[Node, ...] = ()  # prefixItems: one schema per leading position
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False
    enum: tuple[Any, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: float | None = None
    exclusive_maximum: float | None = None
    multiple_of: float | None = None
    min_length: int = 0
    max_length: int | None = None
    pattern: str | None = None
    format: str = ""
    description: str = ""
    title: str = ""
    any_of: tuple[Node, ...] = ()  # alternatives (anyOf / oneOf)
    all_of: tuple[Node, ...] = ()  # constraints that all apply (allOf, or $ref with sibling keywords)
    ref: str | None = None

    @property
    def nullable(self) -> bool:
        return "null" in self.types

    def allows(self, type_name: str) -> bool:
        return not self.types or type_name in self.types or (type_name == "integer" and "number" in self.types)


@dataclass
class Schema:
    """A read schema: its root and the nodes its references point at."""

    root: Node
    refs: dict[str, Node] = field(default_factory=dict)

    def resolve(self, node: Node) -> Node:
        """`node` with its reference followed and its allOf parts merged in."""
        seen: set[str] = set()
        while node.ref is not None:
            if node.ref in seen:  # a reference cycle with no content: any value will do
                return Node()
            seen.add(node.ref)
            node = self.refs[node.ref]
        if node.all_of:
            merged = replace(node, all_of=())
            for part in node.all_of:
                merged = _merge(merged, self.resolve(part))
            node = merged
        return node


def _merge(a: Node, b: Node) -> Node:
    """The constraints of both (used for allOf): enough for the shapes schema generators emit."""
    types = a.types & b.types if a.types and b.types else a.types or b.types
    names = dict(a.properties)
    for name, node in b.properties:
        names.setdefault(name, node)

    enum = a.enum if b.enum is None else b.enum if a.enum is None else tuple(v for v in a.enum if v in b.enum)
    return Node(
        types=frozenset(types),
        properties=tuple(names.items()),
        required=a.required | b.required,
        extra=a.extra or b.extra,
        key_names=a.key_names or b.key_names,
        min_properties=max(a.min_properties, b.min_properties),
        max_properties=_lowest(a.max_properties, b.max_properties),
        items=a.items or b.items,
        prefix=a.prefix or b.prefix,
        min_items=max(a.min_items, b.min_items),
        max_items=_lowest(a.max_items, b.max_items),
        unique=a.unique or b.unique,
        enum=enum,
        minimum=_highest(a.minimum, b.minimum),
        maximum=_lowest(a.maximum, b.maximum),
        exclusive_minimum=_highest(a.exclusive_minimum, b.exclusive_minimum),
        exclusive_maximum=_lowest(a.exclusive_maximum, b.exclusive_maximum),
        multiple_of=a.multiple_of or b.multiple_of,
        min_length=max(a.min_length, b.min_length),
        max_length=_lowest(a.max_length, b.max_length),
        pattern=a.pattern or b.pattern,
        format=a.format or b.format,
        description=a.description or b.description,
        any_of=a.any_of or b.any_of,
    )


def camel_or_snake(raw: Mapping[str, Any], camel: str) -> Any:
    """A key in camelCase or snake_case: the API's proto-JSON parser takes both, and the SDK sends both."""
    if camel in raw:
        return raw[camel]
    snake = re.sub(r"(?<!^)(?=[A-Z])", "_", camel).lower()
    return raw.get(snake)


class _Reader:
    def __init__(self, raw: Mapping[str, Any], dialect: Dialect, path: str) -> None:
        self.raw = raw
        self.dialect = dialect
        self.base = path
        self.refs: dict[str, Node] = {}
        self.pending: list[tuple[str, str]] = []

    def read_all(self) -> Schema:
        root = self.read(self.raw, self.base)
        while self.pending:
            pointer, path = self.pending.pop()
            if pointer not in self.refs:
                self.refs[pointer] = Node()  # placeholder: a reference cycle resolves to itself
                self.refs[pointer] = self.read(self._target(pointer, path), path)
        return Schema(root, self.refs)

    def _target(self, pointer: str, path: str) -> Mapping[str, Any]:
        node: Any = self.raw
        if pointer.startswith("#"):
            parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/") if p]
        else:  # a bare name: look in the definitions
            parts = ["$defs", pointer]
        for i, part in enumerate(parts):
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, Mapping) and i == 0 and part in ("$defs", "defs", "definitions"):
                node = camel_or_snake(node, "$defs") or node.get("defs") or node.get("definitions") or {}
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise field_error(path, f"reference {pointer!r} does not resolve to a schema")
        if not isinstance(node, Mapping):
            raise field_error(path, f"reference {pointer!r} does not resolve to a schema")
        return node

    def read(self, raw: Any, path: str) -> Node:
        if raw is True or (isinstance(raw, Mapping) and not raw):
            return Node()
        if not isinstance(raw, Mapping):
            raise field_error(path, f"a schema must be an object, got {type(raw).__name__}")
        ref = raw.get("$ref", raw.get("ref"))
        if isinstance(ref, str):
            self.pending.append((ref, path))
            siblings = {k: v for k, v in raw.items() if k not in ("$ref", "ref", "description", "title", "default")}
            target = Node(ref=ref)
            if not siblings:
                return target
            return Node(all_of=(target, self.read(siblings, path)))
        types = self._types(raw, path)
        properties = self._properties(raw, path)
        required = self._required(raw, properties, path)
        items_raw = raw.get("items")
        prefix_raw = camel_or_snake(raw, "prefixItems")
        if isinstance(items_raw, list):  # draft-4 tuple form
            prefix_raw, items_raw = items_raw, None
        items = self.read(items_raw, f"{path}.items") if isinstance(items_raw, Mapping | bool) and items_raw else None
        prefix = tuple(self.read(p, f"{path}.prefixItems[{i}]") for i, p in enumerate(prefix_raw or ()))
        extra_raw = camel_or_snake(raw, "additionalProperties")
        extra = self.read(extra_raw, f"{path}.additionalProperties") if extra_raw not in (None, False) else None
        names_raw = camel_or_snake(raw, "propertyNames")
        key_names = (
            tuple(str(v) for v in names_raw["enum"])
            if isinstance(names_raw, Mapping) and names_raw.get("enum")
            else None
        )
        any_raw = camel_or_snake(raw, "anyOf") or camel_or_snake(raw, "oneOf") or ()
        any_of = tuple(self.read(alt, f"{path}.anyOf[{i}]") for i, alt in enumerate(any_raw))
        all_of = tuple(
            self.read(part, f"{path}.allOf[{i}]") for i, part in enumerate(camel_or_snake(raw, "allOf") or ())
        )
        enum = self._enum(raw, path)
        if not types:
            types = self._inferred_types(properties, items, prefix, extra, enum)
        if raw.get("nullable") is True and types:
            types = types | {"null"}
        node = Node(
            types=types,
            properties=properties,
            required=required,
            extra=extra,
            key_names=key_names,
            min_properties=self._int(raw, "minProperties", path) or 0,
            max_properties=self._int(raw, "maxProperties", path),
            items=items,
            prefix=prefix,
            min_items=self._int(raw, "minItems", path) or 0,
            max_items=self._int(raw, "maxItems", path),
            unique=bool(camel_or_snake(raw, "uniqueItems")),
            enum=enum,
            minimum=self._number(raw, "minimum", path),
            maximum=self._number(raw, "maximum", path),
            exclusive_minimum=self._exclusive(raw, "exclusiveMinimum", "minimum", path),
            exclusive_maximum=self._exclusive(raw, "exclusiveMaximum", "maximum", path),
            multiple_of=self._number(raw, "multipleOf", path),
            min_length=self._int(raw, "minLength", path) or 0,
            max_length=self._int(raw, "maxLength", path),
            pattern=raw.get("pattern") if isinstance(raw.get("pattern"), str) else None,
            format=str(raw.get("format") or ""),
            description=str(raw.get("description") or ""),
            title=str(raw.get("title") or ""),
            any_of=any_of,
            all_of=all_of,
        )
        if node.minimum is not None and node.exclusive_minimum is not None and node.exclusive_minimum == node.minimum:
            node = replace(node, minimum=None)
        if node.maximum is not None and node.exclusive_maximum is not None and node.exclusive_maximum == node.maximum:
            node = replace(node, maximum=None)
        self._check(node, raw, path)
        return node

    def _types(self, raw: Mapping[str, Any], path: str) -> frozenset[str]:
        declared = raw.get("type")
        if declared is None:
            return _ANY
        names = declared if isinstance(declared, list) else [declared]
        types: set[str] = set()
        for name in names:
            lowered = str(name).lower()
            if lowered == "type_unspecified":
                return _ANY
            if lowered not in TYPES:
                kind = "Type" if self.dialect == "openapi" else "JSON Schema type"
                raise field_error(
                    f"{path}.type", f"invalid value {name!r}: not a {kind} (expected one of {sorted(TYPES)})"
                )
            types.add(lowered)
        return frozenset(types)

    def _properties(self, raw: Mapping[str, Any], path: str) -> tuple[tuple[str, Node], ...]:
        props = raw.get("properties")
        if props is None:
            return ()
        if not isinstance(props, Mapping):
            raise field_error(f"{path}.properties", "must be an object mapping names to schemas")
        order = camel_or_snake(raw, "propertyOrdering")
        names = list(props)
        if isinstance(order, list):
            names = [n for n in order if n in props] + [n for n in props if n not in order]
        return tuple((name, self.read(props[name], f"{path}.properties[{name!r}]")) for name in names)

    def _required(self, raw: Mapping[str, Any], properties: tuple[tuple[str, Node], ...], path: str) -> frozenset[str]:
        required = raw.get("required") or []
        if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
            raise field_error(f"{path}.required", "must be a list of property names")
        if self.dialect == "openapi":
            known = {name for name, _ in properties}
            for i, name in enumerate(required):
                if name not in known:
                    raise field_error(f"{path}.required[{i}]", f"property {name!r} is not defined")
        return frozenset(required)

    def _enum(self, raw: Mapping[str, Any], path: str) -> tuple[Any, ...] | None:
        if "const" in raw:
            return (raw["const"],)
        enum = raw.get("enum")
        if enum is None:
            return None
        if not isinstance(enum, list) or not enum:
            raise field_error(f"{path}.enum", "must be a non-empty list")
        return tuple(enum)

    @staticmethod
    def _inferred_types(
        properties: tuple[tuple[str, Node], ...],
        items: Node | None,
        prefix: tuple[Node, ...],
        extra: Node | None,
        enum: tuple[Any, ...] | None,
    ) -> frozenset[str]:
        if properties or extra is not None:
            return frozenset({"object"})
        if items is not None or prefix:
            return frozenset({"array"})
        if enum is not None:
            kinds = {
                "null" if v is None else "boolean" if isinstance(v, bool) else "integer" if isinstance(v, int)
                else "number" if isinstance(v, float) else "string" if isinstance(v, str)
                else "array" if isinstance(v, list) else "object"
                for v in enum
            }  # fmt: skip
            return frozenset(kinds)
        return _ANY

    def _int(self, raw: Mapping[str, Any], camel: str, path: str) -> int | None:
        value = camel_or_snake(raw, camel)
        if value is None:
            return None
        try:  # proto JSON writes int64 as a string
            number = int(value)
        except (TypeError, ValueError):
            raise field_error(f"{path}.{camel}", f"invalid value {value!r}: expected an integer") from None
        if number < 0:
            raise field_error(f"{path}.{camel}", "must not be negative")
        return number

    def _number(self, raw: Mapping[str, Any], camel: str, path: str) -> float | None:
        value = camel_or_snake(raw, camel)
        if value is None or isinstance(value, bool):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise field_error(f"{path}.{camel}", f"invalid value {value!r}: expected a number") from None

    def _exclusive(self, raw: Mapping[str, Any], camel: str, plain: str, path: str) -> float | None:
        value = camel_or_snake(raw, camel)
        if value is True:  # draft-4: a flag on minimum/maximum
            return self._number(raw, plain, path)
        return self._number(raw, camel, path)

    def _check(self, node: Node, raw: Mapping[str, Any], path: str) -> None:
        if self.dialect == "openapi":
            if node.types - {"null"} == {"object"} and not node.properties and node.extra is None and not node.any_of:
                raise field_error(f"{path}.properties", "should be non-empty for OBJECT type")
            if "array" in node.types and node.items is None and not node.prefix:
                raise field_error(f"{path}.items", "missing field")
        pairs = (
            ("minItems", node.min_items, node.max_items),
            ("minLength", node.min_length, node.max_length),
            ("minProperties", node.min_properties, node.max_properties),
            ("minimum", node.minimum, node.maximum),
        )
        for name, low, high in pairs:
            if low is not None and high is not None and low > high:
                raise field_error(f"{path}.{name}", f"{low} is greater than the maximum {high}")
        if node.pattern is not None:
            try:
                re.compile(node.pattern)
            except re.error as exc:
                raise field_error(f"{path}.pattern", f"invalid regular expression: {exc}") from None


def read_schema(raw: Any, dialect: Dialect) -> Schema:
    """The schema tree of a `responseSchema` ("openapi") or `responseJsonSchema` ("json")."""
    path = "generation_config.response_schema" if dialect == "openapi" else "generation_config.response_json_schema"
    if not isinstance(raw, Mapping):
        raise field_error(path, f"a schema must be an object, got {type(raw).__name__}")
    try:
        return _Reader(raw, dialect, path).read_all()
    except RecursionError:
        raise GeminiRequestError(f"* GenerateContentRequest.{path}: schema is nested too deeply") from None
