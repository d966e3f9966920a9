from mcp_server_todo.cli import main

raise SystemExit(main())
