"""The developer docs name only things that exist: paths, modules, classes and their members.

docs/architecture.md and CONTRIBUTING.md are read by newcomers before the code; a module that
moved or a method that was renamed must fail here rather than mislead them. Checked, in the
docs' inline code: repository paths (``resviz/core/runs/store.py``, ``tests/gui/``, globs),
dotted names from ``resviz`` down (``resviz.core.train.telemetry.Telemetry``), and
``Class.member`` for any class defined in resviz (also inside architecture.md's diagrams).
The source is parsed, not imported, so this runs without torch or Qt.
"""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = ("docs/architecture.md", "CONTRIBUTING.md")

_FENCED = re.compile(r"^```.*?^```", re.S | re.M)
_INLINE = re.compile(r"`([^`\n]+)`")
_MEMBER = re.compile(r"\b([A-Z][A-Za-z0-9]*)\.([A-Za-z_][A-Za-z0-9_]*)\b")
_PATH_ROOTS = ("resviz/", "tests/", "benchmarks/", "docs/", "packaging/", "assets/")
_ROOT_FILES = ("pyproject.toml", "Makefile", "README.md", "CONTRIBUTING.md")


def _inline(text: str) -> list[str]:
    return _INLINE.findall(_FENCED.sub("", text))


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


@cache
def _classes() -> dict[str, list[ast.ClassDef]]:
    """Every class defined in resviz, by name."""
    found: dict[str, list[ast.ClassDef]] = {}
    for path in sorted((REPO / "resviz").rglob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ClassDef):
                found.setdefault(node.name, []).append(node)
    return found


def _members(cls: ast.ClassDef) -> set[str]:
    """Methods, class attributes and ``self.x`` attributes of ``cls`` and its resviz bases."""
    names: set[str] = set()
    for node in cls.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    for node in ast.walk(cls):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            if isinstance(node.value, ast.Name) and node.value.id == "self":
                names.add(node.attr)
    for base in cls.bases:
        if isinstance(base, ast.Name):
            for parent in _classes().get(base.id, []):
                names |= _members(parent)
    return names


def _top_level(module: ast.Module) -> set[str]:
    """What a module defines or re-exports (lazy ``_EXPORTS`` included)."""
    names: set[str] = set()
    for node in module.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {t.id for t in targets if isinstance(t, ast.Name)}
            value = node.value
            if any(isinstance(t, ast.Name) and t.id == "_EXPORTS" for t in targets) and isinstance(value, ast.Dict):
                names |= {k.value for k in value.keys if isinstance(k, ast.Constant)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    return names


def _module_file(parts: list[str]) -> Path | None:
    base = REPO.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _dotted_problem(name: str) -> str | None:
    """Why ``resviz.a.b.Name.member`` does not exist (None when it does)."""
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        path = _module_file(parts[:i])
        if path is not None:
            break
    else:
        return "no such module"
    rest = parts[i:]
    if not rest:
        return None
    module = _tree(path)
    if rest[0] not in _top_level(module):
        return f"{path.relative_to(REPO)} defines no {rest[0]}"
    if len(rest) == 1:
        return None
    if len(rest) > 2:
        return "too deep to check: name a class and one member"
    classes = [n for n in module.body if isinstance(n, ast.ClassDef) and n.name == rest[0]]
    classes = classes or _classes().get(rest[0], [])
    if not any(rest[1] in _members(c) for c in classes):
        return f"{rest[0]} has no {rest[1]}"
    return None


def _path_problem(token: str) -> str | None:
    if "*" in token:
        return None if list(REPO.glob(token)) else "the pattern matches nothing"
    return None if (REPO / token).exists() else "no such file or folder"


def _problems(doc: str) -> tuple[list[str], int]:
    text = (REPO / doc).read_text(encoding="utf-8")
    problems, checked = [], 0
    for span in _inline(text):
        token = span.strip().rstrip(".,:;")
        if "<" in token or " " in token:
            continue  # a placeholder (resviz/cli/<verb>.py) or a command line
        problem = None
        if token.startswith(_PATH_ROOTS) or token in _ROOT_FILES:
            problem, checked = _path_problem(token), checked + 1
        elif re.fullmatch(r"resviz(\.\w+)+", token):
            problem, checked = _dotted_problem(token), checked + 1
        if problem:
            problems.append(f"`{token}`: {problem}")
    # Class.member anywhere (inline code and, in this file, the diagrams), for resviz classes.
    where = text if doc == "docs/architecture.md" else " ".join(_inline(text))
    for cls, member in set(_MEMBER.findall(where)):
        if cls in _classes():
            checked += 1
            if not any(member in _members(c) for c in _classes()[cls]):
                problems.append(f"`{cls}.{member}`: {cls} has no {member}")
    return sorted(problems), checked


@pytest.mark.parametrize("doc", DOCS)
def test_every_name_in_the_docs_exists(doc):
    problems, checked = _problems(doc)
    assert checked >= 20, f"only {checked} names found in {doc}: is the parser still right?"
    assert not problems, f"{doc} names things that do not exist:\n" + "\n".join(problems)


def test_the_checker_catches_what_is_missing():
    assert _path_problem("resviz/core/no_such_module.py") == "no such file or folder"
    assert _path_problem("resviz/gui/inspect/*.py") is None
    assert _dotted_problem("resviz.core.train.telemetry.Telemetry.collect") is None
    assert _dotted_problem("resviz.core.inspect.Inspector") is None  # a lazy export
    assert _dotted_problem("resviz.core.train.telemetry.Telemetry.no_such") == "Telemetry has no no_such"
    assert _dotted_problem("resviz.core.train.telemetry.NoSuch") == "resviz/core/train/telemetry.py defines no NoSuch"
    assert _dotted_problem("resviz.no_such_module") == "resviz/__init__.py defines no no_such_module"
    assert "TrainTab" in _classes() and "panels" in _members(_classes()["TrainTab"][0])  # self.panels = ...


def test_the_readme_points_a_newcomer_to_the_docs():
    development = (REPO / "README.md").read_text(encoding="utf-8").split("## Development", 1)[1]
    assert "docs/architecture.md" in development and "CONTRIBUTING.md" in development
    assert "DESIGN.md" not in development  # outside the repository: a newcomer cannot find it
