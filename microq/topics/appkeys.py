"""The topics part's typed keys on the aiohttp app."""

from aiohttp import web

from microq.topics.housekeeping import Housekeeper
from microq.topics.store import TopicStore
from microq.topics.streams import StreamHub
from microq.topics.waiters import WaitRoom
from microq.topics.webhooks import WebhookDispatcher

TOPICS = web.AppKey("topics", TopicStore)
WAIT_ROOM = web.AppKey("topics_wait_room", WaitRoom)
HOUSEKEEPER = web.AppKey("topics_housekeeper", Housekeeper)
WEBHOOKS = web.AppKey("topics_webhooks", WebhookDispatcher)
STREAMS = web.AppKey("topics_streams", StreamHub)  #: open /stream and /ws connections
