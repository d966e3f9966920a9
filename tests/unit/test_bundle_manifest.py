"""The Claude Desktop bundle's manifest (packaging/mcpb/manifest.json) and what the bundle carries
(scripts/mcpb_stage.py), checked in-process: one version, user_config keys that mcp_config uses,
defaults that mean "the server's default", no GPL dependency, only the bundle's files. The bundle
itself is built and run by scripts/check-bundle in .ci/run (docs/bundle.md)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import re
import shutil
import struct
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from packaging.requirements import Requirement

from mcp_server_todo.config import default_db_path, store_url_from
from mcp_server_todo.dates import zone
from mcp_server_todo.store import sqlite_url

REPO = Path(__file__).parents[2]
MANIFEST = REPO / "packaging" / "mcpb" / "manifest.json"


def script(name: str) -> ModuleType:
    """A module of scripts/ (they are not a package)."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses and exceptions look their module up
    spec.loader.exec_module(module)
    return module


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def package_version() -> str:
    version: str = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    return version


def test_every_file_carries_the_package_version() -> None:
    """The four places of docs/publishing.md's release list, and the installed metadata."""
    from mcp_server_todo import __version__

    server = json.loads((REPO / "server.json").read_text(encoding="utf-8"))
    carried = {
        "src/mcp_server_todo/__init__.py __version__": __version__,
        "packaging/mcpb/manifest.json version": manifest()["version"],
        "server.json version": server["version"],
        "server.json packages[0].version": server["packages"][0]["version"],
        "installed metadata (run scripts/bootstrap.sh)": importlib.metadata.version("mcp-server-todo"),
    }
    assert {where: version for where, version in carried.items() if version != package_version()} == {}


def test_staging_refuses_a_manifest_of_another_version(tmp_path: Path) -> None:
    stage = script("mcpb_stage")
    repo = tmp_path / "repo"
    (repo / "packaging" / "mcpb").mkdir(parents=True)
    shutil.copy2(REPO / "pyproject.toml", repo / "pyproject.toml")
    (repo / "packaging" / "mcpb" / "manifest.json").write_text(json.dumps({**manifest(), "version": "9.9.9"}))
    with pytest.raises(stage.StageError, match=r"version '9.9.9' but pyproject.toml has '" + package_version()):
        stage.stage(tmp_path / "out", repo)
    assert not (tmp_path / "out").exists()


def test_user_config_keys_are_the_ones_mcp_config_uses_and_each_has_a_default() -> None:
    loaded = manifest()
    used = set(re.findall(r"\$\{user_config\.([^}]+)\}", json.dumps(loaded["server"]["mcp_config"])))
    assert used == set(loaded["user_config"]) == {"time_zone", "data_folder", "tool_groups"}
    # without a default, an unset key would reach the server as the literal "${user_config.KEY}"
    assert all("default" in option for option in loaded["user_config"].values())
    assert loaded["server"]["mcp_config"]["env"] == {
        "TODO_TZ": "${user_config.time_zone}",
        "TODO_DB": "${user_config.data_folder}",
        "TODO_TOOLS": "${user_config.tool_groups}",
    }


def test_the_user_config_defaults_mean_the_servers_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """Claude Desktop passes a default as it is: "" for the zone and the task file must mean the
    computer's zone and the usual data file (the CLI's), not an error or a file named ""."""
    defaults = {key: option["default"] for key, option in manifest()["user_config"].items()}
    monkeypatch.delenv("TODO_TZ")
    system_zone = zone()
    monkeypatch.setenv("TODO_TZ", defaults["time_zone"])
    monkeypatch.setenv("TODO_DB", defaults["data_folder"])
    assert zone() == system_zone
    assert store_url_from(None) == sqlite_url(default_db_path())
    assert defaults["tool_groups"] == "core"


def test_the_staged_pyproject_keeps_the_build_and_drops_the_extras_and_tool_settings() -> None:
    ours = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    staged = tomllib.loads(script("mcpb_stage").bundle_pyproject((REPO / "pyproject.toml").read_text(encoding="utf-8")))
    assert staged["build-system"] == ours["build-system"]
    assert staged["project"] == {key: value for key, value in ours["project"].items() if key != "optional-dependencies"}
    assert set(staged["tool"]) == {"setuptools"} and staged["tool"]["setuptools"] == ours["tool"]["setuptools"]


def _closure(requirements: list[str]) -> dict[str, importlib.metadata.Distribution]:
    """The installed distributions `requirements` pull in on this platform, extras followed."""
    found: dict[str, importlib.metadata.Distribution] = {}
    walked: set[tuple[str, str]] = set()
    pending = [(Requirement(text), "") for text in requirements]  # with the extra its marker sees
    while pending:
        requirement, extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": extra}):
            continue
        dist = importlib.metadata.distribution(requirement.name)
        name = dist.metadata["Name"].lower()
        found[name] = dist
        for wanted in ["", *sorted(requirement.extras)]:
            if (name, wanted) not in walked:
                walked.add((name, wanted))
                pending.extend((Requirement(text), wanted) for text in dist.requires or [])
    return found


