"""What a study searches with: its objectives (the monitored metric, or several for a Pareto front),
the sampler and the pruner named in the config's tune: section, and when a pruner is asked."""

from __future__ import annotations

import contextlib

from ..config import Config
from ..errors import UserError


def objectives(cfg: Config) -> list[tuple[str, str]]:
    """[(metric, 'minimize'|'maximize')]: one for a plain study, several for a multi-objective one."""
    from ..metrics import is_better_high

    def direction(metric: str, given: str) -> str:
        if given != "auto":
            return given
        if metric in ("parameters", "latency_ms"):
            return "minimize"
        return "maximize" if is_better_high(metric) else "minimize"

    tune = cfg.tune
    if tune.objectives:
        return [(o.metric, direction(o.metric, o.direction)) for o in tune.objectives]
    metric = cfg.training.early_stopping.monitor if tune.metric == "auto" else tune.metric
    return [(metric, direction(metric, tune.direction))]


def sampler_name(cfg: Config) -> str:
    if cfg.tune.sampler != "auto":
        return cfg.tune.sampler
    return "nsga2" if len(cfg.tune.objectives) > 1 else "tpe"


def pruner_name(cfg: Config) -> str:
    if cfg.tune.pruner != "auto":
        return cfg.tune.pruner
    return "none" if len(cfg.tune.objectives) > 1 else "median"


def _seed(cfg: Config, worker: int, existing: int) -> int:
    # Seeded, so a fresh single-worker study is reproducible; but shifted by the worker and by the
    # trials already in the study, or parallel workers and resumed runs would repeat the same draws.
    base = cfg.seed if cfg.tune.seed is None else cfg.tune.seed
    return (base * 1_000_003 + worker * 7919 + existing * 104_729) % 2**31


