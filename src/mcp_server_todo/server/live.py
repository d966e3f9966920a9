"""Live resources: watch the store for changes, from any process, and tell subscribers.

One path for every change. A watcher started in the server's lifespan polls the change log
(`last_change_id`/`changes_since`: one indexed query) every `POLL_SECONDS`, and right away
after each tools/call of this process, so a change made here, by the CLI, or by another
server on the same database reaches subscribers well within a second, exactly once: the
cursor lives on `Live` (one per server), so several lifespans of one server (the in-memory
test client enters one per connection) never publish a change twice.

What a change publishes (`affected`):

- notifications/resources/updated for todo://tasks/{id} of the task (and of its parent, whose
  subtask count moved), todo://tasks/pending when the task was or is pending,
  todo://today when it was or is pending with a due day up to today, todo://projects when a
  project's pending or done count moved; at midnight (in the user's zone) todo://today and
  todo://tasks/pending, whose relative due dates shift. Not covered: a dependent task's
  "blocked" flag when its dependency changes (todo://tasks/pending is still updated).
- notifications/resources/list_changed when the set resources/list shows changes: it lists
  one entry per pending task (resources.py), so a task becoming or leaving pending, or a
  pending task's new title, changes it.

Delivery, per protocol generation:

- 2026-07-28: events go to the server's `SubscriptionBus` (`MCPServer(subscriptions=bus)`),
  which the SDK's `subscriptions/listen` handler filters per stream.
- 2025-11-25 handshake (Claude Desktop, the Inspector): MCPServer registers neither
  resources/subscribe nor logging/setLevel. `MethodBinding` (the SDK's Extension seam) refuses
  spec methods by design and its docstring points to the low-level
  `Server.add_request_handler` for re-providing them, which also makes the initialize result
  advertise `resources.subscribe` and `logging`. We register them there (reached through
  sdk.lowlevel). Subscriptions are kept per connection (sdk.connection: the per-request
  ServerSession hides it) and dropped by the connection's exit_stack when it closes.
  `resources.listChanged` comes from NotificationOptions, which the transports build
  themselves, so the middleware (`MCPServer(middleware=...)`, public) sets it on the
  initialize result.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.subscriptions import InMemorySubscriptionBus, ResourcesListChanged, ResourceUpdated
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from .. import sdk
from ..model import Change, Status, Task
from ..service import TodoService
from .base import offload
from .resources import PENDING, PROJECTS, TASK_PREFIX, TODAY, VIEWS, listed_tasks, task_uri

log = logging.getLogger(__name__)

POLL_SECONDS = 0.2
BATCH = 500
LOG_LEVEL_KEY = "todo.log_level"

_BY_SERVER: weakref.WeakKeyDictionary[MCPServer[Any], Live] = weakref.WeakKeyDictionary()


def live_of(server: MCPServer[Any]) -> Live:
    """The live state of a server built by build_server (for tests and diagnostics)."""
    return _BY_SERVER[server]


def affected(change: Change, today: str) -> tuple[set[str], bool]:
    """The resource URIs one change touches, and whether it changes the listed set."""
    before, after = change.before, change.after
    uris = {task_uri(change.task_id)}
    uris |= {task_uri(t.parent_id) for t in (before, after) if t is not None and t.parent_id is not None}
    pending = [t for t in (before, after) if t is not None and t.status is Status.pending]
    if pending:
        uris.add(PENDING)
    if any(t.due is not None and t.due[:10] <= today for t in pending):
        uris.add(TODAY)
    if _counted(before) != _counted(after):
        uris.add(PROJECTS)
    listed = [_listed(before), _listed(after)]
    return uris, listed[0] != listed[1]


def _since(cursor: int, service: TodoService) -> list[Change]:
    return service.changes_since(cursor, BATCH)


def _counted(task: Task | None) -> tuple[str, Status] | None:
    """Where a task counts in todo://projects (pending and done tasks do)."""
    return (task.project, task.status) if task is not None and task.status is not Status.deleted else None


def _listed(task: Task | None) -> str | None:
    """What resources/list shows of a task (None: not listed)."""
    return task.title if task is not None and task.status is Status.pending else None


def _known(uri: str) -> bool:
    if uri in VIEWS:
        return True
    rest = uri.removeprefix(TASK_PREFIX)
    return rest != uri and rest.isascii() and rest.isdigit()


