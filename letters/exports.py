"""What leaves the building besides letters: panel rosters, the anonymised composition
table and the call list. Every export is audited; files with personal data are written
owner-only.
"""
from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit
from pool.private import csv_writer, private_file, xlsx_row
from pool.errors import NotFound, OtosError
from pool.models import Panel, PanelSeat, PoolMember
from pool.reference import municipalities

ROSTER_COLUMNS = ["jäsen", "rooli", "nimi", "sähköposti", "puhelin", "lähiosoite", "postinumero", "postitoimipaikka",
                  "kieli", "kunta", "tarpeet"]


def _member_row(m: PoolMember, role: str, munis: dict) -> list[str]:
    return [str(m.id), role, f"{m.first_names} {m.surname}", m.email or "", m.phone or "", m.street or "",
            m.postal_code or "", (m.post_office or "").upper(), m.preferred_language,
            munis[m.municipality].name_fi if m.municipality in munis else (m.municipality or ""), m.needs or ""]


def roster_rows(engine: Engine, panel_id: int) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    """(seated members, members who left the panel, like-for-like reserves): contact
    details for facilitators. See sampling.panels.reserves for who is a reserve."""
    from sampling.panels import reserves

    with Session(engine) as s:
        if s.get(Panel, panel_id) is None:
            raise NotFound(f"There is no panel {panel_id}.", hint="See otos panel list.")
        seats = s.execute(select(PanelSeat, PoolMember).outerjoin(PoolMember, PoolMember.id == PanelSeat.member_id)
                          .where(PanelSeat.panel_id == panel_id).order_by(PanelSeat.id)).all()
        seated, left = [], []
        munis = municipalities()
        for seat, m in seats:
            if m is None:
                row = [seat.snapshot_id, seat.role, "(withdrawn from the pool)"] + [""] * 8
            else:
                row = _member_row(m, seat.role, munis)
            (left if seat.role == "dropped" else seated).append(row)
        spare = [_member_row(s.get(PoolMember, int(reserve)), f"varalla: {holder}", munis)
                 for holder, reserve in reserves(engine, panel_id)]
    return seated, left, spare


def _sections(seated, left, spare):
    """(title, rows) of the roster's parts after the seated members, non-empty only."""
    return [(t, rows) for t, rows in (("Paneelista poistuneet", left), ("Varalla", spare)) if rows]


def export_roster(engine: Engine, panel_id: int, out: str | Path, fmt: str) -> int:
    """Write the roster (csv, xlsx or pdf): seated members, then those who left and the
    reserves, each listed apart. Returns the number of seats listed."""
    if fmt not in ("csv", "xlsx", "pdf"):
        raise OtosError(f"Unknown roster format {fmt!r}.", hint="Use csv, xlsx or pdf.")
    seated, left, spare = roster_rows(engine, panel_id)
    done = _audit_export(engine, "export.roster", panel=panel_id, format=fmt,
                         rows=len(seated) + len(left) + len(spare))
    if fmt == "csv":
        with private_file(out, encoding="utf-8-sig", newline="", audit=done) as fh:
            w = csv_writer(fh)
            w.writerow(ROSTER_COLUMNS)
            w.writerows(seated)
            for title, rows in _sections(seated, left, spare):
                w.writerow([])
                w.writerow([title])
                w.writerows(rows)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        ws = wb.active
        ws.title = "Paneeli"
        xlsx_row(ws, ROSTER_COLUMNS)
        for row in seated:
            xlsx_row(ws, row)
        for title, rows in _sections(seated, left, spare):
            sheet = wb.create_sheet("Poistuneet" if title.startswith("Paneelista") else title)
            xlsx_row(sheet, ROSTER_COLUMNS)
            for row in rows:
                xlsx_row(sheet, row)
        with private_file(out, "wb", audit=done) as fh:
            wb.save(fh)
    else:
        pdf = _roster_pdf(panel_id, seated, _sections(seated, left, spare))
        with private_file(out, "wb", audit=done) as fh:
            fh.write(pdf)
    return len(seated)


def _roster_pdf(panel_id: int, seated: list[list[str]], sections: list[tuple[str, list]]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from letters.fonts import register

    regular, bold = register()
    styles = getSampleStyleSheet()
    styles["Heading2"].fontName = bold
    cols = [0, 1, 2, 3, 4, 8, 9, 10]  # the facilitator's page: no postal address

    def table(rows):
        t = Table([[ROSTER_COLUMNS[i] for i in cols]] + [[r[i] for i in cols] for r in rows], repeatRows=1)
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 8), ("FONT", (0, 0), (-1, 0), bold, 8),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
        return t
    story = [Paragraph(f"Paneeli {panel_id}: jäsenet", styles["Heading2"]), table(seated)]
    for title, rows in sections:
        story += [Spacer(1, 12), Paragraph(title, styles["Heading2"]), table(rows)]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=landscape(A4)).build(story)
    return buffer.getvalue()


def composition_rows(engine: Engine, panel_id: int) -> list[list[str]]:
    """Per quota category: population share, pool count and share, quota, panel count and
    share. No personal data."""
    from letters.report import build_report

    report = build_report(engine, panel_id)

    def pct(row, stage: str) -> str:
        share = report.share(row, stage)
        return f"{share:.1%}" if share is not None else ""

    return [[r.feature, r.value, pct(r, "population"), str(r.counts["volunteers"]), pct(r, "volunteers"),
             f"{r.quota[0]}-{r.quota[1]}", str(r.counts["panel"]), pct(r, "panel")] for r in report.rows]


def export_composition(engine: Engine, panel_id: int, out: str | Path) -> int:
    rows = composition_rows(engine, panel_id)
    with private_file(out, encoding="utf-8-sig", newline="",
                      audit=_audit_export(engine, "export.composition", panel=panel_id, rows=len(rows))) as fh:
        w = csv_writer(fh)
        w.writerow(["ominaisuus", "arvo", "väestön osuus", "pooli", "poolin osuus", "kiintiö", "paneeli",
                    "paneelin osuus"])
        w.writerows(rows)
    return len(rows)


def export_call_list(engine: Engine, out: str | Path) -> int:
    """Active members with a phone but no e-mail, oldest first, for phone follow-up."""
    with Session(engine) as s:
        members = s.execute(select(PoolMember).where(PoolMember.status == "active", PoolMember.email.is_(None),
                                                     PoolMember.phone.is_not(None))
                            .order_by(PoolMember.birth_year, PoolMember.id)).scalars().all()
    munis = municipalities()
    with private_file(out, encoding="utf-8-sig", newline="",
                      audit=_audit_export(engine, "export.calls", rows=len(members))) as fh:
        w = csv_writer(fh)
        w.writerow(["jäsen", "nimi", "puhelin", "syntymävuosi", "kunta", "kieli"])
        for m in members:
            w.writerow([m.id, f"{m.first_names} {m.surname}", m.phone, m.birth_year or "",
                        munis[m.municipality].name_fi if m.municipality in munis else "", m.preferred_language])
    return len(members)


def _audit_export(engine: Engine, action: str, **details):
    """The audit step of an export: committed with the file's SHA-256 before the file
    is put in place (``pool.private``), so no export exists without its entry."""
    def record(digest: str) -> None:
        with Session(engine) as s:
            audit.record(s, action, file_sha256=digest, **details)
            s.commit()
    return record
