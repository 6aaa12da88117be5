"""Opinion groups: planted groups are found, the formulas give hand-computed values, bad
input is refused with where and what, and the CLI prints what the issue asks for."""
import json
import math
import re

import numpy as np
import pytest

from opinions import analysis as A
from opinions.data import Conversation, read_polis_export, read_votes_csv
from pool.errors import OtosError, RejectedFile
from tui.cli import main


def planted(groups=(20, 15, 10), statements=24, noise=0.05, missing=0.2, seed=1):
    """A vote matrix where group g agrees with statements j % len(groups) == g and
    disagrees with the rest, with a little noise and some blanks."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(len(groups)), groups)
    votes = np.where((np.arange(statements)[None, :] % len(groups)) == labels[:, None], 1.0, -1.0)
    flip = rng.random(votes.shape) < noise
    votes[flip] = -votes[flip]
    votes[rng.random(votes.shape) < missing] = np.nan
    votes[:, 0] = np.where(labels == 0, 1.0, -1.0)  # everyone votes on a few, so nobody falls below 7
    return labels, votes


def write_polis(folder, votes, ids=None, moderated=(), texts=None, groups=None):
    folder.mkdir(parents=True, exist_ok=True)
    n, m = votes.shape
    ids = ids or [str(i) for i in range(n)]
    lines = ["participant,group-id,n-comments,n-votes,n-agree,n-disagree," + ",".join(str(j) for j in range(m))]
    for i in range(n):
        cells = ["" if math.isnan(v) else str(int(v)) for v in votes[i]]
        g = "" if groups is None else str(groups[i])
        lines.append(f"{ids[i]},{g},0,{sum(c != '' for c in cells)},0,0," + ",".join(cells))
    (folder / "participants-votes.csv").write_text("\n".join(lines) + "\n")
    rows = ["timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body"]
    for j in range(m):
        body = (texts or {}).get(j, f"Väite {j}")
        rows.append(f"0,x,{j},0,0,0,{-1 if j in moderated else 1},\"{body}\"")
    (folder / "comments.csv").write_text("\n".join(rows) + "\n")
    return folder


def test_planted_groups_are_recovered_exactly(tmp_path):
    labels, votes = planted()
    conv = read_polis_export(write_polis(tmp_path / "c", votes))
    a = A.analyze(conv, "s", restarts=3)
    assert a.k == 3 and len(a.clustered) == len(labels)
    assert A.adjusted_rand(a.labels, labels) == 1.0
    assert a.sizes() == [20, 15, 10]  # groups numbered largest first
    # most single runs find the planted groups too; every half of the statements does
    assert a.stability["runs"] == A.RUNS - 1 and a.stability["restart_ari_mean"] > 0.9
    assert a.stability["resamples"] == 3 and a.stability["resample_ari_min"] == 1.0
    # each group is represented by agreeing with its own statements
    for g in range(3):
        reps = a.representative(g, limit=None)
        assert reps and all(int(sid) % 3 == g for sid, side, _ in reps if side == "agree")


def test_the_seed_fixes_the_result_and_row_order_does_not_matter(tmp_path):
    labels, votes = planted(noise=0.2, seed=3)
    conv = read_polis_export(write_polis(tmp_path / "a", votes))
    order = np.random.default_rng(0).permutation(len(labels))
    shuffled = read_polis_export(write_polis(tmp_path / "b", votes[order], ids=[str(i) for i in order]))
    one, two, three = (A.analyze(c, "same", restarts=0) for c in (conv, conv, shuffled))
    assert one.groups() == two.groups() == three.groups()


def test_polis_starts_from_the_first_distinct_points_in_order():
    points = np.array([[3.0, 0], [3.0, 0], [1.0, 1], [0.0, 0], [1.0, 1], [5.0, 5]])
    assert A.first_distinct(points, 3).tolist() == [[3, 0], [1, 1], [0, 0]]


def test_polis_tops_the_clustered_up_to_fifteen_by_votes_cast():
    cast = np.array([9, 3, 7, 0, 5, 5, 2] + [1] * 10)
    chosen = A.taking_part(cast, 7)
    # 2 qualify; 13 more by votes cast, ties in order; nobody who cast no vote
    assert chosen.sum() == 15 and chosen[[0, 2, 1, 4, 5, 6]].all() and not chosen[3]
    assert A.taking_part(np.array([7] * 20 + [1]), 7).sum() == 20  # enough already: no top-up


def test_a_small_group_beside_a_large_one_is_found(tmp_path):
    """As Polis finds a group of 8 beside one of 100 (bg2050)."""
    labels, votes = planted(groups=(100, 8), statements=30, noise=0.1, seed=11)
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=0)
    assert a.sizes() == [100, 8] and A.adjusted_rand(a.labels, labels) == 1.0


def test_the_groups_are_the_run_that_agrees_best_with_the_others():
    rng = np.random.default_rng(4)
    points = np.vstack([rng.normal(c, 0.6, (40, 2)) for c in ((0, 0), (4, 0), (2, 3))])
    labels, agreement = A.cluster(points, A.rng_for("x"), 3, runs=9)
    runs = [A.polis_run(points, 3)] + [A.polis_run(points, 3, r) for r in [A.rng_for("x")] for _ in range(8)]
    mean = [np.mean([A.adjusted_rand(r, o) for o in runs]) for r in runs]
    assert A.adjusted_rand(labels, runs[int(np.argmax(mean))]) == 1.0
    assert len(agreement) == 8 and max(mean) >= np.mean(agreement)


def test_no_group_smaller_than_the_minimum(tmp_path):
    labels, votes = planted(groups=(30, 2), seed=5)
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=0, min_group_size=3)
    assert min(a.sizes()) >= 3


def test_moderated_out_statements_are_left_out_of_the_maths(tmp_path):
    labels, votes = planted()
    votes[:, 5] = np.where(labels == 0, -1.0, 1.0)
    conv = read_polis_export(write_polis(tmp_path / "c", votes, moderated=(5,)))
    a = A.analyze(conv, "s", restarts=0)
    assert "5" not in a.statements and len(a.statements) == votes.shape[1] - 1
    assert A.adjusted_rand(a.labels, labels) == 1.0


def test_formulas_give_the_hand_computed_values():
    assert A.agree_probability(3, 8) == pytest.approx(0.4)  # (3 + 1) / (8 + 2)
    assert A.one_proportion_z(0.4, 8) == pytest.approx(-0.63246, abs=1e-5)  # 2 sqrt(10) (0.4 - 0.5)
    # (4/10 - 2/12) / sqrt(6/22 * 16/22 * (1/10 + 1/12))
    assert A.two_proportion_z(3, 8, 1, 10) == pytest.approx(1.22361, abs=1e-5)
    assert A.adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]) == pytest.approx(-0.5)
    assert A.adjusted_rand([0, 0, 1, 1, 2], [5, 5, 7, 7, 1]) == 1.0
    lo, hi = A.wilson(5, 10)
    assert (lo, hi) == (pytest.approx(0.23659, abs=1e-5), pytest.approx(0.76341, abs=1e-5))


def test_group_statistics_consensus_and_divisiveness_by_hand():
    # statement 0: group 0 all agree (5), group 1 all disagree (5); statement 1: everyone agrees
    votes = np.array([[1, 1]] * 5 + [[-1, 1]] * 5, dtype=float)
    labels = np.array([0] * 5 + [1] * 5)
    s = A.group_stats(votes, labels, 2)
    assert s.agree[:, 0].tolist() == [5, 0] and s.disagree[:, 0].tolist() == [0, 5]
    assert s.pa[0, 0] == pytest.approx(6 / 7) and s.pa[1, 0] == pytest.approx(1 / 7)
    assert s.ra[0, 0] == pytest.approx((6 / 7) / (1 / 7))
    d = A.divisiveness(s)
    assert d.gap[0] == pytest.approx(5 / 7) and d.gap[1] == pytest.approx(0.0)
    assert d.se[0] == pytest.approx(math.sqrt(2 * (6 / 7) * (1 / 7) / 7))
    gic = np.prod(s.pa, axis=0)
    assert gic[1] == pytest.approx((6 / 7) ** 2)  # group-informed consensus: product of (a+1)/(n+2)


def test_consensus_and_divisive_lists_on_planted_data(tmp_path):
    labels, votes = planted(groups=(25, 25), statements=12, noise=0.0, missing=0.0)
    votes[:, 11] = 1.0  # everyone agrees
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=0)
    assert [sid for sid, side, _ in a.consensus()] == ["11"]
    divisive = {sid for sid, *_ in a.divisive_statements()}
    assert divisive == {str(j) for j in range(11)}


def test_otos_votes_csv_latest_vote_counts(tmp_path):
    votes = tmp_path / "votes.csv"
    votes.write_text("participant;statement;vote;time\n"
                     "p1;s1;1;2026-03-01T10:00:00\n"
                     "p1;s1;-1;2026-03-01T11:00:00\n"
                     "p1;s2;0;\n"
                     "p2;s1;1;2026-03-01T10:00:00\n"
                     "p2;s2;-1;2026-03-01T10:00:00\n")
    statements = tmp_path / "statements.csv"
    statements.write_text("statement;text;moderated\ns1;Yksi;\ns2;Kaksi;\ns3;Poistettu;1\n")
    conv = read_votes_csv(votes, statements)
    assert conv.participants == ["p1", "p2"] and conv.statements == ["s1", "s2", "s3"]
    assert conv.votes[0, 0] == -1.0 and conv.votes[0, 1] == 0.0 and math.isnan(conv.votes[0, 2])
    assert conv.moderated_out == {"s3"} and conv.texts["s2"] == "Kaksi"
    assert read_votes_csv(votes).texts["s2"] == "Kaksi"  # statements.csv beside the votes is found
    statements.unlink()
    assert not any(read_votes_csv(votes).texts.values())


@pytest.mark.parametrize("content, message", [
    ("participant,group-id,0,1\n1,,1,-1\n2,,1\n", r"line 3: 3 fields where the header has 4"),
    ("participant,group-id,0,1\n1,,1,2\n", r"line 2, column 4 \(statement 1\): the vote is not 1, -1, 0 or empty"),
    ("participant,group-id,0,1\n1,,1,yes\n", r"line 2, column 4"),
    ("participant,group-id,0,1\n", r"there are no participants"),
    ("participant,group-id,0\n1,,1\n2,,-1\n", r"only 1 statement\(s\) can be used"),
    ("", r"is empty"),
    ("who,0,1\n1,1,1\n", r"line 1: there is no participant column"),
    ("participant,group-id,n-votes\n1,0,3\n", r"line 1: there is no statement column"),
    ("participant,group-id,4,5,4\n1,,1,1,1\n", r"line 1, column 5: statement 4 appears twice \(also in column 3\)"),
])
def test_bad_polis_files_are_refused_with_where_and_what(tmp_path, content, message):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "participants-votes.csv").write_text(content)
    with pytest.raises(OtosError, match=message):
        read_polis_export(folder)


def test_a_participant_with_no_votes_is_not_clustered(tmp_path):
    labels, votes = planted()
    votes = np.vstack([votes, np.full((1, votes.shape[1]), np.nan)])
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=0)
    assert str(len(labels)) not in a.groups() and len(a.groups()) == len(labels)


def test_bad_votes_csv_names_line_and_column(tmp_path):
    bad = tmp_path / "votes.csv"
    bad.write_text("participant,statement,vote\np1,s1,1\np1,s2,maybe\n")
    with pytest.raises(RejectedFile, match=r"line 3, column 3 \(statement s2\)"):
        read_votes_csv(bad)
    bad.write_text("participant,vote\np1,1\n")
    with pytest.raises(RejectedFile, match="no statement column"):
        read_votes_csv(bad)


def test_many_weak_statements_do_not_make_clear_groups_look_unstable():
    # 1,000 people each vote on about 4 % of 800 statements; each statement says a little
    # about three planted groups. A bootstrap resample repeats some statements up to six
    # times, and those repeats, not the groups, then lead the PCA (its resamples agreed
    # with the groups at ARI 0.18 here). Halves of the statements have no repeats.
    rng = np.random.default_rng(5)
    n, m = 1000, 800
    truth = rng.choice(3, n)
    lean = rng.normal(0, 2.0, (3, m))
    votes = np.full((n, m), np.nan, np.float32)
    for i in range(n):
        cols = rng.choice(m, max(7, rng.binomial(m, 0.04)), replace=False)
        agree = rng.random(len(cols)) < 1 / (1 + np.exp(-lean[truth[i], cols]))
        votes[i, cols] = np.where(rng.random(len(cols)) < 1 / 6, 0, np.where(agree, 1, -1))
    conv = Conversation([str(i) for i in range(n)], [str(j) for j in range(m)], votes)
    a = A.analyze(conv, "t", restarts=3)
    assert a.k == 3 and A.adjusted_rand(a.labels, truth) > 0.8
    assert a.stability["resample_ari_min"] > 0.5


def test_cli_analyze_json_has_groups_consensus_and_divisive(tmp_path, capsys):
    labels, votes = planted()
    folder = write_polis(tmp_path / "c", votes)
    assert main(["opinions", "analyze", "--polis", str(folder), "--seed", "7", "--json", "--stability", "2"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out["groups"]) == {str(i) for i in range(len(labels))}
    assert A.adjusted_rand([out["groups"][str(i)] for i in range(len(labels))], labels) == 1.0
    assert isinstance(out["consensus"], list) and isinstance(out["divisive"], list) and out["divisive"]
    assert out["stability"]["resamples"] == 2 and out["stability"]["runs"] == A.RUNS - 1
    assert set(out["statements"]) == {str(j) for j in range(votes.shape[1])}  # every statement, every group
    one = out["statements"]["3"]["groups"]
    assert len(one) == 3 and all(g["n"] == g["agree"] + g["disagree"] + g["pass"] for g in one)
    assert main(["opinions", "analyze", "--polis", str(folder)]) == 0
    text = capsys.readouterr().out
    assert "3 opinion groups, sizes 20, 15, 10" in text and "Väite" in text


def test_cli_votes_without_statement_texts_says_how_to_give_them(tmp_path, capsys):
    _, votes = planted()
    lines = ["participant;statement;vote"] + [f"p{i};s{j};{int(votes[i, j])}" for i in range(votes.shape[0])
                                               for j in range(votes.shape[1]) if not np.isnan(votes[i, j])]
    (tmp_path / "votes.csv").write_text("\n".join(lines) + "\n")
    assert main(["opinions", "analyze", "--votes", str(tmp_path / "votes.csv")]) == 0
    assert "No statement texts" in capsys.readouterr().err
    (tmp_path / "statements.csv").write_text("statement;text\n" + "".join(f"s{j};Väite {j}\n"
                                                                         for j in range(votes.shape[1])))
    assert main(["opinions", "analyze", "--votes", str(tmp_path / "votes.csv")]) == 0
    out, err = capsys.readouterr()
    assert "No statement texts" not in err and "Väite" in out


def test_cli_bad_input_is_one_message_and_exit_2(tmp_path, capsys):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "participants-votes.csv").write_text("participant,group-id,0,1\n1,,1,2\n")
    assert main(["opinions", "analyze", "--polis", str(folder), "--json"]) == 2
    err = capsys.readouterr().err
    assert "line 2, column 4" in err and "Traceback" not in err
    assert main(["opinions", "analyze", "--polis", str(tmp_path / "nowhere")]) == 2
    assert "no such folder" in capsys.readouterr().err


def test_the_analyze_command_stays_a_lean_process(tmp_path):
    """The benchmark times it as a whole process: no database, UI or PDF libraries load."""
    import subprocess
    import sys

    labels, votes = planted()
    folder = write_polis(tmp_path / "c", votes)
    code = ("import sys; from tui.cli import main; main(['opinions', 'analyze', '--polis', sys.argv[1], '--json']);"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'sqlalchemy', 'sqlmodel', 'pandas', 'textual',"
            " 'reportlab'}), file=sys.stderr)")
    out = subprocess.run([sys.executable, "-c", code, str(folder)], capture_output=True, text=True, check=True)
    assert out.stderr.strip().splitlines()[-1] == "[]"


def test_report_pdf_and_csv_tables(tmp_path, monkeypatch):
    from pypdf import PdfReader

    from tests.conftest import fonts_in

    from opinions.report import write_report
    from opinions.summary import STATEMENT_COLUMNS

    labels, votes = planted()
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=2)
    written = write_report(a, tmp_path / "op.pdf")
    assert [p.name for p in written] == ["op.pdf", "op-statements.csv", "op-groups.csv", "op-consensus.csv",
                                         "op-divisive.csv"]
    text = "\n".join(p.extract_text() for p in PdfReader(str(tmp_path / "op.pdf")).pages)
    assert "Opinion groups" in text and "What sets group C apart (10 people)" in text and "Väite" in text
    assert "3 groups were found (group A: 20, group B: 15, group C: 10)" in " ".join(text.split())
    assert text.index("Appendix: technical terms") < text.index("Silhouette")  # the jargon only in the appendix
    fonts = fonts_in(tmp_path / "op.pdf")  # a print shop's preflight rejects a font that is not embedded
    assert fonts and all(fonts.values()), fonts
    rows = (tmp_path / "op-statements.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].split(";") == STATEMENT_COLUMNS and len(rows) - 1 == len(a.statements) * 3  # every statement x group
    assert all(re.fullmatch(r"-?\d+(,\d+)?", cell) for row in rows[1:] for cell in row.split(";")[1:])  # numbers only
    groups = (tmp_path / "op-groups.csv").read_text(encoding="utf-8-sig").splitlines()[1:]
    assert len(groups) == len(labels)
    assert all(re.fullmatch(r"-?\d+(,\d+)?", cell) for row in groups for cell in row.split(";")[2:])  # 0,62 for Excel
    monkeypatch.setenv("OTOS_CSV_DIALECT", "comma")
    write_report(a, tmp_path / "plain.pdf")
    raw = (tmp_path / "plain-groups.csv").read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and all(
        re.fullmatch(r"-?\d+(\.\d+)?", cell) for row in raw.decode().splitlines()[1:] for cell in row.split(",")[2:])
    with pytest.raises(OtosError, match="must end in .pdf"):
        write_report(a, tmp_path / "op.txt")


def test_strata_comparison_and_post_stratification_by_hand(tmp_path):
    from opinions.strata import Strata, compare, post_stratified

    # statement 0: residents (p0, p1) agree and disagree; staff (p2) agrees -> weighted 0.8 * 0.5 + 0.2 * 1
    # statement 1: only residents voted (both agree) -> weights renormalised, coverage 0.8
    votes = np.array([[1, 1], [-1, 1], [1, np.nan]], dtype=float)
    from opinions.data import Conversation

    conv = Conversation(["p0", "p1", "p2"], ["0", "1"], votes)
    strata = Strata({"p0": {"role": "resident"}, "p1": {"role": "resident"}, "p2": {"role": "staff"}},
                    {"role": {"resident": 0.8, "staff": 0.2}})
    c = compare(conv, strata, "role")
    assert c.values == ["resident", "staff"] and c.participants == [2, 1]
    assert c.n.tolist() == [[2, 2], [1, 0]] and c.agree.tolist() == [[1, 2], [1, 0]]
    share, lo, hi = c.share("agree", 0, 0)
    assert share == 0.5 and (lo, hi) == A.wilson(1, 2)
    assert c.share("agree", 1, 1) is None
    w = post_stratified(c, strata.population["role"])
    assert w[0].agree == pytest.approx(0.6) and w[0].coverage == pytest.approx(1.0)
    assert w[0].raw == pytest.approx(2 / 3)
    assert w[1].agree == pytest.approx(1.0) and w[1].coverage == pytest.approx(0.8)
    with pytest.raises(OtosError, match="no share for 'staff'"):
        post_stratified(c, {"resident": 1.0})


def test_bad_participants_and_population_files(tmp_path):
    from opinions.strata import read_participants, read_population

    p = tmp_path / "p.csv"
    p.write_text("participant;role\n1;resident\n1;staff\n")
    with pytest.raises(RejectedFile, match="line 3: participant 1 appears twice"):
        read_participants(p)
    p.write_text("participant;member\n1;abc\n")
    with pytest.raises(RejectedFile, match="line 2, column 2: the member is not a pool member id"):
        read_participants(p)
    pop = tmp_path / "pop.csv"
    pop.write_text("feature;value;share\nrole;resident;x\n")
    with pytest.raises(RejectedFile, match="line 2, column 3: the share is not a number"):
        read_population(pop)
    pop.write_text("feature;value;share\nrole;resident\n")
    with pytest.raises(RejectedFile, match="line 2: 2 fields where the header has 3"):
        read_population(pop)
    pop.write_text("feature;value;count\nrole;resident;300\nrole;staff;100\n")
    assert read_population(pop) == {"role": {"resident": 0.75, "staff": 0.25}}


def test_participants_linked_to_pool_members_bring_their_strata(sqlite_engine, tmp_path):
    from opinions.strata import from_panel
    from pool.members import add_member
    from sampling.panels import draw_panel
    from sampling.problem import Quota

    for i in range(12):
        add_member(sqlite_engine, {"first_names": f"Etu{i}", "surname": f"Suku{i}", "sex": "1" if i % 2 else "2",
                                   "birth_year": str(1950 + i)}, consent_version="v1")
    panel_id, _ = draw_panel(sqlite_engine, [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)], 6, "s")
    strata = from_panel(sqlite_engine, panel_id, {"a": 1, "b": 2, "c": 99})
    assert strata.of == {"a": {"sex": "nainen"}, "b": {"sex": "mies"}}  # member 99 does not exist: not linked


def test_cli_report_with_strata(tmp_path, capsys):
    labels, votes = planted()
    folder = write_polis(tmp_path / "c", votes)
    parts = tmp_path / "participants.csv"
    parts.write_text("participant;role\n" + "".join(f"{i};{'staff' if i % 4 == 0 else 'resident'}\n"
                                                    for i in range(len(labels))))
    pop = tmp_path / "pop.csv"
    pop.write_text("feature;value;share\nrole;resident;0.9\nrole;staff;0.1\n")
    out = tmp_path / "r.pdf"
    assert main(["opinions", "report", "--polis", str(folder), "--participants", str(parts), "--population", str(pop),
                 "--out", str(out), "--stability", "0"]) == 0
    weighted = (tmp_path / "r-weighted.csv").read_text(encoding="utf-8-sig").splitlines()
    assert len(weighted) == votes.shape[1] + 1 and all(r.startswith("role;") for r in weighted[1:])
    assert main(["opinions", "analyze", "--polis", str(folder), "--population", str(pop)]) == 2
    assert "need --participants" in capsys.readouterr().err


def test_the_quick_vote_parser_agrees_with_the_careful_one(tmp_path):
    from opinions import data

    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "participants-votes.csv").write_text(
        "participant,group-id,0,1,2\n1,,1,-1,\n2,,,0,-1\n3,, 1,0,\n4,,,,\n")  # " 1": spaces, the careful way
    conv = read_polis_export(folder)
    expected = np.array([[1, -1, np.nan], [np.nan, 0, -1], [1, 0, np.nan], [np.nan] * 3])
    assert np.array_equal(conv.votes, expected, equal_nan=True)
    assert data._parse_votes(["1,-1,", ",0,-1"], 3).tolist()[1][1:] == [0.0, -1.0]
    assert data._parse_votes(["1,2,"], 3) is None and data._parse_votes(["-0,1,1"], 3) is None


def test_encodings_a_polis_export_must_be_utf8_a_spreadsheet_file_may_be_windows_1252(tmp_path):
    folder = tmp_path / "c"
    folder.mkdir()
    (folder / "participants-votes.csv").write_bytes("participant,group-id,0,1\n1,,1,-1\n".encode("utf-16"))
    with pytest.raises(RejectedFile, match="not UTF-8 text"):
        read_polis_export(folder)
    votes = tmp_path / "votes.csv"  # saved from a spreadsheet in Windows-1252: read as such
    votes.write_bytes(b"participant;statement;vote\nM\xe4ki;1;1\nM\xe4ki;2;-1\nOja;1;0\nOja;2;1\n")
    assert read_votes_csv(votes).participants == ["Mäki", "Oja"]
    votes.write_bytes(b"")
    with pytest.raises(RejectedFile, match="votes file is empty"):
        read_votes_csv(votes)


def test_when_no_split_meets_the_minimum_group_size_everyone_is_one_group(tmp_path):
    from opinions.summary import text_summary

    labels, votes = planted(groups=(6, 6))
    a = A.analyze(read_polis_export(write_polis(tmp_path / "c", votes)), "s", restarts=0, min_group_size=7)
    assert a.k == 1 and a.sizes() == [12]
    assert any("No split into groups of at least 7 people" in line for line in text_summary(a))


def test_pool_members_bring_age_sex_language_and_municipality_weighted_by_the_extract(sqlite_engine, tmp_path):
    import datetime as dt

    from opinions.strata import from_pool
    from pool.extract import import_extract
    from pool.members import add_member
    from tests.conftest import people, write_rows

    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(300, seed=2)), permit="P", purpose="x",
                   delete_by=dt.date.today() + dt.timedelta(days=30))
    for i, (year, sex, muni) in enumerate([(1950, "2", "179"), (1999, "1", "410"), (1980, "1", "249")]):
        add_member(sqlite_engine, {"first_names": f"E{i}", "surname": "S", "birth_year": str(year), "sex": sex,
                                   "municipality": muni, "mother_tongue": "fi"}, consent_version="v1")
    strata = from_pool(sqlite_engine, {"p1": 1, "p2": 2, "p3": 3, "p9": 99})
    assert set(strata.of) == {"p1", "p2", "p3"}  # member 99 does not exist
    assert strata.of["p1"]["age"] == "75+" and strata.of["p1"]["sex"] == "nainen"
    assert strata.of["p1"]["municipality"] == "Jyväskylä" and strata.of["p2"]["sex"] == "mies"
    assert set(strata.population) == {"age", "sex", "language", "municipality"}
    assert abs(sum(strata.population["age"].values()) - 1) < 1e-9
    for pid, values in strata.of.items():  # every member's stratum can be weighted
        for feature, value in values.items():
            assert value in strata.population[feature]


def test_cli_links_pool_members_without_a_panel(tmp_path, capsys):
    from pool.db import open_database
    from pool.members import add_member

    db = str(tmp_path / "w.db")
    engine = open_database(db)
    labels, votes = planted()
    for i in range(len(labels)):
        add_member(engine, {"first_names": f"E{i}", "surname": "S", "birth_year": str(1940 + i), "sex": "12"[i % 2],
                            "municipality": "179", "mother_tongue": "fi" if i % 3 else None}, consent_version="v1")
    engine.dispose()
    folder = write_polis(tmp_path / "c", votes)
    parts = tmp_path / "participants.csv"
    parts.write_text("participant,member\n" + "".join(f"{i},{i + 1}\n" for i in range(len(labels))))
    assert main(["--db", db, "opinions", "analyze", "--polis", str(folder), "--participants", str(parts),
                 "--json", "--stability", "0"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {r["feature"] for r in out["strata"]} == {"age", "sex", "language", "municipality"}
    assert out["weighted"] == []  # no extract in this workspace: nothing to weight by


def test_a_large_export_read_and_analysed_in_blocks_gives_the_same_result(tmp_path, monkeypatch):
    """Votes parsed a few rows at a time, a quoted meta field (the csv module's way) and
    the centred matrix taken a few rows at a time: the same votes, groups and counts."""
    from opinions import data

    labels, votes = planted(groups=(30, 20, 12), statements=30, missing=0.4, seed=5)
    ids = [str(i) for i in range(len(labels))]
    folder = write_polis(tmp_path / "c", votes, ids=ids, groups=list(labels))
    whole = read_polis_export(folder)
    reference = A.analyze(whole, "s")
    assert whole.votes.dtype == np.float32 and np.array_equal(whole.votes, votes, equal_nan=True)
    monkeypatch.setattr(data, "PARSE_CELLS", 7)  # a row or less at a time
    monkeypatch.setattr(A, "BLOCK_CELLS", 40)  # one row at a time
    small = read_polis_export(folder)
    assert np.array_equal(small.votes, votes, equal_nan=True) and small.polis_groups == whole.polis_groups
    blocked = A.analyze(small, "s")
    assert np.array_equal(blocked.labels, reference.labels)
    assert np.array_equal(blocked.stats.agree, reference.stats.agree)
    assert np.array_equal(blocked.stats.votes, reference.stats.votes)
    assert np.allclose(blocked.points, reference.points, atol=1e-9)
    centred = A.Centred(small.votes)
    dense = np.where(np.isnan(small.votes), 0.0, small.votes - A.statement_means(small.votes))  # whole
    assert np.allclose(centred.gram(), dense.T @ dense) and np.allclose(centred @ np.eye(30)[:, :2], dense[:, :2])
    text = (folder / "participants-votes.csv").read_text().splitlines()
    quoted = [text[0].replace("participant,", "participant,xid,", 1)]
    quoted += [line.replace(",", ',"x, y",', 1) for line in text[1:]]  # an external id holding a comma
    (folder / "participants-votes.csv").write_text("\r\n".join(quoted) + "\r\n")
    careful = read_polis_export(folder)
    assert np.array_equal(careful.votes, votes, equal_nan=True) and careful.participants == whole.participants
