"""The docs' campaign table is the model's."""

from __future__ import annotations

import re
from pathlib import Path

from segmentation.campaign.model import markdown_table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


def test_the_campaign_table_in_the_docs_is_the_model_s() -> None:
    block = re.search(
        r"<!-- campaign:start -->\n(.*?)\n<!-- campaign:end -->", DOCS.read_text(), re.S
    )
    assert block, "docs/serving.md lacks the campaign block"
    assert block.group(1).strip() == markdown_table(), "regenerate it from markdown_table()"
