#!/usr/bin/env python
"""How much does trainwell cost over a hand-written PyTorch loop (and what does sklearn do)?

Trains the same MLP on the same prepared data, same epochs / batch size / optimizer / lr /
threads, three ways, interleaved over --repeats:

  1. trainwell.train(cfg, out=<tmpdir>, quiet=True): the real API (data preparation, run dir,
     a checkpoint + history line every epoch, val metrics every epoch, final metrics).
  2. a minimal hand-written loop: randperm + index batches from tensors, forward/backward/step,
     val loss + val accuracy once per epoch. Its data comes from trainwell.data.prepare(),
     called once outside the timed region, so the preprocessing is identical.
  3. sklearn.neural_network.MLPClassifier (adam, same hidden sizes, lr, batch, epochs; alpha=0).

Times reported:
  trainwell total      wall time of train(), including its own prepare() and run-dir writing
  trainwell fit()      run.json "seconds": Trainer.fit() wall time, including the per-epoch
                       callbacks (history line, checkpoint writes)
  trainwell loop       sum of history.jsonl "seconds": batches + per-epoch val evaluation only
                       (the callbacks run after that number is taken)
  hand total           model/optimizer/tensor setup + all epochs + test evaluation
  hand loop            all epochs (batches + per-epoch val evaluation)

Threads: --threads (default 1) is set once with torch.set_num_threads and applies to all three
ways (sklearn's BLAS/OpenMP pools are limited to the same number with threadpoolctl).

--breakdown (on by default) runs trainwell once more per repeat with timers wrapped around its
stages (monkeypatched in this process only; nothing in src/ changes) and prints the per-epoch
cost of each item next to the hand loop's.

    .venv/bin/python benchmarks/overhead.py [--data builtin:digits] [--epochs 30] [--batch-size 64]
                                            [--hidden 128,64] [--repeats 3] [--no-breakdown]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

TARGET = 1.05


# ----------------------------------------------------------------------------- setup
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="builtin:digits", help="data.source (default builtin:digits)")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--hidden", default="128,64", help="hidden sizes, comma separated (default 128,64)")
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1,
                   help="torch.set_num_threads (and BLAS/OpenMP threads for sklearn), the same for all three "
                        "ways; 0 = torch's default. Default 1: this MLP is too small to gain from a second "
                        "thread, and 2 OpenMP threads on a 2-core machine that is also running something else "
                        "stall at barriers (runs 5-60x slower at random), which makes the ratios meaningless")
    p.add_argument("--doctor", action=argparse.BooleanOptionalAction, default=True,
                   help="the training doctor (on by default in trainwell, so on here too)")
    p.add_argument("--report", action=argparse.BooleanOptionalAction, default=False,
                   help="let train() write report.html as it does by default (off here: the report is a "
                        "fixed cost of about 0.5-1 s per run, not training overhead)")
    p.add_argument("--tmpdir", default=None, help="where trainwell's run dirs go (default: system temp)")
    p.add_argument("--breakdown", action=argparse.BooleanOptionalAction, default=True,
                   help="also time trainwell's stages (default on)")
    a = p.parse_args(argv)
    a.hidden = [int(h) for h in a.hidden.split(",") if h.strip()]
    if a.repeats < 1 or a.epochs < 1 or a.batch_size < 1 or not a.hidden:
        p.error("--repeats, --epochs, --batch-size must be >= 1 and --hidden non-empty")
    return a


def make_cfg(a) -> dict:
    return {
        "name": "overhead",
        "seed": a.seed,
        "data": {"source": a.data},
        "model": {"type": "mlp", "hidden": list(a.hidden), "activation": "relu", "dropout": 0.0,
                  "batch_norm": False},
        "optimizer": {"name": "adam", "lr": a.lr, "weight_decay": 0.0},
        "schedule": {"name": "constant", "warmup_epochs": 0},
        "regularization": {"l1": 0.0},
        "training": {"epochs": a.epochs, "batch_size": a.batch_size, "shuffle": True, "device": "cpu",
                     "early_stopping": {"enabled": False}},
        "logging": {"report": a.report},
        "doctor": {"enabled": a.doctor},
    }


def fs_type(path: str) -> str:
    """Filesystem type of the mount holding path (from /proc/mounts), for the fsync cost."""
    try:
        real = os.path.realpath(path)
        best, kind = "", "?"
        for line in Path("/proc/mounts").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and (real == parts[1] or real.startswith(parts[1].rstrip("/") + "/")) \
                    and len(parts[1]) > len(best):
                best, kind = parts[1], parts[2]
        return kind
    except OSError:
        return "?"


# ----------------------------------------------------------------------------- the three ways
def run_trainwell(cfg: dict, out: Path) -> dict:
    import trainwell

    t0 = time.perf_counter()
    run = trainwell.train(cfg, out=out, quiet=True)
    total = time.perf_counter() - t0
    history = run.history
    assert len(history) == cfg["training"]["epochs"], "trainwell stopped early; early stopping is meant to be off"
    res = {"total": total, "fit": float(run.info["seconds"]), "loop": sum(h["seconds"] for h in history),
           "acc": run.metrics["test"]["accuracy"]}
    shutil.rmtree(out, ignore_errors=True)
    return res


def run_hand(prep, a) -> dict:
    import torch
    from torch import nn

    torch.manual_seed(a.seed)
    t0 = time.perf_counter()
    xtr, ytr = torch.as_tensor(prep.train.x), torch.as_tensor(prep.train.y)
    xva, yva = torch.as_tensor(prep.val.x), torch.as_tensor(prep.val.y)
    xte, yte = torch.as_tensor(prep.test.x), torch.as_tensor(prep.test.y)
    layers, width = [], xtr.shape[1]
    for h in a.hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    model = nn.Sequential(*layers, nn.Linear(width, len(prep.spec.classes)))
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    n, bs = len(xtr), a.batch_size
    history = []
    batch_s = val_s = 0.0
    t_loop = time.perf_counter()
    for epoch in range(a.epochs):
        t_e = time.perf_counter()
        model.train()
        perm = torch.randperm(n)
        loss_sum = 0.0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = xtr[idx], ytr[idx]
            loss = loss_fn(model(xb), yb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
        t_v = time.perf_counter()
        model.eval()
        with torch.no_grad():
            out = model(xva)
            val_loss = loss_fn(out, yva).item()
            val_acc = (out.argmax(1) == yva).float().mean().item()
        history.append({"epoch": epoch + 1, "train_loss": loss_sum / n, "val_loss": val_loss, "val_accuracy": val_acc})
        t_end = time.perf_counter()
        batch_s += t_v - t_e
        val_s += t_end - t_v
    loop = time.perf_counter() - t_loop
    model.eval()
    with torch.no_grad():
        acc = (model(xte).argmax(1) == yte).float().mean().item()
    total = time.perf_counter() - t0
    return {"total": total, "loop": loop, "acc": acc, "batch": batch_s, "val": val_s}


def run_sklearn(prep, a) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    clf = MLPClassifier(hidden_layer_sizes=tuple(a.hidden), activation="relu", solver="adam", alpha=0.0,
                        batch_size=a.batch_size, learning_rate="constant", learning_rate_init=a.lr,
                        max_iter=a.epochs, shuffle=True, random_state=a.seed, tol=0.0,
                        n_iter_no_change=a.epochs + 1, early_stopping=False)
    with threadpool_limits(limits=a.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        t0 = time.perf_counter()
        clf.fit(prep.train.x, prep.train.y)
        acc = float((clf.predict(prep.test.x) == prep.test.y).mean())
        total = time.perf_counter() - t0
    assert clf.n_iter_ == a.epochs, f"sklearn ran {clf.n_iter_} epochs, not {a.epochs}"
    return {"total": total, "acc": acc}


# ----------------------------------------------------------------------------- breakdown
class Timers:
    def __init__(self):
        self.t: dict[str, float] = {}
        self.n: dict[str, int] = {}
        self.phase = "setup"

    def add(self, key, dt):
        self.t[key] = self.t.get(key, 0.0) + dt
        self.n[key] = self.n.get(key, 0) + 1

    def wrap(self, owner, name, key):
        """Replace owner.name with a timed version; key is a str or a callable(args, kwargs) -> str."""
        original = getattr(owner, name)
        timers = self

        def timed(*args, **kwargs):
            k = key(args, kwargs) if callable(key) else key
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                timers.add(k, time.perf_counter() - t0)

        setattr(owner, name, timed)
        return owner, name, original


@contextlib.contextmanager
def instrumented(timers: Timers):
    """Timers around trainwell's stages; everything is put back on exit."""
    from trainwell import api, data, metrics
    from trainwell.training import callbacks, checkpoint, loop

    restore = []
    w = lambda *x: restore.append(timers.wrap(*x))  # noqa: E731
    w(data, "prepare", "prepare()")
    w(api, "_score", lambda args, kw: f"{timers.phase}: _score (forward + loss + metrics)")
    w(metrics, "compute", lambda args, kw: f"{timers.phase}: sklearn metrics.compute")
    w(callbacks.HistoryWriter, "on_epoch_end", "fit: history line (HistoryWriter)")
    w(callbacks.Checkpoint, "on_epoch_end", "fit: Checkpoint.on_epoch_end (all)")
    w(loop.Trainer, "state", "fit: Trainer.state() (state_dict copies)")
    w(checkpoint, "pack", lambda args, kw: f"{timers.phase}: checkpoint.pack (safetensors bytes)")
    w(checkpoint, "save", lambda args, kw: f"{timers.phase}: checkpoint.save {Path(args[0]).name}")
    w(checkpoint, "write_atomic", lambda args, kw: f"{timers.phase}: write_atomic (all files)")
    w(os, "fsync", lambda args, kw: f"{timers.phase}: os.fsync")

    original_fit = loop.Trainer.fit

    def fit(self):
        timers.phase = "fit"
        t0 = time.perf_counter()
        try:
            return original_fit(self)
        finally:
            timers.add("Trainer.fit() wall", time.perf_counter() - t0)
            timers.phase = "after"

    loop.Trainer.fit = fit
    restore.append((loop.Trainer, "fit", original_fit))
    try:
        yield
    finally:
        for owner, name, original in reversed(restore):
            setattr(owner, name, original)


