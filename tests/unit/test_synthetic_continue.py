"""Continuing a data set: the next batch keeps users, personas and catalog, starts where the
parent ends, is deterministic, never reuses an id, honours the cross-batch defect rates and the
shift, and refuses a bad shift naming the field."""

from __future__ import annotations

import json
import math
import shutil
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from segmentation_local.cli import main
from segmentation_local.synthetic import DefectRates, GenerateParams, tables
from segmentation_local.synthetic.continuation import continue_dataset
from segmentation_local.synthetic.events import renewal_period
from segmentation_local.synthetic.params import ContinueParams, CrossBatchRates
from segmentation_local.synthetic.service import continue_to, generate_to
from segmentation_local.synthetic.shift import Shift

ROOT = GenerateParams(users=300, days=14, seed=9, catalog_size=200)
PLAIN = ContinueParams(days=7, new_users=40)
CROSS = CrossBatchRates(
    late_into_parent=0.05, parent_duplicates=0.03, parent_conflicting_duplicates=0.02
)
GROW = Shift.model_validate(
    {
        "persona_share": {"binge_watcher": 6.0},
        "behaviour": {"binge_watcher": {"watch_scale": 0.6}},
    }
)


def _read(path: Path, name: str) -> pd.DataFrame:
    return pq.read_table(path / f"{name}.parquet").to_pandas()


def _summary(path: Path) -> dict:
    return json.loads((path / "summary.json").read_text())


def _within_binomial(count: int, n: int, rate: float, sigmas: float = 4.5) -> bool:
    return abs(count - n * rate) <= sigmas * math.sqrt(n * rate * (1 - rate)) + 1


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """w1 (first window), w2 = w1 + 7 days with joiners, w3 = w2 + 7 days."""
    root = tmp_path_factory.mktemp("lineage")
    generate_to(ROOT, root / "w1")
    continue_to(root / "w1", PLAIN, root / "w2")
    continue_to(root / "w2", ContinueParams(days=7), root / "w3")
    return root


def test_users_personas_and_catalog_are_the_parents(tree: Path) -> None:
    w1, w2 = tree / "w1", tree / "w2"
    labels1, labels2 = _read(w1, "labels"), _read(w2, "labels")
    assert len(labels2) == ROOT.users + PLAIN.new_users
    pd.testing.assert_frame_equal(labels2.iloc[: ROOT.users], labels1)
    pd.testing.assert_frame_equal(_read(w2, "users").iloc[: ROOT.users], _read(w1, "users"))
    assert (w2 / "catalog.parquet").read_bytes() == (w1 / "catalog.parquet").read_bytes()
    joined = _read(w2, "users").iloc[ROOT.users :]
    assert joined["user_id"].tolist() == [f"u-{i:06d}" for i in range(301, 341)]
    start = ROOT.window_end.date()
    assert joined["signup_date"].between(start, start + timedelta(days=6)).all()
    # Who joined is active from their signup day on, never before it (clean events: a late
    # event may be dated up to 3 days earlier, as in a first window).
    clean = continue_dataset(w1, PLAIN.model_copy(update={"defects": DefectRates.none()}))
    events = clean.events.to_pandas().merge(joined, on="user_id")
    assert events["user_id"].nunique() == len(joined)  # everyone who joins comes at least once
    assert (events["timestamp"].dt.date >= events["signup_date"]).all()
    # Users who lapsed inside the first window stay silent afterwards.
    lapsed = labels1.loc[labels1["persona"] == "lapsed_churn_risk", "user_id"]
    assert not _read(w2, "events")["user_id"].isin(lapsed).any()
    before, after = (_summary(w)["personas"]["binge_watcher"]["users"] for w in (w1, w2))
    assert after >= before


def test_batch_starts_the_day_after_its_parent_and_links_to_it(tree: Path) -> None:
    s1, s2, s3 = (_summary(tree / w) for w in ("w1", "w2", "w3"))
    assert s2["window"] == {
        "start": s1["window"]["end_exclusive"],
        "end_exclusive": "2026-10-08T00:00:00Z",
        "days": 7,
    }
    assert s3["window"]["start"] == s2["window"]["end_exclusive"]
    assert s2["parent"]["path"] == "../w1" and s3["parent"]["path"] == "../w2"
    assert s2["parent"]["dataset_id"] == s1["dataset_id"] != s2["dataset_id"]
    assert s3["parent"]["dataset_id"] == s2["dataset_id"]
    assert s2["date_range"]["first_event"] >= s2["window"]["start"]
    assert s2["date_range"]["last_event"] < s2["window"]["end_exclusive"]
    assert s3["lineage"]["root"] == s1["parameters"] and len(s3["lineage"]["steps"]) == 2
    # The parent's in-batch defect rates are inherited and written out.
    assert s2["parameters"]["defects"] == s1["parameters"]["defects"]
    assert "renewals.parquet" in s2["files"] and "renewals.parquet" not in s1["files"]


