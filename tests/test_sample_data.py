"""The demo generator is realistic enough to test and demo on, and the demo builds."""
import collections
import datetime as dt
import json

import pytest

from pool import hetu
from pool.reference import find_county, municipalities
from sample_data.demo import build_demo
from tests.conftest import TODAY, people
from tui.cli import main


@pytest.fixture(scope="module")
def keski_suomi():
    return people(6000, seed=11)


def test_people_live_in_the_county_in_proportion_to_municipality_size(keski_suomi):
    munis = {m.code: m for m in municipalities().values() if m.county == "Keski-Suomen hyvinvointialue"}
    by_muni = collections.Counter(r[8] for r in keski_suomi)
    assert set(by_muni) <= set(munis) and len(by_muni) >= 18
    total = sum(m.population for m in munis.values())
    jyvaskyla = by_muni["179"] / len(keski_suomi)
    assert abs(jyvaskyla - munis["179"].population / total) < 0.04  # about half the county


def test_identity_codes_are_valid_unique_and_agree_with_birth_date_and_sex(keski_suomi):
    codes = [r[0] for r in keski_suomi]
    assert len(set(codes)) == len(codes)
    for r in keski_suomi:
        assert hetu.problem(r[0]) is None
        assert r[0][:6] == dt.datetime.strptime(r[9], "%Y%m%d").strftime("%d%m%y")
        if r[10]:
            assert int(r[0][7:10]) % 2 == (1 if r[10] == "1" else 0)


def test_ages_and_languages_follow_the_shipped_margins(keski_suomi):
    ages = [(TODAY - dt.datetime.strptime(r[9], "%Y%m%d").date()).days // 365 for r in keski_suomi]
    assert min(ages) >= 15 and max(ages) <= 100
    langs = collections.Counter(r[11] for r in keski_suomi)
    assert 0.91 < langs["fi"] / len(keski_suomi) < 0.97  # Keski-Suomi: 94.0 % Finnish
    assert langs["sv"] / len(keski_suomi) < 0.01


def test_postal_codes_belong_to_one_municipality_and_post_office(keski_suomi):
    seen = {}
    for r in keski_suomi:
        if r[5]:
            assert seen.setdefault(r[5], (r[8], r[6])) == (r[8], r[6])
            assert r[6] == municipalities()[r[8]].name_fi.upper()


def test_postal_codes_lie_in_the_region_s_postal_areas_and_centres_have_their_own():
    from sample_data.generator import MAIN_POSTAL_CODES, POSTAL_AREAS, _postal_codes

    munis = municipalities()
    codes = _postal_codes(list(munis.values()))
    every = [c for cs in codes.values() for c in cs]
    assert len(every) == len(set(every))  # no code in two municipalities
    for code, cs in codes.items():
        assert cs and all(len(c) == 5 and c.isdigit() for c in cs)
        if code in MAIN_POSTAL_CODES:
            assert cs[0] == MAIN_POSTAL_CODES[code]
        else:
            assert all(c[:2] in POSTAL_AREAS[munis[code].region].split() for c in cs), (code, cs)
    assert codes["698"][0] == "96100" and all(c.startswith("9") for m in munis.values() if m.region == "Lappi"
                                               for c in codes[m.code])


def test_demo_education_fits_the_age():
    import random

    from sample_data.demo import education

    rnd = random.Random(1)
    assert {education(17, rnd) for _ in range(200)} == {"perusaste"}
    assert "ylempi korkea-aste" not in {education(22, rnd) for _ in range(200)}
    assert {education(50, rnd) for _ in range(400)} == {"perusaste", "toinen aste", "alempi korkea-aste",
                                                         "ylempi korkea-aste"}


def test_dwellings_are_shared_and_rare_register_cases_occur(keski_suomi):
    dwellings = collections.defaultdict(set)
    for r in keski_suomi:
        if r[14] and r[3]:  # a protected person's address may be missing
            dwellings[r[14]].add(r[3])
    sizes = collections.Counter(len(d) for d in dwellings.values())
    assert sizes[1] == len(dwellings)  # one address per dwelling
    shared = collections.Counter(r[14] for r in keski_suomi if r[14])
    assert sum(1 for n in shared.values() if n > 1) > 300
    assert sum(r[12] == "1" for r in keski_suomi) >= 5
    assert sum(r[13] == "1" for r in keski_suomi) >= 3


def test_bilingual_county_gets_swedish_speakers_and_swedish_street_names():
    rows = people(3000, seed=5, county="Keski-Pohjanmaa")
    kokkola = [r for r in rows if r[8] == "272"]
    assert municipalities()["272"].bilingual and kokkola
    sv = [r for r in kokkola if r[11] == "sv"]
    assert len(sv) / len(kokkola) > 0.05
    assert all(r[4] and r[7] == "KARLEBY" for r in kokkola if r[3])


def test_unknown_county_is_a_clear_message():
    from pool.errors import OtosError

    with pytest.raises(OtosError, match="Known counties"):
        find_county("Atlantis")


def test_demo_workspace_has_an_extract_invitations_and_volunteers(sqlite_engine):
    made = build_demo(sqlite_engine, rows=3000, invitations=1200, seed=3)
    from pool.members import count_members, list_members

    assert made["people"] == 3000 and made["invitations"] == 1200
    assert made["volunteers"] == made["answered"] == count_members(sqlite_engine) > 20
    m = list_members(sqlite_engine, limit=1)[0]
    assert m.source == "invitation" and m.consent_version and m.municipality and json.loads(m.extra)


def test_otos_demo_builds_once_then_reopens(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OTOS_DATABASE_URL", raising=False)
    db = str(tmp_path / "demo.db")
    assert main(["--db", db, "demo", "--rows", "1500", "--no-open"]) == 0
    assert "volunteers joined the pool" in capsys.readouterr().err
    assert main(["--db", db, "demo", "--no-open"]) == 0
    assert "existing demo workspace" in capsys.readouterr().err
    assert main(["--db", db, "demo", "--rows", "1200", "--fresh", "--no-open"]) == 0
    main(["--db", db, "extract", "list", "--json"])
    [e] = json.loads(capsys.readouterr().out)
    assert e["rows"] == 1200
    example = tmp_path / "otos-demo-mielipiteet"  # the demo's conversation for the Opinions screen
    assert sorted(p.name for p in example.iterdir()) == ["participants.csv", "population.csv", "statements.csv",
                                                         "votes.csv"]


def test_the_demo_conversation_has_groups_strata_and_population(sqlite_engine, tmp_path):
    from opinions.analysis import analyze
    from opinions.data import read_votes_csv
    from opinions.report import strata_rows
    from opinions.strata import Strata, read_participants, read_population
    from pool.members import count_members
    from sample_data.demo import STATEMENTS, write_demo_votes

    build_demo(sqlite_engine, rows=2000, invitations=900, seed=4)
    folder = write_demo_votes(sqlite_engine, tmp_path / "votes")
    conv = read_votes_csv(folder / "votes.csv", folder / "statements.csv")
    assert len(conv.statements) == len(STATEMENTS) and len(conv.participants) == count_members(sqlite_engine) + 25
    a = analyze(conv, "demo", restarts=0)
    assert a.k >= 2 and min(a.sizes()) >= 3
    own, members = read_participants(folder / "participants.csv")
    population = read_population(folder / "population.csv")
    assert not members and set(population["age"]) == {"15-29", "30-64", "65+"}
    assert abs(sum(population["age"].values()) - 1) < 1e-9
    comparison, weighted = strata_rows(a, Strata(own, population))
    assert {r[0] for r in comparison} == {"role", "age"} and len(weighted) == len(STATEMENTS)
