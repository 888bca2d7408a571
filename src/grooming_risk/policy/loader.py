"""Read policy YAML, merge base -> country -> platform overrides, and explain bad files in one line.

Merge semantics (also in `configs/policy/README.md`), applied file by file:

* `remove: [ids]` first drops those ids; an id that is not there is ignored, because one platform
  override is meant to work on top of every country file, and a failed removal leaves an action
  shown rather than hidden.
* then each entry of `rules`: a known id is replaced in place (it keeps its position, so a country
  file can swap the international helpline for its own without reordering), a new id is appended.

A country with no file gets the international defaults only: the defaults are written to be
valid everywhere, and refusing to score because a country has no file would help nobody.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from grooming_risk.policy.schema import Policy, PolicyFile, Rule

DEFAULT_POLICY = Path("configs/policy/default.yaml")
COUNTRIES_DIR = "countries"

# ISO 3166-1 reserves "UK" for the United Kingdom (its code is GB); people type it, so honour it
# rather than silently falling back to the international defaults.
_COUNTRY_ALIASES = {"UK": "GB"}
_COUNTRY_RE = re.compile(r"^[A-Za-z]{2}$")


class PolicyError(ValueError):
    """A policy file is missing or invalid. The message is one line: `file: field: what was expected`."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys: YAML keeps the last one, which hides a mistake."""


def _no_duplicate_keys(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicate_keys)


def normalize_country(country: str) -> str:
    """Upper-case ISO 3166-1 alpha-2 code; raises PolicyError for anything that is not two letters."""
    code = country.strip()
    if not _COUNTRY_RE.fullmatch(code):
        raise PolicyError(f"country {country!r}: expected an ISO 3166-1 alpha-2 code such as GB or US")
    code = code.upper()
    return _COUNTRY_ALIASES.get(code, code)


def country_file(country: str, base: Path | None = None) -> Path:
    """Where a country's file lives: `countries/<cc>.yaml` next to the base policy."""
    return (base or DEFAULT_POLICY).parent / COUNTRIES_DIR / f"{normalize_country(country).lower()}.yaml"


def available_countries(base: Path | None = None) -> tuple[str, ...]:
    """Countries with their own file next to the base policy, upper case, sorted."""
    folder = (base or DEFAULT_POLICY).parent / COUNTRIES_DIR
    return tuple(sorted(p.stem.upper() for p in folder.glob("*.yaml") if _COUNTRY_RE.fullmatch(p.stem)))


def read_policy_file(path: Path) -> PolicyFile:
    """Parse and validate one file on its own (no merge rules checked)."""
    raw = _read_yaml(path)
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_describe(path, exc, raw)) from None
    seen: dict[str, int] = {}
    for index, rule in enumerate(parsed.rules):
        if rule.id in seen:
            raise PolicyError(
                f"{path}: rules[{index}].id: expected a unique id, {rule.id!r} is already rules[{seen[rule.id]}]"
            )
        seen[rule.id] = index
    return parsed


def load_policy(
    path: Path | None = None, *, country: str | None = None, overrides: Sequence[Path] = ()
) -> Policy:
    """The base policy (the shipped default unless `path`), then the country's file, then overrides.

    `country` is ISO 3166-1 alpha-2, any case ("UK" is read as GB); a country without a file under
    `countries/` next to the base gets the international defaults only. Overrides are applied in
    order. Raises PolicyError with a one-line message naming the file and the field.
    """
    base = path or DEFAULT_POLICY
    code = normalize_country(country) if country is not None else None
    layers: list[tuple[Path, str]] = [(base, "base")]
    if code is not None:
        candidate = country_file(code, base)
        if candidate.is_file():
            layers.append((candidate, "country"))
    layers.extend((Path(p), "override") for p in overrides)

    rules: dict[str, Rule] = {}  # insertion order is file order
    for file, role in layers:
        layer = read_policy_file(file)
        _check_role(file, role, layer, code)
        for rule_id in layer.remove:
            rules.pop(rule_id, None)
        for rule in layer.rules:
            # Assigning to an existing key keeps its position: replacement in place.
            rules[rule.id] = rule
    return Policy(rules=tuple(rules.values()), country=code, files=tuple(str(f) for f, _ in layers))


