"""The optimisation loop for the sequence model (CPU-friendly; uses a GPU when there is one)."""

from __future__ import annotations

import copy
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from grooming_risk.model.sequence import RiskSequenceModel
from grooming_risk.training.config import OptimConfig
from grooming_risk.training.targets import Targets

log = logging.getLogger(__name__)


@dataclass
class Example:
    inputs: np.ndarray  # [n, D]; empty when the encoder is fine-tuned (texts encoded per batch)
    targets: Targets
    texts: list[str] = field(default_factory=list)
    features: np.ndarray | None = None


@dataclass
class EpochLog:
    epoch: int
    train_loss: float
    val_loss: float
    val_auc: float


def pick_device(setting: str) -> torch.device:
    if setting == "cuda" or (setting == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _pad(arrays: Sequence[np.ndarray], length: int) -> torch.Tensor:
    shape = (len(arrays), length, *arrays[0].shape[1:])
    out = torch.zeros(shape, dtype=torch.float32)
    for i, a in enumerate(arrays):
        out[i, : len(a)] = torch.from_numpy(a)
    return out


def _batches(examples: Sequence[Example], batch_size: int, rng: random.Random | None) -> list[list[int]]:
    # Length-bucketed batches (similar lengths together, little padding); shuffled when training.
    order = sorted(range(len(examples)), key=lambda i: len(examples[i].targets.risk))
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    if rng is not None:
        rng.shuffle(batches)
    return batches


InputFn = Callable[[list[Example]], torch.Tensor]


class Trainer:
    def __init__(
        self,
        model: RiskSequenceModel,
        cfg: OptimConfig,
        device: torch.device,
        *,
        input_fn: InputFn | None = None,
        extra_params: list[nn.Parameter] | None = None,
        extra_lr: float = 2e-5,
    ) -> None:
        self.model = model.to(device)
        self.cfg = cfg
        self.device = device
        self.input_fn = input_fn
        groups: list[dict[str, object]] = [{"params": list(model.parameters()), "lr": cfg.lr}]
        if extra_params:
            groups.append({"params": extra_params, "lr": extra_lr})
        self.optimizer = torch.optim.AdamW(groups, weight_decay=cfg.weight_decay)
        self.bce = nn.BCEWithLogitsLoss(reduction="none")

    def _inputs(self, batch: list[Example]) -> torch.Tensor:
        if self.input_fn is not None:
            return self.input_fn(batch)
        return _pad([e.inputs for e in batch], max(len(e.inputs) for e in batch))

    def _perturb(self, x: torch.Tensor) -> torch.Tensor:
        """Jitter the message vectors (not the speaker/timing features) and put them back on the sphere."""
        dim = self.model.config.embed_dim
        vectors = x[..., :dim]
        norms = vectors.norm(dim=-1, keepdim=True)
        noisy = vectors + self.cfg.embedding_noise * torch.randn_like(vectors)
        # Padding rows (norm 0) stay zero.
        noisy = torch.nn.functional.normalize(noisy, dim=-1) * (norms > 0)
        return torch.cat([noisy, x[..., dim:]], dim=-1)

    def _loss(self, batch: list[Example]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        lengths = torch.tensor([len(e.targets.risk) for e in batch])
        t = int(lengths.max())
        x = self._inputs(batch).to(self.device)
        if self.model.training and self.cfg.embedding_noise > 0:
            x = self._perturb(x)
        out = self.model(x, lengths)
        mask = (torch.arange(t)[None, :] < lengths[:, None]).float().to(self.device)

        eps = self.cfg.label_smoothing

        def stack(name: str) -> torch.Tensor:
            return _pad([getattr(e.targets, name) for e in batch], t).to(self.device)

        def target(name: str) -> torch.Tensor:
            return stack(name) * (1 - eps) + eps / 2

        risk_loss = (self.bce(out["risk_logit"], target("risk")) * mask).sum() / mask.sum()
        type_mask = stack("type_mask") * mask
        type_loss = (
            self.bce(out["type_logit"], target("sextortion")) * type_mask
        ).sum() / type_mask.sum().clamp(min=1)
        cat_mask = (stack("category_mask") * mask).unsqueeze(-1)
        cat_loss = (self.bce(out["category_logits"], target("categories")) * cat_mask).sum() / (
            cat_mask.sum().clamp(min=1) * out["category_logits"].shape[-1]
        )
        loss = risk_loss + self.cfg.type_weight * type_loss + self.cfg.category_weight * cat_loss
        if "evidence_logit" in out:
            # Which messages carry a warning sign, where the data says (the same mask as categories).
            ev_mask = stack("category_mask") * mask
            ev_loss = (
                self.bce(out["evidence_logit"], target("evidence")) * ev_mask
            ).sum() / ev_mask.sum().clamp(min=1)
            loss = loss + self.cfg.evidence_weight * ev_loss
        last = (lengths - 1).to(self.device)
        final_logits = out["risk_logit"][torch.arange(len(batch)), last]
        return loss, final_logits.detach().cpu(), torch.tensor([float(e.targets.risk[-1]) for e in batch])

    def evaluate(self, examples: Sequence[Example]) -> tuple[float, float]:
        from sklearn.metrics import roc_auc_score

        self.model.eval()
        total, count, logits, labels = 0.0, 0, [], []
        with torch.no_grad():
            for idx in _batches(examples, self.cfg.batch_size * 4, None):
                batch = [examples[i] for i in idx]
                loss, final, y = self._loss(batch)
                total += float(loss) * len(batch)
                count += len(batch)
                logits.append(final)
                labels.append(y)
        y_all = torch.cat(labels).numpy()
        auc = (
            float(roc_auc_score(y_all, torch.cat(logits).numpy()))
            if len(set(y_all.tolist())) == 2
            else float("nan")
        )
        return total / max(count, 1), auc

    def fit(
        self,
        train: Sequence[Example],
        val: Sequence[Example],
        on_epoch: Callable[[EpochLog], None] | None = None,
    ) -> list[EpochLog]:
        rng = random.Random(self.cfg.seed)
        best_loss, best_state, stale, history = float("inf"), None, 0, []
        for epoch in range(1, self.cfg.epochs + 1):
            self.model.train()
            total, count = 0.0, 0
            batches = _batches(train, self.cfg.batch_size, rng)
            for idx in tqdm(batches, desc=f"epoch {epoch}/{self.cfg.epochs}", unit="batch", leave=False):
                batch = [train[i] for i in idx]
                loss, _, _ = self._loss(batch)
                self.optimizer.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
                self.optimizer.step()
                total += float(loss.detach()) * len(batch)
                count += len(batch)
            val_loss, val_auc = self.evaluate(val)
            entry = EpochLog(epoch, total / max(count, 1), val_loss, val_auc)
            history.append(entry)
            log.info(
                "epoch %d train_loss %.4f val_loss %.4f val_auc %.4f",
                epoch,
                entry.train_loss,
                val_loss,
                val_auc,
            )
            if on_epoch:
                on_epoch(entry)
            if val_loss < best_loss - 1e-4:
                best_loss, stale = val_loss, 0
                best_state = copy.deepcopy(self.model.state_dict())
            else:
                stale += 1
                if stale >= self.cfg.patience:
                    break
        if best_state is not None:
            self.model.load_state_dict(best_state)
        self.model.eval()
        return history
