#!/usr/bin/env python
"""Write the data files of the twenty-third held-out set (heldout23.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2301-2305, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data23.py

  h23_brews.csv       1000 batches of a craft brewery and their apparent attenuation in % (the
                      target, regression: how much of the wort's sugar the yeast ate, 30-85, mean 54). style
                      (lager, pale_ale, ipa, stout, wheat) and yeast (lager_w34, ale_us05,
                      english_s04, wheat_wb06) text, og (original gravity, 1.034-1.095),
                      mash_temp_c 62-70, mash_min 30-90, pitch_rate (million cells per ml and degree
                      Plato) 0.2-1.6, ferment_temp_c 8-24, days 5-21, dry_hop_g_l 0-10 (no effect),
                      oxygen_ppm 4-12. The wort's fermentability falls steeply (a sigmoid) as the
                      mash temperature rises through 66-68 C (beta-amylase dies) and rises with a
                      long mash; each yeast has its own attenuation and temperature range (an ale
                      yeast below 15 C and a lager yeast above 16 C stall); under-pitching, little
                      oxygen and a strong wort lower it; a batch kegged before its yeast is done
                      (the days needed grow with og and fall with warmth) is incomplete; 1.2 points
                      of noise
  h23_boilers.csv     1200 service visits to gas combi boilers, and the fault the engineer found
                      (the target): ok 420, ignition 240, pump 210, pressure 180, scale 150. brand
                      (vantec, heatline, ardent, solaris) text, age_years 0-20, system_pressure_bar,
                      flow_temp_c, return_temp_c, ignition_attempts, flame_current_ua, pump_current_a,
                      fan_rpm, dhw_flow_lpm, water_hardness_ppm, lockouts_30d. Each fault shifts a few
                      readings (ignition: low flame current, many attempts and lockouts; pump: a
                      hot flow and a small return, odd pump current; pressure: under 0.8 bar, often
                      a history of lockouts; scale: hard water, old, a wide flow-return gap at low
                      DHW flow), each reading has overlap between classes, 3% of the labels are
                      wrong
  h23_pizza.csv       2160 hours (90 days from Monday 2024-01-08) of a takeaway pizza shop's orders
                      (the series to forecast, 0-125 an hour), hour 0-23, weekday 0-6, rain_mm,
                      match (1 in the hours of a televised football match, announced the day
                      before, 0 else). Open 11:00-23:00; a lunch peak at 12-13, a dinner peak at
                      18-20, Friday and Saturday evenings about 1.6 times a weekday's, Sundays
                      earlier; a match lifts the hours before and at half time; rain adds
                      deliveries; payday weekends (the last Friday of the month) are busier;
                      Poisson counts. orders 1..6 hours ahead from a 24-hour window
  h23_welds.npz       600 grayscale patches (N, 1, 16, 16) uint8 of radiographs of butt welds, and
                      the inspector's call (y 0-4, 120 each): 0 good (a bright horizontal bead,
                      3-5 px wide, slight tilt, grain), 1 porosity (1-4 round dark pores in the
                      bead), 2 crack (a thin dark line along the bead's axis, 5-10 px), 3 undercut
                      (a dark groove along one edge of the bead, most of its length), 4 spatter
                      (3-7 small bright dots outside the bead). Exposure 0.85-1.15, film noise
  h23_washers.npz     500 spin cycles (N, 40, 4) float32 logged every 1.5 s by a washing machine's
                      controller: rpm (drum speed, 0-1400), motor_current_a, vibration_g (RMS of the
                      tub accelerometer), tub_temp_c; and the technician's diagnosis (y 0-4, 100 each):
                      0 normal (a ramp to 1200-1400 rpm, a small vibration bump at the resonance near
                      300 rpm), 1 unbalanced (vibration grows with the speed squared; the controller
                      drops back to 90 rpm once or twice to redistribute the load and re-ramps,
                      possibly to a lower top speed), 2 worn_bearing (a speed ramp like normal; more
                      current, vibration that grows with the speed and is noisy at the top, a
                      warmer tub), 3 belt_slip (the drum lags and stalls at 700-1000 rpm; the
                      current jumps while it slips), 4 loose_damper (a normal ramp with a large
                      vibration peak while crossing the resonance near 300 rpm). Load sizes and
                      sensor noise vary
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h23_brews.csv", "h23_boilers.csv", "h23_pizza.csv", "h23_welds.npz", "h23_washers.npz"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def brews() -> None:
    """Craft-brewery batches and their apparent attenuation."""
    rng = np.random.default_rng(2301)
    n = 1000
    styles = np.array(["lager", "pale_ale", "ipa", "stout", "wheat"])
    yeasts = np.array(["lager_w34", "ale_us05", "english_s04", "wheat_wb06"])
    st = rng.choice(5, n, p=[0.22, 0.25, 0.25, 0.13, 0.15])
    # the usual yeast for the style, and sometimes another
    usual = np.array([0, 1, 1, 2, 3])[st]
    ye = np.where(rng.random(n) < 0.8, usual, rng.choice(4, n))
    og = np.clip(np.where(st == 3, rng.normal(1.066, 0.012, n), rng.normal(1.054, 0.012, n)), 1.034, 1.095)
    mash_t = rng.uniform(62, 70, n)
    mash_min = rng.choice([30, 45, 60, 75, 90], n, p=[0.1, 0.2, 0.45, 0.1, 0.15])
    pitch = np.clip(rng.lognormal(np.log(0.75), 0.4, n), 0.2, 1.6)
    lager = ye == 0
    ferm_t = np.where(lager, rng.uniform(8, 18, n), rng.uniform(13, 24, n))
    days = rng.integers(5, 22, n)
    hop = np.where(np.isin(st, [1, 2]), rng.uniform(0, 10, n), 0.0)
    oxy = rng.uniform(4, 12, n)
    # fermentability of the wort: beta-amylase dies as the mash passes 66-68 C
    ferm = 0.60 + 0.22 * _sigmoid(-(mash_t - 67.0) * 1.3) + 0.05 * (mash_min - 60) / 30
    ferm = ferm - np.where(st == 3, 0.05, 0.0)                       # roast malt: less fermentable
    base = np.array([0.97, 1.0, 0.92, 0.99])[ye]                     # the yeast's own attenuation
    lo = np.where(lager, 8.0, 15.0)
    hi = np.where(lager, 16.0, 24.0)
    temp_ok = _sigmoid((ferm_t - lo) * 1.2) * _sigmoid((hi + 1.5 - ferm_t) * 1.5)
    vigour = (1 - 0.25 * np.exp(-(pitch - 0.2) / 0.35)) * (1 - 0.12 * np.exp(-(oxy - 4) / 2.5))
    vigour = vigour * (1 - 2.0 * np.maximum(og - 1.070, 0))
    need = 4 + 260 * (og - 1.0) * (1.5 - 0.5 * temp_ok) * np.where(lager, 1.5, 1.0) * (0.8 + 0.2 / np.maximum(pitch, 0.3))
    done = 1 - np.exp(-np.maximum(days, 1) / np.maximum(need / 3.0, 1))
    att = 100 * ferm * base * (0.55 + 0.45 * temp_ok) * vigour * (0.6 + 0.4 * done)
    att = np.clip(att + rng.normal(0, 1.2, n), 30, 92)
    df = pd.DataFrame({
        "style": styles[st], "yeast": yeasts[ye], "og": og.round(3), "mash_temp_c": mash_t.round(1),
        "mash_min": mash_min, "pitch_rate": pitch.round(2), "ferment_temp_c": ferm_t.round(1), "days": days,
        "dry_hop_g_l": hop.round(1), "oxygen_ppm": oxy.round(1), "target": att.round(1)})
    df.to_csv(HERE / "h23_brews.csv", index=False)


def boilers() -> None:
    """Service visits to gas combi boilers, and the fault found."""
    rng = np.random.default_rng(2302)
    counts = [420, 240, 210, 180, 150]
    y = np.repeat(np.arange(5), counts)
    rng.shuffle(y)
    n = len(y)
    brands = np.array(["vantec", "heatline", "ardent", "solaris"])
    br = rng.choice(4, n, p=[0.35, 0.3, 0.2, 0.15])
    age = np.clip(rng.gamma(2.5, 3.0, n) + np.where(y == 4, 4, 0), 0, 20)
    hard = np.clip(rng.normal(np.where(y == 4, 300, 180), 80, n), 20, 450)
    pressure = np.clip(rng.normal(np.where(y == 3, 0.6, 1.45), np.where(y == 3, 0.25, 0.3), n), 0.05, 2.8)
    flow_t = rng.normal(68, 6, n) + np.where(y == 2, 9, 0) + np.where(y == 4, 4, 0)
    gap = rng.normal(18, 4, n) + np.where(y == 2, 12, 0) + np.where(y == 4, 7, 0)
    ret_t = flow_t - gap
    attempts = rng.poisson(np.where(y == 1, 2.6, 1.15)) + 1
    flame = np.clip(rng.normal(np.where(y == 1, 2.4, 4.2), 1.0, n) - 0.04 * age, 0.2, 8)
    pump_i = np.clip(np.where(y == 2, rng.choice([0.12, 0.62], n) + rng.normal(0, 0.07, n),
                              rng.normal(0.38, 0.07, n)), 0.0, 1.0)
    fan = rng.normal(np.array([3600, 3400, 3800, 3200])[br], 250, n)
    dhw = np.clip(rng.normal(np.where(y == 4, 7.5, 10.5), 1.6, n), 3, 16)
    lock = rng.poisson(np.select([y == 1, y == 3, y == 2], [3.0, 1.6, 0.9], 0.4))
    wrong = rng.random(n) < 0.03
    y = np.where(wrong, rng.choice(5, n), y)
    names = np.array(["ok", "ignition", "pump", "pressure", "scale"])
    df = pd.DataFrame({
        "brand": brands[br], "age_years": age.round(1), "system_pressure_bar": pressure.round(2),
        "flow_temp_c": flow_t.round(1), "return_temp_c": ret_t.round(1), "ignition_attempts": attempts,
        "flame_current_ua": flame.round(2), "pump_current_a": pump_i.round(2), "fan_rpm": fan.round(0),
        "dhw_flow_lpm": dhw.round(1), "water_hardness_ppm": hard.round(0), "lockouts_30d": lock,
        "target": names[y]})
    df.to_csv(HERE / "h23_boilers.csv", index=False)


def pizza() -> None:
    """Hourly orders of a takeaway pizza shop."""
    rng = np.random.default_rng(2303)
    days = 90
    hours = days * 24
    ts = pd.date_range("2024-01-08 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod = t % 24
    dow = (t // 24) % 7
    open_ = (hod >= 11) & (hod <= 22)
    lunch = np.exp(-0.5 * ((hod - 12.5) / 0.9) ** 2)
    dinner_peak = np.where(dow == 6, 18.0, 19.0)
    dinner = np.exp(-0.5 * ((hod - dinner_peak) / 1.3) ** 2)
    evening = np.array([1.0, 0.95, 1.0, 1.1, 1.6, 1.65, 1.3])[dow]
    rate = np.where(open_, 3 + 14 * lunch * np.where(dow < 5, 1.0, 0.7) + 32 * dinner * evening, 0.0)
    # televised matches: about two evenings a week, kick-off 17:30-20:00, announced the day before
    match = np.zeros(hours)
    for d in range(days):
        if rng.random() < 0.28:
            k = int(rng.integers(17, 21))
            match[d * 24 + k: d * 24 + k + 2] = 1
    pre = np.convolve(match, [0, 0, 0, 0.6, 1.0], mode="same")             # the hour or two before
    rate = rate * (1 + 0.55 * np.clip(pre, 0, 1) + 0.35 * match) * open_
    wet = np.zeros(hours)
    for k in range(1, hours):
        wet[k] = 0.9 * wet[k - 1] + rng.normal(0, 0.4)
    rain = np.where(wet > 0.7, rng.gamma(1.4, 0.9, hours), 0.0)
    rate = rate * (1 + 0.08 * np.minimum(rain, 4))
    payday = np.zeros(hours, bool)
    for d in range(days):
        day = ts[d * 24]
        nxt = day + pd.Timedelta(days=7)
        if day.weekday() == 4 and nxt.month != day.month:
            payday[d * 24: d * 24 + 72] = True
    rate = rate * np.where(payday, 1.3, 1.0)
    orders = rng.poisson(rate)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "orders": orders, "hour": hod, "weekday": dow,
                  "rain_mm": rain.round(1), "match": match.astype(int)}).to_csv(HERE / "h23_pizza.csv", index=False)


def welds() -> None:
    """Radiograph patches of butt welds and the inspector's call."""
    rng = np.random.default_rng(2304)
    n, S = 600, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, k in enumerate(labels):
        cy = rng.uniform(6.5, 9.5)
        tilt = rng.uniform(-0.12, 0.12)
        half = rng.uniform(1.5, 2.5)
        centre = cy + tilt * (xx - S / 2)
        d = yy - centre
        bead = _sigmoid((half - np.abs(d)) * 2.5)
        img = 70 + 110 * bead + rng.normal(0, 6, (S, S))                    # base metal dark, bead bright
        img = img + 8 * np.sin(xx * rng.uniform(0.8, 1.6) + rng.uniform(0, 6.3)) * bead   # ripples
        if k == 1:                                                          # porosity
            for _ in range(int(rng.integers(1, 5))):
                px = rng.uniform(2, S - 2)
                py = cy + tilt * (px - S / 2) + rng.uniform(-0.6, 0.6) * half
                r = rng.uniform(0.6, 1.1)
                img = img - 85 * np.exp(-0.5 * ((xx - px) ** 2 + (yy - py) ** 2) / r ** 2)
        elif k == 2:                                                        # crack along the axis
            x0 = rng.uniform(1, S - 10)
            length = rng.uniform(5, 10)
            off = rng.uniform(-0.4, 0.4) * half
            along = _sigmoid((xx - x0) * 3) * _sigmoid((x0 + length - xx) * 3)
            img = img - 75 * along * np.exp(-0.5 * ((d - off) / 0.45) ** 2)
        elif k == 3:                                                        # undercut: one edge
            side = rng.choice([-1, 1])
            x0 = rng.uniform(0, 4)
            along = _sigmoid((xx - x0) * 2) * _sigmoid((x0 + rng.uniform(9, 14) - xx) * 2)
            img = img - 60 * along * np.exp(-0.5 * ((d - side * (half + 0.9)) / 0.6) ** 2)
        elif k == 4:                                                        # spatter beside the bead
            for _ in range(int(rng.integers(3, 8))):
                px = rng.uniform(0, S)
                side = rng.choice([-1, 1])
                py = cy + tilt * (px - S / 2) + side * (half + rng.uniform(1.5, 5.0))
                img = img + 95 * np.exp(-0.5 * ((xx - px) ** 2 + (yy - py) ** 2) / 0.45 ** 2)
        img = img * rng.uniform(0.85, 1.15) + rng.normal(0, 5, (S, S))
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h23_welds.npz", x=x, y=labels.astype(np.int64))


