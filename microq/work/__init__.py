"""work: see api.py for its routes."""

from aiohttp import web


def setup(app: web.Application) -> None:
    """Add the work routes and background tasks to app."""
