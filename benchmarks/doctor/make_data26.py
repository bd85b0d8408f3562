#!/usr/bin/env python
"""Write the data files of the twenty-sixth held-out set (heldout26.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2601-2605, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data26.py

  h26_dairy.csv       1500 test-day records of dairy cows and the day's milk yield (the target,
                      regression, kg): breed text (holstein, jersey, brown_swiss, fleckvieh; 4 % typed
                      by hand as ' Holstein' or 'JERSEY'), parity 1-8, days_in_milk 5-340, milkings
                      (2 or 3 a day), concentrate_kg, thi (temperature-humidity index of the barn),
                      bcs (body condition score, 2-4.5, 5 % empty), scc_k (somatic cells, thousand per
                      mL, lognormal; 3 % empty), lameness (1-5), days_pregnant (0 if open), herd
                      (herd_01..herd_09, each its own level). Wood's lactation curve a t^b e^-ct per
                      breed (peak near day 65; flatter in first lactation), a parity factor, more milk
                      with three milkings and with concentrate (saturating), heat stress above THI 68
                      (stronger in high producers), mastitis (log SCC above 100k) and lameness losses,
                      late pregnancy, 7 % lognormal noise and 0.8 kg of measurement noise
  h26_avalanche.csv   1200 field observations of an avalanche warning service and the avalanche
                      problem the forecaster recorded (the target): none 300, storm_slab 250,
                      wind_slab 250, persistent_slab 220, wet_snow 180. elevation_m, aspect (N..NW),
                      slope_deg, new_snow_24h_cm, new_snow_72h_cm, wind_kmh, wind_from (the wind's
                      direction, text), air_temp_c, max_temp_24h_c, rain_on_snow (0/1), snow_depth_cm,
                      weak_grain (grain type of the weakest layer, text), weak_layer_depth_cm,
                      ect_taps (Extended Column Test: taps to a propagating fracture, 1-30; 99 is the
                      database's code for ECTX, no propagation, the strongest sign of stability: on
                      44 % of the rows), penetration_cm (boot), observer (six names, no effect).
                      Storm slabs: much new snow, an ECT in the new snow; wind slabs: strong wind,
                      lee aspects loaded, moderate snow; persistent slabs: little new snow, buried
                      facets, depth hoar or surface hoar deep down, a propagating ECT; wet snow: warm,
                      rain or a sunny aspect, deep penetration, mostly ECTX; none: little loading and
                      ECTX in 90 %, although 70 % of the stable pits also hold facets, depth hoar or
                      buried surface hoar (a weak layer that does not propagate): between none and a
                      persistent slab the ECT is what tells. 4 % of the labels wrong
  h26_sewer.csv       2880 hours (120 days from Friday 2023-09-01) of a combined sewer's inflow to a
                      treatment plant, as its SCADA exports them: timestamp, inflow_m3h (the series to
                      forecast, 842-5228, 8 gaps empty), rain_mm (the catchment's rain gauge, mm per
                      hour: 0 in 92 % of the hours; 0 is a real reading, dry), temp_c, groundwater_m (a piezometer: depth to the water
                      table). Dry-weather flow: a household day (a night minimum near half the mean,
                      a morning peak at 07:00-09:00, an evening one; later and flatter at weekends)
                      plus infiltration that grows as the water table rises after wet spells; wet
                      weather: each hour of rain routed to the plant through a unit hydrograph (peak
                      after 2 hours, a tail of about 10) and a slow interflow over two days; the
                      pumps cap the inflow at 5200 m3/h (reached in the largest storm); 3 % noise.
                      No hour or weekday column
  h26_engines.npz     500 recordings (N, 64, 3) float32 of a ship's diesel generator (64 samples of
                      the order-tracked signals, about 8 revolutions): radial and axial vibration
                      (mm/s) and the charge-air pressure (bar, around 2.1), and the condition (y 0-4,
                      100 each): 0 normal (firing order and its harmonic), 1 misfire (a half-order
                      component: one cylinder in two revolutions missing), 2 bearing wear (a high,
                      amplitude-modulated component in the radial vibration), 3 misalignment (a
                      strong second shaft order in the axial vibration), 4 turbocharger surge (a slow
                      oscillation of the charge-air pressure with dips). Each recording has its own
                      speed (+-8 %), phases, amplitudes and noise
  h26_thermal.npz     600 infrared images (N, 1, 16, 16) uint8 of solar-panel modules from a drone
                      survey, 0-255 over 15-75 degC, and the fault (y 0-4, 120 each): 0 healthy, 1
                      hotspot (one small hot cell), 2 substring (a bypass diode: a warm vertical
                      stripe of a third of the module), 3 soiling (dust along the lower frame: a warm
                      band on the bottom rows), 4 junction box (a warm band along the top edge, where
                      the box sits). Each image has its own ambient level, a gentle gradient, a cell
                      grid, sensor noise and 2 % dead pixels
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h26_dairy.csv", "h26_avalanche.csv", "h26_sewer.csv", "h26_engines.npz", "h26_thermal.npz"]


def dairy() -> None:
    """Test-day milk yields of dairy cows."""
    rng = np.random.default_rng(2601)
    n = 1500
    breeds = np.array(["holstein", "jersey", "brown_swiss", "fleckvieh"])
    br = rng.choice(4, n, p=[0.55, 0.15, 0.12, 0.18])
    parity = np.clip(rng.geometric(0.38, n), 1, 8)
    dim = rng.integers(5, 341, n)
    herd = rng.integers(0, 9, n)
    herd_f = np.exp(rng.normal(0, 0.08, 9))[herd]
    milkings = np.where(rng.random(n) < np.array([0.3, 0.1, 0.25, 0.2, 0.35, 0.05, 0.5, 0.15, 0.3])[herd], 3, 2)
    conc = np.clip(rng.normal(7 + 0.012 * (200 - dim).clip(0), 2.2, n), 1, 15)
    thi = np.clip(rng.normal(62, 8, n), 42, 84)
    bcs = np.clip(np.round((rng.normal(3.1 + 0.002 * (dim - 150), 0.35, n)) * 4) / 4, 2.0, 4.5)
    scc = np.exp(rng.normal(np.log(90), 0.8, n))
    mast = rng.random(n) < 0.1
    scc = np.where(mast, np.exp(rng.normal(np.log(900), 0.6, n)), scc)
    lame = np.clip(rng.choice(5, n, p=[0.55, 0.25, 0.12, 0.06, 0.02]) + 1, 1, 5)
    preg = np.where(dim > 80, np.clip(dim - rng.integers(60, 140, n), 0, None), 0)
    preg = np.where(rng.random(n) < 0.2, 0, preg)                    # open cows
    # Wood's curve per breed; first lactation flatter (lower peak, more persistent)
    peak = np.array([42.0, 28.0, 36.0, 34.0])[br]
    b = np.where(parity == 1, 0.17, 0.23)
    c = np.where(parity == 1, 0.0024, 0.0036)
    tpk = b / c
    wood = (dim / tpk) ** b * np.exp(-c * (dim - tpk))
    par_f = np.select([parity == 1, parity == 2, parity >= 6], [0.82, 0.95, 0.93], 1.0)
    y = peak * wood * par_f * herd_f
    y = y * np.where(milkings == 3, 1.1, 1.0)
    y = y + 4.5 * (1 - np.exp(-(conc - 4) / 4)) * (y / 30)
    y = y - 0.3 * np.clip(thi - 68, 0, None) * (y / 30) ** 1.5
    y = y - 1.1 * np.clip(np.log2(scc / 100), 0, None)
    y = y * np.select([lame >= 4, lame == 3], [0.85, 0.94], 1.0)
    y = y * np.where(preg > 190, 0.85, 1.0) * (1 - 0.04 * (bcs - 3.0))
    y = np.clip(y * np.exp(rng.normal(0, 0.07, n)) + rng.normal(0, 0.8, n), 1.5, None)
    breed_text = breeds[br].astype(object)
    odd = rng.random(n) < 0.04
    breed_text[odd] = [(" " + s.capitalize()) if rng.random() < 0.5 else s.upper() for s in breed_text[odd]]
    bcs_obs = bcs.copy()
    bcs_obs[rng.random(n) < 0.05] = np.nan
    scc_obs = scc.round(0)
    scc_obs[rng.random(n) < 0.03] = np.nan
    df = pd.DataFrame({
        "breed": breed_text, "parity": parity, "days_in_milk": dim, "milkings": milkings,
        "concentrate_kg": conc.round(1), "thi": thi.round(1), "bcs": bcs_obs, "scc_k": scc_obs,
        "lameness": lame, "days_pregnant": preg, "herd": [f"herd_{h + 1:02d}" for h in herd],
        "target": y.round(1)})
    df.to_csv(HERE / "h26_dairy.csv", index=False)


def avalanche() -> None:
    """Field observations of an avalanche warning service and the avalanche problem recorded."""
    rng = np.random.default_rng(2602)
    counts = [300, 250, 250, 220, 180]
    y = np.repeat(np.arange(5), counts)
    rng.shuffle(y)
    n = len(y)
    NO, ST, WI, PE, WE = (y == k for k in range(5))
    aspects = np.array(["N", "NE", "E", "SE", "S", "SW", "W", "NW"])
    wind_from = rng.choice(8, n, p=[0.1, 0.05, 0.05, 0.05, 0.1, 0.2, 0.3, 0.15])
    # wind slabs sit on lee aspects: the aspect opposite the wind (+-1 sector)
    asp = np.where(WI, (wind_from + 4 + rng.integers(-1, 2, n)) % 8, rng.choice(8, n))
    asp = np.where(WE & (rng.random(n) < 0.6), rng.choice([3, 4, 5], n), asp)      # sunny slopes
    asp = np.where(PE & (rng.random(n) < 0.25), rng.choice([7, 0, 1], n), asp)     # shady slopes
    elev = np.clip(rng.normal(np.select([WE], [2000.0], 2400.0), 350, n), 1300, 3300).round(-1)
    slope = np.clip(rng.normal(35, 5, n), 25, 50).round(0)
    hn24 = np.select([ST, WI, PE, WE], [rng.gamma(6, 6, n), rng.gamma(2, 5, n), rng.gamma(1, 3, n),
                                        rng.gamma(1, 4, n)], rng.gamma(1, 3.5, n))
    hn24 = np.where((NO | PE) & (rng.random(n) < 0.55), 0.0, hn24)
    hn72 = hn24 + np.select([ST, WI], [rng.gamma(3, 8, n), rng.gamma(2, 7, n)], rng.gamma(1.2, 5, n))
    wind = np.select([WI, ST], [rng.normal(60, 15, n), rng.normal(28, 12, n)], rng.normal(18, 10, n)).clip(0, 120)
    temp = np.select([WE], [rng.normal(3, 3, n)], rng.normal(-7, 5, n))
    tmax = temp + np.select([WE], [rng.uniform(3, 9, n)], rng.uniform(0, 6, n))
    ros = (WE & (rng.random(n) < 0.45)) | (~WE & (rng.random(n) < 0.02))
    hs = np.clip(rng.normal(np.select([PE], [140.0], 160.0), 45, n), 30, 400).round(0)
    grains = np.array(["rounds", "facets", "depth_hoar", "surface_hoar", "precip_particles", "melt_forms"])
    gp = {0: [0.2, 0.4, 0.17, 0.13, 0.06, 0.04],
          1: [0.1, 0.08, 0.02, 0.05, 0.72, 0.03],
          2: [0.55, 0.12, 0.03, 0.05, 0.22, 0.03],
          3: [0.1, 0.4, 0.22, 0.24, 0.02, 0.02],
          4: [0.1, 0.05, 0.02, 0.01, 0.02, 0.8]}
    grain = np.array([rng.choice(6, p=gp[int(k)]) for k in y])
    wl_depth = np.select([ST, WI, PE, WE], [hn24 * 0.8 + rng.normal(10, 5, n), rng.normal(35, 12, n),
                                            rng.normal(65, 25, n), rng.normal(30, 15, n)], rng.normal(60, 25, n))
    wl_depth = np.clip(wl_depth, 5, hs - 5).round(0)
    # Extended Column Test: taps to a propagating fracture; 99 = ECTX (no propagation)
    p_x = np.select([NO, ST, WI, PE, WE], [0.9, 0.12, 0.2, 0.05, 0.75])
    ectx = rng.random(n) < p_x
    taps = np.select([ST, WI, PE], [rng.normal(12, 4, n), rng.normal(15, 5, n), rng.normal(19, 5, n)],
                     rng.normal(22, 6, n))
    ect = np.where(ectx, 99, np.clip(np.round(taps), 1, 30)).astype(int)
    pen = np.select([ST, WE], [rng.normal(45, 12, n), rng.normal(40, 12, n)], rng.normal(15, 8, n)).clip(2, 90)
    observers = np.array(["ab", "cd", "ef", "gh", "ij", "kl"])
    wrong = rng.random(n) < 0.04
    y = np.where(wrong, rng.choice(5, n), y)
    names = np.array(["none", "storm_slab", "wind_slab", "persistent_slab", "wet_snow"])
    df = pd.DataFrame({
        "elevation_m": elev.astype(int), "aspect": aspects[asp], "slope_deg": slope.astype(int),
        "new_snow_24h_cm": hn24.round(0), "new_snow_72h_cm": hn72.round(0), "wind_kmh": wind.round(0),
        "wind_from": aspects[wind_from], "air_temp_c": temp.round(1), "max_temp_24h_c": tmax.round(1),
        "rain_on_snow": ros.astype(int), "snow_depth_cm": hs.astype(int), "weak_grain": grains[grain],
        "weak_layer_depth_cm": wl_depth.astype(int), "ect_taps": ect, "penetration_cm": pen.round(0),
        "observer": observers[rng.integers(0, 6, n)], "target": names[y]})
    df.to_csv(HERE / "h26_avalanche.csv", index=False)


def sewer() -> None:
    """Hourly inflow of a combined sewer to a treatment plant, the rain and the water table."""
    rng = np.random.default_rng(2603)
    days = 120
    hours = days * 24
    ts = pd.date_range("2023-09-01 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    dow = (t // 24 + 4) % 7                         # 2023-09-01 is a Friday
    weekend = dow >= 5
    # household day: night minimum, morning peak, evening shoulder (later and flatter at weekends)
    def shape(h, shift, amp):
        return (1 + amp * (0.55 * np.exp(-0.5 * ((h - 8 - shift) / 1.5) ** 2)
                           + 0.35 * np.exp(-0.5 * ((h - 19.5) / 2.2) ** 2)
                           - 0.55 * np.exp(-0.5 * ((h - 3.5) / 2.0) ** 2)))
    dwf = 1500 * np.where(weekend, shape(hod, 1.8, 0.75), shape(hod, 0.0, 1.0))
    # rain: events of a few hours, about one every four days, wetter in late autumn
    rain = np.zeros(hours)
    k = 0
    while k < hours:
        k += int(rng.exponential(96 - 30 * k / hours))
        if k >= hours:
            break
        dur = int(rng.integers(2, 14))
        total = rng.gamma(1.6, 7.0)
        prof = rng.dirichlet(np.ones(dur) * 1.5)
        seg = slice(k, min(hours, k + dur))
        rain[seg] += (total * prof)[: seg.stop - seg.start]
        k += dur
    rain = np.where(rain < 0.1, 0.0, rain).round(1)
    # water table (depth, m): rises with rain, recedes slowly
    gw = np.zeros(hours)
    level = 2.8
    for i in range(hours):
        level = level + 0.0012 * (3.0 - level) - 0.012 * rain[i]
        gw[i] = level
    infil = 350 * np.clip(3.2 - gw, 0, None)
    # wet weather: a unit hydrograph (peak after 2 h) and a slow interflow over two days
    lag = np.arange(14)
    uh = lag ** 1.6 * np.exp(-lag / 1.3)
    uh = uh / uh.sum()
    slow = np.exp(-np.arange(48) / 18.0)
    slow = slow / slow.sum()
    runoff = 520 * np.convolve(rain, uh)[:hours] + 90 * np.convolve(rain, slow)[:hours]
    temp = 12 - 8 * t / hours + 4 * np.sin(2 * np.pi * (hod - 9) / 24) + np.repeat(rng.normal(0, 2.5, days), 24)
    flow = (dwf * np.exp(rng.normal(0, 0.03, hours)) + infil + runoff)
    flow = np.minimum(flow, 5200.0) + rng.normal(0, 20, hours)
    flow = flow.round(0)
    flow[rng.choice(hours, 8, replace=False)] = np.nan
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "inflow_m3h": flow, "rain_mm": rain,
                  "temp_c": (temp + rng.normal(0, 0.4, hours)).round(1),
                  "groundwater_m": (gw + rng.normal(0, 0.01, hours)).round(2)}
                 ).to_csv(HERE / "h26_sewer.csv", index=False)


def engines() -> None:
    """Order-tracked vibration and charge-air pressure of a ship's diesel generator."""
    rng = np.random.default_rng(2604)
    n, T = 500, 64
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    x = np.zeros((n, T, 3), np.float32)
    t = np.arange(T, dtype=float)
    for i, k in enumerate(labels):
        sp = rng.uniform(0.92, 1.08)                        # speed relative to nominal
        f1 = sp / 8.0                                       # one revolution in 8 samples
        ph = rng.uniform(0, 2 * np.pi, 8)
        fire = 2 * f1                                       # firing order: two per revolution
        rad = (rng.uniform(2.0, 3.0) * np.sin(2 * np.pi * fire * t + ph[0])
               + rng.uniform(0.6, 1.0) * np.sin(2 * np.pi * 2 * fire * t + ph[1])
               + rng.uniform(0.2, 0.4) * np.sin(2 * np.pi * f1 * t + ph[2]))
        axi = (rng.uniform(0.8, 1.2) * np.sin(2 * np.pi * f1 * t + ph[3])
               + rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * fire * t + ph[4]))
        p = 2.1 + rng.uniform(-0.15, 0.15) + rng.uniform(0.01, 0.03) * np.sin(2 * np.pi * fire * t + ph[0])
        if k == 1:      # misfire: a half-order component and weaker firing
            rad = 0.85 * rad + rng.uniform(1.0, 2.0) * np.sin(2 * np.pi * 0.5 * f1 * t + ph[5])
            p = p - rng.uniform(0.02, 0.06) * (1 + np.sin(2 * np.pi * 0.5 * f1 * t + ph[5]))
        elif k == 2:    # bearing wear: a high, amplitude-modulated component in the radial vibration
            fb = rng.uniform(0.36, 0.44)
            rad = rad + rng.uniform(0.8, 1.6) * (1 + 0.8 * np.sin(2 * np.pi * f1 * t + ph[6])) * np.sin(2 * np.pi * fb * t + ph[7])
        elif k == 3:    # misalignment: a strong second shaft order, axial
            axi = axi + rng.uniform(1.5, 2.5) * np.sin(2 * np.pi * 2 * f1 * t + ph[6])
            rad = rad + rng.uniform(0.3, 0.7) * np.sin(2 * np.pi * 2 * f1 * t + ph[7])
        elif k == 4:    # turbocharger surge: a slow oscillation of the charge air with dips
            fs = rng.uniform(0.025, 0.05)
            p = p + rng.uniform(0.08, 0.16) * np.sin(2 * np.pi * fs * t + ph[5]) - rng.uniform(0.0, 0.05)
            rad = rad + rng.uniform(0.3, 0.6) * np.sin(2 * np.pi * fs * t + ph[6])
        amp = rng.uniform(0.8, 1.25)                        # mounting and sensor gain
        x[i, :, 0] = np.round(amp * rad + rng.normal(0, 0.5, T), 3)
        x[i, :, 1] = np.round(amp * axi + rng.normal(0, 0.4, T), 3)
        x[i, :, 2] = np.round(p + rng.normal(0, 0.015, T), 4)
    _savez(HERE / "h26_engines.npz", x=x, y=labels.astype(np.int64))


