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
from pool.private import csv_writer, private_file, xlsx_table
from pool.errors import OtosError
from pool.models import ROLE_NAMES, PanelSeat, PoolMember
from pool.i18n import N_, _, csv_dialect, language, percent
from pool.reference import municipalities

# Column headers and roles in the reader's language (translated where written).
ROSTER_COLUMNS = [N_("member"), N_("role"), N_("surname"), N_("first names"), N_("e-mail"), N_("phone"),
                  N_("street address"), N_("postal code"), N_("post office"), N_("language"), N_("municipality"),
                  N_("needs"), N_("quota group")]

PDF_COLUMNS = [0, 1, 2, 3, 4, 5, 9, 10, 11, 12]  # the facilitator's page: no postal address
PDF_WIDTHS = [38, 72, 70, 78, 130, 90, 32, 64, 52, 124]  # points; landscape A4 between its margins
RESERVES_TITLE = N_("Reserves (reserve 1 / 37: the first to call if member 37 drops out)")
LEFT_TITLE = N_("Left the panel")


def roster_header() -> list[str]:
    """The roster's column headers in the language in use."""
    return [_(c) for c in ROSTER_COLUMNS]


def municipality_name(code: str | None, munis: dict) -> str:
    """A municipality's name in the language in use (Swedish name in Swedish)."""
    m = munis.get(code or "")
    if m is None:
        return code or ""
    return m.name_sv if language() == "sv" else m.name_fi


def _csv(out, audit):
    delimiter, encoding = csv_dialect()
    return private_file(out, encoding=encoding, newline="", audit=audit), delimiter


def _member_row(m: PoolMember, role: str, munis: dict, group: tuple) -> list:
    """One roster row: the member id as a number (it sorts as one in a spreadsheet), the
    rest as text (a postal code keeps its leading zero)."""
    return [m.id, role, m.surname, m.first_names, m.email or "", m.phone or "", m.street or "",
            m.postal_code or "", (m.post_office or "").upper(), m.preferred_language,
            municipality_name(m.municipality, munis), m.needs or "",
            " · ".join(group)]


def roster_rows(engine: Engine, panel_id: int) -> tuple[list[list], list[list], list[list]]:
    """The roster's rows as printed (see ``_panel_rows``): a reserve's role names its
    place in line and the seat holder, "varalla 1 / 118"."""
    seated, left, reserves = _panel_rows(engine, panel_id)
    return seated, left, [row[:1] + [_("reserve {rank} / {holder}").format(rank=rank, holder=holder)] + row[2:]
                           for holder, rank, row in reserves]


def _panel_rows(engine: Engine, panel_id: int) -> tuple[list[list], list[list], list[tuple[str, int, list]]]:
    """(members holding a seat, members who left the panel, reserves waiting): contact
    details for facilitators, each with their quota group as the lottery saw it. Seats go
    by member id; reserves seat by seat in call order ("varalla 1 / 118" is called first
    when member 118 drops out; see sampling.panels.draw_reserves)."""
    from sampling.panels import get_panel, member_order, seat_groups

    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        seats = s.execute(select(PanelSeat, PoolMember).outerjoin(PoolMember, PoolMember.id == PanelSeat.member_id)
                          .where(PanelSeat.panel_id == panel_id)).all()
        groups = seat_groups(panel, [seat for seat, _x in seats], shown=True)
        seats.sort(key=lambda row: member_order(row[0].snapshot_id))
        reserves = sorted((row for row in seats if row[0].role == "reserve" and row[1] is not None
                           and row[1].status == "active"),
                          key=lambda row: (member_order(row[0].reserve_for or ""), row[0].rank))
        munis = municipalities()

        def row(seat: PanelSeat, m: PoolMember | None, role: str) -> list:
            group = groups.get(seat.snapshot_id, ())
            if m is None:
                ident = int(seat.snapshot_id) if seat.snapshot_id.isdigit() else seat.snapshot_id
                return [ident, role, _("(left the pool)")] + [""] * (len(ROSTER_COLUMNS) - 4) + [" · ".join(group)]
            return _member_row(m, role, munis, group)
        seated = [row(seat, m, _(ROLE_NAMES[seat.role])) for seat, m in seats if seat.role in ("seated", "replacement")]
        left = [row(seat, m, _(ROLE_NAMES[seat.role])) for seat, m in seats if seat.role == "dropped"]
        # a reserve no longer active in the pool cannot be called; one drawn by a replacement
        # lottery ("called") is listed by the seat it took
        spare = [(seat.reserve_for, seat.rank, row(seat, m, _(ROLE_NAMES["reserve"]))) for seat, m in reserves]
    return seated, left, spare


def _sections(seated, left, spare):
    """(title, rows) of the roster's parts after the seated members, non-empty only."""
    return [(t, rows) for t, rows in ((_(LEFT_TITLE), left), (_(RESERVES_TITLE), spare)) if rows]


def export_roster(engine: Engine, panel_id: int, out: str | Path, fmt: str) -> int:
    """Write the roster (csv, xlsx or pdf): seated members, then those who left and the
    reserves, each listed apart. Returns the number of seats listed."""
    if fmt not in ("csv", "xlsx", "pdf"):
        raise OtosError(_("Unknown roster format {fmt!r}.").format(fmt=fmt), hint=_("Use csv, xlsx or pdf."))
    seated, left, spare = roster_rows(engine, panel_id)
    done = _audit_export(engine, "export.roster", panel=panel_id, format=fmt,
                         rows=len(seated) + len(left) + len(spare))
    if fmt == "csv":
        target, delimiter = _csv(out, done)
        with target as fh:
            w = csv_writer(fh, delimiter=delimiter)
            w.writerow(roster_header())
            w.writerows(seated)
            for title, rows in _sections(seated, left, spare):
                w.writerow([])
                w.writerow([title])
                w.writerows(rows)
    elif fmt == "xlsx":
        from openpyxl import Workbook

        wb = Workbook()
        xlsx_table(wb.active, _("Panel"), roster_header(), seated)
        for title, rows in _sections(seated, left, spare):
            xlsx_table(wb.create_sheet(), _("Left") if title == _(LEFT_TITLE) else _("Reserves"),
                       roster_header(), rows)
        with private_file(out, "wb", audit=done) as fh:
            wb.save(fh)
    else:
        pdf = _roster_pdf(panel_id, seated, _sections(seated, left, spare))
        with private_file(out, "wb", audit=done) as fh:
            fh.write(pdf)
    return len(seated)


