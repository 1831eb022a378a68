"""Our top-level names are generic; make sure they resolve to this repository."""

import importlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["rnr", "reasoner", "restorer", "degradations", "rl"])
def test_package_imports_from_this_repository(name):
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().is_relative_to(REPO / name)


def test_bundled_photos_ship_with_their_provenance():
    from rnr import BUNDLED_PHOTOS

    assert len(list(BUNDLED_PHOTOS.glob("*.jpg"))) == 18
    assert "GPL-2+" in (BUNDLED_PHOTOS / "PROVENANCE.md").read_text()
