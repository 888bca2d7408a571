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

    def boundary_bigrams(self, texts: Sequence[str]) -> list[Any]:
        """Per message, the hashed word bigram joining the chat so far to it (None if there is none)."""
        from sklearn.feature_extraction.text import HashingVectorizer

        bigram = HashingVectorizer(
            analyzer="word", ngram_range=(2, 2), n_features=WORD_FEATURES, alternate_sign=False, norm=None
        )
        tokenize = self.word.build_analyzer()
        joins: dict[int, str] = {}  # message index -> "last_word first_word"
        last: str | None = None
        for i, text in enumerate(texts):
            words = [t for t in tokenize(text) if " " not in t]
            if last is not None and words:
                joins[i] = f"{last} {words[0]}"
            if words:
                last = words[-1]
        out: list[Any] = [None] * len(texts)
        if joins:
            # One transform for the whole conversation, not one per message.
            rows = bigram.transform(list(joins.values())).tocsr()
            for row, i in enumerate(joins):
                out[i] = rows[row]
        return out

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

    def warm_up(self) -> None:
        """Nothing to load beyond the artifact."""

    def trajectories(self, conversations: Sequence[Conversation]) -> list[Trajectory]:
        out = []
        for conv in conversations:
            logits = self._prefix_logits(conv.messages)  # [n, 2 + C]
            risk = (logits[:, 0] + self.risk_bias).astype(np.float32)
            sext = 1.0 / (1.0 + np.exp(-(logits[:, 1] + self.type_bias)))
            cats = 1.0 / (1.0 + np.exp(-(logits[:, 2:] + self.cat_bias)))
            out.append(Trajectory(risk, sext.astype(np.float32), cats.astype(np.float32)))
        return out

    def _prefix_logits(self, messages: Sequence[Message]) -> np.ndarray:
        """Linear outputs (risk, type, categories; no bias) of every prefix of the conversation.

        Equal to transforming each prefix's text, at linear instead of quadratic cost: a prefix's
        n-gram counts are the previous prefix's plus the new message's (char_wb n-grams stay inside
        words; the one word bigram that spans the line break is added explicitly), and the dot
        products and squared norms of the sublinear tf-idf vectors are updated only where counts change.
        """
        texts = [normalize(m.text).text for m in messages]
        weights = np.vstack([self.risk_coef[None, :], self.type_coef[None, :], self.cat_coef])  # [K, F]
        out = np.zeros((len(texts), weights.shape[0]), dtype=np.float64)
        offset = 0
        for vec, idf in (
            (self.featurizer.word, self.featurizer.word_idf),
            (self.featurizer.char, self.featurizer.char_idf),
        ):
            assert idf is not None
            width = idf.shape[0]
            w = weights[:, offset : offset + width]
            offset += width
            rows = vec.transform(texts).tocsr()
            spans = self.featurizer.boundary_bigrams(texts) if vec is self.featurizer.word else None
            counts: dict[int, float] = {}
            dot = np.zeros(weights.shape[0], dtype=np.float64)
            sum_sq = 0.0
            for i in range(len(texts)):
                row = rows[i]
                idx, add = row.indices, row.data.astype(np.float64)
                if spans is not None and spans[i] is not None:
                    idx, add = np.concatenate([idx, spans[i].indices]), np.concatenate([add, spans[i].data])
                if idx.size:
                    # The same feature may appear twice (a bigram also inside the message): merge.
                    uniq, inverse = np.unique(idx, return_inverse=True)
                    delta = np.zeros(uniq.size)
                    np.add.at(delta, inverse, add)
                    old = np.array([counts.get(int(j), 0.0) for j in uniq])
                    new = old + delta
                    scale = idf[uniq].astype(np.float64)
                    a_old, a_new = np.log1p(old) * scale, np.log1p(new) * scale
                    sum_sq += float(np.sum(a_new**2 - a_old**2))
                    dot += w[:, uniq].astype(np.float64) @ (a_new - a_old)
                    for j, value in zip(uniq.tolist(), new.tolist(), strict=True):
                        counts[j] = value
                norm = np.sqrt(sum_sq) if sum_sq > 1e-12 else 0.0
                if norm:
                    out[i] += dot / norm
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
