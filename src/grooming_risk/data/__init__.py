"""Datasets: the synthetic generator, licensed-corpus importers, splits, statistics and cards."""
