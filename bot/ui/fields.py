"""Form fields the check-in settings and digest settings share: days, times, time zones.

Pure: each returns Block Kit options for the value a person has now, so both forms offer the
same choices and a current value outside the usual list is still shown.
"""

from __future__ import annotations

from slack_sdk.models.blocks import Option

from bot.schedule import DAYS

TIME_ZONES = (
    "Europe/London",
    "Europe/Dublin",
    "Europe/Gibraltar",
    "Europe/Paris",
    "Atlantic/Reykjavik",
    "America/New_York",
    "America/Toronto",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Australia/Sydney",
    "Pacific/Auckland",
    "UTC",
)
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


def option(value: str, label: str) -> Option:
    return Option(value=value, label=label)


def day_options() -> list[Option]:
    return [option(d, DAY_NAMES[d]) for d in DAYS]


def time_options(current: str, first_hour: int, last_hour: int) -> list[Option]:
    """Every half hour from `first_hour` up to (not including) `last_hour`, and `current`."""
    times = [
        option(f"{h:02d}:{m:02d}", f"{h:02d}:{m:02d}")
        for h in range(first_hour, last_hour)
        for m in (0, 30)
    ]
    if current not in [o.value for o in times]:
        times.insert(0, option(current, current))
    return times


def zone_options(current: str) -> list[Option]:
    return [option(z, z.replace("_", " ")) for z in dict.fromkeys((current, *TIME_ZONES))]


def pick(options: list[Option], value: str | None) -> Option:
    """The option for `value`, or the first when there is none."""
    return next((o for o in options if o.value == value), options[0])
