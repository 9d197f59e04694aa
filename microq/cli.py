"""`microq serve` and `microq api-key ...`."""

from __future__ import annotations

import argparse
import logging
import sys

from microq.settings import Settings, SettingsError

DEFAULT_PORTS = [5000, 7800]  # seed 000's base URL and seed 002's, so both quick starts work as written


def _port(text: str) -> int:
    port = int(text)
    if not 0 < port < 65536:
        raise argparse.ArgumentTypeError(f"port must be 1-65535, got {text}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="microq", description="Waiting lines, work items and topics on Redis.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run a node")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=_port, action="append", help="port to listen on; repeatable (default 5000 and 7800)")
    serve.add_argument("--workers", type=int, default=1, help="node processes sharing the ports (default 1)")
    keys = commands.add_parser("api-key", help="manage the work API's X-API-Key keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True)
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
        print(f"microq: invalid setting {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if args.command == "serve":
            from microq.server import serve

            return serve(settings, args.host, args.port or DEFAULT_PORTS, max(1, args.workers))
        from microq.work.keys_cli import run as api_key_command

        return api_key_command(settings, args)
    except (RuntimeError, OSError) as exc:
        print(f"microq: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
