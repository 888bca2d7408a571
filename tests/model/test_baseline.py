"""The TF-IDF baseline scores every prefix in linear time, exactly as re-reading each prefix would."""

from __future__ import annotations

import numpy as np

from grooming_risk.data.synth import SynthConfig, generate
from grooming_risk.model.baseline import TfidfBackend, TfidfFeaturizer, conversation_text, fit_baseline


def test_incremental_prefix_scores_equal_transforming_every_prefix() -> None:
    convs = list(generate(120, seed=21, config=SynthConfig(language="mix")))
    tensors = fit_baseline(convs[:100], c=1.0, seed=0)
    backend = TfidfBackend(TfidfFeaturizer(tensors["word_idf"], tensors["char_idf"]), tensors)
    held = convs[100:]
    for conv, trajectory in zip(held, backend.trajectories(held), strict=True):
        prefixes = [conversation_text(conv.messages[: i + 1]) for i in range(len(conv.messages))]
        x = backend.featurizer.transform(prefixes)
        risk = np.asarray(x @ backend.risk_coef + backend.risk_bias).reshape(-1)
        cats = 1.0 / (1.0 + np.exp(-(np.asarray(x @ backend.cat_coef.T) + backend.cat_bias)))
        np.testing.assert_allclose(trajectory.risk_logit, risk, atol=1e-4)
        np.testing.assert_allclose(trajectory.category_probs, cats, atol=1e-4)
