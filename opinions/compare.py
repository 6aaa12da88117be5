"""The same statements put to several audiences, compared: where they differ, where they agree.

Keski-Suomi runs one set of statements in three Polis conversations (all residents, the
county's staff, the drawn resident panel) and asks for "the differences and common ground
between staff and residents". Each audience is its own conversation; this module lines
their statements up and compares the answers.

- **Matching.** A statement is the same across audiences when its text is, after
  Unicode normalisation (NFKC), case folding, dropping punctuation and collapsing white
  space; or as a mapping CSV says (one column per audience label, one row per
  statement, each cell that audience's statement id, blank where it was not asked).
  Moderated-out statements take no part.
- **Shares.** Per audience and statement: agree, disagree and pass shares of the votes
  cast, n, and a 95 % Wilson interval of the agree share.
- **Weighting.** One audience (the drawn panel) can be weighted to the population:
  its participants' weights are raked (iterative proportional fitting) so that each
  strata feature's weighted shares match the population margins; shares are then
  weighted, and intervals and tests use Kish's effective n = (sum w)^2 / sum w^2.
- **Differences.** ``gap`` = highest minus lowest agree share among the audiences that
  voted on the statement. Whether the audiences differ is a chi-square test of
  homogeneity of agree / not agree (k - 1 degrees of freedom); across the statements,
  Holm's step-down method keeps the chance of flagging any statement when the
  audiences do not differ at most ``ALPHA`` (5 %) in all.
- **Common ground.** A statement every audience agrees with: in each, the agree share's
  95 % interval lies above one half.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from opinions.analysis import wilson
from opinions.data import Conversation, spreadsheet_csv, text_file
from pool.errors import OtosError, RejectedFile
from pool.i18n import _

ALPHA = 0.05  # family-wise error rate over the statements
Z95 = 1.96
MAX_LABEL = 40
RAKE_ROUNDS = 100


@dataclass
class Audience:
    label: str
    conv: Conversation
    weights: np.ndarray | None = None  # per participant, when weighted to the population
    weighted_by: list[str] = field(default_factory=list)  # the strata features raked on


@dataclass
class Share:
    agree: float
    disagree: float
    passed: float
    n: int  # people who voted on the statement
    low: float  # 95 % interval of the agree share
    high: float
    effective_n: float


@dataclass
class Statement:
    text: str
    ids: dict[str, str]  # audience label -> statement id in its conversation
    shares: dict[str, Share]  # audiences that voted on it
    gap: float = 0.0
    p: float = 1.0
    significant: bool = False

    @property
    def common_ground(self) -> bool:
        return len(self.shares) >= 2 and all(s.low > 0.5 for s in self.shares.values())


@dataclass
class Comparison:
    audiences: list[str]
    statements: list[Statement]  # largest gap first
    unmatched: dict[str, int]  # audience -> statements asked only there

    def common_ground(self) -> list[Statement]:
        return sorted((s for s in self.statements if s.common_ground),
                      key=lambda s: -min(x.agree for x in s.shares.values()))

    def differences(self) -> list[Statement]:
        return [s for s in self.statements if s.significant]


def check_labels(labels: list[str]) -> list[str]:
    """The audiences' labels, stripped; refused when empty, too long, unprintable or twice."""
    out = []
    for label in labels:
        label = label.strip()
        if not label or len(label) > MAX_LABEL or not label.isprintable():
            raise OtosError(_("Audience label {label!r}: give a short name of 1 to {max} printable characters.").format(
                label=label[:60], max=MAX_LABEL))
        if label in out:
            raise OtosError(_("Audience label {label!r} is given twice; each audience needs its own.").format(label=label))
        out.append(label)
    return out


def check_weighted(labels: list[str], weight: str | None) -> None:
    """Refuse a weighted audience that is none of the labels."""
    if weight is not None and weight.strip() not in [label.strip() for label in labels]:
        raise OtosError(_("--weight {name!r} is none of the labels ({labels}).").format(
            name=weight, labels=", ".join(labels)))


def normalise(text: str) -> str:
    """Text for matching: NFKC, case-folded, punctuation dropped, white space collapsed."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = "".join(" " if unicodedata.category(c)[0] in "PSZC" else c for c in text)
    return " ".join(text.split())


def match_by_text(audiences: list[Audience]) -> list[dict[str, str]]:
    """Label -> statement id for every normalised text asked in at least one audience,
    in the first audience's order."""
    rows: dict[str, dict[str, str]] = {}
    for aud in audiences:
        seen: dict[str, str] = {}
        for sid, active in zip(aud.conv.statements, aud.conv.active):
            key = normalise(aud.conv.texts.get(sid, ""))
            if not active or not key:
                continue
            if key in seen:
                raise OtosError(_("{source}: statements {first} and {second} have the same text, so they cannot be "
                                  "matched by text.").format(source=aud.conv.source, first=seen[key], second=sid),
                                hint=_("Give a mapping file (--mapping) that pairs the statements by id."))
            seen[key] = sid
            rows.setdefault(key, {})[aud.label] = sid
    return list(rows.values())


