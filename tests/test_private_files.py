"""Files Otos writes: no live formulas, owner-only from the start, never through a
link, nothing half-written or left behind, never without their audit entry."""
import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlmodel import Session

from letters.batch import print_round
from letters.exports import export_call_list, export_composition, export_roster
from pool import audit
from pool.db import open_database
from pool.errors import OtosError
from pool.extract import import_extract
from pool.members import add_member
from pool.models import AuditEntry
from pool.private import cell
from sampling.invitations import draw_invitations
from sampling.panels import draw_panel, export_pool
from sampling.problem import Quota
from tests.conftest import make_workspace, people, write_rows

HOSTILE = ["=HYPERLINK(\"http://x.invalid\",\"klik\")", "+358 40 1", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1"]
QUOTAS = [Quota("sex", "mies", 1, 6), Quota("sex", "nainen", 1, 6)]


@pytest.fixture
def hostile_panel(sqlite_engine):
    for i, name in enumerate(HOSTILE * 2):
        add_member(sqlite_engine, {"first_names": name, "surname": f"Suku{i}", "sex": "1" if i % 2 else "2",
                                   "email": None, "phone": "+358 40 123 4567",
                                   "street": name, "birth_year": str(1950 + i)}, consent_version="v1")
    panel_id, _ = draw_panel(sqlite_engine, QUOTAS, 6, "s")
    return sqlite_engine, panel_id


def is_number(text: str) -> bool:
    """A number as a spreadsheet reads it, with a decimal point or (Finnish) comma."""
    try:
        float(text.replace(",", ".", 1) if text.count(",") == 1 and "." not in text else text)
    except ValueError:
        return False
    return True


def no_live_formula(values) -> None:
    """No cell a spreadsheet would run: text starting a formula (a plain number is data)."""
    for v in values:
        assert not (v.startswith(("=", "+", "-", "@", "\t", "\r")) and not is_number(v)), v


def test_cell_neutralises_formula_text_and_leaves_numbers():
    assert [cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert cell(-1.5) == -1.5 and cell("Aino") == "Aino" and cell("") == ""


def test_roster_csv_has_no_live_formula(hostile_panel, tmp_path):
    engine, panel_id = hostile_panel
    export_roster(engine, panel_id, tmp_path / "r.csv", "csv")
    with (tmp_path / "r.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    no_live_formula(v for r in rows for v in r)
    assert any(v.startswith("'=HYPERLINK") for r in rows for v in r)


def test_roster_xlsx_cells_are_strings_never_formulas(hostile_panel, tmp_path):
    engine, panel_id = hostile_panel
    export_roster(engine, panel_id, tmp_path / "r.xlsx", "xlsx")
    wb = load_workbook(tmp_path / "r.xlsx")
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert any(c.value == HOSTILE[0] and c.data_type == "s" for c in cells)


def test_call_list_has_no_live_formula(hostile_panel, tmp_path):
    engine, _ = hostile_panel
    assert export_call_list(engine, tmp_path / "c.csv") > 0
    with (tmp_path / "c.csv").open(encoding="utf-8-sig", newline="") as fh:
        no_live_formula(v for r in csv.reader(fh, delimiter=";") for v in r)


def test_people_csv_for_other_tools_has_no_live_formula(sqlite_engine, tmp_path):
    for i, value in enumerate(HOSTILE):
        add_member(sqlite_engine, {"first_names": "A", "surname": f"B{i}", "sex": "1", "education": value},
                   consent_version="v1")
    export_pool(sqlite_engine, [Quota("education", v, 0, 1) for v in HOSTILE], tmp_path / "people.csv")
    with (tmp_path / "people.csv").open(encoding="utf-8", newline="") as fh:
        no_live_formula(v for r in csv.reader(fh) for v in r)
    assert (tmp_path / "people.csv").stat().st_mode & 0o777 == 0o600


def small_round(engine, tmp_path, rows) -> None:
    """Import ``rows`` as mailable people in dwellings of their own and invite them all as round "r"."""
    make_workspace(engine)
    for i, r in enumerate(rows):
        r[3], r[5], r[6], r[12], r[13], r[14] = f"Katu {i}", "40100", "JYVÄSKYLÄ", "0", "0", f"DWELLING{i}"
    rep = import_extract(engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                         delete_by=dt.date.today() + dt.timedelta(days=30))
    draw_invitations(engine, rep.extract_id, rep.rows_stored, "s", strata=("sex",), round_name="r", min_age=0,
                     age_bands=(0,))


def test_mailing_list_has_no_live_formula(sqlite_engine, tmp_path):
    rows = people(12, seed=5)
    small_round(sqlite_engine, tmp_path, [r if i >= len(HOSTILE) else
                                          r[:1] + [HOSTILE[i]] + r[2:] for i, r in enumerate(rows)])
    print_round(sqlite_engine, "r", tmp_path / "k.pdf")
    with (tmp_path / "k.csv").open(encoding="utf-8", newline="") as fh:
        listed = [v for r in csv.reader(fh, delimiter=";") for v in r]
    no_live_formula(listed)
    assert any(v.startswith("'=HYPERLINK") for v in listed)


def test_opinions_tables_have_no_live_formula(tmp_path):
    from opinions.analysis import analyze
    from opinions.data import read_votes_csv
    from opinions.report import write_csvs

    votes = tmp_path / "votes.csv"
    votes.write_text("participant,statement,vote\n" + "".join(
        f"p{p},s{s},{1 if s == 0 or (p < 6) == (s < 4) else -1}\n" for p in range(12) for s in range(8)))
    statements = tmp_path / "statements.csv"
    statements.write_text("statement,text\n" + "".join(f"s{s},=cmd|' /C calc'!A{s}\n" for s in range(8)))
    a = analyze(read_votes_csv(votes, statements), seed="0")
    cells = []
    for path in write_csvs(a, tmp_path / "m.pdf"):
        assert path.stat().st_mode & 0o777 == 0o600
        with path.open(encoding="utf-8-sig", newline="") as fh:
            cells += [v for r in csv.reader(fh, delimiter=";") for v in r]
    no_live_formula(cells)
    assert any(v.startswith("'=cmd") for v in cells)


def test_sqlite_database_and_journal_are_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        db = tmp_path / "otos.db"
        engine = open_database(str(db))
        add_member(engine, {"first_names": "A", "surname": "B"}, consent_version="v1")
        assert db.stat().st_mode & 0o777 == 0o600
        con = sqlite3.connect(db)
        con.execute("BEGIN IMMEDIATE")
        con.execute("CREATE TABLE scratch (x)")
        journal = Path(f"{db}-journal")
        assert journal.exists() and journal.stat().st_mode & 0o777 == 0o600
        con.rollback()
        con.close()
        engine.dispose()
        os.chmod(db, 0o644)  # as an older Otos left it
        open_database(str(db)).dispose()
        assert db.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_symlinked_output_is_refused_and_its_target_untouched(hostile_panel, tmp_path):
    engine, panel_id = hostile_panel
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep me")
    target.chmod(0o644)
    link = tmp_path / "c.csv"
    link.symlink_to(target)
    for write in (lambda: export_call_list(engine, link), lambda: export_roster(engine, panel_id, link, "csv")):
        with pytest.raises(OtosError, match="symbolic link"):
            write()
    assert target.read_text() == "keep me" and target.stat().st_mode & 0o777 == 0o644


def test_no_file_without_its_audit_entry(hostile_panel, tmp_path, monkeypatch):
    engine, panel_id = hostile_panel
    with Session(engine) as s:
        before = len(s.execute(select(AuditEntry)).all())

    def refuse(*a, **k):
        raise OtosError("another Otos command is writing to this database; try again when it finishes.")
    monkeypatch.setattr(audit, "record", refuse)
    for name, write in (("c.csv", lambda p: export_call_list(engine, p)),
                        ("r.xlsx", lambda p: export_roster(engine, panel_id, p, "xlsx")),
                        ("k.csv", lambda p: export_composition(engine, panel_id, p))):
        with pytest.raises(OtosError):
            write(tmp_path / name)
        assert not (tmp_path / name).exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    with Session(engine) as s:
        assert len(s.execute(select(AuditEntry)).all()) == before


def test_a_killed_print_leaves_parts_that_the_next_run_removes(sqlite_engine, tmp_path):
    small_round(sqlite_engine, tmp_path, people(8, seed=5))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    (tmp_path / f".k.pdf.otos-part-{dead}-0a1b2c3d").write_bytes(b"%PDF half")
    work = tmp_path / f".otos-work-{dead}-xyz"
    work.mkdir()
    (work / "00000.pdf").write_bytes(b"%PDF part")
    mine = tmp_path / f".other.csv.otos-part-{os.getpid()}-0a0a0a0a"  # a live process's: kept
    mine.write_bytes(b"x")
    print_round(sqlite_engine, "r", tmp_path / "k.pdf")
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("."))
    assert left == [mine.name]
    assert (tmp_path / "k.pdf").stat().st_mode & 0o777 == 0o600


def test_print_parts_are_owner_only_while_they_exist(sqlite_engine, tmp_path, monkeypatch):
    import letters.batch

    small_round(sqlite_engine, tmp_path, people(8, seed=5))
    modes = {}

    def look(fraction, message):
        for p in tmp_path.rglob(".*"):
            modes[p.name] = p.stat().st_mode & 0o777
    monkeypatch.setattr(letters.batch, "CHUNK", 2)
    old = os.umask(0o022)
    try:
        print_round(sqlite_engine, "r", tmp_path / "k.pdf", progress=look)
    finally:
        os.umask(old)
    assert modes and all(m in (0o600, 0o700) for m in modes.values()), modes


READER = textwrap.dedent("""
    import datetime as dt, sys, time
    import pool.extract as ex
    from pool.db import open_database
    ex.PARALLEL_MIN_BYTES = 0
    def stall(fraction, message):
        print("started", flush=True)
        time.sleep(600)
    ex.import_extract(open_database(sys.argv[1]), sys.argv[2], permit="P", purpose="x",
                      delete_by=dt.date(2099, 1, 1), progress=stall)
""")


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads /proc (Linux)")
def test_import_reader_ends_when_its_parent_is_killed(tmp_path):
    # More batches (of CHUNK_ROWS people) than the channel holds, so the reader is still
    # working when its parent dies.
    ex = write_rows(tmp_path / "big.csv", people(100_000, seed=2))
    proc = subprocess.Popen([sys.executable, "-c", READER, str(tmp_path / "otos.db"), str(ex)],
                            stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent.parent)
    try:
        assert proc.stdout.readline().strip() == "started"
        readers = children(proc.pid)
        assert readers, "the import ran without a reader process"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(Path(f"/proc/{r}").exists() and
                                                  "Z" not in Path(f"/proc/{r}/stat").read_text().split()[2]
                                                  for r in readers):
            time.sleep(0.1)
        alive = [r for r in readers if Path(f"/proc/{r}").exists()
                 and Path(f"/proc/{r}/stat").read_text().split()[2] != "Z"]
        assert not alive
    finally:
        if proc.poll() is None:
            proc.kill()


def test_composition_table_has_no_live_formula(sqlite_engine, tmp_path):
    for i in range(8):
        add_member(sqlite_engine, {"first_names": "A", "surname": f"B{i}", "sex": "1" if i % 2 else "2",
                                   "education": "=cmd|' /C calc'!A0" if i % 2 else "perusaste"}, consent_version="v1")
    quotas = [Quota("education", "=cmd|' /C calc'!A0", 1, 3), Quota("education", "perusaste", 1, 3)]
    panel_id, _ = draw_panel(sqlite_engine, quotas, 4, "s")
    export_composition(sqlite_engine, panel_id, tmp_path / "k.csv")
    with (tmp_path / "k.csv").open(encoding="utf-8-sig", newline="") as fh:
        cells = [v for r in csv.reader(fh, delimiter=";") for v in r]
    no_live_formula(cells)
    assert "'=cmd|' /C calc'!A0" in cells


def test_spreadsheet_csv_writes_numbers_as_numbers_whatever_their_type():
    """numpy's floats are floats too: written as the number, never as np.float64(...),
    and a float32 without the digits a Python float would give it; text that starts a
    formula is neutralised, a negative number is not."""
    import io

    import numpy as np

    from pool.private import csv_writer

    for comma, expected in ((True, "0,5;0,2241;0,1;-2,5;3;'=1+1\r\n"), (False, "0.5;0.2241;0.1;-2.5;3;'=1+1\r\n")):
        out = io.StringIO()
        csv_writer(out, decimal_comma=comma).writerow([0.5, np.float64(0.2241), np.float32(0.1), -2.5, 3, "=1+1"])
        assert out.getvalue() == expected
