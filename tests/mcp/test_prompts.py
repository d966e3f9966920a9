"""The prompts pull the tasks they are about into the message, in both protocol generations;
completion offers project names, tags and task ids."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from mcp import Client
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, TextContent
from support.mcp import add

pytestmark = pytest.mark.anyio


async def prompt(client: Client, name: str, arguments: dict[str, str] | None = None) -> str:
    result = await client.get_prompt(name, arguments or {})
    assert len(result.messages) == 1 and result.messages[0].role == "user"
    content = result.messages[0].content
    assert isinstance(content, TextContent)
    return content.text


def day(offset: int) -> str:
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


async def test_prompts_are_listed_with_their_arguments(client: Client) -> None:
    prompts = {p.name: p for p in (await client.list_prompts()).prompts}
    assert set(prompts) == {"plan_my_day", "weekly_review", "triage_inbox"}
    for p in prompts.values():
        assert p.description and p.title
        assert p.arguments is not None and all(not a.required and a.description for a in p.arguments)
    assert [a.name for a in prompts["plan_my_day"].arguments or []] == ["project", "tag"]


async def test_plan_my_day_has_overdue_today_and_high_priority(client: Client) -> None:
    late = await add(client, title="Renew passport", due=day(-3))
    today = await add(client, title="Dentist", due=day(0))
    high = await add(client, title="Ship release", priority="high")
    later = await add(client, title="Plan holiday", due=day(20))
    text = await prompt(client, "plan_my_day")
    assert text.startswith("Help me plan my day")
    assert f"#{late} Renew passport" in text.split("## Overdue")[1].split("##")[0]
    assert f"#{today} Dentist" in text.split("## Due today")[1].split("##")[0]
    assert f"#{high} Ship release | high" in text.split("## High priority")[1].split("##")[0]
    assert f"#{later} Plan holiday" in text  # among the next by urgency
    assert "(4 pending in all" in text


async def test_plan_my_day_filters_by_project_and_tag(client: Client) -> None:
    await add(client, title="Home thing", due=day(0))
    work = await add(client, title="Work thing", due=day(0), project="work", tags=["deep"])
    text = await prompt(client, "plan_my_day", {"project": "work", "tag": "deep"})
    assert f"#{work} Work thing" in text and "Home thing" not in text
    assert "in project work and tag #deep" in text
    empty = await prompt(client, "plan_my_day", {"project": "", "tag": ""})  # clients send "" for unset
    assert "Home thing" in empty


async def test_plan_my_day_on_an_empty_list(client: Client) -> None:
    assert "Nothing is pending" in await prompt(client, "plan_my_day")


async def test_weekly_review_has_done_this_week_and_pending(client: Client) -> None:
    done = await add(client, title="Filed taxes")
    await client.call_tool("complete_item", {"id": done})
    late = await add(client, title="Fix bike", due=day(-1))
    soon = await add(client, title="Birthday gift", due=day(0))
    text = await prompt(client, "weekly_review")
    assert f"#{done} Filed taxes" in text.split("## Done in the last 7 days")[1].split("##")[0]
    assert f"#{late} Fix bike" in text.split("## Overdue")[1].split("##")[0]
    assert f"#{soon} Birthday gift" in text.split("## Due this week")[1]
    assert "(2 pending in all" in text


async def test_triage_inbox_lists_the_inbox_with_projects_and_tags(client: Client) -> None:
    a = await add(client, title="Random idea")
    b = await add(client, title="Call plumber", tags=["home"])
    await add(client, title="Quarterly plan", project="work")
    text = await prompt(client, "triage_inbox")
    assert f"#{a} Random idea" in text and f"#{b} Call plumber | #home" in text
    assert "Quarterly plan" not in text
    assert "Existing projects: work." in text and "Tags in use: home." in text
    assert "update_item(ids=[...]" in text
    work = await prompt(client, "triage_inbox", {"project": "work"})
    assert "Quarterly plan" in work and "Random idea" not in work


async def test_triage_of_an_empty_inbox(client: Client) -> None:
    assert "nothing to triage" in await prompt(client, "triage_inbox")


async def test_a_bad_argument_is_a_clear_error(client: Client) -> None:
    with pytest.raises(MCPError, match="project"):
        await prompt(client, "plan_my_day", {"project": "x" * 200})


async def test_completion_of_projects_tags_and_ids(client: Client) -> None:
    await add(client, title="a", project="work", tags=["deep", "desk"])
    await add(client, title="b", project="home", tags=["errand"])
    await add(client, title="c", project="workshop")
    ref = PromptReference(type="ref/prompt", name="plan_my_day")
    projects = (await client.complete(ref, {"name": "project", "value": "wo"})).completion
    assert projects.values == ["work", "workshop"] and projects.total == 2 and projects.has_more is False
    assert (await client.complete(ref, {"name": "project", "value": ""})).completion.values == [
        "home",
        "work",
        "workshop",
    ]
    assert sorted((await client.complete(ref, {"name": "tag", "value": "de"})).completion.values) == ["deep", "desk"]
    assert (await client.complete(ref, {"name": "tag", "value": "RAND"})).completion.values == ["errand"]
    triage = PromptReference(type="ref/prompt", name="triage_inbox")
    assert "home" in (await client.complete(triage, {"name": "project", "value": "h"})).completion.values
    assert (await client.complete(ref, {"name": "unknown", "value": ""})).completion.values == []
