"""Text handling shared by training and inference."""

from grooming_risk.text.normalize import NormalizedText, normalize

__all__ = ["NormalizedText", "normalize"]
