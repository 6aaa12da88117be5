"""Panels drawn from the workspace pool: quotas from margins, draw, verify, replace."""
import datetime as dt
import json
from dataclasses import astuple
from collections import Counter

import pytest
from sqlalchemy import text
from sqlmodel import Session

from pool import audit
from pool.errors import OtosError
from pool.members import add_member, update_member, withdraw
from pool.models import Panel
from sampling.interop import write_features
from sampling.panels import draw_panel, panel_seats, pool_problem, replace_member, verify_panel
from sampling.problem import Quota
from sampling.select import quotas_met
from sampling.targets import (margins_from_csv, margins_from_extract, quotas_from_margins,
                              seats_by_largest_remainder)
from tests.conftest import people, write_rows
from tui.cli import main

THIS_YEAR = dt.date.today().year
QUOTAS = [Quota("age", "18-44", 2, 4), Quota("age", "45+", 2, 4), Quota("sex", "nainen", 2, 4),
          Quota("sex", "mies", 2, 4), Quota("municipality", "Jyväskylä", 1, 5), Quota("municipality", "muut", 1, 5)]


def fill(engine, n=30, shared_dwellings=False):
    for i in range(n):
        add_member(engine, {"first_names": f"Etu{i}", "surname": "Suku", "birth_year": str(THIS_YEAR - 20 - (i * 7) % 60),
                            "sex": "1" if i % 2 else "2", "municipality": "179" if i % 3 else "410",
                            "education": "korkea-aste"}, consent_version="v1")
    if shared_dwellings:
        with Session(engine) as s:
            s.execute(text("UPDATE pool_member SET dwelling_id = 'D' || CAST((id + 1) / 2 AS TEXT) WHERE id <= 10"))
            s.commit()


def test_largest_remainder_hands_out_exactly_k_seats():
    seats = seats_by_largest_remainder(Counter({"a": 5, "b": 3, "c": 2}), 7)
    assert seats == {"a": 4, "b": 2, "c": 1}  # 3.5, 2.1, 1.4: one extra seat to the largest remainder
    assert sum(seats_by_largest_remainder(Counter({"x": 1, "y": 1, "z": 1}), 10).values()) == 10


def test_quotas_from_an_extract_follow_the_population(engine, tmp_path):
    from pool.extract import import_extract

    report = import_extract(engine, write_rows(tmp_path / "e.csv", people(400)), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=9))
    margins = margins_from_extract(engine, report.extract_id, ["sex", "language", "municipality"],
                                   groups={"179": "Jyväskylä"})
    assert sum(margins["sex"].values()) <= 400 and set(margins["language"]) <= {"fi", "sv", "muu"}
    quotas = quotas_from_margins(margins, 30, tolerance=1)
    by_feature = Counter()
    for q in quotas:
        by_feature[q.feature] += q.min + 1  # target = min + tolerance when target >= 1
        assert q.max - q.min <= 2
    assert by_feature["sex"] == 30


def test_margins_csv_in_the_11rl_layout(tmp_path):
    path = tmp_path / "11rl.csv"
    path.write_text("Alue;Ikä;Kieli;Sukupuoli;Väestö 31.12.2024\n"
                    "KU179 Jyväskylä;20;suomi;Miehet;100\nKU179 Jyväskylä;20;ruotsi;Naiset;10\n"
                    "KU410 Laukaa;70;suomi;Naiset;50\nKU410 Laukaa;Yhteensä;suomi;Naiset;999\n", encoding="utf-8")
    m = margins_from_csv(path, ["age", "language", "sex", "municipality"], groups={"179": "Jyväskylä", "410": "muut"})
    assert m["age"] == Counter({"15-29": 110, "65-74": 50})
    assert m["language"] == Counter({"fi": 150, "sv": 10})
    assert m["sex"] == Counter({"mies": 100, "nainen": 60})
    assert m["municipality"] == Counter({"Jyväskylä": 110, "muut": 50})


def test_margins_csv_bad_count_is_named(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Alue,Ikä,Kieli,Sukupuoli,Väestö\nJyväskylä,20,suomi,Miehet,lots\n")
    with pytest.raises(OtosError, match=r"line 2, column 5: the count is not a number"):
        margins_from_csv(path, ["age"])


def test_pool_members_fall_into_the_quota_categories(engine):
    fill(engine, 9)
    problem = pool_problem(engine, QUOTAS, 6)
    assert all(v and all(v) for v in problem.values)
    assert {v[2] for v in problem.values} == {"Jyväskylä", "muut"}


def test_draw_records_verifies_and_meets_quotas(engine):
    fill(engine, 30, shared_dwellings=True)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "Lotto 47/2026")
    problem = pool_problem(engine, QUOTAS, 6)
    assert quotas_met(problem, sel.panel) == []
    seats = [s for s in panel_seats(engine, panel_id) if s["role"] != "reserve"]
    assert sorted(s["member"] for s in seats) == sel.panel
    assert all(s["probability"] > 0 for s in seats)
    result = verify_panel(engine, panel_id)
    assert result.ok and result.notes == []


