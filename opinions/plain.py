"""What an analysis means, in words for a reader who is no statistician: the report's
plain sentences and cells (issue 13, item 3). The technical measures keep their names
in the report's appendix and their full values in the CSV tables.

Groups are lettered A, B, C as in Polis (group 0 of the CSV files is A). Shares are
of the group's people who voted on the statement, passes included, as counted.
"""
from __future__ import annotations

import string

from opinions.analysis import RUNS, Analysis
from pool.i18n import N_, _, ngettext, number, percent

SIDES = {"agree": N_("agree"), "disagree": N_("disagree")}
# Silhouette bands as Kaufman and Rousseeuw read them; stability by the adjusted Rand index.
CLEAR, MODERATE = 0.5, 0.25
SAME, MOSTLY = 0.9, 0.6


def group_letter(g: int) -> str:
    return string.ascii_uppercase[g] if g < 26 else str(g)


def group_name(g: int) -> str:
    """"group A" in the reader's language."""
    return _("group {letter}").format(letter=group_letter(g))


def side_name(side: str) -> str:
    return _(SIDES[side])


def share(count: float, n: float) -> str:
    """A share as the reader writes it ("62 %"), or "-" when nobody voted."""
    return percent(count / n, 0) if n else "-"


def overview(a: Analysis) -> list[str]:
    """The report's opening: who voted, how many groups, how far apart and how sure."""
    people, clustered = len(a.conversation.participants), len(a.clustered)
    out = [ngettext("{people} person took part; there were {statements} statements to vote on.",
                    "{people} people took part; there were {statements} statements to vote on.", people).format(
        people=number(people), statements=number(len(a.statements)))]
    if clustered < people:
        out.append(ngettext(
            "{left} of them voted on too few statements to be placed in a group; the rest, {clustered}, were.",
            "{left} of them voted on too few statements to be placed in a group; the rest, {clustered}, were.",
            people - clustered).format(left=number(people - clustered), clustered=number(clustered)))
    if a.k < 2:
        out.append(_("No split into groups of at least {size} people was found: everyone is in one group. "
                     "The statements below are still compared across everyone who voted.").format(
            size=a.min_group_size))
        return out
    sizes = ", ".join(_("{group}: {size}").format(group=group_name(g), size=number(n)) for g, n in enumerate(a.sizes()))
    out.append(_("People who voted alike were put in the same group. {k} groups were found ({sizes}).").format(
        k=a.k, sizes=sizes))
    if a.silhouette >= CLEAR:
        out.append(_("The groups are clearly apart: most people are much closer to their own group than to any other."))
    elif a.silhouette >= MODERATE:
        out.append(_("The groups are moderately apart: many people sit between two groups."))
    else:
        out.append(_("The groups overlap a lot: read them as broad leanings, not as camps."))
    if a.stability:
        sure = a.stability["resample_ari_mean"]  # the whole calculation again, on halves of the statements
        if sure >= SAME:
            out.append(_("Repeating the calculation in other ways gave nearly the same groups every time."))
        elif sure >= MOSTLY:
            out.append(_("Repeating the calculation in other ways gave mostly the same groups; some people moved "
                         "between groups."))
        else:
            out.append(_("Repeating the calculation in other ways often gave different groups: do not read much "
                         "into who is in which group."))
    return out


def how_to_read() -> list[str]:
    return [
        _("A statement sets a group apart when the group agrees (or disagrees) with it clearly more often than "
          "the other groups do; the table shows the share in the group and in the others."),
        _("A statement is common ground when every group leans the same way on it: most of each group agrees, "
          "or most of each group disagrees."),
        _("A statement divides when the groups' shares of agreeing differ by more than half: one group mostly "
          "agrees, another mostly disagrees."),
        _("How sure the numbers are: a share of a few voters is rough. With 10 voters, 50 % could well be "
          "anything from 25 % to 75 %; with 100 voters, from 40 % to 60 %. The 'voted' columns say how many "
          "voted; only differences the numbers make likely (90 % sure) are reported."),
    ]


def apart_rows(a: Analysis, g: int) -> list[tuple[str, str, str, int, str]]:
    """(view, share in the group, share in the others, voted, statement id) of the
    statements that set group ``g`` apart, most telling first."""
    s, index, rows = a.stats, a.columns, []
    for sid, side, _x in a.representative(g):
        j = index[sid]
        count = s.agree if side == "agree" else s.disagree
        rest, rest_n = count[:, j].sum() - count[g, j], s.votes[:, j].sum() - s.votes[g, j]
        rows.append((side_name(side), share(count[g, j], s.votes[g, j]), share(rest, rest_n), int(s.votes[g, j]), sid))
    return rows


