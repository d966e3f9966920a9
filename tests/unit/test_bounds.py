"""Bounds on what one request may cost (issue 11, point 1): a search query is capped in
characters and words, the error names the limit, and the largest query allowed answers
fast on a store of 100,000 tasks, on both backends."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC

import pytest
from mcp import Client
from support.mcp import refused as error

from mcp_server_todo.errors import InvalidInput
from mcp_server_todo.model import QUERY_MAX, QUERY_TERMS_MAX, Task
from mcp_server_todo.service import TodoService
from mcp_server_todo.store import Store
from mcp_server_todo.store.pg_search import ts_query
from mcp_server_todo.store.sqlite_sql import fts_query

_PHONETIC = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa"
WORDS = _PHONETIC.split()
BIG = 100_000


def many_tasks(count: int) -> Iterator[Task]:
    at = "2026-11-25T12:00:00Z"
    for i in range(1, count + 1):
        words = " ".join(WORDS[(i * k) % len(WORDS)] for k in (1, 3, 7))
        yield Task(
            id=i, title=f"{words} task {i}", notes=f"note {i} about {WORDS[i % 16]}", created_at=at, updated_at=at
        )


def fill(store: Store, count: int) -> None:
    with store.write() as tx:
        tx.reserve_ids(count)
        tx.put_many(list(many_tasks(count)))


_PG_FILL = """
INSERT INTO tasks (owner, id, uid, title, notes, status, project, created_at, updated_at, search)
SELECT 'local', i, md5(i::text), t.title, t.notes, 'pending', 'p' || i %% 1000, %(at)s, %(at)s,
       array_to_tsvector(ARRAY(SELECT DISTINCT unnest(string_to_array(t.title || ' ' || t.notes, ' '))))
FROM generate_series(1, %(count)s) AS i,
     LATERAL (SELECT %(w)s::text[] AS w) AS words,
     LATERAL (SELECT w[1 + i %% 16] || ' ' || w[1 + i * 3 %% 16] || ' ' || w[1 + i * 7 %% 16] || ' task ' || i AS title,
                     'note ' || i || ' about ' || w[1 + i %% 16] AS notes) AS t
"""


def fill_postgres(store: Store, count: int) -> None:
    """The same tasks as `many_tasks`, in one statement (a task at a time takes 5 minutes), in
    1,000 projects: the per-project count trigger rewrites one row per insert, and 100,000
    rewrites of one row in one transaction take minutes."""
    with store.write() as tx:
        tx.reserve_ids(count)
        conn = tx.conn  # type: ignore[attr-defined]
        conn.execute(_PG_FILL, {"at": "2026-11-25T12:00:00Z", "count": count, "w": WORDS})


@pytest.fixture(scope="module")
def full_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    from mcp_server_todo.store import open_store, sqlite_url

    store = open_store(sqlite_url(tmp_path_factory.mktemp("big") / "big.db"))
    fill(store, BIG)
    yield store
    store.close()


# -- the caps --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("a " * 100_000, f"query is 200,000 characters; the limit is {QUERY_MAX}"),
        ("a" * (QUERY_MAX + 1), f"query is 501 characters; the limit is {QUERY_MAX}"),
        (" ".join(["ab"] * (QUERY_TERMS_MAX + 1)), f"query has 33 words; the limit is {QUERY_TERMS_MAX}"),
        ("_".join(["ab"] * (QUERY_TERMS_MAX + 1)), "query has 33 words"),  # both backends split at "_"
    ],
)
def test_a_query_over_the_limits_is_refused_naming_the_limit(backend: Store, query: str, message: str) -> None:
    service = TodoService(backend, tz=UTC)
    started = time.perf_counter()
    with pytest.raises(InvalidInput) as caught:
        service.list_tasks(query=query)
    assert message in str(caught.value)
    assert time.perf_counter() - started < 0.5


def test_a_query_at_the_limits_is_accepted(backend: Store) -> None:
    service = TodoService(backend, tz=UTC)
    service.add("alpha bravo")
    words = " ".join(["alpha"] + ["bravo"] * (QUERY_TERMS_MAX - 1))
    assert len(service.list_tasks(query=words).items) == 1
    padded = words + " " * (QUERY_MAX - len(words))
    assert len(padded) == QUERY_MAX and len(service.list_tasks(query=padded).items) == 1


def test_words_are_counted_as_the_backends_split_them(backend: Store) -> None:
    service = TodoService(backend, tz=UTC)
    service.add("नमस्ते दुनिया")
    words = " ".join(["नमस्ते"] * QUERY_TERMS_MAX)  # one word each, marks and all: at the limit
    assert len(words) < QUERY_MAX and len(service.list_tasks(query=words).items) == 1


def test_repeated_words_and_prefixes_of_other_words_are_searched_once() -> None:
    assert fts_query("t ta task Task x t") == '"task"* "x"*'
    assert ts_query("t ta task Task x t") == "'task':* & 'x':*"


@pytest.mark.anyio
@pytest.mark.parametrize("args", [{"query": "a " * 100_000}, {"query": "w " * 40}])
async def test_the_tool_names_the_limit(client: Client, args: dict[str, str]) -> None:
    message = await error(client, "list_items", args)
    assert "the limit is" in message and "query" in message and "Traceback" not in message
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert "max 32 words, 500 chars" in tools["list_items"].input_schema["properties"]["query"]["description"]


# -- the cost of the largest query allowed ---------------------------------------------------

# Every word matches: the first three match every one of the 100,000 tasks, the rest a few.
MAXIMAL = " ".join(["task", "note", "about", *WORDS, *[str(n) for n in range(1, QUERY_TERMS_MAX - 18)]])


def largest_allowed_query_answers_fast(store: Store) -> None:
    assert len(MAXIMAL.split()) == QUERY_TERMS_MAX
    service = TodoService(store, tz=UTC)
    for query in (MAXIMAL, "t " * QUERY_TERMS_MAX, "task note about alpha"):
        started = time.perf_counter()
        page = service.list_tasks(query=query, limit=50)
        elapsed = time.perf_counter() - started
        assert page.total >= 0
        assert elapsed < 2.0, f"{query[:30]!r}: {elapsed:.2f} s on {BIG} tasks"  # 0.12 s here
    assert service.list_tasks(query="t").total == BIG


@pytest.mark.stress  # a 100,000-task store
def test_the_largest_query_allowed_is_fast_on_sqlite(full_sqlite: Store) -> None:
    largest_allowed_query_answers_fast(full_sqlite)


@pytest.mark.postgres
@pytest.mark.stress  # a 100,000-task store
def test_the_largest_query_allowed_is_fast_on_postgresql(postgres_url: str) -> None:
    from support import pg

    from mcp_server_todo.store import open_store

    with pg.schema_url(postgres_url) as url:
        store = open_store(url)
        try:
            fill_postgres(store, BIG)
            largest_allowed_query_answers_fast(store)
        finally:
            store.close()
