"""The foundation's typed keys on the aiohttp app; each part keeps its own beside its code."""

from aiohttp import web
from redis.asyncio import Redis

from microq.http import ClientAddress
from microq.keys import Keyspace
from microq.pubsub import Subscriber
from microq.scripts import Scripts
from microq.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
REDIS = web.AppKey("redis", Redis)  #: a RedisCluster on a Cluster
SCRIPTS = web.AppKey("scripts", Scripts)
SUBSCRIBER = web.AppKey("subscriber", Subscriber)  #: this node's one pub/sub connection, shared by every part
KEYSPACE = web.AppKey("keyspace", Keyspace)
CLIENT_ADDRESS = web.AppKey("client_address", ClientAddress)  #: built once: it parses MICROQ_TRUSTED_PROXIES
REDIS_URL = web.AppKey("redis_url", str)  #: the URL actually used (the embedded server's, when started)
STARTED = web.AppKey("started", float)  #: time.monotonic() when the app was made: /healthz's uptime
