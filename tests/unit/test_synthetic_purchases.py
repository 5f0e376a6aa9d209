"""The purchase-only data set: a retailer's export, valid under the contract as it is."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from segmentation.contract import Event, read_csv_events
from segmentation_local.cli import main
from segmentation_local.synthetic.purchases import purchase_events


def test_the_export_has_the_shape_issue_14_was_found_on() -> None:
    events = purchase_events(users=3000, seed=2)
    assert set(events["event_type"]) == {"purchase"}
    assert (events["timestamp"].dt.hour == 0).all()  # dates only
    assert str(events["timestamp"].min().date()) >= "1997-01-01"
    per_user = events.groupby("user_id").size()
    assert per_user.median() <= 3 and per_user.max() >= 6
    kinds = events.attrs["kinds"]
    lapsed = [u for u, k in kinds.items() if k == "lapsed"]
    last = events.groupby("user_id")["timestamp"].max()
    assert (last[lapsed] < events.attrs["end"] - timedelta(days=179)).all()
    amounts = events["amount"]
    assert amounts.max() > 20 * amounts.median()  # a long right tail


def test_the_command_writes_a_csv_every_row_of_which_the_contract_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "retail.csv"
    assert main(["generate-purchases", "--users", "300", "--out", str(out)]) == 0
    assert "purchases of 300 customers, 1997-" in capsys.readouterr().out
    with out.open() as f:
        rows = [row for _, row in read_csv_events(f)]
    assert rows and all(isinstance(r, Event) for r in rows), next(
        r for r in rows if not isinstance(r, Event)
    )
    assert main(["generate-purchases", "--users", "0", "--out", str(out)]) == 2
