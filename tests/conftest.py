"""Shared fixtures: one real redis-server per session, an empty database per test.

`MICROQ_TEST_REDIS=cluster` (or `pytest --redis=cluster`) runs the same tests against a
session-wide three-primary Redis Cluster instead: `redis_url`, `settings` and `redis` point at
it, and every primary is flushed before each test. Tests that cannot apply to a Cluster carry
`@pytest.mark.single_redis("why")` or an entry in SINGLE_REDIS_ONLY below and are skipped
there, with the reason; tests that never touch the shared Redis (they start their own, or
none) are skipped too, since the single-Redis run covers them. CLUSTER_XFAIL lists the tests
that fail on a Cluster because of a MicroQ bug not yet fixed.
The fault suite (tests/faults/) runs only when its folder is named on the command line
(`pytest tests/faults`) or with `--faults`: it kills and stalls processes for minutes.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis, RedisCluster

from microq.app import create_app
from microq.settings import Settings
from tests.helpers import RedisClusterProcesses, RedisProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
FAULTS = Path(__file__).resolve().parent / "faults"
REDIS_MODES = ("single", "cluster")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--redis", choices=REDIS_MODES, default=None,
                     help="run the suite on one redis-server (single, the default) or a 3-primary "
                          "Redis Cluster (cluster); default from MICROQ_TEST_REDIS")
    parser.addoption("--faults", action="store_true",
                     help="also run tests/faults/ (killed and stalled processes) in a whole-suite run")


def redis_mode(config: pytest.Config) -> str:
    mode = config.getoption("--redis") or os.environ.get("MICROQ_TEST_REDIS", "").strip() or "single"
    if mode not in REDIS_MODES:
        raise pytest.UsageError(f"MICROQ_TEST_REDIS must be single or cluster, got {mode!r}")
    return mode


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "single_redis(reason): cannot apply to a Redis Cluster; skipped with "
                                       "--redis=cluster / MICROQ_TEST_REDIS=cluster")
    if redis_mode(config) == "cluster":  # a bad value stops the run before any test
        # nodes and CLIs that tests start as processes (with REDIS_URL=redis_url) join the Cluster too
        os.environ["MICROQ_REDIS_CLUSTER"] = "true"


def pytest_report_header(config: pytest.Config) -> str:
    return f"microq test redis: {redis_mode(config)}"


# Tests that cannot apply to a Cluster, by file or node id: they start and stop a single
# redis-server of their own (the single-Redis run covers them; on a Cluster they would only
# repeat it with the wrong client), or they count the single-Redis transport's round trips.
SINGLE_REDIS_ONLY = {
    "tests/foundation/test_scripts.py::test_concurrent_calls_share_round_trips":
        "counts the single-Redis transport's shared round trips (a Cluster client sends per slot)",
    "tests/topics/test_durability.py::test_messages_survive_a_redis_restart_with_aof":
        "stops and restarts a redis-server of its own (tests/faults restarts Cluster primaries)",
    "tests/lines/test_idempotency.py::test_serve_next_and_call_whose_replies_were_lost_are_safe_to_retry":
        "SIGSTOPs a redis-server of its own (tests/faults stalls Cluster primaries)",
    "tests/work/test_lost_replies.py::test_a_lost_claim_is_retried_by_key_or_comes_back_by_its_lease":
        "SIGSTOPs a redis-server of its own",
    "tests/work/test_security.py::test_redis_down_is_503_then_recovers":
        "stops and restarts a redis-server of its own (tests/faults stalls and kills Cluster primaries)",
    "tests/topics/test_tinymq3_streams.py::test_streams_outlive_a_redis_restart":
        "stops and restarts a redis-server of its own (tests/faults restarts Cluster primaries)",
}

# Tests that fail on a Cluster because of a MicroQ bug whose fix has not landed: strict, so the
# Cluster run fails (XPASS) the moment it lands and the entry must go.
CLUSTER_XFAIL: dict[str, str] = {}


# Tests that fail on the Cluster run for a cause not yet found: not strict, so they run and show.
CLUSTER_UNTRIAGED: dict[str, str] = {}


def _node_id(item: pytest.Item) -> tuple[str, str]:
    file = Path(str(item.path)).resolve().relative_to(Path(__file__).resolve().parent.parent).as_posix()
    return file, f"{file}::{item.name.split('[')[0]}"


def _single_redis_reason(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("single_redis")
    if marker is not None:
        return marker.args[0] if marker.args else marker.kwargs.get("reason", "single Redis only")
    file, node = _node_id(item)
    return SINGLE_REDIS_ONLY.get(node) or SINGLE_REDIS_ONLY.get(file)


def _faults_named(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(arg.split("::")[0]).resolve()
        if path == FAULTS or FAULTS in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    cluster = redis_mode(config) == "cluster"
    run_faults = config.getoption("--faults") or _faults_named(config)
    for item in items:
        in_faults = FAULTS in Path(str(item.path)).parents
        if in_faults:
            if not run_faults:
                item.add_marker(pytest.mark.skip(reason="fault suite: run `pytest tests/faults` or pass --faults"))
            continue  # the fault tests pick their own Redis or Cluster
        if not cluster:
            continue
        reason = _single_redis_reason(item)
        if reason is not None:
            item.add_marker(pytest.mark.skip(reason=f"single Redis only: {reason}"))
        elif _node_id(item)[1] in CLUSTER_XFAIL:
            item.add_marker(pytest.mark.xfail(strict=True, reason=CLUSTER_XFAIL[_node_id(item)[1]]))
        elif _node_id(item)[1] in CLUSTER_UNTRIAGED:
            item.add_marker(pytest.mark.xfail(strict=False, reason="not triaged: fails on a Cluster: "
                                                                   + CLUSTER_UNTRIAGED[_node_id(item)[1]]))
        elif "redis_cluster" in item.fixturenames:
            item.add_marker(pytest.mark.skip(reason="already runs on a Cluster in the single-Redis run"))
        elif not {"redis_url", "redis", "settings"} & set(item.fixturenames):
            item.add_marker(pytest.mark.skip(reason="does not use the shared test Redis; the single-Redis run covers it"))


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    """A real three-primary Redis Cluster, started only for the tests that ask for it."""
    cluster = RedisClusterProcesses(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def on_cluster(pytestconfig: pytest.Config) -> bool:
    """True when this run's shared test Redis is a Cluster (--redis=cluster)."""
    return redis_mode(pytestconfig) == "cluster"


