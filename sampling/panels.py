"""Panels in the workspace: draw from the pool, record, verify, replace a dropout.

Every draw is a durable record (``Panel``): seed, pool snapshot and its hash, quotas and
their hash, algorithm and version, and each seat with its probability. ``verify``
recomputes the lottery from the record and says whether it gives the same panel, and
whether the pool has changed since.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Engine, select as sql_select
from sqlmodel import Session

from pool import audit
from pool.db import reading, unit_of_work
from pool.errors import Cancelled, NotFound, OtosError
from pool.models import ROLE_NAMES, Lottery, Panel, PanelSeat, PoolMember, checked_text, utcnow
from sampling import margins, record
from sampling.problem import Problem, Quota, quotas_from_json, quotas_to_json, shared_dwellings
from sampling.record import Verification
from sampling.select import Prepared, Selection, prepare, resolve_note, select, select_v1
from sampling.categories import Scheme, categorise, members_frame, value_name
from pool.i18n import _


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
    quotas = quotas_from_json(panel.quotas)
    return Problem(snap["ids"], snap["features"], [tuple(v) for v in snap["values"]], quotas, panel.size,
                   snap["households"], frozenset(snap["fixed"]))


def pseudonyms(problem: Problem, keep: dict[str, str] | None = None) -> dict[str, str]:
    """Member id -> the id a lottery record shows (10 hex digits), ``keep`` holding those
    already given (a panel's replacements keep its members' pseudonyms).

    A pseudonym is keyed with the workspace's audit key and the pool and quotas the
    lottery is for: the public cannot link it to a member id, nor one panel's record to
    another's, while drawing again with the same pool, quotas and seed gives the same
    lottery and the same panel (a different pseudonym would shuffle differently, and
    drawing again until a panel pleased would go unseen)."""
    key = audit.audit_key()
    context = f"otos lottery pseudonym\n{problem.pool_hash()}\n{problem.quotas_hash()}\n"
    ids = set(problem.ids)
    out = {i: v for i, v in (keep or {}).items() if i in ids}
    used = set(out.values())
    for i in problem.ids:
        if i in out:
            continue
        n = 0
        while (code := hmac.new(key, f"{context}{i}\n{n}".encode(), hashlib.sha256).hexdigest()[:10]) in used:
            n += 1
        used.add(code)
        out[i] = code
    return out


def _stored(s: Session, purpose: str, prepared: Prepared, public: dict[str, str], quotas: list[Quota],
            problem: Problem, recruitment_round: str | None) -> Lottery:
    row = Lottery(created_by=audit.actor(), purpose=purpose, sha256=prepared.sha256,
                  body=record.canonical(prepared.lottery).decode("utf-8"), pseudonyms=json.dumps(public),
                  size=problem.k, quotas=quotas_to_json(quotas), recruitment_round=recruitment_round,
                  fixed=json.dumps(sorted(problem.fixed, key=member_order)), pool_sha256=prepared.pool_hash,
                  quotas_sha256=prepared.quotas_hash, snapshot=_snapshot(problem, prepared.probabilities),
                  min_before=float(prepared.min_before) if prepared.min_before is not None else None)
    s.add(row)
    s.flush()
    return row


def _stepper(progress, cancelled, stopped: str):
    """Progress reports that also check for a stop: ``stopped`` is the message then."""
    def step(fraction: float, message: str) -> None:
        if cancelled and cancelled():
            raise Cancelled(stopped)
        if progress:
            progress(fraction, message)
    return step


def _checked_round(recruitment_round: str | None) -> None:
    if recruitment_round is not None:
        checked_text(recruitment_round, Panel.recruitment_round, _("The round name"))


def prepare_panel(engine: Engine, quotas: list[Quota], k: int, *, recruitment_round: str | None = None,
                  fixed: list[int] = (), uniform: int | None = None,
                  progress: Callable[[float, str], None] | None = None,
                  cancelled: Callable[[], bool] | None = None) -> tuple[str, Prepared]:
    """Compute the fair lottery for the active pool and store it before any seed exists.
    Returns (its SHA-256, to be published before the draw; the lottery). The draw then
    takes ``prepared=`` that hash and the public seed or ticket (``draw_panel``)."""
    _checked_round(recruitment_round)
    fixed_ids = frozenset(str(i) for i in fixed)
    day = dt.date.today()
    problem = pool_problem(engine, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day)
    _refuse_duplicates(engine, problem)
    public = pseudonyms(problem)
    prep = prepare(problem, _stepper(progress, cancelled, _("The preparation was stopped; nothing was recorded.")), public, uniform)
    with unit_of_work(engine, write=True) as s:
        _unchanged(problem, pool_problem(s, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day))
        row = _stored(s, "panel", prep, public, quotas, problem, recruitment_round)
        row.prepared = True
        audit.record(s, "panel.prepare", lottery=row.id, lottery_sha256=row.sha256, size=k, pool=len(problem.ids),
                     quotas_sha256=prep.quotas_hash, tickets=uniform)
    return prep.sha256, prep


def prepared_lottery(engine: Engine, sha256: str) -> tuple[Lottery, list[Quota]]:
    """The prepared, not yet drawn lottery with this hash (the whole hash, or its first 12+ digits)."""
    text = sha256.strip().lower()
    if len(text) < 12 or any(c not in "0123456789abcdef" for c in text):
        raise OtosError(_("{sha256!r} is not a lottery hash.").format(sha256=sha256),
                        hint=_("Give the SHA-256 that otos panel prepare printed (at least its first 12 digits)."))
    with Session(engine) as s:
        rows = list(s.execute(sql_select(Lottery).where(Lottery.prepared, Lottery.sha256.startswith(text))
                              .limit(2)).scalars())
        if not rows:
            raise NotFound(_("No prepared lottery has the hash {text}.").format(text=text), hint=_("See otos panel list."))
        if len(rows) > 1:
            raise OtosError(_("More than one prepared lottery starts with {text}.").format(text=text), hint=_("Give the whole hash."))
        drawn = s.execute(sql_select(Panel.id).where(Panel.lottery_id == rows[0].id)).scalar()
        if drawn is not None:
            raise OtosError(_("The lottery {value} was drawn already: panel {drawn}.").format(value=rows[0].sha256[:12], drawn=drawn),
                            hint=_("A prepared lottery is drawn once; prepare a new one for another panel."))
        return rows[0], quotas_from_json(rows[0].quotas)


def _from_prepared(engine: Engine, row: Lottery, quotas: list[Quota], day: dt.date) -> tuple[Problem, Prepared]:
    """The pool as the prepared lottery saw it (refused if it has changed since) and the lottery."""
    problem = pool_problem(engine, quotas, row.size, recruitment_round=row.recruitment_round,
                           fixed=frozenset(json.loads(row.fixed)), day=day)
    if problem.pool_hash() != row.pool_sha256:
        raise OtosError(_("The pool has changed since the lottery {value} was prepared ({created_at:%d.%m.%Y}): a member joined, left, was edited or moved into another age band. Nothing was drawn.").format(value=row.sha256[:12], created_at=row.created_at),
                        hint=_("Prepare the lottery again and publish its new hash before the draw."))
    public = json.loads(row.pseudonyms)
    lottery = json.loads(row.body)
    if record.lottery_hash(lottery) != row.sha256:
        raise OtosError(_("The stored lottery no longer matches its published hash {value}: it was changed in the database after it was prepared. Nothing was drawn.").format(value=row.sha256[:12]),
                        hint=_("Prepare the lottery again, publish the new hash and tell whoever keeps the database."))
    private = {v: k for k, v in public.items()}
    from sampling.lottery import person_probabilities

    prep = Prepared(lottery, person_probabilities(lottery, private), private, row.pool_sha256, row.quotas_sha256,
                    min_before=row.min_before)
    return problem, prep


def draw_panel(engine: Engine, quotas: list[Quota] | None, k: int | None, seed: str | None, *,
               method: str = "leximin", recruitment_round: str | None = None, fixed: list[int] = (),
               reserves_per_seat: int = 1, uniform: int | None = None, ticket: int | None = None,
               prepared: str | None = None, progress: Callable[[float, str], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> tuple[int, Selection]:
    """Draw a panel of ``k`` from the active pool and record it, with ``reserves_per_seat``
    like-for-like reserves per seat (``draw_reserves``). Returns (panel id, selection).

    The fair lottery is stored with the panel (``sampling.record``): computed now, or
    the one prepared earlier whose hash is ``prepared`` (then the quotas, size, round
    and fixed seats are the prepared ones, and the pool must be as it was then). The
    panel is drawn from it with the public ``seed`` or, for a lottery of equally likely
    tickets (``uniform``), a hand-drawn ``ticket``.

    The lottery can take a minute, so it runs on a reading of the pool without holding
    any lock; the record is written in one transaction that holds the write lock, reads
    the pool again and refuses if it is not exactly what the lottery saw (``_unchanged``):
    no change made by a colleague meanwhile slips in between. When ``cancelled()`` turns
    true the draw stops with ``Cancelled`` and nothing is recorded."""
    if ticket is not None:
        if uniform is None and prepared is None:
            raise OtosError(_("A ticket number decides a panel only in a lottery of equally likely tickets."),
                            hint=_("Give --uniform M with it (or prepare the lottery with --uniform), or draw with a seed."))
        if uniform is not None:
            from sampling.select import check_tickets

            check_tickets(uniform, ticket)
        seed = f"ticket {ticket}"
    if seed is None:
        raise OtosError(_("Give the public seed of the lottery (or the ticket drawn by hand)."))
    checked_text(seed, Panel.seed, _("The seed"))
    _checked_round(recruitment_round)
    if not 0 <= reserves_per_seat <= MAX_RESERVES:
        raise OtosError(_("Reserves per seat must be between 0 and {max_reserves}, not {reserves_per_seat}.").format(max_reserves=MAX_RESERVES, reserves_per_seat=reserves_per_seat),
                        hint=_("1 is usual: one like-for-like reserve for every seat."))
    day = dt.date.today()
    row = None
    if prepared is not None:
        row, quotas = prepared_lottery(engine, prepared)
        k, recruitment_round, fixed = row.size, row.recruitment_round, [int(i) for i in json.loads(row.fixed)]
        problem, prep = _from_prepared(engine, row, quotas, day)
        public = json.loads(row.pseudonyms)
    fixed_ids = frozenset(str(i) for i in fixed)
    if row is None:
        problem = pool_problem(engine, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day)
        public, prep = pseudonyms(problem), None
    _refuse_duplicates(engine, problem)
    step = _stepper(progress, cancelled, _("The draw was stopped; nothing was recorded."))
    if method == "legacy":
        public = None
    sel = select(problem, seed if ticket is None else None, method, step, public=public, uniform=uniform,
                 ticket=ticket, prepared=prep)
    spare = draw_reserves(problem, sel.panel, seed, reserves_per_seat)
    step(1.0, _("recording the panel"))
    now = utcnow()
    with unit_of_work(engine, write=True) as s:
        _unchanged(problem, pool_problem(s, quotas, k, recruitment_round=recruitment_round, fixed=fixed_ids, day=day))
        if row is not None and s.execute(sql_select(Panel.id).where(Panel.lottery_id == row.id)).scalar():
            raise OtosError(_("A colleague drew this prepared lottery meanwhile. Nothing was recorded."),
                            hint=_("See otos panel list."))
        stored = row if row is not None else (
            _stored(s, "panel", sel.prepared, public, quotas, problem, recruitment_round) if sel.prepared else None)
        features, values = quota_values(quotas)
        recorded = margins.dumps(margins.count_margins(s, features, values, day, recruitment_round))
        panel = Panel(created_by=audit.actor(), size=k, seed=seed, method=method, algorithm=sel.algorithm,
                      pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash,
                      quotas=quotas_to_json(quotas),
                      snapshot=_snapshot(problem, sel.probabilities), recruitment_round=recruitment_round,
                      min_probability=sel.min_probability, margins=recorded, reserves_per_seat=reserves_per_seat,
                      lottery_id=stored.id if stored else None, ticket=ticket)
        s.add(panel)
        s.flush()
        for pid in sel.panel:
            s.add(PanelSeat(panel_id=panel.id, member_id=int(pid), snapshot_id=pid, role="seated",
                            probability=sel.probabilities[pid]))
            m = s.get(PoolMember, int(pid))
            m.panels_served += 1
            m.last_panel_at = now
        for pid, holder, rank in spare:
            s.add(PanelSeat(panel_id=panel.id, member_id=int(pid), snapshot_id=pid, role="reserve",
                            probability=sel.probabilities[pid], rank=rank, reserve_for=holder))
        audit.record(s, "panel.draw", panel=panel.id, size=k, seed=seed, algorithm=sel.algorithm,
                     pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash, pool=len(problem.ids),
                     min_probability=round(sel.min_probability, 6), reserves=len(spare),
                     lottery_sha256=stored.sha256 if stored else None, prepared=row is not None)
        return panel.id, sel


def _unchanged(seen: Problem, now: Problem) -> None:
    """Refuse to record a lottery run on a pool that has changed since it was read."""
    if now.pool_hash() != seen.pool_hash():
        raise OtosError(_("The pool changed while the lottery ran (a member joined, left or was edited). Nothing was recorded."),
                        hint=_("Draw again with the same seed: the lottery then sees the pool as it is now."))


def _refuse_duplicates(engine: Engine, problem: Problem) -> None:
    """A panel never seats one person twice: members who look like the same person
    (``pool.members.identity_keys``) must be merged or withdrawn before a draw."""
    from pool.members import duplicate_members

    with Session(engine) as s:
        pairs = duplicate_members(s, {int(i) for i in problem.ids})
    if pairs:
        shown = ", ".join(f"{a} and {b}" for a, b in pairs[:10]) + (" ..." if len(pairs) > 10 else "")
        raise OtosError(_("The pool holds the same person twice: members {shown} have the same name, birth year and e-mail or phone. Nothing was drawn.").format(shown=shown),
                        hint=_("Withdraw the extra entry of each (otos pool withdraw ID), then draw again."))


MAX_RESERVES = 5  # per seat


def draw_reserves(problem: Problem, panel: list[str], seed: str, per_seat: int) -> list[tuple[str, str, int]]:
    """The ranked reserves of a drawn panel: up to ``per_seat`` for every seat, among the
    volunteers not drawn, each of whom could take that seat alone and keep every quota.
    The main draw is made first and is not changed by this in any way.

    Like for like: a seat's reserve is someone of the seat holder's own quota group (the
    same value in every quota category) when there is one left, else someone who differs
    in as few categories as the quotas' slack allows. Order is a lottery of its own,
    recomputable with any tool: volunteers (and seats) are ordered by the SHA-256 of
    ``<seed>/reserves/<member id>`` (``<seed>/reserves/seat/<member id>``); rank 1 of every
    seat is handed out before any rank 2. Nobody who shares a dwelling with a seated member
    or an earlier reserve is listed, and nobody twice.
    Returns (reserve's member id, seat holder's member id, rank) in that order."""
    features = problem.features
    group = dict(zip(problem.ids, (tuple(v) for v in problem.values)))
    dwelling = dict(zip(problem.ids, problem.households))
    bounds = {(q.feature, q.value): (q.min, q.max) for q in problem.quotas}
    counts = Counter((f, v) for m in panel for f, v in zip(features, group[m]))
    taken = {dwelling[i] for i in panel if dwelling[i]}
    drawn = set(panel)

    def ticket(text: str) -> bytes:
        return hashlib.sha256(f"{seed}/reserves/{text}".encode()).digest()

    def swap_keeps_quotas(out: tuple, into: tuple) -> bool:
        for f, a, b in zip(features, out, into):
            if a != b and (counts[(f, a)] - 1 < bounds.get((f, a), (0, 0))[0]
                           or counts[(f, b)] + 1 > bounds.get((f, b), (0, 0))[1]):
                return False
        return True

    waiting: dict[tuple, list[str]] = {}  # quota group -> volunteers in ticket order, reversed (pop from the end)
    for member in sorted((i for i in problem.ids if i not in drawn), key=ticket, reverse=True):
        waiting.setdefault(group[member], []).append(member)

    def head(g: tuple) -> str | None:
        line = waiting[g]
        while line and dwelling[line[-1]] and dwelling[line[-1]] in taken:
            line.pop()
        return line[-1] if line else None

    out = []
    seats = sorted(panel, key=lambda m: ticket(f"seat/{m}"))
    for rank in range(1, per_seat + 1):
        for seat in seats:
            best, best_key = None, None
            for g in waiting:
                first = head(g)
                if first is None or not swap_keeps_quotas(group[seat], g):
                    continue
                key = (-sum(a == b for a, b in zip(group[seat], g)), ticket(first))
                if best_key is None or key < best_key:
                    best, best_key = g, key
            if best is None:
                continue
            member = waiting[best].pop()
            if dwelling[member]:
                taken.add(dwelling[member])
            out.append((member, seat, rank))
    return out


def _first_draw(seat: PanelSeat) -> bool:
    """Whether the seat was filled by the panel's own lottery (not a replacement, not a reserve)."""
    return seat.seed is None and seat.rank is None


