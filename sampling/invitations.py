"""Stage 1: the stratified random invitation sample from a DVV extract.

Proportional allocation over the chosen strata (largest remainder), optionally
weighted by oversampling factors for groups that answer less; at most one invitation
per dwelling; nobody who cannot be mailed (turvakielto without a contact address,
deceased, no domestic address), nobody under the minimum age and nobody already
invited. Seeded: the same seed on the same extract invites the same people.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import math
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Engine, String, case, cast, func, select

from pool import audit
from pool.db import unit_of_work
from pool.errors import NotFound, OtosError
from pool.invitations import add_invitations, next_round_name
from pool.models import Extract, Invitation, Panel, Person, checked_text
from pool.workspace import check_age_bands
from sampling.categories import CATCH_ALL, DEFAULT_AGE_BANDS, NO_VALUE, Scheme, categorise
from sampling.lottery import seed_generator
from pool.i18n import _, number as fmt_number

STRATA = ("age", "sex", "language", "municipality")


@dataclass
class Allocation:
    stratum: tuple[str, ...]
    population: int
    candidates: int
    allocated: int
    drawn: int


@dataclass
class InvitationDraw:
    round: str | None  # None: drawn without creating invitations (create=False) nor a name
    strata: tuple[str, ...]
    allocations: list[Allocation]
    person_ids: list[int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def drawn(self) -> int:
        return len(self.person_ids)

    @property
    def population(self) -> int:
        return sum(a.population for a in self.allocations)

    @property
    def candidates(self) -> int:
        return sum(a.candidates for a in self.allocations)

    def drawn_by_feature(self) -> dict[str, list[tuple[str, int]]]:
        """Invitations per value of each stratum feature (the strata's margins), in label order."""
        out = {}
        for j, feature in enumerate(self.strata):
            counts: dict[str, int] = {}
            for a in self.allocations:
                counts[a.stratum[j]] = counts.get(a.stratum[j], 0) + a.drawn
            out[feature] = sorted(counts.items(), key=lambda kv: (kv[0] in CATCH_ALL, kv[0]))
        return out


def write_allocation_table(engine: Engine, draw: InvitationDraw, out) -> Path:
    """The allocation of every stratum as a CSV (``;``, UTF-8): counts only, written
    owner-only and audited like every file Otos writes."""
    from pool.private import csv_writer, output_path, private_file

    path = output_path(out, (".csv",))

    def record(digest: str) -> None:
        with unit_of_work(engine) as s:
            audit.record(s, "invitation.table", round=draw.round, strata=len(draw.allocations), file_sha256=digest)

    with private_file(path, "w", suffixes=(".csv",), audit=record, encoding="utf-8", newline="") as fh:
        w = csv_writer(fh)
        w.writerow([*draw.strata, "population", "candidates", "allocated", "drawn"])
        for a in draw.allocations:
            w.writerow([*a.stratum, a.population, a.candidates, a.allocated, a.drawn])
    return path


CHUNK = 100_000  # rows fetched at a time: the extract is never held as Python objects


class _Codes:
    """Small integer codes for a column's distinct values (None: -1), kept across chunks."""

    def __init__(self) -> None:
        self.values: list = []
        self._code: dict = {}

    def encode(self, column) -> np.ndarray:
        codes, uniques = pd.factorize(pd.Series(column, dtype=object), use_na_sentinel=True)
        if len(uniques) == 0:
            return codes.astype(np.int32)
        for v in uniques:
            if v not in self._code:
                self._code[v] = len(self.values)
                self.values.append(v)
        table = np.append(np.array([self._code[v] for v in uniques], dtype=np.int32), np.int32(-1))
        return table[codes]  # the sentinel -1 picks the last entry, -1


@dataclass
class _People:
    """An extract's living people as compact columns (about 40 bytes a person): ids,
    birth dates, codes of sex, language and municipality with their values, each
    person's dwelling as a number (-1: none), whether mailable and invited before."""

    ids: np.ndarray
    birth: np.ndarray  # datetime64; NaT where unknown
    sex: np.ndarray
    lang: np.ndarray
    muni: np.ndarray
    vocab: dict[str, list]
    dwelling: np.ndarray
    mailable: np.ndarray
    invited: np.ndarray


def _frame(engine: Engine, extract_id: int) -> _People:
    """The extract's living people, read in chunks into compact columns. Core, not the
    ORM, and the driver's own cursor: a million rows read in seconds, and five million
    fit in well under a gigabyte. Dwellings are numbered by the database (a dense rank
    of the dwelling id), so no dwelling id is held in memory at all."""
    invited = select(Invitation.person_id).where(Invitation.person_id.is_not(None))
    dwelling = case((Person.dwelling_id.is_(None), -1), else_=func.dense_rank().over(order_by=Person.dwelling_id))
    q = (select(Person.id, cast(Person.birth_date, String), Person.sex, Person.mother_tongue, Person.municipality,
                dwelling, Person.mailable, Person.id.in_(invited).label("invited"))
         .where(Person.extract_id == int(extract_id), Person.deceased.is_(False)).order_by(Person.id))
    # The only parameters are our own integer and booleans, so they are written into the SQL.
    sql = str(q.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    coders = {"sex": _Codes(), "lang": _Codes(), "muni": _Codes()}
    parts: dict[str, list[np.ndarray]] = {name: [] for name in ("ids", "birth", "sex", "lang", "muni", "dwelling",
                                                                 "mailable", "invited")}
    with engine.connect() as conn:
        if conn.execute(select(Extract.id).where(Extract.id == int(extract_id))).first() is None:
            raise NotFound(_("There is no extract {extract_id}.").format(extract_id=extract_id), hint=_("See otos extract list."))
        cursor = conn.connection.cursor()
        try:
            cursor.execute(sql)
            while rows := cursor.fetchmany(CHUNK):
                ids, births, sexes, langs, munis, dwellings, mailable, invited_ = zip(*rows)
                del rows
                parts["ids"].append(np.fromiter(ids, dtype=np.int64, count=len(ids)))
                parts["birth"].append(pd.to_datetime(pd.Series(births, dtype=object), format="%Y-%m-%d",
                                                     errors="coerce").to_numpy())
                parts["sex"].append(coders["sex"].encode(sexes))
                parts["lang"].append(coders["lang"].encode(langs))
                parts["muni"].append(coders["muni"].encode(munis))
                parts["dwelling"].append(np.fromiter(dwellings, dtype=np.int64, count=len(dwellings)))
                parts["mailable"].append(np.fromiter(mailable, dtype=bool, count=len(mailable)))
                parts["invited"].append(np.fromiter(invited_, dtype=bool, count=len(invited_)))
        finally:
            cursor.close()
    empty = {"ids": np.int64, "birth": "datetime64[ns]", "sex": np.int32, "lang": np.int32, "muni": np.int32,
             "dwelling": np.int64, "mailable": bool, "invited": bool}
    cols = {name: np.concatenate(chunks) if chunks else np.array([], dtype=empty[name])
            for name, chunks in parts.items()}
    return _People(**cols, vocab={name: c.values for name, c in coders.items()})


def _labels(people: _People, strata: tuple[str, ...], day: dt.date, bands: tuple[int, ...],
            groups: dict[str, str] | None) -> tuple[np.ndarray, list[tuple[str, ...]], np.ndarray, np.ndarray]:
    """Each person's stratum as an integer code, whose order is the order of the strata's
    label tuples; the label tuple of each code; whether the person has an age band; age.
    The categoriser runs on each feature's distinct values, and people carry codes."""
    births = pd.DatetimeIndex(people.birth)
    # Who may be invited is a legal matter, on the exact birth date; which band a person
    # is counted in is the categoriser's one rule for every stage.
    years = births.year.to_numpy(dtype=float)  # NaN where unknown
    later = (births.month.to_numpy(dtype=float) * 100 + births.day.to_numpy(dtype=float)) > day.month * 100 + day.day
    age = day.year - years - later
    unknown = [f for f in strata if f not in STRATA]
    if unknown:
        raise OtosError(_("Unknown stratum {value!r}.").format(value=unknown[0]), hint=_("Invitation strata: {join}.").format(join=', '.join(STRATA)))
    scheme = Scheme(tuple(bands), groups)
    year_values, year_codes = np.unique(years, return_inverse=True)  # unknown years: one NaN value
    raw = {"age": ("birth_year", list(year_values), year_codes.reshape(-1)),
           "sex": ("sex", people.vocab["sex"], people.sex),
           "language": ("mother_tongue", people.vocab["lang"], people.lang),
           "municipality": ("municipality", people.vocab["muni"], people.muni)}
    code = np.zeros(len(people.ids), dtype=np.int64)
    uniques = []
    has_band = np.ones(len(people.ids), dtype=bool)
    for f in strata:
        column, values, codes = raw[f]
        distinct = pd.DataFrame({column: pd.Series([*values, None], dtype=float if f == "age" else object)})
        per_value = categorise(distinct, (f,), day, scheme)[f].to_numpy(dtype=object)  # the last: no value
        index_of_person = np.where(codes < 0, len(values), codes)
        names = sorted(set(per_value[np.unique(index_of_person)]))  # sorted: code order = label order
        position = {name: i for i, name in enumerate(names)}
        value_code = np.array([position.get(name, -1) for name in per_value], dtype=np.int64)
        if f == "age":
            has_band = (per_value != NO_VALUE)[index_of_person]
        code = code * len(names) + value_code[index_of_person]
        uniques.append(names)

    def label(c: int) -> tuple[str, ...]:
        out = []
        for values in reversed(uniques):
            c, r = divmod(c, len(values))
            out.append(values[r])
        return tuple(reversed(out))

    return code, [label(int(c)) for c in np.unique(code)], has_band, age


def _allocate(weights: pd.Series, available: pd.Series, size: int) -> pd.Series:
    """Seats per stratum in proportion to ``weights`` (largest remainder), never above
    what a stratum can give; what a full stratum cannot take goes to the others."""
    seats = pd.Series(0, index=weights.index, dtype=np.int64)
    open_ = available > 0
    left = size
    while left > 0 and open_.any():
        w = weights.where(open_, 0.0)
        if w.sum() <= 0:
            w = available.where(open_, 0).astype(float)
        ideal = w / w.sum() * left
        add = np.floor(ideal).astype(np.int64)
        rest = left - int(add.sum())
        order = (ideal - add).sort_values(ascending=False, kind="stable").index[:rest]
        add[order] += 1
        add = np.minimum(add, available - seats)
        seats += add
        left = size - int(seats.sum())
        open_ = available > seats
        if add.sum() == 0:
            break
    return seats


def draw_invitations(engine: Engine, extract_id: int, size: int, seed: str, *,
                     strata: tuple[str, ...] = STRATA, age_bands: tuple[int, ...] = DEFAULT_AGE_BANDS,
                     groups: dict[str, str] | None = None, oversample: dict[tuple[str, str], float] | None = None,
                     min_age: int = 15, round_name: str | None = None, county: str | None = None,
                     day: dt.date | None = None, create: bool = True) -> InvitationDraw:
    """Draw ``size`` invitations from an extract; with ``create`` also make the
    invitations and their response codes, in one transaction with the audit entry.
    Without ``round_name`` the round is named by month and ``county`` (``2026-12 Lappi``)."""
    if size < 1:
        raise OtosError(_("The number of invitations must be at least 1."))
    if not seed.strip():
        raise OtosError(_("The seed is empty."), hint=_("Give a seed so the draw can be repeated."))
    checked_text(seed, Panel.seed, _("The seed"))
    if round_name is not None:
        checked_text(round_name, Invitation.round, _("The round name"))
    check_age_bands(tuple(age_bands))
    for (feature, value), factor in (oversample or {}).items():
        if not (isinstance(factor, (int, float)) and math.isfinite(factor) and 0 < factor <= 100):
            raise OtosError(_("Oversampling {feature}={value}: the factor must be a number above 0 and at most 100.").format(feature=feature, value=value),
                            hint=_("For example age=15-29:1.5 invites half as many again of that group."))
    day = day or dt.date.today()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    people = _frame(engine, extract_id)
    timings["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    code, names, has_band, age = _labels(people, strata, day, age_bands, groups)
    label_of = dict(zip((int(c) for c in np.unique(code)), names))
    in_scope = (age >= min_age) & has_band
    codes_in = code[in_scope]
    ids_in = people.ids[in_scope]
    rng = seed_generator(f"invitations/{extract_id}/{seed}")
    can = (people.mailable & ~people.invited)[in_scope]
    c_ids, c_code = ids_in[can], codes_in[can]
    dwelling_code = people.dwelling[in_scope][can]  # no dwelling: -1
    del people, code, age, has_band
    u = rng.random(len(c_ids))
    # One per dwelling: the one with the smallest random key represents it.
    by_u = np.argsort(u, kind="stable")
    housed = by_u[dwelling_code[by_u] >= 0]
    _x, first = np.unique(dwelling_code[housed], return_index=True)
    keep = np.concatenate([housed[first], np.flatnonzero(dwelling_code < 0)])
    c_ids, c_code, u = c_ids[keep], c_code[keep], u[keep]
    present = np.unique(codes_in)  # the strata of the people in scope, in label order
    position = {int(c): i for i, c in enumerate(present)}
    population = pd.Series(np.bincount(np.searchsorted(present, codes_in), minlength=len(present)), index=present)
    available = pd.Series(np.bincount(np.searchsorted(present, c_code), minlength=len(present)), index=present)
    if available.sum() < size:
        raise OtosError(_("Only {int} people can be invited from extract {extract_id} (mailable, aged {min_age}+, one per dwelling, not invited before); {size} were asked for.").format(int=fmt_number(int(available.sum())), extract_id=extract_id, min_age=min_age, size=fmt_number(size)),
                        hint=_("Ask for fewer invitations or import a bigger extract."))
    weights = population.astype(float)
    for (feature, value), factor in (oversample or {}).items():
        if feature not in strata:
            raise OtosError(_("Oversampling names {feature!r}, which is not a stratum of this draw.").format(feature=feature))
        j = strata.index(feature)
        hit = np.array([label_of[int(c)][j] == value for c in weights.index])
        if not hit.any():
            raise OtosError(_("Oversampling names {feature}={value!r}, which no stratum has.").format(feature=feature, value=value),
                            hint=_("Values look like: ") + ", ".join(sorted({label_of[int(c)][j] for c in weights.index}))
                            + ".")
        weights[hit] *= factor
    seats = _allocate(weights, available, size)
    order = np.lexsort((u, c_code))  # by stratum, then random key
    sorted_code = c_code[order]
    starts = np.searchsorted(sorted_code, sorted_code, side="left")
    rank = np.arange(len(order)) - starts
    chosen_at = order[rank < seats.to_numpy()[np.searchsorted(present, sorted_code)]]
    chosen_ids, chosen_code = c_ids[chosen_at], c_code[chosen_at]
    timings["sample"] = time.perf_counter() - t1
    drawn = np.bincount(np.searchsorted(present, chosen_code), minlength=len(present))
    allocations = [Allocation(label_of[int(c)], int(population[c]), int(available[c]), int(seats[c]),
                              int(drawn[position[int(c)]])) for c in present]
    ids = sorted(int(i) for i in chosen_ids)
    name = round_name
    if create:
        t2 = time.perf_counter()
        with unit_of_work(engine, write=True) as s:
            name = round_name or next_round_name(s, day, county)
            add_invitations(s, extract_id, ids, name)
            digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
            audit.record(s, "invitation.draw", extract=extract_id, size=len(ids), seed=seed, round=name,
                         strata=list(strata), invited_sha256=digest, min_age=min_age,
                         oversample={f"{f}={v}": x for (f, v), x in (oversample or {}).items()})
        timings["write"] = time.perf_counter() - t2
    return InvitationDraw(name, strata, allocations, ids, timings)


def parse_oversample(items: list[str] | str) -> dict[tuple[str, str], float]:
    """``age=15-29:1.5`` items (a list, or one text separated by commas) as
    {(feature, value): factor}; an OtosError naming the item that is not of that form."""
    if isinstance(items, str):
        items = [i for i in items.split(",") if i.strip()]
    out = {}
    for item in items:
        key, _x, factor = item.strip().rpartition(":")
        feature, sep, value = key.partition("=")
        try:
            number = float(factor)
        except ValueError:
            number = None
        if not sep or number is None or not feature.strip() or not value.strip():
            raise OtosError(_("Oversampling {strip!r} must look like age=18-29:1.5.").format(strip=item.strip()),
                            hint=_("A stratum, =, its value, : and how many times as many to invite."))
        out[(feature.strip(), value.strip())] = number
    return out


def invite_round(engine: Engine, extract_id: int, size: int, seed: str, *, round_name: str | None = None,
                 oversample: dict[tuple[str, str], float] | None = None, strata: tuple[str, ...] = STRATA,
                 age_bands: tuple[int, ...] | None = None, groups: dict[str, str] | None = None,
                 min_age: int | None = None) -> InvitationDraw:
    """Draw and record a recruitment round from an extract with the workspace's strata
    settings (age bands, municipality groups, minimum age, county) unless given."""
    from pool import workspace

    ws = workspace.load(engine)
    return draw_invitations(engine, extract_id, size, seed, strata=strata,
                            age_bands=tuple(ws["age_bands"]) if age_bands is None else age_bands,
                            groups=ws.municipality_groups() if groups is None else groups,
                            oversample=oversample, min_age=ws["min_age"] if min_age is None else min_age,
                            round_name=round_name, county=ws.county)
