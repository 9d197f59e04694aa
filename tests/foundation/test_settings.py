import os
import subprocess
import sys
from pathlib import Path

import pytest

from microq.settings import ENVIRONMENT, Settings, SettingsError


def test_defaults_without_environment():
    settings = Settings.from_env({}, dotenv=None)
    assert settings.redis_url == "" and settings.key_prefix == "mq:"
    assert settings.rate_limit_queue == (1000, 60.0) and settings.rate_limit_trigger == (10, 60.0)
    assert settings.avg_service_time_minutes == 4.0


def test_environment_overrides_dotenv(tmp_path: Path):
    dotenv = tmp_path / ".env"
    dotenv.write_text("MICROQ_KEY_PREFIX=fromfile:\nMICROQ_LOG_LEVEL=debug\n")
    settings = Settings.from_env({"MICROQ_KEY_PREFIX": "fromenv:"}, dotenv=dotenv)
    assert settings.key_prefix == "fromenv:" and settings.log_level == "DEBUG"


@pytest.mark.parametrize("name, value", [
    ("MICROQ_TOPIC_MAX_MESSAGES", "lots"),
    ("MICROQ_TOPIC_MAX_MESSAGES", "0"),
    ("MICROQ_VISIBILITY_TIMEOUT", "soon"),
    ("MICROQ_WEBHOOK_ALLOW_PRIVATE", "maybe"),
    ("MICROQ_RATE_LIMIT_QUEUE", "1000/fortnight"),
    ("REDIS_URL", "http://localhost:6379"),
    ("REDIS_URL", "redis://a:7000, http://b:7000"),
    ("REDIS_URL", "redis://a:7000,unix:///tmp/r.sock"),
    ("MICROQ_KEY_PREFIX", "a{b}"),
    ("AVG_SERVICE_TIME_MINUTES", "-1"),
    ("MICROQ_LOG_LEVEL", "LOUD"),
    ("MICROQ_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
])
def test_invalid_value_names_the_variable(name: str, value: str):
    with pytest.raises(SettingsError, match=f"^{name}: "):
        Settings.from_env({name: value}, dotenv=None)


def test_redis_url_takes_several_seed_nodes():
    settings = Settings.from_env({"REDIS_URL": " redis://a:7000 ,redis://b:7001,, rediss://c:7002 "}, dotenv=None)
    assert settings.redis_url == "redis://a:7000,redis://b:7001,rediss://c:7002"
    assert Settings.from_env({"REDIS_URL": "unix:///tmp/r.sock"}, dotenv=None).redis_url == "unix:///tmp/r.sock"


def test_every_variable_is_in_the_readme_and_env_example():
    root = Path(__file__).resolve().parents[2]
    readme, example = (root / "README.md").read_text(), (root / ".env.example").read_text()
    for name in ENVIRONMENT:
        assert f"`{name}`" in readme, name
        assert f"{name}=" in example, name


def test_invalid_setting_stops_start_up_with_one_line(tmp_path: Path):
    env = {**os.environ, "MICROQ_TOPIC_MAX_MESSAGES": "lots", "MICROQ_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "microq", "serve", "--port", "1"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "MICROQ_TOPIC_MAX_MESSAGES" in result.stderr and "Traceback" not in result.stderr


def test_mongo_variables_are_ignored_with_a_warning(caplog):
    settings = Settings.from_env({"MONGO_URI": "mongodb://x", "MONGO_DB_NAME": "q"}, dotenv=None)
    assert settings.redis_url == ""
    assert "REDIS_URL" in caplog.text
