"""Panels in the workspace: draw from the pool, record, verify, replace a dropout.

Every draw is a durable record (``Panel``): seed, pool snapshot and its hash, quotas and
their hash, algorithm and version, and each seat with its probability. ``verify``
recomputes the lottery from the record and says whether it gives the same panel, and
whether the pool has changed since.
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Callable

from sqlalchemy import Engine, select as sql_select
from sqlmodel import Session

from pool import audit
from pool.db import reading, unit_of_work
from pool.errors import NotFound, OtosError
from pool.models import Panel, PanelSeat, PoolMember, checked_text, utcnow
from sampling import margins
from sampling.problem import Problem, Quota, shared_dwellings
from sampling.select import Selection, select
from sampling.categories import Scheme, categorise, members_frame


def quota_values(quotas: list[Quota]) -> tuple[list[str], dict[str, list[str]]]:
    features = list(dict.fromkeys(q.feature for q in quotas))
    return features, {f: [q.value for q in quotas if q.feature == f] for f in features}


def export_pool(engine: Engine, quotas: list[Quota], out, *, recruitment_round: str | None = None) -> int:
    """Write the active pool as a sortition-algorithms people.csv (member ids, quota
    categories, dwellings; owner-only, audited). Returns how many members it lists."""
    from sampling.interop import write_people

    problem = pool_problem(engine, quotas, 1, recruitment_round=recruitment_round)

    def record(digest: str) -> None:
        with Session(engine) as s:
            audit.record(s, "export.people", members=len(problem.ids), file_sha256=digest)
            s.commit()
    write_people(out, problem, audit=record)
    return len(problem.ids)


def pool_problem(source: Engine | Session, quotas: list[Quota], k: int, *, recruitment_round: str | None = None,
                 fixed: frozenset[str] = frozenset(), include: set[int] | None = None,
                 day: dt.date | None = None) -> Problem:
    """The lottery's view of the active pool: member ids, quota values, and which
    members share a dwelling (``shared_dwellings``: labels, never dwelling ids). Read
    through ``source``: an engine, or a session to read inside its transaction."""
    day = day or dt.date.today()
    features, values = quota_values(quotas)
    with reading(source) as s:
        q = sql_select(PoolMember).where(PoolMember.status == "active").order_by(PoolMember.id)
        if recruitment_round:
            q = q.where(PoolMember.recruitment_round == recruitment_round)
        members = [m for m in s.execute(q).scalars() if include is None or m.id in include]
    labels = categorise(members_frame(members), features, day, Scheme.from_values(values))
    return Problem(
        ids=[str(m.id) for m in members],
        features=features,
        values=list(labels.itertuples(index=False, name=None)),
        quotas=list(quotas),
        k=k,
        households=shared_dwellings([m.dwelling_id for m in members]),
        fixed=fixed,
    )


def _snapshot(problem: Problem, probabilities: dict[str, float]) -> str:
    return json.dumps({"features": problem.features, "ids": problem.ids, "values": problem.values,
                       "households": problem.households, "fixed": sorted(problem.fixed),
                       "probabilities": [probabilities[i] for i in problem.ids]}, ensure_ascii=False)


def _from_snapshot(panel: Panel, snapshot: str | None = None) -> Problem:
    """The problem the lottery saw: the panel's own draw, or a replacement's ``snapshot``."""
    snap = json.loads(snapshot or panel.snapshot)
    quotas = [Quota(*q) for q in json.loads(panel.quotas)]
    return Problem(snap["ids"], snap["features"], [tuple(v) for v in snap["values"]], quotas, panel.size,
                   snap["households"], frozenset(snap["fixed"]))


def draw_panel(engine: Engine, quotas: list[Quota], k: int, seed: str, *, method: str = "leximin",
               recruitment_round: str | None = None, fixed: list[int] = (),
               progress: Callable[[float, str], None] | None = None) -> tuple[int, Selection]:
    """Draw a panel of ``k`` from the active pool and record it. Returns (panel id, selection).

    The lottery can take a minute, so it runs on a reading of the pool without holding
    any lock; the record is written in one transaction that holds the write lock, reads
    the pool again and refuses if it is not exactly what the lottery saw (``_unchanged``):
    no change made by a colleague meanwhile slips in between."""
    checked_text(seed, Panel.seed, "The seed")
    if recruitment_round is not None:
        checked_text(recruitment_round, Panel.recruitment_round, "The round name")
    day = dt.date.today()
    fixed_ids = frozenset(str(i) for i in fixed)
    problem = pool_problem(engine, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day)
    _refuse_duplicates(engine, problem)
    sel = select(problem, seed, method, progress)
    now = utcnow()
    with unit_of_work(engine, write=True) as s:
        _unchanged(problem, pool_problem(s, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day))
        features, values = quota_values(quotas)
        recorded = margins.dumps(margins.count_margins(s, features, values, day, recruitment_round))
        panel = Panel(created_by=audit.actor(), size=k, seed=seed, method=method, algorithm=sel.algorithm,
                      pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash,
                      quotas=json.dumps([[q.feature, q.value, q.min, q.max] for q in quotas], ensure_ascii=False),
                      snapshot=_snapshot(problem, sel.probabilities), recruitment_round=recruitment_round,
                      min_probability=sel.min_probability, margins=recorded)
        s.add(panel)
        s.flush()
        for pid in sel.panel:
            s.add(PanelSeat(panel_id=panel.id, member_id=int(pid), snapshot_id=pid, role="seated",
                            probability=sel.probabilities[pid]))
            m = s.get(PoolMember, int(pid))
            m.panels_served += 1
            m.last_panel_at = now
        audit.record(s, "panel.draw", panel=panel.id, size=k, seed=seed, algorithm=sel.algorithm,
                     pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash, pool=len(problem.ids),
                     min_probability=round(sel.min_probability, 6))
        return panel.id, sel


def _unchanged(seen: Problem, now: Problem) -> None:
    """Refuse to record a lottery run on a pool that has changed since it was read."""
    if now.pool_hash() != seen.pool_hash():
        raise OtosError("The pool changed while the lottery ran (a member joined, left or was edited). "
                        "Nothing was recorded.",
                        hint="Draw again with the same seed: the lottery then sees the pool as it is now.")


def _refuse_duplicates(engine: Engine, problem: Problem) -> None:
    """A panel never seats one person twice: members who look like the same person
    (``pool.members.identity_keys``) must be merged or withdrawn before a draw."""
    from pool.members import duplicate_members

    with Session(engine) as s:
        pairs = duplicate_members(s, {int(i) for i in problem.ids})
    if pairs:
        shown = ", ".join(f"{a} and {b}" for a, b in pairs[:10]) + (" ..." if len(pairs) > 10 else "")
        raise OtosError(f"The pool holds the same person twice: members {shown} have the same name, birth year "
                        "and e-mail or phone. Nothing was drawn.",
                        hint="Withdraw the extra entry of each (otos pool withdraw ID), then draw again.")


@dataclass
class Verification:
    ok: bool
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def verify_panel(engine: Engine, panel_id: int) -> Verification:
    """Recompute the recorded lottery and compare; note any change in the pool since."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)).scalars())
    problem = _from_snapshot(panel)
    diffs, notes = [], []
    if problem.pool_hash() != panel.pool_sha256:
        diffs.append("the recorded pool snapshot does not match its recorded hash (the record was changed)")
    if problem.quotas_hash() != panel.quotas_sha256:
        diffs.append("the recorded quotas do not match their recorded hash (the record was changed)")
    again = select(problem, panel.seed, panel.method)
    drawn = sorted(x.snapshot_id for x in seats if x.role in ("seated", "dropped"))
    if again.algorithm != panel.algorithm:
        notes.append(f"recorded with {panel.algorithm}, recomputed with {again.algorithm}")
    if again.panel != drawn:
        missing = sorted(set(drawn) - set(again.panel))
        extra = sorted(set(again.panel) - set(drawn))
        diffs.append(f"the recomputed panel differs: recorded but not recomputed {missing}, "
                     f"recomputed but not recorded {extra}")
    current = pool_problem(engine, problem.quotas, panel.size, recruitment_round=panel.recruitment_round)
    if current.pool_hash() != panel.pool_sha256:
        now_ids, then_ids = set(current.ids), set(problem.ids)
        notes.append(f"the pool has changed since the draw: {len(now_ids - then_ids)} joined, "
                     f"{len(then_ids - now_ids)} left or paused, the rest may have changed strata")
    for seat in sorted(seats, key=lambda x: x.id):
        if seat.role != "replacement":
            continue
        if not seat.snapshot:
            notes.append(f"seat of member {seat.snapshot_id} came by replacement (seed {seat.seed!r}), recorded "
                         "before replacements kept what the lottery saw: not recomputed")
            continue
        problem = _from_snapshot(panel, seat.snapshot)
        again = select(problem, seat.seed)
        chosen = sorted(set(again.panel) - problem.fixed)
        if chosen != [seat.snapshot_id]:
            diffs.append(f"the replacement drawn with seed {seat.seed!r} differs: recorded {seat.snapshot_id}, "
                         f"recomputed {', '.join(chosen)}")
        else:
            notes.append(f"replacement {seat.snapshot_id} (seed {seat.seed!r}) recomputed: the same")
    return Verification(not diffs, diffs, notes)


