"""Targets from population margins, turned into min/max quotas for a panel of k.

Margins come from a full-population extract in the workspace, or from a margins CSV in
the layout of Statistics Finland table 11rl (area x age x language x sex, one count per
row; column names in Finnish or English). Shares become seat targets by largest
remainder, and each target +- a tolerance becomes a quota.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool.csvfile import read_text, sniff_delimiter
from pool.errors import OtosError, RejectedFile
from pool.models import Person
from pool.reference import municipalities
from sampling.categories import (DEFAULT_AGE_BANDS, NO_VALUE, OTHER_LANGUAGE, REGISTER_FEATURES, SAMI_GROUP, SEX_LABEL,
                                 Scheme, category_of, categorise, kind, register_frame)
from sampling.problem import Quota
from pool.i18n import _

Margins = dict[str, Counter]


def margins_from_extract(engine: Engine, extract_id: int, features: list[str], *,
                         age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS,
                         groups: dict[str, str] | None = None, day: dt.date | None = None) -> Margins:
    """Counts per category (``sampling.categories``) among the living people of an extract."""
    day = day or dt.date.today()
    for f in features:
        if kind(f) not in REGISTER_FEATURES:
            raise OtosError(_("An extract has no {f!r}; margins from an extract cover age, sex, language and municipality.").format(f=f))
    with Session(engine) as s:
        rows = s.execute(select(Person.birth_date, Person.sex, Person.mother_tongue, Person.municipality)
                         .where(Person.extract_id == extract_id, Person.deceased.is_(False))).all()
    if not rows:
        raise OtosError(_("Extract {extract_id} has no people to take margins from.").format(extract_id=extract_id), hint=_("See otos extract list."))
    labels = categorise(register_frame(rows), features, day, Scheme(tuple(age_bands), groups))
    return {f: Counter({v: n for v, n in labels[f].value_counts().items() if v != NO_VALUE}) for f in features}


_COLS = {
    "area": ("alue", "area", "region", "kunta", "municipality"),
    "age": ("ikä", "ika", "age"),
    "language": ("kieli", "language", "språk"),
    "sex": ("sukupuoli", "sex", "gender", "kön"),
    "count": ("lukumäärä", "väestö", "vaesto", "count", "value", "population", "väkiluku", "2024", "2025"),
}
_TOTAL = ("yhteensä", "total", "totalt", "kaikki", "sum")


def margins_from_csv(path: str | Path, features: list[str], *, age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS,
                     groups: dict[str, str] | None = None, areas: set[str] | None = None) -> Margins:
    """Counts per feature value from an 11rl-layout CSV (rows with totals are skipped)."""
    path = Path(path)
    text, _x = read_text(path, _("population margins"))
    reader = csv.reader(io.StringIO(text), delimiter=sniff_delimiter(text.splitlines()[0]))
    header = [h.strip().strip('"').casefold() for h in next(reader)]
    col = {}
    for key, names in _COLS.items():
        col[key] = next((i for i, h in enumerate(header) if h in names or any(h.startswith(n) for n in names)), None)
    need = [k for k in ("count", *[f for f in features if f in ("age", "language", "sex")]) if col.get(k) is None]
    if "municipality" in features and col["area"] is None:
        need.append(_("area"))
    if need:
        raise RejectedFile(_("{path}, line 1: no column for {join}.").format(path=path, join=', '.join(need)),
                           hint=_("Expected the columns of table 11rl: Alue, Ikä, Kieli, Sukupuoli and a count."))
    names = {m.name_fi.casefold(): m.code for m in municipalities().values()}
    names |= {m.name_sv.casefold(): m.code for m in municipalities().values()}
    margins: Margins = {f: Counter() for f in features}
    scheme = Scheme(tuple(age_bands), groups)
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        cell = lambda k: row[col[k]].strip().strip('"') if col.get(k) is not None else ""  # noqa: E731
        if any(cell(k).casefold().startswith(_TOTAL) for k in ("area", "age", "language", "sex") if col.get(k) is not None):
            continue
        try:
            count = int(float(cell("count").replace(" ", "").replace(",", ".")))
        except ValueError:
            raise RejectedFile(_("{path}, line {line_num}, column {value}: the count is not a number.").format(path=path, line_num=reader.line_num, value=col['count'] + 1)) from None
        area = cell("area")
        code = names.get(re.sub(r"^(ks|ku)?\d+\s*", "", area.casefold()).strip(), area[-3:] if area[-3:].isdigit() else None)
        if areas and code not in areas:
            continue
        for f in features:
            if f == "age":
                m = re.match(r"(\d+)", cell("age"))
                label = (category_of("age", int(m.group(1)), scheme) or None) if m else None
            elif f == "sex":
                s = cell("sex").casefold()
                label = SEX_LABEL[1] if s.startswith(("m", "1")) else SEX_LABEL[2] if s.startswith(
                    ("n", "f", "w", "k", "2")) else None
            elif f == "language":
                s = cell("language").casefold()
                label = "fi" if s.startswith(("suomi", "fi", "finnish")) else "sv" if s.startswith(
                    ("ruotsi", "sv", "swedish", "svenska")) else SAMI_GROUP if s.startswith(
                    ("saame", "sámi", "sami", "saami", "samiska")) else OTHER_LANGUAGE
            elif f == "municipality":
                label = category_of("municipality", code, scheme) or None
            else:
                raise OtosError(_("Margins files cover age, sex, language and municipality, not {f!r}.").format(f=f))
            if label is not None:
                margins[f][label] += count
    return margins


def seats_by_largest_remainder(counts: Counter, k: int) -> dict[str, int]:
    """Seats per value in proportion to ``counts``, rounded by largest remainder (Hare)."""
    total = sum(counts.values())
    if total <= 0:
        raise OtosError(_("The margins hold no people."))
    ideal = {v: c * k / total for v, c in counts.items()}
    seats = {v: math.floor(x) for v, x in ideal.items()}
    left = k - sum(seats.values())
    for v in sorted(ideal, key=lambda v: (-(ideal[v] - seats[v]), v))[:left]:
        seats[v] += 1
    return seats


def quotas_from_margins(margins: Margins, k: int, tolerance: int = 1) -> list[Quota]:
    """min = target - tolerance, max = target + tolerance per value (never below 0)."""
    if tolerance < 0:
        raise OtosError(_("The tolerance cannot be negative."))
    quotas = []
    for feature, counts in margins.items():
        for value, target in sorted(seats_by_largest_remainder(counts, k).items()):
            quotas.append(Quota(feature, value, max(0, target - tolerance), target + tolerance))
    return quotas


@dataclass(frozen=True)
class QuotaSet:
    """Quotas made for a panel, and where their population came from (said to the user)."""

    quotas: list[Quota]
    source: str
    extract_id: int | None = None


def make_quotas(engine: Engine, size: int, *, tolerance: int = 1, features: list[str] | None = None,
                extract_id: int | None = None, recruitment_round: str | None = None,
                margins_csv: str | Path | None = None, age_bands: tuple[int, ...] | None = None,
                groups: dict[str, str] | None = None) -> QuotaSet:
    """Quotas for a panel of ``size`` from population margins, by the workspace's age
    bands and municipality groups unless given. The margins come from ``margins_csv``,
    else the extract named, else the extract ``recruitment_round`` invited from, else
    the newest extract that still holds people. The app and the command line both call
    this, so the same request gives the same quotas in both."""
    from pool import workspace
    from sampling.margins import source_extract

    ws = workspace.load(engine)
    features = list(features or REGISTER_FEATURES)
    bands = tuple(age_bands) if age_bands else tuple(ws["age_bands"])
    groups = groups if groups is not None else ws.municipality_groups()
    if margins_csv is not None:
        margins = margins_from_csv(margins_csv, features, age_bands=bands, groups=groups, areas=set(groups))
        return QuotaSet(quotas_from_margins(margins, size, tolerance), _("margins file {name}").format(name=Path(margins_csv).name))
    if extract_id is None:
        with Session(engine) as s:
            extract_id = source_extract(s, recruitment_round, with_people=True)
        if extract_id is None:
            raise OtosError(_("There is no extract to take population margins from."),
                            hint=_("Import one (otos extract import) or give a margins file (--margins)."))
    margins = margins_from_extract(engine, extract_id, features, age_bands=bands, groups=groups)
    return QuotaSet(quotas_from_margins(margins, size, tolerance), _("extract {extract_id}").format(extract_id=extract_id), extract_id)
