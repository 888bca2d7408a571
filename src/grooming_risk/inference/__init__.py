"""Inference: `RiskScorer`, the one entry point every front end uses."""

from grooming_risk.inference.scorer import RiskScorer, StreamSession

__all__ = ["RiskScorer", "StreamSession"]
