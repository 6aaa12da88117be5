"""One call that runs the fair lottery end to end: check, feasibility, leximin, draw."""
from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Callable

from pool.errors import OtosError
from sampling import record
from sampling.lottery import as_lottery, lowest, person_probabilities
from sampling.problem import Problem, Quota, build_types, check
from pool.i18n import _, number

if TYPE_CHECKING:  # the solver is imported only where a lottery is computed: checking a record needs none
    from sampling.feasibility import Infeasible
    from sampling.leximin import Distribution

ALGORITHM_VERSION = "2"  # 2: the lottery is stored and drawn by SHA-256 (sampling.record); 1: NumPy's PCG64
METHODS = ("leximin", "legacy")


class InfeasibleQuotas(OtosError):
    """No panel meets the quotas; ``explanation`` holds the clash and the smallest fix."""

    def __init__(self, explanation: Infeasible, k: int) -> None:
        self.explanation = explanation
        text = explanation.message(k) if explanation.relaxations else (
            _("No panel of {k} meets every quota, even with relaxed quotas (the household rule or the seats fixed in advance leave too few people).").format(k=k))
        super().__init__(text, hint=_("Relax those quotas and draw again; nothing was drawn."))


@dataclass
class Prepared:
    """A lottery fixed before any seed: the record's ``lottery`` section and its hash."""

    lottery: dict
    probabilities: dict[str, float]  # by the problem's ids
    private: dict[str, str]  # record id -> the problem's id
    pool_hash: str
    quotas_hash: str
    distribution: Distribution | None = None
    min_before: Fraction | None = None  # with --uniform: the smallest probability before rounding
    notes: list[str] = field(default_factory=list)

    @property
    def sha256(self) -> str:
        return record.lottery_hash(self.lottery)

    @property
    def algorithm(self) -> str:
        return self.lottery["algorithm"]

    def draw(self, seed: str | None = None, ticket: int | None = None) -> list[str]:
        """The problem's ids of the panel the sampler draws for ``seed`` or ``ticket``, sorted."""
        return sorted(self.private[i] for i in record.draw(self.lottery, seed, ticket))


@dataclass
class Selection:
    panel: list[str]
    probabilities: dict[str, float]
    seed: str
    method: str
    pool_hash: str
    quotas_hash: str
    distribution: Distribution | None = None
    notes: list[str] = field(default_factory=list)
    prepared: Prepared | None = None
    ticket: int | None = None

    @property
    def algorithm(self) -> str:
        return self.prepared.algorithm if self.prepared else f"otos-{self.method}-v{ALGORITHM_VERSION}"

    @property
    def min_probability(self) -> float:
        return min(self.probabilities.values())

    def as_json(self) -> dict:
        out = {
            "panel": self.panel,
            "probabilities": self.probabilities,
            "seed": self.seed,
            "algorithm": self.algorithm,
            "min_probability": self.min_probability,
            "pool_sha256": self.pool_hash,
            "quotas_sha256": self.quotas_hash,
            "notes": self.notes,
        }
        if self.prepared:
            out["lottery_sha256"] = self.prepared.sha256
            out["ticket"] = self.ticket
        return out

    def record(self, drawn_at: str | None = None, public: dict[str, str] | None = None) -> dict:
        """The whole record of this draw (``sampling.record``); ``public`` maps the
        problem's ids to the record's ids (identity when None)."""
        if self.prepared is None:
            raise OtosError(_("The legacy greedy draw has no lottery to record."),
                            hint=_("Use the fair (leximin) lottery for a draw that can be verified."))
        show = (lambda i: public[i]) if public else (lambda i: i)
        return record.assemble(self.prepared.lottery, self.seed if self.ticket is None else None, self.ticket,
                               [show(i) for i in self.panel], drawn_at)


MAX_TICKETS = 1_000_000


