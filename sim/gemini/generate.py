"""The fake model: a request body in, an answer out. Pure and deterministic: the same body, the same answer."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .candidates import fit, ranked
from .envelope import GeminiAnswer, estimate_tokens, truncate_to_tokens
from .fill import Filler
from .hooks import Context, Focus, enum_value
from .mood import read_mood
from .prompt import read_prompt
from .prose import plain_answer
from .request import prompt_tokens, read_contents, read_request
from .schema import Node, Schema
from .text import name_words
from .vocabulary import Vocabulary

_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)```", re.DOTALL)


def generate(body: Mapping[str, Any], model: str, vocab: Vocabulary) -> GeminiAnswer:
    """Answer a generateContent request body (camelCase REST JSON). Raises GeminiRequestError."""
    request = read_request(body)
    prompt = read_prompt(request.system, request.user)
    schema = request.schema
    if schema is None and request.wants_json:
        schema = example_schema(prompt.text)
    mood = read_mood(prompt.focus, prompt.context, vocab, _property_words(schema))
    ctx = Context(prompt, mood, vocab, request.seed)
    if schema is not None and request.wants_enum:
        root = schema.resolve(schema.root)
        text = str(enum_value(root.enum or ("",), Focus(), ctx, root))
    elif schema is not None:
        sections = _sections(request.user, [name for name, _ in schema.resolve(schema.root).properties])
        if sections:
            value = _fill_sections(schema, sections, request.system, vocab, request.seed)
        else:
            value = Filler(schema, ctx).fill(schema.root, _root_focus(schema))
        text = json.dumps(value, ensure_ascii=False)
    else:
        lists = prompt.lists
        best = []
        if lists:
            fits = [fit(c, mood, vocab) for c in lists[0].candidates]
            best = [lists[0].candidates[i] for i in ranked(lists[0].candidates, fits)]
        text = plain_answer(mood, lists, best)
    for stop in request.stop_sequences:
        if stop in text:
            text = text[: text.index(stop)]
    output_tokens = estimate_tokens(text)
    finish = "STOP"
    if request.max_output_tokens is not None and output_tokens > request.max_output_tokens:
        text = truncate_to_tokens(text, request.max_output_tokens)
        output_tokens = request.max_output_tokens
        finish = "MAX_TOKENS"
    return GeminiAnswer(text, request.prompt_tokens, output_tokens, finish)


def _sections(user: str, names: list[str]) -> dict[str, str]:
    """A bundle of separate requests: the user text split into one section per root property, each opened by
    a line holding only the property's name and a colon (`mood_2:`). Empty unless every property has one."""
    if len(names) < 2:
        return {}
    header = re.compile(r"^[ \t]*(" + "|".join(map(re.escape, names)) + r")[ \t]*:[ \t]*$", re.MULTILINE)
    found = list(header.finditer(user))
    if sorted(m.group(1) for m in found) != sorted(names):
        return {}
    ends = [m.start() for m in found[1:]] + [len(user)]
    return {m.group(1): user[m.end() : end].strip() for m, end in zip(found, ends, strict=True)}


def _fill_sections(schema: Schema, sections: Mapping[str, str], system: str, vocab: Vocabulary, seed: int) -> Any:
    """Each root property answered from its own section only, as if it had been a request of its own."""
    root = schema.resolve(schema.root)
    focus = _root_focus(schema)
    words = _property_words(schema)
    value: dict[str, Any] = {}
    for name, node in root.properties:
        prompt = read_prompt(system, sections[name])
        mood = read_mood(prompt.focus, prompt.context, vocab, words)
        value[name] = Filler(schema, Context(prompt, mood, vocab, seed)).fill(node, focus.child(name))
    return value


def count_tokens(body: Mapping[str, Any]) -> int:
    """totalTokens for a countTokens body: `contents` (and `systemInstruction`), or a `generateContentRequest`."""
    inner = body.get("generateContentRequest") if isinstance(body, Mapping) else None
    return prompt_tokens(*read_contents(inner if isinstance(inner, Mapping) else body))


def _root_focus(schema: Schema) -> Focus:
    title = schema.resolve(schema.root).title
    return Focus(path=(title,)) if title and title != "Placeholder" else Focus()


def _walk(schema: Schema, node: Node, seen: set[int]) -> Iterator[str]:
    node = schema.resolve(node)
    if id(node) in seen:
        return
    seen.add(id(node))
    for name, child in node.properties:
        yield name
        yield from _walk(schema, child, seen)
    for part in (node.items, node.extra, *node.prefix, *node.any_of):
        if part is not None:
            yield from _walk(schema, part, seen)


def _property_words(schema: Schema | None) -> frozenset[str]:
    if schema is None:
        return frozenset()
    return frozenset(w for name in _walk(schema, schema.root, set()) for w in name_words(name))


def example_schema(text: str) -> Schema:
    """JSON asked for without a schema: the shape of the last JSON example in the prompt, if any, else
    {"response": "..."}."""
    examples: list[Any] = []
    for block in _FENCED.findall(text):
        try:
            examples.append(json.loads(block))
        except ValueError:
            continue
    if not examples:
        decoder = json.JSONDecoder()
        for match in re.finditer(r"[{\[]", text):
            try:
                value, _ = decoder.raw_decode(text, match.start())
            except ValueError:
                continue
            if isinstance(value, dict) and value:
                examples.append(value)
    shaped = [e for e in examples if isinstance(e, dict | list) and e]
    if shaped:
        return Schema(_shape(shaped[-1]))
    return Schema(Node(types=frozenset({"object"}), properties=(("response", Node(types=frozenset({"string"}))),)))


def _shape(value: Any) -> Node:
    if isinstance(value, dict):
        props = tuple((str(k), _shape(v)) for k, v in value.items())
        return Node(types=frozenset({"object"}), properties=props, required=frozenset(k for k, _ in props))
    if isinstance(value, list):
        return Node(types=frozenset({"array"}), items=_shape(value[0]) if value else Node(types=frozenset({"string"})))
    if isinstance(value, bool):
        return Node(types=frozenset({"boolean"}))
    if isinstance(value, int):
        return Node(types=frozenset({"integer"}))
    if isinstance(value, float):
        return Node(types=frozenset({"number"}))
    return Node(types=frozenset({"string"}))