def test_clean_batch_lies_in_its_window_with_fresh_ids(tree: Path) -> None:
    ds = continue_dataset(tree / "w2", ContinueParams(days=5, defects=DefectRates.none()))
    ev = ds.events.to_pandas()
    w2 = _summary(tree / "w2")
    assert ev["timestamp"].min() >= pd.Timestamp(w2["window"]["end_exclusive"])
    assert ev["timestamp"].max() < pd.Timestamp(w2["window"]["end_exclusive"]) + timedelta(days=5)
    numbers = ev["event_id"].str[2:].astype(int)
    assert numbers.min() == w2["ids"]["event"] + 1 and numbers.is_unique
    assert ev["session_id"].str[2:].astype(int).min() == w2["ids"]["session"] + 1
    tx = ds.transactions.to_pandas()
    assert tx["transaction_id"].str[2:].astype(int).min() == w2["ids"]["transaction"] + 1


def test_event_ids_never_collide_across_the_lineage(tree: Path) -> None:
    ids = [set(_read(tree / w, "events")["event_id"]) for w in ("w1", "w2", "w3")]
    assert not ids[0] & ids[1] and not ids[0] & ids[2] and not ids[1] & ids[2]
    sessions = [set(_read(tree / w, "events")["session_id"].dropna()) for w in ("w1", "w2")]
    tx = [set(_read(tree / w, "transactions")["transaction_id"]) for w in ("w1", "w2", "w3")]
    assert not sessions[0] & sessions[1] and not (tx[0] & tx[1] or tx[1] & tx[2])


def test_same_inputs_give_byte_identical_batches(tree: Path) -> None:
    continue_to(tree / "w1", PLAIN, tree / "w2_again")
    a, b = tree / "w2", tree / "w2_again"
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) == 12
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_a_parent_written_before_lineage_existed_continues_the_same(tree: Path) -> None:
    legacy = tree / "legacy" / "w1"
    shutil.copytree(tree / "w1", legacy)
    summary = _summary(legacy)
    for key in ("ids", "dataset_id"):
        del summary[key]
    (legacy / "summary.json").write_text(json.dumps(summary))
    again = continue_dataset(legacy, PLAIN)
    assert again.events.equals(pq.read_table(tree / "w2" / "events.parquet"))


def test_subscriptions_renew_once_per_period_across_batches(tree: Path) -> None:
    tx = pd.concat([_read(tree / w, "transactions") for w in ("w1", "w2", "w3")])
    subs = tx[tx["kind"] == "subscription"]
    seconds = (subs["timestamp"] - ROOT.window_start).dt.total_seconds().astype("int64")
    user = tables.user_codes(pa.array(subs["user_id"]))
    period = pd.Series(renewal_period(seconds.to_numpy(), user), index=subs.index)
    assert subs.groupby([subs["user_id"], period]).size().max() == 1
    # Each user's months start on their own day: renewals spread over the month.
    assert subs["timestamp"].dt.day.nunique() > 20
    # The first window's 14 days open period 0 or 1; what w1 paid is not charged again in w2/w3.
    assert len(subs[period <= 1]) > 0


def test_cross_batch_defects_are_injected_at_their_rates(tree: Path) -> None:
    w1 = tree / "w1"
    ds = continue_dataset(w1, ContinueParams(days=7, cross_batch=CROSS))
    counts = ds.summary["defects"]
    for name in CrossBatchRates.model_fields:
        c = counts[name]
        assert c["total"] > 0 and _within_binomial(c["total"], c["eligible"], getattr(CROSS, name))
    parent = _read(w1, "events")
    assert counts["parent_duplicates"]["eligible"] == parent["event_id"].nunique()
    child = ds.events.to_pandas()
    copies = child[child["event_id"].isin(set(parent["event_id"]))]
    sent = counts["parent_duplicates"]["total"] + counts["parent_conflicting_duplicates"]["total"]
    assert copies["event_id"].nunique() == len(copies) == sent
    first = parent.drop_duplicates("event_id")
    same = copies.merge(first, how="inner", on=list(first.columns))
    assert len(same) == counts["parent_duplicates"]["total"]
    # Late events of the batch are dated inside the parent's window, with ids of their own.
    own = child[~child["event_id"].isin(set(parent["event_id"]))]
    start, end = ROOT.window_start, ROOT.window_end
    late = own.loc[(own["timestamp"] >= start) & (own["timestamp"] < end), "event_id"]
    assert late.nunique() == counts["late_into_parent"]["total"]
    # Plain continuation: none of them (the rates default to 0).
    plain = _summary(tree / "w2")["defects"]
    assert all(plain[name]["total"] == 0 for name in CrossBatchRates.model_fields)


