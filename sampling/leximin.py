"""Leximin-fair selection probabilities over quota-feasible panels (HiGHS for LPs and IPs).

Among all probability distributions over quota-feasible panels, find the one whose
selection probabilities are leximin-optimal: the smallest as large as possible, then
the next smallest, and so on (Flanigan et al., Nature 2021). Everything works over
*types* of interchangeable people; a panel is a vector ``c`` of seats per type.

The fast path (``leximin``):

1. ``_relaxed_leximin``: the leximin point of the LP relaxation of the quota polytope,
   one LP per level. No lottery over real panels can beat it in the leximin order.
2. ``_as_lottery``: write that point as a lottery over integer panels. ``_peel`` does the
   bulk (Carathéodory: take an integer panel on the point's face, step away from it;
   the step sizes give the panels' weights); where peeling reaches a face without
   integer panels, ``_decompose`` redoes the last stretch exactly by column generation
   inside that face. Success proves optimality. There are about as many steps as
   types. Most steps need no LP: the panel just peeled off is moved onto the next face
   by exchanging a seat, or two for two (``_Face.repair``). The others cost a few LPs
   (a random objective, then pushes on the fractional seats until the vertex is
   integral; two models side by side on two cores), first on a small face of the face
   around the last panel, then on the whole face. The faces are nested, so the LPs
   are rebuilt over the columns still free as the path goes on. Progress is reported
   step by step.

The exact fallback (``_leximin_exact``), when the relaxed point is not a lottery:

- the master LP over the panels found so far maximises the smallest probability ``z``
  of the types not yet fixed, keeping fixed types at their fixed level;
- its duals price a new panel: the integer program "maximise sum of dual / type size
  times seats" over the quotas; a panel worth more than the convexity dual improves
  the LP, otherwise the LP optimum is the true optimum at this level;
- types whose dual is positive cannot rise above ``z``: they are fixed at ``z`` and the
  next level starts. When every type is fixed, the last LP's panel weights are the
  distribution.
"""
from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import numpy as np

from pool.errors import OtosError
import highspy

from sampling.highs import INF, INFEASIBLE, INTEGER, OPTIMAL, SOLUTION_LIMIT, new_highs
from sampling.problem import Types
from pool.i18n import _, duration, number as fmt_number

REDUCED_COST_EPS = 1e-7  # a panel must improve the LP by more than this to be added
DUAL_FIX_EPS = 1e-7  # a type with a larger dual is tight at the current level
FIX_SLACK = 1e-9  # fixed levels are kept with this much room against rounding
MIX_TOLERANCE = 1e-9  # a lottery's probabilities may differ from the target's by this much
LP_ATTEMPTS = 25  # LP objectives tried for an integral vertex before the integer program
PEEL_RETRIES = 8  # times a dead end is backed away from before the column generation
PROGRESS_EVERY = 0.5  # seconds between progress reports (each also checks for a stop)


