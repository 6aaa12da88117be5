"""The lottery record: a lottery over panels written down exactly, the draw from it
defined on SHA-256 alone, and a verifier that needs neither a solver nor NumPy.

Standard library only (and ``pool.errors``), so a draw can be checked anywhere, with any
versions of HiGHS and NumPy or without them: ``python -m sampling.record FILE``. Writing
a record (``assemble``, ``save``, ``draw_prepared``) is here too, so the format has one home.

A record (JSON, schema in ``docs/lottery-record.schema.json``) has:

- ``lottery``: everything fixed before the seed. The panel size, the features, the
  quotas, the household rule; the *types* (people interchangeable for the quotas: their
  values, their ids sorted, their probabilities as exact fractions ``"n/d"``, and for a
  single person who shares a dwelling or was seated in advance, ``dwelling``/``fixed``);
  the *panels* (seats per type, ``[[type index, seats], ...]``) each with an integer
  ``weight``; ``denominator``, the sum of the weights (a panel's probability is
  weight / denominator); ``within_type``: how people are picked inside a type
  (``shuffle``, or ``deal`` for a lottery of equally likely tickets).
- ``lottery_sha256``: SHA-256 of the lottery in canonical JSON (RFC 8785: keys sorted,
  no whitespace, UTF-8; the lottery holds no floating-point numbers).
- ``draw``: the ``seed`` (or the ``ticket``), the ``panel`` drawn (ids sorted), when.

The sampler (``otos-sha256-v1``), written out in the README:

- block *i* of a seed is SHA-256 of the UTF-8 text ``otos-sha256-v1\\n<i>\\n<seed>``,
  read as a 256-bit big-endian integer; *i* counts 0, 1, 2 ... across the whole draw;
- ``below(n)``: take the next block x; if x < 2^256 - (2^256 mod n) answer x mod n,
  else take the next block (rejection, so every answer is exactly equally likely);
- the panel: r = below(denominator) (with a ticket N instead: r = N - 1); the panel is
  the first, in the record's order, whose running sum of weights exceeds r;
- people (``shuffle``): for each type the panel seats, in type order, with c seats and
  its people p[0..n-1] as listed (sorted): for j = 0 .. c-1 swap p[j] with
  p[j + below(n - j)]; the first c are seated;
- people (``deal``): ticket positions 0 .. denominator-1 run through the panels in
  order, each repeated weight times; in each type the seats of all tickets before r
  take people p[0], p[1], ... round and round; ticket r takes the next c.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from pool.errors import OtosError
from pool.i18n import _

FORMAT = "otos-lottery-record"
FORMAT_VERSION = 1
SAMPLER = "otos-sha256-v1"
HOUSEHOLD_RULE = "at most one panel member per shared dwelling"
WITHIN = ("shuffle", "deal")
_SPACE = 1 << 256
MAX_BYTES = 512 << 20  # a record of a 50,000-person pool is tens of MB


class RecordError(OtosError):
    """The record cannot be read as a lottery record (what and where is in the message)."""


@dataclass
class Verification:
    ok: bool
    differences: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def canonical(obj: Any) -> bytes:
    """RFC 8785 canonical JSON of ``obj`` (which holds no floats): what the hash is taken of."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def lottery_hash(lottery: dict) -> str:
    return hashlib.sha256(canonical(lottery)).hexdigest()


class Stream:
    """Uniform integers from SHA-256 blocks of the seed (the sampler's only randomness)."""

    def __init__(self, seed: str) -> None:
        self.seed = seed
        self.counter = 0

    def block(self) -> int:
        text = f"{SAMPLER}\n{self.counter}\n{self.seed}".encode("utf-8")
        self.counter += 1
        return int.from_bytes(hashlib.sha256(text).digest(), "big")

    def below(self, n: int) -> int:
        """A whole number 0 <= x < n, every value exactly equally likely."""
        if n < 1:
            raise RecordError(_("Cannot draw a number below {n}.").format(n=n))
        limit = _SPACE - _SPACE % n
        while True:
            x = self.block()
            if x < limit:
                return x % n


