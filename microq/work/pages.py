"""The work dashboard page: static HTML and JS; the API key stays in the browser tab."""

from aiohttp import web

routes = web.RouteTableDef()
