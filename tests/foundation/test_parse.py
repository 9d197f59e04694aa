"""microq.parse: the one parser for numbers, flags and durations."""

import pytest

from microq import parse


@pytest.mark.parametrize("text, seconds", [
    ("500ms", 0.5), ("5m", 300), ("2", 2), ("1.5", 1.5), ("30s", 30), ("1d", 86400), (" 1h ", 3600),
    # Go's time.Duration.String() and time.ParseDuration forms, as TinyMQ's Go SDK sends them
    ("1h0m0s", 3600), ("1m30s", 90), ("2h45m", 9900), ("1.5h", 5400), ("300ms", 0.3), ("100us", 1e-4),
    ("100\u00b5s", 1e-4), ("100\u03bcs", 1e-4), ("250ns", 2.5e-7), ("+5s", 5), ("0", 0), (".5s", 0.5),
])
def test_durations(text, seconds):
    assert parse.duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("bad", [
    "", "5x", "-1s", "-1", "1e9s", "s", "1h-5m", "1h 5m", "h1", "1_000", "\u0661\u0660s", "\u0661\u0660",
    "inf", "nan", "1" * 65, "5mm", "1.2.3s", None,
])
def test_durations_refused(bad):
    with pytest.raises(ValueError):
        parse.duration(bad)


def test_whole_numbers_are_ascii_digits_only():
    assert parse.whole_number("10", 1, 100) == 10 and parse.whole_number(" 7 ", 0, 9) == 7
    for bad in ("\u0661\u0660", "1_000", "+5", "-1", "1.0", "", "0x10", "101", "9" * 100, None):
        with pytest.raises(ValueError):
            parse.whole_number(bad, 0, 100)


def test_flags():
    assert parse.flag("TRUE") and parse.flag("1") and parse.flag("on") and not parse.flag("") and not parse.flag("no")
    for bad in ("maybe", "2", None):
        with pytest.raises(ValueError):
            parse.flag(bad)
