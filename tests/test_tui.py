"""The terminal app, driven headless with the Pilot against a real database."""
import datetime as dt

from sqlalchemy import insert
from sqlmodel import Session
from textual.widgets import DataTable, Input, Label, Select, Static, TabbedContent

from pool.extract import import_extract, list_extracts
from pool.members import count_members
from pool.models import PoolMember, member_search_key, utcnow
from pool.reference import municipalities
from tests.conftest import people, write_rows
from tui.app import OtosApp
from tui.dialogs import ConfirmDialog, ImportDialog, ImportProgress, MemberForm, ReportDialog

SIZE = (150, 45)


def fill_pool(engine, n):
    now = utcnow()
    with Session(engine) as s:
        s.execute(insert(PoolMember), [
            {"first_names": f"Etu{i}", "surname": "Mäki" if i % 3 else "Ranta", "source": "demo", "status": "active",
             "preferred_language": "fi", "consent_version": "v1", "consent_at": now, "joined_at": now,
             "panels_served": 0, "municipality": "179",
             "search_key": member_search_key(f"Etu{i}", "Mäki" if i % 3 else "Ranta", None, None)} for i in range(n)])
        s.commit()


async def settle(pilot):
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def open_compare_dialog(pilot) -> None:
    """The Opinions screen (F8), then its audience comparison dialog (Ctrl+K)."""
    for key in ("f8", "ctrl+k"):
        await pilot.press(key)
        await pilot.pause()


def page_info(app) -> str:
    return str(app.screen.query_one("#page-info", Static).render())


async def test_pool_screen_pages_over_sql(sqlite_engine):
    fill_pool(sqlite_engine, 250)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "Members 1–100 of 250" in page_info(app)
        assert app.screen.query_one("#members", DataTable).row_count == 100
        await pilot.press("n")
        await settle(pilot)
        assert "Members 101–200 of 250" in page_info(app)
        await pilot.press("n", "n")
        await settle(pilot)
        assert "Members 201–250 of 250" in page_info(app)
        assert app.screen.query_one("#members", DataTable).row_count == 50
        await pilot.press("b")
        await settle(pilot)
        assert "Members 101–200" in page_info(app)


async def test_search_filters_the_pool(sqlite_engine):
    fill_pool(sqlite_engine, 30)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.press(*"ranta")
        await pilot.pause(0.4)  # the search waits for typing to stop
        await settle(pilot)
        assert "of 10" in page_info(app)
        await pilot.press("escape")  # back to the members, where a, e and w act
        assert app.focused is app.screen.query_one("#members", DataTable)
        app.screen.query_one("#search", Input).value = "MÄKI etu2"
        await pilot.pause(0.4)
        await settle(pilot)
        assert "of 8" in page_info(app)  # Etu2, 20, 22, 23, 25, 26, 28, 29: case-folded, ä included
        app.screen.query_one("#search", Input).value = "nobody-like-this"
        await pilot.pause(0.4)
        await settle(pilot)
        assert page_info(app) == "No members match."


async def test_withdraw_asks_first_and_erases(sqlite_engine):
    fill_pool(sqlite_engine, 3)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#members", DataTable).focus()
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.click("#cancel")
        await settle(pilot)
        assert count_members(sqlite_engine) == 3
        await pilot.press("w")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert count_members(sqlite_engine) == 2
        assert "of 2" in page_info(app)


async def test_a_tired_enter_on_a_withdraw_question_erases_nobody(sqlite_engine):
    fill_pool(sqlite_engine, 3)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.screen.query_one("#members", DataTable).focus()
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")  # Cancel has the focus
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmDialog) and count_members(sqlite_engine) == 3


async def test_import_dialog_is_typed_into_from_the_keyboard_and_enter_submits(sqlite_engine, tmp_path):
    path = write_rows(tmp_path / "e.csv", people(20))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, ImportDialog)
        for text in (str(path), "DVV/1/2026", "paneeli", "2099-12-31"):
            await pilot.press(*text)  # into the focused field, the first one to begin with
            await pilot.press("tab")
        assert app.screen.query_one("#path", Input).value == str(path)
        assert app.screen.query_one("#delete-by", Input).value == "2099-12-31"
        app.screen.query_one("#delete-by", Input).focus()
        await pilot.press("enter")  # Enter in the last field imports
        await settle(pilot)
        assert isinstance(app.screen, ReportDialog) and len(list_extracts(sqlite_engine)) == 1


async def open_add_form(pilot) -> MemberForm:
    """Press a on the pool screen and return the add-member form."""
    await settle(pilot)
    await pilot.press("a")
    await pilot.pause()
    assert isinstance(pilot.app.screen, MemberForm)
    return pilot.app.screen


async def test_add_member_form_names_the_bad_field_then_saves(sqlite_engine):
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_add_form(pilot)
        form.query_one("#f-first_names", Input).value = "Aino"
        form.query_one("#f-surname", Input).value = "Aalto"
        form.query_one("#f-birth_year", Input).value = "tuhat"
        form.query_one("#consent", Input).value = "v1"
        await pilot.click("#save")
        await pilot.pause()
        assert app.screen is form
        assert "birth_year must be a year" in str(form.query_one("#error", Static).render())
        form.query_one("#f-birth_year", Input).value = "1958"
        await pilot.pause(0.3)  # a button ignores a second press while its first one still shows
        await pilot.click("#save")
        await settle(pilot)
        assert not isinstance(app.screen, MemberForm), str(form.query_one("#error", Static).render())
        assert count_members(sqlite_engine) == 1 and "of 1" in page_info(app)


