// The host side of the MCP Apps bridge (io.modelcontextprotocol/ui, 2026-01-26), as small as a
// real host's: it calls show_tasks the way a host does when the model calls it, renders the
// tool's ui:// resource in a sandboxed iframe (served at /view by the test, with the CSP its
// _meta.ui.csp declares), answers ui/initialize with the theme, forwards the view's tools/call
// and resources/read to the real server (POST /rpc), sends tool-input and tool-result after
// ui/notifications/initialized, and forwards the server's change notifications (GET /events).
"use strict";
(() => {
  const frame = document.getElementById("view");
  const log = (window.hostLog = []);
  let theme = new URLSearchParams(location.search).get("theme") || "light";
  let initialized = false;
  let toolInput = {};
  let toolResult = null;
  document.body.dataset.theme = theme;

  function toView(message) {
    log.push({ to: "view", message });
    frame.contentWindow.postMessage(message, "*");
  }

  async function rpc(method, params) {
    const response = await fetch("/rpc", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ method, params }),
    });
    const reply = await response.json();
    if (reply.error) throw Object.assign(new Error(reply.error.message), { code: reply.error.code });
    return reply.result;
  }

  async function answer(method, params) {
    switch (method) {
      case "ui/initialize":
        return {
          protocolVersion: "2026-01-26",
          hostInfo: { name: "mcp-server-todo-test-host", version: "1" },
          hostCapabilities: { serverTools: {}, serverResources: { listChanged: true }, logging: {} },
          hostContext: { theme, displayMode: "inline", platform: "web", containerDimensions: { maxHeight: 2000 } },
        };
      case "ping":
        return {};
      case "tools/call":
      case "resources/read":
        return rpc(method, params);
      default:
        throw Object.assign(new Error("Method not found: " + method), { code: -32601 });
    }
  }

  window.addEventListener("message", async (event) => {
    if (event.source !== frame.contentWindow) return;
    const m = event.data;
    if (!m || m.jsonrpc !== "2.0") return;
    log.push({ from: "view", message: m });
    if (typeof m.method === "string" && m.id !== undefined) {
      try {
        toView({ jsonrpc: "2.0", id: m.id, result: await answer(m.method, m.params || {}) });
      } catch (err) {
        toView({ jsonrpc: "2.0", id: m.id, error: { code: err.code || -32603, message: String(err.message) } });
      }
    } else if (m.method === "ui/notifications/initialized") {
      initialized = true;
      toView({ jsonrpc: "2.0", method: "ui/notifications/tool-input", params: { arguments: toolInput } });
      toView({ jsonrpc: "2.0", method: "ui/notifications/tool-result", params: toolResult });
    } else if (m.method === "ui/notifications/size-changed" && m.params) {
      frame.style.height = Math.min(Math.max(m.params.height, 80), 2000) + "px";
    }
  });

  window.setTheme = (value) => {
    theme = value;
    document.body.dataset.theme = value;
    toView({ jsonrpc: "2.0", method: "ui/notifications/host-context-changed", params: { theme: value } });
  };

  async function pump() {
    for (;;) {
      let events = [];
      try {
        events = await (await fetch("/events")).json();
      } catch (err) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      for (const message of events) if (initialized) toView(message);
    }
  }

  (async () => {
    toolInput = { group_by: new URLSearchParams(location.search).get("group_by") || "project" };
    toolResult = await rpc("tools/call", { name: "show_tasks", arguments: toolInput });
    frame.src = "/view";
    pump();
  })();
})();
