"""The representativeness report: for each quota category, the population, the invited,
the volunteers and the panel side by side, the spread of selection probabilities and
whether every quota is met. A terminal table and a PDF with bar charts (reportlab's own
charting). No personal data: counts and shares only.
"""
from __future__ import annotations

import datetime as dt
import json
import statistics
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, select
from sqlmodel import Session

from pool import audit
from pool.models import PanelSeat
from pool.i18n import N_, _, date, number, percent
from sampling.categories import feature_name, value_name

STAGES = ("population", "invited", "volunteers", "panel")


@dataclass
class Row:
    feature: str
    value: str
    quota: tuple[int, int]
    counts: dict[str, int]

    @property
    def met(self) -> bool:
        return self.quota[0] <= self.counts["panel"] <= self.quota[1]


@dataclass
class Report:
    panel_id: int
    rows: list[Row]
    totals: dict[str, int]
    probabilities: list[float]
    pinned: bool = True  # population counts recorded with the draw (False: counted now, older panels)
    extract_id: int | None = None  # where the population counts come from
    counted_on: str = ""  # the day ages were counted on (ISO)

    def share(self, row: Row, stage: str) -> float | None:
        total = self.totals[stage]
        return row.counts[stage] / total if total else None


def build_report(engine: Engine, panel_id: int, day: dt.date | None = None) -> Report:
    """The panel's report. The population and invited counts are those recorded with the
    draw (``sampling.margins``); a panel drawn before they were recorded is counted from
    its round's extract (or the newest one) as of ``day``, and ``Report.pinned`` is False."""
    from sampling.margins import count_margins
    from sampling.panels import get_panel

    day = day or dt.date.today()
    with Session(engine) as s:
        panel = get_panel(s, panel_id)
        holding = {x.snapshot_id for x in s.execute(select(PanelSeat).where(
            PanelSeat.panel_id == panel_id, PanelSeat.role.in_(("seated", "replacement")))).scalars()}
        quotas = json.loads(panel.quotas)
        snap = json.loads(panel.snapshot)
        features = snap["features"]
        if panel.margins:
            recorded = json.loads(panel.margins)
        else:
            values = {f: [q[1] for q in quotas if q[0] == f] for f in features}
            recorded = count_margins(s, features, values, day, panel.recruitment_round)
    counts = {stage: Counter() for stage in STAGES}
    totals = Counter(recorded["totals"])
    for stage, by_key in recorded["counts"].items():
        for key, n in by_key.items():
            f, v = key.split("\t", 1)
            counts[stage][(f, v)] = n
    for pid, vals in zip(snap["ids"], snap["values"]):
        stages = ("volunteers", "panel") if pid in holding else ("volunteers",)
        for stage in stages:
            totals[stage] += 1
            for f, v in zip(features, vals):
                counts[stage][(f, v)] += 1
    rows = [Row(f, v, (lo, hi), {stage: counts[stage][(f, v)] for stage in STAGES}) for f, v, lo, hi in quotas]
    return Report(panel_id, rows, {stage: totals.get(stage, 0) for stage in STAGES},
                  sorted(snap.get("probabilities", [])), pinned=bool(panel.margins), extract_id=recorded["extract"],
                  counted_on=recorded["day"])


def format_table(report: Report) -> str:
    """The report as a terminal table, in the language in use."""
    stages = [_(STAGE_NAMES[s]) for s in STAGES]
    head = f"{_('feature'):<13} {_('value'):<14}" + "".join(f"{s:>14}" for s in stages) + f"{_('quota'):>9}  {_('met')}"
    source = (_("population = extract {extract}, counted when the panel was drawn ({day})")
              if report.pinned else _("population = extract {extract}, counted today: this panel was drawn before "
                                      "Otos recorded its population")).format(
        extract=report.extract_id, day=date(_day(report.counted_on)))
    lines = [_("Panel {panel}: shares by stage ({source})").format(panel=report.panel_id, source=source), head]
    for r in report.rows:
        cells = "".join(f"{percent(report.share(r, s)):>14}" if report.share(r, s) is not None else f"{'-':>14}"
                        for s in STAGES)
        lines.append(f"{feature_name(r.feature)[:13]:<13} {value_name(r.feature, r.value)[:14]:<14}{cells}"
                     f"{r.quota[0]:>5}-{r.quota[1]:<3}  {_('yes') if r.met else _('NO')}")
    lines += [_probabilities(report), _("Every quota is met.") if all(r.met for r in report.rows)
              else _("Some quota is NOT met.")]
    return "\n".join(line for line in lines if line)


def _day(text):
    try:
        return dt.date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _probabilities(report: Report) -> str:
    if not report.probabilities:
        return ""
    p = report.probabilities
    return _("Selection probabilities of the {count} volunteers: lowest {lowest}, median {median}, highest "
             "{highest}.").format(count=len(p), lowest=number(p[0], 4), median=number(statistics.median(p), 4),
                                  highest=number(p[-1], 4))


CHART_ROWS = 12  # categories per chart: a feature with more continues in the next chart
STAGE_NAMES = {"population": N_("population"), "invited": N_("invited"), "volunteers": N_("volunteers"),
               "panel": N_("panel")}
PALETTE = ("#9aa5b1", "#5b8def", "#f0a830", "#2e7d32")


