"""``harness mcp``: the MCP server over stdio, for an MCP client to start as a command."""

from __future__ import annotations

import click

from harness.cli.exits import run
from harness.cli.options import settings_of, source_from, source_options, store_option, with_changes
from harness.targets.sources import source_store_url
from harness.web.mcp_server import serve_stdio


@click.command("mcp")
@source_options("The answers")
@store_option
@click.pass_context
def mcp(ctx: click.Context, sandbox: bool, replay: bool, store_url: str | None) -> None:
    """Serve the MCP server's read-only tools over stdio (from the live store by default)."""
    settings = with_changes(settings_of(ctx), store=store_url)
    source = source_from(sandbox, replay)
    run(serve_stdio(settings, source_store_url(settings, source)))
