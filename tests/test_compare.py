"""Three audiences, one set of statements: planted differences are found, audiences drawn
alike are (almost never) told apart, statements match across small wording changes and by
a mapping file, and every bad input gets a message."""
import json

import numpy as np
import pytest

from opinions.compare import Audience, chi2_sf, compare, holm, normalise, rake, read_mapping
from opinions.data import read_polis_export
from pool.errors import OtosError, RejectedFile
from tests.test_opinions import write_polis
from tui.cli import main

STATEMENTS = 20
TEXTS = {j: f"Väite numero {j}: palvelut lähelle" for j in range(STATEMENTS)}


def votes_for(agree: np.ndarray, people: int, rng, missing: float = 0.1) -> np.ndarray:
    """People x statements: agree with probability agree[j], else disagree or pass."""
    u = rng.random((people, len(agree)))
    votes = np.where(u < agree, 1.0, np.where(u < agree + (1 - agree) * 0.8, -1.0, 0.0))
    votes[rng.random(votes.shape) < missing] = np.nan
    votes[:, :8] = np.where(np.isnan(votes[:, :8]), 0.0, votes[:, :8])  # everyone votes on a few
    return votes


def audiences(tmp_path, agree_by_audience, people=(300, 200, 150), seed=0, texts=None):
    rng = np.random.default_rng(seed)
    folders = []
    for i, (agree, n) in enumerate(zip(agree_by_audience, people)):
        folders.append(write_polis(tmp_path / f"a{i}", votes_for(np.asarray(agree), n, rng),
                                   texts=(texts[i] if texts else TEXTS)))
    return folders


def load(folders, labels=("Asukkaat", "Henkilöstö", "Paneeli")):
    return [Audience(label, read_polis_export(f)) for f, label in zip(folders, labels)]


def test_planted_differences_are_found_and_ranked_first(tmp_path):
    base = np.full(STATEMENTS, 0.5)
    base[[10, 11]] = 0.8  # everyone agrees: common ground
    staff = base.copy()
    staff[[3, 7]] = [0.9, 0.15]  # staff differ on two statements
    result = compare(load(audiences(tmp_path, [base, staff, base])))
    flagged = {s.ids["Asukkaat"] for s in result.differences()}
    assert flagged == {"3", "7"}
    assert {s.ids["Asukkaat"] for s in result.statements[:2]} == {"3", "7"}  # largest gap first
    assert result.statements[0].gap >= result.statements[-1].gap
    assert {s.ids["Asukkaat"] for s in result.common_ground()} == {"10", "11"}
    one = result.statements[0].shares["Henkilöstö"]
    assert one.n > 150 and one.low < one.agree < one.high and abs(one.agree + one.disagree + one.passed - 1) < 1e-9


def test_audiences_drawn_alike_are_rarely_told_apart(tmp_path):
    """Over 40 replicates of three audiences from the same distribution, a statement is
    flagged in at most the stated 5 % of them (with a little room for chance)."""
    agree = np.linspace(0.2, 0.8, STATEMENTS)
    any_flag = 0
    for r in range(40):
        result = compare(load(audiences(tmp_path / f"r{r}", [agree] * 3, people=(120, 80, 60), seed=100 + r)))
        any_flag += bool(result.differences())
    assert any_flag <= 5


def test_statements_match_across_case_punctuation_and_space(tmp_path):
    agree = np.full(STATEMENTS, 0.5)
    other = {j: "  " + TEXTS[j].upper().replace(":", " –") + "!  " for j in range(STATEMENTS)}
    other[19] = "Aivan eri väite"
    folders = audiences(tmp_path, [agree, agree], people=(50, 50), texts=[TEXTS, other])
    result = compare(load(folders, ("A", "B")))
    assert len(result.statements) == STATEMENTS - 1
    assert all(s.ids["A"] == s.ids["B"] for s in result.statements)
    assert result.unmatched == {"A": 1, "B": 1}
    assert normalise("Palvelut  LÄHELLE!") == normalise("palvelut, lähelle")


def test_a_mapping_file_pairs_statements_whose_wording_differs(tmp_path):
    agree = np.full(STATEMENTS, 0.5)
    other = {j: f"Toisin sanottu {j}" for j in range(STATEMENTS)}
    folders = audiences(tmp_path, [agree, agree], people=(50, 50), texts=[TEXTS, other])
    auds = load(folders, ("A", "B"))
    mapping = tmp_path / "map.csv"
    mapping.write_text("A;B\n0;5\n1;\n2;2\n")
    rows = read_mapping(mapping, auds)
    assert rows == [{"A": "0", "B": "5"}, {"A": "1"}, {"A": "2", "B": "2"}]
    result = compare(auds, rows)
    assert sorted(s.ids["B"] for s in result.statements) == ["2", "5"]
    assert result.unmatched == {"A": 1}


@pytest.mark.parametrize("content, expected", [
    ("A;C\n0;1\n", "no column for audience 'B'"),
    ("A;B\n0;99\n", "line 2, column 2 (B): there is no statement 99"),
    ("A;B\n0;1\n2;1\n", "line 3, column 2 (B): statement 1 is already on line 2"),
    ("A;B\n0;1;2\n", "line 2: 3 fields where the header has 2"),
    ("A;B\n", "no statement is mapped"),
])
def test_a_bad_mapping_file_is_refused_with_where_and_what(tmp_path, content, expected):
    folders = audiences(tmp_path, [np.full(STATEMENTS, 0.5)] * 2, people=(30, 30))
    mapping = tmp_path / "map.csv"
    mapping.write_text(content)
    with pytest.raises(RejectedFile, match=expected.replace("(", r"\(").replace(")", r"\)")):
        read_mapping(mapping, load(folders, ("A", "B")))


