"""A tiny phrase grammar: `[a|b|]` picks one alternative (possibly empty), `{slot}` fills a value.

Hand-written banks stay short and readable while each line expands to many phrasings:
"how old [are you|r u] [again|btw|]" is six messages, not one. Templates are parsed once and
cached; rendering is a walk over the parsed tree with the caller's `random.Random`, so output
depends only on the seed.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Slot:
    name: str


@dataclass(frozen=True)
class Alt:
    options: tuple[tuple[Node, ...], ...]


Node = str | Slot | Alt
Parsed = tuple[Node, ...]
SlotFiller = Callable[[str], str]

_SPACES = re.compile(r"[ \t]{2,}")
_SPACE_BEFORE_PUNCT = re.compile(r" +([,.!?:;])")
_SLOT_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class TemplateError(ValueError):
    """A phrase-bank line that does not parse; the message quotes the line (bank text, not data)."""


def _parse_seq(template: str, pos: int, depth: int) -> tuple[list[Node], int]:
    nodes: list[Node] = []
    literal: list[str] = []
    while pos < len(template):
        ch = template[pos]
        if ch in "|]":
            if depth == 0:
                raise TemplateError(f"unexpected {ch!r} at column {pos} in template {template!r}")
            break
        if ch == "[":
            if literal:
                nodes.append("".join(literal))
                literal = []
            alt, pos = _parse_alt(template, pos + 1, depth + 1)
            nodes.append(alt)
            continue
        if ch == "{":
            end = template.find("}", pos)
            if end < 0:
                raise TemplateError(f"unclosed '{{' at column {pos} in template {template!r}")
            name = template[pos + 1 : end]
            if not _SLOT_NAME.match(name):
                raise TemplateError(f"bad slot name {name!r} in template {template!r}")
            if literal:
                nodes.append("".join(literal))
                literal = []
            nodes.append(Slot(name))
            pos = end + 1
            continue
        if ch == "}":
            raise TemplateError(f"unexpected '}}' at column {pos} in template {template!r}")
        literal.append(ch)
        pos += 1
    if literal:
        nodes.append("".join(literal))
    return nodes, pos


def _parse_alt(template: str, pos: int, depth: int) -> tuple[Alt, int]:
    options: list[tuple[Node, ...]] = []
    while True:
        seq, pos = _parse_seq(template, pos, depth)
        options.append(tuple(seq))
        if pos >= len(template):
            raise TemplateError(f"unclosed '[' in template {template!r}")
        if template[pos] == "]":
            return Alt(tuple(options)), pos + 1
        pos += 1  # skip '|'


@cache
def parse(template: str) -> Parsed:
    """Parse one template; raises TemplateError naming the template when it is malformed."""
    nodes, _ = _parse_seq(template, 0, 0)
    return tuple(nodes)


def _render_into(nodes: Parsed, rng: random.Random, fill: SlotFiller, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, Slot):
            out.append(fill(node.name))
        else:
            _render_into(node.options[int(rng.random() * len(node.options))], rng, fill, out)


def tidy(text: str) -> str:
    """Collapse the double spaces and stray spaces before punctuation that empty options leave."""
    text = _SPACES.sub(" ", text)
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text.strip(" ,")


def render(template: str, rng: random.Random, fill: SlotFiller) -> str:
    out: list[str] = []
    _render_into(parse(template), rng, fill, out)
    return tidy("".join(out))


def _count(nodes: Parsed) -> int:
    total = 1
    for node in nodes:
        if isinstance(node, Alt):
            total *= sum(_count(option) for option in node.options)
    return total


def count_variants(template: str) -> int:
    """How many phrasings the template expands to before slots are filled."""
    return _count(parse(template))


def slot_names(template: str) -> set[str]:
    names: set[str] = set()

    def walk(nodes: Parsed) -> None:
        for node in nodes:
            if isinstance(node, Slot):
                names.add(node.name)
            elif isinstance(node, Alt):
                for option in node.options:
                    walk(option)

    walk(parse(template))
    return names


def expand_all(template: str, limit: int = 10_000) -> list[str]:
    """Every phrasing with slots left as `{name}` (for bank scans); stops after `limit`."""

    def expand(nodes: Parsed) -> list[str]:
        results = [""]
        for node in nodes:
            if isinstance(node, str):
                parts = [node]
            elif isinstance(node, Slot):
                parts = ["{" + node.name + "}"]
            else:
                parts = [text for option in node.options for text in expand(option)]
            results = [a + b for a in results for b in parts][:limit]
        return results

    return [tidy(text) for text in expand(parse(template))]
