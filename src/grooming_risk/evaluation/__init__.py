"""Evaluation: conversation-level and early-detection metrics, calibration, reports and plots.

Import from the submodules (`evaluation.report`, `evaluation.plots`, ...): they pull in
scikit-learn, SciPy and matplotlib only inside the functions that need them.
"""
