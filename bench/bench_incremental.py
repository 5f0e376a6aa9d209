"""Recurring runs: a first full load, then weekly batches, each cleaned incrementally.

Runs the paper-scale demo (``segmentation demo``: moto, Kafka broker, MLflow, provisioning, 50k
users x 90 days ~5M events, Kafka + landing ingest, the state machine) and, while its stack is
still up (``DemoConfig.on_ready``), continues the data set week by week
(``synthetic.service.continue_to``: 7 days, late events dated into the parent, copies of parent
events unchanged and conflicting), ingests each week the way the demo does (its last days
through Kafka -> poller -> ingest Lambda, the rest as a landing CSV -> batch ingest Lambda) and
executes the state machine again. Then a run with nothing new (the clean step alone), and a full
rebuild (execution input ``rebuild: true``).

Printed: the first load's stage and task times, each weekly run's clean time, new rows, days
rewritten and curated's size, the ratio of the last to the first weekly clean time (target
<= 1.3 while history grows), the no-op and rebuild clean times, peak RSS; targets beside them.
Clean time is the ``CleanEvents`` state's duration; ``clean.run``'s own ``seconds`` beside it.

Usage: python bench/bench_incremental.py [users=50000] [weeks=4] [provision=python|terraform]
[oow=RATE] (positional values are taken in that order too). ``oow`` overrides the weekly batches'
out-of-window defect rate (default: the generator's, inherited from the first load): those events
are dated up to a year before the data set, so each week touches old days all over the history.
"""

from __future__ import annotations

import itertools
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, first_load, parse_kv

TARGET_MACHINE_S = 90.0
TARGET_FIRST_CLEAN_S = 45.0
TARGET_RATIO = 1.3
TARGET_ARI = 0.8  # between consecutive versions, on the users in both (issue 13)
TARGET_PSI = 0.1  # largest feature PSI between consecutive versions
STREAM_DAYS = 2  # of each weekly batch through Kafka; the rest (and the late copies) via landing


def parse_args(argv: list[str]) -> dict[str, Any]:
    return parse_kv(
        argv,
        {"users": 50_000, "weeks": 4, "provision": "python", "oow": None},
        {"provision": {"python", "terraform"}},
    )


class CleanResults:
    """Wraps the clean step the local dispatcher runs, to keep what ``clean.run`` returned."""

    def __init__(self) -> None:
        from segmentation.pipeline import steps

        self.results: list[dict[str, Any]] = []
        original = steps.run_clean

        def recording(args: Any, spark: Any) -> dict[str, Any]:
            result = original(args, spark)
            self.results.append(result)
            return result

        steps.run_clean = recording  # the dispatcher looks steps.run_clean up on every task

    def last_seconds(self) -> float | None:
        return self.results[-1].get("seconds") if self.results else None

    def last_phases(self) -> dict[str, float]:
        return dict(self.results[-1].get("phase_seconds") or {}) if self.results else {}


def task_seconds(execution: dict[str, Any]) -> dict[str, float]:
    return {s["name"]: s["duration_s"] for s in execution["states"] if s["type"] == "Task"}


def ingest_week(settings: Any, batch: Path, window_end: Any, week: int, work: Path) -> dict:
    """The demo's two doors for one weekly batch (distinct landing key per week: re-using one
    would be a re-delivery, which replaces the earlier file's rows)."""
    from segmentation_local.doors import land_file, split_events, stream_file

    work.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    split = split_events(batch, STREAM_DAYS, window_end, work)
    _, poll = stream_file(settings, split["stream_file"])
    report = land_file(settings, split["history_file"], f"incoming/week-{week:02d}.csv")
    return {
        "seconds": time.monotonic() - t0,
        "streamed": poll.records,
        "landed": int(report.get("rows_total", 0)),
    }


