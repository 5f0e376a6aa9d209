"""Glue job: the pipeline's features step (logic in segmentation.pipeline.features).

Glue: --JOB_NAME, --lake_prefix, --run_id, --snapshot_date, ... (see docs/pipeline.md).
Local: ``segmentation step features --lake_prefix ...``, ``python glue_jobs/features.py ...`` or
spark-submit (with the s3a jars, see docs/pipeline.md).
"""

import sys

from segmentation.pipeline.entry import main

if __name__ == "__main__":
    sys.exit(main("features"))