async def fill_import_dialog(pilot, path, delete_by="2099-12-31"):
    await pilot.press("f2")
    await pilot.pause()
    await pilot.press("i")
    await pilot.pause()
    dialog = pilot.app.screen
    assert isinstance(dialog, ImportDialog)
    for wid, value in (("path", str(path)), ("permit", "DVV/1/2026"), ("purpose", "paneeli"), ("delete-by", delete_by)):
        dialog.query_one(f"#{wid}", Input).value = value
    await pilot.click("#ok")
    await settle(pilot)


async def test_import_from_the_extracts_screen_shows_the_report(sqlite_engine, tmp_path):
    rows = people(40)
    rows[10][8] = "000"
    path = write_rows(tmp_path / "e.csv", rows)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await fill_import_dialog(pilot, path)
        assert isinstance(app.screen, ReportDialog)
        assert "39 people stored" in str(app.screen.query_one("#summary", Static).render())
        faults = app.screen.query_one("#faults", DataTable)
        assert faults.row_count == 1 and [str(c) for c in faults.get_row_at(0)[:3]] == ["12", "9", "kuntanumero"]
        await pilot.click("#close")
        await pilot.pause()
        assert app.screen.query_one("#extracts", DataTable).row_count == 1


async def test_rejected_import_is_a_message_and_saves_nothing(sqlite_engine, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await fill_import_dialog(pilot, path)
        assert isinstance(app.screen, ImportProgress)
        assert "empty" in str(app.screen.query_one("#status", Static).render())
        await pilot.click("#cancel")
        await pilot.pause()
        assert list_extracts(sqlite_engine) == []


async def test_import_dialog_checks_the_date(sqlite_engine, tmp_path):
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await fill_import_dialog(pilot, tmp_path / "x.csv", delete_by="31.13.2027")
        assert isinstance(app.screen, ImportDialog)
        assert "is not a date in the calendar" in str(app.screen.query_one("#error", Static).render())


async def test_purge_from_the_extracts_screen(sqlite_engine, tmp_path):
    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(10)), permit="P", purpose="x",
                   delete_by=dt.date.today() + dt.timedelta(days=5))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        app.screen.query_one("#extracts", DataTable).focus()
        await pilot.press("p")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert list_extracts(sqlite_engine)[0]["purged"]
        assert app.screen.query_one("#extracts", DataTable).get_row_at(0)[6].plain == "purged"


async def test_a_recruitment_round_is_drawn_from_the_extracts_screen_with_the_keyboard(sqlite_engine, tmp_path):
    from pool.invitations import list_rounds
    from tests.conftest import make_workspace
    from tui.dialogs import InviteDialog

    make_workspace(sqlite_engine, "Keski-Suomi")
    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(300, seed=8)), permit="P", purpose="x",
                   delete_by=dt.date.today() + dt.timedelta(days=30))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, InviteDialog) and app.focused is app.screen.query_one("#size", Input)
        await pilot.press(*"40", "tab", *"Lotto 5", "tab", *"Kevät 2027", "tab", *"age=15-29", "enter")
        await pilot.pause()
        assert "must look like age=18-29:1.5" in str(app.screen.query_one("#error", Static).render())
        await pilot.press(*":2", "enter")
        await settle(pilot)
        [r] = list_rounds(sqlite_engine)
        assert (r.name, r.invited) == ("Kevät 2027", 40)
        assert "Round 'Kevät 2027': 40 invitations" in str(app.screen.query_one("#extracts-note", Static).render())
        await pilot.press("f6")  # its letters are a round away
        await settle(pilot)
        assert app.screen.query_one("#round", Select).value == "Kevät 2027"


async def test_volunteers_of_a_survey_export_are_imported_from_the_pool_screen(sqlite_engine, tmp_path):
    from pool.members import count_members
    from tui.dialogs import SurveyDialog

    survey = tmp_path / "kysely.csv"
    survey.write_text("Etunimi;Sukunimi;Sähköposti\nAino;Aalto;aino@example.org\nEino;Eskola;eino@example.org\n"
                      "Liisa;;liisa@example.org\n", encoding="utf-8")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f3")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        assert isinstance(app.screen, SurveyDialog)
        await pilot.press(*str(survey), "tab", *"first_names=Etunimi, surname=Sukunimi, email=Sähköposti",
                          "tab", *"2026-1", "enter")
        await settle(pilot)
        assert count_members(sqlite_engine) == 0  # all or nothing: line 4 has no surname
        assert any("line 4" in m for m in app.messages)
        survey.write_text(survey.read_text(encoding="utf-8").replace("Liisa;;", "Liisa;Laine;"), encoding="utf-8")
        await pilot.press("i")
        await pilot.pause()
        await pilot.press(*str(survey), "tab", *"first_names=Etunimi, surname=Sukunimi, email=Sähköposti",
                          "tab", *"2026-1", "enter")
        await settle(pilot)
        assert count_members(sqlite_engine) == 3
        assert app.screen.query_one("#members", DataTable).row_count == 3


