"""``otos invite``: stage 1, the invitation sample, and its rounds.

One module per command group: it parses, calls the domain and prints (``tui.cli``
assembles the groups). The domain is imported when a command runs, so others stay lean.
"""
from __future__ import annotations

import argparse

from tui.cli_common import print_json, strata_settings


def add_parser(sub) -> None:
    inv = sub.add_parser("invite", help="stage 1: the invitation sample").add_subparsers(
        dest="action", metavar="ACTION", required=True)
    idr = inv.add_parser("draw", help="draw a stratified invitation sample from an extract")
    idr.add_argument("--extract", type=int, required=True)
    idr.add_argument("--size", type=int, required=True, help="number of invitations")
    idr.add_argument("--seed", required=True)
    idr.add_argument("--strata", default="age,sex,language,municipality",
                     help="comma-separated strata (default age,sex,language,municipality)")
    idr.add_argument("--oversample", action="append", default=[], metavar="FEATURE=VALUE:FACTOR",
                     help="e.g. age=18-29:1.5 (repeat)")
    idr.add_argument("--min-age", type=int, help="default: the workspace's min_age")
    idr.add_argument("--age-bands", help="age cut points (default: the workspace's age_bands)")
    idr.add_argument("--min-population", type=int,
                     help="municipalities smaller than this form the group 'muut' "
                          "(default: the workspace's municipalities_alone)")
    idr.add_argument("--round", help="name of the recruitment round")
    idr.add_argument("--json", action="store_true")


def run(engine, args: argparse.Namespace) -> int:
    from pool.errors import OtosError
    from sampling.invitations import draw_invitations

    bands, groups, min_age = strata_settings(engine, args)
    oversample = {}
    for item in args.oversample:
        key, _, factor = item.rpartition(":")
        feature, sep, value = key.partition("=")
        try:
            oversample[(feature.strip(), value.strip())] = float(factor)
        except ValueError:
            raise OtosError(f"--oversample {item!r} must look like age=18-29:1.5.") from None
        if not sep:
            raise OtosError(f"--oversample {item!r} must look like age=18-29:1.5.")
    result = draw_invitations(engine, args.extract, args.size, args.seed,
                              strata=tuple(f.strip() for f in args.strata.split(",") if f.strip()),
                              age_bands=bands, groups=groups, oversample=oversample, min_age=min_age,
                              round_name=args.round)
    if args.json:
        print_json({"round": result.round, "invited": result.drawn, "allocations": [
            {"stratum": list(a.stratum), "population": a.population, "candidates": a.candidates,
             "allocated": a.allocated, "drawn": a.drawn} for a in result.allocations]})
        return 0
    print(f"{'stratum':<44} {'population':>10} {'allocated':>9} {'drawn':>6}")
    for a in result.allocations:
        print(f"{' / '.join(a.stratum):<44} {a.population:>10,} {a.allocated:>9} {a.drawn:>6}")
    print(f"{result.drawn:,} invitations with response codes in round {result.round!r}.")
    return 0
