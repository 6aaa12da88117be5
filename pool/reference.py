"""Reference tables shipped inside the product (see sample_data/reference/README.md)."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pool.i18n import _

LANGUAGE_STATUS = {
    0: "unilingual Finnish",
    1: "bilingual, Finnish majority",
    2: "unilingual Swedish",
    3: "bilingual, Swedish majority",
}


@dataclass(frozen=True)
class Municipality:
    code: str
    name_fi: str
    name_sv: str
    county: str
    region: str
    language_status: int
    population: int

    @property
    def bilingual(self) -> bool:
        return self.language_status in (1, 3)


# Mother tongues as the population register gives them: ISO 639-1, the Sámi languages
# that have no two-letter code (ISO 639-2/3), and 98/99 for other and unknown.
SAMI_LANGUAGES = frozenset({"se", "sme", "smn", "sms", "sma", "smj", "sjd", "sje", "sju", "sjt", "sia", "smi"})
# The Sámi languages of Finland's Sámi Language Act (North, Inari, Skolt), by every code
# the register may use for them, and the code their letter template is named by.
SAMI_LETTER_LANGUAGE = {"se": "se", "sme": "se", "smn": "smn", "sms": "sms"}
# The Sámi homeland's municipalities (Enontekiö, Inari, Utsjoki). Sodankylä's northern
# part belongs to it too, which an address cannot tell: a workspace setting adds it whole.
SAMI_HOMELAND = frozenset({"047", "148", "890"})
SODANKYLA = "758"
LANGUAGE_CODES = frozenset(
    "aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv "
    "cy da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr "
    "ht hu hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw "
    "ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv "
    "ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr "
    "ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi "
    "yo za zh zu 98 99".split()
) | SAMI_LANGUAGES


def _read(name: str) -> list[dict[str, str]]:
    text = resources.files("sample_data").joinpath("reference", name).read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def municipalities() -> dict[str, Municipality]:
    """All municipalities by 3-digit code (``"179"`` is Jyväskylä)."""
    return {
        r["kuntanumero"]: Municipality(
            code=r["kuntanumero"],
            name_fi=r["kunta_fi"],
            name_sv=r["kunta_sv"],
            county=r["hyvinvointialue_fi"],
            region=r["maakunta_fi"],
            language_status=int(r["kielisuhde_koodi"]),
            population=int(r["vakiluku_2022_sotkanet"] or 0),
        )
        for r in _read("municipalities_2025.csv")
    }


@cache
def county_names() -> dict[str, dict[str, str]]:
    """Each county's names by its Finnish name: {"fi": ..., "sv": ..., "en": ...}."""
    return {r["hyvinvointialue_fi"]: {"fi": r["hyvinvointialue_fi"], "sv": r["hyvinvointialue_sv"],
                                      "en": r["hyvinvointialue_en"]} for r in _read("municipalities_2025.csv")}


def counties() -> list[str]:
    """Names (fi) of the wellbeing services counties in the municipality table."""
    return sorted({m.county for m in municipalities().values()})


def short_county_name(county: str) -> str:
    """A short everyday name for a county: its region's name when the region is served by
    this county alone (``Lappi``), else the county's own name (``Vantaan ja Keravan
    hyvinvointialue``)."""
    regions = {m.region for m in municipalities().values() if m.county == county}
    if len(regions) == 1:
        region = next(iter(regions))
        if {m.county for m in municipalities().values() if m.region == region} == {county}:
            return region
    return county


def find_county(name: str) -> str:
    """The county (fi name) for a region name (``Keski-Suomi``) or a county name or its start."""
    from pool.errors import OtosError

    wanted = name.casefold().strip()
    names = counties()
    by_region: dict[str, set[str]] = {}
    for m in municipalities().values():
        by_region.setdefault(m.region.casefold(), set()).add(m.county)
    if len(by_region.get(wanted, ())) == 1:  # a region name such as "Keski-Suomi"
        return next(iter(by_region[wanted]))
    exact = [c for c in names if c.casefold() == wanted]
    hits = exact or [c for c in names if c.casefold().startswith(wanted)] or [
        c for c in names if wanted in c.casefold()
    ]
    if len(hits) == 1:
        return hits[0]
    raise OtosError(
        _("No single county matches {name!r}.").format(name=name),
        hint=_("Known counties: ") + ", ".join(names) + ".",
    )


@cache
def language_margins() -> dict[str, dict[str, int]]:
    """Mother-tongue totals by county (fi name): vakiluku, suomi, ruotsi, saame, muu_kieli."""
    out = {}
    for r in _read("language_margins_2025.csv"):
        out[r["vastaava_hyvinvointialue"]] = {
            k: int(r[k]) for k in ("vakiluku", "suomi", "ruotsi", "saame", "muu_kieli")
        }
    return out


@cache
def age_structure() -> list[tuple[int, int, float]]:
    """(age_from, age_to, share) bands of the national population; shares sum to 1."""
    rows = [(int(r["age_from"]), int(r["age_to"]), float(r["share_pct"])) for r in _read("age_structure_fi.csv")]
    total = sum(s for _x, _x, s in rows)
    return [(a, b, s / total) for a, b, s in rows]