def weekly_runs(result: Any, cfg: dict[str, Any], recorder: CleanResults, out: dict) -> None:
    """The on_ready callback: every service of the demo is still up."""
    from datetime import date, datetime, timedelta

    from segmentation.config import get_settings
    from segmentation.pipeline import steps
    from segmentation.serving.lake_reader import read_model_document
    from segmentation.spark import get_spark
    from segmentation_local.demo import clean_summary
    from segmentation_local.synthetic.params import ContinueParams, CrossBatchRates, DefectRates
    from segmentation_local.synthetic.service import continue_to

    settings = get_settings()
    out["models"] = [model_summary(result.model)]
    out["first_clean_result_s"] = recorder.last_seconds()
    out["first_clean_phases"] = recorder.last_phases()
    cross = CrossBatchRates(
        late_into_parent=0.02, parent_duplicates=0.01, parent_conflicting_duplicates=0.005
    )
    defects = None  # the parent's in-batch rates
    if cfg["oow"] is not None:
        defects = DefectRates(out_of_window=cfg["oow"])
    parent, work = Path(result.dataset_dir), Path(result.dataset_dir).parent / "weeks"
    snapshot = ""
    for week in range(1, cfg["weeks"] + 1):
        batch = work / f"w{week}"
        summary, gen_s = continue_to(
            parent, ContinueParams(days=7, defects=defects, cross_batch=cross), batch
        )
        end = datetime.fromisoformat(summary["window"]["end_exclusive"].replace("Z", "+00:00"))
        snapshot = (end.date() - timedelta(days=1)).isoformat()
        ingest = ingest_week(settings, batch, end, week, work / f"ingest-w{week}")
        t0 = time.monotonic()
        execution = result.rerun({"snapshot_date": snapshot})
        machine_s = time.monotonic() - t0
        if execution.status != "SUCCEEDED":
            raise RuntimeError(f"week {week}: {execution.error}: {execution.cause}")
        ex = execution.to_dict()
        out["models"].append(
            model_summary(read_model_document(settings, execution.output["model_version"]))
        )
        out["weeks"].append(
            {
                "week": week,
                "snapshot": snapshot,
                "events": summary["counts"]["events"],
                "generate_s": gen_s,
                "ingest": ingest,
                "machine_s": machine_s,
                "tasks": task_seconds(ex),
                "clean": clean_summary(settings, ex),
                "clean_result_s": recorder.last_seconds(),
                "clean_phases": recorder.last_phases(),
            }
        )
        parent = batch
    # nothing new: the clean step alone (features and clustering would run as after any run)
    spark = get_spark("segmentation-pipeline", settings)
    t0 = time.monotonic()
    noop = steps.run_clean(
        {"lake_prefix": settings.lake_prefix, "snapshot_date": snapshot, "run_id": "bench-noop"},
        spark,
    )
    out["noop"] = {"seconds": time.monotonic() - t0, "result": noop}
    # a full rebuild of curated from raw + hot, through the state machine
    t0 = time.monotonic()
    execution = result.rerun(
        {"snapshot_date": snapshot or date.today().isoformat(), "rebuild": True}
    )
    machine_s = time.monotonic() - t0
    if execution.status != "SUCCEEDED":
        raise RuntimeError(f"rebuild: {execution.error}: {execution.cause}")
    ex = execution.to_dict()
    # same data and parameters as the last week, another curated layout: identical segments
    rebuilt = model_summary(read_model_document(settings, execution.output["model_version"]))
    out["models"].append({**rebuilt, "label": "full rebuild, same snapshot"})
    out["rebuild"] = {
        "machine_s": machine_s,
        "tasks": task_seconds(ex),
        "clean": clean_summary(settings, ex),
        "clean_result_s": recorder.last_seconds(),
    }


def model_summary(model: Any) -> dict[str, Any]:
    """What the key-stability part of the report needs of one model version."""
    c = model.comparison
    return {
        "version": model.model_version,
        "keys": {s.segment_key: s.name for s in model.segments},
        "sizes": {s.segment_key: s.size for s in model.segments},
        "ari": c.ari if c else None,
        "psi_max": max(c.feature_psi.values(), default=None) if c else None,
        "psi_feature": max(c.feature_psi, key=c.feature_psi.get) if c and c.feature_psi else None,
        "share_shift": c.largest_share_shift if c else None,
        "retired": [r.segment_key for r in model.retired_segments],
    }


def stability_lines(models: list[dict[str, Any]]) -> list[str]:
    """Issue 13's figures: every key and name kept from version to version, the ARI on the
    users in both (target >= 0.8) and the largest PSI (target < 0.1)."""
    if len(models) < 2:
        return []
    lines = ["segment keys week over week (unchanged personas):"]
    held_all = True
    for prev, cur in itertools.pairwise(models):
        same = prev["keys"] == cur["keys"]
        held_all &= same
        changed = sorted(set(prev["keys"].items()) ^ set(cur["keys"].items()))
        ari_ok = cur["ari"] is not None and cur["ari"] >= TARGET_ARI
        psi_ok = cur["psi_max"] is not None and cur["psi_max"] < TARGET_PSI
        lines.append(
            f"  {prev['version']} -> {cur['version']}"
            + (f" ({cur['label']})" if cur.get("label") else "")
            + ": "
            + ("every key and name kept" if same else f"CHANGED {changed}")
            + f"; ARI {cur['ari'] if cur['ari'] is None else round(cur['ari'], 3)} "
            + f"(target >= {TARGET_ARI}: {'met' if ari_ok else 'MISSED'}); largest PSI "
            + f"{cur['psi_max'] if cur['psi_max'] is None else round(cur['psi_max'], 4)} "
            + f"({cur['psi_feature']}; target < {TARGET_PSI}: {'met' if psi_ok else 'MISSED'}); "
            + f"largest share shift {cur['share_shift'] or 0:.2%}"
        )
    first = models[0]
    lines.append(
        "  keys: "
        + ", ".join(f"{k} {n} ({first['sizes'][k]:,})" for k, n in first["keys"].items())
        + f" -> {'all held' if held_all else 'NOT all held'} over {len(models) - 1} runs"
    )
    return lines