def _roster_pdf(panel_id: int, seated: list[list], sections: list[tuple[str, list]]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    from letters.fonts import register
    from letters.pdf import document

    regular, bold = register()
    styles = getSampleStyleSheet()
    styles["Heading2"].fontName = bold
    styles["Heading2"].keepWithNext = 1  # a section's title never ends a page without its table
    cell = ParagraphStyle("cell", fontName=regular, fontSize=8, leading=9.5, wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, fontName=bold)

    def table(rows):
        # Cells are paragraphs, so a long name or e-mail address wraps inside its column.
        data = [[Paragraph(escape(roster_header()[i]), head) for i in PDF_COLUMNS]]
        data += [[Paragraph(escape(str(r[i])), cell) for i in PDF_COLUMNS] for r in rows]
        t = Table(data, colWidths=PDF_WIDTHS, repeatRows=1)
        t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 8),  # else the table sets Helvetica
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8ecf0"))]))
        return t
    title = _("Panel {panel}: members").format(panel=panel_id)
    story = [Paragraph(escape(title), styles["Heading2"]), table(seated)]
    for title, rows in sections:
        story += [Spacer(1, 12), Paragraph(escape(title), styles["Heading2"]), table(rows)]
    buffer = io.BytesIO()
    document(buffer, landscape(A4), title).build(story)
    return buffer.getvalue()


def composition_rows(engine: Engine, panel_id: int) -> list[list[str]]:
    """Per quota category: population share, pool count and share, quota, panel count and
    share. No personal data."""
    from letters.report import build_report

    report = build_report(engine, panel_id)

    def pct(row, stage: str) -> str:
        share = report.share(row, stage)
        return percent(share) if share is not None else ""

    from sampling.categories import feature_name, value_name

    return [[feature_name(r.feature), value_name(r.feature, r.value), pct(r, "population"), str(r.counts["volunteers"]), pct(r, "volunteers"),
             f"{r.quota[0]}-{r.quota[1]}", str(r.counts["panel"]), pct(r, "panel")] for r in report.rows]


def export_composition(engine: Engine, panel_id: int, out: str | Path) -> int:
    rows = composition_rows(engine, panel_id)
    target, delimiter = _csv(out, _audit_export(engine, "export.composition", panel=panel_id, rows=len(rows)))
    with target as fh:
        w = csv_writer(fh, delimiter=delimiter)
        w.writerow([_("feature"), _("value"), _("population share"), _("pool"), _("pool share"), _("quota"),
                    _("panel"), _("panel share")])
        w.writerows(rows)
    return len(rows)


def export_call_list(engine: Engine, out: str | Path) -> int:
    """Active members with a phone but no e-mail, oldest first, for phone follow-up."""
    with Session(engine) as s:
        members = s.execute(select(PoolMember).where(PoolMember.status == "active", PoolMember.email.is_(None),
                                                     PoolMember.phone.is_not(None))
                            .order_by(PoolMember.birth_year, PoolMember.id)).scalars().all()
    munis = municipalities()
    target, delimiter = _csv(out, _audit_export(engine, "export.calls", rows=len(members)))
    with target as fh:
        w = csv_writer(fh, delimiter=delimiter)
        w.writerow([_("member"), _("name"), _("phone"), _("birth year"), _("municipality"), _("language")])
        for m in members:
            w.writerow([m.id, f"{m.first_names} {m.surname}", m.phone, m.birth_year or "",
                        municipality_name(m.municipality, munis) if m.municipality in munis else "",
                        m.preferred_language])
    return len(members)


RESERVE_CALL_COLUMNS = [N_("seat (member)"), N_("order"), N_("member"), N_("surname"), N_("first names"), N_("phone"),
                        N_("e-mail"), N_("language"), N_("municipality"), N_("needs"), N_("quota group")]


def export_reserve_calls(engine: Engine, panel_id: int, out: str | Path) -> int:
    """The panel's reserves waiting, seat by seat in call order: whom to phone, and in
    which order, when a member drops out. Returns how many."""
    _x, _x, spare = _panel_rows(engine, panel_id)
    cols = [ROSTER_COLUMNS.index(c) for c in RESERVE_CALL_COLUMNS[2:]]
    rows = [[int(holder) if holder.isdigit() else holder, rank] + [r[i] for i in cols] for holder, rank, r in spare]
    target, delimiter = _csv(out, _audit_export(engine, "export.reserves", panel=panel_id, rows=len(rows)))
    with target as fh:
        w = csv_writer(fh, delimiter=delimiter)
        w.writerow([_(c) for c in RESERVE_CALL_COLUMNS])
        w.writerows(rows)
    return len(rows)


def _audit_export(engine: Engine, action: str, **details):
    """The audit step of an export: committed with the file's SHA-256 before the file
    is put in place (``pool.private``), so no export exists without its entry."""
    def record(digest: str) -> None:
        with Session(engine) as s:
            audit.record(s, action, file_sha256=digest, **details)
            s.commit()
    return record