async def test_overdue_extract_is_warned_about_on_start(sqlite_engine, tmp_path):
    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(5)), permit="P", purpose="x",
                   delete_by=dt.date(2026, 1, 31), today=dt.date(2026, 1, 1))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        messages = list(app.messages)
        assert any("past its delete-by date 2026-01-31" in m for m in messages)


async def test_command_palette_offers_the_screen_actions(sqlite_engine):
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Add member", "Withdraw member", "Extracts"} <= titles
        await pilot.press("f2")
        await pilot.pause()
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {"Import extract", "Purge extract", "Pool"} <= titles


async def test_cancel_stops_a_running_import_and_saves_nothing(sqlite_engine, tmp_path, monkeypatch):
    import time

    import pool.extract

    real = pool.extract._inserter

    def slow_inserter(session):
        insert = real(session)

        def slow(rows):
            time.sleep(0.05)
            insert(rows)
        return slow

    monkeypatch.setattr(pool.extract, "_inserter", slow_inserter)
    monkeypatch.setattr(pool.extract, "CHUNK_ROWS", 5)
    path = write_rows(tmp_path / "e.csv", people(400))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f2")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        for wid, value in (("path", str(path)), ("permit", "P"), ("purpose", "x"), ("delete-by", "2099-01-01")):
            app.screen.query_one(f"#{wid}", Input).value = value
        await pilot.click("#ok")
        await pilot.pause(0.3)
        assert isinstance(app.screen, ImportProgress)
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ImportProgress)
        assert "cancelled; nothing was saved" in str(app.screen.query_one("#status", Static).render())
    assert list_extracts(sqlite_engine) == []


async def test_keys_can_be_remapped_by_binding_id(sqlite_engine, tmp_path, monkeypatch):
    fill_pool(sqlite_engine, 150)
    keymap = tmp_path / "keymap.toml"
    keymap.write_text('pool-next-page = "j"\n')
    monkeypatch.setenv("OTOS_KEYMAP", str(keymap))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        assert "Members 101–150" in page_info(app)


async def test_broken_keymap_is_a_warning_not_a_crash(sqlite_engine, tmp_path, monkeypatch):
    keymap = tmp_path / "keymap.toml"
    keymap.write_text("pool-next-page = [\n")
    monkeypatch.setenv("OTOS_KEYMAP", str(keymap))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert any("not valid TOML" in m for m in app.messages)


def lottery_pool(engine, n=40):
    from pool.members import add_member

    for i in range(n):
        add_member(engine, {"first_names": f"E{i}", "surname": "S", "birth_year": str(dt.date.today().year - 20 - i),
                            "sex": "1" if i % 2 else "2", "municipality": "179"}, consent_version="v1")


async def test_quotas_screen_shows_the_pool_and_the_clash_live(sqlite_engine, tmp_path):
    from sampling.interop import write_features
    from sampling.problem import Quota
    from tui.lottery_screens import QuotaEditor

    lottery_pool(sqlite_engine)
    path = tmp_path / "features.csv"
    write_features(path, [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)])
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#quota-file", Input).value = str(path)
        app.screen.query_one("#panel-size", Input).value = "6"
        app.screen.query_one("#quotas", DataTable).focus()
        await pilot.press("l")
        await settle(pilot)
        table = app.screen.query_one("#quotas", DataTable)
        assert table.row_count == 2 and [str(c) for c in table.get_row_at(0)[:5]] == ["sex", "mies", "2", "4", "20"]
        assert "Feasible" in str(app.screen.query_one("#feasibility", Static).render())
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, QuotaEditor)
        app.screen.query_one("#min", Input).value = "5"
        app.screen.query_one("#max", Input).value = "6"
        await pilot.click("#save")
        await settle(pilot)
        status = str(app.screen.query_one("#feasibility", Static).render())
        assert "minimums of sex add up to 7, more than the panel size 6" in status
        assert app.screen.query_one("#feasibility", Static).has_class("error")


async def test_quotas_kept_as_a_named_set_are_in_use_after_a_restart(sqlite_engine, tmp_path):
    from sampling import quota_sets
    from sampling.interop import write_features
    from sampling.problem import Quota
    from tui.dialogs import ConfirmDialog
    from tui.lottery_screens import NameDialog

    lottery_pool(sqlite_engine)
    quotas = [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)]
    write_features(tmp_path / "features.csv", quotas)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await pilot.pause()
        app.screen.query_one("#quota-file", Input).value = str(tmp_path / "features.csv")
        app.screen.query_one("#panel-size", Input).value = "6"
        await pilot.press("escape", "l")
        await settle(pilot)
        await pilot.press("n")
        await pilot.pause()
        assert isinstance(app.screen, NameDialog) and app.focused is app.screen.query_one("#name", Input)
        await pilot.press(*"Lappi 2027", "enter")
        await settle(pilot)
        assert quota_sets.load(sqlite_engine, "Lappi 2027") == (quotas, 6)
        await pilot.press("n")  # the same name again: asks before replacing, Cancel first
        await pilot.pause()
        assert app.screen.query_one("#name", Input).value == "Lappi 2027"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmDialog)
        await pilot.press("enter")
        await settle(pilot)
        assert len(quota_sets.listing(sqlite_engine)) == 1
    app = OtosApp(sqlite_engine)  # weeks later
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await settle(pilot)
        assert app.quotas == quotas and app.screen.query_one("#draw-size", Input).value == "6"
        app.screen.query_one("#seed", Input).value = "Lotto 12"
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert "the quota set 'Lappi 2027'" in str(app.screen.query_one("#question", Static).render())
        await pilot.press("escape")
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.query_one("#quota-sets", Select).value == "Lappi 2027"
        assert app.screen.query_one("#quotas", DataTable).row_count == 2