def common_ground_rows(a: Analysis, limit: int = 15) -> list[tuple[str, str, str]]:
    """(view, the smallest share of any group holding it, statement id) of the statements
    every group agrees (or disagrees) with, strongest first."""
    s, index, rows = a.stats, a.columns, []
    for sid, side, _x in a.consensus()[:limit]:
        j = index[sid]
        count = s.agree if side == "agree" else s.disagree
        lowest = min((count[g, j] / s.votes[g, j] for g in range(a.k) if s.votes[g, j]), default=0.0)
        rows.append((side_name(side), percent(lowest, 0), sid))
    return rows


def divisive_rows(a: Analysis, limit: int = 15) -> list[tuple[str, str, str]]:
    """(each group's agree share among those who took a side, the gap with the least it
    surely is, statement id) of the divisive statements, most divisive first."""
    s, index, rows = a.stats, a.columns, []
    for sid, gap, low, _high in a.divisive_statements()[:limit]:
        j = index[sid]
        sides = s.agree[:, j] + s.disagree[:, j]
        shares = " · ".join(f"{group_letter(g)} {share(s.agree[g, j], sides[g])}" for g in range(a.k))
        rows.append((shares, _("{gap} points (at least {low})").format(gap=round(gap * 100), low=round(low * 100)), sid))
    return rows


def interval(low: float, high: float) -> str:
    """"30–61 %": a range of shares."""
    return _("{low}–{high}").format(low=number(round(low * 100)), high=percent(high, 0))


def appendix(a: Analysis) -> list[tuple[str, str]]:
    """(term, explanation with this analysis's figures) for the technical appendix."""
    out = [
        (_("Method"), _("As in Polis: the votes (agree 1, disagree -1, pass 0) are reduced to a two-dimensional "
                        "map by principal components; people are put in up to 100 small clusters on that map by "
                        "k-means, the small clusters into groups by k-means again, and the number of groups (2 to "
                        "5) is the one with the best silhouette. This is done {runs} times from different starts "
                        "and the grouping that agrees best with the others is kept. Seed {seed!r}; every group has "
                        "at least {size} people; a person is placed when they voted on at least 7 statements (or "
                        "on all, when there are fewer).").format(runs=number(RUNS), seed=a.seed, size=a.min_group_size)),
        (_("Silhouette"), _("{value}: how far apart the groups are, from -1 to 1. Above 0.5 clearly apart, 0.25 "
                            "to 0.5 moderately, below 0.25 overlapping.").format(value=number(a.silhouette, 3))),
    ]
    if a.stability:
        st = a.stability
        out.append((_("Adjusted Rand index (ARI)"), _(
            "How alike two groupings are: 1 the same, 0 no more alike than chance. The other {runs} runs "
            "against the grouping kept: mean {restart}, lowest {restart_min}; the whole calculation on {halves} "
            "random halves of the statements: mean {half}, lowest {half_min}.").format(
            runs=st["runs"], halves=st["resamples"], restart=number(st["restart_ari_mean"], 2),
            restart_min=number(st["restart_ari_min"], 2), half=number(st["resample_ari_mean"], 2),
            half_min=number(st["resample_ari_min"], 2))))
    out += [
        (_("z"), _("A statement sets a group apart when the group's agree (or disagree) probability "
                   "(a + 1) / (n + 2) exceeds an even split and the other groups' probability, each with z above "
                   "1.28 (one-sided 90 %). They are ranked as in Polis.")),
        (_("gic"), _("Group-informed consensus: the product over the groups of (a + 1) / (n + 2). Common ground "
                     "is a statement that every group agrees (or disagrees) with at z above 1.28; it is listed by "
                     "gic.")),
        (_("D"), _("Divisiveness: among those who took a side, the most agreeing group's share minus the least "
                   "agreeing group's, each (a + 1) / (a + d + 2), with a 90 % normal interval. A statement divides "
                   "when the interval's lower end is above 0.5; 'points' in the report are D × 100.")),
        (_("Intervals"), _("The 95 % intervals by background are Wilson score intervals. Weighting to the "
                           "population is post-stratification: each background group's share of agreeing counts by "
                           "its share of the population; coverage is how much of the population the voters' groups "
                           "stand for.")),
        (_("Files"), _("Every number is in the CSV files beside this report; their group 0 is group A, 1 is B and "
                       "so on.")),
    ]
    return out

