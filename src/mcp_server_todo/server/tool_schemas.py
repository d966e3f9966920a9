"""Smaller JSON Schemas for tool definitions: every conversation pays for tools/list.

Pydantic's schemas carry a "title" on every property, `"default": null`, `anyOf` with a
null branch and `$defs` for one-line enums. The same constraints fit in far fewer bytes:
titles go, an optional argument's `{"anyOf": [{"type": "string"}, {"type": "null"}]}`
becomes `{"type": "string"}` (omitting it means "not given"; the server still accepts an
explicit null; results leave null fields out), and small `$defs` are inlined.
"""

from __future__ import annotations

from typing import Any

_DROP = {"title"}


def compact(schema: dict[str, Any], *, output: bool = False) -> dict[str, Any]:
    """`output=True` keeps only types and required fields: no defaults, descriptions or enums
    (results leave null fields out, which the schema allows: they are not required)."""
    defs: dict[str, Any] = schema.get("$defs", {})
    result = _walk({k: v for k, v in schema.items() if k != "$defs"}, defs, output=output)
    assert isinstance(result, dict)
    if output:
        result.pop("description", None)
    return result


def _walk(node: Any, defs: dict[str, Any], *, output: bool = False) -> Any:
    if isinstance(node, list):
        return [_walk(item, defs, output=output) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and len(node) <= 2:
        name = node["$ref"].rsplit("/", 1)[-1]
        if name in defs:
            merged = {**defs[name], **{k: v for k, v in node.items() if k != "$ref"}}
            return _walk(merged, defs, output=output)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROP and not (key == "title" and isinstance(value, dict)):
            continue
        if output and key in ("enum", "description") and not isinstance(value, dict):
            continue  # results: types are enough; the tool's description says what it returns
        if key == "default" and (value is None or output or isinstance(value, bool | int | str)):
            continue  # documented in the description where it matters; omitting an argument means default
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _walk(sub, defs, output=output) for name, sub in value.items()}
        else:
            out[key] = _walk(value, defs, output=output)
    any_of = out.get("anyOf")
    if isinstance(any_of, list) and len(any_of) == 2 and {"type": "null"} in any_of:
        other = next(branch for branch in any_of if branch != {"type": "null"})
        del out["anyOf"]
        # an optional argument: leaving it out means "not given"; a result field that would be
        # null is left out of the result (exclude_none); either way no null branch is needed
        return {**other, **out}
    return out
