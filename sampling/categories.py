"""Which category each person falls into: one vectorised function, ``categorise``, for
stage 1 (invitation strata), quotas from an extract, the draw, the report and opinions.

A person is a row of a frame with ``birth_year``, ``sex`` (1 male, 2 female),
``mother_tongue``, ``municipality`` (code) and, for volunteers, ``education`` and
``extra`` (their self-reported answers as a dict). A ``Scheme`` says how categories are
named:

- from the workspace (``Scheme(age_bands, groups)``): age bands ``15-29`` ... ``75+``,
  sex ``mies``/``nainen``, language ``fi``/``sv``/``muu``, municipality group (a
  municipality standing alone by its Finnish name, the rest ``muut``);
- from quotas (``Scheme.from_values``): each person gets the value the quotas spell,
  so a features.csv written by hand or by another tool works as is (``18-29``,
  ``male``/``female`` or ``1``/``2``, a municipality by code or name in fi or sv, a
  catch-all such as ``muut``/``other`` for the municipalities or languages not named).

Age is whole years on the reference date from the birth year, with birth on 1 July
assumed. Pool members keep only their birth year, so the register's exact birth date is
deliberately not used: the population, the invited and the volunteers are all aged by
one rule and a person at a band edge lands in the same band at every stage. (Who may be
invited at all, ``min_age``, is a legal matter and is checked on the exact date.)
A person no category fits gets ``NO_VALUE`` ("").
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pool.i18n import N_, _
from pool.reference import SAMI_LANGUAGES, municipalities

DEFAULT_AGE_BANDS = (15, 30, 45, 65, 75)
SEX_LABEL = {1: "mies", 2: "nainen"}  # the one coding of sex in Otos's own labels
SEX_WORDS = {"1": 1, "2": 2, "m": 1, "f": 2, "male": 1, "female": 2, "mies": 1, "nainen": 2, "man": 1,
             "woman": 2, "men": 1, "women": 2, "miehet": 1, "naiset": 2, "kvinna": 2, "kvinnor": 2, "män": 1}
LANGUAGE_GROUPS = ("fi", "sv")
SAMI_GROUP = "saame"  # North, Inari and Skolt Sámi (and the other Sámi languages) together
SAMI_NAMES = ("saame", "sámi", "sami", "saami", "samiska", "saamen kielet", "saamelaiskielet")
OTHER_LANGUAGE = "muu"
OTHER_MUNICIPALITIES = "muut"
CATCH_ALL = ("muut", "muu", "other", "others", "övriga", "rest")
NO_VALUE = ""
COLUMNS = ("birth_year", "sex", "mother_tongue", "municipality", "education", "extra")

_FEATURE = {  # a feature's name in any of the spellings quotas use -> what it is
    **dict.fromkeys(("age", "ikä", "ika", "age_band", "ikäryhmä", "ålder"), "age"),
    **dict.fromkeys(("sex", "gender", "sukupuoli", "kön"), "sex"),
    **dict.fromkeys(("language", "kieli", "språk"), "language"),
    **dict.fromkeys(("municipality", "kunta", "kommun", "municipality_group", "kuntaryhmä"), "municipality"),
    **dict.fromkeys(("education", "koulutus", "utbildning"), "education"),
}
REGISTER_FEATURES = ("age", "sex", "language", "municipality")  # what a register extract can tell
_BAND = re.compile(r"(\d+)\s*(?:-\s*(\d+)|\+)")


def kind(feature: str) -> str | None:
    """``age``, ``sex``, ``language``, ``municipality`` or ``education`` for a feature name
    in any spelling; None for a self-reported attribute."""
    return _FEATURE.get(feature.casefold())


def band_labels(cuts: Sequence[int]) -> list[tuple[int, int | None, str]]:
    """(from, to or None, label) for cut points 18,30,45 -> 18-29, 30-44, 45+."""
    from pool.workspace import check_age_bands

    check_age_bands(tuple(cuts))
    return [(a, cuts[i + 1] - 1 if i + 1 < len(cuts) else None,
             f"{a}-{cuts[i + 1] - 1}" if i + 1 < len(cuts) else f"{a}+") for i, a in enumerate(cuts)]


def age_on(birth_year: int | None, day: dt.date) -> int | None:
    """Age in whole years on ``day`` when only the birth year is known (1 July assumed)."""
    if birth_year is None:
        return None
    return day.year - birth_year - (1 if (day.month, day.day) < (7, 1) else 0)


def ages(birth_years: pd.Series, day: dt.date) -> pd.Series:
    """``age_on`` for a whole column (missing years stay missing)."""
    return day.year - pd.to_numeric(birth_years, errors="coerce") - (1 if (day.month, day.day) < (7, 1) else 0)


@dataclass(frozen=True)
class Scheme:
    """How categories are named: the workspace's bands and groups, or the quotas' values."""

    age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS
    groups: Mapping[str, str] | None = None  # municipality code -> group; None: each by name
    values: Mapping[str, Sequence[str]] | None = field(default=None)  # feature -> the quotas' values

    @classmethod
    def from_values(cls, values: Mapping[str, Sequence[str]]) -> Scheme:
        return cls(values={f: list(v) for f, v in values.items()})

    @classmethod
    def from_workspace(cls, ws) -> Scheme:
        return cls(tuple(ws["age_bands"]), ws.municipality_groups())

    def labels(self, feature: str) -> list[str]:
        """Every value ``feature`` can take under this scheme, in display order."""
        if self.values is not None:
            return list(self.values.get(feature, ()))
        k = kind(feature)
        if k == "age":
            return [label for _x, _x, label in band_labels(self.age_bands)]
        if k == "sex":
            return list(SEX_LABEL.values())
        if k == "language":
            return [*LANGUAGE_GROUPS, SAMI_GROUP, OTHER_LANGUAGE]
        if k == "municipality" and self.groups is not None:
            return sorted(set(self.groups.values()), key=lambda g: (g == OTHER_MUNICIPALITIES, g))
        return []


def categorise(people: pd.DataFrame, features: Sequence[str], day: dt.date, scheme: Scheme) -> pd.DataFrame:
    """Each person's category for each feature (a column per feature, "" where none fits).
    The work is per distinct value, not per person: a million people cost one pass."""
    out = {}
    for feature in features:
        k = kind(feature)
        if k == "age":
            raw = ages(people["birth_year"], day)
        elif k == "sex":
            raw = pd.to_numeric(people["sex"], errors="coerce")
        elif k == "language":
            raw = people["mother_tongue"]
        elif k == "municipality":
            raw = people["municipality"]
        elif k == "education":
            raw = people["education"] if "education" in people else pd.Series(None, index=people.index, dtype=object)
        else:
            extra = people["extra"] if "extra" in people else pd.Series(None, index=people.index, dtype=object)
            raw = extra.map(lambda d: None if not isinstance(d, dict) or d.get(feature) is None else str(d[feature]))
        codes, uniques = pd.factorize(raw, use_na_sentinel=True)  # missing: -1, the last label below
        labels = np.array([_one(feature, k, v, scheme) for v in uniques] + [NO_VALUE], dtype=object)
        out[feature] = labels[codes]
    return pd.DataFrame(out, index=people.index, columns=list(features))


def category_of(feature: str, raw, scheme: Scheme) -> str:
    """The category of one raw value of ``feature`` (an age, a sex code, a language or
    municipality code, a self-reported answer): ``categorise`` for a single value."""
    return _one(feature, kind(feature), raw, scheme)


def _one(feature: str, k: str | None, raw, scheme: Scheme) -> str:
    """The category of one distinct raw value (an age, a sex code, a language or
    municipality code, a self-reported answer)."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):  # category_of may be given a missing value
        return NO_VALUE
    values = None if scheme.values is None else list(scheme.values.get(feature, ()))
    if k == "age":
        age = int(raw)
        if values is None:
            return next((label for a, b, label in band_labels(scheme.age_bands)
                         if age >= a and (b is None or age <= b)), NO_VALUE)
        for v in values:
            m = _BAND.fullmatch(v.strip())
            if m and int(m.group(1)) <= age <= (int(m.group(2)) if m.group(2) else 200):
                return v
        return NO_VALUE
    if k == "sex":
        sex = int(raw)
        if values is None:
            return SEX_LABEL.get(sex, NO_VALUE)
        return next((v for v in values if SEX_WORDS.get(v.casefold()) == sex), NO_VALUE)
    if k == "language":
        lang = str(raw).casefold()
        if not lang:
            return NO_VALUE
        if values is None:
            return lang if lang in LANGUAGE_GROUPS else SAMI_GROUP if lang in SAMI_LANGUAGES else OTHER_LANGUAGE
        exact = next((v for v in values if v.casefold() == lang), None)
        if exact is None and lang in SAMI_LANGUAGES:  # quotas name the group, not each Sámi language
            exact = next((v for v in values if v.casefold() in SAMI_NAMES), None)
        return exact or _catch_all(values)
    if k == "municipality":
        code = str(raw)
        if not code:
            return NO_VALUE
        m = municipalities().get(code)
        if values is None:
            if scheme.groups is not None and code in scheme.groups:
                return scheme.groups[code]
            return m.name_fi if m else code
        names = {code.casefold()} | ({m.name_fi.casefold(), m.name_sv.casefold()} if m else set())
        if scheme.groups and code in scheme.groups:  # quotas naming the workspace's groups
            names.add(scheme.groups[code].casefold())
        return next((v for v in values if v.casefold() in names), None) or _catch_all(values)
    text = str(raw)
    if values is None:
        return text
    return next((v for v in values if v.casefold() == text.casefold()), NO_VALUE)


