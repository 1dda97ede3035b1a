"""Neural posterior estimation through the ``sbi`` package: a conditional density q(theta | s) trained on simulated
pairs (theta, s), with s the data's summaries (a learned statistic's, or any), under a uniform prior on a box."""

import torch

__all__ = ["NullTracker", "train_posterior"]


class NullTracker:
    """An ``sbi`` training tracker that keeps nothing (sbi's default writes TensorBoard logs to ./sbi-logs)."""

    log_dir = None

    def log_metric(self, name, value, step=None):
        pass

    def log_metrics(self, metrics, step=None):
        pass

    def log_params(self, params):
        pass

    def add_figure(self, name, figure, step=None):
        pass

    def flush(self):
        pass


def train_posterior(theta: torch.Tensor, summaries: torch.Tensor, *, low, high, density_estimator: str = "maf",
                    seed: int = 0, max_epochs: int = 2**31 - 1):
    """q(theta | s) by neural posterior estimation (sbi's NPE, its own early stopping) on pairs theta [n, k] and
    summaries [n, d], with the uniform prior on the box [low, high] [k]; returns sbi's posterior (``.sample((m,),
    x=s_observed)``, ``.log_prob``)."""
    from sbi.inference import NPE
    from sbi.utils import BoxUniform

    if theta.ndim != 2 or summaries.ndim != 2 or theta.shape[0] != summaries.shape[0]:
        raise ValueError(f"theta {tuple(theta.shape)} and summaries {tuple(summaries.shape)}: expected [n, k] and "
                         "[n, d] with one row of summaries per theta")
    low = torch.as_tensor(low, dtype=torch.float32)
    high = torch.as_tensor(high, dtype=torch.float32)
    torch.manual_seed(seed)
    inference = NPE(prior=BoxUniform(low=low, high=high), density_estimator=density_estimator,
                    tracker=NullTracker(), show_progress_bars=False)
    inference.append_simulations(theta.to(torch.float32), summaries.to(torch.float32))
    inference.train(max_num_epochs=max_epochs, show_train_summary=False)
    return inference.build_posterior()
