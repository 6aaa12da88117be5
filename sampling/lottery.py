"""The verifiable lottery: one panel drawn from a distribution with a public seed.

The seed is any text the team can take from a public source (a lottery result, a
newspaper's number). It is hashed to a 128-bit integer that starts NumPy's PCG64
generator; the generator first picks a panel by its probability, then the people
within each type (ordered by id) uniformly. Same seed, same pool, same quotas: same
panel, on any machine.
"""
from __future__ import annotations

import hashlib

import numpy as np

from sampling.leximin import Distribution
from sampling.problem import Problem, Types


def seed_generator(seed: str) -> np.random.Generator:
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))


def draw(problem: Problem, types: Types, dist: Distribution, seed: str) -> list[str]:
    """The ids of the panel the lottery picks for ``seed``, sorted."""
    rng = seed_generator(seed)
    return draw_with(problem, types, dist, rng)


def draw_with(problem: Problem, types: Types, dist: Distribution, rng: np.random.Generator) -> list[str]:
    cumulative = np.cumsum(dist.weights)
    index = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(cumulative) - 1)
    chosen: list[str] = []
    for t, seats in enumerate(dist.panels[index]):
        if seats:
            members = types.members[t]
            picks = rng.permutation(len(members))[: int(seats)]
            chosen.extend(problem.ids[members[i]] for i in picks)
    return sorted(chosen)


def probabilities(problem: Problem, types: Types, dist: Distribution) -> dict[str, float]:
    """Each volunteer's selection probability under the distribution."""
    out = {}
    for t, members in enumerate(types.members):
        for i in members:
            out[problem.ids[i]] = float(dist.type_probability[t])
    return out
