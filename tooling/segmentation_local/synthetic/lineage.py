"""A data set's lineage: the first window's parameters and every batch that continued it.

Continuation never reads the parent's users back from its files: it rebuilds them (and the
catalog) from the lineage recorded in ``summary.json``, which is what makes a batch
reproducible from its manifest alone and the same inputs give the same bytes. The files are
read only to check the rebuild (labels) and for what is not derivable (id watermarks,
renewals, the events a cross-batch duplicate copies).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from segmentation_local.synthetic.params import ContinueParams, DefectRates, GenerateParams

_STREAMS = {
    "catalog": 1,
    "users": 2,
    "sessions": 3,
    "events": 4,
    "defects": 5,
    "malformed": 6,
    "joins": 7,
    "cross_batch": 8,
}


def stream(seed: int, name: str, period: tuple[date, int] | None = None) -> np.random.Generator:
    """The random stream of one generation stage; a batch's streams also key on its period.

    Keying on (first day, days) rather than on a counter or the clock means a batch is the
    same however it was reached, and two batches of one lineage never share a stream.
    """
    key: tuple[int, ...] = (_STREAMS[name],)
    if period is not None:
        key = (*key, period[0].toordinal(), period[1])
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


@dataclass(frozen=True)
class Lineage:
    """The first window and the batches after it, oldest first (``steps[-1]`` is the newest)."""

    root: GenerateParams
    steps: tuple[ContinueParams, ...] = ()

    def start_of(self, index: int) -> datetime:
        """Window start of batch ``index`` (0 = the first window, i = steps[i-1])."""
        if index == 0:
            return self.root.window_start
        return self.root.window_end + timedelta(days=sum(s.days for s in self.steps[: index - 1]))

    def end_of(self, index: int) -> datetime:
        """Exclusive window end of batch ``index``."""
        days = self.root.days if index == 0 else self.steps[index - 1].days
        return self.start_of(index) + timedelta(days=days)

    @property
    def end(self) -> datetime:
        return self.end_of(len(self.steps))

    def period(self, index: int) -> tuple[date, int]:
        """(first day, days) of batch ``index`` >= 1: the key of its random streams."""
        return self.start_of(index).date(), self.steps[index - 1].days

    def defects(self) -> DefectRates:
        """In-batch defect rates of the newest batch (what a continuation inherits)."""
        for step in reversed(self.steps):
            if step.defects is not None:
                return step.defects
        return self.root.defects

    def extend(self, params: ContinueParams) -> Lineage:
        """This lineage plus one batch, with its inherited defect rates written out."""
        explicit = params.model_copy(update={"defects": params.defects or self.defects()})
        return Lineage(self.root, (*self.steps, explicit))

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root.model_dump(mode="json"),
            "steps": [s.model_dump(mode="json") for s in self.steps],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Lineage:
        return cls(
            GenerateParams.model_validate(doc["root"]),
            tuple(ContinueParams.model_validate(s) for s in doc["steps"]),
        )

    def dataset_id(self) -> str:
        """Content identity of the data set: a digest of everything it was made from."""
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Manifest:
    """What a continuation needs of its parent, from the parent's ``summary.json``."""

    path: Path
    lineage: Lineage
    ids: dict[str, int]  # last event / session / transaction number used so far
    window_start: datetime
    users: int


def root_ids(counts: dict[str, int]) -> dict[str, int]:
    """A first window numbers its events, sessions and payments from 1 (clean events only)."""
    return {
        "event": int(counts["events_clean"]),
        "session": int(counts["sessions"]),
        "transaction": int(counts["transactions"]),
    }


def read_manifest(path: Path) -> Manifest:
    """The parent's lineage and watermarks; data sets written before continuation existed
    (no ``lineage`` in their summary) are first windows and still continue."""
    file = path / "summary.json"
    if not file.is_file():
        raise FileNotFoundError(f"{path} is not a generated data set (no summary.json)")
    summary = json.loads(file.read_text())
    if "lineage" in summary:
        lineage = Lineage.from_json(summary["lineage"])
    else:
        lineage = Lineage(GenerateParams.model_validate(summary["parameters"]))
    ids = summary.get("ids") or root_ids(summary["counts"])
    return Manifest(
        path=path,
        lineage=lineage,
        ids={k: int(v) for k, v in ids.items()},
        window_start=lineage.start_of(len(lineage.steps)),
        users=int(summary["counts"]["users"]),
    )


def epoch(moment: datetime) -> int:
    return int(moment.timestamp())