class Pricer:
    """The integer program over quota-feasible panels, built once, re-priced per call."""

    def __init__(self, types: Types, rng: np.random.Generator | None = None) -> None:
        self._load(types.forced.astype(float), types.size.astype(float), types.quota_rows, types.k,
                   types.households, rng)

    @classmethod
    def over(cls, lower: np.ndarray, upper: np.ndarray, quota_rows: list, k: float, households: list,
             rng: np.random.Generator) -> Pricer:
        """A pricer over some columns only (bounds, rows by column index, seats to fill)."""
        pricer = cls.__new__(cls)
        pricer._load(lower, upper, quota_rows, k, households, rng)
        return pricer

    def _load(self, lower: np.ndarray, upper: np.ndarray, quota_rows: list, k: float, households: list,
              rng: np.random.Generator | None) -> None:
        self.t = len(lower)
        self.idx = np.arange(self.t, dtype=np.int32)
        h = new_highs()
        h.setOptionValue("mip_rel_gap", 1e-9)
        h.setOptionValue("mip_abs_gap", 1e-10)
        h.addVars(self.t, lower, upper)
        h.changeColsIntegrality(self.t, self.idx, np.full(self.t, INTEGER))
        ones = lambda n: np.ones(n)  # noqa: E731
        for lo, hi, members in quota_rows:
            h.addRow(float(lo), float(hi), len(members), members.astype(np.int32), ones(len(members)))
        h.addRow(float(k), float(k), self.t, self.idx, ones(self.t))
        for house in households:
            h.addRow(-INF, 1.0, len(house), house.astype(np.int32), ones(len(house)))
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.h = h
        # The same model without integrality: its optimal vertex is often integral
        # already (the quota matrix is close to totally unimodular), at a tenth of the cost.
        lp = new_highs()
        model = h.getLp()
        model.integrality_ = []
        lp.passModel(model)
        lp.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self.lp = lp
        self.rng = rng if rng is not None else np.random.default_rng(1)

    def set_col_bounds(self, lower: np.ndarray, upper: np.ndarray) -> None:
        for m in (self.h, self.lp):
            m.changeColsBounds(self.t, self.idx, lower, upper)

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        for m in (self.h, self.lp):
            m.changeRowBounds(row, lower, upper)

    def vertex(self, w: np.ndarray) -> tuple[str, np.ndarray | None]:
        """The LP's optimal vertex for costs ``w``: ("integral", seats), ("fractional",
        the next costs to try: only the fractional seats pushed, each up or down at
        random, so the next vertex is a few pivots away), "infeasible" or "failed"."""
        self.lp.changeColsCost(self.t, self.idx, w)
        self.lp.run()
        status = self.lp.getModelStatus()
        if status == INFEASIBLE:
            return "infeasible", None
        if status != OPTIMAL:
            return "failed", None
        x = np.asarray(self.lp.getSolution().col_value)
        counts = np.rint(x)
        fractional = np.abs(x - counts) >= 1e-9
        if not fractional.any():
            return "integral", counts.astype(np.int64)
        w = w.copy()
        w[fractional] += self.rng.choice((-2.0, 2.0), int(fractional.sum()))
        return "fractional", w

    def first_solution(self, weights: np.ndarray, node_limit: int = 2000) -> tuple[float, np.ndarray] | None:
        """The integer program's first solution within ``node_limit`` nodes, or None."""
        h = self.h
        h.setOptionValue("mip_max_improving_sols", 1)
        h.setOptionValue("mip_max_nodes", node_limit)
        try:
            h.changeColsCost(self.t, self.idx, weights.astype(float))
            h.run()
            if h.getModelStatus() not in (OPTIMAL, SOLUTION_LIMIT):
                return None
            counts = np.rint(np.asarray(h.getSolution().col_value)).astype(np.int64)
            return float(weights @ counts), counts
        finally:
            h.setOptionValue("mip_max_improving_sols", 2147483647)
            h.setOptionValue("mip_max_nodes", 2147483647)

    def any_panel(self, weights: np.ndarray, node_limit: int = 2000) -> tuple[float, np.ndarray] | None:
        """Some feasible panel (not necessarily the best for ``weights``): the LP vertex
        when it is integral, else the integer program's first solution. None when there
        is none, or none found within ``node_limit`` branch-and-bound nodes."""
        w = weights.astype(float)
        for _attempt in range(LP_ATTEMPTS):  # other objectives reach other vertices, often integral
            status, found = self.vertex(w)
            if status == "infeasible":
                return None
            if status == "integral":
                return float(weights @ found), found
            if status == "failed":
                break
            w = found
        return self.first_solution(weights, node_limit)

    def best(self, weights: np.ndarray) -> tuple[float, np.ndarray] | None:
        """The feasible panel with the largest weighted seat count, or None if none exists."""
        self.h.changeColsCost(self.t, self.idx, weights.astype(float))
        self.h.run()
        if self.h.getModelStatus() != OPTIMAL:
            return None
        counts = np.rint(np.asarray(self.h.getSolution().col_value)).astype(np.int64)
        return float(weights @ counts), counts


