"""topics: see api.py for its routes."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the topics routes and background tasks to app."""
