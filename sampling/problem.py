"""A panel-selection problem: the pool (people and their feature values), the quotas,
the panel size, households and seats fixed in advance; checks that say what is wrong.

People with the same feature values are interchangeable for the quotas; the lottery
works on these types (far fewer than people) and gives everyone in a type the same
probability. People who share a household with another volunteer, and people seated
in advance, are kept as types of their own so the household rule can see them.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from pool.errors import OtosError
from pool.i18n import _


@dataclass(frozen=True)
class Quota:
    """At least ``min`` and at most ``max`` panel members with ``feature`` = ``value``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass
class Problem:
    """Everything the lottery needs. ``values[i][j]`` is person i's value of ``features[j]``."""

    ids: list[str]
    features: list[str]
    values: list[tuple[str, ...]]
    quotas: list[Quota]
    k: int
    households: list[str | None] = field(default_factory=list)
    fixed: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.households:
            self.households = [None] * len(self.ids)

    def pool_hash(self) -> str:
        """SHA-256 of the pool as the lottery sees it (ids, values, households), order-free."""
        rows = sorted(zip(self.ids, self.values, self.households))
        return _sha({"features": self.features, "people": rows})

    def quotas_hash(self) -> str:
        """SHA-256 of the quotas, the panel size and the fixed seats."""
        q = sorted((x.feature, x.value, x.min, x.max) for x in self.quotas)
        return _sha({"quotas": q, "k": self.k, "fixed": sorted(self.fixed)})


def shared_dwellings(dwellings: list[str | None]) -> list[str | None]:
    """What the household rule needs of dwellings, and nothing more: ``h1``, ``h2`` ...
    for dwellings that two or more of these people share (numbered in order of first
    appearance), None for everyone else. A draw's record then holds no dwelling id,
    which could lead to an address through a housemate's register row."""
    counts = Counter(d for d in dwellings if d)
    labels: dict[str, str] = {}
    out: list[str | None] = []
    for d in dwellings:
        if d and counts[d] > 1:
            out.append(labels.setdefault(d, f"h{len(labels) + 1}"))
        else:
            out.append(None)
    return out


def _sha(obj: object) -> str:
    return hashlib.sha256(json.dumps(obj, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def quotas_to_json(quotas: list[Quota]) -> str:
    """Quotas as stored with a panel or a quota set: a JSON list of [feature, value, min, max]."""
    return json.dumps([[q.feature, q.value, q.min, q.max] for q in quotas], ensure_ascii=False)


def quotas_from_json(text: str) -> list[Quota]:
    return [Quota(*q) for q in json.loads(text)]


def check(problem: Problem) -> None:
    """Raise OtosError naming everything wrong with the problem as given (before any maths)."""
    p = problem
    faults: list[str] = []
    if not p.ids:
        raise OtosError(_("The pool is empty: there is nobody to draw from."),
                        hint=_("Register volunteers first, or check the filter (e.g. the recruitment round)."))
    if len(set(p.ids)) != len(p.ids):
        dup = [i for i, n in Counter(p.ids).items() if n > 1][:5]
        faults.append(_("the same id appears twice in the pool ({join})").format(join=', '.join(dup)))
    if p.k < 1:
        faults.append(_("the panel size must be at least 1 (got {k})").format(k=p.k))
    if p.k > len(p.ids):
        faults.append(_("the panel size {k} is larger than the pool ({count} people)").format(k=p.k, count=len(p.ids)))
    defined = defaultdict(dict)
    for q in p.quotas:
        if q.min < 0 or q.max < q.min:
            faults.append(_("quota {feature}={value}: min {min} and max {max} do not make a range").format(feature=q.feature, value=q.value, min=q.min, max=q.max))
        if (q.value in defined[q.feature]):
            faults.append(_("quota {feature}={value} is given twice").format(feature=q.feature, value=q.value))
        defined[q.feature][q.value] = q
    for j, f in enumerate(p.features):
        if f not in defined:
            faults.append(_("feature {f} has no quotas").format(f=f))
            continue
        seen = Counter(v[j] for v in p.values)
        unknown = sorted(set(seen) - set(defined[f]))
        for value in unknown:
            who = next(p.ids[i] for i, v in enumerate(p.values) if v[j] == value)
            faults.append(_("{value} person(s) (e.g. {who}) have {f}={value2!r}, which has no quota").format(value=seen[value], who=who, f=f, value2=value))
        qs = defined[f].values()
        if sum(q.min for q in qs) > p.k:
            faults.append(_("the minimums of {f} add up to {sum}, more than the panel size {k}").format(f=f, sum=sum(q.min for q in qs), k=p.k))
        if sum(q.max for q in qs) < p.k:
            faults.append(_("the maximums of {f} add up to {sum}, less than the panel size {k}").format(f=f, sum=sum(q.max for q in qs), k=p.k))
    extra = sorted(set(defined) - set(p.features))
    if extra:
        faults.append(_("quotas name feature(s) the pool does not have: {join}").format(join=', '.join(extra)))
    missing_fixed = sorted(set(p.fixed) - set(p.ids))
    if missing_fixed:
        faults.append(_("seats fixed in advance for people not in the pool: {join}").format(join=', '.join(missing_fixed[:5])))
    if len(p.fixed) > p.k:
        faults.append(_("{count} seats are fixed in advance but the panel has only {k}").format(count=len(p.fixed), k=p.k))
    if faults:
        raise OtosError(_("The panel cannot be drawn: ") + "; ".join(faults) + ".",
                        hint=_("Fix the quotas or the pool and try again; nothing was drawn."))


@dataclass
class Types:
    """The problem over types of interchangeable people."""

    members: list[list[int]]  # person indices of each type, ordered by id
    size: np.ndarray  # people per type
    forced: np.ndarray  # seats the type must fill (fixed in advance)
    quota_rows: list[tuple[int, int, np.ndarray]]  # (min, max, type indices) per quota
    households: list[np.ndarray]  # type indices of each shared household
    k: int

    @property
    def count(self) -> int:
        return len(self.members)


def build_types(problem: Problem) -> Types:
    """Group interchangeable people; shared households and fixed seats stay single."""
    p = problem
    house_size = Counter(h for h in p.households if h)
    order = sorted(range(len(p.ids)), key=lambda i: p.ids[i])
    groups: dict[tuple, list[int]] = {}
    for i in order:
        single = p.ids[i] in p.fixed or (p.households[i] and house_size[p.households[i]] > 1)
        key = (p.values[i], p.ids[i]) if single else (p.values[i], "")
        groups.setdefault(key, []).append(i)
    keys = sorted(groups)
    members = [groups[key] for key in keys]
    size = np.array([len(m) for m in members], dtype=np.int64)
    forced = np.array([len(m) if p.ids[m[0]] in p.fixed else 0 for m in members], dtype=np.int64)
    quota_rows = []
    for q in p.quotas:
        j = p.features.index(q.feature) if q.feature in p.features else -1
        idx = np.array([t for t, key in enumerate(keys) if j >= 0 and key[0][j] == q.value], dtype=np.int64)
        quota_rows.append((q.min, q.max, idx))
    by_house = defaultdict(list)
    for t, m in enumerate(members):
        h = p.households[m[0]]
        if h and house_size[h] > 1:
            by_house[h].append(t)
    households = [np.array(v, dtype=np.int64) for _x, v in sorted(by_house.items())]
    return Types(members, size, forced, quota_rows, households, p.k)
