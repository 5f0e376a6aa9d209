"""Glue job: the pipeline's clean step (logic in segmentation.pipeline.clean).

Glue: --JOB_NAME, --lake_prefix, --run_id, --snapshot_date, ... (see docs/pipeline.md).
Local: ``segmentation step clean --lake_prefix ...``, ``python glue_jobs/clean.py ...`` or
spark-submit (with the s3a jars, see docs/pipeline.md).
"""

import sys

from segmentation.pipeline.entry import main

if __name__ == "__main__":
    sys.exit(main("clean"))
