"""``ccm serve``: run the HTTP API (uvicorn) on the configured store."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

import click

from ccm.api.settings import Settings
from ccm.cli.common import err_console, handle_errors, store_option
from ccm.errors import ConfigError


def default_tokens_file() -> Path:
    """``$CCM_API_TOKENS_FILE``, else ``$XDG_CONFIG_HOME/ccm/tokens.yaml``."""
    env = os.environ.get("CCM_API_TOKENS_FILE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ccm" / "tokens.yaml"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def service_settings(store_location: str | None, insecure_dev: bool) -> Settings:
    """The settings from the environment, with the CLI's options on top."""
    overrides: dict[str, object] = {}
    if store_location:
        overrides["store"] = store_location
    if insecure_dev:
        overrides["insecure_dev"] = True
    base = Settings()
    if base.api_tokens_file is None and default_tokens_file().exists():
        overrides["api_tokens_file"] = default_tokens_file()
    return base.model_copy(update=overrides)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@store_option
@click.option("--insecure-dev", is_flag=True, envvar="CCM_INSECURE_DEV",
              help="Serve without tokens (requests without one act as the admin 'dev'). "
                   "Loopback addresses only; for trying CCM out on your own machine.")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Server processes (each with its own caches); one per core sidesteps "
                   "Python's global lock under concurrent load.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default="info", show_default=True)
@handle_errors
def serve_cmd(host: str, port: int, store_location: str | None, insecure_dev: bool,
              workers: int, log_level: str) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json, docs at /docs, metrics at /metrics).

    Needs API tokens (CCM_API_TOKENS_FILE, default ~/.config/ccm/tokens.yaml, made by
    `ccm token create`; or CCM_API_TOKENS): without any, it refuses to start unless
    --insecure-dev is given. The store is opened when the server starts.
    """
    import uvicorn

    from ccm.api import create_app

    if insecure_dev and not is_loopback(host):
        raise ConfigError(f"--insecure-dev serves without authentication, so it only binds "
                          f"to loopback addresses (127.0.0.1, ::1), not {host}")
    settings = service_settings(store_location, insecure_dev)
    app = create_app(settings)  # checks tokens, registry and policy before anything starts
    if insecure_dev:
        err_console.print("[yellow]warning:[/yellow] --insecure-dev: no authentication; "
                          "requests without a token act as the admin 'dev'", markup=True)
    common = {"host": host, "port": port, "log_level": log_level, "server_header": False,
              "proxy_headers": False}
    if workers == 1:
        uvicorn.run(app, **common)  # type: ignore[arg-type]
        return
    for name, value in (("CCM_STORE", settings.store),
                        ("CCM_API_TOKENS_FILE", settings.api_tokens_file),
                        ("CCM_INSECURE_DEV", "1" if settings.insecure_dev else None)):
        if value is not None:
            os.environ[name] = str(value)  # the worker processes read the same settings
    uvicorn.run("ccm.api.app:app_from_environment", factory=True, workers=workers,
                **common)  # type: ignore[arg-type]


def register(cli: click.Group) -> None:
    cli.add_command(serve_cmd)
