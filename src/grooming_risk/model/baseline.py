"""The baseline every report shows the model against: TF-IDF over word and character n-grams with
logistic regression (scikit-learn).

n-grams are hashed (`HashingVectorizer`) so the artifact is plain arrays (idf weights and
coefficients in safetensors) with no vocabulary to pickle. For early-detection metrics the baseline
scores every prefix of a conversation, which is what "re-read the chat so far" costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from grooming_risk.contract.conversation import Conversation, Message
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, Label
from grooming_risk.inference.backend import Trajectory
from grooming_risk.model.artifact import ArtifactMeta
from grooming_risk.text.normalize import normalize

WORD_FEATURES = 2**17
CHAR_FEATURES = 2**17


def conversation_text(messages: Sequence[Message]) -> str:
    return "\n".join(normalize(m.text).text for m in messages)


class TfidfFeaturizer:
    """Hashed word 1-2-grams + char_wb 2-5-grams, each tf-idf weighted and L2-normalised."""

    def __init__(self, word_idf: np.ndarray | None = None, char_idf: np.ndarray | None = None) -> None:
        from sklearn.feature_extraction.text import HashingVectorizer

        common: dict[str, Any] = {"alternate_sign": False, "norm": None, "lowercase": True}
        self.word = HashingVectorizer(analyzer="word", ngram_range=(1, 2), n_features=WORD_FEATURES, **common)
        self.char = HashingVectorizer(
            analyzer="char_wb", ngram_range=(2, 5), n_features=CHAR_FEATURES, **common
        )
        self.word_idf = word_idf
        self.char_idf = char_idf

    def fit(self, texts: Sequence[str]) -> TfidfFeaturizer:
        n = len(texts)
        for name, vec in (("word", self.word), ("char", self.char)):
            counts = vec.transform(texts)
            df = np.bincount(counts.indices, minlength=counts.shape[1])
            idf = (np.log((1 + n) / (1 + df)) + 1.0).astype(np.float32)
            setattr(self, f"{name}_idf", idf)
        return self

    def transform(self, texts: Sequence[str]) -> Any:
        import scipy.sparse as sp
        from sklearn.preprocessing import normalize as l2

        if self.word_idf is None or self.char_idf is None:
            raise RuntimeError("TfidfFeaturizer.transform called before fit")
        parts = []
        for vec, idf in ((self.word, self.word_idf), (self.char, self.char_idf)):
            counts = vec.transform(texts).astype(np.float32)
            counts.data = np.log1p(counts.data)  # sublinear tf
            parts.append(l2(counts @ sp.diags(idf)))
        return sp.hstack(parts).tocsr()


class TfidfBackend:
    supports_streaming = False

    def __init__(self, featurizer: TfidfFeaturizer, tensors: dict[str, np.ndarray]) -> None:
        self.featurizer = featurizer
        self.risk_coef = tensors["risk_coef"]
        self.risk_bias = float(tensors["risk_bias"][0])
        self.type_coef = tensors["type_coef"]
        self.type_bias = float(tensors["type_bias"][0])
        self.cat_coef = tensors["category_coef"]  # [C, F]
        self.cat_bias = tensors["category_bias"]  # [C]

    @classmethod
    def from_artifact(
        cls, meta: ArtifactMeta, tensors: dict[str, np.ndarray], artifact_dir: Path
    ) -> TfidfBackend:
        return cls(TfidfFeaturizer(tensors["word_idf"], tensors["char_idf"]), tensors)

    def trajectories(self, conversations: Sequence[Conversation]) -> list[Trajectory]:
        out = []
        for conv in conversations:
            prefixes = [conversation_text(conv.messages[: i + 1]) for i in range(len(conv.messages))]
            x = self.featurizer.transform(prefixes)
            risk = np.asarray(x @ self.risk_coef + self.risk_bias, dtype=np.float32).reshape(-1)
            sext = 1.0 / (1.0 + np.exp(-(np.asarray(x @ self.type_coef).reshape(-1) + self.type_bias)))
            cats = 1.0 / (1.0 + np.exp(-(np.asarray(x @ self.cat_coef.T) + self.cat_bias)))
            out.append(Trajectory(risk, sext.astype(np.float32), cats.astype(np.float32)))
        return out

    def init_state(self) -> dict[str, Any]:
        raise NotImplementedError("the TF-IDF baseline scores whole conversations only")

    def advance(
        self, states: Sequence[dict[str, Any]], messages: Sequence[Sequence[Message]]
    ) -> list[tuple[dict[str, Any], Trajectory]]:
        raise NotImplementedError("the TF-IDF baseline scores whole conversations only")


def fit_baseline(
    conversations: Sequence[Conversation], *, c: float = 4.0, seed: int = 0
) -> dict[str, np.ndarray]:
    """Fit the baseline on whole conversations; return its tensors (raw, uncalibrated logits)."""
    from sklearn.linear_model import LogisticRegression

    texts = [conversation_text(c_.messages) for c_ in conversations]
    labels = [c_.label or Label.BENIGN for c_ in conversations]
    y_risk = np.array([lab.is_risky for lab in labels], dtype=int)
    feat = TfidfFeaturizer().fit(texts)
    x = feat.transform(texts)
    risk = LogisticRegression(C=c, max_iter=2000, class_weight="balanced", random_state=seed).fit(x, y_risk)
    risky = np.flatnonzero(y_risk)
    y_type = np.array([labels[i] is Label.SEXTORTION for i in risky], dtype=int)
    type_coef = np.zeros(x.shape[1], dtype=np.float32)
    type_bias = 0.0
    if len(set(y_type.tolist())) == 2:
        typ = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x[risky], y_type)
        type_coef, type_bias = typ.coef_[0].astype(np.float32), float(typ.intercept_[0])
    cat_coef = np.zeros((len(RISK_CATEGORIES), x.shape[1]), dtype=np.float32)
    cat_bias = np.full(len(RISK_CATEGORIES), -5.0, dtype=np.float32)
    for k, cat in enumerate(RISK_CATEGORIES):
        y_cat = np.array([any(cat in m.categories for m in c_.messages) for c_ in conversations], dtype=int)
        if 0 < y_cat.sum() < len(y_cat):
            model = LogisticRegression(C=c, max_iter=2000, random_state=seed).fit(x, y_cat)
            cat_coef[k], cat_bias[k] = model.coef_[0], model.intercept_[0]
    if feat.word_idf is None or feat.char_idf is None:  # pragma: no cover - fit() sets both
        raise RuntimeError("baseline featurizer was not fitted")
    return {
        "word_idf": feat.word_idf,
        "char_idf": feat.char_idf,
        "risk_coef": risk.coef_[0].astype(np.float32),
        "risk_bias": np.array([risk.intercept_[0]], dtype=np.float32),
        "type_coef": type_coef,
        "type_bias": np.array([type_bias], dtype=np.float32),
        "category_coef": cat_coef,
        "category_bias": cat_bias,
    }
