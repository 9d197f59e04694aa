"""The topics part's typed keys on the aiohttp app."""

from aiohttp import web

from microq.topics.housekeeping import Housekeeper
from microq.topics.store import TopicStore
from microq.topics.waiters import WaitRoom

TOPICS = web.AppKey("topics", TopicStore)
WAIT_ROOM = web.AppKey("topics_wait_room", WaitRoom)
HOUSEKEEPER = web.AppKey("topics_housekeeper", Housekeeper)
