"""Fixtures: a fresh database per test on SQLite and, when configured, PostgreSQL.

PostgreSQL runs when ``OTOS_TEST_POSTGRES_URL`` points at a server where the user may
create databases (``.ci/run`` starts a throwaway cluster and sets it). With
``OTOS_REQUIRE_POSTGRES=1`` a missing server fails the run instead of skipping.
"""
from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pool.db import database_url, open_database
from pool.profile import FIELD_LENGTHS
from sample_data.generator import generate_people

PG_URL = os.environ.get("OTOS_TEST_POSTGRES_URL")
# The audit key of the test run: its own file, never the user's (subprocesses inherit it).
os.environ["OTOS_AUDIT_KEY_FILE"] = os.path.join(tempfile.mkdtemp(prefix="otos-test-key-"), "audit.key")
os.environ.pop("OTOS_AUDIT_KEY", None)
# Tests read English messages unless they choose a language (subprocesses inherit it).
os.environ["OTOS_LANG"] = "en"
HEADER = list(FIELD_LENGTHS)
TODAY = dt.date(2026, 11, 27)


@pytest.fixture(autouse=True)
def english():
    """Every test starts in English (a test that chose another language cannot leak it)."""
    from pool import i18n

    i18n.set_language("en")


@pytest.fixture
def finnish():
    """Speak Finnish in this test (the outputs a Finnish county reads), English again after."""
    from pool import i18n

    i18n.set_language("fi")
    yield
    i18n.set_language("en")


@pytest.fixture
def swedish():
    """Speak Swedish in this test, English again after."""
    from pool import i18n

    i18n.set_language("sv")
    yield
    i18n.set_language("en")


@pytest.fixture(scope="session")
def pg_template():
    """A migrated template database; each test copies it (fast CREATE DATABASE ... TEMPLATE)."""
    if not PG_URL:
        if os.environ.get("OTOS_REQUIRE_POSTGRES") == "1":
            pytest.fail("OTOS_REQUIRE_POSTGRES=1 but OTOS_TEST_POSTGRES_URL is not set")
        pytest.skip("PostgreSQL not configured (set OTOS_TEST_POSTGRES_URL)")
    admin = create_engine(database_url(PG_URL), isolation_level="AUTOCOMMIT")
    name = f"otos_tmpl_{uuid.uuid4().hex[:8]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    base = database_url(PG_URL).rsplit("/", 1)[0]
    eng = open_database(f"{base}/{name}")
    eng.dispose()
    yield admin, base, name
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    """An empty, migrated workspace database (SQLite file, or a PostgreSQL database)."""
    if request.param == "sqlite":
        eng = open_database(str(tmp_path / "otos.db"))
        yield eng
        eng.dispose()
        return
    admin, base, template = request.getfixturevalue("pg_template")
    name = f"otos_t_{uuid.uuid4().hex[:10]}"
    with admin.connect() as c:
        c.execute(text(f"CREATE DATABASE {name} TEMPLATE {template}"))
    eng = open_database(f"{base}/{name}")
    yield eng
    eng.dispose()
    with admin.connect() as c:
        c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


@pytest.fixture
def sqlite_engine(tmp_path):
    eng = open_database(str(tmp_path / "otos.db"))
    yield eng
    eng.dispose()


def people(n: int = 60, seed: int = 7, county: str = "Keski-Suomi") -> list[list[str]]:
    """Generated register rows (fake people), field order of the dvv profile."""
    return list(generate_people(county, n, seed, reference=TODAY))


def write_rows(path: Path, rows: list[list[str]], header: list[str] | None = None, *, delimiter: str = ";",
               encoding: str = "utf-8", newline: str = "\n", final_newline: bool = True) -> Path:
    """Write an extract file from rows; lets tests break it in controlled ways."""
    lines = [delimiter.join(header or HEADER)] + [delimiter.join(r) for r in rows]
    body = newline.join(lines) + (newline if final_newline else "")
    path.write_bytes(body.encode(encoding))
    return path


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh, delimiter=";"))[1:]


@pytest.fixture
def extract_file(tmp_path) -> Path:
    return write_rows(tmp_path / "extract.csv", people())


def make_workspace(engine, county: str = "Keski-Suomi") -> None:
    """A workspace whose letters can print (the demo's made-up phone and address)."""
    from sample_data.demo import demo_workspace

    demo_workspace(engine, county)


def fonts_in(pdf) -> dict[str, bool]:
    """Every font a PDF's pages use (also inside forms): base name -> embedded."""
    found = {}

    def walk(resources):
        resources = resources.get_object() if resources is not None else {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is None and "/DescendantFonts" in font:
                descriptor = font["/DescendantFonts"][0].get_object().get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor is not None else {}
            found[str(font.get("/BaseFont"))] = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        for xobject in (resources.get("/XObject") or {}).values():
            walk(xobject.get_object().get("/Resources"))
    from pypdf import PdfReader

    for page in PdfReader(str(pdf)).pages:
        walk(page.get("/Resources"))
    return found
