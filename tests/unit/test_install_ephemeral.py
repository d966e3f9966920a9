"""`install` run from a temporary environment (`uvx --from . mcp-server-todo install ...`, `pipx run`)
writes a command that outlives the cache (`uvx --from SOURCE mcp-server-todo`), SOURCE read from the
environment's PEP 610 direct_url.json; when it cannot, it keeps the path and warns on stderr.

Each test builds a fake environment tree where uv or pipx would put it, and hands `install_client`
a `Runtime` whose interpreter is in it (the seam `sys.executable`/`sys.prefix` come through)."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from mcp_server_todo.cli.install import install_client
from mcp_server_todo.cli.launch import Runtime


def executable(path: Path, text: str = "#!/bin/sh\nexit 0\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def fake_env(prefix: Path, direct_url: dict[str, Any] | None, *, extras: tuple[str, ...] = ()) -> Path:
    """A venv-shaped folder holding mcp-server-todo 0.1.0 (and `extras` distributions)."""
    executable(prefix / "bin" / "python")
    executable(prefix / "bin" / "mcp-server-todo")
    site = prefix / "lib" / "python3.11" / "site-packages"
    dist = site / "mcp_server_todo-0.1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Name: mcp-server-todo\nVersion: 0.1.0\n", encoding="utf-8")
    if direct_url is not None:
        (dist / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")
    for name in extras:
        (site / f"{name}-3.3.0.dist-info").mkdir()
    return prefix


def runtime(prefix: Path, **environ: str) -> Runtime:
    return Runtime(prefix / "bin" / "python", prefix, environ)


@pytest.fixture
def clone(tmp_path: Path) -> Path:
    folder = tmp_path / "src" / "mcp-server-todo"
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text("[project]\nname = 'mcp-server-todo'\n", encoding="utf-8")
    return folder


@pytest.fixture
def uv_bin(tmp_path: Path) -> Path:
    """Where uv and uvx are installed (uv sets $UV to the first for the programs it runs)."""
    executable(tmp_path / "uv-bin" / "uvx")
    return executable(tmp_path / "uv-bin" / "uv")


def install(
    capsys: pytest.CaptureFixture[str], config: Path, where: Runtime, **options: Any
) -> tuple[int, dict[str, Any], str]:
    code = install_client(
        "claude-desktop", config=str(config), name="todo", print_only=False, runtime=where, **{"db": None, **options}
    )
    _, err = capsys.readouterr()
    entry = json.loads(config.read_text(encoding="utf-8"))["mcpServers"]["todo"] if config.exists() else {}
    return code, entry, err


UV_LAYOUTS = {
    # name: (the cache folder relative to tmp_path, the variables that make uv use it)
    "xdg-default": ("home/.cache/uv", {}),
    "xdg-cache-home": ("xdg/uv", {"XDG_CACHE_HOME": "xdg"}),
    "uv-cache-dir": ("elsewhere/my-uv-cache", {"UV_CACHE_DIR": "elsewhere/my-uv-cache"}),
    "macos": ("home/Library/Caches/uv", {}),
    "windows": ("AppData/Local/uv/cache", {"LOCALAPPDATA": "AppData/Local"}),
}


@pytest.mark.parametrize("layout", list(UV_LAYOUTS))
def test_a_uv_cache_environment_gets_a_durable_uvx_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path, layout: str
) -> None:
    cache, variables = UV_LAYOUTS[layout]
    prefix = fake_env(tmp_path / cache / "archive-v0" / "7504MGs8d2DGBfTh", {"url": clone.as_uri(), "dir_info": {}})
    environ = {"HOME": str(tmp_path / "home"), "UV": str(uv_bin), "PATH": ""}
    environ.update({key: str(tmp_path / value) for key, value in variables.items()})
    config = tmp_path / "claude_desktop_config.json"
    code, entry, err = install(capsys, config, runtime(prefix, **environ), tz="Europe/Paris", tools="core,view")
    assert code == 0 and err.startswith("Note: this entry runs uvx")
    # uvx asks the index at each start: said, with the installs that start offline
    assert "offline, it does not start" in err and f"uv tool install '{clone}'" in err
    assert entry == {
        "command": str(uv_bin.with_name("uvx")),
        "args": ["--from", str(clone), "mcp-server-todo"],
        "env": {"TODO_TZ": "Europe/Paris", "TODO_TOOLS": "core,view"},
    }
    assert str(prefix) not in config.read_text(encoding="utf-8")


def test_any_uv_cache_is_known_by_its_cachedir_tag_and_uvx_is_found_on_path(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path
) -> None:
    root = tmp_path / "some" / "cache"
    prefix = fake_env(root / "archive-v0" / "abc", {"url": clone.as_uri(), "dir_info": {"editable": True}})
    (root / "CACHEDIR.TAG").write_text("Signature: 8a477f597d28d172789f06886806bc55\n", encoding="utf-8")
    where = runtime(prefix, HOME=str(tmp_path / "home"), PATH=str(uv_bin.parent))
    code, entry, _ = install(capsys, tmp_path / "c.json", where)
    assert code == 0
    assert entry["command"] == str(uv_bin.with_name("uvx")) and entry["args"][:2] == ["--from", str(clone)]


@pytest.mark.parametrize(
    ("direct_url", "extras", "source"),
    [
        (
            {"url": "https://github.com/OWNER/mcp-server-todo.git", "vcs_info": {"vcs": "git", "commit_id": "a1b2"}},
            (),
            "git+https://github.com/OWNER/mcp-server-todo.git",
        ),
        (
            {
                "url": "https://github.com/OWNER/mcp-server-todo",
                "vcs_info": {"vcs": "git", "requested_revision": "v0.1.0", "commit_id": "a1b2"},
            },
            ("psycopg",),
            "mcp-server-todo[postgres] @ git+https://github.com/OWNER/mcp-server-todo@v0.1.0",
        ),
        (None, (), "mcp-server-todo==0.1.0"),
        (None, ("psycopg", "Radicale"), "mcp-server-todo[postgres,caldav]==0.1.0"),
        ({"url": "https://example.org/mcp_server_todo-0.1.0-py3-none-any.whl", "archive_info": {}}, (), None),
    ],
    ids=["git", "git-revision-extras", "index", "index-extras", "remote-wheel"],
)
def test_the_source_is_what_the_environment_was_installed_from(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    uv_bin: Path,
    direct_url: dict[str, Any] | None,
    extras: tuple[str, ...],
    source: str | None,
) -> None:
    prefix = fake_env(tmp_path / "home" / ".cache" / "uv" / "archive-v0" / "x1", direct_url, extras=extras)
    where = runtime(prefix, HOME=str(tmp_path / "home"), UV=str(uv_bin))
    code, entry, _ = install(capsys, tmp_path / "c.json", where)
    assert code == 0
    expected = source or str((direct_url or {}).get("url"))
    assert entry["args"] == ["--from", expected, "mcp-server-todo"]


def test_a_local_sources_subdirectory_is_kept(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path
) -> None:
    (clone / "server").mkdir()
    prefix = fake_env(
        tmp_path / "home" / ".cache" / "uv" / "archive-v0" / "x1",
        {"url": clone.as_uri(), "dir_info": {}, "subdirectory": "server"},
    )
    code, entry, _ = install(capsys, tmp_path / "c.json", runtime(prefix, HOME=str(tmp_path / "home"), UV=str(uv_bin)))
    assert code == 0
    assert entry["args"] == ["--from", str(clone / "server"), "mcp-server-todo"]


def test_a_local_source_with_extras_is_a_file_url(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path
) -> None:
    prefix = fake_env(
        tmp_path / "home" / ".cache" / "uv" / "archive-v0" / "x1",
        {"url": clone.as_uri(), "dir_info": {}},
        extras=("psycopg",),
    )
    code, entry, _ = install(capsys, tmp_path / "c.json", runtime(prefix, HOME=str(tmp_path / "home"), UV=str(uv_bin)))
    assert code == 0
    assert entry["args"] == ["--from", f"mcp-server-todo[postgres] @ {clone.as_uri()}", "mcp-server-todo"]


def test_a_source_that_is_gone_keeps_the_path_and_warns(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, uv_bin: Path
) -> None:
    gone = tmp_path / "deleted-clone"
    prefix = fake_env(tmp_path / "home" / ".cache" / "uv" / "archive-v0" / "x1", {"url": gone.as_uri(), "dir_info": {}})
    code, entry, err = install(
        capsys, tmp_path / "c.json", runtime(prefix, HOME=str(tmp_path / "home"), UV=str(uv_bin))
    )
    assert code == 0
    assert entry["command"] == str(prefix / "bin" / "mcp-server-todo")
    assert err.startswith("WARNING: ") and "will stop working when that cache is cleaned" in err
    assert "what it was installed from is unknown" in err and "pipx install" in err


def test_without_uvx_it_keeps_the_path_and_says_so(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path
) -> None:
    prefix = fake_env(
        tmp_path / "home" / ".cache" / "uv" / "archive-v0" / "x1", {"url": clone.as_uri(), "dir_info": {}}
    )
    code, entry, err = install(capsys, tmp_path / "c.json", runtime(prefix, HOME=str(tmp_path / "home"), PATH=""))
    assert code == 0
    assert entry["command"] == str(prefix / "bin" / "mcp-server-todo")
    assert "uvx is not on PATH" in err


@pytest.mark.parametrize("pipx_home", [True, False], ids=["PIPX_HOME", "platform-cache"])
def test_a_pipx_run_environment_gets_a_pipx_run_command(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, pipx_home: bool
) -> None:
    home = tmp_path / "home"
    cache = tmp_path / "pipx-home" / ".cache" if pipx_home else home / ".cache" / "pipx"
    prefix = fake_env(cache / "0123456789abcde", {"url": clone.as_uri(), "dir_info": {}})
    pipx = executable(tmp_path / "bin" / "pipx")
    environ = {"HOME": str(home), "PATH": str(pipx.parent)}
    if pipx_home:
        environ["PIPX_HOME"] = str(tmp_path / "pipx-home")
    code, entry, err = install(capsys, tmp_path / "c.json", runtime(prefix, **environ))
    assert code == 0 and err.startswith("Note: this entry runs pipx run") and "(14 days)" in err
    assert entry == {"command": str(pipx), "args": ["run", "--spec", str(clone), "mcp-server-todo"]}


def test_an_ordinary_environment_keeps_its_console_script(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path
) -> None:
    prefix = fake_env(tmp_path / "home" / "venvs" / "todo", {"url": clone.as_uri(), "dir_info": {}})
    code, entry, err = install(
        capsys, tmp_path / "c.json", runtime(prefix, HOME=str(tmp_path / "home"), UV=str(uv_bin))
    )
    assert code == 0 and err == ""
    assert entry == {"command": str(prefix / "bin" / "mcp-server-todo"), "args": []}


@pytest.mark.parametrize("tool", ["uv", "pipx"])
def test_a_uv_tool_or_pipx_install_is_durable_and_writes_its_own_script(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path, tool: str
) -> None:
    """`uv tool install PATH` (~/.local/share/uv/tools/NAME, uv-receipt.toml) and `pipx install PATH`
    (~/.local/share/pipx/venvs/NAME): the entry is the tool environment's script, which starts offline."""
    home = tmp_path / "home"
    where = home / ".local" / "share" / ("uv/tools" if tool == "uv" else "pipx/venvs") / "mcp-server-todo"
    prefix = fake_env(where, {"url": clone.as_uri(), "dir_info": {}})
    (prefix / ("uv-receipt.toml" if tool == "uv" else "pipx_metadata.json")).write_text("", encoding="utf-8")
    code, entry, err = install(capsys, tmp_path / "c.json", runtime(prefix, HOME=str(home), UV=str(uv_bin)))
    assert code == 0 and err == ""
    assert entry == {"command": str(prefix / "bin" / "mcp-server-todo"), "args": []}


