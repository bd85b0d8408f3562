#!/usr/bin/env python
"""Write the data files of the twenty-eighth held-out set (heldout28.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2801-2804, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data28.py

  h28_asphalt.csv     1200 road segments of a state pavement-management survey and their roughness
                      (the target, regression: IRI, international roughness index, m/km, about 0.8-9):
                      age_years (since the last overlay), aadt (vehicles a day, 400-60000, lognormal),
                      truck_pct, ac_thickness_mm, base_thickness_mm, subgrade_cbr (%), freeze_index
                      (degC-days, 0-1500), precip_mm (a year), drainage (text: good, fair, poor),
                      surface (text: dense_ac, sma, chipseal), segment_id (no effect). Roughness grows
                      exponentially with age at a rate set by the truck loading against the structure
                      (heavy axle loads over a thin pavement on a weak subgrade), and by frost and water
                      (freeze index x precipitation, worse with poor drainage); the initial roughness
                      and the rate depend on the surface; 6 % lognormal noise
  h28_bats.csv        1400 echolocation call sequences ('passes') from bat detectors and the species
                      (the target, text, seven species, imbalanced: pipistrelle 420, noctule 330,
                      daubenton 250, serotine 180, natterer 120, barbastelle 60, horseshoe 40):
                      peak_khz, start_khz, end_khz, duration_ms, interval_ms, bandwidth_khz, knee_khz,
                      slope_khz_ms, pulses (in the pass), temp_c (no effect), site (text: five detector
                      sites, each its own species mix), hour (after sunset, no effect). Frequency-
                      modulated, quasi-constant-frequency and constant-frequency calls; species overlap
                      in any one feature and are told apart by their combination
  h28_rink.csv        2880 hours (120 days from Monday 2024-01-08) of an indoor ice rink's refrigeration
                      plant: timestamp, load_kw (the compressors' electric load, the series forecast),
                      outdoor_c, hall_rh (relative humidity in the hall, %), session (0/1: public
                      skating or hockey on the ice; a weekly schedule with a few cancellations),
                      resurface (0/1: the ice resurfacer's run after a session, which floods the ice
                      with hot water), skaters (people on the ice). The load follows the heat the ice
                      takes in: the hall's air (outdoor temperature through the building), humidity
                      (condensation), the skaters and the lights during sessions, and the flood water
                      after each resurfacing, with the slab's thermal lag of a few hours; 2 % noise
  h28_snowflakes.npz  1020 images (N, 1, 16, 16) uint8 of snow crystals from a multi-angle snowflake
                      camera (dark background, crystals bright), 170 per habit: 0 plate (a filled
                      hexagon), 1 stellar dendrite (six thin arms with side branches), 2 column (a short
                      solid prism), 3 needle (a long thin line), 4 graupel (a round, rimed, lumpy
                      pellet of about the plate's size), 5 capped column (the column's prism with a thin, fainter plate across each end). Each
                      at a random orientation, position (+-2 px) and size (+-20 %), with blur, shot
                      noise and an uneven background; orientation means nothing and the six-fold
                      crystals look the same mirrored
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h28_asphalt.csv", "h28_bats.csv", "h28_rink.csv", "h28_snowflakes.npz"]


def asphalt() -> None:
    """Roughness of road segments from a pavement-management survey."""
    rng = np.random.default_rng(2801)
    n = 1200
    age = np.round(rng.uniform(0, 28, n), 1)
    aadt = np.clip(np.exp(rng.normal(np.log(6000), 1.0, n)), 400, 60000).round(0)
    truck = np.clip(rng.gamma(3.0, 3.5, n), 2, 35).round(1)
    surf = rng.choice(3, n, p=[0.55, 0.25, 0.20])                     # dense_ac, sma, chipseal
    # busier roads get thicker pavements, but not enough
    ac = np.clip(60 + 25 * np.log(aadt / 1000) + rng.normal(0, 25, n), 40, 250)
    ac = np.where(surf == 2, np.clip(ac * 0.45, 20, 80), ac).round(0)
    base = np.clip(rng.normal(230, 60, n), 100, 400).round(0)
    cbr = np.clip(np.exp(rng.normal(np.log(8), 0.55, n)), 2, 30).round(1)
    frz = np.clip(rng.gamma(2.0, 250, n), 0, 1500).round(0)
    precip = np.clip(rng.normal(800, 250, n), 300, 1500).round(0)
    drain = rng.choice(3, n, p=[0.5, 0.3, 0.2])                        # good, fair, poor
    esal = aadt * truck / 100 * 365 / 1e6                              # million heavy axle passes a year
    sn = 0.044 * ac / 1.0 + 0.011 * base + 0.35 * np.log(cbr)          # a structural number of sorts
    load = esal / (sn ** 2.2)
    frost = (frz / 600) * (precip / 800) * np.array([0.6, 1.0, 1.9])[drain]
    rate = (0.018 + 0.09 * np.tanh(load * 2.5) + 0.035 * np.tanh(frost) * (1 + 0.6 * (cbr < 5))) \
        * np.array([1.0, 0.75, 1.35])[surf]
    iri0 = np.array([0.9, 0.8, 1.6])[surf]
    iri = iri0 * np.exp(rate * age) + 0.6 * np.tanh(frost) * (age > 5)
    iri = np.clip(iri, 0.6, None) * np.exp(rng.normal(0, 0.06, n))
    iri = np.clip(iri, 0.6, 9.5)
    df = pd.DataFrame({
        "age_years": age, "aadt": aadt.astype(int), "truck_pct": truck, "ac_thickness_mm": ac.astype(int),
        "base_thickness_mm": base.astype(int), "subgrade_cbr": cbr, "freeze_index": frz.astype(int),
        "precip_mm": precip.astype(int), "drainage": np.array(["good", "fair", "poor"])[drain],
        "surface": np.array(["dense_ac", "sma", "chipseal"])[surf],
        "segment_id": rng.permutation(n) + 10000, "target": iri.round(2)})
    df.to_csv(HERE / "h28_asphalt.csv", index=False)


def bats() -> None:
    """Echolocation call parameters of bat passes and the species."""
    rng = np.random.default_rng(2802)
    names = ["pipistrelle", "noctule", "daubenton", "serotine", "natterer", "barbastelle", "horseshoe"]
    counts = [420, 330, 250, 180, 120, 60, 40]
    y = np.repeat(np.arange(7), counts)
    rng.shuffle(y)
    n = len(y)
    # per species: peak kHz (mean, sd), duration ms, interval ms, bandwidth kHz, knee kHz above the end
    peak_m = np.array([46.0, 21.0, 45.0, 27.0, 49.0, 36.0, 82.0])
    peak_s = np.array([2.5, 2.0, 4.0, 2.5, 6.0, 3.0, 2.0])
    dur_m = np.array([5.5, 18.0, 4.0, 9.0, 3.0, 4.0, 48.0])
    dur_s = np.array([1.2, 4.0, 0.8, 2.0, 0.8, 1.0, 8.0])
    int_m = np.array([90.0, 300.0, 75.0, 140.0, 70.0, 100.0, 95.0])
    bw_m = np.array([14.0, 8.0, 45.0, 22.0, 85.0, 12.0, 12.0])
    bw_s = np.array([4.0, 3.0, 8.0, 6.0, 12.0, 3.5, 3.0])
    peak = rng.normal(peak_m[y], peak_s[y])
    dur = np.clip(rng.normal(dur_m[y], dur_s[y]), 1.0, 80)
    ivl = np.clip(np.exp(rng.normal(np.log(int_m[y]), 0.25)), 30, 800)
    bw = np.clip(rng.normal(bw_m[y], bw_s[y]), 2, 120)
    # FM calls start well above the peak; QCF calls (noctule, pipistrelle) end near it; CF (horseshoe):
    # the peak is the long constant part and the start and end are short sweeps below it
    frac_above = np.array([0.25, 0.35, 0.75, 0.55, 0.8, 0.3, 0.04])[y]
    start = np.where(y == 6, peak - rng.normal(8, 2, n), peak + frac_above * bw)
    end = np.where(y == 6, peak - rng.normal(14, 3, n), start - bw)
    end = np.clip(end, 8, None)
    # barbastelle: two alternating call types; the pass's mean sits between them, its knee is odd
    knee = end + np.where(y == 5, rng.normal(14, 3, n), rng.normal(0.18, 0.05, n) * bw + rng.normal(0, 1.5, n))
    slope = (start - end) / dur
    pulses = np.clip(rng.poisson(np.array([14, 8, 16, 10, 12, 9, 11])[y]), 2, None)
    temp = rng.normal(13, 4, n).round(1)
    site_p = np.array([[0.4, 0.25, 0.05, 0.15, 0.1, 0.05],   # pipistrelle: everywhere, most in town
                       [0.2, 0.3, 0.2, 0.1, 0.2, 0.0],
                       [0.05, 0.1, 0.7, 0.05, 0.1, 0.0],    # daubenton: over water (site lake)
                       [0.3, 0.3, 0.1, 0.2, 0.1, 0.0],
                       [0.1, 0.2, 0.2, 0.1, 0.4, 0.0],
                       [0.05, 0.2, 0.1, 0.15, 0.5, 0.0],
                       [0.05, 0.1, 0.05, 0.1, 0.7, 0.0]])[:, :5]
    site_p = site_p / site_p.sum(1, keepdims=True)
    sites = np.array(["town_park", "farm_hedge", "lake", "church", "woodland"])
    site = np.array([rng.choice(5, p=site_p[k]) for k in y])
    hour = np.round(rng.uniform(0, 6, n), 2)
    df = pd.DataFrame({
        "peak_khz": peak.round(1), "start_khz": start.round(1), "end_khz": end.round(1), "duration_ms": dur.round(2),
        "interval_ms": ivl.round(1), "bandwidth_khz": (start - end).round(1), "knee_khz": knee.round(1),
        "slope_khz_ms": slope.round(2), "pulses": pulses, "temp_c": temp, "site": sites[site],
        "hour": hour, "target": np.array(names)[y]})
    df.to_csv(HERE / "h28_bats.csv", index=False)


def rink() -> None:
    """Hourly refrigeration load of an indoor ice rink, with the weather, the sessions and the resurfacer."""
    rng = np.random.default_rng(2803)
    days = 120
    hours = days * 24
    ts = pd.date_range("2024-01-08 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod, dow = t % 24, (t // 24) % 7
    doy = t / 24.0
    # outdoor: winter into spring, a daily cycle, weather fronts
    front = np.zeros(hours)
    for i in range(1, hours):
        front[i] = 0.985 * front[i - 1] + rng.normal(0, 0.45)
    outdoor = -4 + 14 * (doy / days) ** 1.3 + 4 * np.sin(2 * np.pi * (hod - 9) / 24) + front
    # a weekly schedule: weekday mornings (school, figure skating), evenings (hockey), weekend days (public)
    sched = np.zeros((7, 24), dtype=int)
    for d in range(5):
        sched[d, [7, 8, 10, 11, 16, 17, 19, 20, 21]] = 1
    for d in (5, 6):
        sched[d, [9, 10, 11, 13, 14, 15, 16, 18, 19]] = 1
    session = sched[dow, hod].copy()
    cancel = rng.random(hours) < 0.08
    session[cancel] = 0
    extra = (rng.random(hours) < 0.03) & (hod >= 8) & (hod <= 22)
    session[extra] = 1
    skaters = np.where(session == 1, np.clip(rng.normal(np.where(dow >= 5, 140, 45), 25), 5, 260), 0).round(0)
    # the resurfacer runs after the last hour of each block of sessions (and after long blocks)
    nxt = np.r_[session[1:], 0]
    resurf = ((session == 1) & (nxt == 0)).astype(int)
    run_len = np.zeros(hours, dtype=int)
    for i in range(hours):
        run_len[i] = run_len[i - 1] + 1 if (session[i] == 1 and i > 0) else int(session[i])
    resurf[(run_len % 3 == 0) & (run_len > 0)] = 1
    rh = np.clip(45 + 1.2 * outdoor + 10 * session + rng.normal(0, 4, hours), 20, 90)
    # heat into the ice (kW); the slab and the plant respond with a lag
    heat = (60 + 4.0 * np.clip(outdoor + 8, 0, None) + 0.9 * np.clip(rh - 40, 0, None)
            + session * (35 + 0.55 * skaters) + resurf * 190)
    load = np.zeros(hours)
    load[0] = heat[0] + 20
    for i in range(1, hours):
        load[i] = 0.62 * load[i - 1] + 0.38 * heat[i]
    # the night setback: a warmer ice set point from 00 to 06 lowers the load
    load = (load - 25 * ((hod >= 0) & (hod < 6))) * (1 + rng.normal(0, 0.02, hours)) + 40
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "load_kw": load.round(1),
                  "outdoor_c": outdoor.round(1), "hall_rh": rh.round(1), "session": session,
                  "resurface": resurf, "skaters": skaters.astype(int)}).to_csv(HERE / "h28_rink.csv", index=False)


def snowflakes() -> None:
    """Small images of snow crystals, six habits."""
    rng = np.random.default_rng(2804)
    n_per, S = 170, 16
    labels = np.repeat(np.arange(6), n_per)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)

    def seg(img, x0, y0, x1, y1, v, w):
        # a line segment of half-width w (soft edge)
        px, py = xx - x0, yy - y0
        dx, dy = x1 - x0, y1 - y0
        L2 = dx * dx + dy * dy + 1e-9
        u = np.clip((px * dx + py * dy) / L2, 0, 1)
        d = np.hypot(px - u * dx, py - u * dy)
        img += v * np.clip(w + 0.5 - d, 0, 1)

    def hexagon(img, cx, cy, r, th, v):
        ang = np.arctan2(yy - cy, xx - cx) - th
        rr = np.hypot(xx - cx, yy - cy)
        edge = r * np.cos(np.pi / 6) / np.cos(((ang + np.pi / 6) % (np.pi / 3)) - np.pi / 6)
        img += v * np.clip(edge - rr + 0.5, 0, 1)

    imgs = np.zeros((len(labels), 1, S, S), dtype=np.uint8)
    for i, k in enumerate(labels):
        img = np.zeros((S, S))
        cx, cy = 7.5 + rng.uniform(-2, 2, 2)
        sc = rng.uniform(0.8, 1.2)
        th = rng.uniform(0, 2 * np.pi)
        v = rng.uniform(0.75, 1.0)
        if k == 0:                                   # plate
            hexagon(img, cx, cy, 4.2 * sc, th, v)
        elif k == 1:                                 # stellar dendrite
            for j in range(6):
                a = th + j * np.pi / 3
                ex, ey = cx + 6.0 * sc * np.cos(a), cy + 6.0 * sc * np.sin(a)
                seg(img, cx, cy, ex, ey, v, 0.25)
                for f in (0.5, 0.75):                # side branches
                    bx, by = cx + f * 6.0 * sc * np.cos(a), cy + f * 6.0 * sc * np.sin(a)
                    for s in (-1, 1):
                        b = a + s * np.pi / 3
                        seg(img, bx, by, bx + 1.6 * sc * np.cos(b), by + 1.6 * sc * np.sin(b), 0.7 * v, 0.15)
        elif k == 2:                                 # column: a short solid prism
            dx, dy = 2.6 * sc * np.cos(th), 2.6 * sc * np.sin(th)
            seg(img, cx - dx, cy - dy, cx + dx, cy + dy, v, 1.3 * sc)
        elif k == 3:                                 # needle
            dx, dy = 6.2 * sc * np.cos(th), 6.2 * sc * np.sin(th)
            seg(img, cx - dx, cy - dy, cx + dx, cy + dy, v, 0.3)
        elif k == 4:                                 # graupel: a lumpy round pellet
            rr = np.hypot(xx - cx, yy - cy)
            r0 = 3.7 * sc                            # about the plate's size: the rime's lumps tell it apart
            img += v * np.clip(r0 - rr + 0.5, 0, 1)
            for _ in range(7):
                a = rng.uniform(0, 2 * np.pi)
                bx, by = cx + r0 * np.cos(a), cy + r0 * np.sin(a)
                img += 0.6 * v * np.clip(0.9 - np.hypot(xx - bx, yy - by), 0, 1)
        else:                                        # capped column: a column with a plate across each end
            L = 2.6 * sc
            dx, dy = L * np.cos(th), L * np.sin(th)
            seg(img, cx - dx, cy - dy, cx + dx, cy + dy, v, 1.3 * sc)     # the column's prism, and thin caps
            px, py = -np.sin(th) * 3.6 * sc, np.cos(th) * 3.6 * sc
            for s in (-1, 1):
                ex, ey = cx + s * dx, cy + s * dy
                seg(img, ex - px, ey - py, ex + px, ey + py, 0.6 * v, 0.15)
        img = np.clip(img, 0, 1.2)
        # camera blur (a light 3x3), uneven background, shot noise
        pad = np.pad(img, 1, mode="edge")
        img = 0.6 * img + 0.4 * sum(pad[1 + a:1 + a + S, 1 + b:1 + b + S] for a in (-1, 0, 1) for b in (-1, 0, 1)) / 9
        g = rng.normal(0, 1, 2)
        bg = 0.06 + 0.03 * (g[0] * (xx - 7.5) + g[1] * (yy - 7.5)) / 8
        img = img + bg + rng.normal(0, 0.06, (S, S))
        imgs[i, 0] = np.clip(img * 200, 0, 255).astype(np.uint8)
    _savez(HERE / "h28_snowflakes.npz", x=imgs, y=labels.astype(np.int64))


def heldout28() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    asphalt()
    bats()
    rink()
    snowflakes()
    print_sizes(HERE, FILES)


if __name__ == "__main__":
    heldout28()