class Master:
    """The restricted master LP: minimise -z over panel weights, one row per type."""

    def __init__(self, types: Types) -> None:
        self.n = types.size.astype(float)
        self.t = types.count
        h = new_highs()
        h.setOptionValue("dual_feasibility_tolerance", 1e-9)
        h.setOptionValue("primal_feasibility_tolerance", 1e-9)
        for _x in range(self.t):
            h.addRow(0.0, INF, 0, np.array([], dtype=np.int32), np.array([]))
        h.addRow(1.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
        # column 0 is z, in every unfixed type's row with coefficient -1
        h.addCol(-1.0, 0.0, 1.0, self.t, np.arange(self.t, dtype=np.int32), -np.ones(self.t))
        self.h = h
        self.panels: list[np.ndarray] = []
        self.keys: set[bytes] = set()

    def add(self, counts: np.ndarray) -> bool:
        """Add a panel as a column; False if it is already there."""
        key = counts.tobytes()
        if key in self.keys:
            return False
        self.keys.add(key)
        nz = np.flatnonzero(counts)
        rows = np.append(nz, self.t).astype(np.int32)
        vals = np.append(counts[nz] / self.n[nz], 1.0)
        self.h.addCol(0.0, 0.0, INF, len(rows), rows, vals)
        self.panels.append(counts)
        return True

    def fix(self, t: int, level: float) -> None:
        self.h.changeCoeff(t, 0, 0.0)
        self.h.changeRowBounds(t, max(0.0, level - FIX_SLACK), INF)

    def solve(self) -> tuple[float, np.ndarray, float, np.ndarray]:
        """(z, type duals, convexity dual, panel weights) of the current LP."""
        self.h.run()
        if self.h.getModelStatus() != OPTIMAL:
            raise OtosError(_("The fairness LP could not be solved (numerical trouble)."),
                            hint=_("Report this with the quotas; the pool data need not be sent."))
        sol = self.h.getSolution()
        duals = np.asarray(sol.row_dual)
        cols = np.asarray(sol.col_value)
        return float(cols[0]), duals[: self.t], float(duals[self.t]), cols[1:]


@dataclass
class Distribution:
    """Panels (seats per type) with their probabilities, and each type's probability."""

    panels: np.ndarray  # (m, types) seats
    weights: np.ndarray  # (m,) probabilities summing to 1
    type_probability: np.ndarray  # (types,)
    levels: int
    columns: int
    seconds: float


def _relaxed_leximin(types: Types, impossible: np.ndarray) -> np.ndarray:
    """Leximin expected seats over the LP relaxation of the quota polytope.

    An upper bound in the leximin order for any distribution over integer panels; when
    the point it finds is a convex combination of integer panels, it is the answer.
    Pure LPs (one per level), no column generation.
    """
    t = types.count
    n = types.size.astype(float)
    idx = np.arange(t, dtype=np.int32)
    h = new_highs()
    h.setOptionValue("dual_feasibility_tolerance", 1e-10)
    h.setOptionValue("primal_feasibility_tolerance", 1e-10)
    upper = np.where(impossible, 0.0, n)
    h.addVars(t + 1, np.append(types.forced.astype(float), 0.0), np.append(upper, 1.0))
    h.changeColCost(t, -1.0)  # minimise -z
    for lo, hi, members in types.quota_rows:
        h.addRow(float(lo), float(hi), len(members), members.astype(np.int32), np.ones(len(members)))
    h.addRow(float(types.k), float(types.k), t, idx, np.ones(t))
    for house in types.households:
        h.addRow(-INF, 1.0, len(house), house.astype(np.int32), np.ones(len(house)))
    first = h.getNumRow()
    fixed = impossible | (types.forced > 0)
    for i in range(t):  # x_i - n_i z >= 0 for types still rising
        h.addRow(0.0, INF, 1 if fixed[i] else 2, np.array([i, t][: 1 if fixed[i] else 2], dtype=np.int32),
                 np.array([1.0, -n[i]][: 1 if fixed[i] else 2]))
    while not fixed.all():
        h.run()
        if h.getModelStatus() != OPTIMAL:
            raise OtosError(_("No panel meets every quota (the quotas are infeasible for this pool)."))
        sol = h.getSolution()
        z = float(np.asarray(sol.col_value)[t])
        y = np.asarray(sol.row_dual)[first:]
        tight = np.flatnonzero(~fixed & (y > DUAL_FIX_EPS))
        if len(tight) == 0:
            x = np.asarray(sol.col_value)[:t]
            free = np.flatnonzero(~fixed)
            tight = free[[np.argmin(x[free] / n[free])]]
        for i in tight:
            h.changeCoeff(first + int(i), t, 0.0)
            h.changeRowBounds(first + int(i), max(0.0, z * n[i] - FIX_SLACK * n[i]), INF)
            fixed[i] = True
    h.run()
    return np.asarray(h.getSolution().col_value)[:t].copy()


def _decompose(types: Types, pricer: Pricer, target: np.ndarray, panels: list[np.ndarray],
               tolerance: float = 1e-7) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Write ``target`` expected seats as a lottery over integer panels, or None if it is
    not one (to within ``tolerance`` in probability).

    Column generation on: minimise the probability-weighted gap between the panels'
    mix and the target; a panel prices in when it shrinks the gap.
    """
    t = types.count
    n = types.size.astype(float)
    h = new_highs()
    for i in range(t):
        h.addRow(float(target[i]), float(target[i]), 0, np.array([], dtype=np.int32), np.array([]))
    h.addRow(1.0, 1.0, 0, np.array([], dtype=np.int32), np.array([]))
    for i in range(t):  # gap columns: over and under the target, priced by probability
        h.addCol(1.0 / n[i], 0.0, INF, 1, np.array([i], dtype=np.int32), np.array([1.0]))
        h.addCol(1.0 / n[i], 0.0, INF, 1, np.array([i], dtype=np.int32), np.array([-1.0]))
    used: list[np.ndarray] = []
    keys: set[bytes] = set()

    def add(c: np.ndarray) -> bool:
        if c.tobytes() in keys:
            return False
        keys.add(c.tobytes())
        nz = np.flatnonzero(c)
        h.addCol(0.0, 0.0, INF, len(nz) + 1, np.append(nz, t).astype(np.int32),
                 np.append(c[nz].astype(float), 1.0))
        used.append(c)
        return True

    for c in panels:
        add(c)
    while True:
        h.run()
        if h.getModelStatus() != OPTIMAL:
            return None
        gap = h.getInfo().objective_function_value
        if gap <= tolerance:
            break
        y = np.asarray(h.getSolution().row_dual)
        found = pricer.best(y[:t])
        if found is None:
            return None
        value, counts = found
        if value + y[t] <= REDUCED_COST_EPS or not add(counts):
            return None  # no panel closes the gap: the target is outside the panels' hull
    w = np.asarray(h.getSolution().col_value)[2 * t:]
    return used, w


class _Face:
    """Restricts a pricer to the smallest face of the quota polytope holding a point.

    Faces along a peeling path are nested: a seat count at its bound stays there. With
    ``shrink``, once enough columns are fixed the LPs are rebuilt over the free ones
    alone (rows and the panel size less what the fixed ones hold), so later steps
    solve ever smaller LPs; ``panel`` answers in full-length seat counts either way.
    """

    TOL = 1e-9
    SHRINK_AT = 0.2  # rebuild when this share of the model's columns is fixed
    SHRINK_MIN = 64  # ... and the model still has more columns than this

    def __init__(self, types: Types, shrink: bool = False) -> None:
        self.types = types
        self.shrink = shrink
        self.width = 2 if shrink and (os.cpu_count() or 1) > 1 else 1  # models searched side by side
        self.threads = ThreadPoolExecutor(self.width) if self.width > 1 else None
        self.lower = types.forced.astype(float)
        self.upper = types.size.astype(float)
        q = len(types.quota_rows)
        self.rows = [(float(lo), float(hi), m, i) for i, (lo, hi, m) in enumerate(types.quota_rows)]
        self.rows += [(-INF, 1.0, house, q + 1 + j) for j, house in enumerate(types.households)]
        self.rngs = [np.random.default_rng(1 + i) for i in range(self.width)]
        self.near_rng = np.random.default_rng(1 + self.width)
        self.pricers = [Pricer(types, rng) for rng in self.rngs]
        self.cols = np.arange(types.count)  # the model's columns, as type indices
        self.held = np.zeros(types.count, dtype=np.int64)  # seats of the columns left out
        self.held_in_row = np.zeros(len(self.rows))
        # Every row's members as (row, type) pairs: row sums by bincount, and the exchanges in ``repair``.
        self.row_of = np.concatenate([np.full(len(m), i, dtype=np.int64) for i, (_l, _h, m, _r) in enumerate(self.rows)]
                                     + [np.zeros(0, dtype=np.int64)])
        self.type_of = np.concatenate([np.asarray(m, dtype=np.int64) for _l, _h, m, _r in self.rows]
                                      + [np.zeros(0, dtype=np.int64)])
        self.row_lo = np.array([lo for lo, _h, _m, _r in self.rows])
        self.row_hi = np.array([hi for _l, hi, _m, _r in self.rows])
        by_type = np.argsort(self.type_of, kind="stable")
        self.rows_by_type = self.row_of[by_type]
        self.rows_at = np.searchsorted(self.type_of[by_type], np.arange(types.count + 1))
        self.row_key = np.random.default_rng(7).integers(1, 2 ** 62, len(self.rows), dtype=np.uint64)
        self.bounds: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self.synced = True

    def _row_sums(self, x: np.ndarray) -> np.ndarray:
        """Each row's sum of ``x`` (seats or expected seats per type)."""
        return np.bincount(self.row_of, weights=x[self.type_of], minlength=len(self.rows))

    def _rebuild(self, keep: np.ndarray, fixed_at: np.ndarray) -> None:
        """The model over the columns ``keep`` only; the others hold ``fixed_at`` seats."""
        held = np.rint(fixed_at).astype(np.int64)
        held[keep] = 0
        position = np.full(self.types.count, -1, dtype=np.int64)
        position[keep] = np.arange(len(keep))
        inside = lambda m: position[m][position[m] >= 0]  # noqa: E731
        quota_rows = [(lo - held[m].sum(), hi - held[m].sum(), inside(m)) for lo, hi, m in self.types.quota_rows]
        houses = [inside(house) for house in self.types.households]
        self.pricers = [Pricer.over(self.lower[keep], self.upper[keep], quota_rows, self.types.k - held.sum(), houses,
                                    rng) for rng in self.rngs]
        self.cols = keep
        self.held = held
        self.held_in_row = self._row_sums(held)

    def restrict(self, r: np.ndarray) -> None:
        """The smallest face holding ``r``: seat counts at a bound stay there, rows at a
        bound become equalities. The models hear of it when ``panel`` next needs them."""
        tol = self.TOL
        at_low, at_high = r <= self.lower + tol, r >= self.upper - tol
        total = self._row_sums(r)
        lo, hi = self.row_lo, self.row_hi
        self.bounds = (np.where(at_high, self.upper, self.lower), np.where(at_low, self.lower, self.upper),
                       np.where(total >= hi - tol, hi, lo), np.where((lo > -INF) & (total <= lo + tol), lo, hi))
        self.synced = False

    def _sync(self) -> None:
        """Tell the models the current face (rebuilding them smaller when it pays)."""
        if self.synced:
            return
        col_lo, col_hi, row_lo, row_hi = self.bounds
        fixed = (col_lo == col_hi)[self.cols]
        if self.shrink and len(self.cols) > self.SHRINK_MIN and fixed.mean() >= self.SHRINK_AT:
            self._rebuild(self.cols[~fixed], col_lo)
        c = self.cols
        for pricer in self.pricers:
            pricer.set_col_bounds(col_lo[c], col_hi[c])
            for (_lo, _hi, _m, row), lo, hi, held in zip(self.rows, row_lo, row_hi, self.held_in_row):
                pricer.set_row_bounds(row, lo - held, hi - held)
        self.synced = True

    def repair(self, v: np.ndarray, rng: np.random.Generator) -> np.ndarray | None:
        """The last step's panel moved onto the current face by exchanging seats, or None.

        A step fixes a seat count or two at a bound; the panel it peeled off is on the
        face but for those. Each seat too many (too few) is exchanged: with one seat of
        another type, or two seats out for two in, so that every row stays within its
        bounds on the face. Rows that are equalities on the face (usually every quota:
        the fair point fills them exactly) must see the same types leave as arrive, row
        by row; a sum of random keys per row finds such exchanges by lookup. No LP is
        needed. None when a row is off its bound or no exchange is found: then
        ``panel`` asks the LPs."""
        col_lo, col_hi, row_lo, row_hi = self.bounds
        seats = v.copy()
        count = self._row_sums(seats).round().astype(np.int64)
        moves = [(int(t), -1) for t in np.flatnonzero(seats > col_hi) for _x in range(int(seats[t] - col_hi[t]))]
        moves += [(int(t), 1) for t in np.flatnonzero(seats < col_lo) for _x in range(int(col_lo[t] - seats[t]))]
        if not moves or np.any(count < row_lo) or np.any(count > row_hi):
            return None
        equal = row_lo == row_hi
        key = np.zeros(len(seats), dtype=np.uint64)
        with np.errstate(over="ignore"):
            np.add.at(key, self.type_of[equal[self.row_of]], self.row_key[self.row_of[equal[self.row_of]]])
        while moves:
            a, d = moves.pop(0)
            pending = np.array([t for t, dt in moves if dt == d], dtype=np.int64)
            change = self._exchange(seats, count, a, d, key, rng, pending)
            if change is None:
                return None
            for t, dt in change:
                seats[t] += dt
                count[self._rows(t)] += dt
                if t != a and dt == d and (t, d) in moves:  # a second seat that had to go (come) anyway
                    moves.remove((t, d))
        return seats

    def _rows(self, t: int) -> np.ndarray:
        return self.rows_by_type[self.rows_at[t]:self.rows_at[t + 1]]

    def _fits(self, seats: np.ndarray, count: np.ndarray, change: list[tuple[int, int]]) -> bool:
        """Whether the panel stays on the face after ``change`` [(type, seats added)]."""
        col_lo, col_hi, row_lo, row_hi = self.bounds
        net: dict[int, int] = {}
        for t, dt in change:
            net[t] = net.get(t, 0) + dt
        if any(not col_lo[t] <= seats[t] + dt <= col_hi[t] for t, dt in net.items()):
            return False
        touched = [self._rows(t) for t in net]
        rows, where = np.unique(np.concatenate(touched), return_inverse=True)
        moved = np.bincount(where, weights=np.concatenate([np.full(len(r), dt) for r, dt in zip(touched, net.values())]))
        after = count[rows] + moved
        return bool(np.all(after >= row_lo[rows]) and np.all(after <= row_hi[rows]))

    EXCHANGE_TRIES = 64  # second seats tried per exchange of two for two

    def _exchange(self, seats: np.ndarray, count: np.ndarray, a: int, d: int, key: np.ndarray,
                  rng: np.random.Generator, pending: np.ndarray) -> list[tuple[int, int]] | None:
        """Seats to move so that ``a`` gains ``d`` (+1 or -1) and the panel stays on the face:
        one seat the other way, or a second seat with ``a`` and two the other way, the
        keys balancing. ``pending``: types that must gain ``d`` too, tried first."""
        col_lo, col_hi = self.bounds[0], self.bounds[1]
        room = np.flatnonzero(seats < col_hi)  # types that may take a seat more
        held = np.flatnonzero(seats > col_lo)  # ... and a seat fewer
        same, other = (held, room) if d < 0 else (room, held)
        for b in rng.permutation(other[(key[other] == key[a]) & (other != a)])[:self.EXCHANGE_TRIES]:
            if self._fits(seats, count, [(a, d), (int(b), -d)]):
                return [(a, d), (int(b), -d)]

        if len(other) == 0:
            return None

        def lookup(among: np.ndarray) -> tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], list[tuple[int, int]]]]:
            """``among`` sorted by key, their keys, and for wanted keys a few (at random)
            of (position in the wanted, type of ``among`` with that key)."""
            order = among[np.argsort(key[among], kind="stable")]
            keys = key[order]

            def found(want: np.ndarray) -> list[tuple[int, int]]:
                at = np.minimum(np.searchsorted(keys, want), len(order) - 1)
                return [(int(i), int(order[at[i]])) for i in rng.permutation(np.flatnonzero(keys[at] == want))[:8]]
            return order, keys, found

        with np.errstate(over="ignore"):
            order, keys, in_other = lookup(other)
            seconds = list(pending) + list(rng.permutation(same[same != a])[:self.EXCHANGE_TRIES if d < 0 else 0])
            for c in seconds:  # a and c move; b and e of the other side balance them
                for i, e in in_other(key[a] + key[c] - keys):
                    change = [(a, d), (int(c), d), (int(order[i]), -d), (e, -d)]
                    if self._fits(seats, count, change):
                        return change
            if d > 0 and len(same):  # a and some b come in; two held seats c, e go, key b = key c + key e - key a
                in_same = lookup(same)[2]
                for c in rng.permutation(held)[:self.EXCHANGE_TRIES]:
                    for i, b in in_same(key[c] + key[held] - key[a]):
                        change = [(a, 1), (b, 1), (int(c), -1), (int(held[i]), -1)]
                        if self._fits(seats, count, change):
                            return change
        return None

    @property
    def pricer(self) -> Pricer:
        self._sync()
        return self.pricers[0]

    def panel(self, weights: np.ndarray, near: np.ndarray | None = None) -> np.ndarray | None:
        """Some integer panel on the face (full-length seats), or None.

        ``near``: a panel close to the face (the last one). The LPs are first asked on a
        smaller face: every other free column held at its lower bound except the types
        ``near`` seats and a few at random, more each time that finds nothing. Holding
        a column at a bound gives a face of the face, so any panel found is on it; the
        small LPs are cheaper and as often integral."""
        self._sync()
        if near is not None:
            free = np.flatnonzero(self.bounds[0] < self.bounds[1])
            extra = self.NEAR_EXTRA * max(1, int(np.count_nonzero(near)))
            while extra < len(free):
                only = near > 0
                only[free[self.near_rng.random(len(free)) < extra / len(free)]] = True
                seats = self._search(weights, only)
                if seats is not None:
                    return seats
                extra *= 4
            self._sync()  # the whole face again
        return self._search(weights)

    NEAR_EXTRA = 0.2  # free columns added at random to the nearby face, per type ``near`` seats
    NEAR_ROUNDS = 8  # LP rounds on a nearby face before a larger one is tried

    def _search(self, weights: np.ndarray, only: np.ndarray | None = None) -> np.ndarray | None:
        """An integer panel on the face, or with ``only`` on its face where every column
        outside ``only`` is at its lower bound; None if there is none (or, on such a
        smaller face, none was found within ``NEAR_ROUNDS`` LP rounds).

        With two cores the two models try LP vertices side by side (HiGHS lets go of
        Python's lock while it solves), ``weights`` on the first and the second model's
        own random costs, in rounds; the first model's answer wins a tie, so the result
        does not depend on which thread finishes first."""
        c = self.cols
        if only is not None:
            for pricer in self.pricers:
                pricer.set_col_bounds(self.bounds[0][c], np.where(only[c], self.bounds[1][c], self.bounds[0][c]))
            self.synced = False  # the whole face again at the next ``_sync``
        costs = [weights[c].astype(float)] + [rng.random(len(c)) for rng in self.rngs[1:]]
        for _attempt in range(LP_ATTEMPTS if only is None else self.NEAR_ROUNDS):
            if self.width > 1:
                answers = list(self.threads.map(lambda i: self.pricers[i].vertex(costs[i]), range(self.width)))
            else:
                answers = [self.pricers[0].vertex(costs[0])]
            if any(status == "infeasible" for status, _x in answers):
                return None
            won = next((found for status, found in answers if status == "integral"), None)
            if won is not None:
                seats = self.held.copy()
                seats[c] = won
                return seats
            if any(status == "failed" for status, _x in answers):
                break
            costs = [found for _status, found in answers]
        if only is not None:
            return None
        found = self.pricers[0].first_solution(weights[c])
        if found is None:
            return None
        seats = self.held.copy()
        seats[c] = found[1]
        return seats

    def close(self) -> None:
        if self.threads is not None:
            self.threads.shutdown()

    def step(self, r: np.ndarray, v: np.ndarray) -> float:
        """Largest lam in [0, 1] with (r - lam v) / (1 - lam) still inside the polytope."""
        row_r, row_v = self._row_sums(r), self._row_sums(v)
        bounded_hi, bounded_lo = self.row_hi < INF, self.row_lo > -INF
        slack_r = np.concatenate([self.upper - r, r - self.lower, (self.row_hi - row_r)[bounded_hi],
                                  (row_r - self.row_lo)[bounded_lo]])
        slack_v = np.concatenate([self.upper - v, v - self.lower, (self.row_hi - row_v)[bounded_hi],
                                  (row_v - self.row_lo)[bounded_lo]])
        ok = slack_v > self.TOL
        return min(1.0, float(np.min(slack_r[ok] / slack_v[ok]))) if ok.any() else 1.0


