"""The distribution ships every package of the source tree: an editable install (the development venv)
imports sub-packages from the checkout whether or not pyproject.toml lists them, so a package missing from
the list only breaks a user's regular `pip install`."""
from __future__ import annotations

import tomllib

from conftest import ROOT


def test_every_package_under_translate_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = set(config["packages"])
    on_disk = {".".join(init.parent.relative_to(ROOT).parts)
               for init in (ROOT / "translate").rglob("__init__.py") if "__pycache__" not in init.parts}
    assert on_disk, "no package found under translate/"
    assert on_disk <= listed, f"packages missing from pyproject.toml: {sorted(on_disk - listed)}"


def test_data_files_the_code_reads_are_package_data():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    patterns = config["package-data"]["translate"]
    for folder in ("templates", "static", "data"):
        assert any(pattern.startswith(folder + "/") for pattern in patterns), folder
