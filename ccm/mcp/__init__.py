"""ccm.mcp: CCM's Model Context Protocol server (``ccm mcp``). See docs/mcp.md."""

from ccm.mcp.server import McpState, build_mcp

__all__ = ["McpState", "build_mcp"]
