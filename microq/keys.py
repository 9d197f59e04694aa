"""Redis key names. Every key of one line, work queue or topic shares a hash tag.

Redis Cluster hashes only the part between the first `{` and the next `}`, so
`mq:t:{orders}:stream` and `mq:t:{orders}:delayed` live in one slot and one script may
touch both. Names that may contain braces are escaped so they cannot end the tag early.
See docs/keys.md for the whole scheme.
"""

from __future__ import annotations


def escape_tag(name: str) -> str:
    if not name:  # Redis Cluster ignores an empty {} tag and would scatter the entity's keys
        raise ValueError("an entity name must not be empty")
    return name.replace("%", "%25").replace("{", "%7B").replace("}", "%7D")


class Keyspace:
    def __init__(self, prefix: str = "mq:") -> None:
        self.prefix = prefix

    def tagged(self, kind: str, entity: str, suffix: str) -> str:
        """`<prefix><kind>:{<entity>}:<suffix>`: a key belonging to one entity."""
        return f"{self.prefix}{kind}:{{{escape_tag(entity)}}}:{suffix}"

    def entity(self, kind: str, entity: str):
        """A function suffix -> key, for building one entity's keys."""
        head = f"{self.prefix}{kind}:{{{escape_tag(entity)}}}:"
        return lambda suffix: head + suffix

    def global_key(self, name: str) -> str:
        """`<prefix>{<name>}`: a key shared by a whole part (registries, security state)."""
        return f"{self.prefix}{{{escape_tag(name)}}}"
