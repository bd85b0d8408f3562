"""Transfer learning on digits: pretrain a CNN on digits 0-4, fine-tune on 10% of digits 5-9,
and compare with training from scratch on the same 10%. Several seeds, since ~60 training
images make single runs noisy. Run: .venv/bin/python benchmarks/transfer.py [--seeds 3]"""

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import trainwell

ROOT = Path(__file__).resolve().parent.parent / "examples"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        pre = trainwell.train(ROOT / "transfer_pretrain.yaml", out=Path(tmp) / "pre")
        print(f"pretrain (digits 0-4): test accuracy {pre.metrics['test']['accuracy']:.4f} "
              f"({time.perf_counter() - start:.1f} s)")
        for seed in range(args.seeds):
            fine = trainwell.train(ROOT / "transfer_finetune.yaml", {"seed": seed, "model.init_from": str(pre.path)},
                                   out=Path(tmp) / f"fine{seed}")
            scratch = trainwell.train(ROOT / "transfer_scratch.yaml", {"seed": seed}, out=Path(tmp) / f"scratch{seed}")
            rows.append((seed, fine.metrics["test"]["accuracy"], scratch.metrics["test"]["accuracy"],
                         fine.info["seconds"], scratch.info["seconds"]))
            print(f"seed {seed}: fine-tuned {rows[-1][1]:.4f}  from scratch {rows[-1][2]:.4f}")
    fine_mean = statistics.mean(r[1] for r in rows)
    scratch_mean = statistics.mean(r[2] for r in rows)
    print(f"\ndigits 5-9 with 10% of the training rows, test accuracy over {len(rows)} seeds:")
    print(f"  fine-tuned from digits 0-4: {fine_mean:.4f}  (min {min(r[1] for r in rows):.4f})")
    print(f"  from scratch:               {scratch_mean:.4f}  (min {min(r[2] for r in rows):.4f})")
    print(f"  difference: {fine_mean - scratch_mean:+.4f}")


if __name__ == "__main__":
    main()
