"""The scenario YAML reference, generated from the pydantic models' JSON schema.

``bess-twin scenario-reference`` writes it to ``docs/scenario-reference.md``; a
test fails when the committed file differs from what the models generate, so
every key (with its type, default, bounds and unit) is documented and stays in
sync with the code.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from pydantic import BaseModel

_HEADER = """# Scenario reference

Generated from the pydantic models (`Scenario.model_json_schema()`) by
`bess-twin scenario-reference`; do not edit by hand. Units are in square
brackets at the end of each description; `soc` values are fractions in [0, 1].
Paths may use `${VAR}` (an unset variable is an error, exit code 2); secrets
are never written in a scenario: keys ending in `_env` name the environment
variable that holds one.
"""


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        return f"[{_ref_name(prop['$ref'])}](#{_ref_name(prop['$ref']).lower()})"
    if "oneOf" in prop:
        return " \\| ".join(_type_of(p) for p in prop["oneOf"])
    if "anyOf" in prop:
        return " \\| ".join(_type_of(p) for p in prop["anyOf"])
    if "enum" in prop:
        return " \\| ".join(f"`{json.dumps(v)}`" for v in prop["enum"])
    if "const" in prop:
        return f"`{json.dumps(prop['const'])}`"
    kind = prop.get("type", "any")
    if kind == "array":
        return f"list of {_type_of(prop.get('items', {}))}"
    if kind == "object" and isinstance(prop.get("additionalProperties"), dict):
        return f"mapping to {_type_of(prop['additionalProperties'])}"
    fmt = prop.get("format")
    return f"{kind} ({fmt})" if fmt else str(kind)


def _bounds(prop: dict[str, Any]) -> str:
    marks = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<",
             "minLength": "length >=", "maxLength": "length <=", "minItems": "items >=",
             "pattern": "matches"}
    parts = [f"{sign} `{prop[key]}`" for key, sign in marks.items() if key in prop]
    for option in prop.get("anyOf", []):
        inner = _bounds(option)
        if inner:
            parts.append(inner)
    return ", ".join(parts)


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _first_paragraph(text: str) -> str:
    return _cell(text.strip().split("\n\n", 1)[0])


def attribute_docs(docstring: str) -> dict[str, str]:
    """Descriptions of the numpydoc ``Attributes`` section of a model's docstring.

    Parameters
    ----------
    docstring : str
        The class docstring (the JSON schema's ``description``).

    Returns
    -------
    dict of str to str
        Attribute name to its description; ``a, b : float`` documents both.
    """
    lines = inspect.cleandoc(docstring).splitlines()
    out: dict[str, str] = {}
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == "Attributes") + 2
    except StopIteration:
        return out
    names: list[str] = []
    for line in lines[start:]:
        if line.strip() and set(line.strip()) == {"-"}:
            break  # the next numpydoc section
        if line and not line.startswith(" ") and " : " in line:
            names = [n.strip() for n in line.split(" : ", 1)[0].split(",")]
            for name in names:
                out[name] = ""
        elif line.startswith(" ") and names:
            for name in names:
                out[name] = f"{out[name]} {line.strip()}".strip()
        elif line.strip() and not line.startswith(" "):
            break
    return out


def render_reference(model: type[BaseModel]) -> str:
    """Markdown reference of every key of ``model`` and the models it nests.

    Parameters
    ----------
    model : type of pydantic.BaseModel
        The root model, usually :class:`twin.config.Scenario`.

    Returns
    -------
    str
        Markdown: one section per model, each with a table of key, type,
        default, bounds and description.
    """
    schema = model.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})
    sections = [(schema.get("title", model.__name__), schema)]
    sections += sorted(defs.items())
    lines = [_HEADER]
    for name, block in sections:
        lines.append(f"## {name}\n")
        if block.get("description"):
            lines.append(_first_paragraph(block["description"]) + "\n")
        required = set(block.get("required", []))
        documented = attribute_docs(block.get("description", ""))
        lines.append("| key | type | default | bounds | description |")
        lines.append("|---|---|---|---|---|")
        for key, prop in block.get("properties", {}).items():
            if key in required:
                default = "*required*"
            elif "default" in prop:
                default = f"`{json.dumps(prop['default'], ensure_ascii=False)}`"
            else:
                default = "its defaults" if "$ref" in prop else "empty"
            lines.append(
                f"| `{key}` | {_type_of(prop)} | {default} | {_bounds(prop)} | "
                f"{_cell(prop.get('description') or documented.get(key, ''))} |"
            )
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