V1_NOTE = ("recorded before Otos stored the lottery (algorithm v1): recomputed with the solver and NumPy, "
           "so another HiGHS or NumPy version can give a different result without anything having been changed")


def verify_panel(engine: Engine, panel_id: int, *, resolve: bool = False) -> Verification:
    """Check a recorded draw: the stored lottery and the draw from it (``sampling.record``,
    no solver), that the record's people are the pool snapshot's, the reserve list and
    every fair replacement. Panels recorded before lotteries were stored are recomputed
    the old way, with a note. ``resolve``: also solve the lottery again and say whether
    the optimum differs (a note; not a sign of a changed record). Notes any change in
    the pool since the draw."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)).scalars())
        ids = {panel.lottery_id} | {x.lottery_id for x in seats if x.lottery_id}
        lotteries = {r.id: r for r in s.execute(sql_select(Lottery).where(Lottery.id.in_(ids - {None}))).scalars()}
    problem = _from_snapshot(panel)
    diffs, notes = [], []
    if problem.pool_hash() != panel.pool_sha256:
        diffs.append(_("the recorded pool snapshot does not match its recorded hash (the record was changed)"))
    if problem.quotas_hash() != panel.quotas_sha256:
        diffs.append(_("the recorded quotas do not match their recorded hash (the record was changed)"))
    drawn = sorted(x.snapshot_id for x in seats if _first_draw(x))
    if panel.lottery_id is None:
        notes.append(V1_NOTE if panel.method == "leximin" else
                     _("a legacy greedy draw: recomputed with NumPy (it has no stored lottery)"))
        again = select_v1(problem, panel.seed) if panel.method == "leximin" else select(problem, panel.seed, "legacy")
        _compare(diffs, _("the recomputed panel"), drawn, again.panel)
    else:
        _verify_stored(lotteries.get(panel.lottery_id), problem, panel.seed, panel.ticket, drawn, diffs, notes,
                       resolve, "")
    recorded = sorted((x.snapshot_id, x.reserve_for, x.rank) for x in seats if x.rank is not None)
    if recorded != sorted(draw_reserves(problem, drawn, panel.seed, panel.reserves_per_seat)):
        diffs.append(_("the recomputed reserve list differs from the recorded one"))
    current = pool_problem(engine, problem.quotas, panel.size, recruitment_round=panel.recruitment_round)
    if current.pool_hash() != panel.pool_sha256:
        now_ids, then_ids = set(current.ids), set(problem.ids)
        notes.append(_("the pool has changed since the draw: {count} joined, {count2} left or paused, the rest may have changed strata").format(count=len(now_ids - then_ids), count2=len(then_ids - now_ids)))
    for seat in sorted(seats, key=lambda x: x.id):
        if seat.rank is not None:
            if seat.role in ("replacement", "dropped"):
                notes.append(_("reserve {snapshot_id} (number {rank} for member {reserve_for}) took a seat").format(snapshot_id=seat.snapshot_id, rank=seat.rank, reserve_for=seat.reserve_for))
            continue
        if seat.role != "replacement" and not (seat.role == "dropped" and seat.seed):
            continue
        if not seat.snapshot:
            notes.append(_("seat of member {snapshot_id} came by replacement (seed {seed!r}), recorded before replacements kept what the lottery saw: not recomputed").format(snapshot_id=seat.snapshot_id, seed=seat.seed))
            continue
        sub = _from_snapshot(panel, seat.snapshot)
        if seat.lottery_id is None:
            again = select_v1(sub, seat.seed)
            chosen = sorted(set(again.panel) - sub.fixed)
            if chosen != [seat.snapshot_id]:
                diffs.append(_("the replacement drawn with seed {seed!r} differs: recorded {snapshot_id}, recomputed {join}").format(seed=seat.seed, snapshot_id=seat.snapshot_id, join=', '.join(chosen)))
            else:
                notes.append(_("replacement {snapshot_id} (seed {seed!r}) recomputed the old way: the same").format(snapshot_id=seat.snapshot_id, seed=seat.seed))
            continue
        before = len(diffs)
        _verify_stored(lotteries.get(seat.lottery_id), sub, seat.seed, None,
                       sorted(sub.fixed | {seat.snapshot_id}, key=member_order), diffs, notes, resolve, _("replacement draw: "))
        if len(diffs) == before:
            notes.append(_("replacement {snapshot_id} (seed {seed!r}) drawn again from its stored lottery: the same").format(snapshot_id=seat.snapshot_id, seed=seat.seed))
    return Verification(not diffs, diffs, notes)


def _compare(diffs: list[str], what: str, recorded: list[str], again: list[str]) -> None:
    if sorted(again) != sorted(recorded):
        missing = sorted(set(recorded) - set(again), key=member_order)
        extra = sorted(set(again) - set(recorded), key=member_order)
        diffs.append(_("{what} differs: recorded but not drawn {missing}, drawn but not recorded {extra}").format(what=what, missing=missing, extra=extra))


def _verify_stored(row: Lottery | None, problem: Problem, seed: str, ticket: int | None, drawn: list[str],
                   diffs: list[str], notes: list[str], resolve: bool, prefix: str) -> None:
    """Check a stored lottery and the draw from it against the record's snapshot."""
    if row is None:
        diffs.append(_("{prefix}the stored lottery is missing").format(prefix=prefix))
        return
    try:
        lottery = json.loads(row.body)
        public = json.loads(row.pseudonyms)
    except ValueError:
        diffs.append(_("{prefix}the stored lottery is not readable JSON (the record was changed)").format(prefix=prefix))
        return
    if record.lottery_hash(lottery) != row.sha256:
        diffs.append(_("{prefix}the stored lottery does not match its SHA-256 {value} (it was changed)").format(prefix=prefix, value=row.sha256[:12]))
    missing = [i for i in drawn if i not in public]
    if missing:
        diffs.append(_("{prefix}seated member(s) {join} have no id in the lottery").format(prefix=prefix, join=', '.join(missing)))
        return
    rec = record.assemble(lottery, None if ticket is not None else seed, ticket, [public[i] for i in drawn])
    rec["lottery_sha256"] = row.sha256
    try:
        result = record.verify(rec)
    except record.RecordError as e:
        diffs.append(_("{prefix}the stored lottery cannot be read: {e}").format(prefix=prefix, e=e))
        return
    private = {v: k for k, v in public.items()}
    diffs.extend(prefix + re.sub(r"\b[0-9a-f]{10}\b", lambda m: private.get(m[0], m[0]), d)
                 for d in result.differences)
    shown = {p: tuple(tp["values"]) for tp in lottery.get("types", []) for p in tp.get("people", [])}
    if set(shown) != {public.get(i) for i in problem.ids} or any(
            shown.get(public.get(i)) != tuple(v) for i, v in zip(problem.ids, problem.values)):
        diffs.append(_("{prefix}the lottery's people or categories are not the recorded pool snapshot's").format(prefix=prefix))
    if resolve:
        notes.append(prefix + resolve_note(lottery))


