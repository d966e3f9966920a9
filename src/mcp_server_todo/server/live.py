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

Owners. Every change belongs to one owner (server/context.py): the local user over stdio, the
token's principal over HTTP. A subscriber hears only the changes of the owner it subscribed as
(the owner of the request that opened the subscription), whoever made them: another of its own
sessions, the CLI for the local user, another replica. The watcher keeps one cursor per owner
and polls only the owners that have subscribers; an owner's cursor is set to its latest change
when its first subscriber arrives, so it hears what follows (and a server nobody listens to
reads nothing).

Delivery, per protocol generation:

- 2026-07-28: events go to the server's `SubscriptionBus` (`MCPServer(subscriptions=bus)`),
  which the SDK's `subscriptions/listen` handler filters per stream. Ours (`OwnerBus`) also
  routes by owner: a listener belongs to the owner of the listen request that registered it.
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
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

import anyio
import anyio.lowlevel
from mcp.server.connection import Connection
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.session import ServerSession
from mcp.server.subscriptions import ResourcesListChanged, ResourceUpdated, ServerEvent
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    EmptyResult,
    SetLevelRequestParams,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from ..errors import TodoError
from ..model import Change, Status, Task
from ..service import TodoService
from . import sdk_seams as sdk
from .context import owner_of_request
from .offload import offload
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


class OwnerBus:
    """The `SubscriptionBus` of 2026-07-28 listen streams, routing events by owner: a listener
    belongs to the owner of the request that subscribed it (`subscribe` runs inside the listen
    request), and an event goes to its owner's listeners only. Delivery is synchronous and
    in-process, like the SDK's InMemorySubscriptionBus."""

    def __init__(self) -> None:
        self._listeners: dict[object, tuple[str, Callable[[ServerEvent], None]]] = {}

    def subscribe(self, listener: Callable[[ServerEvent], None]) -> Callable[[], None]:
        key = object()
        self._listeners[key] = (owner_of_request(), listener)

        def unsubscribe() -> None:
            self._listeners.pop(key, None)

        return unsubscribe

    async def publish(self, event: ServerEvent) -> None:
        """The SDK's seam (`ctx.notify_*`): to the listeners of the current request's owner."""
        await self.publish_to(owner_of_request(), event)

    async def publish_to(self, owner: str, event: ServerEvent) -> None:
        for listener_owner, listener in list(self._listeners.values()):
            if listener_owner != owner:
                continue
            try:
                listener(event)
            except Exception:  # one bad listener must not starve the others
                log.exception("subscription listener raised; continuing")
        await anyio.lowlevel.checkpoint()

    def owners(self) -> set[str]:
        return {owner for owner, _ in self._listeners.values()}


class _Subscriber:
    """A handshake-era connection: whose it is and the URIs it subscribed to."""

    __slots__ = ("owner", "uris")

    def __init__(self, owner: str) -> None:
        self.owner = owner
        self.uris: set[str] = set()


