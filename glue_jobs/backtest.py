"""Glue job: the pipeline's backtest step (logic in segmentation.pipeline.backtest_step).

Glue: --JOB_NAME, --lake_prefix, --run_id, --snapshot_date (the horizon's end), --horizon_days,
... (see docs/pipeline.md). Local: ``segmentation step backtest --lake_prefix ...``,
``segmentation backtest --snapshot-date T --horizon-days H`` or
``python glue_jobs/backtest.py ...``.
"""

import sys

from segmentation.pipeline.entry import main

if __name__ == "__main__":
    sys.exit(main("backtest"))