def _catch_all(values: Sequence[str]) -> str:
    return next((v for v in values if v.casefold() in CATCH_ALL), NO_VALUE)


def members_frame(members) -> pd.DataFrame:
    """The categoriser's frame of pool members (``PoolMember`` rows)."""
    import json

    return pd.DataFrame({
        "birth_year": [m.birth_year for m in members], "sex": [m.sex for m in members],
        "mother_tongue": [m.mother_tongue for m in members], "municipality": [m.municipality for m in members],
        "education": [m.education for m in members],
        "extra": [json.loads(m.extra) if m.extra else None for m in members],
    }, columns=list(COLUMNS))


def register_frame(rows) -> pd.DataFrame:
    """The categoriser's frame of register people: rows of (birth date, sex, mother tongue,
    municipality)."""
    rows = list(rows)
    return pd.DataFrame({
        "birth_year": [b.year if b else None for b, *_x in rows], "sex": [r[1] for r in rows],
        "mother_tongue": [r[2] for r in rows], "municipality": [r[3] for r in rows],
    }, columns=list(COLUMNS[:4]))


def suggested_municipality_groups(county: str, min_population: int | None = None) -> dict[str, str]:
    """Municipality code -> group for a county: municipalities of ``min_population`` or
    more (default: the workspace's own default, ``pool.workspace.ALONE_FROM``) alone,
    the rest "muut"."""
    from pool.reference import find_county
    from pool.workspace import ALONE_FROM

    min_population = ALONE_FROM if min_population is None else min_population
    county = find_county(county)
    return {m.code: (m.name_fi if m.population >= min_population else OTHER_MUNICIPALITIES)
            for m in municipalities().values() if m.county == county}