async def test_names_in_lists_are_shown_as_typed_never_as_markup(sqlite_engine):
    from sampling import quota_sets
    from sampling.problem import Quota

    lottery_pool(sqlite_engine)
    quota_sets.save(sqlite_engine, "[b]Lappi[/b][@click=app.quit]", [Quota("sex", "mies", 2, 4)], 6)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await settle(pilot)
        assert "[b]Lappi[/b][@click=app.quit]" in app.export_screenshot()


def app_with_sex_quotas(engine) -> OtosApp:
    """The app with quotas of 2 to 4 men and 2 to 4 women for a panel of 6."""
    from sampling.problem import Quota

    app = OtosApp(engine)
    app.use_quotas([Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)], 6, "test quotas")
    return app


async def seed_on_draw_screen(pilot, seed: str) -> None:
    await pilot.press("f5")
    await pilot.pause()
    pilot.app.screen.query_one("#seed", Input).value = seed


async def test_escape_stops_a_draw_under_way_and_nothing_is_recorded(sqlite_engine, monkeypatch):
    import time

    import sampling.panels as panels

    lottery_pool(sqlite_engine)
    real = panels.select
    started = []

    def slow_lottery(problem, seed, method="leximin", progress=None, **kwargs):
        started.append(True)
        for i in range(400):  # a large pool: the lottery reports progress as it goes
            progress(i / 400, "computing")
            time.sleep(0.01)
        return real(problem, seed, method, progress, **kwargs)

    monkeypatch.setattr(panels, "select", slow_lottery)
    app = app_with_sex_quotas(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await seed_on_draw_screen(pilot, "Lotto 12")
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.press("tab", "enter")  # Cancel has the focus: Tab to Draw
        for _ in range(200):
            if started:
                break
            await pilot.pause(0.05)
        assert started
        await pilot.press("escape")
        for _ in range(100):  # the lottery stops at its next step and says so
            if "nothing was recorded" in str(app.screen.query_one("#draw-status", Static).render()):
                break
            await pilot.pause(0.05)
        assert "The draw was stopped; nothing was recorded" in str(app.screen.query_one("#draw-status", Static).render())
    assert panels.list_panels(sqlite_engine) == []


async def test_draw_screen_draws_verifies_and_replaces(sqlite_engine):
    from sampling.panels import list_panels, panel_seats
    from sampling.problem import Quota

    lottery_pool(sqlite_engine)
    app = OtosApp(sqlite_engine)
    app.quotas = [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)]
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        app.screen.query_one("#seed", Input).value = "Lotto 12"
        app.screen.query_one("#draw-size", Input).value = "6"
        await pilot.press("ctrl+d")
        await pilot.pause()
        await pilot.click("#confirm")
        await settle(pilot)
        assert len(list_panels(sqlite_engine)) == 1
        table = app.screen.query_one("#panel", DataTable)
        roles = [s["role"] for s in panel_seats(sqlite_engine, 1)]
        assert roles.count("seated") == 6 and roles.count("reserve") == 6  # one reserve per seat by default
        assert table.row_count == len(roles)
        assert "lowest 0.1500" in str(app.screen.query_one("#draw-status", Static).render())
        table.focus()
    # Weeks later, after a restart: F5 shows the newest panel; a dropout is replaced and
    # the draw verified, from the keyboard at 80x24.
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f5")
        await settle(pilot)
        table = app.screen.query_one("#panel", DataTable)
        assert table.row_count == len(roles)
        assert "Panel 1, drawn" in str(app.screen.query_one("#draw-panel-info", Static).render())
        await pilot.press("escape")  # from the seed field to the seats
        assert app.focused is table
        await pilot.press("down", "r")
        await pilot.pause()
        await pilot.press("tab", "enter")  # Cancel has the focus: Tab to Replace
        await settle(pilot)
        after = [s["role"] for s in panel_seats(sqlite_engine, 1)]
        assert after.count("dropped") == 1 and after.count("replacement") == 1
        assert table.row_count == len(roles)  # a reserve of the same group took the seat
        assert any("(reserve number 1 for member " in m and "takes the seat" in m for m in app.messages)
        await pilot.press("v")
        await settle(pilot)
        assert any("Panel 1 verified" in m for m in app.messages)
        await pilot.press("u")  # the next panel alike: its quotas, on F4 too
        await settle(pilot)
        assert app.quotas == [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)]
        await pilot.press("f4")
        await settle(pilot)
        assert app.screen.query_one("#quotas", DataTable).row_count == 2


def lettered_workspace(engine, tmp_path):
    from sampling.invitations import draw_invitations
    from tests.conftest import make_workspace

    make_workspace(engine)
    report = import_extract(engine, write_rows(tmp_path / "e.csv", people(200, seed=6)), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=30))
    draw_invitations(engine, report.extract_id, 30, "s", strata=("sex",), round_name="kierros-1")