def replace_member(engine: Engine, panel_id: int, member_id: int) -> tuple[int, float]:
    """Draw a replacement for a member who dropped out, keeping every quota.

    The members still seated are fixed; the replacement is drawn fairly (leximin) from
    active pool members who have not sat on this panel, with the seed
    ``<panel seed>/replacement-<n>``. Returns (new member id, their probability).
    """
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)).scalars())
    holding = {x.snapshot_id: x for x in seats if x.role in ("seated", "replacement")}
    if str(member_id) not in holding:
        raise OtosError(f"Member {member_id} does not hold a seat on panel {panel_id}.",
                        hint="See otos panel show.")
    quotas = [Quota(*q) for q in json.loads(panel.quotas)]
    stay = frozenset(holding) - {str(member_id)}
    ever = {x.snapshot_id for x in seats}
    with Session(engine) as s:
        active = set(s.execute(sql_select(PoolMember.id).where(PoolMember.status == "active")).scalars())
    include = {int(i) for i in stay} | {i for i in active if str(i) not in ever}
    missing = [i for i in stay if int(i) not in active]
    if missing:
        raise OtosError(f"Seated member(s) {', '.join(missing)} are no longer active in the pool.",
                        hint="Replace them first, one at a time.")
    day = dt.date.today()
    problem = pool_problem(engine, quotas, panel.size, fixed=stay, include=include, day=day)
    n = sum(1 for x in seats if x.role == "replacement") + 1
    seed = f"{panel.seed}/replacement-{n}"
    sel = select(problem, seed)
    [new] = set(sel.panel) - stay
    with unit_of_work(engine, write=True) as s:
        seat = s.get(PanelSeat, holding[str(member_id)].id)
        if seat.role not in ("seated", "replacement"):
            raise OtosError(f"Member {member_id}'s seat on panel {panel_id} was replaced meanwhile. Nothing was "
                            "recorded.", hint="See otos panel show.")
        _unchanged(problem, pool_problem(s, quotas, panel.size, fixed=stay, include=include, day=day))
        seat.role = "dropped"
        s.add(PanelSeat(panel_id=panel_id, member_id=int(new), snapshot_id=new, role="replacement",
                        probability=sel.probabilities[new], seed=seed, snapshot=_snapshot(problem, sel.probabilities)))
        m = s.get(PoolMember, int(new))
        m.panels_served += 1
        m.last_panel_at = utcnow()
        audit.record(s, "panel.replace", panel=panel_id, dropped=member_id, replacement=int(new), seed=seed,
                     pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash)
    return int(new), sel.probabilities[new]


