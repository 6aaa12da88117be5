"""How views differ between known groups of participants, and the population-weighted result.

Polis knows nothing about who voted. Otos does: a participants CSV names each voter's
strata directly (any columns, e.g. ``role`` = resident / staff, ``age``) and/or links
them to pool members (a ``member`` column), whose strata then come from the pool by
the categories of a panel's quotas (age band, sex, language, municipality ...).

- **Comparison:** per stratum and statement, agree / disagree / pass shares of the
  stratum's votes on that statement, each with a 95 % Wilson interval.
- **Post-stratified agreement:** per statement, ``sum over strata h of W_h * p_h``,
  where ``W_h`` is the stratum's population share and ``p_h`` the agree share among the
  stratum's votes on the statement; strata without votes on the statement are left
  out and the weights of the rest renormalised (the coverage, the population share
  that did vote, is reported beside it). 95 % interval from
  ``se^2 = sum W_h^2 p_h (1 - p_h) / n_h``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opinions.analysis import wilson
from opinions.data import Conversation, spreadsheet_csv, text_file
from pool.errors import OtosError, RejectedFile
from pool.i18n import _

Z95 = 1.96


@dataclass
class Strata:
    """Participant id -> {feature: value}; population shares {feature: {value: share}}."""
    of: dict[str, dict[str, str]]
    population: dict[str, dict[str, float]]

    @property
    def features(self) -> list[str]:
        return list(dict.fromkeys(f for values in self.of.values() for f in values))


@text_file
def read_participants(path: str | Path) -> tuple[dict[str, dict[str, str]], dict[str, int]]:
    """(participant -> strata from the file's own columns, participant -> pool member id)."""
    path = Path(path)
    reader = spreadsheet_csv(path, _("participants"))
    header = [h.strip() for h in next(reader, None) or []]
    if "participant" not in header:
        raise RejectedFile(_("{path}, line 1: there is no participant column.").format(path=path),
                           hint=_("Columns: participant, then member (a pool member id) and/or strata such as role."))
    strata, members = {}, {}
    for row in reader:
        if not row or not any(c.strip() for c in row):
            continue
        line = reader.line_num
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line}: {count} fields where the header has {count2}.").format(path=path, line=line, count=len(row), count2=len(header)))
        values = dict(zip(header, (c.strip() for c in row)))
        pid = values.pop("participant")
        if not pid:
            raise RejectedFile(_("{path}, line {line}, column {value}: the participant id is empty.").format(path=path, line=line, value=header.index('participant') + 1))
        if pid in strata:
            raise RejectedFile(_("{path}, line {line}: participant {pid} appears twice.").format(path=path, line=line, pid=pid))
        member = values.pop("member", "")
        if member:
            if not member.isdigit():
                raise RejectedFile(_("{path}, line {line}, column {value}: the member is not a pool member id (a number).").format(path=path, line=line, value=header.index('member') + 1))
            members[pid] = int(member)
        strata[pid] = {k: v for k, v in values.items() if v}
    return strata, members


@text_file
def read_population(path: str | Path) -> dict[str, dict[str, float]]:
    """Population margins: a CSV of feature, value and share (or count; normalised per feature)."""
    path = Path(path)
    rows = list(spreadsheet_csv(path, _("population margins")))
    header = [h.strip().lower() for h in rows[0]] if rows else []
    amount = "share" if "share" in header else "count" if "count" in header else None
    if "feature" not in header or "value" not in header or not amount:
        raise RejectedFile(_("{path}, line 1: the columns must be feature, value and share (or count).").format(path=path))
    out: dict[str, dict[str, float]] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not row or not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line}: {count} fields where the header has {count2}.").format(path=path, line=line, count=len(row), count2=len(header)))
        try:
            x = float(row[header.index(amount)].replace(",", "."))
        except (ValueError, IndexError):
            raise RejectedFile(_("{path}, line {line}, column {value}: the {amount} is not a number.").format(path=path, line=line, value=header.index(amount) + 1, amount=amount)) from None
        if x < 0:
            raise RejectedFile(_("{path}, line {line}, column {value}: the {amount} is negative.").format(path=path, line=line, value=header.index(amount) + 1, amount=amount))
        out.setdefault(row[header.index("feature")].strip(), {})[row[header.index("value")].strip()] = x
    return {f: {v: x / sum(vals.values()) for v, x in vals.items()} for f, vals in out.items() if sum(vals.values())}


def from_panel(engine, panel_id: int, members: dict[str, int]) -> Strata:
    """Strata of participants linked to pool members, by the categories of panel
    ``panel_id``'s quotas, and the population shares of that panel's report."""
    import datetime as dt
    import json as _json

    from sqlmodel import Session, select

    from letters.report import build_report
    from pool.models import Panel, PoolMember
    from sampling.categories import Scheme, categorise, members_frame
    from sampling.panels import quota_values
    from sampling.problem import Quota

    with Session(engine) as s:
        panel = s.get(Panel, panel_id)
        if panel is None:
            raise OtosError(_("There is no panel {panel_id}.").format(panel_id=panel_id), hint=_("See otos panel list."))
        features, values = quota_values([Quota(*q) for q in _json.loads(panel.quotas)])
        found = list(s.exec(select(PoolMember).where(PoolMember.id.in_(set(members.values())))))
        drawn_on = panel.created_at.date() if panel.created_at else dt.date.today()  # ages as the report counts them
    labels = categorise(members_frame(found), features, drawn_on, Scheme.from_values(values))
    by_member = {m.id: dict(zip(features, row)) for m, row in zip(found, labels.itertuples(index=False, name=None))}
    of = {pid: by_member[mid] for pid, mid in members.items() if mid in by_member}
    report = build_report(engine, panel_id)
    population: dict[str, dict[str, float]] = {}
    for row in report.rows:
        share = report.share(row, "population")
        if share is not None:
            population.setdefault(row.feature, {})[row.value] = share
    return Strata(of, population)


