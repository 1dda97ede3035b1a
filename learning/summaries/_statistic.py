"""Learned summary statistics s = S(x) of simulated data for likelihood-free inference.

``InfoMaxStatistic`` trains an encoder S to maximise a dependence measure between its summaries and the parameters
that produced the data (``learning.summaries._bounds``: the Jensen-Shannon bound of a critic by default, as in
neural approximate sufficient statistics, Chen et al. 2021; or the distance correlation). A statistic that keeps all
the information x has about theta is sufficient, and the posterior given S(x) is then the posterior given x.
``MeanStatistic`` is the usual baseline: S regresses theta (the posterior mean, when trained to convergence), which
is sufficient only for the posterior's mean. Both work on torch tensors of any simulator: x [n, ...] flattened to
[n, dim_x], theta [n, k]; inputs are standardised with the training set's mean and scale.
"""

import copy
import math
from dataclasses import dataclass

import torch
from torch import nn

from ._bounds import distance_correlation, dv_bound, jsd_bound

__all__ = ["ESTIMATORS", "FitHistory", "InfoMaxStatistic", "JointCritic", "MeanStatistic", "mutual_information"]

#: the dependence measures ``InfoMaxStatistic`` maximises
ESTIMATORS = ("jsd", "dv", "dc")


def mlp(sizes, activation=nn.ReLU) -> nn.Sequential:
    """A fully connected network with ``activation`` between the layers of ``sizes``."""
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if k < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


