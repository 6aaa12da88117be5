"""Generate a realistic DVV extract for a real county, with generated people only.

Municipality sizes come from the shipped municipality table, language shares from the
shipped county margins (or, for counties without margins, from each municipality's
language status), and ages from the shipped national age structure. Names are Finnish
or Swedish by language (faker fi_FI / sv_SE), postal codes and post offices are
consistent per municipality, people share dwellings, and a few rows carry a
turvakielto, a death or no domestic address, as real extracts do.

    python -m sample_data.generator --county Keski-Suomi --rows 5000 --out extract.csv
"""
from __future__ import annotations

import argparse
from collections import Counter
import bisect
import functools
import csv
import datetime as dt
import itertools
import random
from pathlib import Path
from typing import Iterator

from pool import hetu
from pool.profile import FIELD_LENGTHS, load_profile
from pool.reference import age_structure, find_county, language_margins, municipalities

HEADER = list(FIELD_LENGTHS)
# Generated postal codes look like their region's: Posti's postal areas begin with these
# two digits in each region (an approximation at region level, not Posti's file) ...
POSTAL_AREAS = {
    "Uusimaa": "00 01 02 03 04 05 06 07 08 09 10", "Varsinais-Suomi": "20 21 23 24 25",
    "Satakunta": "26 27 28 29", "Kanta-Häme": "13 12 14 30 31", "Pirkanmaa": "33 34 35 36 37 38 39",
    "Päijät-Häme": "15 16 17 18 19", "Kymenlaakso": "45 46 47 48 49", "Etelä-Karjala": "53 54 55 56",
    "Etelä-Savo": "50 51 52 57 58", "Pohjois-Savo": "70 71 72 73 74 77 78 79",
    "Pohjois-Karjala": "80 81 82 83 75", "Keski-Suomi": "40 41 42 43 44", "Etelä-Pohjanmaa": "60 61 62 63",
    "Pohjanmaa": "65 64 66 68", "Keski-Pohjanmaa": "67 69", "Pohjois-Pohjanmaa": "90 91 92 93 84 85 86",
    "Kainuu": "87 88 89", "Lappi": "96 94 95 97 98 99", "Ahvenanmaa": "22",
}
# ... and the regional centres have their real first postal code.
MAIN_POSTAL_CODES = {
    "091": "00100", "049": "02100", "092": "01300", "853": "20100", "609": "28100", "109": "13100",
    "837": "33100", "398": "15100", "286": "45100", "285": "48100", "405": "53100", "491": "50100",
    "297": "70100", "167": "80100", "179": "40100", "743": "60100", "905": "65100", "272": "67100",
    "564": "90100", "205": "87100", "698": "96100", "240": "94100", "851": "95400", "478": "22100",
}
# Household sizes (share of dwellings) and rare register situations.
HOUSEHOLD_SIZES = [(1, 0.45), (2, 0.33), (3, 0.10), (4, 0.08), (5, 0.04)]
P_TURVAKIELTO = 0.004
P_DECEASED = 0.002
P_NO_ADDRESS = 0.002
P_SEX_UNKNOWN = 0.001
# Foreign mother tongues and rough relative weights (largest groups in Finland).
OTHER_LANGUAGES = [("ru", 30), ("et", 18), ("ar", 12), ("en", 9), ("uk", 9), ("so", 7), ("fa", 6),
                   ("zh", 5), ("ku", 4), ("sq", 3), ("vi", 3), ("th", 3)]
SAMI_MUNICIPALITIES = {"148": 0.06, "890": 0.40, "047": 0.05, "758": 0.03}  # Inari, Utsjoki, Enontekiö, Sodankylä
SV_BY_STATUS = {0: 0.003, 1: 0.15, 2: 0.85, 3: 0.60}
NAME_POOL = 400