@dataclass
class Replacement:
    member: int
    probability: float  # in the replacement lottery; for a reserve, in the panel's own draw
    reserve_rank: int | None = None  # set when a recorded reserve stepped in ...
    reserve_for: str | None = None  # ... listed for this seat holder


def replace_member(engine: Engine, panel_id: int, member_id: int, *, redraw: bool = False) -> Replacement:
    """Fill the seat of a member who dropped out, keeping every quota.

    First the panel's recorded reserves (``_reserve_steps_in``: the member's own, in call
    order, then the others): the first one still active in the pool, not sharing a
    dwelling with anyone seated, and keeping every quota in the pool as it is today,
    takes the seat. When there is none (or ``redraw``), a replacement is drawn fairly
    (leximin) from the active pool members who have not sat on this panel, the members
    still seated fixed, with the seed ``<panel seed>/replacement-<n>``.
    """
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)).scalars())
    holding = {x.snapshot_id: x for x in seats if x.role in ("seated", "replacement")}
    if str(member_id) not in holding:
        raise OtosError(_("Member {member_id} does not hold a seat on panel {panel_id}.").format(member_id=member_id, panel_id=panel_id),
                        hint=_("See otos panel show."))
    quotas = quotas_from_json(panel.quotas)
    stay = frozenset(holding) - {str(member_id)}
    with Session(engine) as s:
        active = set(s.execute(sql_select(PoolMember.id).where(PoolMember.status == "active")).scalars())
    missing = [i for i in stay if int(i) not in active]
    if missing:
        raise OtosError(_("Seated member(s) {join} are no longer active in the pool.").format(join=', '.join(missing)),
                        hint=_("Replace them first, one at a time."))
    if not redraw:
        stepped = _reserve_steps_in(engine, panel, seats, holding[str(member_id)], stay)
        if stepped:
            return stepped
    ever = {x.snapshot_id for x in seats if x.role != "reserve"}
    include = {int(i) for i in stay} | {i for i in active if str(i) not in ever}
    day = dt.date.today()
    problem = pool_problem(engine, quotas, panel.size, fixed=stay, include=include, day=day)
    n = sum(1 for x in seats if x.seed) + 1
    seed = f"{panel.seed}/replacement-{n}"
    public = pseudonyms(problem, _panel_pseudonyms(engine, panel))
    sel = select(problem, seed, public=public)
    [new] = set(sel.panel) - stay
    with unit_of_work(engine, write=True) as s:
        seat = _still_holding(s, holding[str(member_id)], panel_id)
        _unchanged(problem, pool_problem(s, quotas, panel.size, fixed=stay, include=include, day=day))
        seat.role = "dropped"
        for x in seats:  # a waiting reserve drawn by the fair lottery leaves the list (kept: it is the record)
            if x.snapshot_id == new and x.role == "reserve":
                s.get(PanelSeat, x.id).role = "called"
        stored = _stored(s, "replacement", sel.prepared, public, quotas, problem, panel.recruitment_round)
        s.add(PanelSeat(panel_id=panel_id, member_id=int(new), snapshot_id=new, role="replacement",
                        probability=sel.probabilities[new], seed=seed, snapshot=_snapshot(problem, sel.probabilities),
                        lottery_id=stored.id))
        _served(s, int(new))
        audit.record(s, "panel.replace", panel=panel_id, dropped=member_id, replacement=int(new), seed=seed,
                     pool_sha256=sel.pool_hash, quotas_sha256=sel.quotas_hash, lottery_sha256=stored.sha256)
    return Replacement(int(new), sel.probabilities[new])