class JointCritic(nn.Module):
    """T(s, theta): theta through a small encoder h, then one tanh hidden layer on [s, h(theta)] (200 units)."""

    def __init__(self, summary_dim: int, parameter_dim: int, *, hidden: int = 200):
        super().__init__()
        self.parameters_encoder = mlp([parameter_dim, hidden // 2, summary_dim], activation=nn.Tanh)
        self.score = mlp([2 * summary_dim, hidden, 1], activation=nn.Tanh)

    def forward(self, s: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        return self.pair_score(s, self.parameters_encoder(theta))

    def pair_score(self, s: torch.Tensor, encoded: torch.Tensor) -> torch.Tensor:
        """T for summaries s [n, d] and already encoded parameters h(theta) [n, d]."""
        return self.score(torch.cat([s, encoded], dim=-1)).squeeze(-1)


@dataclass(frozen=True)
class FitHistory:
    """How a statistic's training went: the objective (larger is better) on the training and validation pairs per
    epoch, and the epoch whose weights were kept (the best on validation)."""

    train: list
    validation: list
    best_epoch: int


class _Standardise:
    """Mean and scale of a training set's columns, applied to new rows."""

    def __init__(self, values: torch.Tensor):
        self.mean = values.mean(dim=0)
        self.scale = values.std(dim=0).clamp_min(1e-12)

    def __call__(self, values: torch.Tensor) -> torch.Tensor:
        return (values - self.mean) / self.scale


def _flat(x: torch.Tensor) -> torch.Tensor:
    return x.reshape(x.shape[0], -1)


def _check_pairs(theta: torch.Tensor, x: torch.Tensor) -> None:
    if theta.ndim != 2:
        raise ValueError(f"theta has shape {tuple(theta.shape)}: expected [simulations, parameters]")
    if x.shape[0] != theta.shape[0]:
        raise ValueError(f"x has {x.shape[0]} simulations and theta {theta.shape[0]}: expected one theta per x")
    if theta.shape[0] < 10:
        raise ValueError(f"{theta.shape[0]} simulations: expected at least 10 to train and validate a statistic")


class _TrainedStatistic:
    """Training shared by the statistics: Adam on mini-batches, a validation split, early stopping."""

    def __init__(self, encoder: nn.Module | None, summary_dim: int):
        self.encoder = encoder
        self.summary_dim = summary_dim
        self._x_scale = self._theta_scale = None

    def _modules(self) -> list[nn.Module]:
        return [self.encoder]

    def _build(self, dim_x: int, dim_theta: int) -> None:
        if self.encoder is None:
            self.encoder = mlp([dim_x, 100, 100, self.summary_dim])

    def _objective(self, s, theta, generator):  # larger is better
        raise NotImplementedError

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """The summaries S(x) [n, summary_dim] of data x [n, ...] (no gradient)."""
        if self._x_scale is None:
            raise RuntimeError("the statistic is not trained: call fit(theta, x) first")
        with torch.no_grad():
            return self.encoder(self._x_scale(_flat(x).to(self._x_scale.mean.dtype)))

    def standardised_parameters(self, theta: torch.Tensor) -> torch.Tensor:
        """theta [n, k] in the standardised units the statistic (and its critic) was trained on."""
        if self._theta_scale is None:
            raise RuntimeError("the statistic is not trained: call fit(theta, x) first")
        return self._theta_scale(theta.to(self._theta_scale.mean.dtype))

    def fit(self, theta: torch.Tensor, x: torch.Tensor, *, epochs: int = 2000, batch: int = 200, lr: float = 5e-4,
            validation: float = 0.2, patience: int = 200, generator: torch.Generator | None = None) -> FitHistory:
        """Train on simulated pairs (theta [n, k], x [n, ...]) and keep the weights of the best validation epoch.

        Args:
            epochs: the most passes over the training pairs.
            batch: pairs per step (the critic's negatives are shuffles within a batch).
            lr: Adam's step size.
            validation: the share of the pairs held out to pick the epoch and stop.
            patience: stop after this many epochs without a better validation objective.
            generator: the random source of the split, the batches and the shuffles.
        """
        _check_pairs(theta, x)
        if not 0.0 < validation < 1.0:
            raise ValueError(f"validation = {validation!r} is out of range: expected a share in (0, 1)")
        x = _flat(x)
        theta, x = theta.to(torch.get_default_dtype()), x.to(torch.get_default_dtype())
        order = torch.randperm(theta.shape[0], generator=generator)
        held = max(2, int(round(validation * theta.shape[0])))
        train, valid = order[held:], order[:held]
        self._x_scale, self._theta_scale = _Standardise(x[train]), _Standardise(theta[train])
        xs, ts = self._x_scale(x), self._theta_scale(theta)
        self._build(x.shape[1], theta.shape[1])
        parameters = [p for module in self._modules() for p in module.parameters()]
        optimizer = torch.optim.Adam(parameters, lr=lr)
        # the validation pairs' shuffles are drawn the same way every epoch, so that epochs compare on one objective
        validation_seed = int(torch.randint(2**62, (1,), generator=generator))
        best, best_epoch, best_state = -math.inf, -1, None
        history_train, history_valid = [], []
        for epoch in range(epochs):
            for module in self._modules():
                module.train()
            shuffle = train[torch.randperm(len(train), generator=generator)]
            total = 0.0
            for start in range(0, len(shuffle), batch):
                rows = shuffle[start:start + batch]
                if len(rows) < 2:
                    continue
                loss = -self._objective(self.encoder(xs[rows]), ts[rows], generator)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
                total -= loss.item() * len(rows)
            history_train.append(total / len(shuffle))
            with torch.no_grad():
                for module in self._modules():
                    module.eval()
                score = float(self._objective(self.encoder(xs[valid]), ts[valid],
                                              torch.Generator().manual_seed(validation_seed)))
            history_valid.append(score)
            if score > best:
                best, best_epoch = score, epoch
                best_state = [copy.deepcopy(module.state_dict()) for module in self._modules()]
            elif epoch - best_epoch >= patience:
                break
        for module, state in zip(self._modules(), best_state, strict=True):
            module.load_state_dict(state)
            module.eval()
        return FitHistory(train=history_train, validation=history_valid, best_epoch=best_epoch)


class InfoMaxStatistic(_TrainedStatistic):
    """A statistic trained to maximise the dependence between S(x) and theta (module notes).

    Args:
        encoder: the network S from flattened, standardised x to ``summary_dim`` summaries; default an MLP
            [dim_x, 100, 100, summary_dim].
        summary_dim: the number of summaries (2 per parameter is the usual choice).
        estimator: "jsd" (Jensen-Shannon bound, default), "dv" (Donsker-Varadhan) or "dc" (distance correlation).
        negatives: shuffles of theta per batch for the critic's marginal pairs.
    """

    def __init__(self, encoder: nn.Module | None = None, *, summary_dim: int, estimator: str = "jsd",
                 negatives: int = 25):
        if estimator not in ESTIMATORS:
            raise ValueError(f"estimator = {estimator!r} is unknown: expected one of {', '.join(ESTIMATORS)}")
        if negatives < 1:
            raise ValueError(f"negatives = {negatives!r} is out of range: expected >= 1")
        super().__init__(encoder, summary_dim)
        self.estimator = estimator
        self.negatives = negatives
        self.critic = None

    def _build(self, dim_x, dim_theta):
        super()._build(dim_x, dim_theta)
        if self.estimator != "dc" and self.critic is None:
            self.critic = JointCritic(self.summary_dim, dim_theta)

    def _modules(self):
        return [self.encoder] if self.critic is None else [self.encoder, self.critic]

    def _objective(self, s, theta, generator):
        if self.estimator == "dc":
            return distance_correlation(s, theta)
        bound = jsd_bound if self.estimator == "jsd" else dv_bound
        return bound(self.critic, s, theta, negatives=self.negatives, generator=generator)


class MeanStatistic(_TrainedStatistic):
    """The posterior-mean statistic: S(x) regresses the (standardised) parameters by least squares; ``summary_dim``
    is the number of parameters."""

    def __init__(self, encoder: nn.Module | None = None, *, summary_dim: int):
        super().__init__(encoder, summary_dim)

    def _objective(self, s, theta, generator):
        if s.shape[1] != theta.shape[1]:
            raise ValueError(f"summary_dim = {s.shape[1]} and {theta.shape[1]} parameters: the mean statistic has one "
                             "summary per parameter")
        return -((s - theta) ** 2).sum(dim=1).mean()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The regressed parameters [n, k] of data x, in the parameters' own units."""
        scale = self._theta_scale
        return self.encode(x) * scale.scale + scale.mean


class _CriticReader(_TrainedStatistic):
    """Given summaries (an identity encoder): trains a ``JointCritic`` alone with the Jensen-Shannon bound."""

    def __init__(self, summary_dim: int, negatives: int):
        super().__init__(nn.Identity(), summary_dim)
        self.negatives = negatives
        self.critic = None

    def _build(self, dim_x, dim_theta):
        self.critic = JointCritic(dim_x, dim_theta)

    def _modules(self):
        return [self.critic]

    def _objective(self, s, theta, generator):
        return jsd_bound(self.critic, s, theta, negatives=self.negatives, generator=generator)


def mutual_information(s: torch.Tensor, theta: torch.Tensor, *, epochs: int = 300, batch: int = 200,
                       lr: float = 1e-3, negatives: int = 25, validation: float = 0.3,
                       generator: torch.Generator | None = None) -> float:
    """An estimate of I(theta; s) [nats] from pairs (s [n, d], theta [n, k]): a ``JointCritic`` trained with the
    Jensen-Shannon bound on part of the pairs, read by the Donsker-Varadhan bound on the held-out rest (a lower bound
    in expectation; the same recipe for every statistic compared)."""
    _check_pairs(theta, s)
    order = torch.randperm(theta.shape[0], generator=generator)
    held = max(2, int(round(validation * theta.shape[0])))
    fitted, test = order[held:], order[:held]
    reader = _CriticReader(s.shape[1], negatives)
    reader.fit(theta[fitted], s[fitted], epochs=epochs, batch=batch, lr=lr, patience=epochs, generator=generator)
    with torch.no_grad():
        summaries = reader._x_scale(s[test].to(reader._x_scale.mean.dtype))
        parameters = reader._theta_scale(theta[test].to(reader._theta_scale.mean.dtype))
        return float(dv_bound(reader.critic, summaries, parameters, negatives=negatives, generator=generator))
