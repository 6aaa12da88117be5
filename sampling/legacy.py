"""The greedy "legacy" draw, offered only for comparison: it meets the quotas but gives
some volunteers far smaller chances than the fair lottery does.

Each step seats a random person from the feature value whose minimum is hardest to
reach (most seats still needed per available person), skipping anyone whose seating
would break a maximum or the household rule; a draw that ends short of a minimum is
retried.
"""
from __future__ import annotations

from collections import Counter

import numpy as np

from pool.errors import OtosError
from sampling.problem import Problem
from pool.i18n import _

ATTEMPTS = 100


def legacy_draw(problem: Problem, rng: np.random.Generator) -> list[str]:
    p = problem
    quota = {(q.feature, q.value): q for q in p.quotas}
    keys = [[(f, v[j]) for j, f in enumerate(p.features)] for v in p.values]
    for _x in range(ATTEMPTS):
        seated = [i for i, pid in enumerate(p.ids) if pid in p.fixed]
        count = Counter(key for i in seated for key in keys[i])
        houses = {p.households[i] for i in seated if p.households[i]}
        available = [i for i in range(len(p.ids)) if i not in set(seated)]
        while len(seated) < p.k:
            available = [i for i in available
                         if all(count[key] < quota[key].max for key in keys[i])
                         and not (p.households[i] and p.households[i] in houses)]
            if not available:
                break
            have = Counter(key for i in available for key in keys[i])
            need = [(max(quota[key].min - count[key], 0) / have[key], key) for key in quota if have[key]]
            ratio, target = max(need)
            pool = [i for i in available if target in keys[i]] if ratio > 0 else available
            i = pool[int(rng.integers(len(pool)))]
            seated.append(i)
            available.remove(i)
            count.update(keys[i])
            if p.households[i]:
                houses.add(p.households[i])
        if len(seated) == p.k and all(count[key] >= q.min for key, q in quota.items()):
            return sorted(p.ids[i] for i in seated)
    raise OtosError(_("The greedy draw did not meet the quotas in {attempts} attempts.").format(attempts=ATTEMPTS),
                    hint=_("The fair (leximin) lottery handles tight quotas; use it instead."))


def legacy_probabilities(problem: Problem, rng: np.random.Generator, runs: int = 1000) -> dict[str, float]:
    """Each volunteer's chance under the greedy draw, estimated from ``runs`` draws."""
    hits = Counter()
    for _x in range(runs):
        hits.update(legacy_draw(problem, rng))
    return {pid: hits[pid] / runs for pid in problem.ids}
