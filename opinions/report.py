"""The opinion summary as a PDF (opinion map, statements per group, consensus,
divisive, strata comparison) with every table also as CSV beside it."""
from __future__ import annotations

from pathlib import Path

from opinions.analysis import Analysis
from opinions.strata import Strata, compare, post_stratified
from opinions.summary import STATEMENT_COLUMNS, statement_rows
from pool.private import Outputs, csv_writer, output_path, private_outputs
from pool.i18n import _

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
    written = []
    for name, (header, rows) in tables.items():
        path = out.with_name(f"{out.stem}-{name}.csv")
        w = csv_writer(files.open(path, encoding="utf-8-sig", newline=""))
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
        d.add(String(width - 76, y, _("group {g} ({size})").format(g=g, size=size), fontName=regular, fontSize=8))
    y = height - margin - 14 * (a.k + 1)
    d.add(Circle(width - 84, y + 3, 4, fillColor=colors.HexColor(UNGROUPED), strokeColor=None))
    d.add(String(width - 76, y, _("not grouped"), fontName=regular, fontSize=8))
    return d


def write_report(a: Analysis, out: str | Path, strata: Strata | None = None) -> list[Path]:
    """Write the PDF summary and the CSV tables beside it; returns the files written."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, Spacer, Table, TableStyle

    from letters.fonts import register
    from letters.pdf import document
    from opinions.summary import text_summary

    out = output_path(out, (".pdf",))
    regular, bold = register()
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "BodyText"):
        styles[name].fontName = bold if name != "BodyText" else regular
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    grid = TableStyle([("FONT", (0, 0), (-1, -1), regular, 8), ("FONT", (0, 0), (-1, 0), bold, 8),
                       ("GRID", (0, 0), (-1, -1), 0.25, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])

    def text(sid: str) -> Paragraph:
        return Paragraph(f"#{sid} " + _escape(a.conversation.texts.get(sid, "")), small)

    def table(header, rows, widths):
        t = Table([header] + rows, colWidths=widths, repeatRows=1)
        t.setStyle(grid)
        return t

    lines = text_summary(a)
    story = [Paragraph(_("Opinion groups"), styles["Title"]),
             Paragraph(_escape(lines[0]), styles["BodyText"]), Paragraph(_escape(lines[1]), styles["BodyText"])]
    if a.stability:
        story.append(Paragraph(_escape(lines[2]), styles["BodyText"]))
    story += [Spacer(1, 6), opinion_map(a), Spacer(1, 6)]
    index = {s: j for j, s in enumerate(a.statements)}
    for g in range(a.k):
        reps = a.representative(g)
        story.append(Paragraph(_("Group {g} ({value} people): statements that set it apart").format(g=g, value=a.sizes()[g]), styles["Heading2"]))
        if not reps:
            story.append(Paragraph(_("No statement separates this group significantly."), styles["BodyText"]))
            continue
        rows = []
        for sid, side, _x in reps:
            j = index[sid]
            share = a.stats.pa[g, j] if side == "agree" else a.stats.pd[g, j]
            z = a.stats.za[g, j] if side == "agree" else a.stats.zd[g, j]
            rows.append([side, f"{share:.0%}", f"{z:.1f}", int(a.stats.votes[g, j]), text(sid)])
        story.append(table(["side", "share", "z", "n", "statement"], rows, [45, 35, 30, 30, 330]))
    story.append(Paragraph(_("Consensus: every group agrees (or disagrees)"), styles["Heading2"]))
    cons = a.consensus()
    story.append(table(["side", "gic", "statement"], [[side, f"{g:.2f}", text(s)] for s, side, g in cons[:15]],
                       [45, 40, 385]) if cons else Paragraph(_("None."), styles["BodyText"]))
    story.append(Paragraph(_("Divisive: the groups' agree shares differ by more than half"), styles["Heading2"]))
    story.append(Paragraph(_("D = highest minus lowest group agree share among those who took a side, with its 90 % interval; divisive when the interval lies above 0.5."), small))
    div = a.divisive_statements()
    story.append(table(["D", _("90 % interval"), "statement"],
                       [[f"{d:.2f}", f"{lo:.2f}-{hi:.2f}", text(s)] for s, d, lo, hi in div[:15]], [40, 70, 360])
                 if div else Paragraph(_("None."), styles["BodyText"]))
    if strata is not None:
        story += _strata_story(a, strata, styles, small, table, text)
    with private_outputs() as files:
        document(files.open(out, "wb", (".pdf",)), A4, _("Opinion groups")).build(story)
        return [out] + write_csvs(a, out, strata, files)


def _strata_story(a, strata, styles, small, table, text) -> list:
    from reportlab.platypus import Paragraph

    story = []
    comparison, weighted = strata_rows(a, strata)
    top = [sid for sid, *_x in a.divisive_statements()][:5] or a.statements[:5]
    for feature in strata.features:
        story.append(Paragraph(_("By {feature}: agree share (95 % interval), n").format(feature=feature), styles["Heading2"]))
        rows = [[r[1], r[2], r[3], f"{r[5]:.0%} ({r[6]:.0%}-{r[7]:.0%})" if r[5] != "" else "-", r[4]]
                for r in comparison if r[0] == feature and r[3] in top]
        story.append(table(["stratum", "people", "statement", "agree", "n"], rows, [90, 45, 55, 120, 40]))
        w = [r for r in weighted if r[0] == feature]
        if w:
            story.append(Paragraph(_("Population-weighted agreement by {feature} (post-stratified)").format(feature=feature), styles["Heading2"]))
            story.append(table(["weighted", "95 %", "unweighted", "coverage", "statement"],
                               [[f"{r[2]:.0%}", f"{r[3]:.0%}-{r[4]:.0%}", f"{r[5]:.0%}", f"{r[6]:.0%}", text(r[1])]
                                for r in w[:25]], [50, 60, 55, 50, 255]))
    return story


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
