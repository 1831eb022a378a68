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


def test_ci_runs_the_readme_test_command():
    tests = _readme_commands()[1]
    assert tests in (REPO / ".ci" / "run").read_text().splitlines()
