"""Stage 1: the stratified invitation sample."""
import datetime as dt
import json
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlmodel import Session

from pool import codes
from pool.errors import OtosError
from pool.extract import import_extract
from pool.models import Invitation, Person
from sampling.invitations import draw_invitations
from tests.conftest import people, write_rows

GROUPS = {"179": "Jyväskylä"}


@pytest.fixture
def extract(engine, tmp_path):
    rows = people(1500, seed=21)
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=30))
    return report.extract_id


def invited_people(engine):
    with Session(engine) as s:
        return s.execute(select(Person).join(Invitation, Invitation.person_id == Person.id)).scalars().all()


def test_allocation_is_proportional_and_only_mailable_people_one_per_dwelling(engine, extract):
    result = draw_invitations(engine, extract, 300, "seed", strata=("sex", "municipality"),
                              groups=GROUPS | {})
    assert result.drawn == 300 and sum(a.allocated for a in result.allocations) == 300
    total = sum(a.population for a in result.allocations)
    for a in result.allocations:
        assert abs(a.allocated - 300 * a.population / total) < 1 + 1e-9 or a.allocated == a.candidates
    invited = invited_people(engine)
    assert len(invited) == 300
    assert all(p.mailable and not p.turvakielto and not p.deceased for p in invited)
    dwellings = Counter(p.dwelling_id for p in invited if p.dwelling_id)
    assert max(dwellings.values()) == 1
    with Session(engine) as s:
        for code in s.execute(select(Invitation.response_code)).scalars():
            assert codes.normalise(code) == code


def test_under_age_people_are_never_invited(engine, extract):
    draw_invitations(engine, extract, 200, "s", strata=("age",), min_age=40, age_bands=(40, 65))
    today = dt.date.today()
    for p in invited_people(engine):
        assert (today - p.birth_date).days / 365.25 >= 39.99


def test_same_seed_same_people_and_nobody_is_invited_twice(engine, extract):
    a = draw_invitations(engine, extract, 100, "Lotto", create=False)
    b = draw_invitations(engine, extract, 100, "Lotto", create=False)
    c = draw_invitations(engine, extract, 100, "other", create=False)
    assert a.person_ids == b.person_ids != c.person_ids
    first = draw_invitations(engine, extract, 100, "Lotto")
    again = draw_invitations(engine, extract, 100, "Lotto")
    assert not set(first.person_ids) & set(again.person_ids)


def test_oversampling_raises_a_groups_share(engine, extract):
    plain = draw_invitations(engine, extract, 300, "s", strata=("age",), create=False)
    boosted = draw_invitations(engine, extract, 300, "s", strata=("age",), oversample={("age", "15-29"): 2.0},
                               create=False)
    young = lambda r: next(a.allocated for a in r.allocations if a.stratum == ("15-29",))  # noqa: E731
    assert young(boosted) > young(plain) * 1.6


@pytest.mark.parametrize("kwargs,message", [
    ({"size": 10 ** 6}, "can be invited"),
    ({"size": 0}, "at least 1"),
    ({"size": 10, "seed": " "}, "seed is empty"),
    ({"size": 10, "oversample": {("age", "200-300"): 2.0}}, "no stratum has"),
    ({"size": 10, "strata": ("shoe",)}, "Unknown stratum"),
])
def test_bad_requests_are_named_and_nothing_is_created(engine, extract, kwargs, message):
    args = {"seed": "s"} | kwargs
    with pytest.raises(OtosError, match=message):
        draw_invitations(engine, extract, **args)
    with Session(engine) as s:
        assert s.execute(select(Invitation)).first() is None


def test_unknown_extract_is_named(engine):
    with pytest.raises(OtosError, match="no extract 9"):
        draw_invitations(engine, 9, 10, "s")


@pytest.mark.parametrize("kwargs,text", [
    ({"age_bands": (30, 15)}, "larger than the one before"),
    ({"age_bands": (15, -1)}, "from 0 to 120"),
    ({"oversample": {("sex", "mies"): float("nan")}}, "factor must be a number"),
    ({"oversample": {("sex", "mies"): float("inf")}}, "factor must be a number"),
    ({"oversample": {("sex", "mies"): -1.0}}, "factor must be a number"),
    ({"round_name": "r" * 65}, "at most 64 fit"),
    ({"seed": "s" * 201}, "at most 200 fit"),
    ({"seed": "Lotto\x1b[2J"}, "control character"),
])
def test_bad_draw_settings_are_refused_before_anything_is_saved(engine, tmp_path, kwargs, text):
    rep = import_extract(engine, write_rows(tmp_path / "e.csv", people(40)), permit="P", purpose="x",
                         delete_by=dt.date.today() + dt.timedelta(days=30))
    kwargs = dict(kwargs)  # the parameters are shared by the SQLite and PostgreSQL runs
    seed = kwargs.pop("seed", "s")
    with pytest.raises(OtosError, match=text):
        draw_invitations(engine, rep.extract_id, 10, seed, strata=("sex",), **kwargs)
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Invitation)).scalar_one() == 0


def test_over_long_permit_is_refused_on_every_database(engine, tmp_path):
    with pytest.raises(OtosError, match="at most 100 fit"):
        import_extract(engine, write_rows(tmp_path / "e.csv", people(5)), permit="P" * 101, purpose="x",
                       delete_by=dt.date.today() + dt.timedelta(days=30))