def _running(lottery: dict, r: int) -> tuple[int, int]:
    """(index of the panel holding ticket position r, position where that panel starts)."""
    start = 0
    for i, panel in enumerate(lottery["panels"]):
        if r < start + panel["weight"]:
            return i, start
        start += panel["weight"]
    raise RecordError(_("Ticket position {r} is past the lottery's {denominator} tickets.").format(r=r, denominator=lottery['denominator']))


def draw(lottery: dict, seed: str | None = None, ticket: int | None = None) -> list[str]:
    """The ids the sampler seats for ``seed`` (or hand-drawn ``ticket`` 1..denominator), sorted."""
    denominator = lottery["denominator"]
    stream = Stream(seed) if seed is not None else None
    if ticket is not None:
        if lottery["within_type"] != "deal":
            raise RecordError(_("A ticket number decides a panel only in a lottery of equally likely tickets."),
                              hint=_("Prepare the lottery with --uniform M, or draw with a seed."))
        if not 1 <= ticket <= denominator:
            raise RecordError(_("Ticket {ticket} is not between 1 and {denominator}.").format(ticket=ticket, denominator=denominator))
        r = ticket - 1
    elif stream is not None:
        r = stream.below(denominator)
    else:
        raise RecordError(_("A draw needs a seed or a ticket number."))
    index, start = _running(lottery, r)
    types = lottery["types"]
    chosen: list[str] = []
    for t, seats in lottery["panels"][index]["seats"]:
        people = list(types[t]["people"])
        if lottery["within_type"] == "shuffle":
            for j in range(seats):
                k = j + stream.below(len(people) - j)
                people[j], people[k] = people[k], people[j]
            chosen.extend(people[:seats])
        else:
            before = sum(p["weight"] * dict(map(tuple, p["seats"])).get(t, 0) for p in lottery["panels"][:index])
            offset = before + (r - start) * seats
            chosen.extend(people[(offset + j) % len(people)] for j in range(seats))
    return sorted(chosen)


def marginals(lottery: dict) -> list[list[Fraction]]:
    """Each person's exact selection probability, type by type in the record's order."""
    denominator = lottery["denominator"]
    slots: Counter = Counter()
    for panel in lottery["panels"]:
        for t, seats in panel["seats"]:
            slots[t] += panel["weight"] * seats
    out = []
    for t, tp in enumerate(lottery["types"]):
        n = len(tp["people"])
        if lottery["within_type"] == "shuffle":
            out.append([Fraction(slots[t], n * denominator)] * n)
        else:
            base, extra = divmod(slots[t], n)
            out.append([Fraction(base + (q < extra), denominator) for q in range(n)])
    return out


def fraction_text(x: Fraction) -> str:
    return f"{x.numerator}/{x.denominator}"


def _fraction(text: Any, where: str) -> Fraction:
    if not isinstance(text, str) or text.count("/") != 1:
        raise RecordError(_('{where}: a probability is written as "numerator/denominator", not {text!r}.').format(where=where, text=text))
    a, b = text.split("/")
    if not (a.isdigit() and b.isdigit() and int(b) > 0):
        raise RecordError(_("{where}: {text!r} is not a fraction of whole numbers.").format(where=where, text=text))
    return Fraction(int(a), int(b))


# ---------------------------------------------------------------- reading a record


