"""Server-rendered pages of the lines part."""

from aiohttp import web

routes = web.RouteTableDef()