POOL_FEATURES = ("age", "sex", "language", "municipality")


def from_pool(engine, members: dict[str, int]) -> Strata:
    """Strata of participants linked to pool members without a panel: age band, sex,
    language and municipality group by the workspace's settings (``sampling.categories``),
    with population shares from the newest extract when there is one."""
    import datetime as dt

    from sqlmodel import Session, select

    from pool import workspace
    from pool.extract import list_extracts
    from pool.models import PoolMember
    from sampling.categories import Scheme, categorise, members_frame
    from sampling.targets import margins_from_extract

    scheme = Scheme.from_workspace(workspace.load(engine)) if workspace.exists(engine) else Scheme()
    with Session(engine) as s:
        found = list(s.exec(select(PoolMember).where(PoolMember.id.in_(set(members.values())))))
    day = dt.date.today()
    population: dict[str, dict[str, float]] = {}
    extracts = [e for e in list_extracts(engine) if not e["purged"] and e["rows"]]  # purged: members only
    if extracts:
        newest = max(extracts, key=lambda e: e["id"])["id"]
        margins = margins_from_extract(engine, newest, list(POOL_FEATURES), age_bands=scheme.age_bands,
                                       groups=scheme.groups, day=day)
        for feature, counts in margins.items():
            total = sum(counts.values())
            if total:
                population[feature] = {v: n / total for v, n in counts.items()}
    labels = categorise(members_frame(found), POOL_FEATURES, day, scheme)
    by_member = {m.id: {f: v for f, v in zip(POOL_FEATURES, row) if v}
                 for m, row in zip(found, labels.itertuples(index=False, name=None))}
    of = {pid: by_member[mid] for pid, mid in members.items() if mid in by_member}
    return Strata(of, population)


@dataclass
class Comparison:
    feature: str
    values: list[str]  # strata, in order
    statements: list[str]
    n: np.ndarray  # strata x statements: votes
    agree: np.ndarray
    disagree: np.ndarray
    passed: np.ndarray
    participants: list[int]  # participants per stratum

    def share(self, kind: str, h: int, j: int) -> tuple[float, float, float] | None:
        """(share, low, high) of ``kind`` (agree / disagree / pass) in stratum h on statement j."""
        n = self.n[h, j]
        if not n:
            return None
        count = {"agree": self.agree, "disagree": self.disagree, "pass": self.passed}[kind][h, j]
        return (count / n, *wilson(count, n))


def compare(conv: Conversation, strata: Strata, feature: str) -> Comparison:
    """Vote counts per stratum of ``feature`` and statement (moderated-out statements left out)."""
    active = conv.active
    votes = conv.votes[:, active]
    statements = [s for s, keep in zip(conv.statements, active) if keep]
    labels = [strata.of.get(p, {}).get(feature, "") for p in conv.participants]
    values = sorted({v for v in labels if v}, key=lambda v: (list(strata.population.get(feature, {})).index(v)
                                                            if v in strata.population.get(feature, {}) else 1e9, v))
    if not values:
        raise OtosError(_("No participant has a value for {feature!r}.").format(feature=feature),
                        hint=_("Check the participants file, or the member ids it links to."))
    rows = np.array(labels)
    n, a, d, p, people = [], [], [], [], []
    for v in values:
        mine = votes[rows == v]
        a.append((mine == 1).sum(axis=0))
        d.append((mine == -1).sum(axis=0))
        p.append((mine == 0).sum(axis=0))
        n.append((~np.isnan(mine)).sum(axis=0))
        people.append(int((rows == v).sum()))
    return Comparison(feature, values, statements, *(np.array(x, dtype=float) for x in (n, a, d, p)), people)


@dataclass
class Weighted:
    statement: str
    agree: float  # post-stratified agree share
    low: float
    high: float
    coverage: float  # population share of the strata that voted on the statement
    raw: float  # unweighted agree share, for comparison


def post_stratified(comparison: Comparison, population: dict[str, float]) -> list[Weighted]:
    """Population-weighted agree share of each statement (see the module text)."""
    missing = [v for v in comparison.values if v not in population]
    if missing:
        raise OtosError(_("The population margins of {feature!r} have no share for {join}.").format(feature=comparison.feature, join=', '.join(repr(m) for m in missing)),
                        hint=_("Give a share for every stratum value in the population file."))
    w = np.array([population[v] for v in comparison.values])
    out = []
    for j, sid in enumerate(comparison.statements):
        n = comparison.n[:, j]
        voted = n > 0
        if not voted.any():
            continue
        p = comparison.agree[voted, j] / n[voted]
        wj = w[voted] / w[voted].sum()
        est = float((wj * p).sum())
        se = math.sqrt(float((wj ** 2 * p * (1 - p) / n[voted]).sum()))
        out.append(Weighted(sid, est, max(0.0, est - Z95 * se), min(1.0, est + Z95 * se), float(w[voted].sum()),
                            float(comparison.agree[:, j].sum() / n.sum())))
    return out