def per_batch_extras(a, prep, reps=2000) -> dict:
    """Microbenchmark of the per-batch work trainwell's loop does beyond the hand loop."""
    import torch

    n_cls = len(prep.spec.classes)
    out = torch.randn(a.batch_size, n_cls)
    yb = torch.randint(0, n_cls, (a.batch_size,))
    loss = torch.tensor(1.0)
    loss_sum, correct = torch.tensor(0.0), torch.tensor(0.0)
    count_correct = lambda o, y: (o.argmax(1) == y).sum()  # noqa: E731 (as in api.train)
    idx = torch.arange(a.batch_size)

    t0 = time.perf_counter()
    for _ in range(reps):
        loss_sum += loss.detach() * len(idx)
        correct += count_correct(out.detach(), yb)
    trainwell_s = (time.perf_counter() - t0) / reps
    s = 0.0
    t0 = time.perf_counter()
    for _ in range(reps):
        s += loss.item() * len(idx)
    hand_s = (time.perf_counter() - t0) / reps
    return {"trainwell": trainwell_s, "hand": hand_s}


def _numpy_accuracy_compute(original):
    """metrics.compute with the per-epoch accuracy done in numpy (final metrics still go to sklearn)."""
    def compute(names, task, y, out):
        if list(names) == ["accuracy"] and task != "regression":
            return {"accuracy": float((out.argmax(axis=1) == y).mean())}
        return original(names, task, y, out)
    return compute


