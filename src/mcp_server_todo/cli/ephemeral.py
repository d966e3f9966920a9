"""Ephemeral environments: `uvx --from . mcp-server-todo install ...` runs from an environment in
uv's cache (`<cache>/archive-v0/<id>`), `pipx run` from one in pipx's (`<cache>/<hash>`). An entry
pointing there breaks when the cache is cleaned. `durable_launch` writes instead the command that
recreates the environment on demand, `uvx --from SOURCE mcp-server-todo` or `pipx run --spec
SOURCE mcp-server-todo`, with SOURCE read from the installed distribution's PEP 610
`direct_url.json` (a local folder or wheel, a VCS URL) or, without one, the version from the
package index. When SOURCE or the tool cannot be found, it keeps the current path and warns.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlparse
from urllib.request import url2pathname

from .launch import SCRIPT_NAME, Launch, Runtime, is_executable, local_launch

Kind = Literal["uv", "pipx"]

_UV_BUCKET = re.compile(r"(archive|builds|environments)-v\d+")
_PIPX_ENV = re.compile(r"[0-9a-f]{15}")
_EXTRAS = {"postgres": "psycopg", "caldav": "radicale"}
"""An extra of ours, and the distribution whose presence in the environment shows it was asked for."""
_LASTING = "uv tool install /path/to/mcp-server-todo (or: pipx install /path/to/mcp-server-todo)"


def _home(runtime: Runtime) -> Path:
    return Path(runtime.environ.get("HOME") or runtime.environ.get("USERPROFILE") or Path.home())


def uv_cache_roots(runtime: Runtime) -> list[Path]:
    """Where uv keeps its cache: $UV_CACHE_DIR, the XDG place (Linux, macOS), macOS's Caches
    folder, Windows' %LOCALAPPDATA%\\uv\\cache."""
    env, home = runtime.environ, _home(runtime)
    roots = [Path(env["UV_CACHE_DIR"])] if env.get("UV_CACHE_DIR") else []
    roots.append(Path(env["XDG_CACHE_HOME"]) / "uv" if env.get("XDG_CACHE_HOME") else home / ".cache" / "uv")
    roots.append(home / "Library" / "Caches" / "uv")
    if env.get("LOCALAPPDATA"):
        roots.append(Path(env["LOCALAPPDATA"]) / "uv" / "cache")
    return roots


def pipx_cache_roots(runtime: Runtime) -> list[Path]:
    """Where `pipx run` keeps its environments: $PIPX_HOME/.cache, the legacy homes' .cache,
    else the platform cache folder (pipx's paths.py: `venv_cache`)."""
    env, home = runtime.environ, _home(runtime)
    roots = [Path(env["PIPX_HOME"]) / ".cache"] if env.get("PIPX_HOME") else []
    legacy = (home / ".local" / "pipx", home / "pipx", home / ".local" / "share" / "pipx")
    roots += [folder / ".cache" for folder in legacy]
    roots.append(Path(env["XDG_CACHE_HOME"]) / "pipx" if env.get("XDG_CACHE_HOME") else home / ".cache" / "pipx")
    roots.append(home / "Library" / "Caches" / "pipx")
    if env.get("LOCALAPPDATA"):
        roots.append(Path(env["LOCALAPPDATA"]) / "pipx" / "Cache")
    return roots


def ephemeral_kind(runtime: Runtime) -> Kind | None:
    """ "uv" or "pipx" when this environment lives in that tool's cache, else None."""
    prefix = runtime.prefix
    bucket, root = prefix.parent, prefix.parent.parent
    if _UV_BUCKET.fullmatch(bucket.name) and (root in uv_cache_roots(runtime) or (root / "CACHEDIR.TAG").is_file()):
        return "uv"
    if _PIPX_ENV.fullmatch(prefix.name) and bucket in pipx_cache_roots(runtime):
        return "pipx"
    return None


# -- what the environment was installed from -------------------------------------------------


def _site_packages(prefix: Path) -> list[Path]:
    return [*sorted(prefix.glob("lib/python3*/site-packages")), prefix / "Lib" / "site-packages"]


def _dist_info(prefix: Path, project: str) -> Path | None:
    """The `project-VERSION.dist-info` folder in the environment (names compared lowercased:
    older installers kept the project's own case, `Radicale-3.9.0.dist-info`)."""
    start = f"{project.lower()}-"
    for site in _site_packages(prefix):
        if site.is_dir():
            found = sorted(p for p in site.iterdir() if p.name.lower().startswith(start) and p.suffix == ".dist-info")
            if found:
                return found[0]
    return None


def _file_path(url: str) -> Path:
    parsed = urlparse(url)
    return Path(url2pathname(unquote(parsed.path)))


def _url_source(info: dict[str, Any]) -> str | None:
    """PEP 610: a VCS URL as `git+URL@REV`, a local folder or file as its path (if it is still
    there), a remote archive as its URL; None when it cannot be installed from again."""
    url = info.get("url")
    if not isinstance(url, str):
        return None
    subdirectory = info.get("subdirectory")
    fragment = f"#subdirectory={subdirectory}" if isinstance(subdirectory, str) and subdirectory else ""
    vcs = info.get("vcs_info")
    if isinstance(vcs, dict) and isinstance(vcs.get("vcs"), str):
        revision = vcs.get("requested_revision")
        return f"{vcs['vcs']}+{url}" + (f"@{revision}" if isinstance(revision, str) and revision else "") + fragment
    if url.startswith("file:"):  # a folder's subdirectory is a folder too (a monorepo checkout)
        path = _file_path(url) / subdirectory if isinstance(subdirectory, str) and subdirectory else _file_path(url)
        return str(path) if path.exists() else None
    return url + fragment


