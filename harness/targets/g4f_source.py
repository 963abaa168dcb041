"""``harness flags --g4f --write-source``: the measured flags, written into gpt4free's code.

For each ``g4f.NAME`` provider measured conclusively (working or not working, never
unknown) whose shipped flag differs, :func:`set_working` rewrites the ``working =``
assignment in the body of the provider's class (found with :mod:`ast`, so other
classes and nested scopes in the module are left alone), or adds one as the first
statement of the class body when the class inherits its flag. The edits become a
unified diff against the installed package (``harness.targets.flags.source_patch``); they are
written to site-packages only with ``--apply``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from yarl import URL

from harness.probing.connectivity import is_local_host
from harness.settings.config import Settings
from harness.targets.flags import SourceEdit
from harness.targets.g4f import known_names
from providers.gpt4free import CHECKED, PREFIX, G4FInfo, LoadFailure, load_all


def set_working(text: str, class_name: str, flag: bool) -> str:
    """``text`` (a module's source) with ``working = flag`` in class ``class_name``'s body.

    Unchanged when the module has no top-level class of that name.
    """
    tree = ast.parse(text)
    node = next(
        (n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == class_name), None
    )
    if node is None:
        return text
    lines = text.splitlines(keepends=True)
    for statement in node.body:
        if _assigns_working(statement):
            index = statement.lineno - 1
            if statement.end_lineno != statement.lineno:
                del lines[index + 1 : statement.end_lineno]
            lines[index] = f"{lines[index][: statement.col_offset]}working = {flag}\n"
            return "".join(lines)
    body = node.body
    has_doc = isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
    if has_doc and len(body) == 1:
        index = body[0].end_lineno or body[0].lineno
        indent: int = body[0].col_offset
    else:
        anchor = body[1] if has_doc else body[0]
        decorators = getattr(anchor, "decorator_list", [])
        index = min([anchor.lineno, *(d.lineno for d in decorators)]) - 1
        indent = anchor.col_offset
    lines.insert(index, f"{' ' * indent}working = {flag}\n")
    return "".join(lines)


def _assigns_working(statement: ast.stmt) -> bool:
    if isinstance(statement, ast.Assign):
        return any(isinstance(t, ast.Name) and t.id == "working" for t in statement.targets)
    if isinstance(statement, ast.AnnAssign):
        return isinstance(statement.target, ast.Name) and statement.target.id == "working"
    return False


def g4f_edits(
    measured: Mapping[str, bool | None], loaded: Mapping[str, G4FInfo | LoadFailure]
) -> list[SourceEdit]:
    """The gpt4free modules to edit so that each provider ships its measured flag.

    Only a conclusive flag (not ``None``) that differs from the class's shipped one is
    written, and only into a provider's class: never a base class (template), never a
    provider of a kind the harness does not probe, never a provider of a local service
    (its shipped URL on this host or network: whether that service runs here says
    nothing about the provider). A provider's class that other loaded
    providers inherit their flag from is edited, and those providers keep the flag they
    ship: it is written into their own classes.
    """
    providers = [e for e in loaded.values() if isinstance(e, G4FInfo)]
    changes: dict[Any, bool] = {}
    for target, flag in sorted(measured.items()):
        entry = loaded.get(target.removeprefix(PREFIX)) if target.startswith(PREFIX) else None
        if flag is None or not isinstance(entry, G4FInfo) or entry.capability not in CHECKED:
            continue
        if _local_service(entry):
            continue
        if flag != entry.working:
            changes[entry.cls] = flag
    for cls in list(changes):
        for other in providers:
            if other.cls not in changes and _flag_owner(other.cls) is cls:
                changes[other.cls] = other.working
    edits: dict[Path, SourceEdit] = {}
    for cls, flag in changes.items():
        source = inspect.getsourcefile(cls)
        if source is None:
            continue
        path = Path(source)
        previous = edits.get(path)
        old = previous.old if previous else path.read_text(encoding="utf-8")
        new = set_working(previous.new if previous else old, cls.__name__, flag)
        if new != old:
            edits[path] = SourceEdit(path, old, new)
    return list(edits.values())


def _local_service(info: G4FInfo) -> bool:
    host = URL(info.url).host if info.url else None
    return host is not None and is_local_host(host)


def _flag_owner(cls: Any) -> Any:
    """The class in ``cls``'s MRO whose body sets the ``working`` that ``cls`` has."""
    return next((c for c in cls.__mro__ if "working" in vars(c)), None)


def package_root() -> Path:
    """The directory that holds the ``g4f`` package (site-packages): paths in the patch
    are relative to it, so ``patch -p1 -d <it>`` applies the patch."""
    module = importlib.import_module("g4f")
    return Path(inspect.getsourcefile(module) or ".").parent.parent


async def g4f_source_edits(
    settings: Settings, measured: Mapping[str, bool | None]
) -> tuple[list[SourceEdit], Path]:
    """The edits setting each measured ``g4f.NAME`` flag in gpt4free's modules, and the
    directory the patch's paths are relative to. Only with a flag to change are all of
    gpt4free's providers loaded (to find those inheriting a changed flag)."""
    changed = any(flag is not None for flag in measured.values())
    names = await known_names(settings.g4f) if changed else []
    loaded = await load_all(names, settings.g4f.load_timeout)
    return g4f_edits(measured, loaded), package_root()
