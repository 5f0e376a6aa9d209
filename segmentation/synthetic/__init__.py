"""Synthetic video-on-demand data set with latent personas and injected defects (issue 2).

``generate(GenerateParams(...))`` builds a :class:`Dataset` in memory; ``write_dataset`` writes it.
The personas (``labels.parquet``) are ground truth for evaluating the segmentation and are never
read by the pipeline. See docs/data.md.
"""

from segmentation.synthetic.generator import Dataset, generate
from segmentation.synthetic.params import DefectRates, GenerateParams
from segmentation.synthetic.writer import write_dataset

__all__ = ["Dataset", "DefectRates", "GenerateParams", "generate", "write_dataset"]
