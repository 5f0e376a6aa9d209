"""What a clean run reads and rewrites, from the listing and the manifest alone (no Spark)."""

from __future__ import annotations

from segmentation.ledger import Manifest
from segmentation.pipeline.clean import plan_run
from segmentation.pipeline.curated import LakeObject


def _obj(zone: str, day: str, name: str, version: str = "e1") -> LakeObject:
    return LakeObject(f"{zone}/event_date={day}/{name}.parquet", version, day)


def _listing(*objects: LakeObject) -> dict[str, LakeObject]:
    return {o.name: o for o in objects}


def _days(*days: int) -> set[str]:
    return {f"2026-09-{d:02d}" for d in days}


def test_a_first_run_cleans_every_object():
    listed = _listing(_obj("raw", "2026-09-01", "a"), _obj("hot", "2026-09-10", "k"))
    plan = plan_run(Manifest(), listed)
    assert plan.new == set(listed) and not plan.removed
    assert plan.write_days == _days(1, 2, 10, 11) | {"2026-08-31"} | _days(9)
    assert set(plan.inputs) == set(listed) and all(plan.inputs.values())


def test_new_changed_and_removed_objects_touch_their_days_only():
    old = [_obj("raw", f"2026-09-{d:02d}", f"w1-{d}") for d in range(1, 21)]
    manifest = Manifest(version=3, objects={o.name: o.version for o in old})
    listed = _listing(
        *(o for o in old if o.day not in {"2026-09-05", "2026-09-15"}),
        _obj("raw", "2026-09-05", "w1-5", version="e2"),  # re-delivered: another ETag
        _obj("hot", "2026-09-20", "late"),  # a late event of an old day
    )
    plan = plan_run(manifest, listed)
    assert plan.new == {
        "raw/event_date=2026-09-05/w1-5.parquet",
        "hot/event_date=2026-09-20/late.parquet",
    }
    assert plan.removed == {"raw/event_date=2026-09-15/w1-15.parquet"}
    assert plan.write_days == _days(4, 5, 6, 14, 15, 16, 19, 20, 21)
    assert plan.read_days == _days(3, 4, 5, 6, 7, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22)
    # context: the cleaned objects of the days read, marked not new
    assert plan.inputs["raw/event_date=2026-09-03/w1-3.parquet"] is False
    assert "raw/event_date=2026-09-10/w1-10.parquet" not in plan.inputs
    assert plan.inputs["hot/event_date=2026-09-20/late.parquet"] is True


def test_nothing_new_is_no_change_and_a_rebuild_recomputes_every_day():
    objs = [_obj("raw", "2026-09-01", "a"), _obj("raw", "2026-09-03", "b")]
    manifest = Manifest(
        version=1,
        objects={o.name: o.version for o in objs},
        partitions={
            "2026-09-01": {"location": "x", "rows": 1},
            "2026-09-07": {"location": "y", "rows": 1},
        },
    )
    assert not plan_run(manifest, _listing(*objs)).changed
    rebuild = plan_run(manifest, _listing(*objs), rebuild=True)
    assert rebuild.new == {o.name for o in objs}
    assert "2026-09-07" in rebuild.write_days  # a day nothing feeds any more is dropped


def test_objects_outside_an_event_date_partition_are_left_alone():
    stray = LakeObject("raw/misc/notes.parquet", "e1", None)
    plan = plan_run(Manifest(), {stray.name: stray})
    assert plan.undated == (stray.name,) and not plan.changed
