"""Writes examples/data/sequences.npz: 3 classes of noisy periodic signals, 60 steps, 2 channels.

Class 0 is a sine, 1 a square wave, 2 a sawtooth, each with a random frequency, phase, amplitude
and offset plus gaussian noise, so the class is in the shape of the wave rather than in any one
value. The second channel is the first one's step-to-step difference, also noisy.
Run: python examples/make_sequences.py
"""

from pathlib import Path

import numpy as np


def make(n: int = 900, steps: int = 60, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n // 3)
    rng.shuffle(y)
    t = np.arange(steps)[None, :]
    freq = rng.uniform(1 / 30, 1 / 10, (n, 1))
    phase = rng.uniform(0, 1, (n, 1))
    cycle = (t * freq + phase) % 1.0  # position within the period, 0..1
    waves = np.stack([np.sin(2 * np.pi * cycle), np.where(cycle < 0.5, 1.0, -1.0), 2 * cycle - 1])
    signal = waves[y, np.arange(n)] * rng.uniform(0.5, 2.0, (n, 1)) + rng.normal(0, 0.5, (n, 1))
    signal = signal + rng.normal(0, 0.3, signal.shape)
    diff = np.diff(signal, axis=1, prepend=signal[:, :1]) + rng.normal(0, 0.1, signal.shape)
    x = np.stack([signal, diff], axis=-1).astype(np.float32)
    return x, y.astype(np.int64)


if __name__ == "__main__":
    out = Path(__file__).parent / "data" / "sequences.npz"
    out.parent.mkdir(parents=True, exist_ok=True)
    x, y = make()
    np.savez_compressed(out, x=x, y=y)
    print(f"wrote {out} (x {x.shape}, y {y.shape})")