def _peel(face: _Face, target: np.ndarray, rng: np.random.Generator,
          progress: Callable[[int], None] | None = None,
          resume: list[tuple[np.ndarray, np.ndarray, float]] | None = None,
          ) -> tuple[list[tuple[np.ndarray, np.ndarray, float]], bool]:
    """Peel integer panels off ``target`` (Carathéodory) until done or at a dead end.

    Each step takes some integer panel ``v`` on the smallest face holding the current
    point ``r`` and moves ``r`` away from ``v`` as far as the polytope allows, which makes
    one more constraint tight: ``r = lam v + (1 - lam) r'``. Returns the path
    [(r before the step, v, lam)] and whether it ended exactly (True, the last lam 1) or
    at a face with no integer panel (False). ``progress`` hears the step count.
    ``resume``: a path whose next step is taken again, from the point before it.
    """
    t = len(target)
    if resume:
        path, r = resume[:-1], resume[-1][0]
    else:
        path, r = [], target.astype(float).copy()
    v = None
    while True:
        if progress:
            progress(len(path))
        face.restrict(r)
        last = v
        v = face.repair(v, rng) if v is not None else None
        if v is None:
            v = face.panel(rng.random(t), last)
        if v is None:
            return path, False
        if np.abs(v - r).max() <= 1e-7:
            path.append((r, v, 1.0))
            return path, True
        lam = face.step(r, v.astype(float))
        if lam >= 1 - 1e-12:
            path.append((r, v, 1.0))
            return path, True
        path.append((r, v, lam))
        if lam <= 1e-12:
            return path, False
        r = np.clip((r - lam * v) / (1 - lam), face.lower, face.upper)


