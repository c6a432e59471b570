"""``ccm serve``: run the HTTP API (uvicorn) on the configured store."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ccm.api.settings import Settings
from ccm.cli.common import err_console, handle_errors, store_option
from ccm.errors import ConfigError
from ccm.ops.hosts import is_loopback


def default_tokens_file() -> Path:
    """``$CCM_API_TOKENS_FILE``, else ``$XDG_CONFIG_HOME/ccm/tokens.yaml``."""
    env = os.environ.get("CCM_API_TOKENS_FILE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "ccm" / "tokens.yaml"


def service_settings(store_location: str | None, insecure_dev: bool,
                     **options: object) -> Settings:
    """The settings from the environment, with the CLI's options on top (``options``:
    more settings fields; None leaves the environment's value)."""
    overrides: dict[str, object] = {k: v for k, v in options.items() if v is not None}
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
@click.option("--web/--no-web", "web", default=None,
              help="Serve the read-only web view at / (default: on; CCM_WEB).")
@click.option("--web-token-file", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Hand the read-only token in this file (mode 600) to the web "
              "page, so visitors need not paste one (CCM_WEB_TOKEN_FILE; see docs/web.md).")
@click.option("--gc-tuning/--no-gc-tuning", "gc_tuning", default=True, show_default=True,
              help="Tune the server process's garbage collector: large graphs frozen out "
                   "of its way, fewer collections while ingesting (CCM_GC_TUNING).")
@handle_errors
def serve_cmd(host: str, port: int, store_location: str | None, insecure_dev: bool,
              workers: int, log_level: str, web: bool | None,
              web_token_file: Path | None, gc_tuning: bool) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json, docs at /docs, metrics at /metrics)
    and the read-only web view at / (docs/web.md).

    Needs API tokens (CCM_API_TOKENS_FILE, default ~/.config/ccm/tokens.yaml, made by
    `ccm token create`; or CCM_API_TOKENS): without any, it refuses to start unless
    --insecure-dev is given. The store is opened when the server starts. The web page
    asks for a token unless --web-token-file hands it a read-only one.
    """
    import uvicorn

    from ccm.api import create_app
    from ccm.api.app import reconcile_actions

    if insecure_dev and not is_loopback(host):
        raise ConfigError(f"--insecure-dev serves without authentication, so it only binds "
                          f"to loopback addresses (127.0.0.1, ::1), not {host}")
    settings = service_settings(store_location, insecure_dev, web=web,
                                web_token_file=web_token_file, gc_tuning=gc_tuning)
    app = create_app(settings)  # checks tokens, registry and policy before anything starts
    reconcile_actions(settings)  # actions a previous server left executing (docs/policy.md)
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
                        ("CCM_INSECURE_DEV", "1" if settings.insecure_dev else None),
                        ("CCM_WEB", None if settings.web else "0"),
                        ("CCM_GC_TUNING", "1" if settings.gc_tuning else "0"),
                        ("CCM_WEB_TOKEN_FILE", settings.web_token_file)):
        if value is not None:
            os.environ[name] = str(value)  # the worker processes read the same settings
    uvicorn.run("ccm.api.app:app_from_environment", factory=True, workers=workers,
                **common)  # type: ignore[arg-type]


def register(cli: click.Group) -> None:
    cli.add_command(serve_cmd)
