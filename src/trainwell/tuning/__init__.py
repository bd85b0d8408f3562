"""Hyperparameter search on Optuna, ensembles and AutoML (issue 5).

Named tuning/, not tune/, for the reason training/ is not train/ (DEVELOPERS.md): importing a
subpackage named `tune` would rebind `trainwell.tune` and hide the public `trainwell.tune()`.

space.py     tune.space -> Optuna suggestions -> config overrides
study.py     the study: its workers' ask / train / tell loop, resume
interrupt.py Ctrl-C and SIGTERM at any moment: noted, acted on where nothing is half-written
search.py    objectives, sampler and pruner from the tune: section
trial.py     one trial as a real run (one per fold under cv_folds), its per-epoch reports
storage.py   the journal (or a database URL), the workers' lock, dead workers' trials queued again
results.py   best config, trials table, importances, `tune --show`
ensemble.py  bagging and top-k ensembles; an ensemble directory that evaluate and predict accept
auto.py      trainwell auto: infer, write a config and a space, run a budgeted study, train the final model

Nothing here is imported by `trainwell --help`; Optuna and torch load inside the commands.
"""

from __future__ import annotations


def tune(config, overrides=None, **kwargs) -> dict:
    """Run or resume a study (see trainwell.tune.study.tune)."""
    from .study import tune as run

    return run(config, overrides, **kwargs)
