"""Tuning benchmark: TPE + Hyperband against random search without pruning, side by side.

Same task (an MLP on scikit-learn's digits, or a small CNN with --model cnn), same search space,
same number of trials. Prints each study's best validation accuracy, the epochs it trained, the
share of epochs pruning saved, Optuna's own time per trial as a share of the trial's time, split
into a fixed part per trial (ask, sampling, attributes, tell) and a part per epoch (reports,
pruning), and the speed-up of --jobs 2 over --jobs 1 (random search, no pruning, so both do the
same work).

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tuning.py [--trials 24] [--seeds 1] [--jobs-trials 12] [--model mlp|cnn]

Goals (issue 5): equal or better score with >= 40% fewer epochs; Optuna overhead <= 1% of a trial.
Not run by CI; figures depend on the machine (2 shared cores here).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


# --model cnn: the same study on a small CNN over the 8x8 images, whose epochs take several times
# an MLP's: Optuna's cost per trial barely changes, so it shows the share on longer trials.
MODELS = {
    "mlp": ({"type": "mlp", "hidden": [64]},
            ("model.hidden", [[16], [32], [64], [128, 64], [256, 128]])),
    "cnn": ({"type": "cnn", "blocks": [{"channels": 16, "kernel": 3, "pool": "max", "pool_size": 2}], "head": [64]},
            ("model.head", [[32], [64], [128], [128, 64], [256, 128]])),
}


def config(seed: int, sampler: str, pruner: str, model: str = "mlp") -> dict:
    net, (width_key, widths) = MODELS[model]
    return {
        "name": f"bench-{sampler}-{pruner}",
        "seed": seed,
        "data": {"source": "builtin:digits"},
        "model": net,
        "optimizer": {"name": "adam", "lr": 1e-3},
        "training": {"epochs": 30, "batch_size": 64, "threads": 1, "checkpoint_interval": 60,
                     "early_stopping": {"monitor": "val_loss", "patience": 6}},
        "tune": {
            "metric": "val_accuracy", "sampler": sampler, "pruner": pruner,
            "startup_trials": 5, "warmup_epochs": 3, "seed": seed,
            "space": {
                "optimizer.name": ["adam", "sgd"],
                "optimizer.lr": {"type": "float", "low": 1e-5, "high": 0.3, "log": True},
                "optimizer.momentum": {"type": "float", "low": 0.0, "high": 0.95, "when": {"optimizer.name": "sgd"}},
                width_key: widths,
                "model.dropout": {"type": "float", "low": 0.0, "high": 0.5},
                "training.batch_size": [32, 64, 128, 256],
            },
        },
    }


def run(cfg: dict, trials: int, folder: Path, jobs: int = 1) -> dict:
    from trainwell.tuning.study import tune

    started = time.perf_counter()
    result = tune(cfg, trials=trials, jobs=jobs, out=folder, quiet=True)
    wall = time.perf_counter() - started
    call = result["this_call"]
    trials, epoch_s = max(call["trials_run"], 1), call.get("optuna_epoch_seconds")
    return {"best": result["best"]["value"] if "best" in result else float("nan"),
            "epochs": result["epochs"], "complete": result["complete"], "pruned": result["pruned"],
            "failed": result["failed"], "wall": wall,
            "overhead": call["optuna_seconds"] / max(call["trial_seconds"], 1e-9),
            "optuna_per_trial_ms": 1000 * call["optuna_seconds"] / trials,
            # the split (None from a trainwell that does not measure it)
            "optuna_fixed_ms": None if epoch_s is None else 1000 * (call["optuna_seconds"] - epoch_s) / trials,
            "optuna_per_epoch_ms": None if epoch_s is None else 1000 * epoch_s / max(call["epochs"], 1),
            "trial_s": call["trial_seconds"] / trials}


def split(r: dict) -> str:
    if r["optuna_fixed_ms"] is None:
        return ""
    return f" ({r['optuna_fixed_ms']:.1f} ms fixed + {r['optuna_per_epoch_ms']:.3f} ms/epoch)"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=24)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--jobs-trials", type=int, default=12, help="trials for the --jobs 1 vs 2 timing (0: skip)")
    ap.add_argument("--model", choices=sorted(MODELS), default="mlp")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(1)
    root = Path(tempfile.mkdtemp(prefix="trainwell-tuning-bench-"))
    rows = {"tpe+hyperband": [], "random, no pruning": []}
    for seed in range(args.seeds):
        for label, sampler, pruner in (("tpe+hyperband", "tpe", "hyperband"), ("random, no pruning", "random", "none")):
            r = run(config(seed, sampler, pruner, args.model), args.trials, root / f"{sampler}-{pruner}-{seed}")
            rows[label].append(r)
            print(f"seed {seed} {label:20s} best val_accuracy {r['best']:.4f}  epochs {r['epochs']:4d}  "
                  f"complete {r['complete']:2d} pruned {r['pruned']:2d} failed {r['failed']:2d}  "
                  f"wall {r['wall']:.1f} s  optuna {r['optuna_per_trial_ms']:.1f} ms/trial = "
                  f"{100 * r['overhead']:.2f}% of {r['trial_s']:.2f} s/trial{split(r)}", flush=True)

    print(f"\n{args.trials} trials per study, digits {args.model.upper()}, up to 30 epochs per trial, {args.seeds} seed(s):")
    print(f"{'study':22s} {'best val acc':>12s} {'epochs':>7s} {'wall s':>7s} {'optuna/trial':>13s}")
    for label, rs in rows.items():
        print(f"{label:22s} {statistics.mean(r['best'] for r in rs):12.4f} "
              f"{statistics.mean(r['epochs'] for r in rs):7.0f} {statistics.mean(r['wall'] for r in rs):7.1f} "
              f"{100 * statistics.mean(r['overhead'] for r in rs):12.2f}%")
    tpe, rnd = rows["tpe+hyperband"], rows["random, no pruning"]
    saved = 1 - sum(r["epochs"] for r in tpe) / sum(r["epochs"] for r in rnd)
    print(f"epochs saved by pruning: {100 * saved:.1f}% (goal >= 40%)")
    print(f"score: tpe+hyperband {statistics.mean(r['best'] for r in tpe):.4f} vs random "
          f"{statistics.mean(r['best'] for r in rnd):.4f} (goal: equal or better)")
    print(f"Optuna overhead per trial: {100 * statistics.mean(r['overhead'] for r in tpe + rnd):.2f}% of trial time "
          f"(goal <= 1%)")

    # --jobs: the same random, unpruned study with 1 and with 2 worker processes.
    walls = {}
    for jobs in (1, 2) if args.jobs_trials else ():
        r = run(config(100, "random", "none", args.model), args.jobs_trials, root / f"jobs-{jobs}", jobs=jobs)
        walls[jobs] = r["wall"]
        print(f"--jobs {jobs}: {args.jobs_trials} trials in {r['wall']:.1f} s ({r['epochs']} epochs)", flush=True)
    if walls:
        print(f"speed-up of --jobs 2 over --jobs 1: {walls[1] / walls[2]:.2f}x (includes the second process's start-up)")
    print(f"studies in {root}")


if __name__ == "__main__":
    main()
