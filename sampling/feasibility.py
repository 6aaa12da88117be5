"""Before any draw: can the quotas be met at all, and if not, which quotas clash and
what is the smallest relaxation that makes the draw possible."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sampling.highs import INF, INTEGER, OPTIMAL, new_highs
from sampling.problem import Problem, Quota, Types, build_types
from pool.i18n import _


@dataclass
class Relaxation:
    quota: Quota
    pool_count: int  # people in the pool with this value
    new_min: int
    new_max: int

    def __str__(self) -> str:
        q = self.quota
        change = []
        if self.new_min != q.min:
            change.append(_("lower the minimum from {min} to {new_min}").format(min=q.min, new_min=self.new_min))
        if self.new_max != q.max:
            change.append(_("raise the maximum from {max} to {new_max}").format(max=q.max, new_max=self.new_max))
        return _("{feature}={value} (pool has {pool_count}): ").format(feature=q.feature, value=q.value, pool_count=self.pool_count) + " and ".join(change)


@dataclass
class Infeasible:
    """Why no panel meets the quotas, and the smallest fix found."""

    relaxations: list[Relaxation]

    def message(self, k: int) -> str:
        lines = [_("No panel of {k} meets every quota. The smallest change that makes the draw possible:").format(k=k)]
        lines += [f"  - {r}" for r in self.relaxations]
        return "\n".join(lines)


def check_feasible(problem: Problem, types: Types | None = None) -> Infeasible | None:
    """None when some panel meets every quota; otherwise the clash and its smallest fix.

    Solves: choose seats per type and the fewest extra seats of slack on each quota's
    min and max (an integer program); the quotas with slack are the ones that clash.
    """
    types = types or build_types(problem)
    t = types.count
    q = len(types.quota_rows)
    h = new_highs()
    # seats per type, then slack below each min and above each max
    h.addVars(t + 2 * q, np.concatenate([types.forced.astype(float), np.zeros(2 * q)]),
              np.concatenate([types.size.astype(float), np.full(2 * q, INF)]))
    h.changeColsIntegrality(t + 2 * q, np.arange(t + 2 * q, dtype=np.int32), np.full(t + 2 * q, INTEGER))
    h.changeColsCost(2 * q, np.arange(t, t + 2 * q, dtype=np.int32), np.ones(2 * q))
    for j, (lo, hi, members) in enumerate(types.quota_rows):
        idx = np.append(members, [t + j, t + q + j]).astype(np.int32)
        vals = np.append(np.ones(len(members)), [1.0, -1.0])  # sum + below - above within [lo, hi]
        h.addRow(float(lo), float(hi), len(idx), idx, vals)
    h.addRow(float(types.k), float(types.k), t, np.arange(t, dtype=np.int32), np.ones(t))
    for house in types.households:
        h.addRow(-INF, 1.0, len(house), house.astype(np.int32), np.ones(len(house)))
    h.run()
    if h.getModelStatus() != OPTIMAL:
        return Infeasible([])  # not even with relaxed quotas: k or the households are the problem
    x = np.rint(np.asarray(h.getSolution().col_value)).astype(int)
    below, above = x[t:t + q], x[t + q:]
    if not below.any() and not above.any():
        return None
    relax = []
    for j, quota in enumerate(problem.quotas):
        if below[j] or above[j]:
            count = int(types.size[types.quota_rows[j][2]].sum())
            relax.append(Relaxation(quota, count, quota.min - int(below[j]), quota.max + int(above[j])))
    return Infeasible(relax)