class Live:
    """Per-server live state: the subscription bus, the change cursor, the handshake-era
    subscriptions, and the services of the running lifespans."""

    def __init__(self) -> None:
        self.bus = InMemorySubscriptionBus()
        self._services: list[TodoService] = []
        self._cursor = 0
        self._day = ""
        self._wakers: set[anyio.Event] = set()
        self._handshake: dict[Connection, set[str]] = {}

    @property
    def service(self) -> TodoService:
        """The service of the running server (for readers that get no Context)."""
        if not self._services:
            raise RuntimeError("the todo server is not running (its lifespan has not started)")
        return self._services[-1]

    @property
    def handshake_connections(self) -> int:
        """How many handshake-era connections are open (closed ones are dropped)."""
        return len(self._handshake)

    # -- lifecycle ----------------------------------------------------------------------

    def install(self, server: MCPServer[Any]) -> None:
        """Serve resources/subscribe, resources/unsubscribe and logging/setLevel to handshake clients."""
        _BY_SERVER[server] = self
        low = sdk.lowlevel(server)
        low.add_request_handler("resources/subscribe", SubscribeRequestParams, self._subscribe)
        low.add_request_handler("resources/unsubscribe", UnsubscribeRequestParams, self._unsubscribe)
        low.add_request_handler("logging/setLevel", SetLevelRequestParams, self._set_level)

    @asynccontextmanager
    async def running(self, service: TodoService) -> AsyncIterator[None]:
        """Watch the store while the lifespan runs."""
        self._services.append(service)
        try:
            async with anyio.create_task_group() as tg:
                await tg.start(self._watch, service)
                try:
                    yield
                finally:
                    tg.cancel_scope.cancel()
        finally:
            self._services.remove(service)

    def poke(self) -> None:
        """Look for changes now (after a tool call of this process) instead of at the next tick."""
        for waker in self._wakers:
            waker.set()

    async def _watch(self, service: TodoService, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        self._cursor = max(self._cursor, await offload(service, lambda s: s.last_change_id()))
        self._day = self._day or service.today().isoformat()
        task_status.started()
        while True:
            waker = anyio.Event()
            self._wakers.add(waker)
            with anyio.move_on_after(POLL_SECONDS):
                await waker.wait()
            self._wakers.discard(waker)
            try:
                await self.tick(service)
            except Exception:
                log.warning("could not read the change log; retrying", exc_info=True)
                await anyio.sleep(1)

    async def tick(self, service: TodoService) -> None:
        """Publish what changed since the cursor."""
        uris: set[str] = set()
        list_changed = False
        today = service.today().isoformat()
        while True:
            changes = await offload(service, partial(_since, self._cursor))
            fresh = [c for c in changes if c.id > self._cursor]  # another lifespan may have published them
            if fresh:
                self._cursor = fresh[-1].id
            for change in fresh:
                touched, listed = affected(change, today)
                uris |= touched
                list_changed |= listed
            if len(changes) < BATCH:
                break
        if today != self._day:
            self._day = today
            uris |= {TODAY, PENDING}
        if uris or list_changed:
            await self.publish(sorted(uris), list_changed)

    async def publish(self, uris: list[str], list_changed: bool) -> None:
        for uri in uris:
            await self.bus.publish(ResourceUpdated(uri=uri))
        if list_changed:
            await self.bus.publish(ResourcesListChanged())
        for conn, subscribed in list(self._handshake.items()):
            try:
                for uri in uris:
                    if uri in subscribed:
                        await conn.send_resource_updated(uri)
                if list_changed:
                    await conn.send_resource_list_changed()
            except Exception:
                log.info("dropping a connection that cannot take notifications", exc_info=True)
                self._handshake.pop(conn, None)

    # -- handshake-era connections --------------------------------------------------------

    def _track(self, session: ServerSession) -> set[str]:
        conn = sdk.connection(session)
        if not conn.has_standalone_channel:
            return set()  # stateless HTTP: nothing can be sent outside a request
        subscribed = self._handshake.get(conn)
        if subscribed is None:
            subscribed = self._handshake[conn] = set()
            conn.exit_stack.callback(self._handshake.pop, conn, None)
        return subscribed

    async def _subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        if not _known(params.uri):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"no resource {params.uri}; subscribe to {', '.join(VIEWS)} or todo://tasks/ID",
            )
        self._track(ctx.session).add(params.uri)
        return EmptyResult()

    async def _unsubscribe(self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        self._track(ctx.session).discard(params.uri)
        return EmptyResult()

    async def _set_level(self, ctx: ServerRequestContext[Any, Any], params: SetLevelRequestParams) -> EmptyResult:
        # Accepted and remembered per connection; this server sends no log notifications yet.
        sdk.connection(ctx.session).state[LOG_LEVEL_KEY] = params.level
        return EmptyResult()

    # -- middleware -------------------------------------------------------------------

    async def middleware(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        """Advertise resources.listChanged to handshake clients, know their connections (for
        list_changed), add the pending tasks to resources/list, and look for changes right
        after each tool call."""
        result = await call_next(ctx)
        handshake = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
        if handshake:
            self._track(ctx.session)
        if ctx.method == "tools/call":
            self.poke()
        elif ctx.method == "initialize" and isinstance(result, dict):
            resources = result.get("capabilities", {}).get("resources")
            if isinstance(resources, dict):
                resources["listChanged"] = True
        elif ctx.method == "resources/list" and isinstance(result, dict):
            service = ctx.lifespan_context.for_request()
            result["resources"] = [*result.get("resources", []), *await offload(service, listed_tasks)]
        return result
