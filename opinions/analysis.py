"""Opinion groups in the Polis manner, deterministic, with the statistics shown in full.

The pipeline follows Polis's math (compdemocracy/polis, math/src/polismath/math:
conversation.clj, pca.clj, clusters.clj), read for the method, not copied:

1. **Who is clustered.** A participant is clustered when they voted on at least
   ``min(7, statements)`` statements (every vote counts, moderated-out ones too); when
   fewer than 15 qualify, the most active voters top the group up to 15 (Polis's greedy
   in-conversation rule).
2. **Opinion map.** Moderated-out statements are zeroed, as in Polis: they carry no
   variance but still count as statements and as votes below. Blanks are filled with
   the statement's mean vote, the matrix is centred and reduced to two principal
   components (all participants take part in the PCA). Each participant's projection
   is multiplied by sqrt(statements / votes cast) so that people who voted on few
   statements are not all pulled to the middle (Polis's sparsity-aware projection).
3. **One Polis clustering** (``polis_run``). k-means into up to 100 base clusters
   (10 Lloyd steps); then for k = 2 .. min(5, 2 + base clusters // 12) weighted
   k-means of the base clusters' centres (weights = their sizes; up to 20 steps); the
   k whose silhouette over the base clusters is best wins (a tie goes to the larger k,
   as Polis's ``max-key`` does). A group is a union of base clusters. Polis starts each
   k-means from the first distinct points in order. The group k-means stops after 20
   steps because Polis's own does: its ``:group-iters`` setting is passed under a key
   (``:cluster-iters``) that its ``kmeans`` ignores, so the default of 20 applies.
4. **Groups.** The clustering is run ``RUNS`` times: once from Polis's own start, the
   others from seeded k-means++ starts; the groups are the medoid of the runs, the run
   whose mean adjusted Rand index with the others is highest. Groups are numbered
   largest first.
5. **Stability.** The other runs' ARI against the groups, and the whole calculation on
   random halves of the statements (with ``HALF_RUNS`` runs each; ``halves`` says why
   halves rather than bootstrap resamples).

Where Otos deliberately differs from Polis, and why:

- *No history.* Polis updates a conversation as votes arrive: each k-means starts from
  the previous update's clusters, its PCA from the previous components, participants
  once in stay in, and a new number of groups is adopted only after it has won four
  updates running (the k-smoother). An export carries none of that state, so Otos
  computes from the final votes in one go. Which local optimum k-means ends in then
  depends on the start; Polis's exported groups are one such outcome, shaped by the
  order of arrival. Otos therefore runs the clustering from many starts and keeps the
  medoid, the grouping most typical of them, instead of the one arbitrary start.
- *Ten steps for the base clusters.* Polis today allows its base k-means up to 100
  steps (``:base-iters``; earlier releases 10), each update starting from the last
  update's base clusters, so few steps are taken in practice. Otos starts cold and
  stops after 10. Measured on the nine shared conversations over seeds 0-9, 100 steps
  moves the agreement with Polis's groups by seed noise only (median ARI 0.575 against
  0.582), and takes three times as long on 20,000 participants (31.7 s against 10.9 s).
- *Exact PCA.* Polis runs ten power iterations from the last components; Otos takes
  the eigenvectors exactly (the value Polis's iterations converge to).
- *Smallest group.* Polis has none; Otos skips a k that leaves a group smaller than
  ``min_group_size`` (default 3), because a report on a group of one or two people
  would show those people's votes.
- *Exports that cannot be reproduced.* An export's ``group-id`` is the last update's
  clustering, whose history the export does not carry: who was let in while the
  conversation had few statements (a participant counts once they voted on
  ``min(7, statements then)``, and stays in), and which start each k-means came from.
  Where that history mattered, Polis's groups are not cells of the conversation's own
  opinion map, and no re-implementation can find them from the votes. The benchmark
  (``bench/opinions_polis.py``) prints how well each export's groups fit the map (the
  share of participants nearest their own group's centre): 0.93-1.00 on seven shared
  conversations, 0.79 on the 24 people of london.youth.policing, and 0.53 on
  scoop-hivemind.ubi, where Otos and red-dwarf both score near chance (adjusted Rand
  index 0.06-0.10; straight cuts through the map at random: a median of 0.04, a tenth
  above 0.21).
- *Seeded and order-free.* Participants and statements are taken in id order and the
  k-means++ starts come from the seed, so the same export and seed give the same
  groups on any machine.

Per statement and group (a = agrees, d = disagrees, n = all votes including passes):

- agree probability with pseudo-counts ``pa = (a + 1) / (n + 2)`` (likewise ``pd``);
- one-proportion z against an even split: ``z = 2 * sqrt(n + 2) * (pa - 0.5)``;
- against the other groups together (a', n'): ratio ``ra = pa / pa'`` and the two-
  proportion z ``(pa - pa') / sqrt(p (1 - p) (1/(n + 2) + 1/(n' + 2)))`` with the pooled
  ``p = (a + a' + 2) / (n + n' + 4)``;
- a statement **represents** a group (agree or disagree side) when both z's exceed
  1.2816 (one-sided 90 %); representatives are ranked by ``ra * z_rest * pa * z``.

**Consensus.** Group-informed consensus ``gic = prod over groups (a + 1) / (n + 2)``
(and the same for disagree). A statement is consensus when every group agrees (or
every group disagrees) with z > 1.2816; they are listed by gic.

**Divisiveness** (Polis has none; this is ours). Among those who took a side, each
group's agree share ``q = (a + 1) / (a + d + 2)``. A statement's divisiveness is the
gap between the most and the least agreeing group, ``D = max q - min q`` (0 = the
groups agree as much as each other; 1 = one group all agrees and another all
disagrees), with the normal-approximation standard error
``sqrt(q1 (1 - q1) / (a1 + d1 + 2) + q2 (1 - q2) / (a2 + d2 + 2))`` and a 90 % interval
``D ± 1.645 se``. A statement is **divisive** when the interval's lower end exceeds
0.5: we are confident that the groups' agree shares differ by more than half.
"""
from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from opinions.data import Conversation
from pool.errors import OtosError
from pool.i18n import _

