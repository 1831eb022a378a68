"""The README's two commands are what a newcomer runs; CI must run the same test command."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (REPO / "README.md").read_text())


def test_readme_opens_with_the_demo_and_the_test_command():
    demo, tests = _readme_commands()[:2]
    assert "rnr-restore rnr/assets/demo/" in demo and "--explain" in demo
    assert "pytest" in tests


def test_ci_runs_the_readme_test_command_in_its_own_venv():
    tests = _readme_commands()[1]
    assert ".venv/bin/python -m pytest -q" in tests
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    # CI builds $VENV (.ci/venv) from scratch and never deletes the user's .venv
    assert tests.replace(".venv", "$VENV") in ci
    assert "VENV=.ci/venv" in ci and not any("rm -rf .venv" in line for line in ci)


def test_the_design_page_names_modules_that_exist():
    """docs/DESIGN.md is the architecture as it is: every module it names is in the tree."""
    page = (REPO / "docs" / "DESIGN.md").read_text()
    named = set(re.findall(r"`([a-z_]+/[a-z_*/]*\.py)`", page))
    assert len(named) >= 15
    missing = [path for path in sorted(named) if not list(REPO.glob(path))]
    assert not missing, f"docs/DESIGN.md names modules that are gone: {missing}"
    assert "docs/DESIGN.md" in (REPO / "README.md").read_text()  # the README points newcomers at it