def _panel_pseudonyms(engine: Engine, panel: Panel) -> dict[str, str]:
    """The pseudonyms of the panel's own lottery (member id -> pseudonym), or none."""
    if panel.lottery_id is None:
        return {}
    with Session(engine) as s:
        row = s.get(Lottery, panel.lottery_id)
        return json.loads(row.pseudonyms) if row else {}


def panel_record(engine: Engine, panel_id: int) -> dict:
    """The panel's lottery record as it can be published (``sampling.record``): the
    lottery (pseudonymous ids and categories only), its hash, the seed or ticket and the
    seated pseudonyms; each fair replacement with its own lottery and draw. No names,
    no contact details, no identity codes, no member ids."""
    with Session(engine, expire_on_commit=False) as s:
        panel = get_panel(s, panel_id)
        if panel.lottery_id is None:
            raise OtosError(_("Panel {panel_id} was drawn before Otos stored the lottery, so it has no record to publish.").format(panel_id=panel_id), hint=_("otos panel verify {panel_id} still checks it the old way.").format(panel_id=panel_id))
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)
                               .order_by(PanelSeat.id)).scalars())
        rows = {r.id: r for r in s.execute(sql_select(Lottery).where(Lottery.id.in_(
            {panel.lottery_id} | {x.lottery_id for x in seats if x.lottery_id}))).scalars()}
        audit.record(s, "panel.record", panel=panel_id)
        s.commit()
    main = rows[panel.lottery_id]
    public = json.loads(main.pseudonyms)
    drawn = [public[x.snapshot_id] for x in seats if _first_draw(x)]
    prepared = main.prepared
    out = record.assemble(json.loads(main.body), None if panel.ticket is not None else panel.seed, panel.ticket,
                          drawn, record.timestamp(panel.created_at), main.sha256 if prepared else None)
    if prepared:
        out["draw"]["prepared_at"] = record.timestamp(main.created_at)
    reps = []
    for seat in seats:
        if seat.lottery_id and seat.lottery_id in rows:
            row = rows[seat.lottery_id]
            mine = json.loads(row.pseudonyms)
            fixed = json.loads(row.fixed)
            rep = record.assemble(json.loads(row.body), seat.seed, None, [mine[i] for i in fixed + [seat.snapshot_id]],
                                  record.timestamp(seat.created_at))
            reps.append({k: rep[k] for k in ("lottery", "lottery_sha256", "draw")})
    if reps:
        out["replacements"] = reps
    return out


