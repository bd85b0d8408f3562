#!/usr/bin/env python
"""Write the data files of the twelfth held-out set (heldout12.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, so changing one never
shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data12.py

  h12_fruit/              480 photos of fruit on a tray, 16x16 RGB PNG, one sub-folder per class
                          (unripe / ripe / overripe, 160 each). Unripe (green) and ripe (red) are
                          drawn with the same luma (ITU-R 601: 0.299 R + 0.587 G + 0.114 B), so only
                          the hue tells them apart; overripe (brown) is ~15% darker, with a brightness
                          jitter of +-20% that overlaps it with the others. Read with
                          data.image.color grayscale, ripe and unripe are the same picture -> bad_input_data
  h12_textures.npz        1000 fabric swatches, 24x24 grayscale (N, 1, 24, 24), four classes: fine
                          (1-pixel) horizontal rib, fine vertical rib, coarse horizontal (period 5-7 px),
                          coarse vertical; random phase, contrast, illumination gradient and noise.
                          data.image.size [12, 12] (antialiased 2x shrink) averages every 1-pixel rib
                          to flat grey: the two fine classes become the same image  -> bad_input_data
  h12_knocks.npz          900 triggered vibration recordings (N, 100, 2): displacement in metres
                          (~1e-5) and velocity in m/s (~1e-3); the class (single knock, double knock,
                          rattle) is the shape of the transient in the first 12 steps, followed by 88
                          steps of correlated noise. A one-directional LSTM's last state has long lost
                          the transient (vanishing_gradients); with data.scale none the network sees
                          inputs of 1e-5                                          -> unscaled_features
  h12_claims_train.csv    1500 insurance claim descriptions (auto / home / travel / health), written
                          in ordinary case, and
  h12_claims_test.csv     600 later claims of which half came in through the fax-scanning channel,
                          which writes everything in CAPITALS; with data.text.lowercase false every
                          capitalised topic word is a token the vocabulary never saw -> bad_input_data
  h12_wells_train.csv     2400 log samples from four wells (gamma ray, resistivity, density, neutron
                          porosity, sonic, photo-electric factor, and depth_m), five lithologies with
                          overlapping log responses; in these wells each lithology sits in its own
                          depth interval (formation tops), and
  h12_wells_test.csv      800 samples of a fifth well on a downthrown block: the same formations
                          ~700 m deeper. depth_m is a shortcut that holds in training and validation
                          and misleads on the new well                            -> bad_input_data
  h12_concrete.csv        1600 concrete mixes (cement, slag, fly ash, water, superplasticizer, coarse
                          and fine aggregate in kg/m3, age in days) and the compressive strength in MPa
                          (Abrams' law in the water/binder ratio times a log-age curing term): a
                          nonlinear regression, for a custom net whose layers are linear -> underfitting
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h12_fruit", "h12_textures.npz", "h12_knocks.npz", "h12_claims_train.csv", "h12_claims_test.csv",
         "h12_wells_train.csv", "h12_wells_test.csv", "h12_concrete.csv"]


def _savez(path: Path, **arrays) -> None:
    # np.savez stamps each member with the current time; write through a fixed-date zip so that the
    # file is the same byte for byte on every run.
    import io
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, arr in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, buf.getvalue())


def fruit() -> None:
    from PIL import Image

    rng = np.random.default_rng(1201)
    root = HERE / "h12_fruit"
    shutil.rmtree(root, ignore_errors=True)
    size = 16
    yy, xx = np.mgrid[0:size, 0:size]
    colours = {"unripe": (70, 130, 40), "ripe": (200, 60, 50), "overripe": (120, 78, 44)}
    for name, col in colours.items():
        (root / name).mkdir(parents=True)
        for i in range(160):
            bg = np.array([200.0, 195.0, 185.0]) * rng.uniform(0.8, 1.05)
            img = np.ones((size, size, 3)) * bg + rng.normal(0, 8, (size, size, 3))
            cy, cx = rng.uniform(5, 11, 2)
            r = rng.uniform(3.0, 5.0)
            mask = ((yy - cy) ** 2 + (xx - cx) ** 2) <= r * r
            shade = 1.0 - 0.25 * np.clip(((yy - cy) + (xx - cx)) / (2 * r), -1, 1)  # light from the top left
            c = np.array(col) * rng.uniform(0.8, 1.2) + rng.normal(0, 10, 3)
            img[mask] = (c[None, None, :] * shade[..., None])[mask]
            img = np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)
            Image.fromarray(img, "RGB").save(root / name / f"{name}_{i:03d}.png")


def textures() -> None:
    rng = np.random.default_rng(1202)
    n, size = 1000, 24
    yy, xx = np.mgrid[0:size, 0:size].astype(float)
    labels = rng.integers(0, 4, n)  # 0 fine horizontal, 1 fine vertical, 2 coarse horizontal, 3 coarse vertical
    x = np.empty((n, 1, size, size), np.uint8)   # 8-bit grey levels, as a camera writes them
    for i, lab in enumerate(labels):
        coord = yy if lab % 2 == 0 else xx
        if lab < 2:
            ribs = np.where((coord.astype(int) + int(rng.integers(2))) % 2 == 0, 1.0, -1.0)
        else:
            ribs = np.cos(2 * np.pi * coord / rng.uniform(5.0, 7.0) + rng.uniform(0, 2 * np.pi))
        gx, gy = rng.normal(0, 0.02, 2)
        img = 0.5 + gx * (xx - 12) + gy * (yy - 12) + rng.uniform(0.2, 0.5) * ribs + rng.normal(0, 0.15, (size, size))
        x[i, 0] = np.clip(np.round((img + 0.5) * 110), 0, 255)
    _savez(HERE / "h12_textures.npz", x=x, y=labels.astype(np.int64))


def knocks() -> None:
    rng = np.random.default_rng(1203)
    n, T = 900, 100
    labels = rng.integers(0, 3, n)
    x = np.zeros((n, T, 2), np.float64)
    t = np.arange(12)
    for i, lab in enumerate(labels):
        amp = rng.uniform(1.5, 2.5)
        if lab == 0:    # single knock
            tr = amp * np.exp(-t / 2.0)
        elif lab == 1:  # double knock
            tr = amp * (np.exp(-t / 2.0) + np.exp(-np.clip(t - 5, 0, None) / 2.0) * (t >= 5))
        else:           # rattle
            tr = amp * np.exp(-t / 4.0) * np.cos(2.2 * t)
        noise = np.zeros(T)
        e = rng.normal(0, 0.5, T)
        for k in range(1, T):
            noise[k] = 0.8 * noise[k - 1] + e[k]
        disp = noise
        disp[:12] += tr
        x[i, :, 0] = 1e-5 * disp                                   # metres
        x[i, :, 1] = 1e-3 * (0.5 * np.sin(2 * np.pi * np.arange(T) / rng.uniform(15, 30) + rng.uniform(0, 6.3))
                             + rng.normal(0, 0.3, T))              # m/s, running speed ripple
    _savez(HERE / "h12_knocks.npz", x=x.astype(np.float32), y=labels.astype(np.int64))


def claims() -> None:
    rng = np.random.default_rng(1204)
    topics = {
        "auto": ["windscreen", "bumper", "collision", "towing", "garage", "dashcam", "tyre", "parking", "motorway",
                 "headlight", "gearbox", "roundabout", "bonnet", "scratch", "dent", "hatchback", "van", "airbag", "MOT",
                 "registration"],
        "home": ["roof", "boiler", "burglary", "flood", "kitchen", "ceiling", "leak", "subsidence", "chimney", "fence",
                 "carpet", "plumber", "gutter", "basement", "window", "locksmith", "storm", "conservatory", "mould",
                 "wallpaper"],
        "travel": ["flight", "luggage", "passport", "hotel", "cancellation", "airport", "delay", "baggage", "booking",
                   "cruise", "visa", "airline", "excursion", "connection", "hostel", "embassy", "ferry", "transfer",
                   "resort", "itinerary"],
        "health": ["dentist", "physiotherapy", "prescription", "hospital", "surgery", "X-ray", "consultant", "clinic",
                   "scan", "optician", "therapy", "fracture", "specialist", "ambulance", "GP", "vaccination", "MRI",
                   "inpatient", "outpatient", "pharmacy"],
    }
    filler = ["I am writing to make a claim", "Please find the details below", "This happened last week",
              "My policy number is attached", "I have been with you for years", "Please let me know what you need",
              "The receipts are attached", "I called on Monday", "Nobody has got back to me yet",
              "Thank you for your help", "I would like this settled quickly", "It was very stressful",
              "My partner was with me", "I can send photos if needed", "Kind regards"]
    templates = ["The claim is about the {}", "There was a problem with the {}", "I need to claim for the {}",
                 "It concerns the {}", "We had an issue with the {}", "Damage to the {}"]
    labels = list(topics)

    def claim() -> tuple[str, str]:
        lab = labels[int(rng.integers(4))]
        kws = rng.choice(topics[lab], size=int(rng.integers(1, 3)), replace=False)
        parts = list(rng.choice(filler, size=2, replace=False))
        parts.insert(int(rng.integers(1, 3)), rng.choice(templates).format(kws[0]))
        if len(kws) > 1:
            parts.append(rng.choice(templates).format(kws[1]))
        parts.append(rng.choice(filler))
        return ". ".join(parts) + ".", lab

    train = [claim() for _ in range(1500)]
    test = [claim() for _ in range(600)]
    faxed = rng.random(len(test)) < 0.5
    test = [(text.upper() if fax else text, lab) for (text, lab), fax in zip(test, faxed)]
    pd.DataFrame(train, columns=["description", "target"]).to_csv(HERE / "h12_claims_train.csv", index=False)
    pd.DataFrame(test, columns=["description", "target"]).to_csv(HERE / "h12_claims_test.csv", index=False)


def wells() -> None:
    rng = np.random.default_rng(1205)
    # log response per lithology: gamma ray (API), log10 resistivity (ohm.m), bulk density (g/cc),
    # neutron porosity (v/v), sonic (us/ft), photo-electric factor (b/e)
    means = {"sandstone": [45, 1.2, 2.35, 0.18, 85, 1.9], "shale": [115, 0.6, 2.45, 0.32, 100, 3.2],
             "limestone": [25, 1.9, 2.62, 0.10, 58, 4.9], "dolomite": [30, 2.0, 2.78, 0.06, 50, 3.1],
             "siltstone": [80, 0.9, 2.50, 0.22, 90, 2.6]}
    sd = 1.8 * np.array([14, 0.35, 0.08, 0.05, 9, 0.5])
    names = list(means)
    # formation intervals (m) in the training wells; the test well is ~700 m deeper
    tops = {"sandstone": (1200, 1650), "shale": (1650, 2100), "siltstone": (2100, 2550), "limestone": (2550, 3000),
            "dolomite": (3000, 3450)}

    def samples(k: int, shift: float) -> pd.DataFrame:
        lab = rng.integers(0, len(names), k)
        x = np.array([means[names[j]] for j in lab]) + rng.normal(size=(k, 6)) * sd
        gas = (lab == 0) & (rng.random(k) < 0.3)  # gas in sandstone: lower density and neutron porosity
        x[gas, 2] -= 0.15
        x[gas, 3] -= 0.08
        lo = np.array([tops[names[j]][0] for j in lab])
        hi = np.array([tops[names[j]][1] for j in lab])
        depth = rng.uniform(lo - 60, hi + 60) + shift + rng.normal(0, 15, k)
        df = pd.DataFrame(x.round(4), columns=["gr_api", "log_rt", "rhob_gcc", "nphi", "dt_us_ft", "pe"])
        df.insert(0, "depth_m", depth.round(1))
        df["target"] = [names[j] for j in lab]
        return df

    samples(2400, 0.0).to_csv(HERE / "h12_wells_train.csv", index=False)
    samples(800, 700.0).to_csv(HERE / "h12_wells_test.csv", index=False)


def concrete() -> None:
    rng = np.random.default_rng(1206)
    n = 1600
    cement = rng.uniform(150, 520, n)
    slag = np.where(rng.random(n) < 0.5, rng.uniform(0, 300, n), 0.0)
    ash = np.where(rng.random(n) < 0.4, rng.uniform(0, 200, n), 0.0)
    water = rng.uniform(140, 230, n)
    sp = np.where(rng.random(n) < 0.6, rng.uniform(0, 25, n), 0.0)
    coarse = rng.uniform(800, 1150, n)
    fine = rng.uniform(600, 950, n)
    age = rng.choice([3, 7, 14, 28, 56, 90, 180], n)
    wb = water / (cement + 0.8 * slag + 0.4 * ash)
    strength = (95 / (7.5 ** wb) * (0.45 + 0.55 * np.log(age) / np.log(28)) ** 0.8 + 0.12 * sp
                + rng.normal(0, 3.0, n))
    pd.DataFrame({"cement_kg": cement.round(1), "slag_kg": slag.round(1), "fly_ash_kg": ash.round(1),
                  "water_kg": water.round(1), "superplasticizer_kg": sp.round(2), "coarse_agg_kg": coarse.round(1),
                  "fine_agg_kg": fine.round(1), "age_days": age, "target": strength.round(2)}) \
        .to_csv(HERE / "h12_concrete.csv", index=False)


def heldout12() -> None:
    HERE.mkdir(exist_ok=True)
    fruit()
    textures()
    knocks()
    claims()
    wells()
    concrete()


def print_sizes(here: Path, files) -> None:
    """Each written file's size (a folder's: its files'), and the total."""
    total = 0
    for f in files:
        p = here / f
        size = sum(q.stat().st_size for q in p.rglob("*")) if p.is_dir() else p.stat().st_size
        total += size
        print(f"{f}: {size / 1024:.0f} KB")
    print(f"total: {total / 1024:.0f} KB")


if __name__ == "__main__":
    heldout12()
    print_sizes(HERE, FILES)
