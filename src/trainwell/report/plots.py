"""The report's plots: plain values in, PNG bytes out (matplotlib, Agg, no pyplot).

`matplotlib.figure.Figure` is used directly rather than pyplot: no global figure registry to
leak or to share with other threads, and no interactive backend is ever touched.
Figures are sized for a page about 1000 px wide at 100 dpi, with 10-11 pt text.
"""

from __future__ import annotations

import io
import math

import matplotlib

matplotlib.use("Agg")
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

DPI = 100
WIDE = (10, 3.8)
MAX_LAYERS = 12  # lines per gradient panel; beyond that the legend is unreadable

matplotlib.rcParams.update({
    "font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3,
})


def to_png(fig: Figure) -> bytes:
    # Fast settings, measured: bbox_inches="tight" and tight_layout() each cost a full extra draw
    # (about half of a plot's time), and zlib level 1 saves a third of the PNG encoding for
    # files about 1.5x larger. The report is written at the end of every train, so it counts.
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, pil_kwargs={"compress_level": 1})
    return buf.getvalue()


def layout(fig: Figure, *, left: float = 0.8, right: float = 0.25, top: float = 0.45, bottom: float = 0.6,
           wspace: float = 0.28) -> None:
    """Fixed margins in inches (instead of tight_layout, which draws the figure once more)."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=left / w, right=1 - right / w, top=1 - top / h, bottom=bottom / h, wspace=wspace)


def _finite(values) -> list[float]:
    return [float(v) if isinstance(v, (int, float)) and math.isfinite(v) else float("nan") for v in values]


def _spread(values) -> float:
    pos = [v for v in values if v == v and v > 0]
    return max(pos) / min(pos) if pos else 1.0


def _legend_below(fig, axes, ncol_max: int = 6, **kw) -> int:
    """One legend under the panels, from every panel's labelled lines (each label once); none when
    no panel drew one (a run whose losses were NaN from the first epoch). Returns its rows."""
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen:
        return 0
    fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(len(seen), ncol_max), frameon=False,
               bbox_to_anchor=(0.5, 0), **kw)
    return -(-len(seen) // ncol_max)


def _say_empty(ax, what: str) -> None:
    ax.text(0.5, 0.5, f"no finite {what} to draw", transform=ax.transAxes, ha="center", va="center",
            fontsize=9, color="0.35")


def _mark_epochs(ax, best_epoch, stop_epoch) -> None:
    if best_epoch:
        ax.axvline(best_epoch, color="C2", linestyle="--", linewidth=1.2, label=f"best epoch ({best_epoch})")
    if stop_epoch:
        ax.axvline(stop_epoch, color="C3", linestyle=":", linewidth=1.5, label=f"early stop (epoch {stop_epoch})")


def learning_curves(history: list[dict], loss_name: str, metric: str | None, best_epoch: int | None,
                    stop_epoch: int | None) -> bytes:
    """Loss (train vs val) and the monitored metric (train vs val) per epoch, best epoch and
    early stop marked."""
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    panels = [("loss", f"loss ({loss_name})")]
    if metric:
        panels.append((metric, metric.replace("_", " ")))
    fig = Figure(figsize=(WIDE[0], 3.8) if len(panels) == 2 else (7, 3.8))
    axes = fig.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, label) in zip(axes, panels):
        drawn = []
        for split, style in (("train", dict(color="C0")), ("val", dict(color="C1"))):
            values = _finite(h.get(f"{split}_{key}") for h in history)
            if any(v == v for v in values):
                ax.plot(epochs, values, marker="o" if len(epochs) < 15 else None, markersize=3,
                        linewidth=1.6, label="training" if split == "train" else "validation", **style)
                drawn += values
        if not any(v == v for v in drawn):
            _say_empty(ax, "values (NaN or infinite in every epoch)")
        if key == "loss" and _spread(drawn) > 100:
            ax.set_yscale("log")
            label += " (log scale)"
        _mark_epochs(ax, best_epoch, stop_epoch)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # no epoch 2.5 on short runs
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.set_title(f"{label.split(' (')[0]}: training vs validation")
    # One legend under both panels: inside, it covered the curves or the epoch marks.
    _legend_below(fig, axes)
    layout(fig, bottom=0.95, left=0.85)
    return to_png(fig)


def lr_curve(history: list[dict]) -> bytes:
    epochs = [h.get("epoch", i + 1) for i, h in enumerate(history)]
    lrs = _finite(h.get("lr") for h in history)
    fig = Figure(figsize=(7, 3.2))
    ax = fig.subplots()
    ax.plot(epochs, lrs, color="C4", linewidth=1.8, marker="o" if len(epochs) < 15 else None, markersize=3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    if _spread(lrs) > 20:
        ax.set_yscale("log")
        ax.set_ylabel("learning rate (log scale)")
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-3, 3)) if ax.get_yscale() == "linear" else None
    ax.set_title("learning rate at the end of each epoch")
    layout(fig, left=0.9)
    return to_png(fig)


def _pick_layers(names: list[str]) -> list[str]:
    if len(names) <= MAX_LAYERS:
        return names
    step = (len(names) - 1) / (MAX_LAYERS - 1)
    return [names[round(i * step)] for i in range(MAX_LAYERS)]


def gradient_norms(records: list[dict], steps_per_epoch: float | None = None) -> bytes:
    """Per-layer gradient norm and update-to-weight ratio at each doctor check, log scale."""
    names = list(dict.fromkeys(n for r in records for n in (r.get("grad_norms") or {})))
    shown = _pick_layers(names)
    has_ratio = any(r.get("update_ratio") for r in records)
    fig = Figure(figsize=(WIDE[0], 4.0) if has_ratio else (7, 4.0))
    axes = fig.subplots(1, 2 if has_ratio else 1, squeeze=False)[0]
    cmap = matplotlib.colormaps["viridis"]
    colors = {n: cmap(i / max(len(shown) - 1, 1) * 0.9) for i, n in enumerate(shown)}
    x_of = (lambda r: r["step"] / steps_per_epoch) if steps_per_epoch else (lambda r: r["step"])
    xlabel = "epoch" if steps_per_epoch else "training step (mini-batch)"
    for ax, key, title, ylabel in ((axes[0], "grad_norms", "gradient norm per layer", "gradient L2 norm (log)"),
                                   *(((axes[1], "update_ratio", "update-to-weight ratio per layer",
                                       "|Δw| / |w| per step (log)"),) if has_ratio else ())):
        for n in shown:
            pts = [(x_of(r), r[key][n]) for r in records if n in (r.get(key) or {})
                   and isinstance(r[key][n], (int, float)) and math.isfinite(r[key][n]) and r[key][n] > 0]
            if pts:
                xs, ys = zip(*pts)
                ax.plot(xs, ys, color=colors[n], linewidth=1.3, marker="." if len(xs) < 40 else None, label=n)
        if not ax.get_lines():
            _say_empty(ax, "values above 0")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        if key == "update_ratio":
            ax.axhline(1e-3, color="0.45", linestyle="--", linewidth=1)
            ax.text(0.99, 1e-3, "typical ≈ 1e-3", transform=ax.get_yaxis_transform(), ha="right", va="bottom",
                    fontsize=8, color="0.3", bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
    # The legend goes under the panels: beside them it squeezed both plots.
    rows = _legend_below(fig, axes, title="layer, from input to output", title_fontsize=9)
    layout(fig, bottom=0.95 + 0.2 * rows, left=0.85, wspace=0.32)
    return to_png(fig)


def confusion_matrix(cm: list[list[int]], labels: list[str]) -> bytes:
    """Counts, shaded by the share of each true class (row), so small classes show their errors too."""
    import numpy as np

    m = np.asarray(cm, dtype=float)
    k = m.shape[0]
    share = m / np.maximum(m.sum(axis=1, keepdims=True), 1)
    side = min(max(3.6, 0.36 * k + 1.8), 9)
    fig = Figure(figsize=(side + 1.2, side))
    ax = fig.subplots()
    ax.grid(False)
    im = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    cbar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    cbar.set_label("share of the true class")
    if k <= 25:
        for i in range(k):
            for j in range(k):
                if m[i, j]:
                    ax.text(j, i, f"{int(m[i, j])}", ha="center", va="center", fontsize=9 if k <= 12 else 7,
                            color="white" if share[i, j] > 0.55 else "black")
    ticks = list(range(k))
    shown = [str(x)[:14] for x in labels] if len(labels) == k else [str(i) for i in ticks]
    ax.set_xticks(ticks, shown, rotation=45 if max(map(len, shown)) > 3 else 0, ha="right" if max(map(len, shown)) > 3 else "center")
    ax.set_yticks(ticks, shown)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(f"confusion matrix on the test split ({int(m.sum())} rows)")
    longest = max(map(len, shown)) if shown else 1
    layout(fig, left=0.55 + 0.07 * longest, bottom=0.55 + (0.05 * longest if longest > 3 else 0), right=1.0)
    return to_png(fig)


def regression(y_true, y_pred, target: str) -> bytes:
    """Predicted against actual (the diagonal is perfect) and residuals against predicted."""
    import numpy as np

    y, p = np.asarray(y_true, dtype=float).ravel(), np.asarray(y_pred, dtype=float).ravel()
    fig = Figure(figsize=WIDE)
    a, b = fig.subplots(1, 2)
    alpha = 0.6 if len(y) < 2000 else 0.25
    a.scatter(y, p, s=12, alpha=alpha, color="C0", edgecolors="none")
    lo, hi = float(np.nanmin([y.min(), p.min()])), float(np.nanmax([y.max(), p.max()]))
    a.plot([lo, hi], [lo, hi], color="C3", linestyle="--", linewidth=1.2, label="perfect (predicted = actual)")
    a.set_xlabel(f"actual {target}")
    a.set_ylabel(f"predicted {target}")
    a.set_title(f"predicted vs actual on the test split ({len(y)} values)")
    a.legend(loc="upper left")
    resid = y - p
    b.scatter(p, resid, s=12, alpha=alpha, color="C1", edgecolors="none")
    b.axhline(0, color="C3", linestyle="--", linewidth=1.2)
    b.set_xlabel(f"predicted {target}")
    b.set_ylabel("residual (actual − predicted)")
    b.set_title("residuals")
    layout(fig, left=0.85, wspace=0.3)
    return to_png(fig)


# ----------------------------------------------------------------------------- studies
def optimization_history(trials: list[dict], metric: str, maximize: bool) -> bytes:
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    done = [t for t in trials if t["state"] == "COMPLETE" and t["value"] is not None]
    ax.scatter([t["number"] for t in done], [t["value"] for t in done], s=22, color="C0", label="complete trial",
               zorder=3)
    pruned = [t for t in trials if t["state"] == "PRUNED" and t.get("intermediate")]
    if pruned:
        last = [list(t["intermediate"].values())[-1] for t in pruned]
        ax.scatter([t["number"] for t in pruned], last, s=22, marker="x", color="0.55",
                   label="pruned trial (its last reported value)", zorder=2)
    best, xs, ys = None, [], []
    for t in sorted(done, key=lambda t: t["number"]):
        if best is None or (t["value"] > best if maximize else t["value"] < best):
            best = t["value"]
        xs.append(t["number"])
        ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", color="C3", linewidth=1.6, label="best so far")
    ax.set_xlabel("trial number")
    ax.set_ylabel(f"{metric} ({'higher' if maximize else 'lower'} is better)")
    ax.set_title("optimization history")
    ax.legend(loc="best")
    layout(fig, left=0.9)
    return to_png(fig)


def importances(values: dict[str, float]) -> bytes:
    items = sorted(values.items(), key=lambda kv: kv[1])
    fig = Figure(figsize=(7, max(2.2, 0.42 * len(items) + 1.2)))
    ax = fig.subplots()
    ax.barh([k for k, _ in items], [v for _, v in items], color="C0")
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.2f}", va="center", fontsize=9)
    ax.set_xlabel("importance (share of the objective's variance, fANOVA)")
    ax.set_title("hyperparameter importances")
    ax.grid(axis="y", visible=False)
    layout(fig, left=0.25 + 0.075 * max((len(k) for k, _ in items), default=4), right=0.5)
    return to_png(fig)


def parallel_coordinates(trials: list[dict], params: list[str], metric: str, maximize: bool) -> bytes:
    """One vertical axis per hyperparameter (min..max of the tried values; log where they span
    more than 100x; categories spread evenly), then the objective; one line per complete trial,
    coloured by its objective value."""
    import numpy as np

    done = [t for t in trials if t["state"] == "COMPLETE" and t["value"] is not None]
    axes_spec = []
    for p in params:
        vals = [t["params"].get(p) for t in done]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals if v is not None)
        if numeric:
            nums = [float(v) for v in vals if v is not None]
            log = bool(nums) and min(nums) > 0 and max(nums) / min(nums) > 100
            tr = (lambda v: math.log10(v)) if log else float
            lo, hi = (min(map(tr, nums)), max(map(tr, nums))) if nums else (0, 1)
            axes_spec.append((p, lambda v, tr=tr, lo=lo, hi=hi: (tr(float(v)) - lo) / ((hi - lo) or 1),
                              [f"{min(nums):.3g}", f"{max(nums):.3g}"] if nums else ["", ""], log, True))
        else:
            cats = sorted({str(v) for v in vals if v is not None})
            pos = {c: i / max(len(cats) - 1, 1) for i, c in enumerate(cats)}
            axes_spec.append((p, lambda v, pos=pos: pos[str(v)], cats, False, False))
    objective = [t["value"] for t in done]
    lo, hi = (min(objective), max(objective)) if objective else (0, 1)
    fig = Figure(figsize=(max(7, 1.6 * (len(params) + 1) + 1.5), 4.2))
    ax = fig.subplots()
    ax.grid(False)
    cmap = matplotlib.colormaps["viridis" if maximize else "viridis_r"]
    n_axes = len(axes_spec) + 1
    for t in sorted(done, key=lambda t: t["value"] if maximize else -t["value"]):
        ys = [f(t["params"][p]) if t["params"].get(p) is not None else np.nan for p, f, _, _, _ in axes_spec]
        ys.append((t["value"] - lo) / ((hi - lo) or 1))
        c = (t["value"] - lo) / ((hi - lo) or 1)
        ax.plot(range(n_axes), ys, color=cmap(c if maximize else 1 - c), alpha=0.75, linewidth=1.4)
    for i in range(n_axes):
        ax.axvline(i, color="0.3", linewidth=1)
    for i, (p, _, labels, log, numeric) in enumerate(axes_spec):
        if numeric:
            ax.text(i, -0.06, labels[0], ha="center", va="top", fontsize=8)
            ax.text(i, 1.04, labels[1], ha="center", va="bottom", fontsize=8)
        else:
            for j, c in enumerate(labels):
                ax.text(i + 0.03, j / max(len(labels) - 1, 1), c[:12], ha="left", va="center", fontsize=8,
                        bbox=dict(facecolor="white", edgecolor="none", alpha=0.7, pad=0.5))
    ax.text(n_axes - 1, -0.06, f"{lo:.4g}", ha="center", va="top", fontsize=8)
    ax.text(n_axes - 1, 1.04, f"{hi:.4g}", ha="center", va="bottom", fontsize=8)
    names = [p + (" (log)" if log else "") for p, _, _, log, _ in axes_spec] + [metric]
    ax.set_xticks(range(n_axes), names, rotation=15)
    ax.set_yticks([])
    ax.set_ylim(-0.15, 1.15)
    ax.set_xlim(-0.3, n_axes - 0.7)
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.set_title(f"parallel coordinates: each line is a complete trial, coloured by {metric} "
                 f"(yellow = best)")
    layout(fig, left=0.3, right=0.3, bottom=0.75)
    return to_png(fig)


def intermediate_values(trials: list[dict], metric: str) -> bytes:
    """The value each trial reported per epoch: pruned trials stop early (orange), complete ones run on."""
    fig = Figure(figsize=(8, 3.8))
    ax = fig.subplots()
    labelled = set()
    for t in trials:
        inter = t.get("intermediate") or {}
        if not inter:
            continue
        state = t["state"]
        color = {"COMPLETE": "C0", "PRUNED": "C1"}.get(state, "0.6")
        label = {"COMPLETE": "complete", "PRUNED": "pruned"}.get(state, state.lower())
        steps = sorted(inter, key=float)
        xs, ys = [float(s) for s in steps], [inter[s] for s in steps]
        ax.plot(xs, ys, color=color, alpha=0.7, linewidth=1.2, label=None if label in labelled else label)
        if state == "PRUNED":  # where the pruner stopped it (a trial pruned after one epoch is just this mark)
            ax.plot(xs[-1:], ys[-1:], marker="x", markersize=7, color=color, linestyle="none")
        labelled.add(label)
    ax.set_xlabel("epoch (step reported to the pruner)")
    ax.set_ylabel(metric)
    ax.set_title("intermediate values: pruned trials stop early")
    if labelled:
        ax.legend(loc="best")
    layout(fig, left=0.9)
    return to_png(fig)
