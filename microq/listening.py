"""Listening sockets for `--host`, and the port claim that refuses split brain.

SO_REUSEPORT lets every worker of one `microq serve` bind the same port, but it lets any other
process of the same user bind it too, and the kernel then splits connections between them. A
node of another store (another data folder, REDIS_URL or key prefix) on the same port would
silently answer half the requests from other data. So before binding, each node process claims
its ports: it binds an abstract unix socket named `microq:port:<port>:<store digest>:<pid>` and
then reads /proc/net/unix for claims of the same port. A claim with another digest means
"address in use". Abstract sockets live in the network namespace, exactly where ports conflict,
and vanish with their process, so there is no lock file to go stale. Two nodes of different
stores starting at the same instant both see each other and both refuse. Where /proc/net/unix is
missing (not Linux) the check is skipped with a warning.
"""

from __future__ import annotations

import errno
import hashlib
import ipaddress
import logging
import os
import socket
from pathlib import Path

from microq.embedded import EmbeddedRedis
from microq.settings import Settings

log = logging.getLogger(__name__)

PROC_NET_UNIX = Path("/proc/net/unix")
_CLAIM = "microq:port:{port}:"


def store_identity(settings: Settings) -> str:
    """What makes two nodes one service: the Redis they use (as written) and the key prefix."""
    redis = settings.redis_url or EmbeddedRedis(settings.data_dir).url
    return f"{redis} {settings.key_prefix}"


class PortClaims:
    """This process's claims on its ports; held until close() or exit."""

    def __init__(self, settings: Settings, ports: list[int]) -> None:
        self.identity = store_identity(settings)
        self.digest = hashlib.sha256(self.identity.encode()).hexdigest()[:16]
        self._sockets: list[socket.socket] = []
        if not PROC_NET_UNIX.exists():
            log.warning("cannot check for other microq nodes on these ports (no %s)", PROC_NET_UNIX)
            return
        try:
            for port in ports:
                claim = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                claim.bind("\0" + _CLAIM.format(port=port) + f"{self.digest}:{os.getpid()}")
                self._sockets.append(claim)
            for port in ports:
                for digest, pid in _claims(port):
                    if digest != self.digest:
                        raise OSError(errno.EADDRINUSE, f"address in use: port {port} is served by microq "
                                      f"process {pid} on another store (a different data folder, "
                                      f"REDIS_URL or MICROQ_KEY_PREFIX); stop it or choose another --port")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        for claim in self._sockets:
            claim.close()
        self._sockets.clear()


def _claims(port: int) -> list[tuple[str, str]]:
    """(digest, pid) of every claim on `port` in this network namespace, this process's included."""
    prefix = "@" + _CLAIM.format(port=port)
    found = []
    try:
        table = PROC_NET_UNIX.read_text(errors="replace")
    except OSError as exc:  # a sandbox that hides it: run, but say the check did not happen
        log.warning("cannot check for other microq nodes on port %d: %s", port, exc)
        return []
    for line in table.splitlines()[1:]:
        path = line.rsplit(" ", 1)[-1]
        if path.startswith(prefix):
            digest, _, pid = path[len(prefix):].partition(":")
            found.append((digest, pid))
    return found


def addresses(host: str) -> list[str]:
    """The addresses `--host` stands for: `localhost` is both loopbacks (browsers try ::1 first),
    an IP literal (`::1`, `[::1]`, `0.0.0.0`) itself, a name what it resolves to."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if host == "localhost":
        return ["127.0.0.1", "::1"]
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def listening_sockets(host: str, port: int) -> list[socket.socket]:
    """One listening socket per address of `host` on `port`, shared with this serve's other
    workers (SO_REUSEPORT). With several addresses, an IPv6 socket is IPv6-only so `localhost`'s
    two sockets do not collide; an address the machine lacks (no IPv6) is skipped while one binds."""
    wanted = addresses(host)
    bound: list[socket.socket] = []
    for address in wanted:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # every worker binds the same port
            if family == socket.AF_INET6 and len(wanted) > 1:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind((address, port))
            sock.listen(1024)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            if len(wanted) > 1 and exc.errno in (errno.EADDRNOTAVAIL, errno.EAFNOSUPPORT):
                log.warning("not listening on %s: %s", url(address, port), exc.strerror)
                continue
            for other in bound:
                other.close()
            raise
        bound.append(sock)
    if not bound:
        raise OSError(errno.EADDRNOTAVAIL, f"no address of {host!r} can be bound")
    return bound


def url(address: str, port: int) -> str:
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"
