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
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit
from pool.errors import NotFound, OtosError
from pool.invitations import create_invitations
from pool.models import Extract, Invitation, Person
from sampling.lottery import seed_generator
from sampling.targets import DEFAULT_AGE_BANDS, SEX_LABEL, band_labels

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
    round: str
    strata: tuple[str, ...]
    allocations: list[Allocation]
    person_ids: list[int]
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def drawn(self) -> int:
        return len(self.person_ids)


def _frame(engine: Engine, extract_id: int) -> pd.DataFrame:
    with Session(engine) as s:
        if s.get(Extract, extract_id) is None:
            raise NotFound(f"There is no extract {extract_id}.", hint="See otos extract list.")
        invited = select(Invitation.person_id).where(Invitation.person_id.is_not(None))
        q = (select(Person.id, Person.birth_date, Person.sex, Person.mother_tongue, Person.municipality,
                    Person.dwelling_id, Person.mailable, Person.id.in_(invited).label("invited"))
             .where(Person.extract_id == extract_id, Person.deceased.is_(False)).order_by(Person.id))
        rows = s.execute(q).all()
    return pd.DataFrame(rows, columns=["id", "birth", "sex", "lang", "muni", "dwelling", "mailable", "invited"])


def _labels(df: pd.DataFrame, strata: tuple[str, ...], day: dt.date, bands: tuple[int, ...],
            groups: dict[str, str] | None) -> pd.Series:
    births = pd.to_datetime(df["birth"])
    age = day.year - births.dt.year - ((births.dt.month * 100 + births.dt.day) > day.month * 100 + day.day)
    parts = []
    for f in strata:
        if f == "age":
            labels = [label for _, _, label in band_labels(bands)]
            idx = np.digitize(age.fillna(-1).to_numpy(), np.array(bands)) - 1
            parts.append(pd.Series(np.where(idx >= 0, np.array(labels, dtype=object)[np.clip(idx, 0, None)], "")))
        elif f == "sex":
            parts.append(df["sex"].map(SEX_LABEL).fillna("tuntematon"))
        elif f == "language":
            parts.append(df["lang"].where(df["lang"].isin(["fi", "sv"]), "muu"))
        elif f == "municipality":
            parts.append(df["muni"].map(groups).fillna(df["muni"]) if groups else df["muni"])
        else:
            raise OtosError(f"Unknown stratum {f!r}.", hint=f"Invitation strata: {', '.join(STRATA)}.")
    return pd.Series(list(zip(*[p.to_numpy() for p in parts])), index=df.index), age


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
                     min_age: int = 15, round_name: str | None = None, day: dt.date | None = None,
                     create: bool = True) -> InvitationDraw:
    """Draw ``size`` invitations from an extract; with ``create`` also make the
    invitations and their response codes."""
    if size < 1:
        raise OtosError("The number of invitations must be at least 1.")
    if not seed.strip():
        raise OtosError("The seed is empty.", hint="Give a seed so the draw can be repeated.")
    day = day or dt.date.today()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    df = _frame(engine, extract_id)
    timings["read"] = time.perf_counter() - t0
    t1 = time.perf_counter()
    labels, age = _labels(df, strata, day, age_bands, groups)
    df["stratum"] = labels
    in_scope = (age >= min_age).to_numpy().copy()
    if "age" in strata:
        in_scope &= np.array([s[strata.index("age")] != "" for s in labels])
    people = df[in_scope]
    rng = seed_generator(f"invitations/{extract_id}/{seed}")
    cand = people[people["mailable"].astype(bool) & ~people["invited"].astype(bool)].copy()
    cand["u"] = rng.random(len(cand))
    # One per dwelling: the one with the smallest random key represents it.
    with_home = cand[cand["dwelling"].notna()].sort_values("u", kind="stable").drop_duplicates("dwelling")
    cand = pd.concat([with_home, cand[cand["dwelling"].isna()]])
    population = people.groupby("stratum").size()
    available = cand.groupby("stratum").size().reindex(population.index, fill_value=0)
    if available.sum() < size:
        raise OtosError(f"Only {int(available.sum()):,} people can be invited from extract {extract_id} "
                        f"(mailable, aged {min_age}+, one per dwelling, not invited before); {size:,} were asked for.",
                        hint="Ask for fewer invitations or import a bigger extract.")
    weights = population.astype(float)
    for (feature, value), factor in (oversample or {}).items():
        if feature not in strata:
            raise OtosError(f"Oversampling names {feature!r}, which is not a stratum of this draw.")
        j = strata.index(feature)
        hit = [s[j] == value for s in weights.index]
        if not any(hit):
            raise OtosError(f"Oversampling names {feature}={value!r}, which no stratum has.",
                            hint="Values look like: " + ", ".join(sorted({s[j] for s in weights.index})) + ".")
        weights[hit] *= factor
    seats = _allocate(weights, available, size)
    cand = cand.sort_values(["stratum", "u"], kind="stable")
    rank = cand.groupby("stratum").cumcount()
    chosen = cand[rank.to_numpy() < cand["stratum"].map(seats).to_numpy()]
    timings["sample"] = time.perf_counter() - t1
    allocations = [Allocation(s, int(population[s]), int(available[s]), int(seats[s]),
                              int((chosen["stratum"] == s).sum())) for s in population.index]
    ids = sorted(int(i) for i in chosen["id"])
    name = round_name or f"kutsu-{day:%Y%m%d}-{seed}"[:64]
    if create:
        t2 = time.perf_counter()
        create_invitations(engine, extract_id, ids, name)
        timings["write"] = time.perf_counter() - t2
        with Session(engine) as s:
            digest = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()
            audit.record(s, "invitation.draw", extract=extract_id, size=len(ids), seed=seed, round=name,
                         strata=list(strata), invited_sha256=digest, min_age=min_age,
                         oversample={f"{f}={v}": x for (f, v), x in (oversample or {}).items()})
            s.commit()
    return InvitationDraw(name, strata, allocations, ids, timings)
