"""Pool screen responsiveness on a 500,000-member pool.

    .venv/bin/python bench/pool_screen.py [--members 500000]

Builds an SQLite pool of generated members once under bench/out/, then drives the real
app headless (Textual's Pilot) and times what a person waits for: the first page,
next / previous / last page, and a search. Beside it, in the same run, the approach
Otos avoids: loading rows straight into a DataTable, timed for 20,000 rows (the whole
pool would be 25 times that). The search times include the deliberate 0.25 s wait
for typing to stop. Target (issue 2): no pause a person would notice
(about 0.1 s is where a wait starts to show).
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"


def build_pool(path: Path, n: int) -> None:
    import random

    from sqlalchemy import insert
    from sqlmodel import Session

    from pool.db import open_database
    from pool.models import PoolMember, member_search_key, utcnow
    from sample_data.generator import _names

    names = _names(1)
    rnd = random.Random(1)
    now = utcnow()
    munis = ["179", "410", "499", "729", "992", "182", "216"]
    engine = open_database(str(path))
    with Session(engine) as s:
        for start in range(0, n, 50_000):
            rows = []
            for i in range(start, min(n, start + 50_000)):
                lang = "sv" if i % 40 == 0 else "fi"
                first, last = names.person(rnd, lang, rnd.choice("12"))
                rows.append({"first_names": first, "surname": last, "source": "demo", "status": "active",
                             "preferred_language": lang, "consent_version": "v1", "consent_at": now,
                             "joined_at": now, "panels_served": 0, "municipality": rnd.choice(munis),
                             "birth_year": rnd.randint(1930, 2010), "email": f"m{i}@example.org",
                             "search_key": member_search_key(first, last, f"m{i}@example.org", None)})
            s.execute(insert(PoolMember), rows)
        s.commit()
    engine.dispose()


async def drive(path: Path) -> dict[str, list[float]]:
    from textual.widgets import Input

    from pool.db import open_database
    from tui.app import OtosApp

    app = OtosApp(open_database(str(path)))
    times: dict[str, list[float]] = {}

    async def timed(name: str, action) -> None:
        t = time.perf_counter()
        await action()
        await app.workers.wait_for_complete()
        await pilot.pause()
        times.setdefault(name, []).append(time.perf_counter() - t)

    t0 = time.perf_counter()
    async with app.run_test(size=(150, 45)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        times["open pool screen"] = [time.perf_counter() - t0]
        for _ in range(5):
            await timed("key with no action", lambda: pilot.press("x"))  # the Pilot's own overhead
        for _ in range(10):
            await timed("next page", lambda: pilot.press("n"))
        for _ in range(5):
            await timed("previous page", lambda: pilot.press("b"))
        for _ in range(3):
            await timed("last page", lambda: pilot.press("end"))
            await timed("first page", lambda: pilot.press("home"))

        async def search(text: str):
            app.screen.query_one("#search", Input).value = text
            await pilot.pause(app.screen.SEARCH_DELAY)  # the deliberate wait for typing to stop
        for word in ("virtanen", "anna", "m4999", ""):
            await timed("search", lambda w=word: search(w))
    return times


async def naive(rows: int) -> float:
    from textual.app import App
    from textual.widgets import DataTable

    from pool.db import open_database
    from pool.members import list_members

    members = list_members(open_database(str(OUT / "pool.db")), limit=rows)

    class Naive(App):
        def compose(self):
            yield DataTable()

    app = Naive()
    async with app.run_test(size=(150, 45)) as pilot:
        table = app.query_one(DataTable)
        table.add_columns("ID", "Surname", "First names", "Born", "Municipality", "Lang", "Status")
        t = time.perf_counter()
        table.add_rows([(m.id, m.surname, m.first_names, m.birth_year, m.municipality, m.preferred_language,
                         m.status) for m in members])
        await pilot.pause()
        return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--members", type=int, default=500_000)
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"pool-{args.members}.db"
    if not path.exists():
        t = time.perf_counter()
        build_pool(path, args.members)
        print(f"built {path.name} in {time.perf_counter() - t:.0f} s")
    (OUT / "pool.db").unlink(missing_ok=True)
    (OUT / "pool.db").symlink_to(path.name)
    times = asyncio.run(drive(path))
    print(f"\nOtos pool screen, {args.members:,} members (SQLite), seconds")
    print(f"{'':22} {'median':>8} {'worst':>8} {'runs':>5}")
    for name, ts in times.items():
        print(f"{name:22} {statistics.median(ts):8.3f} {max(ts):8.3f} {len(ts):5}")
    t = asyncio.run(naive(20_000))
    worst_step = max(max(ts) for name, ts in times.items() if name != "open pool screen")
    print(f"\nunpaged DataTable, 20,000 rows added at once: {t:.2f} s "
          f"(the whole pool: about {t * args.members / 20_000:.0f} s)")
    print(f"worst Otos page or search step: {worst_step:.3f} s; unpaged load / worst step: {t / worst_step:.0f}x")


if __name__ == "__main__":
    main()
