"""Crontab expressions as APScheduler 3 triggers, with crontab's weekday numbers.

APScheduler 3 reads day-of-week 0 as Monday, crontab as Sunday (`CronTrigger.from_crontab`
keeps APScheduler's numbering, so "0 6 * * 1" would fire on Tuesdays). The weekday field is
therefore read here the crontab way (0 or 7 Sunday, 1 Monday … 6 Saturday, or names,
ranges, lists and steps) and handed to APScheduler as day names.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def _day(text: str) -> int:
    t = text.strip().lower()
    if t[:3] in _NAMES and len(t) == 3:
        return _NAMES.index(t)
    if not t.isdigit() or not 0 <= int(t) <= 7:
        raise ValueError(f"day of week {text!r} is not 0-7 or sun-sat")
    return int(t)


def crontab_weekdays(field: str) -> str:
    """A crontab day-of-week field as APScheduler day names (`*` stays `*`)."""
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() and int(step_text) > 0 else None
        if step_text and step is None:
            raise ValueError(f"step {step_text!r} is not a positive number")
        if span == "*":
            lo, hi = 0, 6
        elif "-" in span:
            a, b = span.split("-", 1)
            lo, hi = _day(a), _day(b)
            if hi < lo:
                raise ValueError(f"range {span!r} runs backwards")
        else:
            lo = _day(span)
            hi = 6 if step else lo
        days.update(d % 7 for d in range(lo, hi + 1, step or 1))
    return ",".join(_NAMES[d] for d in sorted(days))


def cron_trigger(expr: str, *, timezone: str = "UTC") -> CronTrigger:
    """A trigger from a five-field crontab expression (minute hour day month weekday)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"{len(fields)} fields; a crontab expression has five")
    minute, hour, day, month, weekday = fields
    return CronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=crontab_weekdays(weekday),
        timezone=timezone,
    )