def _check_role(file: Path, role: str, layer: PolicyFile, code: str | None) -> None:
    if role == "country":
        if layer.country is None or layer.country.upper() != code:
            raise PolicyError(f"{file}: country: expected {code!r} (the file's name), got {layer.country!r}")
        return
    if layer.country is not None:
        raise PolicyError(f"{file}: country: expected only in a country file ({COUNTRIES_DIR}/<cc>.yaml)")
    if role == "base":
        if layer.remove:
            raise PolicyError(
                f"{file}: remove: expected no removals in the base policy (nothing to remove yet)"
            )
        if not layer.rules:
            raise PolicyError(f"{file}: rules: expected at least one rule in the base policy")


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        hint = " (the shipped policy is read relative to the repo root)" if path == DEFAULT_POLICY else ""
        raise PolicyError(f"{path}: file not found{hint}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: cannot read: {type(exc).__name__}") from None
    try:
        # _StrictLoader is a SafeLoader: plain data only, no arbitrary Python objects.
        raw = yaml.load(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: {_yaml_problem(exc)}") from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise PolicyError(
            f"{path}: (top level): expected a mapping with rules / remove, got {type(raw).__name__}"
        )
    return raw


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        return f"{where}invalid YAML: {problem}"
    return "invalid YAML"


def _describe(path: Path, exc: ValidationError, raw: Any) -> str:
    errors = exc.errors(include_url=False, include_input=False)
    first = errors[0]
    message = f"{path}: {_field_path(first['loc'], raw)}: {_expected(first, raw)}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more)"
    return message


def _field_path(loc: tuple[int | str, ...], raw: Any) -> str:
    """`rules[2].when.labels[0]` from pydantic's loc, following the raw YAML.

    A single `when:` mapping is validated as a one-item list; its index is not shown, because the
    file has no list there.
    """
    out = ""
    node = raw
    for part in loc:
        if isinstance(part, int):
            if isinstance(node, list):
                out += f"[{part}]"
                node = node[part] if 0 <= part < len(node) else None
            continue
        out += f".{part}" if out else str(part)
        node = node.get(part) if isinstance(node, dict) else None
    return out or "(top level)"


def _expected(error: Any, raw: Any) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind.startswith("policy_"):
        return str(error["msg"])
    if kind in {"literal_error", "enum"}:
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", ""))) or [str(ctx.get("expected"))]
        return f"expected one of {', '.join(choices)}"
    if kind == "extra_forbidden":
        allowed = _allowed_keys(error["loc"][:-1])
        return f"unknown key; expected one of {', '.join(allowed)}" if allowed else "unknown key"
    if kind == "missing":
        return "required key missing"
    msg = str(error["msg"])
    return "expected " + msg.removeprefix("Input should be ") if msg.startswith("Input should be ") else msg


def _allowed_keys(loc: tuple[int | str, ...]) -> list[str]:
    """The keys of the record at `loc`, found by walking PolicyFile's annotations."""
    annotation: Any = PolicyFile
    for part in loc:
        annotation = _record_or_list(annotation)
        if isinstance(part, int):
            args = get_args(annotation)
            annotation = args[0] if get_origin(annotation) in (list, tuple) and args else None
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(part)
            annotation = field.annotation if field is not None else None
        else:
            return []
    annotation = _record_or_list(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def _record_or_list(annotation: Any) -> Any:
    """Strip `X | None` so the walk sees the record or list type."""
    if get_origin(annotation) in (Union, UnionType):
        return next((a for a in get_args(annotation) if a is not type(None)), annotation)
    return annotation