@text_file
def read_mapping(path: str | Path, audiences: list[Audience]) -> list[dict[str, str]]:
    """A mapping CSV: a column per audience label, a row per statement, each cell the
    statement id in that audience's conversation (blank: not asked there)."""
    path = Path(path)
    reader = spreadsheet_csv(path, _("statement mapping"))
    header = [h.strip() for h in next(reader, None) or []]
    labels = [a.label for a in audiences]
    missing = [label for label in labels if label not in header]
    if missing:
        raise RejectedFile(_("{path}, line 1: no column for audience {labels}.").format(
            path=path, labels=", ".join(repr(m) for m in missing)),
            hint=_("The header names each audience by its --label; each row gives the statement ids."))
    known = {a.label: {sid: active for sid, active in zip(a.conv.statements, a.conv.active)} for a in audiences}
    rows, used = [], {label: {} for label in labels}
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        line = reader.line_num
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line}: {count} fields where the header has {count2}.").format(
                path=path, line=line, count=len(row), count2=len(header)))
        ids = {}
        for label in labels:
            column = header.index(label) + 1
            sid = row[column - 1].strip()
            if not sid:
                continue
            if sid not in known[label]:
                raise RejectedFile(_("{path}, line {line}, column {column} ({label}): there is no statement {sid} "
                                     "in that conversation.").format(path=path, line=line, column=column, label=label,
                                                                      sid=sid[:40]))
            if sid in used[label]:
                raise RejectedFile(_("{path}, line {line}, column {column} ({label}): statement {sid} is already "
                                     "on line {first}.").format(path=path, line=line, column=column, label=label,
                                                               sid=sid, first=used[label][sid]))
            used[label][sid] = line
            if known[label][sid]:
                ids[label] = sid
        if ids:
            rows.append(ids)
    if not rows:
        raise RejectedFile(_("{path}: no statement is mapped.").format(path=path))
    return rows


def rake(conv: Conversation, of: dict[str, dict[str, str]],
         population: dict[str, dict[str, float]]) -> tuple[np.ndarray, list[str]]:
    """Participant weights whose shares match ``population`` on every feature both the
    participants and the population have; participants without a value of such a
    feature weigh 0. Returns (weights, features used)."""
    features = [f for f in population if any(f in v for v in of.values())]
    if not features:
        raise OtosError(_("No strata feature is both in the participants file and in the population margins."),
                        hint=_("Use the same feature names (e.g. age, language) in both files."))
    values = {f: [of.get(p, {}).get(f, "") for p in conv.participants] for f in features}
    w = np.array([all(values[f][i] in population[f] for f in features) for i in range(len(conv.participants))],
                 dtype=float)
    if not w.any():
        raise OtosError(_("No participant of {source} has strata values that the population margins know.").format(
            source=conv.source))
    for f in features:
        absent = [v for v, share in population[f].items() if share > 0 and v not in values[f]]
        if absent:
            raise OtosError(_("Nobody in {source} stands for {feature} = {values}, so it cannot be weighted to the "
                              "population.").format(source=conv.source, feature=f, values=", ".join(absent)),
                            hint=_("Merge that value with another in the population margins, or compare unweighted."))
    for _round in range(RAKE_ROUNDS):
        before = w.copy()
        for f in features:
            col = np.array(values[f])
            total = w.sum()
            for v, share in population[f].items():
                mine = col == v
                have = w[mine].sum()
                if have > 0:
                    w[mine] *= share * total / have
        if np.abs(w - before).max() <= 1e-9 * max(w.max(), 1.0):
            break
    return w * (np.count_nonzero(w) / w.sum()), features