def test_a_shift_changes_what_it_says(tree: Path) -> None:
    params = ContinueParams(days=7, new_users=300)
    base = continue_dataset(tree / "w1", params)
    grown = continue_dataset(tree / "w1", params.model_copy(update={"shift": GROW}))
    b, g = base.summary["personas"]["binge_watcher"], grown.summary["personas"]["binge_watcher"]
    assert g["new_users"] > 2 * b["new_users"]
    assert g["active_share"] > b["active_share"] + 0.1

    def completion(ds: object) -> float:
        ev = ds.events.to_pandas().merge(ds.labels.to_pandas(), on="user_id")
        ends = ev[(ev["persona"] == "binge_watcher") & ev["event_type"].isin(["stop", "complete"])]
        return float((ends["event_type"] == "complete").mean())

    assert completion(base) > 0.6 and completion(grown) < 0.1  # 60% of a title: no completes
    # A shift stays in force for the batches after it (cumulative along the lineage).
    continue_to(tree / "w1", params.model_copy(update={"shift": GROW}), tree / "g2")
    later = continue_dataset(tree / "g2", ContinueParams(days=7))
    assert completion(later) < 0.1


@pytest.mark.parametrize(
    ("shift", "field"),
    [
        ({"persona_share": {"binge": 2.0}}, "unknown persona 'binge'"),
        ({"persona_share": {"binge_watcher": -1}}, "persona_share.binge_watcher"),
        ({"behaviour": {"binge_watcher": {"watch_scale": 1.5}}}, "watch_scale"),
        ({"behaviour": {"binge_watcher": {"watching": 0.5}}}, "watching"),
        ({"personas": {}}, "personas"),
    ],
)
def test_a_bad_shift_is_refused_naming_the_field(
    shift: dict, field: str, tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ValidationError):
        Shift.model_validate(shift)
    out = tree / "refused"
    argv = ["generate", "--continue", str(tree / "w1"), "--out", str(out)]
    assert main([*argv, "--shift", json.dumps(shift)]) == 2
    err = capsys.readouterr().err
    assert "--shift" in err and field in err
    assert not out.exists()


def test_a_shift_that_leaves_nobody_to_join_is_refused(tree: Path) -> None:
    from segmentation_local.synthetic.personas import PERSONA_NAMES

    nobody = Shift(persona_share=dict.fromkeys(PERSONA_NAMES, 0.0))
    with pytest.raises(ValueError, match="persona_share"):
        continue_dataset(tree / "w1", ContinueParams(new_users=5, shift=nobody))


def test_cli_continues_and_refuses_what_does_not_apply(
    tree: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tree / "cli"
    shift = tree / "shift.json"
    shift.write_text(json.dumps({"persona_share": {"high_spender": 2}}))
    argv = ["generate", "--continue", str(tree / "w1"), "--days", "3", "--out", str(out)]
    assert main([*argv, "--new-users", "10", "--shift", str(shift), "--no-defects"]) == 0
    assert "continues" in capsys.readouterr().out
    s = _summary(out)
    assert s["window"]["days"] == 3 and s["counts"]["users"] == 310
    assert s["parameters"]["shift"]["persona_share"] == {"high_spender": 2.0}
    assert all(v["total"] == 0 for v in s["defects"].values())
    for flags, message in [
        (["--users", "10"], "--users: not with --continue"),
        (["--seed", "1"], "--seed: not with --continue"),
        (["--parent-duplicates", "0.9"], "--parent-duplicates"),
        (["--days", "0"], "--days"),
    ]:
        assert main([*argv[:-1], str(tree / "bad"), *flags]) == 2
        assert message in capsys.readouterr().err
    assert main(["generate", "--out", str(tree / "bad"), "--new-users", "3"]) == 2
    assert "only with --continue" in capsys.readouterr().err
    assert main(["generate", "--continue", str(tree / "w1"), "--out", str(tree / "w1")]) == 2
    assert "being continued" in capsys.readouterr().err
    assert not (tree / "bad").exists()