Z90 = 1.2816  # one-sided 90 %
Z90_TWO = 1.6449  # two-sided 90 %
MAX_GROUPS = 5
BASE_CLUSTERS = 100
BASE_ITERATIONS = 10  # Lloyd steps for the base clusters (Polis's base-iters: 10 in earlier releases, 100 today)
GROUP_ITERATIONS = 20  # Lloyd steps for the groups (Polis's k-means default, which its group k-means gets)
RUNS = 20  # clusterings whose medoid gives the groups
HALF_RUNS = 5  # the same on each random half of the statements (a check, so fewer)
GREEDY_PARTICIPANTS = 15  # Polis tops the clustered participants up to this many
DIVISIVE_ABOVE = 0.5


def rng_for(seed: str) -> np.random.Generator:
    return np.random.default_rng(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:16], "big"))


# --- the opinion map -------------------------------------------------------------------

BLOCK_CELLS = 4_000_000  # vote cells centred at a time (8 bytes each); smaller matrices in one block


def statement_means(votes: np.ndarray) -> np.ndarray:
    """Each statement's mean vote (0 where nobody voted), summed in float64 (exact: the
    partial sums are whole numbers)."""
    counts = (~np.isnan(votes)).sum(axis=0)
    sums = np.nansum(votes, axis=0, dtype=np.float64)
    return np.divide(sums, counts, out=np.zeros(votes.shape[1]), where=counts > 0)