def chi2_sf(x: float, df: int) -> float:
    """Upper tail of the chi-square distribution with ``df`` (a whole number) degrees of freedom."""
    if x <= 0:
        return 1.0
    if df % 2 == 0:
        term = total = 1.0
        for i in range(1, df // 2):
            term *= (x / 2) / i
            total += term
        return min(1.0, math.exp(-x / 2) * total)
    chi = math.sqrt(x)
    total, term = 0.0, chi
    for r in range(1, (df - 1) // 2 + 1):
        total += term
        term *= x / (2 * r + 1)
    return min(1.0, math.erfc(chi / math.sqrt(2)) + 2 * math.exp(-x / 2) / math.sqrt(2 * math.pi) * total)


def homogeneity_p(shares: list[Share]) -> float:
    """p of the chi-square test that the audiences' agree shares are equal (effective n)."""
    n = np.array([s.effective_n for s in shares])
    agree = np.array([s.agree for s in shares]) * n
    if len(shares) < 2 or n.sum() <= 0:
        return 1.0
    pooled = agree.sum() / n.sum()
    if pooled <= 0 or pooled >= 1:
        return 1.0
    expected_a, expected_b = n * pooled, n * (1 - pooled)
    x = float((((agree - expected_a) ** 2) / expected_a + (((n - agree) - expected_b) ** 2) / expected_b).sum())
    return chi2_sf(x, len(shares) - 1)


def holm(ps: list[float], alpha: float = ALPHA) -> list[bool]:
    """Holm's step-down: which hypotheses are rejected, the family-wise error kept at ``alpha``."""
    order = sorted(range(len(ps)), key=lambda i: ps[i])
    rejected = [False] * len(ps)
    for rank, i in enumerate(order):
        if ps[i] > alpha / (len(ps) - rank):
            break
        rejected[i] = True
    return rejected


def share(aud: Audience, sid: str) -> Share | None:
    j = aud.conv.statements.index(sid)
    col = aud.conv.votes[:, j]
    voted = ~np.isnan(col)
    if not voted.any():
        return None
    w = np.ones(len(col)) if aud.weights is None else aud.weights
    w = np.where(voted, w, 0.0)
    total = w.sum()
    if total <= 0:
        return None
    eff = total ** 2 / (w ** 2).sum()
    agree, disagree = w[col == 1].sum() / total, w[col == -1].sum() / total
    low, high = wilson(agree * eff, eff)
    return Share(float(agree), float(disagree), float(1 - agree - disagree), int(voted.sum()), low, high, float(eff))


def compare(audiences: list[Audience], mapping: list[dict[str, str]] | None = None) -> Comparison:
    """Line the audiences' statements up (by ``mapping`` or by text) and compare them."""
    if len(audiences) < 2:
        raise OtosError(_("Give at least two audiences to compare (--polis DIR --label NAME, twice or more)."))
    rows = mapping if mapping is not None else match_by_text(audiences)
    by_label = {a.label: a for a in audiences}
    statements, unmatched = [], {a.label: 0 for a in audiences}
    for ids in rows:
        if len(ids) < 2:
            for label in ids:
                unmatched[label] += 1
            continue
        first = next(a for a in audiences if a.label in ids)
        shares = {label: share(by_label[label], sid) for label, sid in ids.items()}
        shares = {label: x for label, x in shares.items() if x is not None}
        text = " ".join(first.conv.texts.get(ids[first.label], "").split()) or f"#{ids[first.label]}"
        statements.append(Statement(text, ids, shares))
    if not statements:
        raise OtosError(_("No statement was asked in two or more of the audiences."),
                        hint=_("Statements are matched by their text; if the wording differs, give a mapping file "
                               "(--mapping)."))
    for st in statements:
        agree = [s.agree for s in st.shares.values()]
        st.gap = max(agree) - min(agree) if len(agree) >= 2 else 0.0
        st.p = homogeneity_p(list(st.shares.values()))
    for st, flagged in zip(statements, holm([st.p for st in statements])):
        st.significant = flagged
    statements.sort(key=lambda s: (-s.gap, s.text))
    return Comparison([a.label for a in audiences], statements, {k: v for k, v in unmatched.items() if v})


def to_json(c: Comparison) -> dict:
    return {
        "audiences": c.audiences,
        "statements": [{"text": s.text, "ids": s.ids,
                        "audiences": {label: {"agree": x.agree, "disagree": x.disagree, "pass": x.passed, "n": x.n,
                                              "agree_interval": [x.low, x.high]}
                                      for label, x in s.shares.items()},
                        "gap": s.gap, "p": s.p, "significant": s.significant} for s in c.statements],
        "common_ground": [s.text for s in c.common_ground()],
        "alpha": ALPHA,
        "unmatched": c.unmatched,
    }




def compare_exports(exports: list[tuple[str, str | Path]], mapping: str | Path | None = None,
                    weight: str | None = None, strata=None) -> tuple[Comparison, list[Audience]]:
    """The service the CLI and the app call: read each (label, Polis export folder),
    weight the audience labelled ``weight`` by ``strata`` (opinions.strata.Strata: the
    participants' strata and the population margins), match and compare."""
    from opinions.data import read_polis_export

    labels = check_labels([label for label, _folder in exports])
    check_weighted(labels, weight)
    audiences = [Audience(label, read_polis_export(folder)) for label, (_x, folder) in zip(labels, exports)]
    if weight is not None:
        target = next(a for a in audiences if a.label == weight.strip())
        target.weights, target.weighted_by = rake(target.conv, strata.of, strata.population)
    return compare(audiences, read_mapping(mapping, audiences) if mapping else None), audiences
