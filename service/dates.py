"""Dates with a precision: `2016`, `2016-11`, `2016-11-14`. A year is never 1 January."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

from service.models.common import Precision

_PATTERN = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


@dataclass(frozen=True, slots=True, order=True)
class PartialDate:
    """A date known to a day, a month or a year: the interval [earliest, latest]."""

    earliest: date
    precision: Precision

    @property
    def latest(self) -> date:
        """Last day the date can stand for."""
        d = self.earliest
        if self.precision is Precision.year:
            return date(d.year, 12, 31)
        if self.precision is Precision.month:
            return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])
        return d

    @property
    def midpoint(self) -> date:
        """Middle day of the interval (the point value used where one date is needed)."""
        return date.fromordinal((self.earliest.toordinal() + self.latest.toordinal()) // 2)

    def __str__(self) -> str:
        d = self.earliest
        if self.precision is Precision.year:
            return f"{d.year:04d}"
        if self.precision is Precision.month:
            return f"{d.year:04d}-{d.month:02d}"
        return d.isoformat()

    @classmethod
    def parse(cls, text: str) -> PartialDate:
        """Parse `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; raise ValueError naming the problem."""
        m = _PATTERN.match(text.strip())
        if not m:
            raise ValueError(f"{text!r} is not a date (write 2016, 2016-11 or 2016-11-14)")
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        if month is None:
            return cls(date(year, 1, 1), Precision.year)
        if not 1 <= int(month) <= 12:
            raise ValueError(f"{text!r}: month {month} does not exist")
        if day is None:
            return cls(date(year, int(month), 1), Precision.month)
        try:
            return cls(date(year, int(month), int(day)), Precision.day)
        except ValueError:
            raise ValueError(f"{text!r}: day {day} does not exist in that month") from None

    @classmethod
    def of(cls, value: date, precision: str | Precision) -> PartialDate:
        """Build from a stored first day and its precision."""
        return cls(value, Precision(precision))