def test_draw_record_keeps_who_shares_a_dwelling_but_no_dwelling_id(engine):
    fill(engine, 30, shared_dwellings=True)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "Lotto 47/2026")
    with Session(engine) as s:
        snapshot = s.get(Panel, panel_id).snapshot
    houses = json.loads(snapshot)["households"]
    assert not any(f'"D{i}"' in snapshot for i in range(1, 6))
    assert sorted(h for h in houses if h) == sorted(["h1", "h2", "h3", "h4", "h5"] * 2)
    assert houses.count(None) == 20
    index = {pid: i for i, pid in enumerate(json.loads(snapshot)["ids"])}
    seated_houses = [houses[index[p]] for p in sel.panel if houses[index[p]]]
    assert len(seated_houses) == len(set(seated_houses))  # the rule still holds
    assert verify_panel(engine, panel_id).ok


def test_verify_detects_a_changed_record_and_notes_a_changed_pool(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    withdraw(engine, int(sel.panel[0]))
    result = verify_panel(engine, panel_id)
    assert result.ok and any("pool has changed" in n for n in result.notes)
    with Session(engine) as s:
        panel = s.get(Panel, panel_id)
        quotas = json.loads(panel.quotas)
        quotas[0][3] += 1
        panel.quotas = json.dumps(quotas)
        s.commit()
    result = verify_panel(engine, panel_id)
    assert not result.ok and "quotas do not match" in result.differences[0]


def test_verify_detects_a_changed_seat(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    outsider = next(str(i) for i in range(1, 31) if str(i) not in sel.panel)
    with Session(engine) as s:
        s.execute(text("UPDATE panel_seat SET snapshot_id = :o WHERE snapshot_id = :p"),
                  {"o": outsider, "p": sel.panel[0]})
        s.commit()
    result = verify_panel(engine, panel_id)
    assert not result.ok and "draws a different panel" in result.differences[0]
    assert f"recorded but not drawn ['{outsider}']" in result.differences[0]


def test_replacement_keeps_every_quota_and_is_recorded(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    gone = int(sel.panel[0])
    new, prob = astuple(replace_member(engine, panel_id, gone, redraw=True))[:2]
    assert str(new) not in sel.panel and prob > 0
    holding = [s["member"] for s in panel_seats(engine, panel_id) if s["role"] in ("seated", "replacement")]
    assert len(holding) == 6 and str(gone) not in holding
    assert quotas_met(pool_problem(engine, QUOTAS, 6), holding) == []
    result = verify_panel(engine, panel_id)
    assert result.ok and any(f"replacement {new} " in n and "stored lottery: the same" in n for n in result.notes)
    with pytest.raises(OtosError, match="does not hold a seat"):
        replace_member(engine, panel_id, gone)


def test_verify_recomputes_replacements_and_finds_a_changed_one(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    new = replace_member(engine, panel_id, int(sel.panel[0]), redraw=True).member
    others = [i for i in range(1, 31) if str(i) not in sel.panel and i != new]
    with Session(engine) as s:  # someone rewrites who came in as the replacement
        s.execute(text("UPDATE panel_seat SET snapshot_id = :o WHERE role = 'replacement'"), {"o": str(others[0])})
        s.commit()
    result = verify_panel(engine, panel_id)
    assert not result.ok and result.differences[0].startswith("replacement draw: the seed 'seed/replacement-1'")
    assert f"recorded but not drawn ['{others[0]}'], drawn but not recorded ['{new}']" in result.differences[0]


def test_a_pool_change_during_the_lottery_is_never_recorded_as_the_draw(engine):
    fill(engine, 30)
    changed = []

    def colleague_withdraws_someone(fraction, message):  # called while the lottery runs
        if not changed:
            withdraw(engine, 30)
            changed.append(30)

    with pytest.raises(OtosError, match="pool changed while the lottery ran"):
        draw_panel(engine, QUOTAS, 6, "seed", progress=colleague_withdraws_someone)
    assert changed
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM panel")).scalar_one() == 0
        assert s.execute(text("SELECT max(panels_served) FROM pool_member")).scalar_one() == 0
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")  # drawn again: the pool as it is now
    assert "30" not in pool_problem(engine, QUOTAS, 6).ids and verify_panel(engine, panel_id).ok


def test_a_pool_change_during_a_replacement_is_never_recorded(engine, monkeypatch):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    outsider = next(i for i in range(1, 31) if str(i) not in sel.panel)
    import sampling.panels as panels

    real = panels.select

    def lottery_while_a_colleague_edits(problem, seed, *a, **k):
        update_member(engine, outsider, {"birth_year": "1950"})
        return real(problem, seed, *a, **k)

    monkeypatch.setattr(panels, "select", lottery_while_a_colleague_edits)
    with pytest.raises(OtosError, match="pool changed while the lottery ran"):
        replace_member(engine, panel_id, int(sel.panel[0]), redraw=True)
    assert sorted(s["member"] for s in panel_seats(engine, panel_id) if s["role"] == "seated") == sel.panel


def test_unknown_feature_value_stops_the_draw_and_records_nothing(engine):
    fill(engine, 12)
    add_member(engine, {"first_names": "X", "surname": "Y", "birth_year": "1990", "sex": "1",
                        "municipality": "091"}, consent_version="v1")  # Helsinki: no quota, no catch-all
    quotas = [Quota("municipality", "Jyväskylä", 0, 6), Quota("municipality", "Laukaa", 0, 6)]
    with pytest.raises(OtosError, match="municipality=''"):
        draw_panel(engine, quotas, 4, "s")
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM panel")).scalar_one() == 0


def test_panel_cli_quotas_draw_verify_replace(engine, tmp_path, capsys, monkeypatch):
    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI is exercised on the SQLite file")
    db = str(engine.url.database)
    fill(engine, 30)
    q = tmp_path / "features.csv"
    write_features(q, QUOTAS)
    assert main(["--db", db, "panel", "draw", "--size", "6", "--quotas", str(q), "--seed", "7", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["id"] == 1 and len(out["panel"]) == 6
    assert main(["--db", db, "panel", "verify", "1"]) == 0
    assert main(["--db", db, "panel", "replace", "1", out["panel"][0]]) == 0
    assert "takes the seat" in capsys.readouterr().out
    assert main(["--db", db, "panel", "draw", "--size", "99", "--quotas", str(q), "--seed", "7"]) == 2
    assert "larger than the pool" in capsys.readouterr().err


def test_pool_exports_to_the_sortition_layout_and_back(engine, tmp_path, capsys):
    if engine.dialect.name != "sqlite":
        pytest.skip("the CLI is exercised on the SQLite file")
    from sampling.interop import read_features, read_people

    fill(engine, 20, shared_dwellings=True)
    q = tmp_path / "features.csv"
    write_features(q, QUOTAS)
    out = tmp_path / "people.csv"
    assert main(["--db", str(engine.url.database), "panel", "export", "--quotas", str(q), "--out", str(out)]) == 0
    assert (out.stat().st_mode & 0o777) == 0o600
    again = read_people(out, read_features(q), 6, household="household")
    assert again.pool_hash() == pool_problem(engine, QUOTAS, 6).pool_hash()
    assert "Suku" not in out.read_text()  # ids and categories only, no names


def test_participation_history_follows_the_seats(engine):
    from pool.members import get_member, participation

    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    member = int(sel.panel[0])
    assert get_member(engine, member).panels_served == 1
    [row] = participation(engine, member)
    assert (row["panel"], row["role"]) == (panel_id, "seated")
    new = replace_member(engine, panel_id, member).member
    assert participation(engine, member)[0]["role"] == "dropped"
    assert participation(engine, new)[0]["role"] == "replacement"


def test_every_volunteers_probability_is_kept_with_the_draw(engine):
    from sampling.panels import all_probabilities

    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    probs = all_probabilities(engine, panel_id)
    assert probs == pytest.approx(sel.probabilities) and len(probs) == 30
    assert sum(probs.values()) == pytest.approx(6)


@pytest.mark.parametrize("seed,text", [("s" * 201, "at most 200 fit"), ("a\nb", "control character")])
def test_panel_seed_that_cannot_be_stored_is_refused(engine, seed, text):
    fill(engine, 30)
    with pytest.raises(OtosError, match=text):
        draw_panel(engine, QUOTAS, 6, seed)


def groups_of(engine, quotas, k=6):
    problem = pool_problem(engine, quotas, k)
    return dict(zip(problem.ids, map(tuple, problem.values))), dict(zip(problem.ids, problem.households))


def waiting_reserves(engine, panel_id):
    return [s for s in panel_seats(engine, panel_id) if s["role"] == "reserve"]


def test_reserves_are_drawn_per_seat_keep_every_quota_and_leave_the_draw_unchanged(engine):
    fill(engine, 30, shared_dwellings=True)
    without, sel0 = draw_panel(engine, QUOTAS, 6, "seed", reserves_per_seat=0)
    assert waiting_reserves(engine, without) == []
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed", reserves_per_seat=2)
    assert sel.panel == sel0.panel  # the reserves never change who is drawn
    reserves = waiting_reserves(engine, panel_id)
    assert 10 <= len(reserves) <= 12  # two per seat where the quotas' slack and the dwellings allow
    problem = pool_problem(engine, QUOTAS, 6)
    group, dwelling = groups_of(engine, QUOTAS)
    ranks = {}
    for r in reserves:
        assert r["member"] not in sel.panel and r["reserve_for"] in sel.panel
        assert tuple(r["group"]) == group[r["member"]]
        swapped = [m for m in sel.panel if m != r["reserve_for"]] + [r["member"]]
        assert quotas_met(problem, swapped) == []  # stepping in alone keeps every quota
        ranks.setdefault(r["reserve_for"], []).append(r["rank"])
    assert all(v in ([1], [1, 2]) for v in ranks.values()) and len(ranks) == 6
    assert len({r["member"] for r in reserves}) == len(reserves)
    houses = [dwelling[m] for m in sel.panel + [r["member"] for r in reserves] if dwelling[m]]
    assert len(houses) == len(set(houses))  # nobody listed who shares a dwelling with a seat or a reserve
    assert verify_panel(engine, panel_id).ok
    with pytest.raises(OtosError, match="between 0 and 5"):
        draw_panel(engine, QUOTAS, 6, "seed", reserves_per_seat=6)


def test_reserves_are_of_the_seat_holders_own_group_when_the_pool_has_one():
    from sampling.panels import draw_reserves
    from sampling.problem import Problem

    ids = [str(i) for i in range(1, 13)]
    values = [("a", "x"), ("a", "y"), ("b", "x"), ("b", "y")] * 3
    quotas = [Quota("f", "a", 0, 4), Quota("f", "b", 0, 4), Quota("g", "x", 0, 4), Quota("g", "y", 0, 4)]
    problem = Problem(ids, ["f", "g"], values, quotas, 4, [None] * 12)
    for seed in ("s1", "s2", "s3"):
        listed = draw_reserves(problem, ["1", "2", "3", "4"], seed, 2)
        assert len(listed) == 8
        assert all(values[int(m) - 1] == values[int(holder) - 1] for m, holder, _ in listed)


def test_a_dropout_is_filled_by_their_next_waiting_reserve(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed", reserves_per_seat=2)
    gone = sel.panel[0]
    mine = [r["member"] for r in waiting_reserves(engine, panel_id) if r["reserve_for"] == gone]
    assert len(mine) == 2
    withdraw(engine, int(mine[0]))  # the first in line has left the pool: skipped
    filled = replace_member(engine, panel_id, int(gone))
    assert (str(filled.member), filled.reserve_rank, filled.reserve_for) == (mine[1], 2, gone)
    holding = [s["member"] for s in panel_seats(engine, panel_id) if s["role"] in ("seated", "replacement")]
    assert len(holding) == 6 and gone not in holding and str(filled.member) in holding
    assert quotas_met(pool_problem(engine, QUOTAS, 6), holding) == []
    result = verify_panel(engine, panel_id)
    assert result.ok and any(f"reserve {filled.member} (number 2 for member {gone})" in n for n in result.notes)
    with Session(engine) as s:
        entry = [e for e in audit.entries(s) if e.action == "panel.replace"][-1]
    assert json.loads(entry.details)["dropped"] == int(gone)


def test_verify_finds_a_changed_reserve_list(engine):
    fill(engine, 30)
    panel_id, sel = draw_panel(engine, QUOTAS, 6, "seed")
    with Session(engine) as s:
        s.execute(text("UPDATE panel_seat SET rank = rank + 1 WHERE role = 'reserve'"))
        s.commit()
    result = verify_panel(engine, panel_id)
    assert not result.ok and "reserve list differs" in result.differences[0]


def test_a_replacement_lottery_that_draws_a_waiting_reserve_takes_it_off_the_list(engine):
    quotas = [Quota("sex", "mies", 3, 3), Quota("sex", "nainen", 3, 3)]
    fill(engine, 16)
    panel_id, sel = draw_panel(engine, quotas, 6, "seed", reserves_per_seat=5)
    reserves = {s["member"] for s in waiting_reserves(engine, panel_id)}
    assert len(reserves) == 10  # everyone not drawn waits in line
    new = replace_member(engine, panel_id, int(sel.panel[0]), redraw=True)
    assert new.reserve_rank is None and str(new.member) in reserves
    seats = panel_seats(engine, panel_id)
    assert [s["role"] for s in seats if s["member"] == str(new.member)] == ["replacement"]
    assert len(waiting_reserves(engine, panel_id)) == 9
    result = verify_panel(engine, panel_id)
    assert result.ok and any(f"replacement {new.member} " in n for n in result.notes)
    again = replace_member(engine, panel_id, new.member, redraw=True)  # a replacement who drops out, again
    assert again.member != new.member and verify_panel(engine, panel_id).ok


def test_a_reserve_whose_details_changed_since_the_draw_is_passed_over_if_quotas_would_break(engine):
    quotas = [Quota("sex", "mies", 3, 3), Quota("sex", "nainen", 3, 3)]
    fill(engine, 20)
    panel_id, sel = draw_panel(engine, quotas, 6, "seed", reserves_per_seat=2)
    gone = sel.panel[0]
    group, _ = groups_of(engine, quotas)
    mine = [r["member"] for r in waiting_reserves(engine, panel_id) if r["reserve_for"] == gone]
    other_sex = "1" if group[gone] == ("nainen",) else "2"
    update_member(engine, int(mine[0]), {"sex": other_sex})  # corrected in the register after the draw
    filled = replace_member(engine, panel_id, int(gone))
    assert (str(filled.member), filled.reserve_rank) == (mine[1], 2)
    holding = [s["member"] for s in panel_seats(engine, panel_id) if s["role"] in ("seated", "replacement")]
    assert quotas_met(pool_problem(engine, quotas, 6), holding) == []


def test_a_stopped_draw_records_nothing(engine):
    from pool.errors import Cancelled
    from sampling.panels import list_panels

    fill(engine, 30)
    with pytest.raises(Cancelled, match="nothing was recorded"):
        draw_panel(engine, QUOTAS, 6, "seed", cancelled=lambda: True)
    assert list_panels(engine) == []
    with Session(engine) as s:
        assert s.execute(text("SELECT count(*) FROM panel_seat")).scalar_one() == 0


def test_a_draw_stopped_while_the_lottery_is_written_records_nothing(engine, monkeypatch):
    """Progress reaches the app while panels are peeled off, with the time left, and a
    stop asked for then ends the draw at the next report with nothing recorded."""
    import sampling.leximin
    from pool.errors import Cancelled
    from sampling.panels import list_panels

    monkeypatch.setattr(sampling.leximin, "PROGRESS_EVERY", 0.0)  # every step reports
    fill(engine, 30)
    heard: list[tuple[float, str]] = []
    panel_id, _sel = draw_panel(engine, QUOTAS, 6, "seed", progress=lambda f, m: heard.append((f, m)))
    peeling = [(f, m) for f, m in heard if "of about" in m]
    assert len(peeling) >= 3 and any("left" in m for _f, m in peeling)
    fractions = [f for f, _m in heard]
    assert fractions == sorted(fractions) and 0.5 <= peeling[0][0] and peeling[-1][0] <= 0.95
    reports: list[str] = []
    with pytest.raises(Cancelled, match="nothing was recorded"):
        draw_panel(engine, QUOTAS, 6, "other seed", progress=lambda f, m: reports.append(m),
                   cancelled=lambda: sum("of about" in m for m in reports) >= 2)
    assert sum("of about" in m for m in reports) == 2  # stopped mid-way through the peeling
    assert [p["id"] for p in list_panels(engine)] == [panel_id]


def test_a_stopped_draw_is_told_in_the_officials_language(engine, finnish):
    """The stop message is one whole sentence in Finnish, no English word put into it."""
    from pool.errors import Cancelled

    fill(engine, 30)
    with pytest.raises(Cancelled) as stopped:
        draw_panel(engine, QUOTAS, 6, "seed", cancelled=lambda: True)
    assert str(stopped.value) == "Arvonta keskeytettiin; mitään ei kirjattu."
