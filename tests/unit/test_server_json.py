"""server.json, the MCP Registry entry: valid against the registry's published schema (vendored in
schemas/, byte for byte), the package's version, the same variables the bundle sets, and the
`mcp-name:` line in the README that the registry reads to verify the PyPI package is ours."""

from __future__ import annotations

import copy
import hashlib
import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jsonschema

REPO = Path(__file__).parents[2]
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


def load(relative: str) -> Any:
    return json.loads((REPO / relative).read_text(encoding="utf-8"))


def errors(document: dict[str, Any]) -> list[str]:
    """What the vendored schema says is wrong with `document` (formats checked too)."""
    validator = jsonschema.Draft7Validator(
        load("schemas/server.schema.json"), format_checker=jsonschema.FormatChecker()
    )
    return [f"{'/'.join(map(str, error.absolute_path))}: {error.message}" for error in validator.iter_errors(document)]


def test_server_json_is_valid_against_the_registrys_schema() -> None:
    server = load("server.json")
    assert server["$schema"] == SCHEMA_URL == load("schemas/server.schema.json")["$id"]
    assert errors(server) == []


def test_the_schema_check_catches_a_broken_entry() -> None:
    broken = copy.deepcopy(load("server.json"))
    broken["name"] = "no-slash"
    broken["packages"][0]["version"] = "latest"
    del broken["packages"][0]["transport"]
    found = "\n".join(errors(broken))
    assert "name:" in found and "packages/0:" in found and "'transport' is a required property" in found


def test_the_vendored_schema_is_the_published_one_unedited() -> None:
    recorded = re.search(r"sha256\s+`([0-9a-f]{64})`", (REPO / "schemas" / "README.md").read_text(encoding="utf-8"))
    assert recorded is not None
    assert hashlib.sha256((REPO / "schemas" / "server.schema.json").read_bytes()).hexdigest() == recorded.group(1)


def test_server_json_carries_the_package_version_and_name() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    server = load("server.json")
    assert server["version"] == project["version"]
    (pypi,) = [package for package in server["packages"] if package["registryType"] == "pypi"]
    assert (pypi["identifier"], pypi["version"], pypi["transport"]) == (
        project["name"],
        project["version"],
        {"type": "stdio"},
    )


def test_server_json_names_the_variables_the_bundle_sets() -> None:
    (pypi,) = load("server.json")["packages"]
    bundle_env = load("packaging/mcpb/manifest.json")["server"]["mcp_config"]["env"]
    assert [variable["name"] for variable in pypi["environmentVariables"]] == list(bundle_env)
    assert not any(variable.get("isRequired") for variable in pypi["environmentVariables"])


def test_the_readme_names_the_registry_entry() -> None:
    """The registry's PyPI ownership check looks for `mcp-name: NAME` in the package's README
    (an HTML comment, so it is not shown)."""
    name = load("server.json")["name"]
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"<!-- mcp-name: {name} -->" in readme
    first_screen = "\n".join(readme.splitlines()[:20])
    assert "mcp-name" not in first_screen
