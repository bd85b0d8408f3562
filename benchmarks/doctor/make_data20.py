#!/usr/bin/env python
"""Write the data files of the twentieth held-out set (heldout20.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2001-2006, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data20.py

  h20_loaves.csv      1600 sourdough loaves of an artisan bakery and the crumb the head baker graded
                      at the cut: under (dense, under-fermented), good, over (flat, sour), collapsed
                      (over-fermented AND a slack dough: the loaf fell; a rare grade, ~6%). flour
                      (bread, whole_wheat, rye, spelt: the bran and rye ferment faster) and
                      fridge_retard (yes/no) text, hydration_pct, starter_pct, salt_pct, dough_c
                      (the dough's temperature after mixing; 5% not measured: empty), room_c, bulk_h,
                      proof_h, oven_c (no effect on the grade). The grade follows a latent
                      fermentation: the log of starter x a rate doubling every ~8 C (dough and room
                      temperature) x the hours (bulk plus a share of the proof; a night in the fridge
                      counts for little) x the flour's speed / the salt, plus noise, cut at two
                      thresholds; an over-fermented loaf of a slack dough collapses
  h20_turbines.csv    1600 ten-minute SCADA averages from a wind farm of three turbine types, and the
                      mean power in kW: model (T90, T120, T150: rotor diameter and rated power
                      2.0, 3.0, 4.2 MW), wind_ms at the nacelle (2-24), yaw_error_deg (the rotor not
                      facing the wind: the usable wind is v cos(yaw)), pressure_pa (96 000-106 000:
                      with temp_c it gives the air density), temp_c, turbulence_pct (costs a few per
                      cent near rated), icing (yes/no, 2.4% of rows, in the cold: the blades lose ~45%),
                      hour (of the day; no effect). power = min(rated, 0.5 rho A Cp v_eff^3) between
                      cut-in 3 m/s and cut-out 22 m/s, 3% noise
  h20_treads.npz      900 grey-level patches (N, 1, 16, 16) uint8 of tyre treads from a retreading
                      plant's camera, and the tread pattern (y 0-4, 180 each): 0 ribs (vertical
                      grooves), 1 lugs (horizontal grooves), 2 diagonal '/', 3 diagonal '\', 4 blocks
                      (a checkerboard). Grooves 4-6 px apart at a random phase, +-12 degrees of
                      jitter, wear (lower contrast), dirt blobs, exposure and pixel noise. A rotation
                      by 90 degrees turns ribs into lugs and '/' into '\'; a mirror turns '/' into
                      '\'; a rotation by 180 degrees and any shift change nothing
  h20_lifts.npz       1000 trips (N, 40, 3) float32 logged by a phone lying on a lift's floor, ten
                      samples a second: vertical acceleration (m/s^2, gravity removed), barometric
                      pressure relative to the trip's start (hPa, a drifting sensor: ~0.12 hPa a
                      floor, drift and noise of the same size) and the door sensor (1 open); the trip
                      (y 0-4, 200 each): 0 up_short (1-2 floors), 1 up_long (4-8 floors), 2
                      down_short, 3 down_long, 4 door_only (the door opens and closes, no ride). A
                      ride is an acceleration pulse, a cruise and a deceleration pulse of the opposite
                      sign, starting at a random time: the direction is in the ORDER of the two
                      pulses (or in the velocity, their integral), the distance in the cruise's length
  h20_repairs.csv     1500 messages to a bicycle repair shop and the job the mechanic booked:
                      brakes, gears, puncture, chain, wheel (300 each). Each message opens with a
                      greeting and some context (5-10 tokens: 'hi there my commuter bike since the
                      weekend'), then 3-5 symptom words, most from the job's own vocabulary (squeal,
                      pads, derailleur, skips, tube, valve, links, lube, wobble, spoke ...) and some
                      from another job's or shared (cable, noise, rear, front), then a sign-off;
                      9-17 tokens
  h20_tides.csv       2400 hours (100 days from 2024-09-01) of a harbour's tide gauge: level_m (the
                      water level, forecast), wind_ms, wind_dir_deg, pressure_hpa; level = four tidal
                      constituents (M2 12.42 h, S2 12.00 h, K1 23.93 h, O1 25.82 h; the spring-neap
                      cycle) + a storm surge (onshore wind stress, quadratic in the wind speed,
                      and the inverse barometer, relaxing over ~8 hours) + 3 cm noise; forecast
                      level_m 1..6 hours ahead
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h20_loaves.csv", "h20_turbines.csv", "h20_treads.npz", "h20_lifts.npz", "h20_repairs.csv",
         "h20_tides.csv"]


def loaves() -> None:
    """Sourdough loaves and the crumb grade."""
    rng = np.random.default_rng(2001)
    n = 1600
    flours = np.array(["bread", "whole_wheat", "rye", "spelt"])
    fl = rng.choice(4, n, p=[0.45, 0.25, 0.15, 0.15])
    speed = np.array([1.0, 1.3, 1.6, 1.15])[fl]
    hydration = rng.uniform(62, 86, n)
    starter = rng.uniform(8, 30, n)
    salt = rng.uniform(1.6, 2.6, n)
    room = rng.uniform(18, 30, n)
    dough = np.clip(room + rng.normal(1.5, 2.0, n), 17, 33)
    bulk = rng.uniform(2.0, 9.0, n)
    proof = rng.uniform(0.5, 3.5, n)
    retard = rng.random(n) < 0.3
    oven = rng.choice([230, 240, 250, 260], n)
    rate = np.exp(np.log(2) / 8.0 * (0.6 * (dough - 24) + 0.4 * (room - 24)))
    hours = bulk + np.where(retard, 0.25, 0.8) * proof + np.where(retard, 1.5, 0.0)
    ferm = np.log(starter / 18.0 * rate * hours / 5.0 * speed / (salt / 2.0)) + rng.normal(0, 0.18, n)
    lo, hi = np.quantile(ferm, [0.30, 0.72])
    grade = np.where(ferm < lo, "under", np.where(ferm < hi, "good", "over")).astype(object)
    slack = hydration + 4.0 * (fl == 2) + 2.5 * (fl == 3) + rng.normal(0, 2.0, n)
    collapsed = (ferm > hi + 0.12) & (slack > 80)
    grade[collapsed] = "collapsed"
    dough_col = dough.round(1).astype(object)
    dough_col[rng.random(n) < 0.05] = np.nan
    df = pd.DataFrame({
        "flour": flours[fl], "hydration_pct": hydration.round(1), "starter_pct": starter.round(1),
        "salt_pct": salt.round(2), "dough_c": dough_col, "room_c": room.round(1), "bulk_h": bulk.round(2),
        "proof_h": proof.round(2), "fridge_retard": np.where(retard, "yes", "no"), "oven_c": oven,
        "target": grade})
    df.to_csv(HERE / "h20_loaves.csv", index=False)


def turbines() -> None:
    """Ten-minute SCADA averages of a wind farm and the power."""
    rng = np.random.default_rng(2002)
    n = 1600
    models = np.array(["T90", "T120", "T150"])
    m = rng.choice(3, n, p=[0.4, 0.35, 0.25])
    diam = np.array([90.0, 120.0, 150.0])[m]
    rated = np.array([2000.0, 3000.0, 4200.0])[m]
    wind = np.clip(rng.weibull(2.0, n) * 9.5, 2.0, 24.0)
    yaw = np.clip(rng.normal(0, 9, n), -30, 30)
    temp = rng.normal(9, 8, n)
    pressure = rng.normal(100800, 1500, n)
    rho = pressure / (287.05 * (temp + 273.15))
    turb = np.clip(rng.gamma(4, 2.5, n), 2, 30)
    icing = (rng.random(n) < 0.12) & (temp < 1.5)
    hour = rng.integers(0, 24, n)
    v_eff = wind * np.cos(np.radians(yaw)) ** 1.5
    area = np.pi * (diam / 2) ** 2
    aero = 0.5 * rho * area * 0.45 * v_eff ** 3 / 1000.0
    near = np.exp(-((v_eff - 11.5) / 2.5) ** 2)
    power = np.minimum(rated, aero) * (1 - 0.004 * turb * near)
    power = np.where((v_eff < 3.0) | (wind > 22.0), 0.0, power)
    power = power * np.where(icing, 0.55, 1.0) * np.exp(rng.normal(0, 0.03, n)) + rng.normal(0, 15, n)
    df = pd.DataFrame({
        "model": models[m], "wind_ms": wind.round(2), "yaw_error_deg": yaw.round(1), "pressure_pa": pressure.round(0),
        "temp_c": temp.round(1), "turbulence_pct": turb.round(1), "icing": np.where(icing, "yes", "no"),
        "hour": hour, "target": power.round(0)})
    df.to_csv(HERE / "h20_turbines.csv", index=False)


def treads() -> None:
    """Tyre tread patches and the tread pattern."""
    rng = np.random.default_rng(2003)
    n, S = 900, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    base_angle = {0: 0.0, 1: 90.0, 2: 45.0, 3: -45.0}
    for i, k in enumerate(labels):
        period = rng.uniform(4.0, 6.0)
        ph = rng.uniform(0, 2 * np.pi)
        if k == 4:
            a = np.radians(rng.uniform(-12, 12))
            u = xx * np.cos(a) + yy * np.sin(a)
            v = -xx * np.sin(a) + yy * np.cos(a)
            pat = np.sign(np.sin(2 * np.pi * u / (period * 1.4) + ph)) * np.sign(
                np.sin(2 * np.pi * v / (period * 1.4) + rng.uniform(0, 2 * np.pi)))
            pat = 0.5 * pat
        else:
            a = np.radians(base_angle[k] + rng.uniform(-12, 12))
            # grooves: a stripe along the direction a (0 = vertical), across the image
            u = xx * np.cos(a) - yy * np.sin(a)
            pat = np.sin(2 * np.pi * u / period + ph)
            pat = np.tanh(2.0 * pat)
        wear = rng.uniform(0.35, 1.0)
        img = 120 + rng.uniform(-25, 25) + 55 * wear * pat
        for _ in range(int(rng.integers(0, 3))):                                    # dirt
            by, bx = rng.uniform(0, S, 2)
            img += rng.uniform(-60, 40) * np.exp(-((yy - by) ** 2 + (xx - bx) ** 2) / rng.uniform(1.5, 6))
        img = img * rng.uniform(0.8, 1.2) + rng.normal(0, 14, (S, S))
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h20_treads.npz", x=x, y=labels.astype(np.int64))


def lifts() -> None:
    """Lift trips logged by a phone: acceleration, pressure, door; and the kind of trip."""
    rng = np.random.default_rng(2004)
    n, T = 1000, 40
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    x = np.zeros((n, T, 3), np.float32)
    t = np.arange(T)
    for i, k in enumerate(labels):
        acc = np.zeros(T)
        door = np.zeros(T)
        if k == 4:
            o = int(rng.integers(5, 25))
            door[o:o + int(rng.integers(6, 14))] = 1
            floors = 0.0
        else:
            floors = rng.uniform(1, 2.2) if k in (0, 2) else rng.uniform(4, 8)
            sign = 1.0 if k in (0, 1) else -1.0
            ramp = int(rng.integers(3, 5))
            cruise = int(round(floors * 2.4 + rng.uniform(-1, 1)))
            start = int(rng.integers(3, max(4, T - 2 * ramp - cruise - 4)))
            a = rng.uniform(0.8, 1.3)
            acc[start:start + ramp] = sign * a
            e = start + ramp + cruise
            acc[e:e + ramp] = -sign * a
            door[:max(0, start - 2)] = rng.random() < 0.5
            door[min(T, e + ramp + 2):] = rng.random() < 0.7
            floors = sign * floors
        acc_obs = acc + rng.normal(0, 0.35, T) + rng.normal(0, 0.15)
        height = np.cumsum(np.cumsum(acc))                                      # in floors, once scaled
        if floors:
            height = height / abs(height[-1]) * abs(floors)
        drift = np.cumsum(rng.normal(0, 0.03, T)) + rng.uniform(-0.4, 0.4) * t / T
        press = -0.12 * height + drift + rng.normal(0, 0.08, T)
        x[i, :, 0] = np.round(acc_obs, 3)
        x[i, :, 1] = np.round(press, 3)
        x[i, :, 2] = door
    _savez(HERE / "h20_lifts.npz", x=x, y=labels.astype(np.int64))


_GREET = [["hi"], ["hello"], ["hi", "there"], ["hello", "team"], ["good", "morning"], ["hey"],
          ["good", "afternoon", "folks"], ["dear", "shop"]]
_CONTEXT = ["my", "the", "commuter", "bike", "road", "bike", "kids", "cargo", "since", "the", "weekend", "after",
            "a", "ride", "yesterday", "on", "it", "when", "i", "ride", "to", "work", "this", "week", "mountain",
            "gravel", "old", "new", "please", "could", "you", "look", "at"]
_JOBS = {
    "brakes": ["squeal", "pads", "lever", "stopping", "rotor", "caliper", "squeaks", "bleed", "spongy"],
    "gears": ["shifting", "derailleur", "skips", "cassette", "indexing", "shifter", "gear", "jumps"],
    "puncture": ["flat", "tube", "tyre", "puncture", "valve", "pressure", "leaks", "thorn"],
    "chain": ["chain", "rusty", "links", "snapped", "lube", "drops", "stiff", "chainring"],
    "wheel": ["wobble", "spoke", "rim", "buckled", "true", "hub", "bearing", "rubs"],
}
_SHARED = ["cable", "noise", "rear", "front", "clicking", "worn", "loose"]
_SIGN = [["thanks"], ["thank", "you"], ["cheers"], ["regards", "sam"], ["many", "thanks"], ["ta"]]


def repairs() -> None:
    """Messages to a bicycle repair shop and the job booked."""
    rng = np.random.default_rng(2005)
    jobs = list(_JOBS)
    rows = []
    for i in range(1500):
        job = jobs[i % len(jobs)]
        words = list(_GREET[int(rng.integers(0, len(_GREET)))])
        words += [_CONTEXT[int(j)] for j in rng.integers(0, len(_CONTEXT), int(rng.integers(4, 8)))]
        for _ in range(int(rng.integers(3, 6))):
            r = rng.random()
            if r < 0.62:
                pool = _JOBS[job]
            elif r < 0.82:
                pool = _SHARED
            else:
                pool = _JOBS[jobs[int(rng.integers(0, len(jobs)))]]
            words.append(pool[int(rng.integers(0, len(pool)))])
        words += _SIGN[int(rng.integers(0, len(_SIGN)))]
        rows.append((" ".join(words), job))
    order = rng.permutation(len(rows))
    pd.DataFrame([rows[j] for j in order], columns=["text", "target"]).to_csv(HERE / "h20_repairs.csv", index=False)


def tides() -> None:
    """Hourly readings of a harbour's tide gauge and the weather."""
    rng = np.random.default_rng(2006)
    hours = 100 * 24
    ts = pd.date_range("2024-09-01 00:00", periods=hours, freq="h")
    t = np.arange(hours, dtype=float)
    tide = (1.55 * np.cos(2 * np.pi * t / 12.42 + 0.4) + 0.55 * np.cos(2 * np.pi * t / 12.0 + 1.3)
            + 0.22 * np.cos(2 * np.pi * t / 23.93 + 2.0) + 0.16 * np.cos(2 * np.pi * t / 25.82 + 0.7))
    # weather: wind (an AR(1) in u, v with passing storms) and pressure
    u = np.zeros(hours)
    v = np.zeros(hours)
    p = np.zeros(hours)
    for k in range(1, hours):
        u[k] = 0.93 * u[k - 1] + rng.normal(0, 1.3)
        v[k] = 0.93 * v[k - 1] + rng.normal(0, 1.3)
        p[k] = 0.985 * p[k - 1] + rng.normal(0, 0.9)
    u += 2.0
    speed = np.hypot(u, v)
    direction = (np.degrees(np.arctan2(u, v)) + 360) % 360
    pressure = 1012 + p
    onshore = np.cos(np.radians(direction - 250.0))       # the coast faces west-south-west
    surge = np.zeros(hours)
    for k in range(1, hours):
        drive = 0.0045 * speed[k] ** 2 * onshore[k] - 0.010 * (pressure[k] - 1012)
        surge[k] = surge[k - 1] + (drive - surge[k - 1]) / 8.0
    level = 2.6 + tide + 1.6 * surge + rng.normal(0, 0.03, hours)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "level_m": level.round(3),
                  "wind_ms": speed.round(2), "wind_dir_deg": direction.round(0),
                  "pressure_hpa": pressure.round(1)}).to_csv(HERE / "h20_tides.csv", index=False)


def heldout20() -> None:
    HERE.mkdir(exist_ok=True)
    loaves()
    turbines()
    treads()
    lifts()
    repairs()
    tides()


if __name__ == "__main__":
    heldout20()
    print_sizes(HERE, FILES)
