"""One call that runs the fair lottery end to end: check, feasibility, leximin, draw."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from pool.errors import OtosError
from sampling import legacy
from sampling.feasibility import Infeasible, check_feasible
from sampling.leximin import Distribution, leximin
from sampling.lottery import draw, probabilities, seed_generator
from sampling.problem import Problem, build_types, check

ALGORITHM_VERSION = "1"
METHODS = ("leximin", "legacy")


class InfeasibleQuotas(OtosError):
    """No panel meets the quotas; ``explanation`` holds the clash and the smallest fix."""

    def __init__(self, explanation: Infeasible, k: int) -> None:
        self.explanation = explanation
        text = explanation.message(k) if explanation.relaxations else (
            f"No panel of {k} meets every quota, even with relaxed quotas (the household rule or the "
            "seats fixed in advance leave too few people).")
        super().__init__(text, hint="Relax those quotas and draw again; nothing was drawn.")


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

    @property
    def algorithm(self) -> str:
        return f"otos-{self.method}-v{ALGORITHM_VERSION}"

    @property
    def min_probability(self) -> float:
        return min(self.probabilities.values())

    def as_json(self) -> dict:
        return {
            "panel": self.panel,
            "probabilities": self.probabilities,
            "seed": self.seed,
            "algorithm": self.algorithm,
            "min_probability": self.min_probability,
            "pool_sha256": self.pool_hash,
            "quotas_sha256": self.quotas_hash,
            "notes": self.notes,
        }


def select(problem: Problem, seed: str, method: str = "leximin",
           progress: Callable[[float, str], None] | None = None) -> Selection:
    """Check the problem, compute the fair distribution and draw the panel for ``seed``."""
    if method not in METHODS:
        raise OtosError(f"Unknown selection method {method!r}.", hint=f"Use one of: {', '.join(METHODS)}.")
    if not seed.strip():
        raise OtosError("The seed is empty.", hint="Give the seed the team took from a public source.")
    check(problem)
    types = build_types(problem)
    clash = check_feasible(problem, types)
    if clash is not None:
        raise InfeasibleQuotas(clash, problem.k)
    if method == "legacy":
        rng = seed_generator(seed)
        panel = legacy.legacy_draw(problem, rng)
        probs = legacy.legacy_probabilities(problem, seed_generator(seed + "/estimate"))
        return Selection(panel, probs, seed, method, problem.pool_hash(), problem.quotas_hash(),
                         notes=["legacy greedy draw: less fair; probabilities estimated from 1,000 draws"])
    dist = leximin(types, progress)
    panel = draw(problem, types, dist, seed)
    probs = probabilities(problem, types, dist)
    notes = []
    zero = sum(1 for v in probs.values() if v < 1e-9)
    if zero:
        notes.append(f"{zero} volunteer(s) can sit on no panel that meets the quotas (probability 0)")
    return Selection(panel, probs, seed, method, problem.pool_hash(), problem.quotas_hash(), dist, notes)


def quotas_met(problem: Problem, panel: list[str]) -> list[str]:
    """The quotas (and household rule) the panel breaks; empty when it meets them all."""
    index = {pid: i for i, pid in enumerate(problem.ids)}
    broken = []
    for q in problem.quotas:
        j = problem.features.index(q.feature)
        n = sum(1 for pid in panel if problem.values[index[pid]][j] == q.value)
        if not q.min <= n <= q.max:
            broken.append(f"{q.feature}={q.value}: {n} seated, quota {q.min}-{q.max}")
    houses = [problem.households[index[pid]] for pid in panel if problem.households[index[pid]]]
    if len(houses) != len(set(houses)):
        broken.append("two panel members share a household")
    if len(panel) != problem.k:
        broken.append(f"{len(panel)} seats filled, panel size {problem.k}")
    return broken


def empirical(problem: Problem, sel: Selection, draws: int, rng: np.random.Generator) -> dict[str, float]:
    """Frequencies of each volunteer over ``draws`` lotteries from the selection's distribution."""
    from collections import Counter

    from sampling.lottery import draw_with

    types = build_types(problem)
    hits = Counter()
    for _ in range(draws):
        hits.update(draw_with(problem, types, sel.distribution, rng))
    return {pid: hits[pid] / draws for pid in problem.ids}
