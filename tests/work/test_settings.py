"""The work part's settings: the lease and the retries, read with microq/parse.py's rules."""

from __future__ import annotations

import pytest

from microq.settings import Settings, SettingsError


def test_defaults():
    settings = Settings.from_env({}, dotenv=None)
    assert settings.work_lease == 1800 and settings.work_max_retries == 3


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("1h30m", 5400), ("1.5h", 5400), ("24h", 86400), ("45", 45)])
def test_lease(text, seconds):
    assert Settings.from_env({"MICROQ_WORK_LEASE": text}, dotenv=None).work_lease == seconds


@pytest.mark.parametrize("text", ["25h", "0s", "-1m", "١٠s", "1_0s", "soon", ""])
def test_bad_lease_stops_start_up(text):
    with pytest.raises(SettingsError, match="MICROQ_WORK_LEASE"):
        Settings.from_env({"MICROQ_WORK_LEASE": text}, dotenv=None)


def test_max_retries():
    assert Settings.from_env({"MICROQ_WORK_MAX_RETRIES": "0"}, dotenv=None).work_max_retries == 0
    for bad in ("101", "-1", "١", "1_0", "two", ""):
        with pytest.raises(SettingsError, match="MICROQ_WORK_MAX_RETRIES"):
            Settings.from_env({"MICROQ_WORK_MAX_RETRIES": bad}, dotenv=None)
