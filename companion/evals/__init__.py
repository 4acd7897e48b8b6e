"""Evaluations of the companion (safety screening first).

``companion.evals.safety_eval`` holds the dataset loader, the metrics and the
report writers; ``companion.evals.cli`` exposes them as ``companion eval ...``.
"""

from companion.evals.safety_eval import (
    Case,
    DatasetError,
    Prediction,
    compute_metrics,
    load_cases,
    run_safety_eval,
)

__all__ = [
    "Case",
    "DatasetError",
    "Prediction",
    "compute_metrics",
    "load_cases",
    "run_safety_eval",
]