def test_a_round_without_a_name_is_named_by_month_and_county_and_never_reused(engine, extract):
    from pool.invitations import list_rounds

    day = dt.date(2026, 12, 1)
    first = draw_invitations(engine, extract, 40, "a", county="Lapin hyvinvointialue", day=day)
    second = draw_invitations(engine, extract, 30, "b", county="Lapin hyvinvointialue", day=day)
    assert (first.round, second.round) == ("2026-12 Lappi", "2026-12 Lappi (2)")
    rounds = list_rounds(engine)
    assert [(r.name, r.invited, r.registered, r.extract_id) for r in rounds] == [
        ("2026-12 Lappi (2)", 30, 0, extract), ("2026-12 Lappi", 40, 0, extract)]


def test_people_invited_by_another_draw_meanwhile_are_refused_and_nothing_is_saved(engine, extract):
    from pool.invitations import add_invitations

    planned = draw_invitations(engine, extract, 20, "x", create=False)
    draw_invitations(engine, extract, 20, "x", round_name="colleague")  # the same people, saved first
    with Session(engine) as s, pytest.raises(OtosError, match="invited meanwhile"):
        add_invitations(s, extract, planned.person_ids, "mine")
    with Session(engine) as s:
        assert s.execute(select(func.count()).select_from(Invitation)).scalar_one() == 20


def test_invite_cli_says_the_round_in_a_few_lines_and_lists_rounds(engine, extract, tmp_path, capsys):
    from tests.conftest import make_workspace
    from tui.cli import main

    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI opens its database by URL; one backend is enough here")
    make_workspace(engine, "Keski-Suomi")
    db = str(engine.url)
    assert main(["--db", db, "invite", "draw", "--extract", str(extract), "--size", "50", "--seed", "s",
                 "--table", str(tmp_path / "strata.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"Round '{dt.date.today():%Y-%m} Keski-Suomi': 50 invitations")
    assert len(out) <= 10 and any(line.startswith("  municipality: Jyväskylä ") for line in out)
    assert not any(line.strip().startswith("179") for line in out)  # names, not codes
    header, *rows = (tmp_path / "strata.csv").read_text(encoding="utf-8").splitlines()
    assert header.split(";")[-4:] == ["population", "candidates", "allocated", "drawn"]
    assert sum(int(r.split(";")[-1]) for r in rows) == 50
    assert main(["--db", db, "invite", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(r["round"], r["invited"], r["registered"]) for r in listed] == [(f"{dt.date.today():%Y-%m} Keski-Suomi",
                                                                            50, 0)]


def reference_draw(engine, extract_id, size, seed, day, groups):
    """Stage 1 written out person by person from the ORM: the oracle for the compact reader."""
    import numpy as np
    import pandas as pd

    from sampling.categories import DEFAULT_AGE_BANDS, NO_VALUE, Scheme, category_of
    from sampling.invitations import _allocate
    from sampling.lottery import seed_generator

    scheme = Scheme(DEFAULT_AGE_BANDS, groups)
    with Session(engine) as s:
        invited = set(s.execute(select(Invitation.person_id)).scalars())
        rows = s.execute(select(Person).where(Person.extract_id == extract_id, Person.deceased.is_(False))
                         .order_by(Person.id)).scalars().all()
        strata, candidates = {}, []
        for p in rows:
            if p.birth_date is None:
                continue
            exact_age = day.year - p.birth_date.year - ((p.birth_date.month, p.birth_date.day) > (day.month, day.day))
            year_age = day.year - p.birth_date.year - (1 if (day.month, day.day) < (7, 1) else 0)
            label = (category_of("age", year_age, scheme), category_of("sex", p.sex, scheme),
                     category_of("language", p.mother_tongue, scheme), category_of("municipality", p.municipality, scheme))
            if exact_age < 15 or label[0] == NO_VALUE:
                continue
            strata.setdefault(label, [0, []])[0] += 1
            if p.mailable and p.id not in invited:
                candidates.append((p.id, label, p.dwelling_id))
    u = seed_generator(f"invitations/{extract_id}/{seed}").random(len(candidates))
    best = {}
    for (pid, label, dwelling), key in zip(candidates, u):
        slot = dwelling if dwelling is not None else ("alone", pid)
        if slot not in best or key < best[slot][0]:
            best[slot] = (key, pid, label)
    for key, pid, label in best.values():
        strata[label][1].append((key, pid))
    order = sorted(strata)
    population = pd.Series([strata[s][0] for s in order], dtype=float)
    available = pd.Series([len(strata[s][1]) for s in order])
    seats = _allocate(population, available, size)
    chosen = [pid for s, n in zip(order, seats) for _key, pid in sorted(strata[s][1])[: int(n)]]
    return sorted(chosen), np.asarray(seats).tolist()


def test_the_compact_reader_invites_exactly_whom_the_rules_say_in_any_chunk_size(engine, extract, monkeypatch):
    import sampling.invitations as inv

    day = dt.date(2026, 12, 1)
    draw_invitations(engine, extract, 50, "earlier", day=day)  # some people invited before
    expected, seats = reference_draw(engine, extract, 200, "Lotto", day, GROUPS)
    big = draw_invitations(engine, extract, 200, "Lotto", groups=GROUPS, day=day, create=False)
    monkeypatch.setattr(inv, "CHUNK", 7)  # values first seen in later chunks, dwellings across chunks
    small = draw_invitations(engine, extract, 200, "Lotto", groups=GROUPS, day=day, create=False)
    assert big.person_ids == small.person_ids == expected
    assert [a.allocated for a in big.allocations] == seats