def write_record(engine: Engine, panel_id: int, out) -> dict:
    """Write ``panel_record`` to the file ``out`` (whole or not at all) and return it."""
    rec = panel_record(engine, panel_id)
    record.save(out, rec)
    return rec


def _still_holding(s: Session, seat: PanelSeat, panel_id: int) -> PanelSeat:
    """The seat as it is now, inside the writing transaction: refuse if a colleague replaced it meanwhile."""
    now = s.get(PanelSeat, seat.id)
    if now is None or now.role not in ("seated", "replacement"):
        raise OtosError(_("Member {snapshot_id}'s seat on panel {panel_id} was replaced meanwhile. Nothing was recorded.").format(snapshot_id=seat.snapshot_id, panel_id=panel_id), hint=_("See otos panel show."))
    return now


def _served(s: Session, member_id: int) -> None:
    m = s.get(PoolMember, member_id)
    m.panels_served += 1
    m.last_panel_at = utcnow()


def seat_groups(panel: Panel, seats: list[PanelSeat], *, shown: bool = False) -> dict[str, tuple]:
    """Each seat's quota group as the lottery saw it (member id -> values): the panel's
    own snapshot, and for members who came by a fair replacement, that draw's snapshot.
    ``shown``: the values as the reader reads them (value_name), for rosters."""
    groups = {}
    for snap in [panel.snapshot] + [x.snapshot for x in seats if x.snapshot]:
        data = json.loads(snap)
        for i, values in zip(data["ids"], data["values"]):
            if i not in groups:
                groups[i] = (tuple(value_name(f, v) for f, v in zip(data["features"], values)) if shown
                             else tuple(values))
    return groups


