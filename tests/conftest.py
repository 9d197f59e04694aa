"""Shared fixtures: one real redis-server per session, an empty database per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import AsyncIterator, Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from microq.app import create_app
from microq.settings import Settings
from tests.helpers import RedisClusterProcesses, RedisProcess

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisClusterProcesses]:
    """A real three-primary Redis Cluster, started only for the tests that ask for it."""
    cluster = RedisClusterProcesses(tmp_path_factory.mktemp("cluster"))
    try:
        yield cluster.start()
    finally:
        cluster.stop()


@pytest.fixture
def redis_url(redis_server: RedisProcess) -> str:
    return redis_server.url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    await client.flushall()
    yield client
    await client.aclose()


@pytest.fixture
def settings(redis_url: str, tmp_path: Path) -> Settings:
    """Settings for a test node: the session Redis, nothing read from the environment."""
    return Settings(redis_url=redis_url, data_dir=tmp_path / "data")


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
    from playwright.async_api import async_playwright

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
