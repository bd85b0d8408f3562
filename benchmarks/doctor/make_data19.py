#!/usr/bin/env python
"""Write the data files of the nineteenth held-out set (heldout19.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 1901-1906, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data19.py

  h19_roasts.csv      1800 batches of a specialty coffee roastery and the roast degree the cupping
                      lab assigned from the ground colour: cinnamon, city, full_city, vienna, french
                      (ordered light to dark; in sorted label order french comes third). origin and
                      roaster (text), green_moisture_pct, density_gl, batch_kg, charge_c,
                      turning_point_c, first_crack_min, drop_c (bean temperature at drop), dev_s
                      (development time after first crack), ror_drop (rate of rise at drop, C/min),
                      ambient_c. The degree follows a latent development (the drop temperature
                      above the first-crack temperature, the development time, a slower rate of rise
                      darkening more, dense and wet beans darkening less, the roaster's probe offset)
                      plus noise, cut at four thresholds
  h19_prints.csv      1800 tensile bars printed on a farm of FDM printers and their tensile strength
                      in MPa: material (PLA, PETG, ABS, nylon), orientation (flat, on_edge, upright:
                      an upright bar breaks between layers), layer_mm, nozzle_c (each material has
                      its own best temperature, so a temperature is good or bad only with the
                      material), bed_c, speed_mms, infill_pct, walls, fan_pct, enclosure (yes/no),
                      spool_days (days the spool has been open: nylon and PETG take up water);
                      strength = material x cross-section (walls, infill) x layer bonding (upright
                      only: temperature against the material's best, layer height, fan, enclosure
                      for ABS) x extrusion (speed against temperature) x moisture, 4% noise
  h19_gauges.npz      960 photos (N, 1, 20, 20) uint8 of analogue pressure gauges read by a plant's
                      inspection robot, and the zone of the reading (y 0-5, 160 each): a 270-degree
                      dial (from -135 to +135 degrees, 0 at the top), six 45-degree zones; a dark
                      needle on a light face, the rim, tick marks, a little off-centre, glare, exposure
  h19_songs.npz       1000 recordings (N, 64, 2) float32 from an autonomous birdsong recorder: each
                      frame's dominant pitch (kHz; 0 in silence) and level (dB over the noise floor),
                      and the species (y 0-4, 200 each). The species overlap in mean pitch and
                      loudness; they differ in the trill: the period of the pitch modulation (3, 4.2,
                      6 or 9 frames; each note louder in its middle), with one species a slow whistle
                      without a trill; the recorder keeps 64 frames from inside the song, so the
                      trill's phase is random; 2% of the frames dropped (pitch 0)
  h19_chess.csv       1600 opening sequences of online blitz games in SAN ('e4 c6 d4 d5 Nc3 dxe4 ...')
                      and the opening's family: sicilian, french, caro_kann, ruy_lopez, italian,
                      queens_gambit, kings_indian, english (200 each); the first 2-6 moves name the
                      family, then 6-14 further moves drawn from a pool that holds the families'
                      defining moves too (a c5 or a Bb5 later in the game names nothing): the order
                      of the moves, not their set, tells the family
  h19_greenhouse.csv  2880 hours (120 days from 2024-02-01) of a heated glasshouse: inside_c (the air
                      temperature, forecast), outside_c, solar_wm2, heating_kw (a thermostat: 16 C
                      at night, 20 C by day), vent_pct (opens above 25 C), humidity_pct; forecast
                      inside_c 1..6 hours ahead
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h19_roasts.csv", "h19_prints.csv", "h19_gauges.npz", "h19_songs.npz", "h19_chess.csv",
         "h19_greenhouse.csv"]


def roasts() -> None:
    """Coffee roast batches and the roast degree."""
    rng = np.random.default_rng(1901)
    n = 1800
    origin = rng.choice(["ethiopia", "kenya", "colombia", "brazil", "sumatra", "guatemala"], n,
                        p=[0.2, 0.1, 0.2, 0.25, 0.1, 0.15])
    roaster = rng.choice(["drum_12", "drum_25", "fluid_bed"], n, p=[0.45, 0.35, 0.2])
    dens_base = {"ethiopia": 730, "kenya": 740, "colombia": 710, "brazil": 670, "sumatra": 660, "guatemala": 720}
    density = np.array([dens_base[o] for o in origin]) + rng.normal(0, 18, n)
    moisture = np.clip(rng.normal(10.8, 0.7, n) + np.where(origin == "sumatra", 1.0, 0.0), 8.5, 13.5)
    batch = np.where(roaster == "drum_12", rng.uniform(5, 12, n),
                     np.where(roaster == "drum_25", rng.uniform(12, 25, n), rng.uniform(1, 4, n)))
    ambient = rng.normal(22, 4, n)
    charge = np.clip(rng.normal(205, 9, n) + 0.6 * (batch - 10), 170, 235)
    tp = charge * 0.43 + rng.normal(0, 4, n) - 1.2 * (batch - 10) * 0.3 + 0.3 * (ambient - 22)
    fc = np.clip(8.6 + 0.09 * (batch - 10) - 0.04 * (charge - 205) + 0.004 * (density - 700)
                 + 0.4 * (moisture - 10.8) + rng.normal(0, 0.6, n), 5.5, 13)
    # the roaster's intent: a target degree the operator aims for (drop temperature and development)
    aim = rng.uniform(0, 1, n)
    drop = 203 + 24 * aim + rng.normal(0, 3.0, n)
    dev = np.clip(55 + 110 * aim ** 0.8 + rng.normal(0, 22, n), 35, 240)
    ror = np.clip(11.5 - 7.5 * aim + rng.normal(0, 1.6, n), 1.5, 16)
    probe = {"drum_12": 0.0, "drum_25": -3.5, "fluid_bed": 4.0}            # probe reads hot or cold
    true_drop = drop - np.array([probe[r] for r in roaster])
    fc_temp = 196 + 0.015 * (density - 700) + 0.8 * (moisture - 10.8)
    dev_latent = ((true_drop - fc_temp) / 5.0 + (dev - 100) / 35.0 - 0.25 * (ror - 7)
                  - 0.004 * (density - 700) - 0.3 * (moisture - 10.8) + rng.normal(0, 0.45, n))
    cuts = np.quantile(dev_latent, [0.14, 0.38, 0.66, 0.88])
    names = np.array(["cinnamon", "city", "full_city", "vienna", "french"])
    lab = np.searchsorted(cuts, dev_latent)
    df = pd.DataFrame({
        "origin": origin, "roaster": roaster, "green_moisture_pct": moisture.round(2),
        "density_gl": density.round(0), "batch_kg": batch.round(1), "charge_c": charge.round(1),
        "turning_point_c": tp.round(1), "first_crack_min": fc.round(2), "drop_c": drop.round(1),
        "dev_s": dev.round(0), "ror_drop": ror.round(2), "ambient_c": ambient.round(1), "target": names[lab]})
    df.to_csv(HERE / "h19_roasts.csv", index=False)


def prints() -> None:
    """Tensile bars printed on FDM printers and their strength."""
    rng = np.random.default_rng(1902)
    n = 1800
    mats = ["PLA", "PETG", "ABS", "nylon"]
    mat = rng.choice(4, n, p=[0.35, 0.25, 0.2, 0.2])
    base = np.array([52.0, 46.0, 38.0, 60.0])[mat]
    best_t = np.array([212.0, 242.0, 248.0, 262.0])[mat]
    nozzle = best_t + rng.uniform(-28, 28, n)
    bed = np.array([60.0, 80.0, 100.0, 70.0])[mat] + rng.choice([-10, 0, 0, 10], n)
    orient = rng.choice(["flat", "on_edge", "upright"], n, p=[0.4, 0.25, 0.35])
    layer = rng.choice([0.08, 0.12, 0.16, 0.2, 0.24, 0.28, 0.32], n)
    speed = rng.uniform(20, 160, n)
    infill = rng.choice(np.arange(10, 101, 5), n)
    walls = rng.integers(1, 7, n)
    fan = np.where(mat == 2, rng.choice([0, 0, 20, 50], n), rng.choice([0, 30, 60, 100], n))
    encl = np.where(rng.random(n) < np.where(mat == 2, 0.6, 0.3), "yes", "no")
    spool = rng.integers(0, 200, n)
    # cross-section: the walls carry most of the load, infill the rest
    shell = np.clip(walls * 0.42 / 4.0, 0, 1)
    section = 0.25 + 0.75 * (shell + (1 - shell) * infill / 100.0)
    # layer bonding (upright only): hotter is better up to the best temperature, thick layers and
    # a strong fan bond worse, ABS needs the enclosure
    dt = (nozzle - best_t) / 20.0
    bond = 1 / (1 + np.exp(-(1.2 + 1.8 * dt))) * (1 - 0.9 * (layer - 0.08)) * (1 - 0.0025 * fan)
    bond = bond * np.where((mat == 2) & (encl == "no"), 0.55, 1.0)
    orient_f = np.where(orient == "flat", 1.0, np.where(orient == "on_edge", 0.93, 0.25 + 0.7 * bond))
    # extrusion: too fast for the temperature under-extrudes, too hot overheats a little
    melt = np.clip(1 - np.clip(speed / 100.0 - 0.6 - 0.9 * np.clip(dt, -1, 1.5), 0, None) * 0.35, 0.4, 1)
    hot = 1 - 0.08 * np.clip(dt - 0.8, 0, None)
    moist = np.where(mat == 3, np.exp(-spool / 120.0) * 0.45 + 0.55,
                     np.where(mat == 1, 1 - 0.12 * (1 - np.exp(-spool / 90.0)), 1.0))
    strength = base * section * orient_f * melt * hot * moist * np.exp(rng.normal(0, 0.04, n))
    df = pd.DataFrame({
        "material": np.array(mats)[mat], "orientation": orient, "layer_mm": layer, "nozzle_c": nozzle.round(0),
        "bed_c": bed, "speed_mms": speed.round(0), "infill_pct": infill, "walls": walls, "fan_pct": fan,
        "enclosure": encl, "spool_days": spool, "target": strength.round(2)})
    df.to_csv(HERE / "h19_prints.csv", index=False)


def gauges() -> None:
    """Analogue pressure-gauge photos and the zone of the reading."""
    rng = np.random.default_rng(1903)
    n, S = 960, 20
    zones = np.repeat(np.arange(6), n // 6)
    rng.shuffle(zones)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, z in enumerate(zones):
        cy, cx = 9.5 + rng.normal(0, 0.6, 2)
        r_face = rng.uniform(7.6, 8.6)
        d = np.hypot(yy - cy, xx - cx)
        face = 205 + rng.uniform(-25, 20)
        img = np.full((S, S), 70.0 + rng.uniform(-15, 15))                     # the panel
        img = np.where(d < r_face, face, img)
        img -= 90 * np.clip(1 - np.abs(d - r_face) / 0.8, 0, 1)                # the rim
        for k in range(7):                                                     # tick marks at zone edges
            a = np.radians(-135 + 45 * k)
            for rr in (r_face - 1.6, r_face - 1.0):
                ty, tx = cy - rr * np.cos(a), cx + rr * np.sin(a)
                img -= 55 * np.exp(-((yy - ty) ** 2 + (xx - tx) ** 2) / 0.35)
        ang = -135 + 45 * z + rng.uniform(2, 43)                               # degrees, 0 = up, clockwise
        a = np.radians(ang)
        ln = rng.uniform(5.2, 6.6)
        wd = rng.uniform(0.45, 0.75)
        # distance from each pixel to the needle segment (centre -> tip), and a short tail
        uy, ux = -np.cos(a), np.sin(a)
        t = np.clip((yy - cy) * uy + (xx - cx) * ux, -1.5, ln)
        dist = np.hypot(yy - (cy + t * uy), xx - (cx + t * ux))
        img -= 150 * np.clip(1.2 - dist / wd, 0, 1)
        img -= 60 * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 1.2)          # the pivot
        gy, gx = rng.uniform(3, 16, 2)                                         # glare on the glass
        img += rng.uniform(0, 45) * np.exp(-((yy - gy) ** 2 + (xx - gx) ** 2) / rng.uniform(3, 10))
        img = img * rng.uniform(0.8, 1.15) + rng.normal(0, 6, (S, S))
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h19_gauges.npz", x=x, y=zones.astype(np.int64))


def songs() -> None:
    """Birdsong recordings: pitch and level per frame, and the species."""
    rng = np.random.default_rng(1904)
    n, T = 1000, 64
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    # species: trill period (frames), modulation depth (kHz), mean pitch range (kHz)
    period = {0: 3.0, 1: 4.2, 2: 6.0, 3: 9.0, 4: None}
    depth = {0: (0.5, 1.1), 1: (0.5, 1.1), 2: (0.6, 1.2), 3: (0.6, 1.3), 4: (0.0, 0.0)}
    x = np.zeros((n, T, 2), np.float32)
    t = np.arange(T, dtype=float)
    for i, k in enumerate(labels):
        # the recorder keeps 64 frames from inside a song (it triggers on the song)
        mean = rng.uniform(3.2, 6.2)
        if period[k] is None:      # a slow whistle: one rise and fall, part of it in the excerpt
            f = mean + rng.uniform(0.6, 1.3) * np.sin(2 * np.pi * t / rng.uniform(70, 110) + rng.uniform(0, 2 * np.pi))
            notes = np.ones(T)
        else:
            p = period[k] * rng.uniform(0.93, 1.07)
            ph = rng.uniform(0, 2 * np.pi)
            f = mean + rng.uniform(*depth[k]) * np.sin(2 * np.pi * t / p + ph)
            f += rng.uniform(-0.6, 0.6) * t / T                                   # a slight drift
            notes = 0.75 + 0.25 * np.cos(2 * np.pi * t / p + ph + rng.uniform(-0.5, 0.5))
        f = f + rng.normal(0, 0.12, T)
        level = rng.uniform(12, 30) * notes * np.exp(rng.normal(0, 0.05, T)) + rng.normal(0, 1.0, T)
        gaps = rng.random(T) < 0.02                                             # dropped frames
        x[i, :, 0] = np.round(np.where(gaps, 0.0, f), 3)
        x[i, :, 1] = np.round(np.where(gaps, np.abs(rng.normal(0, 1.0, T)), level), 2)
    _savez(HERE / "h19_songs.npz", x=x, y=labels.astype(np.int64))


_OPENINGS = {
    "sicilian": [["e4", "c5", "Nf3", "d6"], ["e4", "c5", "Nf3", "Nc6"], ["e4", "c5", "Nc3"], ["e4", "c5", "c3"]],
    "french": [["e4", "e6", "d4", "d5"], ["e4", "e6", "d4", "d5", "Nc3", "Bb4"], ["e4", "e6", "d4", "d5", "e5", "c5"]],
    "caro_kann": [["e4", "c6", "d4", "d5"], ["e4", "c6", "d4", "d5", "Nc3", "dxe4"], ["e4", "c6", "d4", "d5", "e5", "Bf5"]],
    "ruy_lopez": [["e4", "e5", "Nf3", "Nc6", "Bb5"], ["e4", "e5", "Nf3", "Nc6", "Bb5", "a6"],
                  ["e4", "e5", "Nf3", "Nc6", "Bb5", "Nf6"]],
    "italian": [["e4", "e5", "Nf3", "Nc6", "Bc4"], ["e4", "e5", "Nf3", "Nc6", "Bc4", "Bc5"],
                ["e4", "e5", "Nf3", "Nc6", "Bc4", "Nf6"]],
    "queens_gambit": [["d4", "d5", "c4"], ["d4", "d5", "c4", "e6"], ["d4", "d5", "c4", "dxc4"], ["d4", "d5", "c4", "c6"]],
    "kings_indian": [["d4", "Nf6", "c4", "g6"], ["d4", "Nf6", "c4", "g6", "Nc3", "Bg7"], ["d4", "Nf6", "c4", "g6", "Nc3", "d6"]],
    "english": [["c4"], ["c4", "e5"], ["c4", "Nf6"], ["c4", "c5"]],
}
# later moves: common developing moves, and the families' defining moves too
_LATER = ["Nf3", "Nc3", "Nf6", "Nc6", "Be2", "Be7", "Bd3", "Bd6", "O-O", "O-O", "Re1", "Re8", "h3", "h6", "a3",
          "a6", "Qe2", "Qc7", "Rd1", "Rc8", "Bg5", "Bf4", "Nbd2", "Nbd7", "b3", "b6", "Bb2", "Bb7", "Qd2", "Rb1",
          "c5", "c6", "e6", "e5", "d5", "d6", "c4", "d4", "e4", "g6", "g3", "Bg7", "Bg2", "Bb5", "Bc4", "Bc5",
          "Bb4", "exd5", "cxd5", "dxe4", "Nxd4", "Nxe4", "Bxf6", "Qxd8", "Rxd8", "Kf1", "Kh8", "f4", "f5", "a4"]
_KEY = ["c5", "c6", "e6", "e5", "d5", "c4", "d4", "e4", "g6", "Bb5", "Bc4", "Nf6", "Bg7"]


def chess() -> None:
    """Opening sequences of blitz games and the opening family."""
    rng = np.random.default_rng(1905)
    fams = list(_OPENINGS)
    rows = []
    for i in range(1600):
        fam = fams[i % len(fams)]
        lines = _OPENINGS[fam]
        moves = list(lines[int(rng.integers(0, len(lines)))])
        for _ in range(int(rng.integers(6, 15))):
            pool = _KEY if rng.random() < 0.4 else _LATER
            moves.append(pool[int(rng.integers(0, len(pool)))])
        rows.append((" ".join(moves), fam))
    order = rng.permutation(len(rows))
    pd.DataFrame([rows[j] for j in order], columns=["text", "target"]).to_csv(HERE / "h19_chess.csv", index=False)


def greenhouse() -> None:
    """Hourly readings of a heated glasshouse."""
    rng = np.random.default_rng(1906)
    hours = 120 * 24
    ts = pd.date_range("2024-02-01 00:00", periods=hours, freq="h")
    t = np.arange(hours, dtype=float)
    day = t / 24.0
    hod = t % 24
    # outside: a daily cycle, weather fronts (spring: no season to speak of)
    front = np.zeros(hours)
    for k in range(1, hours):
        front[k] = front[k - 1] * (1 - 1 / 60.0) + rng.normal(0, 0.5)
    outside = 7 + 1.5 * np.sin(2 * np.pi * day / 120) + 4.5 * np.cos(2 * np.pi * (hod - 15) / 24) + front
    # solar: the sun's height times a cloudiness that changes over hours
    sun = np.clip(np.sin(np.pi * (hod - 6.5) / 11.5), 0, None)
    cloud = np.zeros(hours)
    for k in range(1, hours):
        cloud[k] = cloud[k - 1] * 0.97 + rng.normal(0, 0.06)
    clear = np.clip(0.65 + cloud, 0.1, 1.0)
    solar = 620 * sun * clear
    inside = np.zeros(hours)
    heat = np.zeros(hours)
    vent = np.zeros(hours)
    inside[0] = 16.0
    for k in range(1, hours):
        setpoint = 20.0 if 7 <= hod[k] < 19 else 16.0
        err = setpoint - inside[k - 1]
        heat[k] = np.clip(18.0 * err + 3.0 * (setpoint - outside[k]) / 10, 0, 40)
        vent[k] = np.clip((inside[k - 1] - 25.0) * 25, 0, 100)
        d_in = (0.06 * (outside[k] - inside[k - 1]) + 0.0045 * solar[k] + 0.09 * heat[k]
                - 0.0025 * vent[k] * (inside[k - 1] - outside[k]) / 10 * 8)
        inside[k] = inside[k - 1] + d_in + rng.normal(0, 0.15)
    humidity = np.clip(85 - 1.6 * (inside - 16) - 0.15 * vent + rng.normal(0, 2.5, hours), 35, 99)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "inside_c": inside.round(2),
                  "outside_c": outside.round(2), "solar_wm2": solar.round(0), "heating_kw": heat.round(2),
                  "vent_pct": vent.round(1), "humidity_pct": humidity.round(1)}).to_csv(
        HERE / "h19_greenhouse.csv", index=False)


def heldout19() -> None:
    HERE.mkdir(exist_ok=True)
    roasts()
    prints()
    gauges()
    songs()
    chess()
    greenhouse()


if __name__ == "__main__":
    heldout19()
    print_sizes(HERE, FILES)