def thermal() -> None:
    """Drone infrared images of solar modules and the fault in each."""
    rng = np.random.default_rng(2605)
    n, S = 600, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, k in enumerate(labels):
        amb = rng.uniform(28, 45)                                   # module temperature, degC
        grad = rng.uniform(-0.15, 0.15) * (xx - 7.5) + rng.uniform(-0.1, 0.1) * (yy - 7.5)
        grid = np.where((xx % 4 == 0) | (yy % 4 == 0), -rng.uniform(0.3, 0.9), 0.0)   # cell borders
        img = amb + grad + grid + rng.normal(0, 0.6, (S, S))
        d = rng.uniform(3, 7)                                       # how hot the fault runs
        if k == 1:          # hotspot: one small hot cell
            cx, cy = rng.integers(2, 14, 2)
            img += (d + 4) * np.exp(-0.5 * (((xx - cx) ** 2 + (yy - cy) ** 2) / 0.9 ** 2))
        elif k == 2:        # substring (bypass diode): a warm vertical stripe, a third of the module
            c0 = int(rng.choice([0, 5, 11]))
            img[:, c0:c0 + 5] += d * 0.8
        elif k == 3:        # soiling along the lower frame: a warm band on the bottom rows
            h = int(rng.integers(2, 4))
            img[S - h:, :] += d * rng.uniform(0.7, 1.0)
        elif k == 4:        # junction box: a warm band along the top edge
            h = int(rng.integers(2, 4))
            img[:h, :] += d * rng.uniform(0.7, 1.0)
        dead = rng.random((S, S)) < 0.02
        img = np.where(dead, 15.0, img)
        x[i, 0] = np.clip(np.round((img - 15) * 255 / 60), 0, 255).astype(np.uint8)
    _savez(HERE / "h26_thermal.npz", x=x, y=labels.astype(np.int64))


def heldout26() -> None:
    HERE.mkdir(exist_ok=True)
    dairy()
    avalanche()
    sewer()
    engines()
    thermal()


if __name__ == "__main__":
    heldout26()
    print_sizes(HERE, FILES)