def _s(value: float | None) -> str:
    return "      -" if value is None else f"{value:7.1f}"


def _phases(phases: dict[str, float] | None) -> str:
    return ", ".join(f"{k} {v:.1f}" for k, v in (phases or {}).items()) or "-"


def _verdict(value: float | None, target: float) -> str:
    if value is None:
        return ""
    return f"(target <= {target:g}: {'met' if value <= target else 'MISSED'})"


def report(cfg: dict[str, Any], result: Any, out: dict, total_s: float, peak_gb: float) -> None:
    from segmentation_local.demo import clean_line

    ex = result.execution
    tasks = task_seconds(ex)
    machine_s = next((v for k, v in result.timings.items() if k.startswith("run the state")), None)
    print(
        f"\nrecurring runs: {cfg['users']:,} users x 90 days, then {cfg['weeks']} weekly "
        f"batches (provisioning {cfg['provision']}"
        + ("" if cfg["oow"] is None else f"; weekly out-of-window rate {cfg['oow']:g}")
        + ")"
    )
    print("first full load (the demo):")
    for stage, seconds in result.timings.items():
        print(f"  {stage:<66} {seconds:7.1f} s")
    print(f"  state machine {_s(machine_s)} s {_verdict(machine_s, TARGET_MACHINE_S)}")
    for name, seconds in tasks.items():
        extra = ""
        if name == "CleanEvents":
            extra = (
                f" (clean.run {_s(out.get('first_clean_result_s')).strip()} s) "
                f"{_verdict(seconds, TARGET_FIRST_CLEAN_S)}"
            )
        print(f"    task {name:<20} {seconds:7.1f} s{extra}")
    print(f"  {clean_line(result.clean)}")
    print(f"  clean phases (s): {_phases(out.get('first_clean_phases'))}")

    print("weekly runs (7 days each; 2% late into the parent, 1% + 0.5% copies of parent events):")
    print(
        "  week snapshot    events   gen s  ingest s  machine s  clean s (run)   new rows"
        "  copies  days  curated rows (days)"
    )
    for w in out["weeks"]:
        c = w["clean"]
        print(
            f"  {w['week']:>4} {w['snapshot']} {w['events']:>8,} {w['generate_s']:7.1f} "
            f"{w['ingest']['seconds']:9.1f} {w['machine_s']:10.1f} "
            f"{_s(w['tasks'].get('CleanEvents'))} ({_s(w['clean_result_s']).strip():>5}) "
            f"{c.get('rows_in', 0):>10,} {c.get('against_history', 0):>7,} "
            f"{c.get('days_written', 0):>5} {c.get('curated_rows', 0):>13,} "
            f"({c.get('curated_days', 0)})"
        )
    for w in out["weeks"]:
        tasks_w = ", ".join(f"{k} {v:.1f}" for k, v in w["tasks"].items())
        print(f"    week {w['week']} tasks (s): {tasks_w}")
        print(f"    week {w['week']} clean phases (s): {_phases(w.get('clean_phases'))}")
    weeks = out["weeks"]
    if len(weeks) >= 2:
        a, b = weeks[0]["tasks"]["CleanEvents"], weeks[-1]["tasks"]["CleanEvents"]
        ratio = b / a if a else float("nan")
        print(
            f"  clean time week {weeks[-1]['week']} / week 1: {ratio:.2f} "
            f"{_verdict(ratio, TARGET_RATIO)}; curated grew "
            f"{weeks[0]['clean'].get('curated_rows', 0):,} -> "
            f"{weeks[-1]['clean'].get('curated_rows', 0):,} rows"
        )
    for line in stability_lines(out.get("models", [])):
        print(line)
    noop = out.get("noop")
    if noop:
        print(
            f"no new data: clean {noop['seconds']:.1f} s (clean.run {noop['result']['seconds']:.1f}"
            f" s, no-op {noop['result']['noop']}, version {noop['result']['version']})"
        )
    rb = out.get("rebuild")
    if rb:
        print(
            f"full rebuild (rebuild: true): state machine {rb['machine_s']:.1f} s, "
            f"clean {_s(rb['tasks'].get('CleanEvents')).strip()} s "
            f"(clean.run {_s(rb['clean_result_s']).strip()} s)"
        )
        print(f"  {clean_line(rb['clean'])}")
    print(f"total {total_s:.1f} s; peak RSS of the process tree: {peak_gb:.2f} GB")


def main() -> int:
    cfg = parse_args(sys.argv[1:])
    recorder = CleanResults()
    out: dict[str, Any] = {"weeks": []}
    result, total, mem = first_load(
        cfg["users"],
        90,
        cfg["provision"],
        "bench-incremental",
        on_ready=lambda r: weekly_runs(r, cfg, recorder, out),
    )
    report(cfg, result, out, total, mem.peak_gb)
    print(f"logs (Spark, services): {ROOT / '.local' / 'bench-incremental' / 'logs'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