def _need(obj: Any, key: str, kind: type | tuple, where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise RecordError(_("{where}: the field {key!r} is missing.").format(where=where, key=key))
    value = obj[key]
    if kind is int and isinstance(value, bool) or not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RecordError(_("{where}.{key}: expected {name}, found {name2}.").format(where=where, key=key, name=name, name2=type(value).__name__))
    return value


def _check_shape(record: Any) -> None:
    """Raise RecordError naming the first field that is missing or of the wrong kind."""
    if not isinstance(record, dict):
        raise RecordError(_("The record is not a JSON object."))
    if record.get("format") != FORMAT:
        raise RecordError(_("This is not an Otos lottery record (format {get!r}).").format(get=record.get('format')))
    if record.get("format_version") != FORMAT_VERSION:
        raise RecordError(_("Record format version {get!r} is not one this Otos reads ({format_version}).").format(get=record.get('format_version'), format_version=FORMAT_VERSION), hint=_("Verify it with the Otos version that wrote it."))
    lot = _need(record, "lottery", dict, "record")
    _need(record, "lottery_sha256", str, "record")
    for key, kind in (("panel_size", int), ("denominator", int), ("features", list), ("quotas", list),
                      ("types", list), ("panels", list), ("within_type", str), ("sampler", str),
                      ("algorithm", str), ("household_rule", str)):
        _need(lot, key, kind, "lottery")
    features = lot["features"]
    if not all(isinstance(f, str) for f in features):
        raise RecordError(_("lottery.features: every feature is a text."))
    for i, q in enumerate(lot["quotas"]):
        where = f"lottery.quotas[{i}]"
        _need(q, "feature", str, where), _need(q, "value", str, where)
        _need(q, "min", int, where), _need(q, "max", int, where)
    for t, tp in enumerate(lot["types"]):
        where = f"lottery.types[{t}]"
        values, people, probs = (_need(tp, "values", list, where), _need(tp, "people", list, where),
                                 _need(tp, "probabilities", list, where))
        if len(values) != len(features) or not all(isinstance(v, str) for v in values):
            raise RecordError(_("{where}.values: one text per feature ({count}) expected.").format(where=where, count=len(features)))
        if not people or not all(isinstance(p, str) and p for p in people):
            raise RecordError(_("{where}.people: a type lists one or more ids (texts).").format(where=where))
        if len(probs) != len(people):
            raise RecordError(_("{where}.probabilities: one per person ({count}) expected.").format(where=where, count=len(people)))
        if tp.get("dwelling") is not None and not isinstance(tp["dwelling"], str):
            raise RecordError(_("{where}.dwelling: a text or null.").format(where=where))
        if not isinstance(tp.get("fixed", False), bool):
            raise RecordError(_("{where}.fixed: true or false.").format(where=where))
    for i, panel in enumerate(lot["panels"]):
        where = f"lottery.panels[{i}]"
        _need(panel, "weight", int, where)
        for pair in _need(panel, "seats", list, where):
            if (not isinstance(pair, list) or len(pair) != 2 or not all(isinstance(x, int) and not isinstance(x, bool)
                                                                       for x in pair)):
                raise RecordError(_("{where}.seats: each entry is [type index, seats].").format(where=where))
            if not 0 <= pair[0] < len(lot["types"]):
                raise RecordError(_("{where}.seats: type {value} does not exist.").format(where=where, value=pair[0]))
    reps = record.get("replacements")
    if reps is not None and (not isinstance(reps, list) or not all(isinstance(r, dict) for r in reps)):
        raise RecordError(_("record.replacements: a list of records (lottery, lottery_sha256, draw)."))
    if "draw" in record and record["draw"] is not None:
        d = _need(record, "draw", dict, "record")
        _need(d, "panel", list, "draw")
        if d.get("seed") is not None and not isinstance(d["seed"], str):
            raise RecordError(_("draw.seed: a text or null."))
        if d.get("ticket") is not None and (not isinstance(d["ticket"], int) or isinstance(d["ticket"], bool)):
            raise RecordError(_("draw.ticket: a whole number or null."))
        if d.get("prepared_sha256") is not None and not isinstance(d["prepared_sha256"], str):
            raise RecordError(_("draw.prepared_sha256: a text or null."))
        if not all(isinstance(p, str) for p in d["panel"]):
            raise RecordError(_("draw.panel: a list of ids (texts)."))


def _type_key(tp: dict) -> tuple:
    return (list(tp["values"]), list(tp["people"]))


def _panel_key(panel: dict, count: int) -> tuple:
    dense = [0] * count
    for t, seats in panel["seats"]:
        dense[t] = seats
    return tuple(dense)


def check_lottery(lot: dict) -> list[str]:
    """Everything wrong with a (well-formed) lottery: not canonical, a panel that breaks
    a quota or the household rule, weights that do not sum up, probabilities that are
    not the lottery's."""
    diffs: list[str] = []
    features, types, panels = lot["features"], lot["types"], lot["panels"]
    if lot["sampler"] != SAMPLER:
        diffs.append(_("the sampler {sampler!r} is not one this verifier knows ({sampler2})").format(sampler=lot['sampler'], sampler2=SAMPLER))
    if lot["within_type"] not in WITHIN:
        diffs.append(_("within_type {within_type!r} is not one of {join}").format(within_type=lot['within_type'], join=', '.join(WITHIN)))
        return diffs
    if lot["household_rule"] != HOUSEHOLD_RULE:
        diffs.append(_("the household rule {household_rule!r} is not {household_rule2!r}").format(household_rule=lot['household_rule'], household_rule2=HOUSEHOLD_RULE))
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    for q in lot["quotas"]:
        key = (q["feature"], q["value"])
        if key in bounds:
            diffs.append(_("the quota {feature}={value} is given twice").format(feature=q['feature'], value=q['value']))
        if q["feature"] not in features:
            diffs.append(_("the quota {feature}={value} names a feature the lottery does not have").format(feature=q['feature'], value=q['value']))
        bounds[key] = (q["min"], q["max"])
    seen: Counter = Counter(p for tp in types for p in tp["people"])
    twice = sorted(p for p, n in seen.items() if n > 1)
    if twice:
        diffs.append(_("id(s) {join} are listed in more than one place").format(join=', '.join(twice[:5])))
    for t, tp in enumerate(types):
        if tp["people"] != sorted(tp["people"]):
            diffs.append(_("type {t}'s people are not in sorted order").format(t=t))
        if (tp.get("dwelling") is not None or tp.get("fixed")) and len(tp["people"]) != 1:
            diffs.append(_("type {t} shares a dwelling or a fixed seat but lists {count} people").format(t=t, count=len(tp['people'])))
        for f, v in zip(features, tp["values"]):
            if (f, v) not in bounds:
                diffs.append(_("type {t} has {f}={v!r}, which has no quota").format(t=t, f=f, v=v))
    if [_type_key(tp) for tp in types] != sorted(_type_key(tp) for tp in types):
        diffs.append(_("the types are not in canonical order (sorted by values, then people)"))
    keys = [_panel_key(p, len(types)) for p in panels]
    if keys != sorted(keys) or len(set(keys)) != len(keys):
        diffs.append(_("the panels are not in canonical order (sorted by seats per type, each once)"))
    dwellings = defaultdict(list)
    for t, tp in enumerate(types):
        if tp.get("dwelling") is not None:
            dwellings[tp["dwelling"]].append(t)
    fixed = [t for t, tp in enumerate(types) if tp.get("fixed")]
    total = 0
    for i, panel in enumerate(panels):
        total += panel["weight"]
        if panel["weight"] < 1:
            diffs.append(_("panel {i} has weight {weight}; every weight is a positive whole number").format(i=i, weight=panel['weight']))
        seats = dict(map(tuple, panel["seats"]))
        if len(seats) != len(panel["seats"]) or [t for t, _x in panel["seats"]] != sorted(seats):
            diffs.append(_("panel {i}'s seats are not listed by type, each type once").format(i=i))
        for t, c in seats.items():
            if not 1 <= c <= len(types[t]["people"]):
                diffs.append(_("panel {i} gives type {t} {c} seats; it has {count} people").format(i=i, t=t, c=c, count=len(types[t]['people'])))
        if sum(seats.values()) != lot["panel_size"]:
            diffs.append(_("panel {i} has {sum} seats, the panel size is {panel_size}").format(i=i, sum=sum(seats.values()), panel_size=lot['panel_size']))
        counts: Counter = Counter()
        for t, c in seats.items():
            for f, v in zip(features, types[t]["values"]):
                counts[(f, v)] += c
        for (f, v), (lo, hi) in bounds.items():
            if not lo <= counts[(f, v)] <= hi:
                diffs.append(_("panel {i} seats {value} with {f}={v}, the quota is {lo}-{hi}").format(i=i, value=counts[(f, v)], f=f, v=v, lo=lo, hi=hi))
        for label, members in dwellings.items():
            if sum(seats.get(t, 0) for t in members) > 1:
                diffs.append(_("panel {i} seats two people of shared dwelling {label}").format(i=i, label=label))
        for t in fixed:
            if t not in seats:
                diffs.append(_("panel {i} leaves out {value}, whose seat was fixed in advance").format(i=i, value=types[t]['people'][0]))
    if total != lot["denominator"]:
        diffs.append(_("the panels' weights add up to {total}, not to the denominator {denominator} (the probabilities do not sum to 1)").format(total=total, denominator=lot['denominator']))
        return diffs
    exact = marginals(lot)
    for t, tp in enumerate(types):
        for pid, text, want in zip(tp["people"], tp["probabilities"], exact[t]):
            if _fraction(text, f"lottery.types[{t}]") != want:
                diffs.append(_("{pid}'s recorded probability {text} is not the lottery's {fraction_text}").format(pid=pid, text=text, fraction_text=fraction_text(want)))
    return diffs


def verify(record: Any) -> Verification:
    """Check a record: its hash, its lottery (``check_lottery``) and that the seed or the
    ticket gives exactly the seated panel. Differences name what is wrong."""
    _check_shape(record)
    lot = record["lottery"]
    diffs, notes = [], []
    if lottery_hash(lot) != record["lottery_sha256"]:
        diffs.append(_("the lottery does not match its recorded SHA-256 (it was changed after it was fixed)"))
    diffs.extend(check_lottery(lot))
    d = record.get("draw")
    if not d:
        notes.append(_("the record holds a lottery but no draw yet"))
        return Verification(not diffs, diffs, notes)
    seated = d["panel"]
    if d.get("prepared_sha256") not in (None, record["lottery_sha256"]):
        diffs.append(_("the lottery is not the one whose hash was published before the draw ({prepared_sha256})").format(prepared_sha256=d['prepared_sha256']))
    if d.get("seed") is None and d.get("ticket") is None:
        diffs.append(_("the draw names neither a seed nor a ticket"))
    else:
        try:
            again = draw(lot, d.get("seed"), d.get("ticket"))
        except RecordError as e:
            diffs.append(_("the draw cannot be repeated: {e}").format(e=e))
        else:
            if again != sorted(seated):
                how = _("seed {seed!r}").format(seed=d['seed']) if d.get("seed") is not None else _("ticket {ticket}").format(ticket=d['ticket'])
                missing = sorted(set(seated) - set(again))
                extra = sorted(set(again) - set(seated))
                diffs.append(_("the {how} draws a different panel: recorded but not drawn {missing}, drawn but not recorded {extra}").format(how=how, missing=missing, extra=extra))
    for i, rep in enumerate(record.get("replacements") or []):
        sub = verify({"format": FORMAT, "format_version": FORMAT_VERSION, **rep})
        diffs.extend(_("replacement {value}: {x}").format(value=i + 1, x=x) for x in sub.differences)
        notes.extend(_("replacement {value}: {x}").format(value=i + 1, x=x) for x in sub.notes)
    return Verification(not diffs, diffs, notes)


def otos_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("otos")
    except PackageNotFoundError:
        return "unknown"


def timestamp(when: dt.datetime | None = None) -> str:
    """An instant as records write it: ISO 8601 to the second, UTC unless ``when`` says otherwise."""
    return (when or dt.datetime.now(dt.timezone.utc)).replace(microsecond=0).isoformat()


def assemble(lottery: dict, seed: str | None = None, ticket: int | None = None, panel: list[str] | None = None,
             drawn_at: str | None = None, prepared_sha256: str | None = None, **extra) -> dict:
    """A record of ``lottery`` and, given the seated ``panel``, the draw from it."""
    out = {"format": FORMAT, "format_version": FORMAT_VERSION, "otos_version": otos_version(),
           "lottery": lottery, "lottery_sha256": lottery_hash(lottery)}
    if panel is not None:
        out["draw"] = {"seed": seed, "ticket": ticket, "panel": sorted(panel), "drawn_at": drawn_at,
                       "prepared_sha256": prepared_sha256}
    out.update(extra)
    return out


def draw_prepared(rec: Any, where: str, seed: str | None = None, ticket: int | None = None) -> dict:
    """The record of a draw from a prepared record ``rec`` (read from ``where``): checked
    first, refused if it fails or was drawn already; no solver."""
    if (seed is None) == (ticket is None):
        raise RecordError(_("Give either the public seed or the ticket drawn by hand."))
    checked = verify(rec)
    if not checked.ok:
        raise RecordError(_("{where} does not hold together: ").format(where=where) + "; ".join(checked.differences) + ".",
                          hint=_("Nothing was drawn."))
    if rec.get("draw"):
        raise RecordError(_("{where} was drawn already (it has a draw).").format(where=where), hint=_("A prepared lottery is drawn once."))
    out = assemble(rec["lottery"], seed, ticket, draw(rec["lottery"], seed, ticket), timestamp(),
                   rec["lottery_sha256"])
    if rec.get("prepared_at"):
        out["draw"]["prepared_at"] = rec["prepared_at"]
    return out


def check_publishable(ids: list[str], where: str) -> None:
    """A record is made to be published: refuse ids that are e-mail addresses or look
    like identity codes (the id is not repeated in the message)."""
    from pool import hetu

    for n, pid in enumerate(ids, start=1):
        if "@" in pid or hetu.looks_like(pid.strip().upper()):
            raise RecordError(_("{where}, person {n} (id column): the id looks like an e-mail address or an identity code, and a lottery record is made to be published. Nothing was written.").format(where=where, n=n),
                              hint=_("Give everyone a neutral id (1, 2, 3 ... or random codes) and keep the key apart."))


def save(path, rec: dict) -> None:
    """Write a record whole or not at all (``pool.private``: owner-only, no half-written file)."""
    from pool.private import private_file

    with private_file(path, encoding="utf-8") as fh:
        json.dump(rec, fh, ensure_ascii=False, indent=1)


def load(path: str) -> Any:
    """A record file as JSON, or RecordError naming the file, line and column."""
    try:
        with open(path, encoding="utf-8") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_BYTES:
                raise RecordError(_("{path}: over {value} MB, larger than any lottery record.").format(path=path, value=MAX_BYTES >> 20),
                                  hint=_("Check that this is the record file."))
            return json.load(fh)
    except FileNotFoundError:
        raise RecordError(_("{path}: no such file.").format(path=path)) from None
    except IsADirectoryError:
        raise RecordError(_("{path} is a folder; give the record file.").format(path=path)) from None
    except PermissionError:
        raise RecordError(_("{path}: this user may not read it.").format(path=path)) from None
    except RecursionError:
        raise RecordError(_("{path}: nested too deeply to be a lottery record.").format(path=path)) from None
    except UnicodeDecodeError:
        raise RecordError(_("{path}: not UTF-8 text; a lottery record is JSON.").format(path=path)) from None
    except json.JSONDecodeError as e:
        raise RecordError(_("{path}, line {lineno}, column {colno}: not valid JSON ({msg}).").format(path=path, lineno=e.lineno, colno=e.colno, msg=e.msg)) from None


def main(argv: list[str]) -> int:
    """``python -m sampling.record FILE``: verify a record with the standard library alone."""
    if len(argv) != 1:
        print(_("usage: python -m sampling.record RECORD.json"), file=sys.stderr)
        return 2
    try:
        result = verify(load(argv[0]))
    except RecordError as e:
        print(_("error: {e}").format(e=e), file=sys.stderr)
        return 2
    for note in result.notes:
        print(_("Note: {note}.").format(note=note))
    for diff in result.differences:
        print(_("DIFFERS: {diff}.").format(diff=diff))
    print(_("Verified: the record's lottery and draw are consistent.") if result.ok else _("NOT verified."))
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
