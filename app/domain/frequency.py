"""How often a subscription ships: every N days, weeks, months or years.

Written ``"4_2"`` (every 4 weeks) in offers and forms, ``{"every": 4, "every_period": 2}`` in the
APIs and the feed, and as two columns on rows; ``Frequency.parse`` reads all of them. Dates are
calendar dates: days and weeks add days; months and years land on the same day of the month, or
on the last day of a shorter month (31 January + 1 month = 28 or 29 February). ``days`` counts a
month as 30 days and a year as 365 (*decided*: Ordergroove documents only days and weeks).
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

PERIODS = {1: "day", 2: "week", 3: "month", 4: "year"}
DAYS_PER_PERIOD = {1: 1, 2: 7, 3: 30, 4: 365}
MAX_EVERY = 999
CODE_RE = re.compile(r"([1-9][0-9]{0,2})_([1-4])")


@dataclass(frozen=True)
class Frequency:
    every: int
    period: int  # 1 day, 2 week, 3 month, 4 year (Ordergroove's ``every_period``)

    def __post_init__(self) -> None:
        if (
            not isinstance(self.every, int)
            or isinstance(self.every, bool)
            or not 1 <= self.every <= MAX_EVERY
        ):
            raise ValueError(f"every must be a whole number from 1 to {MAX_EVERY}")
        if self.period not in PERIODS or isinstance(self.period, bool):
            raise ValueError("every_period must be 1 (days), 2 (weeks), 3 (months) or 4 (years)")

    @classmethod
    def parse(cls, value: Any) -> Frequency:
        """A frequency from ``"4_2"``, ``{"every": 4, "every_period": 2}`` or ``(4, 2)``."""
        if isinstance(value, Frequency):
            return value
        if isinstance(value, str):
            match = CODE_RE.fullmatch(value.strip())
            if not match:
                raise ValueError(f"{value[:20]!r} is not a frequency such as 4_2 (every 4 weeks).")
            return cls(int(match.group(1)), int(match.group(2)))
        if isinstance(value, Mapping):
            return cls(value.get("every"), value.get("every_period"))
        if isinstance(value, tuple) and len(value) == 2:
            return cls(*value)
        raise ValueError("A frequency is every and every_period, such as 4_2 (every 4 weeks).")

    @classmethod
    def of(cls, every: int | None, period: int | None) -> Frequency | None:
        """The frequency of a column pair, or None when either is empty."""
        return cls(every, period) if every and period else None

    @property
    def code(self) -> str:
        return f"{self.every}_{self.period}"

    @property
    def unit(self) -> str:
        return PERIODS[self.period]

    @property
    def span(self) -> str:
        """ "4 weeks", or "week" for every 1 week (what follows "every")."""
        return self.unit if self.every == 1 else f"{self.every} {self.unit}s"

    @property
    def label(self) -> str:
        """ "every 4 weeks", "every month"."""
        return f"every {self.span}"

    @property
    def days(self) -> int:
        return self.every * DAYS_PER_PERIOD[self.period]

    def as_tuple(self) -> tuple[int, int]:
        return self.every, self.period

    def as_dict(self) -> dict[str, int]:
        return {"every": self.every, "every_period": self.period}

    def next_date(self, start: date) -> date:
        """``start`` plus this frequency, in calendar terms (end-of-month safe)."""
        if self.period in (1, 2):
            return start + timedelta(days=self.days)
        months = self.every * (12 if self.period == 4 else 1)
        year, month = divmod(start.month - 1 + months, 12)
        year, month = start.year + year, month + 1
        return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def label(every: int | None, period: int | None) -> str:
    """ "every 4 weeks" for a column pair, tolerating values no Frequency can hold."""
    try:
        return Frequency(every, period).label
    except ValueError:
        return f"every {every} {PERIODS.get(period, '?')}{'s' if every != 1 else ''}"