class _Names:
    """Pools of names and streets made once with faker, drawn from with random."""

    def __init__(self, seed: int) -> None:
        from faker import Faker

        self.pools = {}
        for key, locale in (("fi", "fi_FI"), ("sv", "sv_SE"), ("other", "en_GB"), ("et", "et_EE")):
            fk = Faker(locale)
            fk.seed_instance(seed)
            self.pools[key] = (
                [fk.first_name_male() for _x in range(NAME_POOL)],
                [fk.first_name_female() for _x in range(NAME_POOL)],
                [fk.last_name() for _x in range(NAME_POOL)],
            )
        fi, sv = Faker("fi_FI"), Faker("sv_SE")
        fi.seed_instance(seed)
        sv.seed_instance(seed)
        self.streets_fi = sorted({fi.street_name() for _x in range(NAME_POOL)})
        self.streets_sv = sorted({sv.street_name() for _x in range(NAME_POOL)})

    def person(self, rnd: random.Random, lang: str, sex: str) -> tuple[str, str]:
        males, females, lasts = self.pools.get(lang if lang in ("fi", "sv", "et") else ("fi" if lang == "se" else "other"))
        firsts = females if sex == "2" else males
        n = 1 if rnd.random() < 0.3 else 2 if rnd.random() < 0.8 else 3
        return " ".join(rnd.sample(firsts, n)), rnd.choice(lasts)


@functools.cache
def _names(seed: int) -> _Names:
    return _Names(seed)