def check_tickets(tickets: int, ticket: int | None = None) -> None:
    """Refuse a number of tickets (and a ticket drawn) that cannot be, before any work."""
    if not 1 <= tickets <= MAX_TICKETS:
        raise OtosError(_("The number of tickets must be between 1 and {max_tickets}, not {tickets}.").format(max_tickets=number(MAX_TICKETS), tickets=tickets),
                        hint=_("1000 is usual: a number from 1 to 1000 drawn in public."))
    if ticket is not None and not 1 <= ticket <= tickets:
        raise OtosError(_("Ticket {ticket} is not between 1 and {tickets}.").format(ticket=ticket, tickets=tickets))


def _checked(problem: Problem, method: str) -> tuple:
    from sampling.feasibility import check_feasible

    if method not in METHODS:
        raise OtosError(_("Unknown selection method {method!r}.").format(method=method), hint=_("Use one of: {join}.").format(join=', '.join(METHODS)))
    check(problem)
    types = build_types(problem)
    clash = check_feasible(problem, types)
    if clash is not None:
        raise InfeasibleQuotas(clash, problem.k)
    return types


def prepare(problem: Problem, progress: Callable[[float, str], None] | None = None,
            public: dict[str, str] | None = None, uniform: int | None = None) -> Prepared:
    """Check the problem and compute the fair lottery, before any seed exists. ``public``
    maps the problem's ids to pseudonyms for the record; ``uniform`` rounds the lottery
    to that many equally likely tickets (``sampling.uniform``)."""
    from sampling.leximin import leximin

    if uniform is not None:
        check_tickets(uniform)
    types = _checked(problem, "leximin")
    dist = leximin(types, progress)
    lottery = as_lottery(problem, types, dist, f"otos-leximin-v{ALGORITHM_VERSION}", public)
    min_before = None
    if uniform is not None:
        from sampling.uniform import round_uniform

        min_before = lowest(lottery)
        lottery = round_uniform(lottery, uniform)
    private = {public[i]: i for i in problem.ids} if public else {i: i for i in problem.ids}
    probs = person_probabilities(lottery, private)
    notes = []
    zero = sum(1 for v in probs.values() if v == 0)
    if zero:
        notes.append(_("{zero} volunteer(s) can sit on no panel that meets the quotas (probability 0)").format(zero=zero))
    return Prepared(lottery, probs, private, problem.pool_hash(), problem.quotas_hash(), dist, min_before, notes)


def select(problem: Problem, seed: str | None, method: str = "leximin",
           progress: Callable[[float, str], None] | None = None, *, public: dict[str, str] | None = None,
           uniform: int | None = None, ticket: int | None = None, prepared: Prepared | None = None) -> Selection:
    """Check the problem, compute the fair lottery (or take ``prepared``) and draw the
    panel for ``seed`` (or a hand-drawn ``ticket`` of a ``uniform`` lottery)."""
    if ticket is None and (seed is None or not seed.strip()):
        raise OtosError(_("The seed is empty."), hint=_("Give the seed the team took from a public source."))
    if method == "legacy":
        if uniform is not None or ticket is not None or prepared is not None:
            raise OtosError(_("The legacy greedy draw has no lottery to prepare, round or draw a ticket from."),
                            hint=_("Use the fair (leximin) lottery."))
        from sampling import legacy
        from sampling.lottery import seed_generator

        _checked(problem, method)
        rng = seed_generator(seed)
        panel = legacy.legacy_draw(problem, rng)
        probs = legacy.legacy_probabilities(problem, seed_generator(seed + "/estimate"))
        return Selection(panel, probs, seed, method, problem.pool_hash(), problem.quotas_hash(),
                         notes=[_("legacy greedy draw: less fair; probabilities estimated from 1,000 draws")])
    if prepared is None:
        prepared = prepare(problem, progress, public, uniform)
    elif method not in METHODS:
        raise OtosError(_("Unknown selection method {method!r}.").format(method=method), hint=_("Use one of: {join}.").format(join=', '.join(METHODS)))
    panel = prepared.draw(seed if ticket is None else None, ticket)
    return Selection(panel, prepared.probabilities, seed if ticket is None else f"ticket {ticket}", method,
                     prepared.pool_hash, prepared.quotas_hash, prepared.distribution, list(prepared.notes),
                     prepared, ticket)


