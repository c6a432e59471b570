"""ccm.api: the HTTP front door (FastAPI). ``create_app(settings)`` builds the app;
``ccm serve`` runs it with uvicorn. See docs/api.md."""

from ccm.api.app import create_app
from ccm.api.settings import Settings, get_settings

__all__ = ["Settings", "create_app", "get_settings"]