def washers() -> None:
    """Spin cycles logged by a washing machine's controller, and the diagnosis."""
    rng = np.random.default_rng(2305)
    n, T, dt = 500, 40, 1.5
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    t = np.arange(T) * dt
    x = np.zeros((n, T, 4), np.float32)
    for i, k in enumerate(labels):
        load = rng.uniform(2, 8)                                            # kg of wet laundry
        top = rng.uniform(1200, 1400)
        ramp = rng.uniform(22, 32)                                          # seconds to top speed
        start = rng.uniform(1.5, 6)
        cmd = top * np.clip((t - start) / ramp, 0, 1)
        rpm = cmd.copy()
        if k == 1:                                                          # unbalanced: drop back, re-ramp
            at = start + rng.uniform(6, 14)
            for _ in range(int(rng.integers(1, 3))):
                j = t >= at
                rpm = np.where(j, np.minimum(rpm, 90 + top * np.clip((t - at - 4) / ramp, 0, 1)), rpm)
                at = at + rng.uniform(12, 18)
            rpm = np.minimum(rpm, rng.uniform(0.7, 1.0) * top)
        elif k == 3:                                                        # belt slip: lags, stalls
            stall = rng.uniform(700, 1000)
            rpm = np.minimum(rpm * rng.uniform(0.75, 0.9), stall)
        rpm = np.maximum(rpm + rng.normal(0, 8, T), 0)
        w = rpm / 1000.0
        res = np.exp(-0.5 * ((rpm - rng.uniform(260, 340)) / 70) ** 2)      # the tub's resonance
        vib = 0.05 + 0.06 * w + 0.12 * res
        imb = rng.uniform(0.15, 0.3) * (load / 5)
        if k == 1:
            vib = vib + imb * w ** 2 * 1.6 + 0.2 * res
        elif k == 2:
            vib = vib + 0.12 * w ** 1.5 + np.abs(rng.normal(0, 0.05, T)) * w
        elif k == 4:
            vib = vib + rng.uniform(0.45, 0.8) * res
        vib = vib + np.abs(rng.normal(0, 0.015, T))
        accel = np.gradient(rpm, dt)
        cur = 0.4 + 0.18 * load * np.clip(accel, 0, None) / 40 + 0.9 * w + rng.normal(0, 0.05, T)
        if k == 2:
            cur = cur + 0.25 * w
        elif k == 3:
            slip = (cmd - rpm) > 100
            cur = cur + slip * rng.uniform(0.6, 1.0) + slip * rng.normal(0, 0.25, T)
        temp = rng.uniform(28, 40) + 0.002 * np.cumsum(rpm) * dt / 60 * (3.0 if k == 2 else 1.0) + rng.normal(0, 0.1, T)
        x[i, :, 0] = np.round(rpm, 0)
        x[i, :, 1] = np.round(cur, 2)
        x[i, :, 2] = np.round(vib, 3)
        x[i, :, 3] = np.round(temp, 1)
    _savez(HERE / "h23_washers.npz", x=x, y=labels.astype(np.int64))


def heldout23() -> None:
    HERE.mkdir(exist_ok=True)
    brews()
    boilers()
    pizza()
    welds()
    washers()


if __name__ == "__main__":
    heldout23()
    print_sizes(HERE, FILES)
