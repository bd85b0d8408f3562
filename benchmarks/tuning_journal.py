"""A trial's start in the study journal: trainwell's one append against Optuna's one per record.

Two studies on the same journal backend, same sampler and seed, told the same values; trial by
trial, one samples the benchmark's six-parameter space (tuning.py) with its records held and
written in one append, the other with Optuna's append per record. Prints the median time of a
trial's start (its worker attribute and every parameter), checks that both drew the same samples,
and that a fresh reader (Optuna's own backend, as optuna-dashboard) reads the held study back.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tuning_journal.py [--sampler tpe] [--trials 40]
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sampler", default="tpe", choices=["tpe", "random", "cmaes", "gp"])
    ap.add_argument("--trials", type=int, default=40)
    args = ap.parse_args()

    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    from trainwell.config import load_config
    from trainwell.tuning import search, storage as mod
    from trainwell.tuning.space import Space
    from tuning import config

    mod._quiet_optuna()
    cfg = load_config(config(0, args.sampler, "none"))
    studies = {}
    for mode in ("one append per record", "held, one append"):
        folder = Path(tempfile.mkdtemp(prefix="trainwell-journal-bench-"))
        study = optuna.create_study(storage=mod.open_storage(None, folder), study_name="s", direction="maximize")
        space = Space(cfg, None)
        study.sampler = search.build_sampler(cfg, space, 1)
        studies[mode] = (study, space, folder, [])
    for i in range(args.trials):
        value = random.Random(i).random()
        for mode, (study, space, _, times) in studies.items():
            trial = study.ask()
            started = time.perf_counter()
            with mod._held_writes(trial) if mode.startswith("held") else contextlib.nullcontext():
                trial.set_user_attr("worker", {"host": "bench", "pid": 0})
                space.sample(trial)
            times.append(time.perf_counter() - started)
            study.tell(trial, value)
    warm = min(5, args.trials - 1)  # the first trials import Optuna's sampler code
    for mode, (_, _, _, times) in studies.items():
        print(f"{args.sampler:7s} {mode:22s} median {1000 * statistics.median(times[warm:]):.2f} ms per trial start")
    (held, _, folder, _), (each, *_) = studies["held, one append"], studies["one append per record"]
    assert [t.params for t in held.trials] == [t.params for t in each.trials], "the samples differ"
    again = optuna.load_study(study_name="s", storage=JournalStorage(JournalFileBackend(str(folder / mod.JOURNAL))))
    assert [(t.params, t.user_attrs) for t in again.trials] == [(t.params, t.user_attrs) for t in held.trials]
    print("same samples; the held journal reads back the same with Optuna's own backend")


if __name__ == "__main__":
    main()
