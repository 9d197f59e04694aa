"""The one place MicroQ reaches past redis-py's public API: borrowing raw connections, for speed.

The script runner packs whole pipelines with hiredis and reads the replies itself (ten times
cheaper than redis-py's command path), and the pub/sub subscriber reads a connection of its
own. Both need a connection of one Redis server, which redis-py hands out differently across
majors: `ConnectionPool.get_connection()` takes a command name on 5.x and warns about one from
5.3 on; an async cluster node has `acquire_connection()` everywhere but `release()` only on
newer versions. setup.cfg pins the range this file is tested on (.ci/run runs the foundation
tests at its lowest end too).

Every reply is RESP2 (`PROTOCOL`): redis-py 8 defaults to RESP3, earlier majors to RESP2, and
the reply shapes of HGETALL and of pub/sub messages differ between the two.
"""

from __future__ import annotations

import inspect
from typing import Any

from redis.asyncio import RedisCluster
from redis.asyncio.cluster import ClusterNode
from redis.asyncio.connection import Connection, ConnectionPool

PROTOCOL = 2  #: every client MicroQ makes speaks RESP2, whatever redis-py's default


class Connections:
    """Connections of one Redis server: a client's pool, or one node of a cluster client."""

    def __init__(self, source: ConnectionPool | ClusterNode) -> None:
        self.source = source
        kwargs = source.connection_kwargs
        self.name = getattr(source, "name", None) or f"{kwargs.get('host', 'unix')}:{kwargs.get('port', kwargs.get('path', ''))}"
        self.timeout: float = kwargs.get("socket_timeout") or 5.0  #: one deadline per round trip
        self._pool_wants_name = False
        if isinstance(source, ConnectionPool):
            parameter = inspect.signature(source.get_connection).parameters.get("command_name")
            self._pool_wants_name = parameter is not None and parameter.default is inspect.Parameter.empty

    async def acquire(self) -> Connection:
        source = self.source
        if isinstance(source, ConnectionPool):
            return await (source.get_connection("_") if self._pool_wants_name else source.get_connection())
        return source.acquire_connection()  # connects lazily, on the first send

    async def release(self, connection: Connection) -> None:
        source = self.source
        if isinstance(source, ConnectionPool):
            await source.release(connection)
        elif hasattr(source, "release"):
            source.release(connection)
        else:  # redis-py 5.x: a cluster node's free list
            source._free.append(connection)

    def private_connection(self, **overrides: Any) -> Connection:
        """A connection of its own (not in the pool), e.g. for pub/sub; the caller disconnects it."""
        kwargs = {k: v for k, v in self.source.connection_kwargs.items()
                  if k not in ("oss_cluster_maint_notifications_handler", "maint_notifications_config")}
        kwargs.update(overrides)
        return self.source.connection_class(**kwargs)


def topology_known(cluster: RedisCluster) -> bool:
    """The cluster client has a slot map (RedisCluster.initialize() is not needed for routing)."""
    return bool(cluster.nodes_manager.slots_cache)


async def refresh_topology(cluster: RedisCluster) -> None:
    """Read the slot map (at start, after a MOVED) from the first seed or known node that answers.

    Not RedisCluster.initialize(): that also sends COMMAND to the first primary it knows, and
    fails as a whole while that one primary is down, though every other node answers."""
    await cluster.nodes_manager.initialize()
