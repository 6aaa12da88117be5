"""Which languages a letter is written in (DESIGN.md, "Places and languages").

A unilingual Finnish authority writes in Finnish. A bilingual authority (a county with
a bilingual or Swedish-speaking municipality) writes in the person's own language (fi
or sv) when known, otherwise in both. People with another mother tongue also get an
English version (configurable), except Sámi speakers: their letter is the county's
own language, and in the Sámi homeland a North, Inari or Skolt Sámi speaker's letter
also has a page in their Sámi language (Saamen kielilaki). That page needs a template
the county has had translated (a workspace setting): Otos ships no Sámi text, and
``letters.batch`` counts the Sámi pages it could not print.
"""
from __future__ import annotations

from functools import cache

from pool.reference import SAMI_HOMELAND, SAMI_LANGUAGES, SAMI_LETTER_LANGUAGE, SODANKYLA, municipalities


@cache
def county_is_bilingual(county: str) -> bool:
    return any(m.language_status != 0 for m in municipalities().values() if m.county == county)


def letter_languages(mother_tongue: str | None, municipality: str | None, *, english_for_others: bool = True,
                     sodankyla_in_homeland: bool = False) -> list[str]:
    """Languages of one person's letter, the first one carrying the address: a Sámi
    language code (se, smn, sms) last when the person is owed a Sámi page."""
    m = municipalities().get(municipality or "")
    bilingual = county_is_bilingual(m.county) if m else False
    lang = (mother_tongue or "").lower()
    if not bilingual:
        base = ["fi"]
    elif lang in ("fi", "sv"):
        base = [lang]
    elif lang in ("", "99", "98"):
        base = ["sv", "fi"] if m and m.language_status in (2, 3) else ["fi", "sv"]
    else:
        base = ["sv"] if m and m.language_status in (2, 3) else ["fi"]
    if english_for_others and lang not in ("", "fi", "sv", "98", "99") and lang not in SAMI_LANGUAGES:
        base.append("en")
    sami = SAMI_LETTER_LANGUAGE.get(lang)
    if sami and (municipality in SAMI_HOMELAND or (sodankyla_in_homeland and municipality == SODANKYLA)):
        base.append(sami)
    return base
