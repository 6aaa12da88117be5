"""Read and write the CSV layout of sortition-algorithms and the Sortition Foundation tools.

``features.csv``: ``feature,value,min,max`` (one row per feature value).
``people.csv``: an id column, one column per feature, optionally a household column.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from pool.csvfile import read_text, sniff_delimiter
from pool.errors import OtosError, RejectedFile
from sampling.problem import Problem, Quota
from pool.i18n import _


def _read_table(path: Path, what: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    text, _x = read_text(path, what)
    delimiter = sniff_delimiter(text.splitlines()[0])
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    rows = []
    for row in reader:
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise RejectedFile(_("{path}, line {line_num}: {count} fields, the header has {count2}.").format(path=path, line_num=reader.line_num, count=len(row), count2=len(header)),
                               hint=_("Every row needs a value for every column."))
        rows.append((reader.line_num, [c.strip() for c in row]))
    return header, rows


def read_features(path: str | Path) -> list[Quota]:
    """Quotas from a features.csv (feature,value,min,max)."""
    path = Path(path)
    header, rows = _read_table(path, "features")
    cols = {h.casefold(): i for i, h in enumerate(header)}
    missing = [c for c in ("feature", "value", "min", "max") if c not in cols]
    if missing:
        raise RejectedFile(_("{path}, line 1: the header lacks column(s) {join}.").format(path=path, join=', '.join(missing)),
                           hint=_("features.csv needs the columns feature,value,min,max."))
    quotas = []
    for line, row in rows:
        vals = {}
        for c in ("min", "max"):
            try:
                vals[c] = int(row[cols[c]])
            except ValueError:
                raise RejectedFile(_("{path}, line {line}, column {value} ({c}): not a whole number.").format(path=path, line=line, value=cols[c] + 1, c=c),
                                   hint=_("Quotas are counts of people.")) from None
        quotas.append(Quota(row[cols["feature"]], row[cols["value"]], vals["min"], vals["max"]))
    if not quotas:
        raise RejectedFile(_("{path}: the features file has a header but no quotas.").format(path=path))
    return quotas


def read_people(path: str | Path, quotas: list[Quota], k: int, household: str | None = None,
                id_column: str | None = None) -> Problem:
    """A Problem from people.csv: the id column (first, or ``id_column``), one column per
    quota feature, and optionally a household column."""
    path = Path(path)
    header, rows = _read_table(path, "people")
    cols = {h.casefold(): i for i, h in enumerate(header)}
    features = list(dict.fromkeys(q.feature for q in quotas))
    missing = [f for f in features if f.casefold() not in cols]
    if household and household.casefold() not in cols:
        missing.append(household)
    id_col = cols.get((id_column or header[0]).casefold())
    if id_col is None:
        missing.append(id_column or "id")
    if missing:
        raise RejectedFile(_("{path}, line 1: the header lacks column(s) {join}.").format(path=path, join=', '.join(missing)),
                           hint=_("The header has: {join}.").format(join=', '.join(header)))
    ids, values, houses = [], [], []
    for line, row in rows:
        if not row[id_col]:
            raise RejectedFile(_("{path}, line {line}, column {value}: the id is empty.").format(path=path, line=line, value=id_col + 1))
        ids.append(row[id_col])
        values.append(tuple(row[cols[f.casefold()]] for f in features))
        houses.append(row[cols[household.casefold()]] or None if household else None)
    if not ids:
        raise OtosError(_("{path}: the pool is empty (a header but no people).").format(path=path))
    return Problem(ids, features, values, quotas, k, houses)


def write_features(path: str | Path, quotas: list[Quota]) -> None:
    """The quotas as features.csv (whole or not at all; formula text neutralised)."""
    from pool.private import csv_writer, private_file

    with private_file(path, encoding="utf-8", newline="") as fh:
        w = csv_writer(fh, delimiter=",")
        w.writerow(["feature", "value", "min", "max"])
        w.writerows([q.feature, q.value, q.min, q.max] for q in quotas)


def write_people(path: str | Path, problem: Problem, household: str | None = "household",
                 audit=None) -> None:
    """The pool as people.csv. Member ids with their categories and dwellings are
    personal data: the file is written owner-only, and only once ``audit`` (given the
    file's SHA-256) has recorded it."""
    from pool.private import csv_writer, private_file

    with private_file(path, encoding="utf-8", newline="", audit=audit) as fh:
        w = csv_writer(fh, delimiter=",")
        w.writerow(["id", *problem.features, *([household] if household else [])])
        for pid, vals, house in zip(problem.ids, problem.values, problem.households):
            w.writerow([pid, *vals, *([house or ""] if household else [])])