def _keeps_quotas(quotas: list[Quota], problem: Problem, chosen: set[str]) -> bool:
    """Whether ``chosen`` (member ids in ``problem``) meets every quota and seats nobody twice from a dwelling."""
    rows = [(v, h) for i, v, h in zip(problem.ids, problem.values, problem.households) if i in chosen]
    if len(rows) != len(chosen):
        return False
    counts = Counter((f, v[j]) for v, _x in rows for j, f in enumerate(problem.features))
    dwellings = [h for _x, h in rows if h]
    return len(dwellings) == len(set(dwellings)) and all(q.min <= counts[(q.feature, q.value)] <= q.max
                                                         for q in quotas)


def _reserve_steps_in(engine: Engine, panel: Panel, seats: list[PanelSeat], gone: PanelSeat,
                      stay: frozenset[str]) -> Replacement | None:
    """The first waiting reserve who keeps every quota in the pool as it is today takes
    the seat (recorded), or None. In line: the leaver's own reserves by rank, then those
    of the seat the leaver had taken as a reserve, then every other reserve, the most
    alike (quota categories in common) first, by rank."""
    groups = seat_groups(panel, seats)
    mine = groups.get(gone.snapshot_id, ())
    own = {gone.snapshot_id, gone.reserve_for}
    waiting = sorted((x for x in seats if x.role == "reserve"),
                     key=lambda x: (x.reserve_for not in own, x.reserve_for != gone.snapshot_id,
                                    -sum(a == b for a, b in zip(mine, groups.get(x.snapshot_id, ()))),
                                    x.rank, member_order(x.snapshot_id)))
    if not waiting:
        return None
    quotas = quotas_from_json(panel.quotas)
    include = {int(i) for i in stay} | {x.member_id for x in waiting if x.member_id}
    day = dt.date.today()
    problem = pool_problem(engine, quotas, panel.size, include=include, day=day)
    pick = next((x for x in waiting if _keeps_quotas(quotas, problem, set(stay) | {x.snapshot_id})), None)
    if pick is None:
        return None
    with unit_of_work(engine, write=True) as s:
        seat = _still_holding(s, gone, panel.id)
        _unchanged(problem, pool_problem(s, quotas, panel.size, include=include, day=day))
        reserve = s.get(PanelSeat, pick.id)
        if reserve is None or reserve.role != "reserve":
            raise OtosError(_("Reserve {snapshot_id} of panel {id} took a seat meanwhile. Nothing was recorded.").format(snapshot_id=pick.snapshot_id, id=panel.id), hint=_("See otos panel show, then replace again."))
        seat.role = "dropped"
        reserve.role = "replacement"
        _served(s, reserve.member_id)
        audit.record(s, "panel.replace", panel=panel.id, dropped=int(gone.snapshot_id),
                     replacement=reserve.member_id, reserve_for=reserve.reserve_for, reserve_rank=reserve.rank)
        return Replacement(reserve.member_id, reserve.probability, reserve.rank, reserve.reserve_for)


