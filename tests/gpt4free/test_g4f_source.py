"""Writing measured flags into gpt4free-style provider modules: only the provider class's
own ``working`` line changes (or one is added), as a patch unless applied."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from harness.targets.flags import apply_source_patch, source_patch
from harness.targets.g4f_source import g4f_edits, set_working
from providers.gpt4free import describe

MODULE = '''"""A provider."""
from .base import Base


class Helper:
    working = True


class Sample(Base):
    """Docstring."""

    url = "https://example.invalid"
    working = True
    needs_auth = False

    @classmethod
    def inner(cls):
        working = True
        return working
'''

INHERITS = '''class Child(Parent):
    """Inherits its flag."""

    @staticmethod
    def f():
        return 1
'''


def test_the_classs_own_line_is_set_and_nothing_else() -> None:
    patched = set_working(MODULE, "Sample", False)
    assert patched.count("working = False") == 1
    assert "class Helper:\n    working = True" in patched
    assert "        working = True\n        return working" in patched
    assert '    url = "https://example.invalid"\n    working = False\n' in patched
    assert set_working(MODULE, "Sample", True) == MODULE
    assert set_working(MODULE, "Absent", False) == MODULE


def test_an_inherited_flag_gets_a_line_of_its_own_after_the_docstring() -> None:
    patched = set_working(INHERITS, "Child", True)
    assert patched == INHERITS.replace(
        '    """Inherits its flag."""\n\n',
        '    """Inherits its flag."""\n\n    working = True\n',
    )
    assert "working = True" in set_working('class Only:\n    """Doc."""\n', "Only", True)


def test_edits_become_a_patch_against_the_package_and_apply_only_when_asked(
    tmp_path: Path,
) -> None:
    package = tmp_path / "site" / "fakeg4f"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "base.py").write_text("class Base:\n    working = False\n")
    module_path = package / "Sample.py"
    module_path.write_text(MODULE)
    sys.path.insert(0, str(tmp_path / "site"))
    try:
        spec = importlib.util.find_spec("fakeg4f.Sample")
        assert spec is not None
        module = importlib.import_module("fakeg4f.Sample")
        loaded = {"Sample": describe("Sample", module.Sample)}
        edits = g4f_edits({"g4f.Sample": False, "g4f.Other": True, "Plain": False}, loaded)
        assert [e.path for e in edits] == [module_path]
        patch = source_patch(edits, tmp_path / "site")
        assert "--- a/fakeg4f/Sample.py" in patch
        assert "-    working = True\n+    working = False" in patch
        assert module_path.read_text() == MODULE
        apply_source_patch(edits)
        assert "    working = False\n    needs_auth" in module_path.read_text()
    finally:
        sys.path.remove(str(tmp_path / "site"))
        for name in [n for n in sys.modules if n.startswith("fakeg4f")]:
            del sys.modules[name]


FAMILY = '''"""A provider others inherit their flag from."""


class OpenTemplate:
    working = False


class Parent:
    url = "https://parent.invalid"
    working = True


class Child(Parent):
    """Inherits its flag."""

    url = "https://child.invalid"


class Templated(OpenTemplate):
    url = "https://templated.invalid"
'''


def load_family(tmp_path: Path) -> dict[str, object]:
    package = tmp_path / "site" / "fakefamily"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "family.py").write_text(FAMILY)
    sys.path.insert(0, str(tmp_path / "site"))
    module = importlib.import_module("fakefamily.family")
    return {
        name: describe(name, getattr(module, name))
        for name in ("OpenTemplate", "Parent", "Child", "Templated")
    }


def forget_family(tmp_path: Path) -> None:
    sys.path.remove(str(tmp_path / "site"))
    for name in [n for n in sys.modules if n.startswith("fakefamily")]:
        del sys.modules[name]


def test_a_changed_flag_others_inherit_is_pinned_in_their_own_classes(tmp_path: Path) -> None:
    loaded = load_family(tmp_path)
    try:
        (edit,) = g4f_edits({"g4f.Parent": False}, loaded)
    finally:
        forget_family(tmp_path)

    assert 'class Parent:\n    url = "https://parent.invalid"\n    working = False\n' in edit.new
    assert '    """Inherits its flag."""\n\n    working = True\n' in edit.new  # Child keeps True


def test_a_template_and_unknown_flags_are_never_written(tmp_path: Path) -> None:
    loaded = load_family(tmp_path)
    try:
        edits = g4f_edits(
            {"g4f.OpenTemplate": True, "g4f.Child": None, "g4f.Templated": True}, loaded
        )
    finally:
        forget_family(tmp_path)

    (edit,) = edits
    assert "class OpenTemplate:\n    working = False\n" in edit.new  # a base class: untouched
    assert "class Templated(OpenTemplate):\n    working = True\n" in edit.new  # its own class
    assert '    """Inherits its flag."""\n\n    url' in edit.new  # Child: unknown, untouched