class Live:
    """Per-server live state: the subscription bus, the change cursors (one per owner), the
    handshake-era subscriptions, and the services of the running lifespans."""

    def __init__(self) -> None:
        self.bus = OwnerBus()
        self._services: list[TodoService] = []
        self._owner_services: dict[str, TodoService] = {}
        self._cursors: dict[str, int] = {}
        self._day = ""
        self._wakers: set[anyio.Event] = set()
        self._handshake: dict[Connection, _Subscriber] = {}

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

    def _service_for(self, base: TodoService, owner: str) -> TodoService:
        if owner == base.owner:
            return base
        found = self._owner_services.get(owner)
        if found is None or found.store is not base.store:
            found = self._owner_services[owner] = TodoService(base.store, owner=owner, tz=base.tz)
        return found

    def _waiting_for_updates(self) -> bool:
        """Someone subscribed to a resource (not only to list changes, which the next tick
        delivers within POLL_SECONDS): worth a look right after a tool call."""
        return bool(self.bus.owners()) or any(sub.uris for sub in self._handshake.values())

    def _listening(self) -> set[str]:
        """The owners someone listens for."""
        return self.bus.owners() | {sub.owner for sub in self._handshake.values()}

    async def ensure(self, owner: str) -> None:
        """Start watching `owner` from its latest change, unless someone already listens for it
        (then its cursor is current). Called before a subscription is registered."""
        if owner in self._cursors and owner in self._listening():
            return
        if not self._services:
            return  # not running: the watcher starts every cursor itself
        service = self._service_for(self._services[-1], owner)
        latest = await offload(service, lambda s: s.last_change_id())
        self._cursors[owner] = max(self._cursors.get(owner, 0), latest)

    async def _watch(self, service: TodoService, *, task_status: anyio.abc.TaskStatus[None]) -> None:
        latest = await offload(service, lambda s: s.last_change_id())
        self._cursors[service.owner] = max(self._cursors.get(service.owner, 0), latest)
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
            except TodoError as exc:  # a storage fault: its one line says it all
                log.warning("could not read the change log (%s); retrying", exc)
                await anyio.sleep(1)
            except Exception:
                log.warning("could not read the change log; retrying", exc_info=True)
                await anyio.sleep(1)

    async def tick(self, service: TodoService) -> None:
        """Publish, to each owner's subscribers, what changed for that owner since its cursor."""
        today = service.today().isoformat()
        midnight = today != self._day
        self._day = today
        for owner in sorted(self._listening()):  # nobody listening: nothing to read
            if owner not in self._cursors:
                await self.ensure(owner)
                continue
            uris, list_changed = await self._changes(self._service_for(service, owner), today)
            if midnight:
                uris |= {TODAY, PENDING}
            if uris or list_changed:
                await self.publish(sorted(uris), list_changed, owner=owner)

    async def _changes(self, service: TodoService, today: str) -> tuple[set[str], bool]:
        owner = service.owner
        uris: set[str] = set()
        list_changed = False
        while True:
            changes = await offload(service, partial(_since, self._cursors[owner]))
            fresh = [c for c in changes if c.id > self._cursors[owner]]  # another lifespan may have published them
            if fresh:
                self._cursors[owner] = fresh[-1].id
            for change in fresh:
                touched, listed = affected(change, today)
                uris |= touched
                list_changed |= listed
            if len(changes) < BATCH:
                return uris, list_changed

    async def publish(self, uris: list[str], list_changed: bool, *, owner: str) -> None:
        """Tell `owner`'s subscribers (and no one else's)."""
        for uri in uris:
            await self.bus.publish_to(owner, ResourceUpdated(uri=uri))
        if list_changed:
            await self.bus.publish_to(owner, ResourcesListChanged())
        for conn, subscriber in list(self._handshake.items()):
            if subscriber.owner != owner:
                continue
            try:
                for uri in uris:
                    if uri in subscriber.uris:
                        await conn.send_resource_updated(uri)
                if list_changed:
                    await conn.send_resource_list_changed()
            except Exception:
                log.info("dropping a connection that cannot take notifications", exc_info=True)
                self._handshake.pop(conn, None)

    # -- handshake-era connections --------------------------------------------------------

    async def _track(self, session: ServerSession) -> set[str]:
        """The subscribed URIs of the request's connection, which is registered (with the
        request's owner) the first time it is seen."""
        conn = sdk.connection(session)
        if not conn.has_standalone_channel:
            return set()  # stateless HTTP: nothing can be sent outside a request
        subscriber = self._handshake.get(conn)
        if subscriber is None:
            owner = owner_of_request()
            await self.ensure(owner)
            subscriber = self._handshake.get(conn)
            if subscriber is None:
                subscriber = self._handshake[conn] = _Subscriber(owner)
                conn.exit_stack.callback(self._handshake.pop, conn, None)
        return subscriber.uris

    async def _subscribe(self, ctx: ServerRequestContext[Any, Any], params: SubscribeRequestParams) -> EmptyResult:
        if not _known(params.uri):
            raise MCPError(
                code=INVALID_PARAMS,
                message=f"no resource {params.uri}; subscribe to {', '.join(VIEWS)} or todo://tasks/ID",
            )
        (await self._track(ctx.session)).add(params.uri)
        return EmptyResult()

    async def _unsubscribe(self, ctx: ServerRequestContext[Any, Any], params: UnsubscribeRequestParams) -> EmptyResult:
        (await self._track(ctx.session)).discard(params.uri)
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
        if ctx.method == "subscriptions/listen":
            await self.ensure(owner_of_request())  # before the SDK's handler registers the stream
        result = await call_next(ctx)
        handshake = ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS
        if handshake:
            await self._track(ctx.session)
        if ctx.method == "tools/call" and self._waiting_for_updates():
            self.poke()
        elif ctx.method == "initialize" and isinstance(result, dict):
            resources = result.get("capabilities", {}).get("resources")
            if isinstance(resources, dict):
                resources["listChanged"] = True
        elif ctx.method == "resources/list" and isinstance(result, dict):
            service = ctx.lifespan_context.for_request()
            result["resources"] = [*result.get("resources", []), *await offload(service, listed_tasks, heavy=True)]
        return result
