"""The topics part's EventSink (microq/events.py): how lines and work publish to topics and
ask for webhooks on them, through the same store, registry and delivery as any client."""

from __future__ import annotations

import hashlib
from typing import Sequence

from microq.events import Event
from microq.idempotency import Once
from microq.topics.extras import check_headers, tail
from microq.topics.messages import new_ids
from microq.topics.names import check_topic
from microq.topics.store import Outgoing, TopicStore
from microq.topics.webhooks import check_webhook_secret, check_webhook_url

CONTENT_TYPE = "application/json"


class TopicSink:
    def __init__(self, store: TopicStore) -> None:
        self.store = store

    async def publish(self, topic: str, events: Sequence[Event]) -> None:
        """One publish per event, each with its own once-key: how a forwarder batched its reads
        must not matter to the deduplication. Concurrent calls share round trips anyway."""
        check_topic(topic)
        key_of = self.store.key_of(topic)
        for event, message_id in zip(events, new_ids(len(events))):
            digest = hashlib.sha256(event.id.encode()).hexdigest()[:32]
            once = Once(key_of("idem:event:" + digest), hashlib.sha256(event.body).hexdigest())
            await self.store.registered_while(topic, self.store.publish(
                topic, [Outgoing(message_id, event.body, content_type=CONTENT_TYPE,
                                 extra=tail(headers=check_headers(event.headers.items())))], once))

    async def add_webhook(self, topic: str, url: str, secret: str | None = None) -> str:
        """As POST /webhook/{topic}: the topic is registered, and a secret signs the POSTs
        (X-TinyMQ-Signature and X-MicroQ-Signature); the same url again sets its secret anew."""
        check_topic(topic)
        url = check_webhook_url(url, self.store.settings.webhook_allow_private)
        secret = check_webhook_secret(secret)
        await self.store.ensure_registered(topic)
        hook_id, _ = await self.store.add_webhook(topic, url, secret)
        return hook_id

    async def remove_webhook(self, topic: str, url: str) -> bool:
        return await self.store.remove_webhook(check_topic(topic), self.store.webhook_id(url))

    async def webhooks(self, topic: str) -> list[str]:
        return list((await self.store.webhooks(check_topic(topic))).values())
