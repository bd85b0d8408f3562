"""Does the digits GAN draw digits, and all ten of them? A trainwell digits classifier judges.

1. trains a classifier (examples/digits_mlp.yaml: an MLP on the 64 standardized pixel columns),
2. trains the GAN (examples/gan_digits.yaml),
3. generates 1,000 samples from the saved generator (rebuilt from the run directory alone),
   de-normalizes them to pixel values 0..16, flattens them into the digits frame's columns
   pixel_0_0 .. pixel_7_7 and asks the classifier run for predictions,
4. prints the share of samples labelled with confidence >= 0.9 (goal >= 0.80), the class
   histogram and its entropy (goal >= 0.8 * ln 10), PASS/FAIL for each, and the seconds.

Run: .venv/bin/python benchmarks/gan_quality.py [--gan-run DIR] [--classifier-run DIR]
(an existing run directory skips training that model). Not run by CI.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
N_SAMPLES = 1000
CONFIDENCE = 0.9
GOAL_CONFIDENT = 0.80
GOAL_ENTROPY = 0.8 * math.log(10)


def score(gan_run: Path, classifier_run: Path, n: int = N_SAMPLES, seed: int = 12345) -> dict:
    import numpy as np
    import pandas as pd

    import trainwell
    from trainwell.training.gan import generate

    images = generate(gan_run, n, seed=seed)              # (n, 1, 8, 8) in pixel units
    pixels = np.clip(images.reshape(n, -1), 0.0, 16.0)    # the digits' own range
    columns = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)]
    classifier = trainwell.load_run(classifier_run)
    pred = classifier.predict(pd.DataFrame(pixels, columns=columns))
    proba = pred[[c for c in pred.columns if c.startswith("proba_")]].to_numpy()
    labels = pred["prediction"].to_numpy().astype(int)
    counts = np.bincount(labels, minlength=10)[:10]
    share = counts / counts.sum()
    entropy = float(-(share[share > 0] * np.log(share[share > 0])).sum())
    return {"confident": float((proba.max(axis=1) >= CONFIDENCE).mean()), "counts": counts.tolist(),
            "entropy": entropy}


def main() -> int:
    import trainwell

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gan-run", type=Path, help="score this GAN run instead of training one")
    parser.add_argument("--classifier-run", type=Path, help="use this classifier run instead of training one")
    parser.add_argument("--gan-config", type=Path, default=ROOT / "examples" / "gan_digits.yaml")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        classifier = args.classifier_run
        if classifier is None:
            run = trainwell.train(ROOT / "examples" / "digits_mlp.yaml", out=Path(tmp) / "classifier")
            classifier = run.path
            print(f"classifier: test accuracy {run.metrics['test']['accuracy']:.4f} "
                  f"({time.perf_counter() - start:.1f} s)")
        t_gan = time.perf_counter()
        gan = args.gan_run
        if gan is None:
            run = trainwell.train(args.gan_config, out=Path(tmp) / "gan")
            gan = run.path
            print(f"gan: {run.info['epochs_run']} epochs, {run.info['seconds']:.1f} s training "
                  f"({time.perf_counter() - t_gan:.1f} s with data preparation), final d_real "
                  f"{run.metrics['train']['d_real']:.3f} d_fake {run.metrics['train']['d_fake']:.3f}")
        t_score = time.perf_counter()
        s = score(gan, classifier)
        ok_conf = s["confident"] >= GOAL_CONFIDENT
        ok_ent = s["entropy"] >= GOAL_ENTROPY
        print(f"samples: {N_SAMPLES} from {gan.name if args.gan_run else args.gan_config.name}")
        print(f"confident (max proba >= {CONFIDENCE}): {s['confident']:.3f}  goal >= {GOAL_CONFIDENT:.2f}  "
              f"{'PASS' if ok_conf else 'FAIL'}")
        print("class histogram: " + "  ".join(f"{d}:{c}" for d, c in enumerate(s["counts"])))
        print(f"entropy: {s['entropy']:.3f} nats  goal >= {GOAL_ENTROPY:.3f} (0.8 ln 10; max {math.log(10):.3f})  "
              f"{'PASS' if ok_ent else 'FAIL'}")
        print(f"seconds: total {time.perf_counter() - start:.1f}, gan {t_score - t_gan:.1f}, "
              f"scoring {time.perf_counter() - t_score:.1f}")
        return 0 if ok_conf and ok_ent else 1


if __name__ == "__main__":
    sys.exit(main())