def _path_weights(path: list[tuple[np.ndarray, np.ndarray, float]], upto: int) -> tuple[np.ndarray, float]:
    """The weights of the first ``upto`` panels of a peeling path, and the weight left
    for the point the path reached there: lam_i times the product of (1 - lam_m), m < i."""
    weights = np.empty(upto)
    left = 1.0
    for i in range(upto):
        weights[i] = left * path[i][2]
        left *= 1.0 - path[i][2]
    return weights, left


def _as_lottery(types: Types, target: np.ndarray, pricer: Pricer, extra: list[np.ndarray],
                progress: Callable[[int], None] | None = None) -> tuple[list[np.ndarray], np.ndarray] | None:
    """Write ``target`` expected seats as a lottery over integer panels, or None when it
    is not one.

    Peeling does the bulk cheaply, and its step sizes are the panels' weights. Where it
    reaches a dead end (a face without integer panels), it backs up a few steps and
    peels on with other random panels, up to ``PEEL_RETRIES`` times; if that does not
    get through, the last stretch of the path is redone exactly by column generation
    inside the face it lies in, backing up further until that succeeds. The mix is checked against the target; only if rounding has drifted it
    off does a final LP over every panel found set the weights.
    """
    rng = np.random.default_rng(0)
    face = _Face(types, shrink=True)
    try:
        path, exact = _peel(face, target, rng, progress)
        for attempt in range(PEEL_RETRIES):  # a dead end: back up 1, 2, 4 ... steps and peel on afresh
            if exact or not path:
                break
            face.close()
            face = _Face(types, shrink=True)  # the face behind is larger than the shrunk model
            path, exact = _peel(face, target, rng, progress, path[:max(1, len(path) - 2 ** attempt + 1)])
    finally:
        face.close()
    panels = [v for _x, v, _l in path]
    if exact:
        weights, _left = _path_weights(path, len(path))
    else:
        back = 8
        face = _Face(types)  # the tail starts on a larger face than the path ended on
        while True:
            j = max(0, len(path) - back)
            start = path[j][0] if j < len(path) else target
            face.restrict(start)
            tail = _decompose(types, face.pricer, start, panels[j:])
            if tail is not None:
                head, left = _path_weights(path, j)
                panels = panels[:j] + tail[0]
                weights = np.concatenate([head, left * np.clip(tail[1], 0.0, None)])
                break
            if j == 0:
                return None
            back *= 2
    n = types.size.astype(float)
    drift = np.abs(np.asarray(panels).T @ weights - target) / n
    if abs(weights.sum() - 1.0) <= MIX_TOLERANCE and drift.max() <= MIX_TOLERANCE:
        return panels, weights
    return _decompose(types, pricer, target, panels + extra)


