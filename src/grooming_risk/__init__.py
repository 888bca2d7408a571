"""grooming-risk: early grooming and sextortion risk scoring for chat conversations."""

__version__ = "0.1.0"
