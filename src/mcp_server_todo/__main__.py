from mcp_server_todo.cli.main import main

raise SystemExit(main())