def leximin(types: Types, progress: Callable[[float, str], None] | None = None) -> Distribution:
    """The leximin-optimal distribution over quota-feasible panels.

    First the leximin point of the LP relaxation, then a column generation that writes it
    as a lottery over integer panels; when that fails (the point lies outside the integer
    panels' hull), the exact level-by-level column generation.
    """
    start = time.perf_counter()
    say = progress or (lambda f, m: None)
    pricer = Pricer(types)
    n = types.size.astype(float)
    panels, impossible = _cover(types, pricer, lambda: say(0.1, _("checking which volunteers any panel can seat")))
    say(0.2, _("quotas checked; computing the fairest probabilities"))
    target = _relaxed_leximin(types, impossible)
    say(0.5, _("writing the fair probabilities as a lottery over panels"))
    found = _as_lottery(types, target, pricer, panels, _peel_progress(types, target, say))
    if found is not None:
        used, w = found
        w = np.clip(w, 0.0, None)
        keep = w > 1e-12
        chosen = np.array(used)[keep]
        weights = w[keep] / w[keep].sum()
        return Distribution(chosen, weights, (chosen.T @ weights) / n, 0, len(used), time.perf_counter() - start)
    say(0.6, _("the relaxation is not a lottery; running the exact column generation"))
    return _leximin_exact(types, pricer, panels, impossible, start, say)


