"""The opinion summary as a PDF (opinion map, statements per group, consensus,
divisive, strata comparison) with every table also as CSV beside it."""
from __future__ import annotations

from pathlib import Path

from opinions import plain
from opinions.analysis import Analysis
from opinions.strata import Strata, compare, post_stratified
from opinions.summary import STATEMENT_COLUMNS, statement_rows
from pool.private import Outputs, csv_writer, output_path, private_outputs
from pool.i18n import _, csv_dialect, number, percent

PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
UNGROUPED = "#c8c8c8"


def strata_rows(a: Analysis, strata: Strata) -> tuple[list[list], list[list]]:
    """(comparison rows, post-stratified rows) for every feature the participants have."""
    comparison, weighted = [], []
    for feature in strata.features:
        c = compare(a.conversation, strata, feature)
        for j, sid in enumerate(c.statements):
            for h, value in enumerate(c.values):
                cells = [feature, value, c.participants[h], sid, int(c.n[h, j])]
                for kind in ("agree", "disagree", "pass"):
                    s = c.share(kind, h, j)
                    cells += [round(s[0], 4), round(s[1], 4), round(s[2], 4)] if s else ["", "", ""]
                comparison.append(cells)
        if feature in strata.population:
            for w in post_stratified(c, strata.population[feature]):
                weighted.append([feature, w.statement, round(w.agree, 4), round(w.low, 4), round(w.high, 4),
                                 round(w.raw, 4), round(w.coverage, 4)])
    return comparison, weighted


STRATA_COLUMNS = ["feature", "stratum", "participants", "statement", "n", "agree", "agree_low", "agree_high",
                  "disagree", "disagree_low", "disagree_high", "pass", "pass_low", "pass_high"]
WEIGHTED_COLUMNS = ["feature", "statement", "weighted_agree", "low95", "high95", "unweighted_agree", "coverage"]


def write_csvs(a: Analysis, out: Path, strata: Strata | None = None, files: Outputs | None = None) -> list[Path]:
    """Every table as CSV next to ``out`` (``<stem>-statements.csv`` ...), owner-only
    (participant ids and statement texts come from others), formula text neutralised.
    The columns keep their stable names (analysts' scripts read them); the dialect is
    the user's (``;`` with decimal commas for Excel in a Finnish locale, or ``,``).
    With ``files`` they join that set of outputs; otherwise they are written at once."""
    if files is None:
        with private_outputs() as own:
            return write_csvs(a, out, strata, own)
    tables = {
        "statements": (STATEMENT_COLUMNS, statement_rows(a)),
        "groups": (["participant", "group", "x", "y"],
                   [[p, g, round(float(x), 5), round(float(y), 5)] for p, g, (x, y) in
                    zip(a.clustered, a.labels, a.points[a.in_conv])]),
        "consensus": (["statement", "direction", "gic", "text"],
                      [[s, side, round(g, 4), a.conversation.texts.get(s, "")] for s, side, g in a.consensus()]),
        "divisive": (["statement", "divisiveness", "low90", "high90", "text"],
                     [[s, round(d, 4), round(lo, 4), round(hi, 4), a.conversation.texts.get(s, "")]
                      for s, d, lo, hi in a.divisive_statements()]),
    }
    if strata is not None:
        comparison, weighted = strata_rows(a, strata)
        tables["strata"] = (STRATA_COLUMNS, comparison)
        if weighted:
            tables["weighted"] = (WEIGHTED_COLUMNS, weighted)
    delimiter, encoding = csv_dialect()
    written = []
    for name, (header, rows) in tables.items():
        path = out.with_name(f"{out.stem}-{name}.csv")
        # Excel in a Finnish locale reads 0,62 as a number and 0.62 as text
        w = csv_writer(files.open(path, encoding=encoding, newline=""), delimiter=delimiter,
                       decimal_comma=delimiter == ";")
        w.writerow(header)
        w.writerows(rows)
        written.append(path)
    return written


def opinion_map(a: Analysis, width: float = 460, height: float = 300):
    """Participants' 2-D projection as a reportlab drawing, coloured by group."""
    from reportlab.graphics.shapes import Circle, Drawing, String
    from reportlab.lib import colors

    from letters.fonts import register

    regular, _x = register()
    d = Drawing(width, height)
    d.initialFontName, d.initialFontSize = regular, 8  # else reportlab's graphics start in Helvetica
    pts = a.points
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    span = [max(h - l, 1e-9) for l, h in zip(lo, hi)]
    margin = 14

    def xy(p):
        return (margin + (p[0] - lo[0]) / span[0] * (width - 2 * margin - 90),
                margin + (p[1] - lo[1]) / span[1] * (height - 2 * margin))

    group = dict(zip(a.clustered, a.labels))
    for pid, p in zip(a.conversation.participants, pts):  # the ungrouped first, underneath
        if pid not in group:
            x, y = xy(p)
            d.add(Circle(x, y, 1.4, fillColor=colors.HexColor(UNGROUPED), strokeColor=None))
    for pid, p in zip(a.conversation.participants, pts):
        if pid in group:
            x, y = xy(p)
            d.add(Circle(x, y, 1.8, fillColor=colors.HexColor(PALETTE[group[pid] % len(PALETTE)]), strokeColor=None))
    for g, size in enumerate(a.sizes()):
        y = height - margin - 14 * (g + 1)
        d.add(Circle(width - 84, y + 3, 4, fillColor=colors.HexColor(PALETTE[g % len(PALETTE)]), strokeColor=None))
        d.add(String(width - 76, y, f"{plain.group_name(g)} ({number(size)})", fontName=regular, fontSize=8))
    y = height - margin - 14 * (a.k + 1)
    d.add(Circle(width - 84, y + 3, 4, fillColor=colors.HexColor(UNGROUPED), strokeColor=None))
    d.add(String(width - 76, y, _("not grouped"), fontName=regular, fontSize=8))
    return d


