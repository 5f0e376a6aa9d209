"""Synthetic video-on-demand data set with latent personas and injected defects (issue 2).

``generate(GenerateParams(...))`` builds a :class:`Dataset` in memory; ``write_dataset`` writes it.
``continue_dataset(parent_dir, ContinueParams(...))`` builds the next batch of a written one.
The personas (``labels.parquet``) are ground truth for evaluating the segmentation and are never
read by the pipeline. See docs/data.md.

Names are resolved lazily so the CLI can read the parameter models without importing numpy and
pyarrow (``segmentation --help`` stays fast).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ContinueParams": "segmentation_local.synthetic.params",
    "CrossBatchRates": "segmentation_local.synthetic.params",
    "Dataset": "segmentation_local.synthetic.generator",
    "Shift": "segmentation_local.synthetic.shift",
    "continue_dataset": "segmentation_local.synthetic.continuation",
    "generate": "segmentation_local.synthetic.generator",
    "DefectRates": "segmentation_local.synthetic.params",
    "GenerateParams": "segmentation_local.synthetic.params",
    "write_dataset": "segmentation_local.synthetic.writer",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
