"""The README's generated tables are the code's: a setting or column added without them fails."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from segmentation_local.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize(
    ("tag", "argv"), [("contract", ["schema"]), ("config", ["config", "--markdown"])]
)
def test_readme_tables_match_the_code(
    tag: str, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    expected = capsys.readouterr().out.strip()
    block = re.search(rf"<!-- {tag}:start -->\n(.*?)\n<!-- {tag}:end -->", README.read_text(), re.S)
    assert block, f"README lacks the {tag} block"
    assert block.group(1).strip() == expected, (
        f"README {tag} table is stale: regenerate with `segmentation {' '.join(argv)}`"
    )


def test_readme_shows_the_two_commands_and_the_test_command() -> None:
    text = README.read_text()
    assert "make setup" in text and "make demo" in text and "make test" in text