async def test_letters_screen_previews_and_prints(sqlite_engine, tmp_path):
    from textual.widgets import Select

    lettered_workspace(sqlite_engine, tmp_path)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f6")
        await pilot.pause()
        app.screen.query_one("#round", Select).value = "kierros-1"
        app.screen.query_one("#out", Input).value = str(tmp_path / "k.pdf")
        await pilot.click("#preview")
        await pilot.pause()
        assert "Kutsu asukaspaneeliin" in str(app.screen.query_one("#letter-preview", Static).render())
        assert "Language versions: fi" in str(app.screen.query_one("#letters-status", Static).render())
        await pilot.pause(0.3)
        await pilot.click("#print")
        await settle(pilot)
        assert "letters written to" in str(app.screen.query_one("#letters-status", Static).render())
    assert (tmp_path / "k.pdf").exists() and (tmp_path / "k.csv").exists()


async def test_exports_screen_shows_the_report_and_writes_files(sqlite_engine, tmp_path):
    from textual.widgets import Select

    from sampling.panels import draw_panel
    from sampling.problem import Quota

    lottery_pool(sqlite_engine)
    draw_panel(sqlite_engine, [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)], 6, "s")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        app.screen.query_one("#folder", Input).value = str(tmp_path)
        app.screen.query_one("#panel", Select).value = 1
        await pilot.pause()
        assert "Every quota is met." in str(app.screen.query_one("#report-table", Static).render())
        await pilot.click("#roster-xlsx")
        await pilot.pause()
        await pilot.pause(0.3)
        await pilot.click("#report")
        await pilot.pause()
    assert (tmp_path / "paneeli-1-jasenet.xlsx").exists() and (tmp_path / "paneeli-1-edustavuus.pdf").exists()


async def test_the_lottery_record_is_written_from_the_exports_screen_with_a_key(sqlite_engine, tmp_path):
    import json

    from textual.widgets import Select

    from sampling import record
    from sampling.panels import draw_panel
    from sampling.problem import Quota

    lottery_pool(sqlite_engine)
    draw_panel(sqlite_engine, [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)], 6, "s")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f7")
        await pilot.pause()
        app.screen.query_one("#folder", Input).value = str(tmp_path)
        app.screen.query_one("#panel", Select).value = 1
        await pilot.pause()
        app.screen.query_one("#panel", Select).focus()
        await pilot.press("j")
        for _ in range(40):
            if (tmp_path / "paneeli-1-arvonta.json").exists():
                break
            await pilot.pause(0.05)
        await pilot.pause()
        assert "paneeli-1-arvonta.json" in str(app.screen.query_one("#exports-status", Static).render())
    rec = json.loads((tmp_path / "paneeli-1-arvonta.json").read_text("utf-8"))
    assert record.verify(rec).ok and rec["draw"]["seed"] == "s"


async def test_opinions_screen_finds_groups_sorts_statements_and_writes_the_report(sqlite_engine, tmp_path):
    from tests.test_opinions import planted, write_polis

    labels, votes = planted()
    folder = write_polis(tmp_path / "conv", votes)
    parts = tmp_path / "participants.csv"
    parts.write_text("participant;role\n" + "".join(f"{i};{'staff' if i % 3 == 0 else 'resident'}\n"
                                                    for i in range(len(labels))))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        app.screen.query_one("#op-analyze").press()  # without votes: a message, not a crash
        await pilot.pause()
        assert "Give a Polis export folder" in " ".join(app.messages)
        await pilot.pause(0.3)  # a button ignores clicks while it shows the last press
        app.screen.query_one("#op-source", Input).value = str(folder)
        app.screen.query_one("#op-participants", Input).value = str(parts)
        await pilot.click("#op-analyze")
        await settle(pilot)
        await pilot.pause(0.5)
        assert "3 opinion groups, sizes 20, 15, 10" in str(app.screen.query_one("#op-status", Static).render())
        table = app.screen.query_one("#op-statements", DataTable)
        assert table.row_count == votes.shape[1] * 3
        column = list(table.columns)[2]  # n
        table.post_message(DataTable.HeaderSelected(table, column, 2, table.columns[column].label))
        await pilot.pause()
        ns = [table.get_row_at(i)[2] for i in range(table.row_count)]
        assert ns == sorted(ns)
        table.post_message(DataTable.HeaderSelected(table, column, 2, table.columns[column].label))
        await pilot.pause()
        assert [table.get_row_at(i)[2] for i in range(table.row_count)] == sorted(ns, reverse=True)
        assert app.screen.query_one("#op-strata", DataTable).row_count == votes.shape[1] * 2  # resident, staff
        app.screen.query_one("#op-out", Input).value = str(tmp_path / "op.pdf")
        await pilot.press("ctrl+o")
        await settle(pilot)
    assert (tmp_path / "op.pdf").exists() and (tmp_path / "op-strata.csv").exists()