def build_sampler(cfg: Config, space, seed: int):
    import optuna

    name = sampler_name(cfg)
    startup = cfg.tune.startup_trials
    if name == "grid":
        # One seed for every worker and every resumed run: the grid sampler shuffles its points with
        # it and names them by their place in that order, so another order in another process would
        # run some points twice and others never (while the study counts the grid as done).
        return optuna.samplers.GridSampler(space.grid(cfg.tune.grid_points), seed=_seed(cfg, 0, 0))
    if name == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup)
    if name == "gp":
        return optuna.samplers.GPSampler(seed=seed, n_startup_trials=startup)
    if name == "cmaes":
        try:
            import cmaes  # noqa: F401
        except ImportError:
            raise UserError("tune.sampler: cmaes needs the `cmaes` package (pip install cmaes); "
                            "or use tpe, gp, random, grid or nsga2") from None
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=startup, warn_independent_sampling=False)
    return optuna.samplers.NSGAIISampler(seed=seed, population_size=max(4, min(50, cfg.tune.trials // 2)))


def _scipy_log_ndtr(a):
    import numpy as np
    from scipy.special import log_ndtr

    return log_ndtr(np.asarray(a, dtype=float))


@contextlib.contextmanager
def scipy_log_ndtr():
    """TPE's truncated-normal code with SciPy's log_ndtr while a worker runs its trials.

    Optuna's TPE carries a port of SciPy's truncated normal whose log_ndtr calls a Python function
    per element (np.frompyfunc): in the tuning benchmark's TPE studies, SciPy's took a trial's
    sampling from 2.1 to 1.8 ms (mean of 3 seeds, twice, interleaved). SciPy's own ufunc
    (installed with scikit-learn) gives the same values to 6e-8 relative; the draws therefore differ
    from plain Optuna's with the same seed in far decimals, and stay reproducible from run to run.
    Where Optuna's layout is not this one, or SciPy lacks log_ndtr, nothing is changed. Optuna's own
    function comes back at the end."""
    try:
        from optuna.samplers._tpe import _truncnorm
        from scipy import special
    except ImportError:
        yield
        return
    own = getattr(_truncnorm, "_log_ndtr", None)
    # another layout, no log_ndtr in SciPy, or already swapped (another worker thread): leave it
    if own is None or own is _scipy_log_ndtr or not hasattr(special, "log_ndtr"):
        yield
        return
    _truncnorm._log_ndtr = _scipy_log_ndtr
    try:
        yield
    finally:
        _truncnorm._log_ndtr = own


def build_pruner(cfg: Config):
    import optuna

    name = pruner_name(cfg)
    warm = cfg.tune.warmup_epochs
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=cfg.tune.startup_trials, n_warmup_steps=warm)
    if name == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(min_resource=warm, reduction_factor=3)
    if name == "hyperband":
        # with cv_folds only fold 0 reports (trial._train_folds), so a trial's resource is one fold's epochs
        return optuna.pruners.HyperbandPruner(min_resource=warm, max_resource=max(cfg.training.epochs, warm + 1),
                                              reduction_factor=3)
    return optuna.pruners.NopPruner()


def _decision_steps(pruner):
    """due(prev, step): can `pruner` decide at `step`, the trial's previous report being at `prev`
    (-1 if none)? At other steps these pruners return False with no side effect, so asking only
    when due gives the decisions of asking every epoch. A pruner whose steps the study decides
    (min_resource or max_resource "auto", until a complete trial fixes them) or that is not known
    here is asked every time."""
    from optuna import pruners as p

    kind = type(pruner)  # exact types: a subclass may decide at other steps
    if kind in (p.SuccessiveHalvingPruner, p.HyperbandPruner):
        first, factor = getattr(pruner, "_min_resource", None), getattr(pruner, "_reduction_factor", None)
        if kind is p.HyperbandPruner and not isinstance(getattr(pruner, "_max_resource", None), int):
            return lambda prev, step: True
        if isinstance(first, int) and isinstance(factor, int) and first >= 1 and factor >= 2:
            if kind is p.SuccessiveHalvingPruner:
                first *= factor ** getattr(pruner, "_min_early_stopping_rate", 0)

            def due(prev: int, step: int) -> bool:
                # rungs end at min_resource * reduction_factor**k (k >= the bracket's rate): one was
                # reached since the previous report (every bracket's rungs: extra asks are harmless)
                rung = first
                while rung <= step:
                    if rung > prev:
                        return True
                    rung *= factor
                return False
            return due
    elif kind in (p.MedianPruner, p.PercentilePruner):
        warm, every = getattr(pruner, "_n_warmup_steps", None), getattr(pruner, "_interval_steps", None)
        if isinstance(warm, int) and isinstance(every, int) and warm >= 0 and every >= 1:
            # Optuna's _is_first_in_interval_step: a check step reached since the previous report
            return lambda prev, step: step >= warm and prev < (step - warm) // every * every + warm
    return lambda prev, step: True


# Metrics a study may rank by whatever loss each trial trains with: they measure the predictions.
_COMPARABLE = {"regression": "val_r2, val_mae or val_rmse",
               "binary": "val_f1, val_accuracy, val_balanced_accuracy, val_roc_auc or val_log_loss",
               "multiclass": "val_accuracy, val_f1, val_balanced_accuracy or val_log_loss"}


def check_loss_comparable(cfg: Config, objs: list[tuple[str, str]], task: str) -> None:
    """A loss objective ranks trials by their own loss: a space that changes what the loss measures
    (a smaller huber_delta shrinks it, label smoothing and class weights add to it) would let the
    trial with the smallest loss scale win, not the best model. Every such key at once, as ConfigError."""
    from ..errors import ConfigError

    losses = [m for m, _ in objs if m in ("val_loss", "train_loss")]
    if not losses:
        return
    where = "tune.objectives" if cfg.tune.objectives else (
        "tune.metric" if cfg.tune.metric != "auto" else "tune.metric (auto: training.early_stopping.monitor)")
    problems = []
    for key, p in cfg.tune.space.items():
        values = list(p.values or [])
        why = None
        if key.startswith("loss."):
            why = "changes the loss itself"
        elif key == "data.imbalance" and "class_weights" in values:
            why = "weights the loss by class with class_weights"
        elif key == "data.scale_target" and task == "regression":
            why = "puts the loss in the target's units or in standardized ones"
        if why:
            problems.append(f"tune.space.{key}: searched while {where} is {losses[0]}, and it {why}, so the trials' "
                            f"{losses[0]} values do not compare (the smallest loss scale would win); tune a metric "
                            f"of the predictions instead, tune.metric: {_COMPARABLE.get(task, 'val_<metric>')}, "
                            f"or fix {key}")
    if problems:
        raise ConfigError(problems)