def list_panels(engine: Engine) -> list[dict]:
    with Session(engine) as s:
        return [{"id": p.id, "created_at": p.created_at.isoformat(sep=" "), "size": p.size, "seed": p.seed,
                 "algorithm": p.algorithm, "min_probability": p.min_probability,
                 "round": p.recruitment_round, "ticket": p.ticket}
                for p in s.execute(sql_select(Panel).order_by(Panel.id)).scalars()]


def list_prepared(engine: Engine) -> list[dict]:
    """Lotteries prepared (otos panel prepare) and not drawn yet, the oldest first."""
    with Session(engine) as s:
        drawn = set(s.execute(sql_select(Panel.lottery_id).where(Panel.lottery_id.is_not(None))).scalars())
        rows = s.execute(sql_select(Lottery).where(Lottery.prepared).order_by(Lottery.id)).scalars()
        return [{"id": r.id, "created_at": r.created_at.isoformat(sep=" ", timespec="seconds"), "size": r.size,
                 "sha256": r.sha256, "round": r.recruitment_round,
                 "tickets": json.loads(r.body)["denominator"] if r.min_before is not None else None}
                for r in rows if r.id not in drawn]


def all_probabilities(engine: Engine, panel_id: int) -> dict[str, float]:
    """Every volunteer's selection probability in the recorded draw (member id -> p)."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        snap = json.loads(panel.snapshot)
    if "probabilities" not in snap:
        raise OtosError(_("Panel {panel_id} was recorded without everyone's probabilities.").format(panel_id=panel_id),
                        hint=_("otos panel verify {panel_id} recomputes them.").format(panel_id=panel_id))
    return dict(zip(snap["ids"], snap["probabilities"]))


def get_panel(s: Session, panel_id: int) -> Panel:
    """The recorded panel, or NotFound that says where to look."""
    panel = s.get(Panel, panel_id)
    if panel is None:
        raise NotFound(_("There is no panel {panel_id}.").format(panel_id=panel_id), hint=_("See otos panel list."))
    return panel


def panel_quotas(engine: Engine, panel_id: int) -> tuple[list[Quota], int]:
    """(the quotas a panel was drawn with, its size): to draw the next panel alike."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        return quotas_from_json(panel.quotas), panel.size