async def test_opinions_from_the_keyboard_at_80x24_a_wrong_file_is_a_message_and_s_sorts(sqlite_engine, tmp_path):
    from tests.test_opinions import planted, write_polis

    _, votes = planted()
    folder = write_polis(tmp_path / "conv", votes)
    (tmp_path / "broken.csv").write_text("this is not;a votes file\n1;2\n")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        status = app.screen.query_one("#op-status", Static)
        for wrong in (tmp_path / "missing", tmp_path / "broken.csv"):
            app.screen.query_one("#op-source", Input).value = str(wrong)
            await pilot.press("ctrl+r")
            await settle(pilot)
            assert wrong.name in str(status.render()) and "Analysing" not in str(status.render())
        assert app.screen.query_one("#op-out", Input).region.width >= 20  # the report field keeps its room
        app.screen.query_one("#op-source", Input).value = str(folder)
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert "opinion groups" in str(status.render())
        await pilot.press("escape", "right")  # the tabs, then Statements
        await pilot.press("tab")  # into its table
        table = app.screen.query_one("#op-statements", DataTable)
        assert app.focused is table
        await pilot.press("right", "right", "s")  # the n column
        ns = [table.get_row_at(i)[2] for i in range(table.row_count)]
        assert ns == sorted(ns) and ns != [table.get_row_at(i)[2] for i in range(table.row_count)][::-1]
        await pilot.press("s")
        assert [table.get_row_at(i)[2] for i in range(table.row_count)] == sorted(ns, reverse=True)


async def test_three_audiences_compared_from_the_keyboard_at_80x24(sqlite_engine, tmp_path):
    """Ctrl+K on the Opinions screen: the audiences typed into the dialog, a half-filled
    row is a message in the dialog, then the Audiences tab lists every statement with the
    planted difference first, and the PDF is written."""
    import numpy as np

    from tests.test_compare import STATEMENTS, TEXTS, audiences

    base = np.full(STATEMENTS, 0.5)
    staff = base.copy()
    staff[6] = 0.95
    folders = audiences(tmp_path, [base, staff, base])
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compare_dialog(pilot)
        for i, (label, folder) in enumerate(zip(("Asukkaat", "Henkilöstö", "Paneeli"), folders), 1):
            await pilot.press(*label)
            await pilot.press("tab")
            if i == 3:  # a name without its folder first
                await pilot.press("enter")
                await pilot.pause()
                assert "Audience 3: give both a name and a folder" in str(app.screen.query_one("#error", Static).render())
            await pilot.press(*str(folder))
            await pilot.press("tab")
        await pilot.press("tab", "tab", "tab")  # past the empty fourth row and the mapping, to the PDF name
        assert app.focused.id == "pdf"
        await pilot.press("ctrl+u")
        await pilot.press(*str(tmp_path / "vertailu.pdf"))
        await pilot.press("enter")
        await settle(pilot)
        await pilot.pause(0.5)
        table = app.screen.query_one("#op-compare", DataTable)
        assert table.row_count == STATEMENTS
        first = table.get_row_at(0)
        assert str(first[0]).startswith(TEXTS[6][:20]) and "Henkilöstö" in [str(c.label) for c in table.columns.values()]
        assert app.screen.query_one("#op-tabs", TabbedContent).active == "op-compare-tab"
        assert "vertailu.pdf" in str(app.screen.query_one("#op-status", Static).render())
    assert (tmp_path / "vertailu.pdf").exists() and (tmp_path / "vertailu.csv").exists()


async def test_a_failed_comparison_offers_its_entries_again(sqlite_engine, tmp_path):
    """A folder given as the mapping file fails the comparison with a message; Ctrl+K
    then opens the dialog with everything typed before, so one field is corrected."""
    import numpy as np

    from tests.test_compare import STATEMENTS, audiences

    folders = audiences(tmp_path, [np.full(STATEMENTS, 0.5)] * 2)
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_compare_dialog(pilot)
        for label, folder in zip(("Asukkaat", "Paneeli"), folders):
            await pilot.press(*label, "tab", *str(folder), "tab")
        await pilot.press("tab", "tab", "tab", "tab")  # past the empty third and fourth rows
        assert app.focused.id == "mapping"
        await pilot.press(*str(tmp_path), "tab", "ctrl+u", "enter")  # no PDF: nothing written outside tmp_path
        await settle(pilot)
        await pilot.pause(0.3)
        assert "is a folder; give a file name" in str(app.screen.query_one("#op-status", Static).render())
        await pilot.press("ctrl+k")
        await pilot.pause()
        value = lambda wid: app.screen.query_one(f"#{wid}", Input).value  # noqa: E731
        assert [value("label-1"), value("label-2"), value("label-3")] == ["Asukkaat", "Paneeli", ""]
        assert value("folder-2") == str(folders[1]) and value("mapping") == str(tmp_path) and value("pdf") == ""
        app.screen.query_one("#mapping", Input).focus()
        await pilot.press("ctrl+u", "enter")
        await settle(pilot)
        await pilot.pause(0.5)
        assert app.screen.query_one("#op-compare", DataTable).row_count == STATEMENTS


async def test_a_user_error_is_a_message_and_the_screen_keeps_working(sqlite_engine):
    """Textual stops a screen whose handler raises; Otos turns user errors into messages first."""
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("ctrl+d")  # a key-bound action: draw without a seed
        await pilot.pause()
        await pilot.press("f6")
        await pilot.pause()
        await pilot.click("#print")  # a button: print without a round
        await pilot.pause()
        messages = list(app.messages)
        assert "Give the public seed first." in messages and "Choose the recruitment round first." in messages
        assert app.screen.is_attached and app.screen.query_one("#letters-status", Static)
        await pilot.press("f5")
        await pilot.pause()
        assert app.screen.is_attached and app.is_running


