"""The audiences' comparison in words: the CLI's lines and the PDF for decision-makers.

The reader is a board member, not a statistician: the largest differences and the common
ground come first, each as the share of each audience who agreed; then every statement.
A CSV beside the PDF holds every number (shares, intervals, n, p).
"""
from __future__ import annotations

from pathlib import Path

from opinions.compare import ALPHA, Audience, Comparison, Statement
from pool.i18n import _, csv_dialect, ngettext, number, percent
from pool.private import csv_writer, output_path, private_outputs

SHOWN = 10  # differences and common ground listed first


def audience_line(audiences: list[Audience]) -> str:
    parts = []
    for a in audiences:
        people = number(len(a.conv.participants))
        if a.weights is not None:
            parts.append(_("{label} ({people} people, weighted to the population by {features})").format(
                label=a.label, people=people, features=", ".join(a.weighted_by)))
        else:
            parts.append(_("{label} ({people} people)").format(label=a.label, people=people))
    return ", ".join(parts)


def agreed(s: Statement) -> str:
    """'Asukkaat 41 %, Henkilöstö 82 %': who agreed, audience by audience."""
    return ", ".join(_("{label} {share}").format(label=label, share=percent(x.agree, 0)) for label, x in s.shares.items())


def overview(c: Comparison, audiences: list[Audience]) -> list[str]:
    out = [ngettext("{count} statement was put to more than one audience: {audiences}.",
                    "{count} statements were put to more than one audience: {audiences}.", len(c.statements)).format(
        count=number(len(c.statements)), audiences=audience_line(audiences))]
    diff, common = len(c.differences()), len(c.common_ground())
    out.append(ngettext("The audiences surely differ on {count} of them.",
                        "The audiences surely differ on {count} of them.", diff).format(count=number(diff)))
    out.append(ngettext("Every audience agrees with {count} statement.",
                        "Every audience agrees with {count} statements.", common).format(count=number(common)))
    for label, n in c.unmatched.items():
        out.append(ngettext("{count} statement was asked only of {label}; it is left out.",
                            "{count} statements were asked only of {label}; they are left out.", n).format(
            count=number(n), label=label))
    return out


def how_to_read() -> list[str]:
    return [
        _("Shares are of the people in the audience who voted on the statement; the rest of those who voted "
          "disagreed or passed."),
        _("The audiences differ on a statement when their shares of agreement are further apart than chance "
          "would make them: over all the statements together, the chance of naming even one difference that "
          "is not there is at most {alpha}.").format(alpha=percent(ALPHA, 0)),
        _("Common ground is a statement that more than half of every audience agrees with, and surely so (the "
          "95 % range of each audience's share lies above one half)."),
    ]


def text_summary(c: Comparison, audiences: list[Audience]) -> list[str]:
    out = overview(c, audiences)
    out += ["", _("Largest differences:")]
    diffs = c.differences()[:SHOWN]
    out += [_("- {text}: {agreed} (gap {gap} points)").format(text=s.text, agreed=agreed(s), gap=number(round(s.gap * 100)))
            for s in diffs] or [_("- none")]
    out += ["", _("Common ground:")]
    out += [_("- {text}: {agreed}").format(text=s.text, agreed=agreed(s)) for s in c.common_ground()[:SHOWN]] or [_("- none")]
    return out


def agreed_cells(s: Statement, labels: list[str]) -> list[str]:
    """'44 % of 300' per audience in ``labels`` ('–' where it was not asked)."""
    return [_("{share} of {n}").format(share=percent(s.shares[label].agree, 0), n=number(s.shares[label].n))
            if label in s.shares else "–" for label in labels]


CSV_COLUMNS = ["text", "audience", "statement_id", "n", "agree", "agree_low", "agree_high", "disagree", "pass",
               "gap", "p", "significant", "common_ground"]


def write_comparison(c: Comparison, audiences: list[Audience], out: str | Path) -> list[Path]:
    """The PDF (and a CSV of every number beside it); returns the files written."""
    from reportlab.lib.pagesizes import A4
    from reportlab.platypus import Paragraph, Table

    from letters.pdf import document
    from opinions.report import _escape, pdf_styles

    out = output_path(out, (".pdf",))
    styles, small, grid, _bold = pdf_styles()

    def para(text: str, style=None) -> Paragraph:
        return Paragraph(_escape(text), style or styles["BodyText"])

    def table(header: list[str], rows: list[list[str]], first: float) -> Table:
        rest = (470 - first) / (len(header) - 1)
        t = Table([[Paragraph(_escape(cell), small) for cell in row] for row in [header, *rows]],
                  colWidths=[first] + [rest] * (len(header) - 1), repeatRows=1)
        t.setStyle(grid)
        return t

    labels = c.audiences

    def cells(s: Statement) -> list[str]:
        return agreed_cells(s, labels)

    agreed_by = [_("Agreed: {label}").format(label=label) for label in labels]
    story = [para(_("How the audiences answered the same statements"), styles["Title"])]
    story += [para(line) for line in overview(c, audiences)]
    story.append(para(_("Where the audiences differ most"), styles["Heading2"]))
    diffs = c.differences()[:SHOWN]
    story.append(table([_("Statement"), *agreed_by, _("Gap (points)")],
                       [[s.text, *cells(s), number(round(s.gap * 100))] for s in diffs], 200)
                 if diffs else para(_("No statement on which the audiences surely differ.")))
    story.append(para(_("Common ground: every audience agrees"), styles["Heading2"]))
    common = c.common_ground()[:SHOWN]
    story.append(table([_("Statement"), *agreed_by], [[s.text, *cells(s)] for s in common], 230)
                 if common else para(_("No statement that every audience surely agrees with.")))
    story.append(para(_("How to read this"), styles["Heading2"]))
    story += [para(line, small) for line in how_to_read()]
    story.append(para(_("Every statement, largest gap first"), styles["Heading2"]))
    story.append(table([_("Statement"), *agreed_by, _("Gap (points)"), _("Differ?")],
                       [[s.text, *cells(s), number(round(s.gap * 100)), _("yes") if s.significant else ""]
                        for s in c.statements], 170))
    csv_path = out.with_suffix(".csv")
    delimiter, encoding = csv_dialect()
    with private_outputs() as files:
        document(files.open(out, "wb", (".pdf",)), A4, _("Audiences compared")).build(story)
        # Excel in a Finnish locale reads 0,62 as a number and 0.62 as text
        w = csv_writer(files.open(csv_path, encoding=encoding, newline=""), delimiter=delimiter,
                       decimal_comma=delimiter == ";")
        w.writerow(CSV_COLUMNS)
        for s in c.statements:
            for label, x in s.shares.items():
                w.writerow([s.text, label, s.ids[label], x.n, round(x.agree, 4), round(x.low, 4),
                                round(x.high, 4), round(x.disagree, 4), round(x.passed, 4), round(s.gap, 4),
                                round(s.p, 6), int(s.significant), int(s.common_ground)])
    return [out, csv_path]
