"""The domain packages run without the UI: they never import textual."""
import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ["pool", "sampling", "letters", "opinions", "sample_data"]


def test_no_domain_module_imports_textual_in_its_source():
    offenders = []
    for pkg in DOMAIN:
        for path in (ROOT / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                    [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "textual"]
    assert offenders == []


def test_importing_every_domain_module_loads_no_textual():
    modules = [".".join(p.relative_to(ROOT).with_suffix("").parts) for pkg in DOMAIN
               for p in (ROOT / pkg).rglob("*.py") if "migrations" not in p.parts]
    code = "import importlib, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules) + \
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_the_faces_open_no_database_session_of_their_own():
    """The app and the command line parse, call a service function and render: the
    transaction belongs to the service, so no module in tui/ opens a session or queries."""
    offenders = []
    for path in (ROOT / "tui").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in ("sqlmodel", "sqlalchemy", "sqlalchemy.orm"):
                names = {a.name for a in node.names} - {"Engine"}
                offenders += [f"{path.relative_to(ROOT)}: {node.module}.{n}" for n in sorted(names)]
    assert offenders == []


def _tui_classes():
    """Every class defined in a tui/ module that is a Textual app, screen or widget."""
    import importlib
    import inspect

    from textual.message_pump import MessagePump

    for path in sorted((ROOT / "tui").glob("*.py")):
        module = importlib.import_module(f"tui.{path.stem}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, MessagePump):
                yield cls


def test_the_app_overrides_no_private_textual_method():
    """Private methods change without notice between Textual releases: Otos hooks into
    Textual only through public means (handlers, workers, notify)."""
    from textual.app import App
    from textual.screen import ModalScreen

    private = {name for base in (App, ModalScreen) for name in dir(base)
               if name.startswith("_") and not name.startswith("__")}
    offenders = [f"{cls.__name__}.{name}" for cls in _tui_classes() for name, value in vars(cls).items()
                 if name in private and callable(value) and getattr(value, "__module__", "").startswith("tui")]
    assert offenders == []


def test_every_handler_and_action_is_guarded():
    """An error in a handler must become a message, not end the app (tui.guard)."""
    offenders = []
    for path in sorted((ROOT / "tui").glob("*.py")):
        for cls in [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.ClassDef)]:
            for fn in cls.body:
                if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    continue
                decorators = [ast.unparse(d) for d in fn.decorator_list]
                handler = fn.name.startswith(("action_", "on_")) or any(d.startswith("on(") for d in decorators)
                is_worker = any(d.startswith("work") for d in decorators)
                if handler and not is_worker and "guarded" not in decorators:
                    offenders.append(f"{path.name}: {cls.name}.{fn.name}")
    assert offenders == []