async def test_an_unexpected_error_is_a_message_without_its_text_and_the_app_goes_on(sqlite_engine, tmp_path,
                                                                                     monkeypatch):
    """A bug's text could hold personal data: the message names only its kind."""
    import pool.extract

    def broken(engine, extract_id):
        raise RuntimeError("Virtanen, Mannerheimintie 1")
    monkeypatch.setattr(pool.extract, "faults_of", broken)
    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(3, 1)), permit="P", purpose="x",
                   delete_by=dt.date.today() + dt.timedelta(days=5))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("f")  # Faults: the handler raises
        await settle(pilot)
        assert any("Unexpected error (RuntimeError)" in m for m in app.messages)
        assert not any("Virtanen" in m for m in app.messages)
        await pilot.press("f3")
        await settle(pilot)
        assert app.is_running and app.screen.query_one("#members", DataTable).is_attached


async def test_the_demo_fills_in_its_conversation_on_the_opinions_screen(sqlite_engine, tmp_path):
    from sample_data.demo import build_demo, write_demo_votes

    build_demo(sqlite_engine, rows=1500, invitations=700, seed=5)
    folder = write_demo_votes(sqlite_engine, tmp_path / "example")
    app = OtosApp(sqlite_engine, opinions_example=folder)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("f8")
        await pilot.pause()
        assert app.screen.query_one("#op-source", Input).value == str(folder / "votes.csv")
        await pilot.click("#op-analyze")
        await settle(pilot)
        await pilot.pause(0.3)
        assert "opinion groups" in str(app.screen.query_one("#op-status", Static).render())
        strata = app.screen.query_one("#op-strata", DataTable)
        weighted = [strata.get_row_at(i)[9].plain for i in range(strata.row_count)]
        assert any(w.endswith("%") for w in weighted)  # the age strata are weighted to the population


async def test_names_are_shown_as_plain_text_never_markup_or_control_codes(sqlite_engine):
    """A name like ``[/]`` once blanked the pool table and ``[link=…]`` made a hidden link."""
    hostile = ["[/]", "[link=https://x.invalid]klik[/link]", "Aino\x1b[2J", "[bold red]Iso[/]"]
    now = utcnow()
    with Session(sqlite_engine) as s:
        s.execute(insert(PoolMember), [
            {"first_names": "Etu", "surname": name, "source": "demo", "status": "active", "preferred_language": "fi",
             "consent_version": "v1", "consent_at": now, "joined_at": now, "panels_served": 0,
             "search_key": member_search_key("Etu", name, None, None)} for name in hostile])
        s.commit()
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        table = app.screen.query_one("#members", DataTable)
        assert table.row_count == 4
        shown = [table.get_row_at(i)[1] for i in range(4)]
        assert [str(c) for c in shown] == ["[/]", "[link=https://x.invalid]klik[/link]", "Aino\\u001b[2J",
                                           "[bold red]Iso[/]"]
        lines = [table.render_line(y).text for y in range(1, 5)]  # what the terminal gets, row by row
        assert any("[/]" in line for line in lines) and any("klik[/link]" in line for line in lines)
        assert not any("\x1b" in line for line in lines)
        app.notify("File [/]x\x1b[31m.csv")
        await pilot.pause()


async def test_settings_screen_starts_the_workspace_and_edits_a_value_at_80x24(sqlite_engine):
    from textual.widgets import Select

    from pool import workspace

    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f9")
        await pilot.pause()
        assert "Choose the county" in str(app.screen.query_one("#settings-status", Static).render())
        app.screen.query_one("#county", Select).value = "Lapin hyvinvointialue"
        await pilot.click("#start")
        await pilot.pause()
        assert workspace.load(sqlite_engine).county == "Lapin hyvinvointialue"
        assert "Letters still need: Phone, Registration address" in str(
            app.screen.query_one("#settings-status", Static).render())
        table = app.screen.query_one("#settings", DataTable)
        table.move_cursor(row=[str(table.get_row_at(i)[0]) for i in range(table.row_count)].index("Phone"))
        await pilot.press("enter")
        await pilot.pause()
        assert "Phone (phone)" in str(app.screen.query_one(".title", Label).render())  # the key for the CLI
        await pilot.press(*"016 123 4567", "enter")  # typed into the focused field, Enter saves
        await pilot.pause()
        assert workspace.load(sqlite_engine)["phone"] == "016 123 4567"
        assert str(table.get_row_at(table.cursor_row)[0]) == "Phone"  # the cursor stays on the row edited
        assert "Letters still need: Registration address" in str(
            app.screen.query_one("#settings-status", Static).render())
        await pilot.press("enter")  # the cursor is still on phone: a bad value is a message, nothing saved
        await pilot.pause()
        await pilot.press("ctrl+a", *"soita", "enter")
        await pilot.pause()
        assert workspace.load(sqlite_engine)["phone"] == "016 123 4567"


async def quotas_from_extract(app, pilot) -> None:
    """On the Quotas screen: g, with the quota table focused, and wait for the result."""
    await pilot.pause()
    app.screen.query_one("#quotas", DataTable).focus()
    await pilot.press("g")
    await settle(pilot)