def problem_from_lottery(lottery: dict) -> Problem:
    """The selection problem a lottery was computed for, with the record's ids."""
    ids, values, houses, fixed = [], [], [], set()
    for tp in lottery["types"]:
        for pid in tp["people"]:
            ids.append(pid)
            values.append(tuple(tp["values"]))
            houses.append(tp.get("dwelling"))
            if tp.get("fixed"):
                fixed.add(pid)
    quotas = [Quota(q["feature"], q["value"], q["min"], q["max"]) for q in lottery["quotas"]]
    return Problem(ids, list(lottery["features"]), values, quotas, lottery["panel_size"], houses, frozenset(fixed))


def resolve(lottery: dict) -> tuple[float, bool]:
    """(the largest difference between a recorded probability and the leximin optimum
    solved again now, whether the lottery was rounded to whole tickets)."""
    problem = problem_from_lottery(lottery)
    again = prepare(problem).probabilities
    recorded = person_probabilities(lottery)
    return max(abs(recorded[i] - again[i]) for i in problem.ids), lottery["within_type"] == "deal"


def resolve_note(lottery: dict) -> str:
    """Solve the lottery's problem again (HiGHS) and say how far the recorded
    probabilities are from the leximin optimum: a check of the optimisation, apart from
    the record's integrity."""
    gap, rounded = resolve(lottery)
    if rounded:
        return (_("re-solved: the probabilities of this lottery of {denominator} tickets are within {gap:.2g} of the fair optimum (rounding to whole tickets moves them by up to a few tickets' worth)").format(denominator=lottery['denominator'], gap=gap))
    if gap <= 1e-6:
        return _("re-solved: the recorded lottery is leximin-optimal (largest difference {gap:.1g})").format(gap=gap)
    return (_("re-solving gives a different optimum (largest difference in a probability {gap:.3g}): the record itself is intact; the solver version or the optimisation differs").format(gap=gap))


def select_v1(problem: Problem, seed: str) -> Selection:
    """A draw as Otos made it before the lottery was stored (algorithm v1: the solver
    recomputes the lottery, NumPy draws): only to verify records of that time."""
    from sampling.leximin import leximin
    from sampling.lottery import draw_v1

    types = _checked(problem, "leximin")
    dist = leximin(types)
    probs = {problem.ids[i]: float(dist.type_probability[t]) for t, members in enumerate(types.members)
             for i in members}
    return Selection(draw_v1(problem, types, dist, seed), probs, seed, "leximin", problem.pool_hash(),
                     problem.quotas_hash(), dist)


def quotas_met(problem: Problem, panel: list[str]) -> list[str]:
    """The quotas (and household rule) the panel breaks; empty when it meets them all."""
    index = {pid: i for i, pid in enumerate(problem.ids)}
    broken = []
    for q in problem.quotas:
        j = problem.features.index(q.feature)
        n = sum(1 for pid in panel if problem.values[index[pid]][j] == q.value)
        if not q.min <= n <= q.max:
            broken.append(_("{feature}={value}: {n} seated, quota {min}-{max}").format(feature=q.feature, value=q.value, n=n, min=q.min, max=q.max))
    houses = [problem.households[index[pid]] for pid in panel if problem.households[index[pid]]]
    if len(houses) != len(set(houses)):
        broken.append(_("two panel members share a household"))
    if len(panel) != problem.k:
        broken.append(_("{count} seats filled, panel size {k}").format(count=len(panel), k=problem.k))
    return broken


def empirical(sel: Selection, draws: int, tag: str = "empirical") -> dict[str, float]:
    """Frequencies of each volunteer over ``draws`` lotteries from the selection's
    lottery, seeds ``<tag>/0``, ``<tag>/1`` ..."""
    from collections import Counter

    hits = Counter()
    for i in range(draws):
        hits.update(sel.prepared.draw(f"{tag}/{i}"))
    return {pid: hits[pid] / draws for pid in sel.probabilities}
