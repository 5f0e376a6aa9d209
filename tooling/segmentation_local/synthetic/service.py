"""Generate a data set and write it: the one call behind ``generate`` and the interim ``demo``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from segmentation_local.synthetic.generator import generate
from segmentation_local.synthetic.params import ContinueParams, GenerateParams
from segmentation_local.synthetic.writer import write_dataset


def generate_to(params: GenerateParams, out: Path) -> tuple[dict[str, Any], float]:
    """Write the data set of ``params`` under ``out``; return its summary and the seconds taken."""
    t0 = time.perf_counter()
    ds = generate(params)
    write_dataset(ds, out)
    return ds.summary, time.perf_counter() - t0


def continue_to(
    parent: Path,
    params: ContinueParams,
    out: Path,
    then: Callable[[Any], Any] | None = None,
) -> tuple[dict[str, Any], float]:
    """Write the batch after ``parent`` under ``out`` (never over the parent itself); ``then``
    changes the batch before it is written (a campaign played on it)."""
    from segmentation_local.synthetic.continuation import continue_dataset

    if out.resolve() == parent.resolve():
        raise ValueError(f"--out {out} is the data set being continued: write the batch elsewhere")
    t0 = time.perf_counter()
    ds = continue_dataset(parent, params, out)
    if then is not None:
        ds = then(ds)
    write_dataset(ds, out)
    return ds.summary, time.perf_counter() - t0