async def test_quotas_from_the_extract_follow_the_workspace_county_and_grouping(sqlite_engine, tmp_path):
    from pool import workspace
    from tests.conftest import make_workspace

    make_workspace(sqlite_engine, "Keski-Suomi")
    workspace.set_value(sqlite_engine, "municipalities_alone", "Jyväskylä")
    import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", people(300, seed=8)), permit="P", purpose="x",
                   delete_by=dt.date.today() + dt.timedelta(days=30))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await quotas_from_extract(app, pilot)
        municipalities = sorted(q.value for q in app.quotas if q.feature == "municipality")
        assert municipalities == ["Jyväskylä", "muut"]
        assert sorted(q.value for q in app.quotas if q.feature == "age") == ["15-29", "30-44", "45-64", "65-74", "75+"]


async def test_quotas_take_the_population_of_the_extract_picked_with_the_keyboard(sqlite_engine, tmp_path):
    from tests.conftest import make_workspace

    make_workspace(sqlite_engine, "Keski-Suomi")
    for n, county in enumerate(("Keski-Suomi", "Pirkanmaa")):  # the newest is another county's
        import_extract(sqlite_engine, write_rows(tmp_path / f"e{n}.csv", people(300, seed=8, county=county)),
                       permit="P", purpose="x", delete_by=dt.date.today() + dt.timedelta(days=30))
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f4")
        await quotas_from_extract(app, pilot)
        assert "Tampere" in {q.value for q in app.quotas}  # the default: the newest extract
        app.screen.query_one("#quota-extract").focus()
        await pilot.press("enter", "down", "down", "enter")  # newest extract, extract 2, extract 1
        await quotas_from_extract(app, pilot)
        assert {q.value for q in app.quotas if q.feature == "municipality"} <= {"Jyväskylä", "muut"} | {
            m.name_fi for m in municipalities().values() if m.county == "Keski-Suomen hyvinvointialue"}
        assert "Tampere" not in {q.value for q in app.quotas}


async def test_add_member_form_registers_by_response_code(sqlite_engine, tmp_path):
    from pool import codes
    from pool.invitations import create_invitations
    from sqlmodel import select

    from pool.members import list_members
    from pool.models import Person

    rows = people(5, seed=3)
    for r in rows:
        r[12], r[13] = "0", "0"
    report = import_extract(sqlite_engine, write_rows(tmp_path / "e.csv", rows), permit="P", purpose="x",
                            delete_by=dt.date.today() + dt.timedelta(days=30))
    with Session(sqlite_engine) as s:
        person = s.exec(select(Person).where(Person.hetu == rows[0][0])).one()
    [code] = create_invitations(sqlite_engine, report.extract_id, [person.id], "r")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_add_form(pilot)
        form.query_one("#code", Input).value = codes.display(code)
        form.query_one("#f-email", Input).value = "aino@example.org"
        form.query_one("#f-surname", Input).value = "Ignored"  # the register's name wins
        form.query_one("#consent", Input).value = "v1"
        await pilot.click("#save")
        await settle(pilot)
        assert not isinstance(app.screen, MemberForm), str(form.query_one("#error", Static).render())
    [m] = list_members(sqlite_engine)
    assert (m.surname, m.email, m.source) == (rows[0][2], "aino@example.org", "invitation")


async def test_every_screen_and_form_fits_80x24(sqlite_engine, tmp_path):
    """At 80x24 every field and button is on screen and wide enough to use; the screen
    names take one line and the footer has room for the screen's own keys."""
    from textual.widgets import Button, Select

    from sampling.panels import draw_panel
    from sampling.problem import Quota
    from tui.nav import NavBar

    lottery_pool(sqlite_engine)
    draw_panel(sqlite_engine, [Quota("sex", "mies", 2, 4), Quota("sex", "nainen", 2, 4)], 6, "s")
    app = OtosApp(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        def check(where: str) -> None:
            for widget in app.screen.query("Input, Button, Select, Checkbox").results():
                if not widget.display or isinstance(widget.parent, Select):
                    continue
                region = widget.region
                assert region.width >= 8 and region.height >= 1, f"{where}: {widget!r} squeezed to {region}"
                assert region.right <= 80 and region.bottom <= 23, f"{where}: {widget!r} off screen at {region}"
        for key in ("f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"):
            await pilot.press(key)
            await settle(pilot)
            check(key)
            assert app.screen.query_one(NavBar).region.height == 1
        await pilot.press("f2", "i")
        await settle(pilot)
        assert isinstance(app.screen, ImportDialog)
        check("import dialog")
        await pilot.press("escape", "f3")
        await settle(pilot)
        app.screen.query_one("#members", DataTable).focus()
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, MemberForm)
        for button in app.screen.query(Button).results():
            assert button.region.bottom <= 24, f"add-member form: {button.label} off screen"


async def test_a_panel_of_no_seats_is_refused_before_the_draw_is_offered(sqlite_engine):
    """Seats below one (or reserves below none) get a message naming the field; no
    confirmation asks whether to draw a panel of -5."""
    app = app_with_sex_quotas(sqlite_engine)
    async with app.run_test(size=(80, 24)) as pilot:
        await seed_on_draw_screen(pilot, "Lotto 12")
        for field, value, said in (("#draw-size", "-5", "The number of seats must be at least 1 (given -5)."),
                                   ("#draw-reserves", "-1", "The number of reserves per seat must be at least 0 (given -1).")):
            app.screen.query_one("#draw-size", Input).value = "6"
            app.screen.query_one(field, Input).value = value
            await pilot.press("ctrl+d")
            await pilot.pause()
            assert said in list(app.messages)
            assert not isinstance(app.screen, ConfirmDialog)
