"""ccm.ops: the operations the front doors (the API, the MCP server) offer, as plain
functions over a store. The API's routers and the MCP tools both call these: one
implementation, two doors."""