def _postal_codes(munis) -> dict[str, list[str]]:
    """Municipality code -> its generated postal codes (one per 5,000 residents, at most
    20): a regional centre from its real first code (``MAIN_POSTAL_CODES``), the other
    municipalities of a region spread over its postal areas (``POSTAL_AREAS``), no code
    shared by two municipalities."""
    taken: set[str] = set()
    for code, first in MAIN_POSTAL_CODES.items():
        taken.update(f"{int(first) + 10 * j:05d}" for j in range(20))
    placed: Counter = Counter()  # region -> municipalities placed so far
    next_code: dict[str, int] = {}  # postal area -> the next code to try in it
    out: dict[str, list[str]] = {}
    for m in sorted(munis, key=lambda m: (m.code not in MAIN_POSTAL_CODES, -m.population, m.code)):
        n = max(1, min(20, m.population // 5000))
        if m.code in MAIN_POSTAL_CODES:
            first = int(MAIN_POSTAL_CODES[m.code])
            out[m.code] = [f"{first + 10 * j:05d}" for j in range(n)]
            continue
        areas = POSTAL_AREAS.get(m.region, "99").split()
        codes: list[str] = []
        for turn in range(len(areas)):  # from this municipality's area on, while codes are left
            area = areas[(placed[m.region] + 1 + turn) % len(areas)]
            number = next_code.get(area, 100)
            while len(codes) < n and number < 1000:
                code = f"{area}{number:03d}"
                number += 10
                if code not in taken:
                    codes.append(code)
                    taken.add(code)
            next_code[area] = number
            if codes:
                break
        placed[m.region] += 1
        out[m.code] = codes or [f"{areas[0]}990"]
    return out


def _cumulative(weights: list[float]) -> list[float]:
    acc = list(itertools.accumulate(weights))
    return [w / acc[-1] for w in acc]


def generate_people(county: str = "Keski-Suomi", rows: int = 5000, seed: int = 1, min_age: int = 15,
                    reference: dt.date | None = None) -> Iterator[list[str]]:
    """Yield ``rows`` register rows (field order of the ``dvv`` profile) for ``county``."""
    county = find_county(county)
    rnd = random.Random(seed)
    names = _names(seed)
    today = reference or dt.date.today()
    all_munis = sorted(municipalities().values(), key=lambda m: m.code)
    munis = [m for m in all_munis if m.county == county]
    muni_cum = _cumulative([max(m.population, 1) for m in munis])
    margins = language_margins().get(county)
    postal = _postal_codes(all_munis)
    bands = [b for b in age_structure() if b[1] >= min_age]
    band_cum = _cumulative([s for _x, _x, s in bands])
    size_cum = _cumulative([w for _x, w in HOUSEHOLD_SIZES])
    other_cum = _cumulative([w for _x, w in OTHER_LANGUAGES])
    used_codes: set[str] = set()
    made = 0
    dwelling_seq = itertools.count(1)

    def language(m) -> str:
        r = rnd.random()
        if m.code in SAMI_MUNICIPALITIES and r < SAMI_MUNICIPALITIES[m.code]:
            return "se"
        if margins and m.language_status == 0:
            p_sv = margins["ruotsi"] / margins["vakiluku"]
            p_other = margins["muu_kieli"] / margins["vakiluku"]
        else:
            p_sv, p_other = SV_BY_STATUS[m.language_status], 0.07
        r = rnd.random()
        if r < p_sv:
            return "sv"
        if r < p_sv + p_other:
            return OTHER_LANGUAGES[bisect.bisect(other_cum, rnd.random())][0]
        return "fi"

    while made < rows:
        m = munis[bisect.bisect(muni_cum, rnd.random())]
        size = HOUSEHOLD_SIZES[bisect.bisect(size_cum, rnd.random())][0]
        home_lang = language(m)
        street_i = rnd.randrange(len(names.streets_fi))
        number = rnd.randint(1, 120)
        flat = f" {rnd.choice('ABCDEF')} {rnd.randint(1, 40)}" if rnd.random() < 0.5 else ""
        street_fi = f"{names.streets_fi[street_i]} {number}{flat}"
        street_sv = f"{names.streets_sv[street_i % len(names.streets_sv)]} {number}{flat}" if m.bilingual else ""
        pc = rnd.choice(postal[m.code])
        dwelling = f"{next(dwelling_seq):09d}{rnd.choice('ABCDEFHJKLMN')}{rnd.randint(0, 999999):06d}"
        no_address = rnd.random() < P_NO_ADDRESS
        surname = None
        for _x in range(size):
            if made >= rows:
                break
            lang = home_lang if rnd.random() < 0.9 else language(m)
            sex = "" if rnd.random() < P_SEX_UNKNOWN else rnd.choice("12")
            a, b, _x = bands[bisect.bisect(band_cum, rnd.random())]
            age = rnd.randint(a, b)
            birth = today.replace(year=today.year - age - 1, month=1, day=1) + dt.timedelta(days=rnd.randint(1, 364))
            while True:
                individual = rnd.randrange(2, 899)
                if sex:  # odd for men, even for women, as the codes issued before 2027 are
                    individual = individual | 1 if sex == "1" else individual & ~1 or 2
                code = hetu.make(birth, individual, rnd.randrange(6))
                if code not in used_codes:
                    used_codes.add(code)
                    break
            first, last = names.person(rnd, lang, sex)
            surname = surname or last if lang == home_lang else last
            turva = rnd.random() < P_TURVAKIELTO
            dead = rnd.random() < P_DECEASED
            blank = no_address or (turva and rnd.random() < 0.5)
            yield [
                code, first, surname if lang == home_lang else last,
                "" if blank else street_fi, "" if blank else street_sv,
                "" if blank else pc,
                "" if blank else m.name_fi.upper(), "" if blank or not m.bilingual else m.name_sv.upper(),
                m.code, f"{birth:%Y%m%d}", sex, lang, "1" if turva else "0", "1" if dead else "0",
                "" if no_address else dwelling,
            ]
            made += 1


def write_extract(path: str | Path, county: str = "Keski-Suomi", rows: int = 5000, seed: int = 1,
                  profile: str = "dvv", encoding: str = "utf-8", min_age: int = 15,
                  reference: dt.date | None = None) -> Path:
    """Write a generated extract in the layout of ``profile`` (``dvv`` or ``dvv-fixed``)."""
    path = Path(path)
    prof = load_profile(profile)
    people = generate_people(county, rows, seed, min_age, reference)
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        if prof.format == "delimited":
            w = csv.writer(fh, delimiter=prof.delimiter, lineterminator="\n")
            w.writerow(prof.columns.get(f, f) for f in HEADER)
            w.writerows(people)
        else:
            spans = [prof.fields[f] for f in HEADER]
            for row in people:
                fh.write("".join(v.ljust(n)[:n] for v, (_x, n) in zip(row, spans)) + "\n")
    return path


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="Write a generated DVV extract (no real people).")
    ap.add_argument("--county", default="Keski-Suomi")
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--profile", default="dvv")
    ap.add_argument("--encoding", default="utf-8")
    ap.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    write_extract(a.out, a.county, a.rows, a.seed, a.profile, a.encoding)


if __name__ == "__main__":
    main()