@pytest.mark.parametrize("kind", ["uvx", "uv-tool", "venv"])
def test_a_postgresql_db_without_psycopg_is_refused_with_the_install_that_adds_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, clone: Path, uv_bin: Path, kind: str
) -> None:
    home = tmp_path / "home"
    folders = {
        "uvx": home / ".cache" / "uv" / "archive-v0" / "x1",
        "uv-tool": home / ".local" / "share" / "uv" / "tools" / "mcp-server-todo",
        "venv": tmp_path / "venv",
    }
    prefix = fake_env(folders[kind], {"url": clone.as_uri(), "dir_info": {}})
    if kind == "uv-tool":
        (prefix / "uv-receipt.toml").write_text("", encoding="utf-8")
    config = tmp_path / "c.json"
    where = runtime(prefix, HOME=str(home), UV=str(uv_bin), PATH="")
    code, _, err = install(capsys, config, where, db="postgresql://todo@db.example/todo")
    assert code == 1 and not config.exists()
    assert "needs the psycopg driver" in err and "Nothing was changed." in err
    spec = f"'mcp-server-todo[postgres] @ {clone.as_uri()}'"
    expected = {
        "uvx": f"uvx --from {spec} mcp-server-todo install",
        "uv-tool": f"uv tool install --force {spec}",
        "venv": f"{prefix / 'bin' / 'python'} -m pip install {spec}",
    }
    assert expected[kind] in err
    fake_env(tmp_path / "with-driver", {"url": clone.as_uri(), "dir_info": {}}, extras=("psycopg",))
    code, entry, _ = install(capsys, config, runtime(tmp_path / "with-driver"), db="postgresql://todo@db.example/todo")
    assert code == 0 and entry["env"] == {"TODO_DB": "postgresql://todo@db.example/todo"}
