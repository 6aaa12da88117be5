"""The fair panel lottery: quotas always met, leximin probabilities checked against an
independent computation, frequencies of 10,000 lotteries, seeds, infeasible quotas."""
import itertools
import json
import math
from pathlib import Path

import numpy as np
import pytest

from pool.errors import OtosError, RejectedFile
from sampling.feasibility import check_feasible
from sampling.highs import INF, OPTIMAL, new_highs
from sampling.interop import read_features, read_people, write_features, write_people
from sampling.problem import Problem, Quota
from sampling.select import InfeasibleQuotas, empirical, quotas_met, select
from tui.cli import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "sortition"


def make_pool(n: int, k: int, seed: int, households: bool = False, skew: bool = True, slack: int = 1) -> Problem:
    """A random pool (volunteers skewed as real ones are) with quotas from equal shares."""
    rng = np.random.default_rng(seed)
    feats = {"age": ["18-34", "35-54", "55+"], "gender": ["f", "m"], "region": ["a", "b", "c"]}
    weights = {"age": [0.2, 0.3, 0.5] if skew else None, "gender": [0.6, 0.4] if skew else None, "region": None}
    values = [tuple(str(rng.choice(v, p=weights[f])) for f, v in feats.items()) for _ in range(n)]
    ids = [f"p{i:03d}" for i in range(n)]
    houses = [f"h{i // 2}" if households and i < n // 3 else None for i in range(n)]
    quotas = []
    for f, vals in feats.items():
        share = k / len(vals)
        for v in vals:
            quotas.append(Quota(f, v, max(0, math.floor(share) - slack), math.ceil(share) + slack))
    return Problem(ids, list(feats), values, quotas, k, houses)


def independent_leximin(problem: Problem) -> list[float]:
    """Leximin person probabilities by brute force: every feasible panel enumerated,
    then levels found by LPs that ask, person by person, whether they can go higher."""
    p = problem
    panels = [c for c in itertools.combinations(range(len(p.ids)), p.k) if not quotas_met(p, [p.ids[i] for i in c])]
    n, m = len(p.ids), len(panels)
    member = np.zeros((n, m))
    for j, c in enumerate(panels):
        member[list(c), j] = 1.0

    def solve(objective_person: int | None, floor: dict[int, float], z_rows: list[int], z_min: float | None):
        h = new_highs()
        h.addVars(m + 1, np.zeros(m + 1), np.append(np.full(m, INF), 1.0))
        if objective_person is None:
            h.changeColCost(m, -1.0)
        else:
            h.changeColsCost(m, np.arange(m, dtype=np.int32), -member[objective_person])
        h.addRow(1.0, 1.0, m, np.arange(m, dtype=np.int32), np.ones(m))
        for i in range(n):
            if i in floor:
                h.addRow(floor[i] - 1e-9, INF, m, np.arange(m, dtype=np.int32), member[i])
            elif objective_person is None:
                idx = np.append(np.arange(m), m).astype(np.int32)
                h.addRow(0.0, INF, m + 1, idx, np.append(member[i], -1.0))
            else:
                h.addRow(z_min - 1e-9, INF, m, np.arange(m, dtype=np.int32), member[i])
        h.run()
        assert h.getModelStatus() == OPTIMAL
        return -h.getInfo().objective_function_value

    fixed: dict[int, float] = {}
    while len(fixed) < n:
        z = solve(None, fixed, [], None)
        stuck = [i for i in range(n) if i not in fixed and solve(i, fixed, [], z) <= z + 1e-7]
        for i in stuck:
            fixed[i] = z
    return sorted(fixed.values())


def tiny_feasible(start: int, households: bool) -> Problem:
    for seed in range(start, start + 100):
        problem = make_pool(11, 4, seed, households=households, skew=False, slack=0)
        if check_feasible(problem) is None:
            return problem
    raise AssertionError("no feasible tiny instance")


@pytest.mark.parametrize("start,households", [(1, False), (200, True), (400, False), (600, True)])
def test_leximin_matches_an_exhaustive_independent_computation(start, households):
    problem = tiny_feasible(start, households)
    sel = select(problem, "s")
    ours = sorted(sel.probabilities.values())
    assert ours == pytest.approx(independent_leximin(problem), abs=1e-6)


@pytest.mark.parametrize("start,households", [(1, False), (200, True)])
def test_peeling_on_ever_smaller_lps_gives_the_same_fair_lottery(start, households, monkeypatch):
    """The face's LPs rebuilt over the free columns after (almost) every step: the same
    leximin probabilities as the exhaustive computation, and every panel still meets
    every quota and the household rule."""
    import sampling.leximin as lex

    monkeypatch.setattr(lex._Face, "SHRINK_MIN", 0)
    monkeypatch.setattr(lex._Face, "SHRINK_AT", 0.01)
    rebuilt = []
    rebuild = lex._Face._rebuild
    monkeypatch.setattr(lex._Face, "_rebuild", lambda face, keep, at: rebuilt.append(len(keep)) or rebuild(face, keep, at))
    peeled = []
    peel = lex._peel
    monkeypatch.setattr(lex, "_peel", lambda *a: peeled.append(peel(*a)) or peeled[-1])
    problem = tiny_feasible(start, households)
    assert sorted(select(problem, "s").probabilities.values()) == pytest.approx(independent_leximin(problem), abs=1e-6)
    assert rebuilt
    bigger = make_pool(120, 15, 7, households=households)
    sel = select(bigger, "first")
    assert len(rebuilt) > 10 and min(rebuilt) < 20
    # The peeling itself reached the end (a wrong smaller LP would find no panel and
    # leave the rest to the exact fallback, which would hide the fault).
    path, exact = peeled[-1]
    assert exact and len(path) > 15
    # Two models search side by side on two cores; the first one's answer wins a tie,
    # so the lottery is the same however the threads are scheduled.
    assert select(bigger, "first").prepared.sha256 == sel.prepared.sha256
    for i in range(200):
        assert quotas_met(bigger, sel.prepared.draw(f"seed {i}")) == []


def test_every_drawn_panel_meets_every_quota_and_the_household_rule():
    problem = make_pool(120, 15, 7, households=True)
    sel = select(problem, "first")
    for i in range(300):
        assert quotas_met(problem, sel.prepared.draw(f"seed {i}")) == []
    assert quotas_met(problem, sel.panel) == []


def test_ten_thousand_lotteries_match_the_computed_probabilities():
    problem = make_pool(60, 10, 11, households=True)
    sel = select(problem, "x")
    draws = 10_000
    freq = empirical(sel, draws)
    for pid, p in sel.probabilities.items():
        se = math.sqrt(max(p * (1 - p), 1e-12) / draws)
        assert abs(freq[pid] - p) <= 4 * se + 1e-9, pid
    assert sum(sel.probabilities.values()) == pytest.approx(10)


def test_leximin_is_fairer_than_the_greedy_draw():
    problem = make_pool(150, 20, 5)
    fair = select(problem, "s")
    greedy = select(problem, "s", method="legacy")
    assert quotas_met(problem, greedy.panel) == []
    assert fair.min_probability > greedy.min_probability
    assert fair.algorithm.startswith("otos-leximin") and greedy.algorithm.startswith("otos-legacy")


def test_same_seed_same_panel_other_seed_other_panel():
    problem = make_pool(100, 12, 9)
    a, b, c = select(problem, "Lotto 2026-11-28"), select(problem, "Lotto 2026-11-28"), select(problem, "other")
    assert a.panel == b.panel and a.probabilities == b.probabilities
    assert a.panel != c.panel


def test_seats_fixed_in_advance_are_always_on_the_panel():
    base = make_pool(50, 8, 3)
    problem = Problem(base.ids, base.features, base.values, base.quotas, base.k, base.households,
                      frozenset({"p000", "p001"}))
    sel = select(problem, "s")
    assert {"p000", "p001"} <= set(sel.panel)
    assert sel.probabilities["p000"] == pytest.approx(1.0)
    assert sum(sel.probabilities.values()) == pytest.approx(8)


def clash_problem() -> Problem:
    """Quotas that ask for three young people when only two volunteered."""
    base = make_pool(40, 8, 2)
    young = [i for i, v in enumerate(base.values) if v[0] == "18-34"]
    for i in young[2:]:
        base.values[i] = ("35-54",) + base.values[i][1:]
    quotas = [q if (q.feature, q.value) != ("age", "18-34") else Quota("age", "18-34", 3, 4) for q in base.quotas]
    return Problem(base.ids, base.features, base.values, quotas, base.k)


def test_infeasible_quotas_name_the_clash_and_a_fix_that_works():
    problem = clash_problem()
    base, quotas = problem, problem.quotas
    with pytest.raises(InfeasibleQuotas) as err:
        select(problem, "s")
    text = str(err.value)
    assert "age=18-34 (pool has 2): lower the minimum from 3 to 2. Relax those quotas" in text
    fix = {(r.quota.feature, r.quota.value): r for r in err.value.explanation.relaxations}
    relaxed = [Quota(q.feature, q.value, fix[(q.feature, q.value)].new_min, fix[(q.feature, q.value)].new_max)
               if (q.feature, q.value) in fix else q for q in quotas]
    assert check_feasible(Problem(base.ids, base.features, base.values, relaxed, base.k)) is None


@pytest.mark.parametrize("change,message", [
    (lambda p: p.values.__setitem__(0, ("18-34", "x", "a")), "gender='x', which has no quota"),
    (lambda p: setattr(p, "k", 500), "larger than the pool"),
    (lambda p: p.quotas.__setitem__(0, Quota("age", "18-34", 9, 4)), "do not make a range"),
    (lambda p: p.quotas.append(Quota("shoe", "42", 0, 1)), "the pool does not have: shoe"),
    (lambda p: [p.quotas.__setitem__(i, Quota(q.feature, q.value, 0, 1)) for i, q in enumerate(p.quotas)],
     "maximums of age add up to 3"),
])
def test_bad_problems_are_refused_before_any_draw(change, message):
    problem = make_pool(30, 6, 1)
    change(problem)
    with pytest.raises(OtosError, match=message):
        select(problem, "s")


def test_empty_pool_is_refused():
    with pytest.raises(OtosError, match="pool is empty"):
        select(Problem([], ["age"], [], [Quota("age", "x", 0, 1)], 1), "s")


def write_instance(tmp_path, problem):
    write_features(tmp_path / "features.csv", problem.quotas)
    write_people(tmp_path / "people.csv", problem)
    return tmp_path / "features.csv", tmp_path / "people.csv"


def test_csv_round_trip_and_cli_json(tmp_path, capsys):
    problem = make_pool(80, 10, 4, households=True)
    f, p = write_instance(tmp_path, problem)
    again = read_people(p, read_features(f), 10, household="household")
    assert again.pool_hash() == problem.pool_hash() and again.quotas_hash() == problem.quotas_hash()
    assert (p.stat().st_mode & 0o777) == 0o600  # member ids with dwellings: owner-only
    assert main(["select", "--features", str(f), "--people", str(p), "--size", "10", "--seed", "42",
                 "--household", "household", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["panel"]) == 10 and out["seed"] == "42"
    assert set(out["probabilities"]) == set(problem.ids)
    assert out["panel"] == select(again, "42").panel


def test_cli_infeasible_exits_nonzero_with_the_explanation(tmp_path, capsys):
    f, p = write_instance(tmp_path, clash_problem())
    code = main(["select", "--features", str(f), "--people", str(p), "--size", "8", "--seed", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 2 and captured.out == ""
    assert "age=18-34 (pool has 2): lower the minimum from 3 to 2" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("features,people,message", [
    ("feature,value,min,max\nage,a,one,2\n", "id,age\n1,a\n", r"line 2, column 3 \(min\): not a whole number"),
    ("feature,value,min\nage,a,1\n", "id,age\n1,a\n", "lacks column"),
    ("feature,value,min,max\nage,a,0,2\n", "id,age\n1,a\n2\n", "line 3: 1 fields"),
    ("feature,value,min,max\nage,a,0,2\n", "id,sex\n1,a\n", "lacks column.*age"),
    ("feature,value,min,max\nage,a,0,2\n", "", "empty"),
])
def test_malformed_csv_files_are_named(tmp_path, features, people, message):
    (tmp_path / "f.csv").write_text(features)
    (tmp_path / "p.csv").write_text(people)
    with pytest.raises(RejectedFile, match=message):
        read_people(tmp_path / "p.csv", read_features(tmp_path / "f.csv"), 1)


@pytest.mark.skipif(not SHARED.exists(), reason="the shared reference instances are not beside the project")
def test_reference_instance_reaches_the_maximin_optimum():
    base = SHARED / "fi_keski_suomi_400_40"
    problem = read_people(base / "people.csv", read_features(base / "features.csv"), 40, household="household")
    sel = select(problem, "2026")
    assert sel.min_probability >= 0.0705 - 1e-4  # the peer's maximin optimum (CBC)
    assert quotas_met(problem, sel.panel) == []


@pytest.mark.parametrize("start,households", [(1, False), (200, True)])
def test_exact_column_generation_fallback_matches_too(start, households, monkeypatch):
    import sampling.leximin

    monkeypatch.setattr(sampling.leximin, "_as_lottery", lambda *a, **k: None)  # force the fallback path
    problem = tiny_feasible(start, households)
    sel = select(problem, "s")
    assert sel.distribution.levels > 0
    assert sorted(sel.probabilities.values()) == pytest.approx(independent_leximin(problem), abs=1e-6)


def test_a_dead_end_in_the_peeling_is_backed_away_from(monkeypatch):
    """A face without an integer panel part-way (simulated once): the peeling backs up a
    step and goes on with other panels; the lottery is the same fair one, reached
    without the column generation."""
    import sampling.leximin as lex

    problem = make_pool(120, 15, 7, households=True)
    fair = select(problem, "first").probabilities
    panel = lex._Face.panel
    calls, dead, decomposed = [0], [], []

    def sometimes_none(face, weights, near=None):
        calls[0] += 1
        if calls[0] == 6:
            dead.append(calls[0])
            return None
        return panel(face, weights, near)
    monkeypatch.setattr(lex._Face, "panel", sometimes_none)
    decompose = lex._decompose
    monkeypatch.setattr(lex, "_decompose", lambda *a, **k: decomposed.append(1) or decompose(*a, **k))
    again = select(problem, "first")
    assert dead and not decomposed
    assert again.probabilities == pytest.approx(fair, abs=1e-9)
    for i in range(100):
        assert quotas_met(problem, again.prepared.draw(f"seed {i}")) == []


def on_face(types, r: np.ndarray, seats: np.ndarray) -> bool:
    """Whether ``seats`` is a panel on the smallest face of the quota polytope holding
    ``r``: seat counts and quota rows at a bound in ``r`` are at that bound in the panel."""
    tol = 1e-9
    if seats.sum() != types.k or np.any(seats < types.forced) or np.any(seats > types.size):
        return False
    if np.any(seats[r <= types.forced + tol] != types.forced[r <= types.forced + tol]):
        return False
    if np.any(seats[r >= types.size - tol] != types.size[r >= types.size - tol]):
        return False
    for lo, hi, members in types.quota_rows:
        total, filled = r[members].sum(), seats[members].sum()
        if not lo <= filled <= hi or (total >= hi - tol and filled != hi) or (total <= lo + tol and filled != lo):
            return False
    return all(seats[house].sum() <= 1 for house in types.households)


def recording(monkeypatch, name: str) -> list[tuple]:
    """Wrap ``_Face.<name>`` so that every panel it answers is kept, with the face's
    types, the point the face was made for and the call's arguments."""
    import sampling.leximin as lex

    points, kept = [], []
    restrict, method = lex._Face.restrict, getattr(lex._Face, name)
    monkeypatch.setattr(lex._Face, "restrict", lambda face, r: points.append(r.copy()) or restrict(face, r))

    def recorded(face, *args):
        seats = method(face, *args)
        if seats is not None:
            kept.append((face.types, points[-1], args, seats))
        return seats
    monkeypatch.setattr(lex._Face, name, recorded)
    return kept


def test_most_steps_move_the_last_panel_onto_the_next_face_without_an_lp(monkeypatch):
    """After a step the panel just peeled off is off the new face by a seat count or
    two; exchanging seats (one for one, or two for two where every quota is an
    equality on the face) gives a panel on the face without an LP. Every such panel is
    checked against the face of the point it was made for, the exchanges of two for two
    do happen, and the lottery is the one the LPs alone give."""
    import sampling.leximin as lex

    problem = make_pool(150, 20, 5, households=True, slack=0)
    monkeypatch.setattr(lex, "_as_lottery", lambda *a, **k: None)  # the reference: the exact column generation
    reference = select(problem, "first").probabilities
    monkeypatch.undo()
    made = recording(monkeypatch, "repair")
    sel = select(problem, "first")
    assert len(made) > 10
    assert all(on_face(types, r, seats) for types, r, _args, seats in made)
    assert any(np.count_nonzero(seats != v) == 4 for _t, _r, (v, _rng), seats in made)
    assert sel.probabilities == pytest.approx(reference, abs=1e-6)
    for i in range(100):
        assert quotas_met(problem, sel.prepared.draw(f"seed {i}")) == []


def test_a_panel_found_on_a_smaller_nearby_face_is_on_the_whole_face(monkeypatch):
    """When no exchange fits, the LPs are asked first on a face of the face (columns
    other than the last panel's and a few more held at their lower bound); whatever they
    find there is a panel on the whole face."""
    import sampling.leximin as lex

    problem = make_pool(150, 20, 5, households=True, slack=0)
    monkeypatch.setattr(lex._Face, "repair", lambda face, v, rng: None)  # every step asks the LPs
    searched = recording(monkeypatch, "_search")
    sel = select(problem, "first")
    found = [(types, r, seats, args[1]) for types, r, args, seats in searched if len(args) > 1 and args[1] is not None]
    assert len(found) > 10
    assert all(on_face(types, r, seats) for types, r, seats, _only in found)
    at_lower = lambda types, r: np.where(r >= types.size - 1e-9, types.size, types.forced)  # noqa: E731
    assert all(np.all(seats[~only] == at_lower(types, r)[~only]) for types, r, seats, only in found)
    for i in range(100):
        assert quotas_met(problem, sel.prepared.draw(f"seed {i}")) == []


def test_when_the_nearby_faces_give_nothing_the_whole_face_is_searched(monkeypatch):
    """The nearby faces are only a first try: with them giving nothing at all, every
    panel comes from the whole face, and the peeling still reaches its end."""
    import sampling.leximin as lex

    monkeypatch.setattr(lex._Face, "repair", lambda face, v, rng: None)
    monkeypatch.setattr(lex._Face, "NEAR_ROUNDS", 0)
    peeled = []
    peel = lex._peel
    monkeypatch.setattr(lex, "_peel", lambda *a: peeled.append(peel(*a)) or peeled[-1])
    problem = make_pool(120, 15, 7, households=True)
    sel = select(problem, "first")
    path, exact = peeled[0]
    assert exact and len(path) > 15
    for i in range(100):
        assert quotas_met(problem, sel.prepared.draw(f"seed {i}")) == []