@pytest.fixture
def redis_url(request: pytest.FixtureRequest, on_cluster: bool) -> str:
    """The shared test Redis: the session redis-server, or a node of the session Cluster."""
    if on_cluster:
        return request.getfixturevalue("redis_cluster").url
    return request.getfixturevalue("redis_server").url


@pytest.fixture
async def redis(redis_url: str, on_cluster: bool) -> AsyncIterator[Redis]:
    """A client on the shared test Redis, emptied first (on a Cluster: every primary)."""
    client = RedisCluster.from_url(redis_url) if on_cluster else Redis.from_url(redis_url)
    await client.flushall()  # RedisCluster sends FLUSHALL to every primary
    yield client
    await client.aclose()


@pytest.fixture
def settings(redis_url: str, on_cluster: bool, tmp_path: Path) -> Settings:
    """Settings for a test node: the session Redis, nothing read from the environment."""
    return Settings(redis_url=redis_url, redis_cluster=on_cluster, data_dir=tmp_path / "data")


AppClientFactory = Callable[..., Awaitable[TestClient]]


@pytest.fixture
def make_client(aiohttp_client, settings: Settings, redis: Redis) -> AppClientFactory:
    """make_client(**setting_overrides): a test client on a fresh node sharing the test's Redis."""

    async def make(**overrides) -> TestClient:
        return await aiohttp_client(create_app(settings.replace(**overrides)))

    return make


@pytest.fixture
async def client(make_client: AppClientFactory) -> TestClient:
    return await make_client()


@pytest.fixture
async def two_clients(make_client: AppClientFactory) -> tuple[TestClient, TestClient]:
    """Two nodes on one Redis, as behind a load balancer."""
    return await make_client(), await make_client()


@pytest.fixture
async def live_server(aiohttp_server, settings: Settings, redis: Redis):
    """live_server(**overrides): a node on a real loopback port, for browsers and outside clients."""

    async def start(**overrides):
        return await aiohttp_server(create_app(settings.replace(**overrides)))

    return start


@pytest.fixture
async def browser() -> AsyncIterator[object]:
    """Debian's chromium driven by Playwright; skipped where it is missing unless MICROQ_REQUIRE_BROWSER=1."""
    if not (os.path.exists(CHROMIUM) and shutil.which("chromium")):
        if os.environ.get("MICROQ_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing and MICROQ_REQUIRE_BROWSER=1 (apt-get install chromium)")
        pytest.skip(f"browser test skipped: {CHROMIUM} not installed (apt-get install chromium)")
    from playwright.async_api import async_playwright, expect

    # what a page shows is the behaviour under test, not how soon: a loaded machine gets longer
    expect.set_options(timeout=15_000)
    async with async_playwright() as playwright:
        instance = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        try:
            yield instance
        finally:
            await instance.close()


@pytest.fixture
def artifacts() -> Path:
    """Where tests keep screenshots; CI keeps the folder."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
