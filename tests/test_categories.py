"""One categoriser: stage 1, quotas from an extract, the draw and the report put every
person in the same category, also at an age band's edge."""
import datetime as dt
from collections import Counter

import pandas as pd
from sqlmodel import Session, select

from pool import codes
from pool.extract import import_extract
from pool.members import register_by_code
from pool.models import Invitation
from sampling.categories import NO_VALUE, SEX_LABEL, Scheme, band_labels, categorise
from sampling.invitations import draw_invitations
from sampling.margins import count_margins
from sampling.panels import pool_problem
from sampling.problem import Quota
from sampling.targets import margins_from_extract
from tests.conftest import people, write_rows

BANDS = (0, 30, 45, 65, 75)
LABELS = [label for _, _, label in band_labels(BANDS)]
DAY = dt.date(2027, 6, 30)  # people born 1 Jan - 29 Jun: exact age one above the 1 July rule's


def _exact_age(yyyymmdd: str) -> int:
    b = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:]))
    return DAY.year - b.year - ((DAY.month, DAY.day) < (b.month, b.day))


def _band(age: int) -> str:
    return next(label for a, b, label in band_labels(BANDS) if age >= a and (b is None or age <= b))


def test_every_stage_puts_a_person_at_a_band_edge_in_the_same_band(engine, tmp_path):
    rows = people(400, seed=11)
    rows = [r for r in rows if r[13] != "1"]  # the living: every stage counts only them
    edge = [r for r in rows if _band(_exact_age(r[9])) != _band(DAY.year - int(r[9][:4]) - 1)]
    assert edge, "the data must hold people whose band differs by rule, or this test proves nothing"
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=30))
    draw = draw_invitations(engine, report.extract_id, 150, "s", strata=("age",), age_bands=BANDS, min_age=0,
                            round_name="r", day=DAY)
    stage1 = Counter({a.stratum[0]: a.population for a in draw.allocations})
    quotas_from = margins_from_extract(engine, report.extract_id, ["age"], age_bands=BANDS, day=DAY)["age"]
    with Session(engine) as s:
        recorded = count_margins(s, ["age"], {"age": LABELS}, DAY, "r")
        invited_codes = [i.response_code for i in s.exec(select(Invitation).where(Invitation.round == "r"))]
    assert stage1 == quotas_from == Counter({k.split("\t")[1]: n for k, n in recorded["counts"]["population"].items()})
    for n, code in enumerate(invited_codes):
        register_by_code(engine, codes.display(code), {"email": f"v{n}@example.org"}, consent_version="v1")
    problem = pool_problem(engine, [Quota("age", label, 0, 400) for label in LABELS], 1, day=DAY)
    volunteers = Counter(v[0] for v in problem.values)
    assert volunteers == Counter({k.split("\t")[1]: n for k, n in recorded["counts"]["invited"].items()})
    assert volunteers == Counter({a.stratum[0]: a.drawn for a in draw.allocations if a.drawn})


def test_quotas_spelled_by_hand_are_matched_in_any_spelling():
    people_ = pd.DataFrame({"birth_year": [1990, 1950, None], "sex": [1, 2, None], "mother_tongue": ["fi", "ru", "sv"],
                            "municipality": ["091", "179", "999"], "education": [None, None, None],
                            "extra": [{"asuu": "vuokra"}, None, {"asuu": "omistus"}]})
    labels = categorise(people_, ["ikä", "sukupuoli", "kieli", "kunta", "asuu"], dt.date(2026, 12, 1),
                        Scheme.from_values({"ikä": ["18-39", "40+"], "sukupuoli": ["male", "female"],
                                            "kieli": ["fi", "sv", "other"], "kunta": ["Helsingfors", "muut"],
                                            "asuu": ["Vuokra", "omistus"]}))
    assert labels.to_dict("list") == {"ikä": ["18-39", "40+", NO_VALUE], "sukupuoli": ["male", "female", NO_VALUE],
                                      "kieli": ["fi", "other", "sv"], "kunta": ["Helsingfors", "muut", "muut"],
                                      "asuu": ["Vuokra", NO_VALUE, "omistus"]}


def test_workspace_scheme_names_the_groups_and_the_one_sex_coding():
    frame = pd.DataFrame({"birth_year": [2000], "sex": [2], "mother_tongue": ["et"], "municipality": ["410"]})
    labels = categorise(frame, ["age", "sex", "language", "municipality"], dt.date(2026, 12, 1),
                        Scheme((15, 30), {"410": "muut", "179": "Jyväskylä"}))
    assert labels.iloc[0].tolist() == ["15-29", SEX_LABEL[2], "muu", "muut"]


def test_sami_speakers_form_their_own_language_group_at_every_stage(engine, tmp_path):
    from pool.members import add_member

    rows = [r for r in people(300, seed=5, county="Lappi") if r[13] != "1"]
    for r, code in zip(rows[:30], ["se", "smn", "SMS"] * 10):  # the register's codes, any case
        r[8], r[11] = "148", code  # Inari
    report = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=30))
    assert not [f for f in report.faults if f.field == "mother_tongue"]
    languages = margins_from_extract(engine, report.extract_id, ["language"], day=DAY)["language"]
    assert languages["saame"] >= 30 and "muu" not in languages or languages["muu"] < len(rows) - 30
    draw = draw_invitations(engine, report.extract_id, 60, "s", strata=("language",), min_age=0, round_name="r",
                            day=DAY)
    assert ("saame",) in {a.stratum for a in draw.allocations}
    scheme_default = Scheme()
    frame = pd.DataFrame({"birth_year": [1980] * 5, "sex": [1] * 5, "mother_tongue": ["smn", "sms", "se", "ru", "fi"],
                          "municipality": ["148"] * 5, "education": [None] * 5, "extra": [None] * 5})
    assert list(categorise(frame, ["language"], DAY, scheme_default)["language"]) == [
        "saame", "saame", "saame", "muu", "fi"]
    grouped = Scheme.from_values({"kieli": ["fi", "sv", "saame", "muu"]})
    assert list(categorise(frame, ["kieli"], DAY, grouped)["kieli"]) == ["saame", "saame", "saame", "muu", "fi"]
    older = Scheme.from_values({"language": ["fi", "sv", "muu"]})  # a quota set from before: Sámi is "muu" there
    assert list(categorise(frame, ["language"], DAY, older)["language"]) == ["muu", "muu", "muu", "muu", "fi"]
    member = add_member(engine, {"first_names": "Áile", "surname": "Testi", "birth_year": "1980", "sex": "2",
                                 "mother_tongue": "SMN", "municipality": "148"}, consent_version="v1")
    problem = pool_problem(engine, [Quota("language", v, 0, 5) for v in ("fi", "sv", "saame", "muu")], 1, day=DAY)
    assert dict(zip(problem.ids, problem.values))[str(member)] == ("saame",)


def test_a_mother_tongue_must_be_a_language_code(engine):
    import pytest

    from pool.errors import OtosError
    from pool.members import add_member

    with pytest.raises(OtosError, match="mother_tongue is not a language code"):
        add_member(engine, {"first_names": "A", "surname": "B", "mother_tongue": "xq"}, consent_version="v1")