# --- how a category reads: one form per language everywhere (form, table, quotas, report) ---

_FEATURE_NAMES = {"age": N_("age"), "sex": N_("sex"), "language": N_("language"),
                  "municipality": N_("municipality"), "education": N_("education")}
_VALUE_NAMES = {  # Otos's own labels (stored as they are; shown in the reader's language)
    ("sex", "mies"): N_("man"), ("sex", "nainen"): N_("woman"),
    ("language", "fi"): N_("Finnish"), ("language", "sv"): N_("Swedish"),
    ("language", SAMI_GROUP): N_("Sámi"), ("language", OTHER_LANGUAGE): N_("other language"),
    ("municipality", OTHER_MUNICIPALITIES): N_("other municipalities"),
}


def feature_name(feature: str) -> str:
    """A feature as the reader reads it: ``sex`` -> "sukupuoli" in Finnish; a
    self-reported attribute keeps the name its quotas give it."""
    known = kind(feature)
    return _(_FEATURE_NAMES[known]) if known in _FEATURE_NAMES and feature.casefold() == known else feature


def value_name(feature: str, value: str) -> str:
    """A category as the reader reads it: ``mies`` -> "mies" / "man", ``saame`` ->
    "saame" / "samiska" / "Sámi", a municipality in its Swedish name in Swedish. A value
    spelled by hand in the quotas is shown as it is."""
    from pool.i18n import language

    known = kind(feature)
    if (known, value) in _VALUE_NAMES:
        return _(_VALUE_NAMES[(known, value)])
    if known == "sex" and value in SEX_WORDS and value.isdigit():
        return _(_VALUE_NAMES[("sex", SEX_LABEL[SEX_WORDS[value]])])
    if known == "municipality" and language() == "sv":
        for m in municipalities().values():
            if m.name_fi == value:
                return m.name_sv
    return value


def sex_name(sex: int | None) -> str:
    """Sex coded 1/2 as the reader reads it ('' when unknown)."""
    return value_name("sex", SEX_LABEL[sex]) if sex in SEX_LABEL else ""
