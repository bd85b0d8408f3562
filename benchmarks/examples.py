"""Trains every example in examples/ through the CLI and prints a Markdown table of test metrics
and wall time (including start-up). Run: .venv/bin/python benchmarks/examples.py"""

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHOWN = {"regression": ["mae", "rmse", "r2", "persistence_mae", "skill_mae"], "generation": [],
         "default": ["accuracy", "balanced_accuracy", "f1", "roc_auc"]}


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        # transfer_finetune needs a pretrain run: benchmarks/transfer.py runs that pair.
        for cfg in sorted(p for p in (ROOT / "examples").glob("*.yaml") if p.stem != "transfer_finetune"):
            out = Path(tmp) / cfg.stem
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "trainwell", "train", str(cfg), "--out", str(out), "-q"],
                                  capture_output=True, text=True, cwd=ROOT)
            wall = time.perf_counter() - start
            if proc.returncode != 0:
                rows.append(f"| {cfg.name} | failed: {proc.stderr.strip()[:80]} | | | |")
                continue
            info = json.loads((out / "run.json").read_text())
            test = json.loads((out / "metrics.json").read_text()).get("test", {})
            keys = SHOWN.get(info["task"], SHOWN["default"])
            shown = ", ".join(f"{k} {test[k]:.3f}" for k in keys if test.get(k) is not None) or \
                "samples/*.png; quality: benchmarks/gan_quality.py"
            rows.append(f"| `{cfg.name}` | {info['task']} | {shown} | {info.get('epochs_run', '')} | "
                        f"{info['seconds']:.1f} s | {wall:.1f} s |")
            print(rows[-1], file=sys.stderr)
    print("| example | task | test metrics | epochs | training | wall (incl. start-up) |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
