"""Strata: how a pool member or a register row falls into the quota categories.

The categories are read off the quotas themselves, so a features.csv written by hand,
by another tool or by ``otos panel quotas`` works as is:

- ``age``: values like ``18-29`` and ``75+`` (age on the day of the draw);
- ``sex``: ``1``/``2``, ``male``/``female`` or ``mies``/``nainen``;
- ``language``: ``fi``, ``sv`` and one catch-all (``other``, ``muu`` ...) for the rest;
- ``municipality``: a municipality code or name (fi or sv), plus an optional catch-all
  group (``muut``, ``other`` ...) for the municipalities not named;
- ``education``: the member's self-reported education as written;
- any other feature: that key of the member's free self-reported attributes.
"""
from __future__ import annotations

import datetime as dt
import json
import re

from pool.reference import municipalities

CATCH_ALL = ("muut", "muu", "other", "others", "övriga", "rest")
SEX_WORDS = {"1": 1, "2": 2, "m": 1, "f": 2, "male": 1, "female": 2, "mies": 1, "nainen": 2, "man": 1,
             "woman": 2, "men": 1, "women": 2, "miehet": 1, "naiset": 2}
_BAND = re.compile(r"(\d+)\s*(?:-\s*(\d+)|\+)")
NO_VALUE = ""  # a member the quotas have no category for (reported by the problem check)


def age_on(birth_year: int | None, day: dt.date) -> int | None:
    """Age in whole years on ``day`` when only the birth year is known (1 July assumed)."""
    if birth_year is None:
        return None
    return day.year - birth_year - (1 if (day.month, day.day) < (7, 1) else 0)


def _age_value(age: int | None, values: list[str]) -> str:
    if age is None:
        return NO_VALUE
    for v in values:
        m = _BAND.fullmatch(v.strip())
        if m and int(m.group(1)) <= age <= (int(m.group(2)) if m.group(2) else 200):
            return v
    return NO_VALUE


def _catch_all(values: list[str]) -> str:
    return next((v for v in values if v.casefold() in CATCH_ALL), NO_VALUE)


def _municipality_value(code: str | None, values: list[str]) -> str:
    if not code:
        return NO_VALUE
    m = municipalities().get(code)
    names = {code.casefold()} | ({m.name_fi.casefold(), m.name_sv.casefold()} if m else set())
    for v in values:
        if v.casefold() in names:
            return v
    return _catch_all(values)


def value_for(feature: str, values: list[str], *, birth_year: int | None, sex: int | None,
              mother_tongue: str | None, municipality: str | None, education: str | None,
              extra: dict | None, day: dt.date) -> str:
    """The quota value of ``feature`` for one person, or "" when none fits."""
    name = feature.casefold()
    if name in ("age", "ikä", "ika", "age_band", "ikäryhmä"):
        return _age_value(age_on(birth_year, day), values)
    if name in ("sex", "gender", "sukupuoli"):
        return next((v for v in values if SEX_WORDS.get(v.casefold()) == sex), NO_VALUE) if sex else NO_VALUE
    if name in ("language", "kieli", "språk"):
        lang = (mother_tongue or "").casefold()
        direct = next((v for v in values if v.casefold() == lang), None)
        return direct or (_catch_all(values) if lang else NO_VALUE)
    if name in ("municipality", "kunta", "kommun", "municipality_group", "kuntaryhmä"):
        return _municipality_value(municipality, values)
    if name in ("education", "koulutus"):
        return next((v for v in values if education and v.casefold() == education.casefold()), NO_VALUE)
    value = (extra or {}).get(feature)
    return next((v for v in values if value is not None and v.casefold() == str(value).casefold()), NO_VALUE)


def member_values(member, features: list[str], quota_values: dict[str, list[str]], day: dt.date) -> tuple[str, ...]:
    """A pool member's quota values, in ``features`` order."""
    extra = json.loads(member.extra) if member.extra else {}
    return tuple(value_for(f, quota_values[f], birth_year=member.birth_year, sex=member.sex,
                           mother_tongue=member.mother_tongue, municipality=member.municipality,
                           education=member.education, extra=extra, day=day) for f in features)


def suggested_municipality_groups(county: str, min_population: int = 20_000) -> dict[str, str]:
    """Municipality code -> group for a county: big municipalities alone, the rest "muut"."""
    from pool.reference import find_county

    county = find_county(county)
    return {m.code: (m.name_fi if m.population >= min_population else "muut")
            for m in municipalities().values() if m.county == county}