def test_what_the_bundle_installs_carries_no_gpl() -> None:
    staged = tomllib.loads(script("mcpb_stage").bundle_pyproject((REPO / "pyproject.toml").read_text(encoding="utf-8")))
    installed = _closure(staged["project"]["dependencies"])
    assert {"mcp", "pydantic", "platformdirs"} <= set(installed)
    assert "radicale" not in installed and "caldav" not in installed
    licensed = {
        name: " ".join(
            [dist.metadata.get("License-Expression") or "", dist.metadata.get("License") or ""]
            + [c for c in dist.metadata.get_all("Classifier") or [] if c.startswith("License")]
        )
        for name, dist in installed.items()
    }
    assert not {name: text for name, text in licensed.items() if "GPL" in text}, licensed


def test_staging_copies_only_the_bundles_files(tmp_path: Path) -> None:
    files = script("mcpb_stage").stage(tmp_path / "bundle")
    tops = {path.parts[0] for path in files}
    licenses = {path.name for path in REPO.glob("LICENSE*")}
    assert tops == {"manifest.json", "icon.png", "pyproject.toml", "README.md", "src", *licenses}
    package = REPO / "src" / "mcp_server_todo"
    wanted = {Path("src", "mcp_server_todo", p.relative_to(package)) for p in package.rglob("*.py")}
    assert wanted <= set(files) and len(wanted) > 50
    assert not [path for path in files if "__pycache__" in path.parts or path.suffix == ".pyc"]
    assert (tmp_path / "bundle" / "manifest.json").read_bytes() == MANIFEST.read_bytes()


def test_the_icon_is_a_512_pixel_square_png() -> None:
    data = (REPO / "packaging" / "mcpb" / manifest()["icon"]).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (512, 512)


def test_the_checks_substitution_is_the_reference_implementations() -> None:
    """scripts/check_bundle.py fills mcp_config in as @anthropic-ai/mcpb's replaceVariables:
    whole-item array values expand, values inside a string replace, unknown ones stay."""
    substitute = script("check_bundle").substitute
    variables: dict[str, str | list[str]] = {
        "__dirname": "/ext",
        "user_config.dirs": ["/a", "/b"],
        "user_config.tz": "",
    }
    config = {"args": ["${__dirname}/x", "${user_config.dirs}", "--tz=${user_config.tz}", "${user_config.nope}"]}
    assert substitute(config, variables) == {"args": ["/ext/x", "/a", "/b", "--tz=", "${user_config.nope}"]}
    assert substitute({"env": {"A": "${user_config.dirs}"}}, variables) == {"env": {"A": "${user_config.dirs}"}}


def test_the_readmes_hand_written_entry_sets_only_what_the_server_reads() -> None:
    """The README's "By hand" JSON parses, and its env names are among the bundle's variables."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"\*\*By hand\.\*\*.*?```json\n(.*?)```", readme, re.DOTALL)
    assert block is not None
    entry = json.loads(block.group(1))["mcpServers"]["todo"]
    assert entry["command"].endswith("/.venv/bin/mcp-server-todo") and entry["args"] == []
    assert set(entry["env"]) <= set(manifest()["server"]["mcp_config"]["env"])


def test_the_task_folder_is_a_directory_whose_todo_db_the_server_uses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claude Desktop's `file` picker needs an existing file: the setting is a folder, and the
    server takes a folder as the store for its todo.db (made at the first start)."""
    option = manifest()["user_config"]["data_folder"]
    assert option["type"] == "directory" and option["default"] == ""
    assert "synced" in option["description"] and "in a synced folder" not in option["description"]
    folder = tmp_path / "My Tasks"
    folder.mkdir()
    monkeypatch.setenv("TODO_DB", str(folder))
    assert store_url_from(None) == sqlite_url(folder / "todo.db")
    assert store_url_from(str(tmp_path / "a.db")) == sqlite_url(tmp_path / "a.db")


def test_the_tool_groups_setting_names_every_group() -> None:
    from mcp_server_todo.server.tools import tools

    described = manifest()["user_config"]["tool_groups"]["description"]
    assert {"core", "share"} <= set(tools.groups)
    assert all(re.search(rf"\b{name}\b", described) for name in tools.groups)
    assert "all (every group, sharing included)" in described


def test_a_packed_bundle_is_normalized_to_fixed_times(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two packs of the same files at different times give the same bytes; modes and order stay."""
    import zipfile

    normalize = script("mcpb_normalize")
    built = []
    for n, when in enumerate([(2026, 1, 2, 3, 4, 6), (2026, 12, 6, 20, 30, 0)]):
        bundle = tmp_path / f"b{n}.mcpb"
        with zipfile.ZipFile(bundle, "w") as archive:
            for name, mode in (("manifest.json", 0o664 if n else 0o644), ("src/run.sh", 0o775 if n else 0o755)):
                info = zipfile.ZipInfo(name, date_time=when)
                info.external_attr = mode << 16
                archive.writestr(info, f"{name} body", compress_type=zipfile.ZIP_DEFLATED)
        assert n == 0 or bundle.read_bytes() != built[0]
        monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")  # 2026-01-01 00:00 UTC
        assert normalize.main([str(bundle)]) == 0
        built.append(bundle.read_bytes())
    assert built[0] == built[1]
    with zipfile.ZipFile(tmp_path / "b1.mcpb") as archive:
        infos = archive.infolist()
        assert [(i.filename, i.external_attr >> 16, i.date_time) for i in infos] == [
            ("manifest.json", 0o644, (2026, 1, 1, 0, 0, 0)),
            ("src/run.sh", 0o755, (2026, 1, 1, 0, 0, 0)),
        ]
        assert archive.read("src/run.sh") == b"src/run.sh body"