def test_a_mapping_that_is_a_folder_or_missing_is_named_as_such(tmp_path):
    auds = load(audiences(tmp_path, [np.full(STATEMENTS, 0.5)] * 2, people=(30, 30)), ("A", "B"))
    with pytest.raises(RejectedFile, match="is a folder; give a file name"):
        read_mapping(tmp_path, auds)
    with pytest.raises(RejectedFile, match="the statement mapping file does not exist"):
        read_mapping(tmp_path / "nowhere.csv", auds)


def test_weighting_an_audience_to_the_population(tmp_path):
    """Young people agree, old disagree; the panel over-represents the young. Raked to a
    50/50 population the agree share falls to about one half."""
    rng = np.random.default_rng(3)
    young = votes_for(np.full(STATEMENTS, 0.9), 90, rng, missing=0)
    old = votes_for(np.full(STATEMENTS, 0.1), 30, rng, missing=0)
    folder = write_polis(tmp_path / "p", np.vstack([young, old]), texts=TEXTS)
    conv = read_polis_export(folder)
    of = {str(i): {"age": "18-39" if i < 90 else "65+"} for i in range(120)}
    weights, features = rake(conv, of, {"age": {"18-39": 0.5, "65+": 0.5}})
    assert features == ["age"] and weights[:90].sum() == pytest.approx(weights[90:].sum())
    plain = Audience("P", conv)
    weighted = Audience("W", conv, weights, features)
    result = compare([plain, weighted])
    s = result.statements[0]
    assert s.shares["P"].agree > 0.7 and abs(s.shares["W"].agree - 0.5) < 0.1
    assert s.shares["W"].effective_n < s.shares["P"].effective_n  # weighting costs precision
    with pytest.raises(OtosError, match="Nobody in .* stands for age = 40-64"):
        rake(conv, of, {"age": {"18-39": 0.4, "40-64": 0.2, "65+": 0.4}})


def test_chi_square_tail_and_holm_by_hand():
    assert chi2_sf(3.841459, 1) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf(5.991465, 2) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf(7.814728, 3) == pytest.approx(0.05, abs=1e-6)
    assert chi2_sf(0, 2) == 1.0
    assert holm([0.01, 0.04, 0.03, 0.5]) == [True, False, False, False]  # 0.01 <= 0.05/4; 0.03 > 0.05/3
    assert holm([0.001, 0.012, 0.02]) == [True, True, True]


def test_cli_compare_prints_json_and_writes_the_pdf(tmp_path, capsys):
    base = np.full(STATEMENTS, 0.5)
    staff = base.copy()
    staff[4] = 0.95
    folders = audiences(tmp_path, [base, staff, base])
    args = ["opinions", "compare"]
    for f, label in zip(folders, ("Asukkaat", "Henkilöstö", "Paneeli")):
        args += ["--polis", str(f), "--label", label]
    assert main(args + ["--json", "--out", str(tmp_path / "vertailu.pdf")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["audiences"] == ["Asukkaat", "Henkilöstö", "Paneeli"]
    first = out["statements"][0]
    assert first["text"] == TEXTS[4] and first["significant"] is True
    assert set(first["audiences"]) == set(out["audiences"])
    assert set(first["audiences"]["Paneeli"]) >= {"agree", "disagree", "pass", "n"}
    gaps = [s["gap"] for s in out["statements"]]
    assert gaps == sorted(gaps, reverse=True)
    assert (tmp_path / "vertailu.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "vertailu.csv").stat().st_mode & 0o077 == 0
    assert main(args) == 0
    assert TEXTS[4] in capsys.readouterr().out


@pytest.mark.parametrize("extra, expected", [
    (["--label", "X"], "one --label for each --polis"),
    (["--weight", "Nobody"], "none of the labels"),
    (["--population", "p.csv"], "go with --weight"),
    (["--weight", "A"], "needs --participants"),
    (["--weight", "Nobody", "--participants", "p.csv", "--population", "p.csv"], "none of the labels"),
])
def test_cli_compare_refuses_bad_options(tmp_path, capsys, extra, expected):
    folders = audiences(tmp_path, [np.full(STATEMENTS, 0.5)] * 2, people=(30, 30))
    args = ["opinions", "compare", "--polis", str(folders[0]), "--label", "A", "--polis", str(folders[1]),
            "--label", "B"]
    assert main(args + extra) == 2
    assert expected in capsys.readouterr().err


def test_cli_compare_refuses_one_audience_and_duplicate_labels(tmp_path, capsys):
    folders = audiences(tmp_path, [np.full(STATEMENTS, 0.5)] * 2, people=(30, 30))
    assert main(["opinions", "compare", "--polis", str(folders[0]), "--label", "A"]) == 2
    assert "at least two audiences" in capsys.readouterr().err
    assert main(["opinions", "compare", "--polis", str(folders[0]), "--label", "A", "--polis", str(folders[1]),
                 "--label", " A "]) == 2
    assert "given twice" in capsys.readouterr().err
