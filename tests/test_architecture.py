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
