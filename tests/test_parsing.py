"""Tests for bot.parsing: tables of accepted and refused user input for every parser."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.errors import InputError
from bot.parsing import (
    DATE_ACCEPTED,
    DELTA_ACCEPTED,
    DURATION_ACCEPTED,
    HOURS_PER_DAY_ACCEPTED,
    STUDY_DATE_ACCEPTED,
    TIME_ACCEPTED,
    TIMEZONE_ACCEPTED,
    WEEKDAY_ACCEPTED,
    WEEKS_ACCEPTED,
    check_text,
    parse_date,
    parse_duration,
    parse_hours_per_day,
    parse_int_in_range,
    parse_score,
    parse_signed_delta,
    parse_study_date,
    parse_time_of_day,
    parse_timezone,
    parse_weekday,
    parse_weeks,
    quote_input,
    tokenize,
)

# Saturday 28 November 2026.
TODAY = dt.date(2026, 11, 28)


def refused(func, *args, **kwargs) -> str:
    """Call `func` expecting InputError and return its message."""
    with pytest.raises(InputError) as info:
        func(*args, **kwargs)
    return info.value.message


# --- durations ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("4h", 240), ("1h30m", 90), ("1h 30m", 90), ("90m", 90), ("90min", 90), ("2.5h", 150),
        ("2,5h", 150), ("1:30", 90), ("0:45", 45), ("45m", 45), ("45 min", 45),
        ("45 minutes", 45), ("1 hour", 60), ("2 hours", 120), ("1 hour 30 minutes", 90),
        ("1h and 30m", 90), ("1h30", 90), ("1hr", 60), ("3 hrs", 180), ("2", 120),
        ("2.5", 150), ("0.25h", 15), ("24h", 1440), ("24", 1440), ("24:00", 1440),
        ("1440m", 1440), ("  4H  ", 240), ("1H30M", 90), ("1m", 1), ("0.1h", 6),
    ],
)
def test_parse_duration_accepts(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"), ("   ", "missing"), ("0", "zero"), ("0h", "zero"), ("0m", "zero"),
        ("0:00", "zero"), ("-1h", "negative"), ("-30m", "negative"), ("25h", "more than 24"),
        ("1441m", "more than 24"), ("24:01", "more than 24"), ("45", "45m"),
        ("nan", "not a duration"), ("inf", "not a duration"), ("4x", "not a duration"),
        ("1:75", "00 to 59"), ("1h 90m", "below 60"), ("1.5m", "whole minutes"),
        ("1.33h", "whole minutes"), ("1.5h30m", "fractional hours"), ("h", "not a duration"),
        ("4 h h", "not a duration"), ("1e3m", "not a duration"), ("four hours", "not a duration"),
        ("٣h", "not a duration"), ("1:5", "not a duration"), ("30m1h", "not a duration"),
    ],
)
def test_parse_duration_refuses(text: str, reason: str) -> None:
    message = refused(parse_duration, text)
    assert reason in message
    assert DURATION_ACCEPTED in message


@pytest.mark.parametrize(
    ("text", "minutes"), [("4", 240), ("4h", 240), ("2.5", 150), ("3h30m", 210), ("90m", 90)]
)
def test_parse_hours_per_day_accepts(text: str, minutes: int) -> None:
    assert parse_hours_per_day(text) == minutes


@pytest.mark.parametrize("text", ["0", "25", "-2", "lots", "", "48h"])
def test_parse_hours_per_day_refuses(text: str) -> None:
    assert HOURS_PER_DAY_ACCEPTED in refused(parse_hours_per_day, text)


# --- study dates -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("today", TODAY), ("Today", TODAY), ("yesterday", dt.date(2026, 11, 27)),
        ("sat", TODAY), ("saturday", TODAY), ("fri", dt.date(2026, 11, 27)),
        ("mon", dt.date(2026, 11, 23)), ("Monday", dt.date(2026, 11, 23)),
        ("sun", dt.date(2026, 11, 22)), ("tues", dt.date(2026, 11, 24)),
        ("thu", dt.date(2026, 11, 26)), ("WED", dt.date(2026, 11, 25)),
        ("2026-11-28", TODAY), ("2026-11-01", dt.date(2026, 11, 1)),
        ("2000-01-01", dt.date(2000, 1, 1)), ("15 Nov 2026", dt.date(2026, 11, 15)),
        ("Nov 15, 2026", dt.date(2026, 11, 15)),
    ],
)
def test_parse_study_date_accepts(text: str, expected: dt.date) -> None:
    assert parse_study_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"), ("tomorrow", "tomorrow"), ("2026-11-29", "future"),
        ("2027-01-01", "future"), ("1999-12-31", "2000 to 2100"), ("someday", "not a day"),
        ("11/27/2026", "ambiguous"), ("2026-02-30", "not a real date"), ("27 Nov", "no year"),
        ("monday next", "not a day"), ("mond", "not a day"), ("-1", "not a day"),
    ],
)
def test_parse_study_date_refuses(text: str, reason: str) -> None:
    message = refused(parse_study_date, text, TODAY)
    assert reason in message
    assert "2026-11-28" in message or "2027-02-01" in message  # shows an accepted example


def test_study_date_messages_name_every_form() -> None:
    for form in ("today", "yesterday", "weekday", "2026-11-28"):
        assert form in STUDY_DATE_ACCEPTED


# --- calendar dates ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2027-01-15", dt.date(2027, 1, 15)), ("2027/01/15", dt.date(2027, 1, 15)),
        ("2027-1-5", dt.date(2027, 1, 5)), ("15 Jan 2027", dt.date(2027, 1, 15)),
        ("15 January 2027", dt.date(2027, 1, 15)), ("Jan 15 2027", dt.date(2027, 1, 15)),
        ("Jan 15, 2027", dt.date(2027, 1, 15)), ("January 15, 2027", dt.date(2027, 1, 15)),
        ("15-Jan-2027", dt.date(2027, 1, 15)), ("1st Feb 2027", dt.date(2027, 2, 1)),
        ("Sept 3 2027", dt.date(2027, 9, 3)), ("29 Feb 2028", dt.date(2028, 2, 29)),
        ("2100-12-31", dt.date(2100, 12, 31)), ("  2027-01-15 ", dt.date(2027, 1, 15)),
    ],
)
def test_parse_date_accepts(text: str, expected: dt.date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"), ("01/02/2027", "ambiguous"), ("1.2.2027", "ambiguous"),
        ("01-02-27", "ambiguous"), ("2027-13-01", "month must be 1 to 12"),
        ("2027-02-29", "not a real date"), ("31 Apr 2027", "not a real date"),
        ("1999-12-31", "2000 to 2100"), ("2101-01-01", "2000 to 2100"),
        ("15 Foo 2027", "do not know the month"), ("Jan 15", "no year"),
        ("15 January", "no year"), ("next friday", "not a date"), ("20270115", "not a date"),
        ("tomorrow", "not a date"),  # without today= relative words are not known
    ],
)
def test_parse_date_refuses(text: str, reason: str) -> None:
    message = refused(parse_date, text)
    assert reason in message
    assert "2027" in message  # every message shows an accepted example


def test_date_accepted_text() -> None:
    assert "2027-01-15" in DATE_ACCEPTED and "15 Jan 2027" in DATE_ACCEPTED


@pytest.mark.parametrize(
    ("text", "kwargs", "expected"),
    [
        ("today", {"today": TODAY}, TODAY),
        ("tomorrow", {"today": TODAY, "allow_past": False}, dt.date(2026, 11, 29)),
        ("yesterday", {"today": TODAY}, dt.date(2026, 11, 27)),
        ("2026-11-28", {"today": TODAY, "allow_past": False}, TODAY),
        ("2026-11-28", {"today": TODAY, "allow_future": False}, TODAY),
        ("2020-01-01", {"today": TODAY, "allow_future": False}, dt.date(2020, 1, 1)),
    ],
)
def test_parse_date_relative_and_limits(text: str, kwargs: dict, expected: dt.date) -> None:
    assert parse_date(text, **kwargs) == expected


@pytest.mark.parametrize(
    ("text", "kwargs", "reason"),
    [
        ("2026-11-27", {"today": TODAY, "allow_past": False}, "in the past"),
        ("yesterday", {"today": TODAY, "allow_past": False}, "in the past"),
        ("2026-11-29", {"today": TODAY, "allow_future": False}, "in the future"),
        ("tomorrow", {"today": TODAY, "allow_future": False}, "in the future"),
    ],
)
def test_parse_date_limits_refuse(text: str, kwargs: dict, reason: str) -> None:
    assert reason in refused(parse_date, text, **kwargs)


def test_parse_date_limits_need_today() -> None:
    with pytest.raises(ValueError, match="today"):
        parse_date("2027-01-01", allow_past=False)


# --- scores and numbers ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "maximum", "expected"),
    [
        ("17/20", 20, 17), ("17", 20, 17), ("17 / 20", 20, 17), ("17 of 20", 20, 17),
        ("17 out of 20", 20, 17), ("17.0", 20, 17), ("0", 20, 0), ("20/20", 20, 20),
        ("+3", 3, 3), ("45/60", 60, 45), (" 2 ", 3, 2), ("8/10", 10, 8),
    ],
)
def test_parse_score_accepts(text: str, maximum: int, expected: int) -> None:
    assert parse_score(text, maximum) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("21/20", "more than the maximum of 20"), ("21", "more than the maximum of 20"),
        ("17/10", "out of 20, not 10"), ("5/100", "out of 20, not 100"),
        ("-1", "negative"), ("−1", "negative"), ("17.5", "whole number"),
        ("17,5", "whole number"), ("", "missing"), ("abc", "not a score"), ("/20", "not a score"),
        ("17/", "not a score"), ("17/20/3", "not a score"), ("nan", "not a score"),
        ("seventeen", "not a score"), ("85%", "not a score"),
    ],
)
def test_parse_score_refuses(text: str, reason: str) -> None:
    message = refused(parse_score, text, 20)
    assert reason in message
    assert "N/20" in message


def test_parse_score_needs_positive_maximum() -> None:
    with pytest.raises(ValueError, match="positive"):
        parse_score("1", 0)


@pytest.mark.parametrize(
    ("text", "expected"), [("1", 1), ("5", 5), (" 3 ", 3), ("+4", 4), ("05", 5)]
)
def test_parse_int_in_range_accepts(text: str, expected: int) -> None:
    assert parse_int_in_range(text, 1, 5, "The rating") == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("0", "out of range"), ("6", "out of range"), ("-1", "out of range"),
     ("3.5", "not a whole number"), ("x", "not a whole number"), ("", "Nothing given"),
     ("1e2", "not a whole number")],
)
def test_parse_int_in_range_refuses(text: str, reason: str) -> None:
    message = refused(parse_int_in_range, text, 1, 5, "The rating")
    assert reason in message
    assert "The rating must be a whole number from 1 to 5." in message


def test_parse_int_in_range_capitalises_what() -> None:
    assert "A skill rating must be a whole number from 1 to 5." in refused(
        parse_int_in_range, "9", 1, 5, "a skill rating")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("+1", ("+", 1)), ("-2", ("-", 2)), ("=5", ("=", 5)), ("5", ("=", 5)), ("=0", ("=", 0)),
     ("+ 3", ("+", 3)), ("−2", ("-", 2)), (" +10 ", ("+", 10)), ("0", ("=", 0))],
)
def test_parse_signed_delta_accepts(text: str, expected: tuple[str, int]) -> None:
    assert parse_signed_delta(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "missing"), ("+0", "changes nothing"), ("-0", "changes nothing"),
     ("++1", "not a change"), ("1.5", "not a change"), ("x", "not a change"),
     ("+1000001", "too large"), ("*2", "not a change"), ("5-", "not a change")],
)
def test_parse_signed_delta_refuses(text: str, reason: str) -> None:
    message = refused(parse_signed_delta, text)
    assert reason in message
    assert DELTA_ACCEPTED in message


@pytest.mark.parametrize(
    ("text", "expected"), [("4", 4), ("4w", 4), ("4 weeks", 4), ("1 week", 1), ("104", 104),
                           ("12wk", 12)],
)
def test_parse_weeks_accepts(text: str, expected: int) -> None:
    assert parse_weeks(text) == expected


@pytest.mark.parametrize("text", ["0", "105", "four", "", "-3", "4 months", "2.5"])
def test_parse_weeks_refuses(text: str) -> None:
    assert WEEKS_ACCEPTED in refused(parse_weeks, text)


# --- times of day and weekdays -----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("19:30", dt.time(19, 30)), ("07:00", dt.time(7, 0)), ("7:00", dt.time(7, 0)),
        ("0:00", dt.time(0, 0)), ("23:59", dt.time(23, 59)), ("7pm", dt.time(19, 0)),
        ("7 pm", dt.time(19, 0)), ("7:30 pm", dt.time(19, 30)), ("7:30pm", dt.time(19, 30)),
        ("7.30pm", dt.time(19, 30)), ("7 p.m.", dt.time(19, 0)), ("7am", dt.time(7, 0)),
        ("12am", dt.time(0, 0)), ("12pm", dt.time(12, 0)), ("12:30 AM", dt.time(0, 30)),
        ("noon", dt.time(12, 0)), ("Midnight", dt.time(0, 0)), ("19h30", dt.time(19, 30)),
    ],
)
def test_parse_time_of_day_accepts(text: str, expected: dt.time) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"), ("24:00", "hour must be 0 to 23"), ("25:00", "hour must be 0 to 23"),
        ("7:60", "00 to 59"), ("13pm", "1 to 12"), ("0pm", "1 to 12"), ("0am", "1 to 12"),
        ("7:75pm", "00 to 59"), ("7", "ambiguous"), ("1930", "ambiguous"),
        ("7:5", "not a time"), ("19:30:00", "not a time"), ("evening", "not a time"),
        ("7 o'clock", "not a time"), ("-7:00", "not a time"),
    ],
)
def test_parse_time_of_day_refuses(text: str, reason: str) -> None:
    message = refused(parse_time_of_day, text)
    assert reason in message
    assert TIME_ACCEPTED in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [("monday", 0), ("Mon", 0), ("tue", 1), ("Tues", 1), ("wednesday", 2), ("weds", 2),
     ("thu", 3), ("thurs", 3), ("FRI", 4), ("sat", 5), ("sunday", 6), ("sun.", 6),
     ("mondays", 0)],
)
def test_parse_weekday_accepts(text: str, expected: int) -> None:
    assert parse_weekday(text) == expected


@pytest.mark.parametrize("text", ["", "mo", "moon", "1", "weekend", "funday", "suns"])
def test_parse_weekday_refuses(text: str) -> None:
    assert WEEKDAY_ACCEPTED in refused(parse_weekday, text)


# --- time zones --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"), ("europe/berlin", "Europe/Berlin"),
        ("berlin", "Europe/Berlin"), ("Berlin", "Europe/Berlin"),
        ("America/New_York", "America/New_York"), ("america/new york", "America/New_York"),
        ("new york", "America/New_York"), ("kolkata", "Asia/Kolkata"), ("UTC", "UTC"),
        ("utc", "UTC"), ("Etc/UTC", "Etc/UTC"), ("tokyo", "Asia/Tokyo"),
        ("america/argentina/buenos_aires", "America/Argentina/Buenos_Aires"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("indianapolis", "America/Indiana/Indianapolis"),
    ],
)
def test_parse_timezone_accepts(text: str, expected: str) -> None:
    assert parse_timezone(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "missing"), ("UTC+2", "fixed offset"), ("utc-5", "fixed offset"),
        ("GMT+1", "fixed offset"), ("+02:00", "fixed offset"), ("-0500", "fixed offset"),
        ("UTC+05:30", "fixed offset"), ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"), ("CET", "Europe/Berlin"), ("IST", "Asia/Kolkata"),
        ("berln", "Did you mean Europe/Berlin"), ("Europe/Berlinn", "Did you mean Europe/Berlin"),
        ("Mars/Olympus", "not a time zone"), ("localtime", "not a time zone"),
        ("pacific", "several zones"), ("eastern", "several zones"),
    ],
)
def test_parse_timezone_refuses(text: str, reason: str) -> None:
    message = refused(parse_timezone, text)
    assert reason in message
    assert TIMEZONE_ACCEPTED in message or "full name" in message


# --- text and tokens ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [("  hello  ", "hello"), ("two\nlines", "two\nlines"), ("crlf\r\nline", "crlf\nline"),
     ("émoji 🚀 ok", "émoji 🚀 ok"), ("x" * 20, "x" * 20)],
)
def test_check_text_accepts(text: str, expected: str) -> None:
    assert check_text(text, "The note", 20) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [("", "is empty"), ("   \n ", "is empty"), ("x" * 21, "21 characters long; the limit is 20"),
     ("tab\there", "control character (U+0009)"), ("bell\x07", "control character"),
     ("nul\x00", "control character"), ("rtl\u202eevil", "control character (U+202E)")],
)
def test_check_text_refuses(text: str, reason: str) -> None:
    message = refused(check_text, text, "The note", 20)
    assert message.startswith("The note")
    assert reason in message


@pytest.mark.parametrize(
    ("line", "tokens"),
    [
        ('add "NVIDIA interview" 2027-01-15', ["add", "NVIDIA interview", "2027-01-15"]),
        ("plain words  here", ["plain", "words", "here"]),
        ("", []), ("   ", []),
        ("“smart quotes” too", ["smart quotes", "too"]),
        ('say "a \\"quoted\\" word"', ["say", 'a "quoted" word']),
        ('empty ""', ["empty", ""]),
        ('pre"fix and" more', ["prefix and", "more"]),
        ("don't split apostrophes", ["don't", "split", "apostrophes"]),
        ("back\\slash", ["back\\slash"]),
    ],
)
def test_tokenize(line: str, tokens: list[str]) -> None:
    assert tokenize(line) == tokens


@pytest.mark.parametrize("line", ['add "NVIDIA interview 2027-01-15', '"', 'a "b" "c', "“open"])
def test_tokenize_unclosed_quote(line: str) -> None:
    assert "quote is not closed" in refused(tokenize, line)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("hi", '"hi"'), ("@everyone", '"@\u200beveryone"'), ("<@123>", '"<@\u200b123>"'),
     ("<!channel>", '"<\u200b!channel>"'), ("a\nb", '"a b"'), ("x" * 50, '"' + "x" * 39 + '…"')],
)
def test_quote_input(text: str, expected: str) -> None:
    assert quote_input(text) == expected


def test_refusals_defuse_mentions() -> None:
    assert "@everyone" not in refused(parse_duration, "@everyone")
    assert "@here" not in refused(parse_timezone, "@here")
