"""UK bank-holiday divisions and where their holidays come from.

GOV.UK publishes three divisions; the ``holidays`` package models them as subdivisions of ``GB``.
A subdivision must always be passed: without one the package silently drops Easter Monday and the
August holiday. Wales has the same bank holidays as England.
"""

from __future__ import annotations

from datetime import date

import holidays

from sla.errors import UnknownDivisionError

DIVISIONS: dict[str, str] = {
    "england-and-wales": "ENG",
    "scotland": "SCT",
    "northern-ireland": "NIR",
}


def check_division(division: str) -> str:
    """Return the ``holidays`` subdivision code for a GOV.UK division name."""
    try:
        return DIVISIONS[division]
    except (KeyError, TypeError):
        raise UnknownDivisionError(str(division), tuple(DIVISIONS)) from None


def bank_holidays(division: str, first_year: int, last_year: int) -> dict[date, str]:
    """Every bank holiday of the division in the years, including weekend-dated ones.

    Names of holidays sharing a date are joined with ``"; "``.
    """
    subdiv = check_division(division)
    table = holidays.country_holidays("GB", subdiv=subdiv, years=range(first_year, last_year + 1))
    return {day: "; ".join(table.get_list(day)) for day in sorted(table)}