def reserves(engine: Engine, panel_id: int, per_seat: int = 1) -> list[tuple[str, str]]:
    """Like-for-like reserves: for each member holding a seat, up to ``per_seat`` active
    pool members who have not sat on this panel and have exactly the same value in every
    quota category, so that stepping in keeps every quota. Candidates sharing a dwelling
    with a seated member are left out; each reserve is listed for one seat only. The
    order is a lottery with the seed ``<panel seed>/reserves``, so it can be repeated.
    Returns (seat holder's member id, reserve's member id) pairs, seat by seat.

    ``otos panel replace`` remains the fair way to fill a seat (it redraws among
    everyone eligible); the list is for facilitators who must call someone at once.
    """
    from sampling.lottery import seed_generator

    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)
                               .order_by(PanelSeat.id)).scalars())
    holding = [x.snapshot_id for x in seats if x.role in ("seated", "replacement")]
    ever = {x.snapshot_id for x in seats}
    problem = pool_problem(engine, [Quota(*q) for q in json.loads(panel.quotas)], panel.size)
    values = dict(zip(problem.ids, problem.values))
    dwelling = dict(zip(problem.ids, problem.households))
    taken = {dwelling[i] for i in holding if i in dwelling and dwelling[i]}
    candidates = [i for i in problem.ids if i not in ever and not (dwelling[i] and dwelling[i] in taken)]
    order = seed_generator(f"{panel.seed}/reserves").permutation(len(candidates))
    by_profile: dict[tuple, list[str]] = {}
    for j in order:
        by_profile.setdefault(tuple(values[candidates[j]]), []).append(candidates[j])
    out = []
    for holder in holding:
        pool_ = by_profile.get(tuple(values[holder]), []) if holder in values else []
        for _ in range(per_seat):
            while pool_:
                pick = pool_.pop(0)
                if not (dwelling[pick] and dwelling[pick] in taken):
                    if dwelling[pick]:
                        taken.add(dwelling[pick])
                    out.append((holder, pick))
                    break
    return out


