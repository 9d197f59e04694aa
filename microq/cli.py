"""`microq serve`, `microq doctor`, `microq api-key ...` and `microq --version`.

Every bad option or variable is one line on stderr naming it and the form expected, and exit 2.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
import tempfile

from microq import __version__
from microq.settings import Settings, SettingsError

DEFAULT_PORTS = [5000, 7800]  # seed 000's base URL and seed 002's, so both quick starts work as written
MAX_WORKERS = 64

log = logging.getLogger("microq")


class _Parser(argparse.ArgumentParser):
    """argparse, but a mistake is one line (no usage block): `microq serve: --port: expected ...`."""

    def error(self, message: str) -> None:
        message = message.replace("argument ", "", 1)
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _whole(text: str, low: int, high: int, what: str) -> int:
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or not low <= int(digits) <= high:
        raise argparse.ArgumentTypeError(f"expected {what} {low}-{high}, got {text!r}")
    return int(digits)


def _port(text: str) -> int:
    return _whole(text, 1, 65535, "a port number")


def _workers(text: str) -> int:
    return _whole(text, 1, MAX_WORKERS, "a number of processes")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="microq", description="Waiting lines, work items and topics on Redis.")
    parser.add_argument("--version", action="version", version=f"microq {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    serve = commands.add_parser("serve", help="run a node")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, action="append", help="port to listen on; repeatable (default 5000 and 7800)")
    serve.add_argument("--workers", type=_workers, default=1,
                       help=f"node processes sharing the ports, 1-{MAX_WORKERS} (default 1)")
    commands.add_parser("doctor", help="check the Redis MicroQ uses: version, persistence, eviction, Cluster, clocks")
    keys = commands.add_parser("api-key", help="manage the work API's X-API-Key keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True, parser_class=_Parser)
    create = key_commands.add_parser("create", help="create a key and print it once")
    create.add_argument("--name", default="", help="a label to recognise the key by")
    key_commands.add_parser("list", help="list keys (ids and labels, never the keys)")
    revoke = key_commands.add_parser("revoke", help="revoke a key by its id")
    revoke.add_argument("key_id")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"microq: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            return _serve(settings, args)
        if args.command == "doctor":
            from microq.doctor import run as doctor_command

            return doctor_command(settings)
        from microq.work.keys_cli import run as api_key_command

        return api_key_command(settings, args)
    except (RuntimeError, OSError) as exc:
        print(f"microq: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    ports = args.port or DEFAULT_PORTS
    owned_metrics_dir = None
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # before prometheus-client is imported: every worker writes its counters here, any worker
        # answering /metrics sums them (see microq/metrics.py)
        owned_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="microq-metrics-")
    from microq import access_log
    from microq.index import page_paths
    from microq.server import serve

    access_log.configure(settings)
    if args.workers > 1 or not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # a supervisor's worker stays quiet
        base = f"http://{'[' + args.host + ']' if ':' in args.host else args.host}:{ports[0]}"
        log.info("microq %s: pages at %s/ (index), %s", __version__, base,
                 ", ".join(base + path for path, _ in page_paths(settings.default_tenant_id, settings.default_queue_id)))
    try:
        return serve(settings, args.host, ports, args.workers)
    finally:
        if owned_metrics_dir:
            shutil.rmtree(owned_metrics_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
