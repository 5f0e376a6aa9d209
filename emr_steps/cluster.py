"""EMR Serverless step: the pipeline's cluster step (logic in segmentation.pipeline.cluster_step).

entryPointArguments: --lake_prefix, --run_id, --snapshot_date, --algorithm, --k, --eps, ...
(see docs/pipeline.md). Locally: python emr_steps/cluster.py --lake_prefix ... (or spark-submit).
"""

import sys

from segmentation.pipeline.entry import main

if __name__ == "__main__":
    sys.exit(main("cluster"))
