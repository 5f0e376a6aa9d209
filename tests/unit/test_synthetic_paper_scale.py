"""Paper scale: 50,000 users over 90 days give about five million events (slow: ~30-50 s)."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from segmentation_local.synthetic import GenerateParams
from segmentation_local.synthetic.service import generate_to


@pytest.mark.slow
def test_paper_scale_generates_about_five_million_events(tmp_path: Path) -> None:
    summary, _ = generate_to(GenerateParams(users=50_000, days=90, seed=42), tmp_path)
    counts = summary["counts"]
    assert 4_000_000 <= counts["events"] <= 6_000_000
    assert pq.read_metadata(tmp_path / "events.parquet").num_rows == counts["events"]
    assert json.loads((tmp_path / "summary.json").read_text())["counts"] == counts
    shares = [p["share"] for p in summary["personas"].values()]
    assert min(shares) >= 0.08 and abs(sum(shares) - 1) < 1e-3
    for name, counted in summary["defects"].items():
        assert counted["total"] > 0, name