def _peel_progress(types: Types, target: np.ndarray, say: Callable[[float, str], None]) -> Callable[[int], None]:
    """Progress of the peeling, at most every ``PROGRESS_EVERY`` seconds: panels written
    of about as many as the types strictly inside their bounds (each step fixes about
    one), and the time left at the pace so far."""
    inside = (target > types.forced + 1e-9) & (target < types.size - 1e-9)
    expected = max(1, int(inside.sum()))
    started = time.perf_counter()
    last, most = [started], [0]

    def peeled(steps: int) -> None:
        now = time.perf_counter()
        if now - last[0] < PROGRESS_EVERY:
            return
        last[0] = now
        steps = most[0] = max(most[0], steps)  # a step backed away from is not undone on the screen
        text = _("writing the fair probabilities as a lottery: {count} of about {total} panels").format(
            count=fmt_number(steps), total=fmt_number(expected))
        if steps >= 3:  # a pace from a few steps on
            text += _("; about {time} left").format(time=duration((now - started) / steps * max(expected - steps, 1)))
        say(0.5 + 0.45 * min(1.0, steps / expected), text)
    return peeled


def _cover(types: Types, pricer: Pricer, tick: Callable[[], None] | None = None) -> tuple[list[np.ndarray], np.ndarray]:
    """Panels that between them seat every type that any feasible panel can seat, and
    the types that no feasible panel can seat. ``tick`` hears each round."""
    uncovered = types.forced == 0
    panels = []
    while uncovered.any():
        if tick:
            tick()
        # A quick panel first; only when it seats nobody new, the exact optimum decides.
        found = pricer.any_panel(uncovered.astype(float))
        if found is not None and not (uncovered & (found[1] > 0)).any():
            found = pricer.best(uncovered.astype(float))
        if found is None:
            raise OtosError(_("No panel meets every quota (the quotas are infeasible for this pool)."))
        _x, counts = found
        newly = uncovered & (counts > 0)
        if not panels or newly.any():
            panels.append(counts)
        if not newly.any():
            break  # nobody left uncovered can sit on any feasible panel
        uncovered &= ~newly
    if not panels:  # every seat fixed in advance
        found = pricer.best(np.zeros(types.count))
        if found is None:
            raise OtosError(_("No panel meets every quota (the quotas are infeasible for this pool)."))
        panels.append(found[1])
    return panels, uncovered


