"""A lottery a person can draw by hand: the fair lottery rounded to M equally likely tickets.

Following Flanigan, Kehne and Procaccia, "Fair Sortition Made Transparent" (NeurIPS
2021): the panels of the fair lottery keep their place and each gets a whole number of
tickets, floor(M p) or ceil(M p) for a panel of probability p, M in all; the choice of
which panels round up is an integer program. Otos's program first makes the smallest
selection probability as large as it can be, then, keeping that, brings every type's
probability as close to the fair one as it can (the paper's aim: the smallest largest
deviation); where the program stops at its limit, a search that moves one extra
ticket from one panel to another while that helps finishes the job. Inside a type the
tickets' seats are dealt to its people in turn
(``within_type: deal`` in ``sampling.record``), so a ticket number alone decides a
whole panel and two people of one type differ by at most one ticket.

The fairness lost is reported: the smallest probability before and after rounding.
"""
from __future__ import annotations

import numpy as np

import highspy

from sampling.highs import INF, INTEGER, OPTIMAL, new_highs
from sampling.lottery import set_probabilities

# The integer program is stopped after this many branch-and-bound nodes, a limit that
# gives the same rounding on every run (a time limit would not), or at the time limit on
# a slow machine; the best rounding found is used.
NODE_LIMIT = 200
TIME_LIMIT = 10.0


