"""The fair distribution written as a lottery record, and the draw from it.

``as_lottery`` turns the solver's distribution (panels as seats per type, float
weights) into the exact lottery of ``sampling.record``: integer weights over a common
denominator (largest remainder, so they sum to it exactly), types and panels in
canonical order, each person's probability as an exact fraction. From then on nothing
depends on HiGHS or NumPy: the draw is ``sampling.record.draw`` (SHA-256 only).

``seed_generator`` and ``draw_v1`` are the NumPy sampler of records made before the
lottery was stored (algorithm ``otos-leximin-v1``); only verifying those uses them.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from sampling import record
from sampling.problem import Problem, Types

if TYPE_CHECKING:
    from sampling.leximin import Distribution

DENOMINATOR = 10 ** 12  # panel weights are whole multiples of 1/DENOMINATOR


def seed_generator(seed: str) -> np.random.Generator:
    """NumPy's PCG64 started from SHA-256 of the seed (stage 1, and records of algorithm v1)."""
    digest = hashlib.sha256(seed.encode("utf-8")).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest[:16], "big")))


def draw_v1(problem: Problem, types: Types, dist: Distribution, seed: str) -> list[str]:
    """The panel a v1 record drew for ``seed`` (NumPy's stream: the same only on the same build)."""
    rng = seed_generator(seed)
    cumulative = np.cumsum(dist.weights)
    index = min(int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right")), len(cumulative) - 1)
    chosen: list[str] = []
    for t, seats in enumerate(dist.panels[index]):
        if seats:
            members = types.members[t]
            picks = rng.permutation(len(members))[: int(seats)]
            chosen.extend(problem.ids[members[i]] for i in picks)
    return sorted(chosen)


def whole_weights(weights: np.ndarray, denominator: int) -> list[int]:
    """Non-negative whole numbers summing to ``denominator`` in the proportions of ``weights``
    (largest remainder; ties to the earlier panel)."""
    w = np.clip(np.asarray(weights, dtype=float), 0.0, None)
    raw = [Fraction(float(x)) * denominator / Fraction(float(w.sum())) for x in w]
    base = [int(x) for x in raw]
    short = denominator - sum(base)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - base[i]), i))[:short]:
        base[i] += 1
    return base


def as_lottery(problem: Problem, types: Types, dist: Distribution, algorithm: str,
               public: dict[str, str] | None = None) -> dict:
    """The lottery section of a record for ``dist``; ``public`` maps the problem's ids
    to the ids the record shows (pseudonyms), identity when None."""
    show = (lambda i: public[i]) if public else (lambda i: i)
    house_size = Counter(h for h in problem.households if h)
    entries = []
    for members in types.members:
        first = members[0]
        house = problem.households[first]
        entry = {"values": list(problem.values[first]), "people": sorted(show(problem.ids[i]) for i in members),
                 "dwelling": house if house and house_size[house] > 1 else None,
                 "fixed": problem.ids[first] in problem.fixed}
        entries.append(entry)
    order = sorted(range(len(entries)), key=lambda t: (entries[t]["values"], entries[t]["people"]))
    position = {old: new for new, old in enumerate(order)}
    merged: Counter = Counter()
    for counts, weight in zip(dist.panels, whole_weights(dist.weights, DENOMINATOR)):
        if weight:
            merged[tuple(sorted((position[t], int(c)) for t, c in enumerate(counts) if c))] += weight

    def dense(seats: tuple) -> tuple:
        row = [0] * len(order)
        for t, c in seats:
            row[t] = c
        return tuple(row)
    lottery = {
        "algorithm": algorithm,
        "sampler": record.SAMPLER,
        "household_rule": record.HOUSEHOLD_RULE,
        "panel_size": problem.k,
        "features": list(problem.features),
        "quotas": [{"feature": q.feature, "value": q.value, "min": q.min, "max": q.max}
                   for q in sorted(problem.quotas, key=lambda q: (q.feature, q.value))],
        "types": [entries[t] for t in order],
        "panels": [{"seats": [list(x) for x in seats], "weight": merged[seats]}
                   for seats in sorted(merged, key=dense)],
        "denominator": DENOMINATOR,
        "within_type": "shuffle",
    }
    set_probabilities(lottery)
    return lottery


def set_probabilities(lottery: dict) -> None:
    """Write each person's exact probability into the lottery's types."""
    for tp, probs in zip(lottery["types"], record.marginals(lottery)):
        tp["probabilities"] = [record.fraction_text(p) for p in probs]


def person_probabilities(lottery: dict, private: dict[str, str] | None = None) -> dict[str, float]:
    """Each person's probability (by the problem's id when ``private`` maps record ids back)."""
    out = {}
    for tp in lottery["types"]:
        for pid, text in zip(tp["people"], tp["probabilities"]):
            a, b = text.split("/")
            out[private[pid] if private else pid] = int(a) / int(b)
    return out


def lowest(lottery: dict) -> Fraction:
    """The smallest selection probability of anyone the lottery can seat."""
    values = [p for probs in record.marginals(lottery) for p in probs if p > 0]
    return min(values) if values else Fraction(0)