def _leximin_exact(types: Types, pricer: Pricer, panels: list[np.ndarray], impossible: np.ndarray,
                   start: float, say: Callable[[float, str], None]) -> Distribution:
    """Level-by-level column generation (see the module docstring)."""
    master = Master(types)
    n = types.size.astype(float)
    fixed = np.zeros(types.count, dtype=bool)
    for c in panels:
        master.add(c)
    for t in np.flatnonzero(types.forced > 0):  # seats fixed in advance are certain
        master.fix(int(t), 1.0)
        fixed[t] = True
    for t in np.flatnonzero(impossible):  # these people cannot be selected at all
        master.fix(int(t), 0.0)
        fixed[t] = True
    levels = 0
    while not fixed.all():
        while True:
            z, duals, conv, _x = master.solve()
            y = np.abs(duals)  # magnitudes: HiGHS's sign convention for >= rows of a min problem
            found = pricer.best(y / n)
            if found is None:
                raise OtosError(_("The panel integer program failed unexpectedly."))
            value, counts = found
            if value - abs(conv) <= REDUCED_COST_EPS or not master.add(counts):
                break
        levels += 1
        tight = np.flatnonzero(~fixed & (y > DUAL_FIX_EPS))
        if len(tight) == 0:  # degenerate duals: fix the smallest-probability type instead
            _x, _x, _x, w = master.solve()
            probs = (np.array(master.panels).T @ w) / n
            tight = np.array([np.flatnonzero(~fixed)[np.argmin(probs[~fixed])]])
        for t in tight:
            master.fix(int(t), z)
            fixed[t] = True
        say(fixed.mean(), _("level {levels}: {sum} of {count} types fixed, probability {z}").format(levels=levels, sum=fixed.sum(), count=types.count, z=fmt_number(z, 4)))

    _x, _x, _x, w = master.solve()
    w = np.clip(w, 0.0, None)
    keep = w > 1e-12
    panels = np.array(master.panels)[keep]
    weights = w[keep] / w[keep].sum()
    type_probability = (panels.T @ weights) / n
    return Distribution(panels, weights, type_probability, levels, len(master.panels),
                        time.perf_counter() - start)