def _chart(report: Report, rows: list[Row], regular: str, top: float):
    """One horizontal bar chart: the categories top-down in the table's order, in each
    the four stages top-down in the legend's order; the value axis up to ``top`` % (the
    same for every part of one feature)."""
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing
    from reportlab.lib import colors

    group = 34  # points per category: four bars and a gap
    height = group * len(rows)
    d = Drawing(480, height + 50)
    d.initialFontName, d.initialFontSize = regular, 8  # else reportlab's graphics start in Helvetica
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = 110, 20, 340, height
    # reportlab draws the first category and the first series at the bottom: reversed,
    # both read from the top like the table and the legend.
    order = list(reversed(STAGES))
    chart.data = [[100 * (report.share(r, s) or 0.0) for r in reversed(rows)] for s in order]
    chart.categoryAxis.categoryNames = [value_name(r.feature, r.value)[:24] for r in reversed(rows)]
    chart.categoryAxis.labels.fontName = regular
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.labels.fontName = regular
    chart.valueAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueMax = top
    chart.barSpacing = 0
    chart.groupSpacing = 6
    for i, stage in enumerate(order):
        chart.bars[i].fillColor = colors.HexColor(PALETTE[STAGES.index(stage)])
        chart.bars[i].strokeColor = None
    legend = Legend()
    legend.x, legend.y = 110, height + 42
    legend.fontName, legend.fontSize = regular, 8
    legend.columnMaximum = 1  # one row, in the stages' order
    legend.deltax, legend.dxTextSpace = 85, 4
    legend.alignment = "right"
    legend.colorNamePairs = [(colors.HexColor(c), _(STAGE_NAMES[s])) for c, s in zip(PALETTE, STAGES)]
    d.add(chart)
    d.add(legend)
    return d


def write_pdf(engine: Engine, report: Report, out: str | Path) -> None:
    """The report as a PDF: the table (continued on further pages with its header), then
    bar charts per feature, at most ``CHART_ROWS`` categories each; page numbers; the
    shipped font embedded."""
    from pool.private import output_path, private_file

    out = output_path(out)
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import CondPageBreak, KeepTogether, Paragraph, Spacer, Table, TableStyle
    from xml.sax.saxutils import escape

    from letters.fonts import register
    from letters.pdf import document

    regular, bold = register()
    styles = getSampleStyleSheet()
    for name in ("Title", "Heading2", "BodyText"):
        styles[name].fontName = bold if name != "BodyText" else regular
    title = _("How representative panel {panel} is").format(panel=report.panel_id)
    story = [Paragraph(escape(title), styles["Title"])]
    source = (_("Population: extract {extract}, counted when the panel was drawn ({day}).") if report.pinned
              else _("Population: extract {extract}, counted today ({day}); the panel was drawn before Otos "
                     "recorded the population figures.")).format(extract=report.extract_id,
                                                                 day=date(_day(report.counted_on)))
    story.append(Paragraph(escape(source), styles["BodyText"]))
    header = [_("feature"), _("value"), *(_(STAGE_NAMES[s]) for s in STAGES), _("quota"), _("met")]
    data = [header]
    for r in report.rows:
        data.append([feature_name(r.feature), value_name(r.feature, r.value)[:30]]
                    + [percent(report.share(r, s)) if report.share(r, s) is not None else "-" for s in STAGES]
                    + [f"{r.quota[0]}–{r.quota[1]}", _("yes") if r.met else _("NO")])
    table = Table(data, repeatRows=1)
    table.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), regular, 8), ("FONT", (0, 0), (-1, 0), bold, 8),
                               ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                               ("GRID", (0, 0), (-1, -1), 0.25, colors.grey)]))
    story += [Spacer(1, 6), table, Spacer(1, 10)]
    if report.probabilities:
        story.append(Paragraph(escape(_probabilities(report)), styles["BodyText"]))
    story.append(Paragraph(_("Every quota is met.") if all(r.met for r in report.rows)
                           else _("Some quota is NOT met."), styles["BodyText"]))
    for feature in dict.fromkeys(r.feature for r in report.rows):
        rows = [r for r in report.rows if r.feature == feature]
        parts = [rows[i:i + CHART_ROWS] for i in range(0, len(rows), CHART_ROWS)]
        top = max([100 * (report.share(r, s) or 0.0) for r in rows for s in STAGES] + [1.0])
        for n, part in enumerate(parts, start=1):
            heading = f"{feature_name(feature)} (%)" + (
                _(", part {n}/{count}").format(n=n, count=len(parts)) if len(parts) > 1 else "")
            chart = _chart(report, part, regular, top)
            story += [CondPageBreak(chart.height + 40), Spacer(1, 8),
                      KeepTogether([Paragraph(escape(heading), styles["Heading2"]), chart])]

    def record(digest: str) -> None:
        with Session(engine) as s:
            audit.record(s, "export.report", panel=report.panel_id, file_sha256=digest)
            s.commit()

    logo = _workspace_logo(engine)

    def first_page(canvas, doc) -> None:
        from letters.logo import draw_logo

        draw_logo(canvas, logo, A4[0] - doc.rightMargin, A4[1] - 12, 120, 40)

    with private_file(out, "wb", audit=record) as fh:
        document(fh, A4, title).build(story, onFirstPage=first_page)


def _workspace_logo(engine: Engine) -> dict | None:
    from pool import workspace

    return workspace.load(engine)["logo"] if workspace.exists(engine) else None
