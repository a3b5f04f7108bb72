"""The global limiter on a fake clock: no burst, at most N in any window, 429s pause it."""

from __future__ import annotations

import asyncio

import discord.http
import pytest

from bot.config import DiscordSettings, Settings
from bot.discord.ratelimit import GlobalLimiter, sweep_buckets_sparingly


class FakeTime:
    """A monotonic clock that advances only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def _busiest(times: list[float], window: float = 1.0) -> int:
    most, start = 0, 0
    for end, at in enumerate(times):
        while at - times[start] >= window - 1e-9:
            start += 1
        most = max(most, end - start + 1)
    return most


async def _stamps(limiter: GlobalLimiter, clock: FakeTime, n: int) -> list[float]:
    out: list[float] = []

    async def one() -> None:
        await limiter.acquire()
        out.append(clock.now)

    await asyncio.gather(*(one() for _ in range(n)))
    return out


@pytest.mark.parametrize("per_second", [45, 50, 5])
async def test_no_window_holds_more_than_the_limit_from_the_first_request(
        per_second: int) -> None:
    clock = FakeTime()
    limiter = GlobalLimiter(per_second, monotonic=clock.monotonic, sleep=clock.sleep)
    stamps = await _stamps(limiter, clock, per_second * 4)
    assert _busiest(stamps) <= per_second
    assert _busiest(stamps[:per_second + 1], 0.5) <= per_second // 2 + 1  # evenly spaced
    assert limiter.requests == per_second * 4
    assert stamps[-1] - stamps[0] >= 4 - 1.5  # it really waited: 4 windows' worth


async def test_a_global_429_holds_every_request_for_retry_after() -> None:
    clock = FakeTime()
    limiter = GlobalLimiter(45, monotonic=clock.monotonic, sleep=clock.sleep)
    await limiter.acquire()
    limiter.pause(2.0)
    paused_at = clock.now
    stamps = await _stamps(limiter, clock, 3)
    assert min(stamps) >= paused_at + 2.0


async def test_interaction_endpoints_are_not_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord.http.Route, "BASE", "https://discord.com/api/v10")
    limiter = GlobalLimiter()
    assert limiter.counts("https://discord.com/api/v10/channels/1/messages")
    assert limiter.counts("https://discord.com/api/v10/users/@me/channels")
    assert not limiter.counts("https://discord.com/api/v10/interactions/1/tok/callback")
    assert not limiter.counts("https://discord.com/api/v10/webhooks/1/tok")
    assert not limiter.counts("wss://gateway.discord.gg/?v=10")


async def test_discord_py_sweeps_its_buckets_on_a_timer_not_on_every_new_one() -> None:
    clock = FakeTime()
    http = discord.http.HTTPClient(asyncio.get_running_loop())
    sweeps: list[float] = []
    original = http._try_clear_expired_ratelimits

    def counted() -> None:
        sweeps.append(clock.now)
        original()

    http._try_clear_expired_ratelimits = counted  # type: ignore[method-assign]
    sweep_buckets_sparingly(http, 30.0, monotonic=clock.monotonic)
    try:
        for n in range(2000):  # a DM channel each: a new bucket each
            http.get_ratelimit(f"POST /channels/{n}/messages")
        assert sweeps == []
        clock.now += 30
        http.get_ratelimit("POST /channels/x/messages")
        assert sweeps == [clock.now]  # still swept, on the timer
    finally:
        await http.close()


def test_the_per_process_share_is_the_bots_rest_budget() -> None:
    settings = Settings(discord=DiscordSettings(global_rate_total=90, process_count=3))
    assert GlobalLimiter(settings.discord.rate_per_process).per_second == 30
    assert settings.scheduler.send_rate == 30  # the dispatcher's bucket agrees


class LateTime(FakeTime):
    """A clock whose every sleep overshoots by 40 % (a loop busy with other work)."""

    async def sleep(self, seconds: float) -> None:
        await super().sleep(seconds * 1.4)


async def test_sleeps_that_overshoot_are_made_up_without_passing_the_limit() -> None:
    clock = LateTime()
    limiter = GlobalLimiter(45, monotonic=clock.monotonic, sleep=clock.sleep)
    stamps = await _stamps(limiter, clock, 450)
    assert _busiest(stamps) <= 45
    rate = (len(stamps) - 1) / (stamps[-1] - stamps[0])
    assert rate >= 45 * 0.9  # spacing from the last send instead gave 45 / 1.4 = 32 a second


async def test_an_idle_spell_earns_no_burst() -> None:
    clock = FakeTime()
    limiter = GlobalLimiter(45, monotonic=clock.monotonic, sleep=clock.sleep)
    await _stamps(limiter, clock, 10)
    clock.now += 60.0  # nobody asked for a minute
    stamps = await _stamps(limiter, clock, 46)
    assert _busiest(stamps[:24], 0.5) <= 45 // 2 + 1  # evenly spaced again, from the first
