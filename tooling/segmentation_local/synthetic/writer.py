"""Write a data set to a directory: Parquet and CSV per table, labels, summary, malformed lines.

Files are written with pyarrow directly (no pandas index, fixed row-group size, fixed
compression) so the same data gives byte-identical files. The events CSV holds the Parquet rows
plus the planned malformed lines, inserted between them; its timestamps are ISO-8601 with 'Z'.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from segmentation_local.synthetic.defects import MALFORMED_KINDS, malformed_line
from segmentation_local.synthetic.generator import Dataset

ROW_GROUP_SIZE = 1_000_000
PARQUET_OPTIONS = {"compression": "zstd", "row_group_size": ROW_GROUP_SIZE}
_CSV_CHUNK = 500_000


def csv_ready(table: pa.Table) -> pa.Table:
    """Timestamps as ``YYYY-MM-DDTHH:MM:SSZ`` text (Arrow's own CSV spelling has a space)."""
    for i, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            text = pc.strftime(
                table.column(i).cast(pa.timestamp("s", tz="UTC")), format="%Y-%m-%dT%H:%M:%SZ"
            )
            table = table.set_column(i, field.name, text)
    return table


def _write_csv(table: pa.Table, path: Path, plain: bool) -> None:
    options = pacsv.WriteOptions(
        quoting_style="none" if plain else "needed", quoting_header="none" if plain else "needed"
    )
    pacsv.write_csv(csv_ready(table), path, options)


def write_events_csv(ds: Dataset, path: Path) -> list[dict[str, object]]:
    """Write events.csv with the malformed lines in place; return their line numbers and kinds."""
    table = csv_ready(ds.events)
    header = table.schema.names
    plan = ds.malformed
    fields = table.take(pa.array(plan.after_row)).to_pylist() if plan.after_row.size else []
    lines = [
        malformed_line(
            ["" if r[c] is None else _text(r[c]) for c in header], header, int(k), int(v)
        )
        for r, k, v in zip(fields, plan.kind.tolist(), plan.variant.tolist(), strict=True)
    ]
    head = pacsv.WriteOptions(quoting_style="none", quoting_header="none")
    body = pacsv.WriteOptions(include_header=False, quoting_style="none")
    cuts = [int(a) + 1 for a in plan.after_row]
    with pa.OSFile(str(path), "wb") as sink:
        pacsv.write_csv(table.slice(0, 0), sink, head)
        start = 0
        for stop, line in [*zip(cuts, lines, strict=True), (table.num_rows, None)]:
            for lo in range(start, stop, _CSV_CHUNK):
                pacsv.write_csv(table.slice(lo, min(stop, lo + _CSV_CHUNK) - lo), sink, body)
            if line is not None:
                sink.write((line + "\n").encode())
            start = stop
    numbers = plan.line_numbers().tolist()
    return [
        {"line": n, "kind": MALFORMED_KINDS[k]}
        for n, k in zip(numbers, plan.kind.tolist(), strict=True)
    ]


def _text(value: object) -> str:
    """A cell as Arrow's CSV writer spells it (floats without a trailing .0)."""
    if isinstance(value, float):
        return pc.cast(pa.array([value]), pa.string())[0].as_py()
    return str(value)


def write_dataset(ds: Dataset, out: Path) -> dict[str, Path]:
    """Write every file of the data set under ``out`` (created); return the paths by name."""
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in (
        ("events", ds.events),
        ("transactions", ds.transactions),
        ("users", ds.users),
        ("catalog", ds.catalog),
    ):
        paths[f"{name}.parquet"] = out / f"{name}.parquet"
        pq.write_table(table, paths[f"{name}.parquet"], **PARQUET_OPTIONS)
        paths[f"{name}.csv"] = out / f"{name}.csv"
        if name == "events":
            malformed = write_events_csv(ds, paths["events.csv"])
        else:
            _write_csv(table, paths[f"{name}.csv"], plain=False)
    paths["labels.parquet"] = out / "labels.parquet"
    pq.write_table(ds.labels, paths["labels.parquet"], **PARQUET_OPTIONS)
    if ds.renewals is not None:  # a continuation: what its own continuation must not charge again
        paths["renewals.parquet"] = out / "renewals.parquet"
        pq.write_table(ds.renewals, paths["renewals.parquet"], **PARQUET_OPTIONS)
    paths["malformed_lines.json"] = out / "malformed_lines.json"
    paths["malformed_lines.json"].write_text(
        json.dumps({"file": "events.csv", "lines": malformed}, indent=1) + "\n"
    )
    summary = dict(ds.summary)
    summary["files"] = [*sorted(p.name for p in paths.values()), "summary.json"]
    paths["summary.json"] = out / "summary.json"
    paths["summary.json"].write_text(json.dumps(summary, indent=2, sort_keys=False) + "\n")
    return paths
