"""ccm.web: the read-only web view ``ccm serve`` shows at ``/`` (see :mod:`ccm.web.page`
and docs/web.md)."""

from ccm.web.page import (
    DEFAULT_HOSTS,
    READ_ONLY_SCOPES,
    WebConfig,
    install_web,
    read_web_token,
    web_config,
)

__all__ = ["DEFAULT_HOSTS", "READ_ONLY_SCOPES", "WebConfig", "install_web", "read_web_token",
           "web_config"]