def ablations():
    """What-if variants of trainwell.train, made by monkeypatching this process (src/ is untouched)."""
    from trainwell import metrics
    from trainwell.training import callbacks

    noop = lambda *args, **kwargs: None  # noqa: E731
    fast = _numpy_accuracy_compute(metrics.compute)
    return {
        "no fsync (os.fsync no-op)": [(os, "fsync", noop)],
        "no per-epoch checkpoint files": [(callbacks.Checkpoint, "on_epoch_end", noop)],
        "per-epoch accuracy in numpy, not sklearn": [(metrics, "compute", fast)],
        "no per-epoch checkpoint + numpy accuracy": [(callbacks.Checkpoint, "on_epoch_end", noop),
                                                     (metrics, "compute", fast)],
    }


def run_trainwell_patched(cfg: dict, out: Path, patches) -> dict:
    saved = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    try:
        for owner, name, value in patches:
            setattr(owner, name, value)
        return run_trainwell(cfg, out)
    finally:
        for owner, name, value in reversed(saved):
            setattr(owner, name, value)


# ----------------------------------------------------------------------------- main
def med(xs):
    return statistics.median(xs)


def main(argv=None) -> int:
    a = parse_args(argv)
    import numpy as np
    import sklearn
    import torch

    import trainwell
    from trainwell.config import load_config
    from trainwell.data import prepare

    if a.threads:
        torch.set_num_threads(a.threads)
    a.threads = torch.get_num_threads()
    try:
        load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        load_start = "?"

    cfg = make_cfg(a)
    tconf = load_config(cfg)
    t0 = time.perf_counter()
    prep = prepare(tconf.data, tconf.seed)
    first_prepare = time.perf_counter() - t0
    if prep.spec.task == "regression" or prep.val is None or prep.test is None:
        print("this benchmark needs a classification data set with val and test splits", file=sys.stderr)
        return 2
    n_train = len(prep.train.y)
    bpe = -(-n_train // a.batch_size)

    root = Path(tempfile.mkdtemp(prefix="trainwell-overhead-", dir=a.tmpdir))
    counter = iter(range(10**9))
    new_out = lambda: root / f"run{next(counter)}"  # noqa: E731

    # Warm-up (untimed): imports, allocator, first-call costs, for all three ways.
    warm = argparse.Namespace(**{**vars(a), "epochs": 2})
    run_trainwell(make_cfg(warm), new_out())
    run_hand(prep, warm)
    run_sklearn(prep, warm)

    res = {"trainwell": [], "hand": [], "sklearn": [], "prepare": [], "breakdown": [], "whatif": {}}
    variants = ablations() if a.breakdown else {}
    ways = [("trainwell", lambda: run_trainwell(cfg, new_out())), ("hand", lambda: run_hand(prep, a)),
            ("sklearn", lambda: run_sklearn(prep, a))]
    bench_t0 = time.perf_counter()
    for r in range(a.repeats):
        for k in range(len(ways)):  # rotate the order each repeat: interleaved, no fixed position
            name, fn = ways[(k + r) % len(ways)]
            res[name].append(fn())
        t0 = time.perf_counter()
        p2 = prepare(tconf.data, tconf.seed)
        res["prepare"].append(time.perf_counter() - t0)
        assert np.array_equal(p2.test.x, prep.test.x) and np.array_equal(p2.train.x, prep.train.x)
        if a.breakdown:
            timers = Timers()
            with instrumented(timers):
                out = new_out()
                t0 = time.perf_counter()
                run = trainwell.train(cfg, out=out, quiet=True)
                timers.add("train() wall (instrumented)", time.perf_counter() - t0)
                timers.add("history seconds sum", sum(h["seconds"] for h in run.history))
            shutil.rmtree(out, ignore_errors=True)
            res["breakdown"].append(timers)
            for label, patches in variants.items():
                res["whatif"].setdefault(label, []).append(run_trainwell_patched(cfg, new_out(), patches))
    bench_s = time.perf_counter() - bench_t0
    shutil.rmtree(root, ignore_errors=True)

    # ------------------------------------------------------------------ report
    tw, hd, sk = res["trainwell"], res["hand"], res["sklearn"]
    E = a.epochs
    aff = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    print("trainwell overhead benchmark")
    print(f"machine: torch {torch.__version__}, torch threads {a.threads} (interop {torch.get_num_interop_threads()}), "
          f"os.cpu_count {os.cpu_count()}, affinity {aff}, loadavg at start {load_start}")
    print(f"         python {platform.python_version()}, numpy {np.__version__}, sklearn {sklearn.__version__} "
          f"(BLAS threads limited to {a.threads}), {platform.machine()} {platform.system()}; "
          f"run dirs on {fs_type(str(root.parent))} ({root.parent})")
    print(f"data:    {a.data}: train {n_train} / val {len(prep.val.y)} / test {len(prep.test.y)} rows, "
          f"{prep.spec.n_features} features, {len(prep.spec.classes)} classes (trainwell.data.prepare, seed {a.seed})")
    print(f"model:   MLP {prep.spec.n_features}-{'-'.join(map(str, a.hidden))}-{len(prep.spec.classes)} relu, "
          f"adam lr {a.lr:g}, batch {a.batch_size} ({bpe} batches/epoch), {E} epochs, "
          f"{a.repeats} interleaved repeats (+1 warm-up each)")
    print()
    rows = [
        ("trainwell train() total", [x["total"] for x in tw], tw[0]["acc"]),
        ("  fit() incl. callbacks", [x["fit"] for x in tw], None),
        ("  loop (history seconds)", [x["loop"] for x in tw], None),
        ("hand loop total", [x["total"] for x in hd], hd[0]["acc"]),
        ("  loop (all epochs)", [x["loop"] for x in hd], None),
        ("sklearn MLPClassifier", [x["total"] for x in sk], sk[0]["acc"]),
        ("prepare() alone (ref.)", res["prepare"], None),
    ]
    print(f"{'way':<26}{'median s':>10}{'min s':>9}{'max s':>9}{'ms/epoch':>10}{'test acc':>10}")
    for label, xs, acc in rows:
        per_epoch = "" if label.startswith("prepare") else f"{1000 * med(xs) / E:.2f}"
        print(f"{label:<26}{med(xs):>10.3f}{min(xs):>9.3f}{max(xs):>9.3f}{per_epoch:>10}"
              f"{'' if acc is None else f'{acc:.4f}':>10}")
    spreads = {label.strip(): max(xs) / min(xs) for label, xs, _ in rows if min(xs) > 0}
    noisy = {k: v for k, v in spreads.items() if v > 1.3}
    if noisy:
        print("WARNING: noisy machine (max/min over repeats > 1.3 for "
              + ", ".join(f"{k} {v:.1f}x" for k, v in noisy.items())
              + "); another process is probably using the CPU. Compare the per-repeat ratios, "
                "or rerun with more --repeats when the machine is quiet.")
    accs = {k: sorted({round(x['acc'], 4) for x in v}) for k, v in (("trainwell", tw), ("hand", hd), ("sklearn", sk))}
    if any(len(v) > 1 for v in accs.values()):
        print(f"(test accuracy varied across repeats: {accs})")
    print()

    def ratio(num, den):
        return med(num) / med(den), [n / d for n, d in zip(num, den)]

    r_total = ratio([x["total"] for x in tw], [x["total"] for x in hd])
    r_loop = ratio([x["loop"] for x in tw], [x["loop"] for x in hd])
    r_fit = ratio([x["fit"] for x in tw], [x["loop"] for x in hd])
    r_sk = ratio([x["total"] for x in sk], [x["total"] for x in hd])
    r_prep = ratio([x["total"] for x in tw], [x["total"] + p for x, p in zip(hd, res["prepare"])])
    fmt = lambda r: f"{r[0]:5.2f}x  (per repeat: {', '.join(f'{v:.2f}' for v in r[1])})"  # noqa: E731
    print("ratios (median / median)")
    print(f"  trainwell/hand, total     {fmt(r_total)}   trainwell's includes prepare(), run dir, final metrics")
    print(f"  trainwell/hand, loop-only {fmt(r_loop)}   history seconds vs hand epochs (batches + val eval)")
    print(f"  trainwell/hand, fit()     {fmt(r_fit)}   run.json seconds: adds per-epoch checkpoint + history")
    print(f"  trainwell/(hand+prepare)  {fmt(r_prep)}   hand total plus a timed prepare() of the same data")
    print(f"  sklearn/hand, total       {fmt(r_sk)}")
    print()
    print(f"target: trainwell <= {TARGET:.2f}x the hand-written loop")
    print(f"  loop-only  {r_loop[0]:.2f}x  {'PASS' if r_loop[0] <= TARGET else 'FAIL'}")
    print(f"  total      {r_total[0]:.2f}x  {'PASS' if r_total[0] <= TARGET else 'FAIL'}")

    if a.breakdown:
        print_breakdown(res["breakdown"], hd, a, prep, bpe)
        print_whatif(res["whatif"], tw, hd, a)
    print()
    print(f"(benchmark section took {bench_s:.1f} s; first prepare() call {first_prepare:.3f} s)")
    return 0


def print_breakdown(runs: list[Timers], hd: list[dict], a, prep, bpe: int) -> None:
    E = a.epochs
    keys = sorted({k for t in runs for k in t.t})
    m = {k: med([t.t.get(k, 0.0) for t in runs]) for k in keys}
    calls = {k: max(t.n.get(k, 0) for t in runs) for k in keys}
    ms = lambda s: 1000 * s / E  # noqa: E731  per-epoch milliseconds

    hand_batch = med([x["batch"] for x in hd])
    hand_val = med([x["val"] for x in hd])
    hand_loop = med([x["loop"] for x in hd])
    val_score = m.get("fit: _score (forward + loss + metrics)", 0.0)
    val_metrics = m.get("fit: sklearn metrics.compute", 0.0)
    hist_sum = m.get("history seconds sum", 0.0)
    tw_batches = hist_sum - val_score
    fit_wall = m.get("Trainer.fit() wall", 0.0)
    extras = per_batch_extras(a, prep)

    print()
    print(f"breakdown: trainwell stages, median of {len(runs)} instrumented runs (timers add a little), "
          f"in ms per epoch ({E} epochs, {bpe} batches/epoch)")
    print(f"  {'item':<52}{'ms/epoch':>9}   {'hand loop':>9}")
    line = lambda label, s, hand=None: print(  # noqa: E731
        f"  {label:<52}{ms(s):>9.2f}   {'' if hand is None else f'{ms(hand):>9.2f}'}")
    line("batch loop (history seconds - val eval)", tw_batches, hand_batch)
    print(f"    {'of which extra per-batch bookkeeping (microbench)':<50}"
          f"{1000 * bpe * (extras['trainwell'] - extras['hand']):>9.2f}"
          f"   (loss_sum/correct tensors {1e6 * extras['trainwell']:.1f} us vs loss.item() "
          f"{1e6 * extras['hand']:.1f} us per batch)")
    line("val eval per epoch (_score)", val_score, hand_val)
    line("  of which sklearn metrics.compute (accuracy_score)", val_metrics)
    line("  of which forward + loss + softmax + numpy", val_score - val_metrics)
    line("loop total (history seconds sum)", hist_sum, hand_loop)
    line("history line (HistoryWriter.on_epoch_end)", m.get("fit: history line (HistoryWriter)", 0.0))
    ck = m.get("fit: Checkpoint.on_epoch_end (all)", 0.0)
    line("checkpoint (Checkpoint.on_epoch_end)", ck)
    line("  Trainer.state() (state_dict, optimizer flatten)", m.get("fit: Trainer.state() (state_dict copies)", 0.0))
    line("  checkpoint.pack -> bytes (clone + safetensors)", m.get("fit: checkpoint.pack (safetensors bytes)", 0.0))
    line("  write_atomic (mkstemp + write + fsync + rename)", m.get("fit: write_atomic (all files)", 0.0))
    line("    of which os.fsync", m.get("fit: os.fsync", 0.0))
    print(f"    (last.safetensors saved {calls.get('fit: checkpoint.save last.safetensors', 0)}x, "
          f"best.safetensors {calls.get('fit: checkpoint.save best.safetensors', 0)}x per run)")
    rest = fit_wall - hist_sum - m.get("fit: history line (HistoryWriter)", 0.0) - ck
    line("fit() remainder (randperm, emit, ...; medians, may be < 0)", rest)
    line("Trainer.fit() wall", fit_wall, hand_loop)
    print("  outside fit(), per run (s):")
    wall = m.get("train() wall (instrumented)", 0.0)
    prep_s = m.get("prepare()", 0.0)
    final = m.get("after: _score (forward + loss + metrics)", 0.0)
    final_m = m.get("after: sklearn metrics.compute", 0.0)
    writes_before = m.get("setup: write_atomic (all files)", 0.0)
    writes_after = m.get("after: write_atomic (all files)", 0.0)
    other = wall - fit_wall - prep_s - final - writes_before - writes_after
    for label, s in (("prepare() (data load, clean, split, scale)", prep_s),
                     ("run-dir JSON writes before fit (atomic + fsync)", writes_before),
                     ("final metrics on val + test (all 8 metrics)", final),
                     ("  of which sklearn metrics.compute", final_m),
                     ("run-dir writes after fit (metrics/run.json...)", writes_after),
                     ("other (config, model build, imports, model.safetensors)", other),
                     ("train() wall (instrumented)", wall)):
        print(f"    {label:<58}{s:>8.3f}")


def print_whatif(whatif: dict, tw: list[dict], hd: list[dict], a) -> None:
    E = a.epochs
    hand_loop, hand_total = med([x["loop"] for x in hd]), med([x["total"] for x in hd])
    print()
    print(f"what-if: trainwell.train() with one thing switched off by monkeypatching (src/ unchanged), "
          f"median of {a.repeats}")
    print(f"  {'variant':<44}{'loop ms/ep':>11}{'fit ms/ep':>10}{'total s':>9}"
          f"{'loop/hand':>10}{'fit/hand':>9}{'total/hand':>11}")
    rows = [("as shipped", tw)] + list(whatif.items())
    for label, xs in rows:
        loop, fit, total = med([x["loop"] for x in xs]), med([x["fit"] for x in xs]), med([x["total"] for x in xs])
        print(f"  {label:<44}{1000 * loop / E:>11.2f}{1000 * fit / E:>10.2f}{total:>9.3f}"
              f"{loop / hand_loop:>9.2f}x{fit / hand_loop:>8.2f}x{total / hand_total:>10.2f}x")
    print(f"  {'hand loop':<44}{1000 * hand_loop / E:>11.2f}{1000 * hand_loop / E:>10.2f}{hand_total:>9.3f}")


if __name__ == "__main__":
    sys.exit(main())
