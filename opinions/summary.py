"""What an analysis says, as plain data: the JSON object, the full statement table,
and the short text summary the CLI prints. No personal data: participant ids only as
they appear in the export."""
from __future__ import annotations

from opinions.analysis import Analysis
from opinions.plain import group_letter, side_name
from pool.i18n import _, ngettext, number, percent

STATEMENT_COLUMNS = ["statement", "group", "n", "agree", "disagree", "pass", "agree_share", "p_agree", "z_agree",
                     "p_disagree", "z_disagree", "ratio_agree", "z_agree_vs_rest", "gic_agree", "divisiveness",
                     "divisiveness_low", "divisiveness_high"]


def _text(a: Analysis, sid: str, width: int | None = None) -> str:
    text = " ".join(a.conversation.texts.get(sid, "").split())
    if width and len(text) > width:
        text = text[:width - 1] + "…"
    return text


def to_json(a: Analysis) -> dict:
    """The object ``otos opinions analyze --json`` prints."""
    low, high = a.divisive.interval
    index = a.columns
    return {
        "seed": a.seed,
        "participants": len(a.conversation.participants),
        "clustered": len(a.clustered),
        "statements_used": len(a.statements),
        "moderated_out": sorted(a.conversation.moderated_out),
        "k": a.k,
        "sizes": a.sizes(),
        "silhouette": round(a.silhouette, 4),
        "stability": a.stability,
        "groups": a.groups(),
        "consensus": [sid for sid, _x, _x in a.consensus()],
        "consensus_detail": [{"statement": sid, "direction": side, "gic": round(g, 4)}
                             for sid, side, g in a.consensus()],
        "divisive": [sid for sid, *_x in a.divisive_statements()],
        "divisive_detail": [{"statement": sid, "divisiveness": round(d, 4), "interval90": [round(lo, 4), round(hi, 4)]}
                            for sid, d, lo, hi in a.divisive_statements()],
        "representative": {str(g): [{"statement": sid, "direction": side, "metric": round(m, 3)}
                                    for sid, side, m in a.representative(g)] for g in range(a.k)},
        "statements": _statement_objects(a),
        "most_divisive": [{"statement": sid, "divisiveness": round(float(a.divisive.gap[index[sid]]), 4),
                           "interval90": [round(float(low[index[sid]]), 4), round(float(high[index[sid]]), 4)]}
                          for sid in sorted(a.statements, key=lambda s: -a.divisive.gap[index[s]])[:5]],
    }


def _statement_objects(a: Analysis) -> dict[str, dict]:
    """Every statement with n, agree / disagree / pass, and the z's in every group."""
    st, d = a.stats, a.divisive
    out = {}
    for j, sid in enumerate(a.statements):
        out[sid] = {"gic_agree": round(float(a.gic_agree[j]), 4), "divisiveness": round(float(d.gap[j]), 4),
                    "groups": [{"n": int(st.votes[g, j]), "agree": int(st.agree[g, j]),
                                "disagree": int(st.disagree[g, j]), "pass": int(st.passed[g, j]),
                                "p_agree": round(float(st.pa[g, j]), 4), "z_agree": round(float(st.za[g, j]), 3),
                                "z_agree_vs_rest": round(float(st.za_rest[g, j]), 3),
                                "p_disagree": round(float(st.pd[g, j]), 4), "z_disagree": round(float(st.zd[g, j]), 3)}
                               for g in range(a.k)]}
    return out


def statement_rows(a: Analysis) -> list[list]:
    """One row per statement and group: counts, shares, z's, consensus and divisiveness."""
    s, d = a.stats, a.divisive
    low, high = d.interval
    rows = []
    for j, sid in enumerate(a.statements):
        for g in range(a.k):
            n = int(s.votes[g, j])
            rows.append([sid, g, n, int(s.agree[g, j]), int(s.disagree[g, j]), int(s.passed[g, j]),
                         round(s.agree[g, j] / n, 4) if n else "", round(float(s.pa[g, j]), 4),
                         round(float(s.za[g, j]), 3), round(float(s.pd[g, j]), 4), round(float(s.zd[g, j]), 3),
                         round(float(s.ra[g, j]), 3), round(float(s.za_rest[g, j]), 3),
                         round(float(a.gic_agree[j]), 4), round(float(d.gap[j]), 4), round(float(low[j]), 4),
                         round(float(high[j]), 4)])
    return rows


def text_summary(a: Analysis, width: int = 90) -> list[str]:
    """The lines ``otos opinions analyze`` prints."""
    out = [_("{count} participants, {count2} clustered (voted on at least min(7, statements)); {count3} statements used, {count4} moderated out. Seed {seed!r}.").format(count=len(a.conversation.participants), count2=len(a.clustered), count3=len(a.statements), count4=len(a.conversation.moderated_out), seed=a.seed),
           ngettext("{k} opinion group, sizes {sizes}; silhouette {silhouette}.",
                    "{k} opinion groups, sizes {sizes}; silhouette {silhouette}.", a.k).format(
               k=a.k, sizes=", ".join(map(str, a.sizes())), silhouette=number(a.silhouette, 3))]
    if a.k == 1:
        out.append(_("No split into groups of at least {min_group_size} people was found: everyone is in one group (a smaller --min-group-size may find groups).").format(min_group_size=a.min_group_size))
    if a.stability:
        st = a.stability
        out.append(_("Stability (adjusted Rand index, 1 = same groups): {runs} runs from other starts {restart_ari_mean} (lowest {restart_ari_min}), {resamples} random halves of the statements {resample_ari_mean} (lowest {resample_ari_min}).").format(
            **{k: number(st[k], 2) for k in ("restart_ari_mean", "restart_ari_min", "resample_ari_mean", "resample_ari_min")},
            runs=st["runs"], resamples=st["resamples"]))
    for g in range(a.k):
        out.append("")
        out.append(_("Group {letter} ({size} people) stands out by:").format(letter=group_letter(g), size=a.sizes()[g]))
        reps = a.representative(g)
        if not reps:
            out.append(_("  (no statement separates this group significantly)"))
        j = a.columns
        for sid, side, _x in reps:
            share = a.stats.pa[g, j[sid]] if side == "agree" else a.stats.pd[g, j[sid]]
            out.append(f"  {side_name(side):>12} {percent(share, 0):>5}  #{sid} {_text(a, sid, width - 26)}")
    out.append("")
    consensus = a.consensus()
    out.append(_("Consensus ({count}): every group agrees or disagrees significantly").format(count=len(consensus))
               if consensus else _("Consensus: no statement that every group agrees (or disagrees) with significantly."))
    for sid, side, gic in consensus[:10]:
        out.append(f"  {side_name(side):>12} gic {number(gic, 2)}  #{sid} {_text(a, sid, width - 30)}")
    divisive = a.divisive_statements()
    out.append("")
    out.append(_("Divisive ({count}): groups' agree shares differ by more than half (90 % interval)").format(count=len(divisive))
               if divisive else _("Divisive: no statement whose groups' agree shares surely differ by more than half."))
    for sid, gap, lo, hi in divisive[:10]:
        out.append(f"  D {number(gap, 2)} [{number(lo, 2)}; {number(hi, 2)}]  #{sid} {_text(a, sid, width - 26)}")
    return out