def pdf_styles():
    """(paragraph styles, the small style, the table grid, the bold font) of the opinion PDFs."""
    from reportlab.lib import colors
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import TableStyle

    from letters.fonts import register

    regular, bold = register()
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "Heading3", "BodyText"):
        styles[name].fontName = bold if name != "BodyText" else regular
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    grid = TableStyle([("FONT", (0, 0), (-1, -1), regular, 8), ("FONT", (0, 0), (-1, 0), bold, 8),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
    return styles, small, grid, bold


def write_report(a: Analysis, out: str | Path, strata: Strata | None = None) -> list[Path]:
    """Write the PDF summary and the CSV tables beside it; returns the files written.
    The PDF speaks to a reader who is no statistician (opinions.plain); its appendix
    names the technical measures, and the CSV files hold every number."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, Spacer, Table

    from letters.pdf import document

    out = output_path(out, (".pdf",))
    styles, small, grid, bold = pdf_styles()

    def para(text: str, style=None) -> Paragraph:
        return Paragraph(_escape(text), style or styles["BodyText"])

    def text(sid: str) -> Paragraph:
        return Paragraph(f"#{_escape(sid)} " + _escape(a.conversation.texts.get(sid, "")), small)

    def table(header, rows, widths):
        cells = [[Paragraph(_escape(c), small) if isinstance(c, str) else c for c in row] for row in [header, *rows]]
        t = Table(cells, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

    story = [para(_("Opinion groups"), styles["Title"])]
    story += [para(line) for line in plain.overview(a)]
    story += [Spacer(1, 6), opinion_map(a), Spacer(1, 6)]
    story.append(para(_("How to read this report"), styles["Heading2"]))
    story += [para(line, small) for line in plain.how_to_read()]
    for g in range(a.k if a.k > 1 else 0):
        story.append(para(_("What sets group {letter} apart ({size} people)").format(
            letter=plain.group_letter(g), size=number(a.sizes()[g])), styles["Heading2"]))
        rows = plain.apart_rows(a, g)
        if not rows:
            story.append(para(_("No statement sets this group clearly apart.")))
            continue
        story.append(table([_("The group's view"), _("In the group"), _("In the others"), _("Voted"),
                            _("Statement")],
                           [[view, mine, theirs, number(n), text(sid)] for view, mine, theirs, n, sid in rows],
                           [55, 58, 48, 48, 261]))
    story.append(para(_("Common ground: every group leans the same way") if a.k > 1 else
                      _("Common ground: most who voted lean the same way"), styles["Heading2"]))
    rows = plain.common_ground_rows(a)
    story.append(table([_("View"), _("In every group at least") if a.k > 1 else _("Share"), _("Statement")],
                       [[view, lowest, text(sid)] for view, lowest, sid in rows], [60, 70, 340])
                 if rows else para(_("No statement on which every group clearly leans the same way.")))
    if a.k > 1:
        story.append(para(_("Statements that divide the groups"), styles["Heading2"]))
        rows = plain.divisive_rows(a)
        story.append(table([_("Agreed, by group (of those who took a side)"), _("Gap between groups"),
                            _("Statement")], [[shares, gap, text(sid)] for shares, gap, sid in rows], [120, 80, 270])
                     if rows else para(_("No statement on which the groups surely differ by more than half.")))
    if strata is not None:
        story += _strata_story(a, strata, styles, small, table, text, para)
    story.append(para(_("Appendix: technical terms"), styles["Heading2"]))
    for term, explanation in plain.appendix(a):
        story.append(Paragraph(f'<font name="{bold}">{_escape(term)}</font>. {_escape(explanation)}', small))
    with private_outputs() as files:
        document(files.open(out, "wb", (".pdf",)), A4, _("Opinion groups")).build(story)
        return [out] + write_csvs(a, out, strata, files)


def _strata_story(a, strata, styles, small, table, text, para) -> list:
    from sampling.categories import feature_name, value_name

    story = []
    comparison, weighted = strata_rows(a, strata)
    top = [sid for sid, *_x in a.divisive_statements()][:5] or a.statements[:5]
    for feature in strata.features:
        name = feature_name(feature)
        story.append(para(_("Background: {feature}").format(feature=name), styles["Heading2"]))
        story.append(para(_("How people of each {feature} group answered the statements that divide most: the share "
                            "who agreed, and the range it is 95 % sure to lie in.").format(feature=name), small))
        rows = [[value_name(feature, r[1]), number(r[2]), f"#{r[3]}",
                 f"{percent(r[5], 0)} ({plain.interval(r[6], r[7])})" if r[5] != "" else "-", number(r[4])]
                for r in comparison if r[0] == feature and r[3] in top]
        story.append(table([name, _("People"), _("Statement"), _("Agreed (95 % range)"), _("Voted")], rows,
                           [104, 58, 45, 100, 48]))
        w = [r for r in weighted if r[0] == feature]
        if w:
            story.append(para(_("Weighted to the population by {feature}").format(feature=name), styles["Heading3"]))
            story.append(para(_("What the panel's answers would be if each {feature} group counted as much as its share "
                                "of the population. Coverage is how much of the population the groups who voted "
                                "stand for.").format(feature=name), small))
            story.append(table([_("Agreed, weighted"), _("95 % range"), _("Unweighted"), _("Coverage"), _("Statement")],
                               [[percent(r[2], 0), plain.interval(r[3], r[4]), percent(r[5], 0), percent(r[6], 0),
                                 text(r[1])] for r in w[:25]], [60, 55, 78, 62, 215]))
    return story


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
