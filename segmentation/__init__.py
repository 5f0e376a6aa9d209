"""segmentation: raw VoD user events -> stable, interpretable customer segments.

All business logic lives in this package; Lambdas, Glue jobs and EMR steps import it and stay thin.
"""

__version__ = "0.1.0"