class Centred:
    """The votes minus each statement's mean vote, blanks (the mean) 0, as a matrix that
    is never held whole: products are taken a block of rows at a time, so a large
    conversation costs its votes and one block, not another float64 copy."""

    def __init__(self, votes: np.ndarray) -> None:
        self.votes = votes
        self.means = statement_means(votes)
        self.shape = votes.shape
        self.step = max(1, BLOCK_CELLS // max(1, votes.shape[1]))

    def blocks(self):
        for start in range(0, self.shape[0], self.step):
            v = self.votes[start:start + self.step]
            yield start, np.where(np.isnan(v), 0.0, v - self.means)

    def cast(self, sets: np.ndarray) -> np.ndarray:
        """Votes each participant cast on each set of statements (``sets``: statements
        x sets, 1 where the statement is in the set): participants x sets."""
        out = np.empty((self.shape[0], sets.shape[1]))
        for start in range(0, self.shape[0], self.step):
            voted = ~np.isnan(self.votes[start:start + self.step])
            out[start:start + len(voted)] = voted.astype(np.float32) @ sets.astype(np.float32)  # whole numbers: exact
        return out

    def gram(self) -> np.ndarray:
        """centred.T @ centred (statements x statements)."""
        out = np.zeros((self.shape[1], self.shape[1]))
        for _start, block in self.blocks():
            out += block.T @ block
        return out

    def __matmul__(self, other: np.ndarray) -> np.ndarray:
        out = np.empty((self.shape[0], other.shape[1]))
        for start, block in self.blocks():
            out[start:start + len(block)] = block @ other
        return out


def components(cov: np.ndarray, start: np.ndarray | None = None, iterations: int = 60) -> np.ndarray:
    """The two leading eigenvectors of ``cov`` (m x 2), signs fixed so the largest
    loading of each is positive. Exact (eigh) without ``start``; from ``start`` by
    orthogonal iteration, which is quick when the start is close (halves of the statements)."""
    if start is None:
        _x, vectors = np.linalg.eigh(cov)
        comps = vectors[:, ::-1][:, :2]
    else:
        comps = start
        for _x in range(iterations):
            comps, _x = np.linalg.qr(cov @ comps)
        ritz = comps.T @ cov @ comps  # order the pair by their Rayleigh quotients
        values, rot = np.linalg.eigh(ritz)
        comps = comps @ rot[:, ::-1]
    if comps.shape[1] < 2:
        comps = np.pad(comps, ((0, 0), (0, 2 - comps.shape[1])))
    for j in range(2):  # a sign convention, so the map does not flip between runs
        k = int(np.argmax(np.abs(comps[:, j])))
        if comps[k, j] < 0:
            comps[:, j] = -comps[:, j]
    return comps


def scaled(centred: Centred, comps: np.ndarray, cast: np.ndarray, statements: int) -> np.ndarray:
    """Every participant's projection on ``comps``, sparsity-scaled."""
    return sparsity_scaled(centred @ comps, cast, statements)


def sparsity_scaled(projections: np.ndarray, cast: np.ndarray, statements: float) -> np.ndarray:
    """Projections scaled by sqrt(statements / votes cast): Polis's sparsity-aware
    projection, so that people who voted on few statements are not all at the centre."""
    return projections * np.sqrt(statements / np.maximum(cast, 1))[:, None]


# --- k-means -----------------------------------------------------------------------------

def _lloyd(points: np.ndarray, centres: np.ndarray, w: np.ndarray,
           iterations: int = 100) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd iterations from ``centres`` until no point changes cluster: (labels, centres)."""
    labels = None
    for _x in range(iterations):
        new = _nearest(points, centres)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        centres = _centres(points, labels, w, centres)
    return labels, centres


NEAREST_ROWS = 2048  # points compared with the centres at a time: the distances stay in the cache


def _nearest(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the nearest centre of each point (ties: the first)."""
    twice = -2 * centres.T
    sq = (centres * centres).sum(axis=1)
    out = np.empty(len(points), dtype=np.intp)
    for start in range(0, len(points), NEAREST_ROWS):
        d2 = points[start:start + NEAREST_ROWS] @ twice  # |p - c|^2 less |p|^2, the same for every centre of a point
        d2 += sq
        out[start:start + NEAREST_ROWS] = d2.argmin(axis=1)
    return out


def _centres(points: np.ndarray, labels: np.ndarray, w: np.ndarray, old: np.ndarray) -> np.ndarray:
    """Weighted mean of each cluster; an empty cluster keeps its old centre."""
    k = len(old)
    mass = np.bincount(labels, weights=w, minlength=k)
    sums = np.stack([np.bincount(labels, weights=w * points[:, d], minlength=k) for d in range(points.shape[1])],
                    axis=1)
    return np.where(mass[:, None] > 0, sums / np.maximum(mass, 1e-300)[:, None], old)


def _plusplus(points: np.ndarray, k: int, w: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """k-means++ starting centres, each drawn with probability proportional to its
    weight times its squared distance to the nearest centre so far."""
    def draw(p: np.ndarray) -> int:  # as Generator.choice(len(p), p=p / p.sum()), without its checks
        cdf = np.cumsum(p)
        return int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"))

    columns = [np.ascontiguousarray(points[:, j]) for j in range(points.shape[1])]  # quicker than rows of 2

    def sq(idx: int) -> np.ndarray:
        out = np.square(columns[0] - points[idx, 0])
        for j in range(1, len(columns)):
            out += np.square(columns[j] - points[idx, j])
        return out

    idx = [draw(w)]
    d2 = sq(idx[0])
    for _x in range(1, k):
        p = w * d2
        idx.append(draw(p) if p.max() > 0 else int(rng.integers(len(points))))
        np.minimum(d2, sq(idx[-1]), out=d2)
    return points[idx].astype(float)


SILHOUETTE_SAMPLE = 3000  # above this many participants the silhouette uses a seeded sample


def distances(points: np.ndarray) -> np.ndarray:
    """Euclidean distance matrix of ``points``."""
    p = points.astype(np.float32)  # single precision: ample for comparing distances, twice as quick
    sq = (p * p).sum(axis=1)
    d2 = p @ (-2 * p.T)
    d2 += sq[:, None]
    d2 += sq[None, :]
    np.maximum(d2, 0, out=d2)
    return np.sqrt(d2, out=d2)


def silhouette(points: np.ndarray, labels: np.ndarray, dist: np.ndarray | None = None) -> float:
    """Mean silhouette of ``labels`` over ``points`` (Euclidean; ``dist`` if precomputed)."""
    ks, own = np.unique(labels, return_inverse=True)
    if len(ks) < 2:
        return -1.0
    dist = distances(points) if dist is None else dist
    onehot = np.zeros((len(labels), len(ks)), dtype=dist.dtype)
    onehot[np.arange(len(labels)), own] = 1.0
    sizes = onehot.sum(axis=0)
    sums = dist @ onehot
    rows = np.arange(len(labels))
    own_size = sizes[own]
    a = np.where(own_size > 1, sums[rows, own] / np.maximum(own_size - 1, 1), 0.0)
    other = sums / sizes
    other[rows, own] = np.inf
    b = other.min(axis=1)
    s = np.where(own_size > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())


def adjusted_rand(a: np.ndarray | list, b: np.ndarray | list) -> float:
    """Adjusted Rand index of two labelings of the same items (1 = identical partitions)."""
    a, b = np.asarray(a), np.asarray(b)
    if len(a) < 2:
        return 1.0
    _x, ai = np.unique(a, return_inverse=True)
    _x, bi = np.unique(b, return_inverse=True)
    cols = int(bi.max()) + 1
    table = np.bincount(ai * cols + bi, minlength=(int(ai.max()) + 1) * cols).reshape(-1, cols).astype(float)
    comb = lambda x: x * (x - 1) / 2  # noqa: E731
    index = comb(table).sum()
    rows, cols = comb(table.sum(axis=1)).sum(), comb(table.sum(axis=0)).sum()
    expected = rows * cols / comb(len(a))
    top = (rows + cols) / 2
    return 1.0 if top == expected else float((index - expected) / (top - expected))


def first_distinct(points: np.ndarray, k: int) -> np.ndarray:
    """Polis's start for k-means: the first ``k`` distinct points, in the points' order."""
    _x, first = np.unique(points.round(12), axis=0, return_index=True)
    return points[np.sort(first)[:k]].astype(float)


def kmeans_from(points: np.ndarray, centres: np.ndarray, w: np.ndarray,
                iterations: int) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd iterations from ``centres``; clusters left empty are dropped (as in Polis):
    (labels 0..c-1, the c centres)."""
    labels, centres = _lloyd(points, centres, w, iterations)
    used = np.unique(labels)
    return np.searchsorted(used, labels), centres[used]


def polis_run(points: np.ndarray, min_group_size: int, rng: np.random.Generator | None = None,
              max_groups: int = MAX_GROUPS, distinct: int | None = None) -> np.ndarray:
    """One clustering the Polis way: up to 100 base clusters of the participants, then
    for each k from 2 to ``min(max_groups, 2 + base clusters // 12)`` weighted k-means
    of the base clusters' centres, and the k whose silhouette over the base clusters is
    best (among those whose every group has ``min_group_size`` people). A group is a
    union of base clusters. Without ``rng`` both k-means start as in Polis, from the
    first distinct points in order; with it, from k-means++ starts. ``distinct``: the
    number of distinct points, when the caller knows it."""
    n = len(points)
    if distinct is None:
        distinct = len(np.unique(points.round(12), axis=0))
    base_k = min(BASE_CLUSTERS, distinct)
    if base_k < 2:
        return np.zeros(n, dtype=int)
    ones = np.ones(n)
    start = first_distinct(points, base_k) if rng is None else _plusplus(points, base_k, ones, rng)
    base_labels, base = kmeans_from(points, start, ones, BASE_ITERATIONS)
    weights = np.bincount(base_labels).astype(float)
    dist = distances(base)
    best: tuple[float, np.ndarray] | None = None
    for k in range(2, min(max_groups, 2 + len(base) // 12, len(base)) + 1):
        start = first_distinct(base, k) if rng is None else _plusplus(base, k, weights, rng)
        groups, _x = kmeans_from(base, start, weights, GROUP_ITERATIONS)
        if groups.max() < 1 or np.bincount(groups, weights=weights).min() < min_group_size:
            continue
        score = silhouette(base, groups, dist)
        if best is None or score >= best[0] - 1e-12:  # a tie goes to the larger k, as Polis's max-key
            best = (score, groups)
    return np.zeros(n, dtype=int) if best is None else best[1][base_labels]


def cluster(points: np.ndarray, rng: np.random.Generator, min_group_size: int, max_groups: int = MAX_GROUPS,
            runs: int = RUNS) -> tuple[np.ndarray, np.ndarray]:
    """Groups of participants: Polis's clustering (``polis_run``) from Polis's own
    start and from ``runs - 1`` k-means++ starts drawn from ``rng``, and the medoid of
    those: the one that agrees best (mean adjusted Rand index) with the others. Returns
    the groups (numbered largest first) and each other run's ARI against them."""
    distinct = len(np.unique(points.round(12), axis=0))
    found = [polis_run(points, min_group_size, None, max_groups, distinct)]
    found += [polis_run(points, min_group_size, rng, max_groups, distinct) for _x in range(runs - 1)]
    agree = np.eye(len(found))
    for i in range(len(found)):
        for j in range(i + 1, len(found)):
            agree[i, j] = agree[j, i] = adjusted_rand(found[i], found[j])
    medoid = int(np.argmax(agree.sum(axis=1)))  # ties: the earliest, Polis's own start first
    return _canonical(found[medoid]), np.delete(agree[medoid], medoid)


def _canonical(labels: np.ndarray) -> np.ndarray:
    """Number groups by size, largest first (ties by first member), so labels are stable."""
    ks = np.unique(labels)
    order = sorted(ks, key=lambda c: (-(labels == c).sum(), int(np.argmax(labels == c))))
    mapping = {c: i for i, c in enumerate(order)}
    return np.array([mapping[c] for c in labels])


# --- statistics -------------------------------------------------------------------------

def agree_probability(agrees: np.ndarray | float, votes: np.ndarray | float):
    return (np.asarray(agrees) + 1.0) / (np.asarray(votes) + 2.0)


def one_proportion_z(p: np.ndarray | float, votes: np.ndarray | float):
    """z of a pseudo-counted probability against 0.5."""
    return 2.0 * np.sqrt(np.asarray(votes) + 2.0) * (np.asarray(p) - 0.5)


def two_proportion_z(succ1, n1, succ2, n2):
    """z of (succ1+1)/(n1+2) against (succ2+1)/(n2+2), pooled variance."""
    succ1, n1, succ2, n2 = (np.asarray(x, dtype=float) for x in (succ1, n1, succ2, n2))
    p1, p2 = (succ1 + 1) / (n1 + 2), (succ2 + 1) / (n2 + 2)
    pooled = (succ1 + succ2 + 2) / (n1 + n2 + 4)
    se = np.sqrt(pooled * (1 - pooled) * (1 / (n1 + 2) + 1 / (n2 + 2)))
    return np.divide(p1 - p2, se, out=np.zeros_like(p1), where=se > 0)


@dataclass
class GroupStats:
    """Per group (rows) and statement (columns): counts and the derived statistics."""
    agree: np.ndarray
    disagree: np.ndarray
    passed: np.ndarray
    votes: np.ndarray
    pa: np.ndarray
    pd: np.ndarray
    za: np.ndarray
    zd: np.ndarray
    ra: np.ndarray
    rd: np.ndarray
    za_rest: np.ndarray
    zd_rest: np.ndarray


def group_stats(votes: np.ndarray, labels: np.ndarray, k: int) -> GroupStats:
    """Per group and statement: counts, probabilities and z's. ``labels`` -1: a row that
    is in no group (not counted). Counted a block of rows at a time."""
    a, d, p = (np.zeros((k, votes.shape[1])) for _x in range(3))
    step = max(1, BLOCK_CELLS // max(1, votes.shape[1]))
    for start in range(0, len(labels), step):
        block, own = votes[start:start + step], labels[start:start + step]
        for g in range(k):
            rows = block[own == g]
            a[g] += (rows == 1).sum(axis=0)
            d[g] += (rows == -1).sum(axis=0)
            p[g] += (rows == 0).sum(axis=0)
    n = a + d + p
    a_rest, d_rest, n_rest = a.sum(0) - a, d.sum(0) - d, n.sum(0) - n
    pa, pd = agree_probability(a, n), agree_probability(d, n)
    return GroupStats(a, d, p, n, pa, pd, one_proportion_z(pa, n), one_proportion_z(pd, n),
                      pa / agree_probability(a_rest, n_rest), pd / agree_probability(d_rest, n_rest),
                      two_proportion_z(a, n, a_rest, n_rest), two_proportion_z(d, n, d_rest, n_rest))


@dataclass
class Divisiveness:
    gap: np.ndarray  # D per statement
    se: np.ndarray
    high: np.ndarray  # group with the highest agree share
    low: np.ndarray

    @property
    def interval(self) -> tuple[np.ndarray, np.ndarray]:
        return self.gap - Z90_TWO * self.se, self.gap + Z90_TWO * self.se


def divisiveness(stats: GroupStats) -> Divisiveness:
    sides = stats.agree + stats.disagree
    q = (stats.agree + 1) / (sides + 2)
    hi, lo = q.argmax(axis=0), q.argmin(axis=0)
    cols = np.arange(q.shape[1])
    var = q * (1 - q) / (sides + 2)
    return Divisiveness(q[hi, cols] - q[lo, cols], np.sqrt(var[hi, cols] + var[lo, cols]), hi, lo)


# --- the whole analysis -----------------------------------------------------------------

@dataclass
class Analysis:
    conversation: Conversation
    seed: str
    statements: list[str]  # the statements the maths used (not moderated out)
    clustered: list[str]  # participant ids that were clustered
    labels: np.ndarray  # group of each clustered participant (0 = largest)
    points: np.ndarray  # every participant's 2-D projection (conversation order)
    in_conv: np.ndarray  # mask over all participants: clustered or not
    silhouette: float
    stats: GroupStats
    gic_agree: np.ndarray
    gic_disagree: np.ndarray
    divisive: Divisiveness
    stability: dict = field(default_factory=dict)
    min_group_size: int = 1

    @property
    def k(self) -> int:
        return int(self.labels.max()) + 1 if len(self.labels) else 0

    @cached_property
    def columns(self) -> dict[str, int]:
        """Statement id -> its column in the statistics (``stats``, ``gic_agree`` ...)."""
        return {sid: j for j, sid in enumerate(self.statements)}

    def groups(self) -> dict[str, int]:
        return dict(zip(self.clustered, (int(g) for g in self.labels)))

    def sizes(self) -> list[int]:
        return [int((self.labels == g).sum()) for g in range(self.k)]

    def representative(self, group: int, limit: int | None = 5) -> list[tuple[str, str, float]]:
        """(statement, 'agree' | 'disagree', ranking metric) representing ``group``, best first."""
        s, out = self.stats, []
        for j, sid in enumerate(self.statements):
            for side, p, z, r, zr in (("agree", s.pa, s.za, s.ra, s.za_rest), ("disagree", s.pd, s.zd, s.rd, s.zd_rest)):
                if z[group, j] > Z90 and zr[group, j] > Z90:
                    out.append((sid, side, float(r[group, j] * zr[group, j] * p[group, j] * z[group, j])))
        out.sort(key=lambda t: -t[2])
        return out[:limit] if limit else out

    def consensus(self) -> list[tuple[str, str, float]]:
        """(statement, 'agree' | 'disagree', gic) that every group agrees (disagrees) with."""
        s, out = self.stats, []
        for j, sid in enumerate(self.statements):
            if (s.za[:, j] > Z90).all():
                out.append((sid, "agree", float(self.gic_agree[j])))
            elif (s.zd[:, j] > Z90).all():
                out.append((sid, "disagree", float(self.gic_disagree[j])))
        out.sort(key=lambda t: -t[2])
        return out

    def divisive_statements(self) -> list[tuple[str, float, float, float]]:
        """(statement, D, low, high of the 90 % interval) for divisive statements, most divisive first."""
        if self.k < 2:
            return []
        low, high = self.divisive.interval
        out = [(sid, float(self.divisive.gap[j]), float(low[j]), float(high[j]))
               for j, sid in enumerate(self.statements) if low[j] > DIVISIVE_ABOVE]
        out.sort(key=lambda t: -t[1])
        return out


def analyze(conv: Conversation, seed: str = "otos", *, min_group_size: int = 3, restarts: int = 5,
            min_votes: int = 7) -> Analysis:
    """Cluster a conversation and compute every statement's statistics per group."""
    active = conv.active
    votes = conv.votes if active.all() else conv.votes[:, active]  # a view when nothing is moderated out
    statements = [s for s, keep in zip(conv.statements, active) if keep]
    m = conv.votes.shape[1]
    cast = (~np.isnan(conv.votes)).sum(axis=1)  # every vote counts towards taking part
    in_conv = taking_part(cast, min(min_votes, m))
    if in_conv.sum() < 2:
        raise OtosError(_("{source}: only {int} participant(s) voted on at least {min} statements; opinion groups need more.").format(source=conv.source, int=int(in_conv.sum()), min=min(min_votes, m)))
    centred = Centred(votes)
    cov = centred.gram()
    comps = components(cov)
    cast_all = (~np.isnan(votes)).sum(axis=1) + (m - votes.shape[1])  # moderated-out count as zero votes
    points = scaled(centred, comps, cast_all, m)
    labels, agreement = cluster(points[in_conv], rng_for(seed), min_group_size)
    k = int(labels.max()) + 1
    everyone = np.full(len(in_conv), -1)
    everyone[in_conv] = labels
    stats = group_stats(votes, everyone, k)
    gic_a = np.prod(stats.pa, axis=0)
    gic_d = np.prod(stats.pd, axis=0)
    analysis = Analysis(conv, seed, statements, [p for p, keep in zip(conv.participants, in_conv) if keep], labels,
                        points, in_conv, spread(points[in_conv], labels, rng_for(f"{seed}/silhouette")), stats,
                        gic_a, gic_d, divisiveness(stats), min_group_size=min_group_size)
    if restarts:
        analysis.stability = {"runs": len(agreement), "restart_ari_mean": float(np.mean(agreement)),
                              "restart_ari_min": float(np.min(agreement)),
                              **halves(centred, cov, comps, m - votes.shape[1], in_conv, labels, seed,
                                       min_group_size, restarts)}
    return analysis


def taking_part(cast: np.ndarray, threshold: int) -> np.ndarray:
    """Who is clustered, as in Polis: everyone who voted on at least ``threshold``
    statements, topped up to GREEDY_PARTICIPANTS by those who voted most (ties: first
    in order)."""
    in_conv = cast >= threshold
    short = GREEDY_PARTICIPANTS - int(in_conv.sum())
    if short > 0:
        rest = [i for i in np.argsort(-cast, kind="stable") if not in_conv[i] and cast[i] > 0]
        in_conv[rest[:short]] = True
    return in_conv


def spread(points: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> float:
    """The groups' silhouette over the participants (a seeded sample of
    SILHOUETTE_SAMPLE when there are more): how far apart the groups are."""
    if len(points) > SILHOUETTE_SAMPLE:
        sample = np.sort(rng.choice(len(points), SILHOUETTE_SAMPLE, replace=False))
        points, labels = points[sample], labels[sample]
    return silhouette(points, labels) if labels.max() > 0 else 0.0


def halves(centred: Centred, cov: np.ndarray, comps: np.ndarray, moderated: int, in_conv: np.ndarray,
           labels: np.ndarray, seed: str, min_group_size: int, resamples: int) -> dict:
    """How much the groups depend on which statements were asked: ARI against the
    result of the whole pipeline on ``resamples`` random halves of the statements
    (drawn without replacement; each half projected with its own statement and vote
    counts, the moderated-out statements counted in proportion).

    Halves, not the bootstrap: a bootstrap resample repeats some statements three to
    six times, and a statement counted k times weighs k-fold in the PCA. With many
    statements that each carry a little of the groups' signal (a large conversation
    where everyone votes on a few per cent), those repeats outweigh the signal: on
    20,000 x 2,000 generated votes with three planted groups, the bootstrap's first
    component was uncorrelated with the conversation's (r = 0.05) and every resample
    disagreed with the groups (ARI 0.00), although k-means from other starts agreed
    (0.87). Subsamples without replacement have no repeats (Ben-Hur, Elisseeff and
    Guyon 2002 use them for the same purpose); on the nine shared Polis conversations
    they read much as the bootstrap did."""
    m = centred.shape[1]
    take = max(1, m // 2)
    left_out = moderated * take / m
    rngs = [rng_for(f"{seed}/half-{r}") for r in range(resamples)]
    sets = np.zeros((m, resamples))  # 1 where a statement is in a half
    weights = np.zeros((m, 2 * resamples))  # each half's components: centred[:, half] @ them, never copied
    for r, rng in enumerate(rngs):
        cols = np.sort(rng.choice(m, take, replace=False))
        sets[cols, r] = 1
        weights[cols, 2 * r:2 * r + 2] = components(cov[np.ix_(cols, cols)], start=comps[cols])
    projections, cast = centred @ weights, centred.cast(sets)  # every half in one pass over the votes
    agree = []
    for r, rng in enumerate(rngs):
        points = sparsity_scaled(projections[:, 2 * r:2 * r + 2], cast[:, r] + left_out, take + left_out)
        other, _x = cluster(points[in_conv], rng, min_group_size, runs=HALF_RUNS)
        agree.append(adjusted_rand(labels, other))
    return {"resamples": resamples, "resample_ari_mean": float(np.mean(agree)),
            "resample_ari_min": float(np.min(agree))}


def wilson(successes: float, n: float, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % by default)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))
