"""Glue job: provisional assignment between weekly runs (logic in segmentation.pipeline.assign).

Started daily by EventBridge Scheduler (terraform/modules/assignment). Glue: --JOB_NAME,
--lake_prefix, --ledger_table, --segments_table, --snapshot_date, ... (see docs/pipeline.md).
Local: ``segmentation assign``, ``segmentation step assign ...`` or ``python glue_jobs/assign.py``.
"""

import sys

from segmentation.pipeline.entry import main

if __name__ == "__main__":
    sys.exit(main("assign"))
