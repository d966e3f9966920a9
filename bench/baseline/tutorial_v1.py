"""A simple TODO list MCP server (the tutorial version, mcp 1.x / FastMCP).

Run it with:  python tutorial_v1.py
"""

from mcp.server.fastmcp import FastMCP

# Create the MCP server
mcp = FastMCP("todo")

# Our in-memory task list, with one example task
tasks = [{"id": 1, "task": "Buy groceries"}]
next_id = 2


@mcp.tool()
def list_items() -> list:
    """List all pending TODO items.

    Returns:
        A list of tasks, each with an id and a task description.
    """
    return tasks


@mcp.tool()
def new_item(title: str) -> dict:
    """Add a new item to the TODO list.

    Args:
        title: The description of the task to add.

    Returns:
        The newly created task.
    """
    global next_id
    task = {"id": next_id, "task": title}
    next_id += 1
    tasks.append(task)
    return task


@mcp.tool()
def complete_item(id: int) -> dict:
    """Mark a TODO item as complete (removes it from the list).

    Args:
        id: The id of the task to complete.

    Returns:
        A status message.
    """
    for task in tasks:
        if task["id"] == id:
            tasks.remove(task)
            return {"status": "success", "message": f"Task {id} completed: {task['task']}"}
    return {"status": "error", "message": f"Task {id} not found"}


if __name__ == "__main__":
    mcp.run(transport="stdio")