def install_source(prefix: Path, add: tuple[str, ...] = ()) -> str | None:
    """What to give `uvx --from` / `pipx run --spec` to get this environment's mcp-server-todo
    again, with the extras it has (psycopg present: [postgres]) and those in `add`; None when
    it is unknown."""
    dist = _dist_info(prefix, "mcp_server_todo")
    if dist is None:
        return None
    extras = [extra for extra, needs in _EXTRAS.items() if extra in add or _dist_info(prefix, needs) is not None]
    named = SCRIPT_NAME + (f"[{','.join(extras)}]" if extras else "")
    direct = dist / "direct_url.json"
    if not direct.is_file():  # installed from a package index: that version again
        version = dist.name.removesuffix(".dist-info").partition("-")[2]
        return f"{named}=={version}"
    try:
        info = json.loads(direct.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    source = _url_source(info) if isinstance(info, dict) else None
    if source is None or not extras:
        return source
    as_url = Path(source).as_uri() if Path(source).is_absolute() else source
    return f"{named} @ {as_url}"


# -- the durable command -----------------------------------------------------------------------


def _uv_tool(runtime: Runtime) -> list[str] | None:
    """`uvx`, absolute: next to the uv that runs us ($UV), else on PATH; else `$UV tool run`."""
    uv = runtime.environ.get("UV")
    if uv and Path(uv).is_absolute():
        uvx = Path(uv).with_name("uvx" + Path(uv).suffix)
        if is_executable(uvx):
            return [str(uvx)]
    found = runtime.which("uvx")
    if found is not None:
        return [str(found)]
    if uv and Path(uv).is_absolute() and is_executable(Path(uv)):
        return [uv, "tool", "run"]
    return None


def durable_launch(runtime: Runtime, env: dict[str, str]) -> Launch | None:
    """None outside an ephemeral environment; inside one, the uvx/pipx command that outlives the
    cache, or the current path with a warning when that command cannot be made."""
    kind = ephemeral_kind(runtime)
    if kind is None:
        return None
    source = install_source(runtime.prefix)
    if kind == "uv":
        tool, flag, tool_name = _uv_tool(runtime), "--from", "uvx"
    else:
        pipx = runtime.which("pipx")
        tool, flag, tool_name = ([str(pipx), "run"] if pipx else None), "--spec", "pipx"
    if source is not None and tool is not None:
        return Launch(tool[0], [*tool[1:], flag, source, SCRIPT_NAME], env, note=_network_note(kind, source))
    why = "what it was installed from is unknown" if source is None else f"{tool_name} is not on PATH"
    warning = (
        f"this runs from a temporary {kind} environment ({runtime.prefix}) and {why}: the entry points "
        f"into {kind}'s cache and will stop working when that cache is cleaned. For a lasting entry, "
        f"run: {_LASTING}, then run this install command again with the installed mcp-server-todo."
    )
    local = local_launch(runtime, env)
    return Launch(local.command, local.args, local.env, warning)


def _network_note(kind: Kind, source: str) -> str:
    """What a uvx / pipx run entry needs at start-up, and the install that starts offline."""
    if kind == "uv":
        needs = "uvx checks the package index each time the client starts the server: offline, it does not start"
    else:
        needs = "pipx run rebuilds its environment from the network when its cache expires (14 days)"
    return (
        f"this entry runs {'uvx' if kind == 'uv' else 'pipx run'}, and {needs}. For an entry that starts "
        f"offline, install the server for good: uv tool install '{source}' (or pipx install '{source}'), "
        "then run this install command with the installed mcp-server-todo (it writes its own path)."
    )


# -- the PostgreSQL driver ---------------------------------------------------------------------


def _has_psycopg(runtime: Runtime) -> bool:
    if runtime.prefix == Path(sys.prefix).absolute():
        return all(importlib.util.find_spec(name) is not None for name in ("psycopg", "psycopg_pool"))
    return _dist_info(runtime.prefix, "psycopg") is not None


def postgres_install_hint(runtime: Runtime) -> str | None:
    """None when this environment has psycopg; else the command that gives an mcp-server-todo
    with the [postgres] extra, in the form this one was installed with."""
    if _has_psycopg(runtime):
        return None
    prefix = runtime.prefix
    source = install_source(prefix, add=("postgres",))
    spec = f"'{source}'" if source else "'/path/to/mcp-server-todo[postgres]'"
    kind = ephemeral_kind(runtime)
    if kind == "uv":
        return f"uvx --from {spec} {SCRIPT_NAME} install ..."
    if kind == "pipx":
        return f"pipx run --spec {spec} {SCRIPT_NAME} install ..."
    if (prefix / "uv-receipt.toml").is_file():
        return f"uv tool install --force {spec}"
    if (prefix / "pipx_metadata.json").is_file():
        return f"pipx install --force {spec}"
    return f"{runtime.executable} -m pip install {spec} (or: pipx install --force {spec})"