def member_order(member_id: str) -> tuple[int, str]:
    """Sort key that puts member ids in numeric order (8, 25, 111), not text order."""
    return (int(member_id), "") if member_id.isdigit() else (1 << 62, member_id)


def panel_seats(engine: Engine, panel_id: int) -> list[dict]:
    """Seats with the holder's name (while they are in the pool), role, quota group,
    (``group``, and ``group_shown`` in the reader's words), probability and id in the published lottery record (``public_id``, None for panels
    drawn before records were stored): those holding a seat first, then those who left, each by member id,
    then the reserves waiting (role ``reserve``), seat by seat in call order (``rank``)."""
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = list(s.execute(sql_select(PanelSeat).where(PanelSeat.panel_id == panel_id)
                               .order_by(PanelSeat.id)).scalars())
        groups, shown = seat_groups(panel, seats), seat_groups(panel, seats, shown=True)
        lottery = s.get(Lottery, panel.lottery_id) if panel.lottery_id else None
        public = json.loads(lottery.pseudonyms) if lottery else {}
        rows = []
        for seat in seats:
            if seat.role == "called":  # a reserve the fair replacement lottery drew: its seat is its own row
                continue
            m = s.get(PoolMember, seat.member_id) if seat.member_id else None
            waiting = seat.role == "reserve"
            rows.append({"member": seat.snapshot_id, "name": f"{m.surname}, {m.first_names}" if m else _("(withdrawn)"),
                         "role": seat.role, "rank": seat.rank if waiting else None,
                         "reserve_for": seat.reserve_for if waiting else None,
                         "group": list(groups.get(seat.snapshot_id, ())),
                         "group_shown": list(shown.get(seat.snapshot_id, ())), "probability": seat.probability,
                         "public_id": public.get(seat.snapshot_id)})
    place = {"dropped": 1, "reserve": 2}
    return sorted(rows, key=lambda r: (place.get(r["role"], 0), member_order(r["reserve_for"] or r["member"]),
                                       r["rank"] or 0))


def role_label(seat: dict) -> str:
    """How a row of ``panel_seats`` names its role: "seated", ..., "reserve 2 for 118"."""
    if seat["role"] == "reserve":
        return _("reserve {rank} for {reserve_for}").format(rank=seat["rank"], reserve_for=seat["reserve_for"])
    return _(ROLE_NAMES[seat["role"]]) if seat["role"] in ROLE_NAMES else seat["role"]