def list_panels(engine: Engine) -> list[dict]:
    with Session(engine) as s:
        return [{"id": p.id, "created_at": p.created_at.isoformat(sep=" "), "size": p.size, "seed": p.seed,
                 "algorithm": p.algorithm, "min_probability": p.min_probability,
                 "round": p.recruitment_round}
                for p in s.execute(sql_select(Panel).order_by(Panel.id)).scalars()]


def all_probabilities(engine: Engine, panel_id: int) -> dict[str, float]:
    """Every volunteer's selection probability in the recorded draw (member id -> p)."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        snap = json.loads(panel.snapshot)
    if "probabilities" not in snap:
        raise OtosError(f"Panel {panel_id} was recorded without everyone's probabilities.",
                        hint=f"otos panel verify {panel_id} recomputes them.")
    return dict(zip(snap["ids"], snap["probabilities"]))


def get_panel(s: Session, panel_id: int) -> Panel:
    """The recorded panel, or NotFound that says where to look."""
    panel = s.get(Panel, panel_id)
    if panel is None:
        raise NotFound(f"There is no panel {panel_id}.", hint="See otos panel list.")
    return panel


def panel_quotas(engine: Engine, panel_id: int) -> tuple[list[Quota], int]:
    """(the quotas a panel was drawn with, its size): to draw the next panel alike."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        return [Quota(*q) for q in json.loads(panel.quotas)], panel.size


def member_order(member_id: str) -> tuple[int, str]:
    """Sort key that puts member ids in numeric order (8, 25, 111), not text order."""
    return (int(member_id), "") if member_id.isdigit() else (1 << 62, member_id)


def panel_seats(engine: Engine, panel_id: int) -> list[dict]:
    """Seats with the holder's name (while they are in the pool), role and probability:
    those holding a seat first, then those who left, each by member id."""
    with Session(engine) as s:
        get_panel(s, panel_id)
        rows = []
        for seat in s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id).order_by(PanelSeat.id)).scalars():
            m = s.get(PoolMember, seat.member_id) if seat.member_id else None
            rows.append({"member": seat.snapshot_id, "name": f"{m.surname}, {m.first_names}" if m else "(withdrawn)",
                         "role": seat.role, "probability": seat.probability})
        return sorted(rows, key=lambda r: (r["role"] == "dropped", member_order(r["member"])))