def round_uniform(lottery: dict, tickets: int) -> dict:
    """The lottery with ``tickets`` equally likely tickets (a new lottery dict)."""
    from sampling.select import check_tickets

    check_tickets(tickets)
    panels, types = lottery["panels"], lottery["types"]
    m, t = len(panels), len(types)
    denominator = lottery["denominator"]
    base = np.array([tickets * p["weight"] // denominator for p in panels], dtype=np.int64)
    up = np.array([tickets * p["weight"] % denominator != 0 for p in panels])
    extra = int(tickets - base.sum())
    seats = np.zeros((t, m), dtype=np.int64)
    for i, p in enumerate(panels):
        for ty, c in p["seats"]:
            seats[ty, i] = c
    size = np.array([len(tp["people"]) for tp in types], dtype=np.int64)
    fair = seats @ np.array([p["weight"] for p in panels], dtype=float) / denominator  # expected seats per type
    live = np.flatnonzero(fair > 0)
    rounded = _solve(seats, size, base, up, extra, fair * tickets, live)
    rounded = _swap(rounded, seats[live], size[live], base, up, (fair * tickets)[live])
    out = dict(lottery)
    chosen = [(p, int(x)) for p, x in zip(panels, base + rounded) if x > 0]
    out["panels"] = [{"seats": p["seats"], "weight": x} for p, x in chosen]
    out["denominator"] = tickets
    out["within_type"] = "deal"
    out["types"] = [dict(tp) for tp in types]
    set_probabilities(out)
    return out


def _solve(seats: np.ndarray, size: np.ndarray, base: np.ndarray, up: np.ndarray, extra: int,
           target: np.ndarray, live: np.ndarray) -> np.ndarray:
    """0/1 per panel: whether it gets its extra ticket. Columns: b (panels), y (tickets
    every person of a live type surely gets), z (the smallest y), d (a type's deviation
    from its fair tickets, per person), w (the largest d)."""
    m, nl = len(base), len(live)
    h = new_highs()
    h.setOptionValue("time_limit", TIME_LIMIT)
    h.setOptionValue("mip_rel_gap", 1e-4)
    h.setOptionValue("mip_max_nodes", NODE_LIMIT)
    b = np.arange(m, dtype=np.int32)
    y = m + np.arange(nl, dtype=np.int32)
    z = m + nl
    d = z + 1 + np.arange(nl, dtype=np.int32)
    w = z + 1 + nl  # the largest deviation
    total = w + 1
    h.addVars(total, np.zeros(total), np.concatenate([up.astype(float), np.full(nl + 1 + nl + 1, INF)]))
    h.changeColsIntegrality(m + nl, np.arange(m + nl, dtype=np.int32), np.full(m + nl, INTEGER))
    h.addRow(float(extra), float(extra), m, b, np.ones(m))
    got = seats @ base
    for j, ty in enumerate(live):
        nz = np.flatnonzero(seats[ty])
        # size * y <= seats dealt to the type (every person gets at least y tickets)
        h.addRow(-INF, float(got[ty]), len(nz) + 1, np.append(b[nz], y[j]).astype(np.int32),
                 np.append(-seats[ty, nz], size[ty]).astype(float))
        h.addRow(-INF, 0.0, 2, np.array([z, y[j]], dtype=np.int32), np.array([1.0, -1.0]))
        # d >= |seats dealt - fair seats|, per person: divided by the type's size
        for sign in (1.0, -1.0):
            h.addRow(-INF, sign * (target[ty] - got[ty]), len(nz) + 1, np.append(b[nz], d[j]).astype(np.int32),
                     np.append(sign * seats[ty, nz], -size[ty]).astype(float))
        h.addRow(-INF, 0.0, 2, np.array([d[j], w], dtype=np.int32), np.array([1.0, -1.0]))
    # the smallest guaranteed tickets first; then, by a weight too small to trade away a
    # single ticket of it, the largest and the total deviation from the fair tickets
    h.changeColCost(z, -1.0)
    small = 1.0 / (4.0 * (nl + 1))
    h.changeColCost(w, small)
    h.changeColsCost(nl, d, np.full(nl, small / max(nl, 1)))
    h.setSolution(_start(_first_up(base, up, extra), seats, size, base, target, live))
    h.run()
    best = _solution(h, m)
    return _first_up(base, up, extra) if best is None else best


def _solution(h: highspy.Highs, m: int) -> np.ndarray | None:
    if h.getModelStatus() != OPTIMAL and h.getInfo().primal_solution_status != 2:
        return None
    return np.rint(np.asarray(h.getSolution().col_value)[:m]).astype(np.int64)


def _start(b: np.ndarray, seats: np.ndarray, size: np.ndarray, base: np.ndarray, target: np.ndarray,
           live: np.ndarray) -> highspy.HighsSolution:
    """A whole solution of the program from a rounding ``b``: the branch-and-bound starts
    from it, so the answer is never worse than plain rounding."""
    dealt = (seats @ (base + b))[live]
    y = dealt // size[live]
    d = np.abs(dealt - target[live]) / size[live]
    sol = highspy.HighsSolution()
    sol.col_value = list(np.concatenate([b, y, [y.min() if len(y) else 0], d, [d.max() if len(d) else 0]])
                         .astype(float))
    sol.value_valid = True
    return sol


SWAP_ROUNDS = 60  # passes of the swap search (a count, not a time: the same result on every machine)


def _score(dealt: np.ndarray, size: np.ndarray, target: np.ndarray) -> tuple:
    """Better is larger: the fewest tickets anyone surely gets, fewer types at that
    level, then a smaller total deviation from the fair tickets per person."""
    floor = dealt // size
    low = floor.min(axis=0)
    return low, -(floor == low).sum(axis=0), -(np.abs(dealt - target[:, None]) / size).sum(axis=0)


def _swap(b: np.ndarray, seats: np.ndarray, size: np.ndarray, base: np.ndarray, up: np.ndarray,
          target: np.ndarray) -> np.ndarray:
    """Improve a rounding by moving one extra ticket from one panel to another while that
    raises the score (``_score``); the integer program may stop early on big lotteries."""
    b = b.copy()
    if not len(size):
        return b
    dealt = seats @ (base + b)
    size2, best = size[:, None], _score(dealt[:, None], size[:, None], target)
    best = (int(best[0][0]), int(best[1][0]), float(best[2][0]))
    for _x in range(SWAP_ROUNDS):
        moved = False
        for i in np.flatnonzero(b):
            free = np.flatnonzero(up & (b == 0))
            if not len(free):
                return b
            trial = (dealt - seats[:, i])[:, None] + seats[:, free]
            low, count, dev = _score(trial, size2, target)
            order = np.lexsort((dev, count, low))  # the last key sorts first
            j = order[-1]
            if (int(low[j]), int(count[j]), float(dev[j]) - 1e-9) > best:
                best = (int(low[j]), int(count[j]), float(dev[j]))
                b[i], b[free[j]] = 0, 1
                dealt = trial[:, j].copy()
                moved = True
        if not moved:
            break
    return b


def _first_up(base: np.ndarray, up: np.ndarray, extra: int) -> np.ndarray:
    """The plainest rounding: the first ``extra`` panels (in the lottery's order) that can
    take an extra ticket get one. Where the program starts from, and its fallback."""
    out = np.zeros(len(base), dtype=np.int64)
    out[np.flatnonzero(up)[:extra]] = 1
    return out
