#!/usr/bin/env python
"""Write the data files of the seventeenth held-out set (heldout17.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 1701-1706, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data17.py

  h17_hives.csv       2000 daily summaries of smart beehives (scale, brood thermometer, microphone, entrance
                      counter) and the beekeeper's diagnosis: healthy (~40%), queenless, swarming, varroa,
                      starving (~15% each). weight_kg, weight_change_g, brood_temp_c, brood_temp_sd,
                      humidity_pct, buzz_hz, sound_db, flights_per_min, outside_temp_c, month,
                      hive_age_years. A queenless colony 'roars' (higher buzz) and stops keeping the brood
                      warm; a swarm leaves with 2-3 kg of bees and honey in one day; a starving colony is
                      light, cold, quiet and loses weight
  h17_deliveries.csv  2400 food deliveries and their minutes from order to door: distance_km, items,
                      kitchen_queue (orders ahead in the kitchen: heavy-tailed, the long waits are the
                      busy evenings), hour, rain_mm, floor, courier (text: bike, scooter, car),
                      restaurant (text: pizza, sushi, burger, thai, salad). Minutes = preparation (the
                      restaurant's base + 2.6 min per order ahead + items) + the ride (distance over a
                      speed set by the courier, the rain and the rush hour) + the stairs, with a little
                      multiplicative noise
  h17_tiles.npz       900 inspection-camera images of glazed ceramic tiles (N, 1, 20, 20) uint8 and the
                      grade: ok, crack (a thin dark line at any angle), chip (a corner broken off, which
                      shows the dark conveyor belt beneath), pinholes (3-6 one-pixel dark dots), dull
                      (a glaze fired too cool: the whole tile darker, nothing else), 180 each; the
                      exposure of the camera varies by +-8 grey levels
  h17_swim.npz        750 five-second recordings (N, 50, 4) at 10 Hz from a swimmer's wrist sensor:
                      acc_x, acc_y, acc_z in milli-g and gyro_z in 0.1 deg/s, int16; five drills:
                      freestyle, backstroke (the same arm cycle as the wrist sees it, palm up: gravity
                      on acc_z flips), breaststroke (a short pull, then a glide), butterfly (both arms,
                      large and sharp), kick (the hands rest on a kickboard: gravity and a small 2 Hz
                      tremble), 150 each; stroke rate and phase vary
  h17_logs.csv        2000 server log lines (text) and the component the on-call engineer assigned:
                      storage, network, auth, database, scheduler, memory (~333 each). Each line starts
                      with a timestamp, a host and a pid ('2024-03-07 14:22:51 web-07 [4411] WARN'),
                      which the tokenizer splits into 17 tokens; the message follows (20-31 tokens a line)
  h17_river.csv       2400 hours (100 days from 2024-04-01) of a river gauge below a small catchment:
                      stage_cm (the water level), rain_mm (an upstream rain gauge; 0 in most hours),
                      temp_c, hour. A storm raises the stage after a lag of 5-9 hours and the flood
                      recedes over a day; between storms the river slowly falls to its base flow.
                      Forecast stage_cm 1..6 hours ahead from 24 (or 48) hours
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h17_hives.csv", "h17_deliveries.csv", "h17_tiles.npz", "h17_swim.npz", "h17_logs.csv", "h17_river.csv"]


def hives() -> None:
    """Daily summaries of smart beehives and the beekeeper's diagnosis."""
    rng = np.random.default_rng(1701)
    n = 2000
    names = ["healthy", "queenless", "swarming", "varroa", "starving"]
    lab = rng.choice(5, n, p=[0.40, 0.15, 0.15, 0.15, 0.15])
    #                 healthy queenless swarming varroa starving
    w_mu = np.array([46.0, 42.0, 44.0, 39.0, 30.0])
    dw_mu = np.array([250.0, 40.0, -2300.0, -120.0, -380.0])
    dw_sd = np.array([280.0, 250.0, 650.0, 220.0, 170.0])
    bt_mu = np.array([34.8, 33.2, 34.6, 34.3, 32.2])
    bt_sd = np.array([0.4, 0.9, 0.5, 0.5, 1.2])
    tsd_mu = np.array([0.30, 1.10, 0.55, 0.45, 1.30])
    hz_mu = np.array([248.0, 305.0, 282.0, 242.0, 226.0])
    db_mu = np.array([60.0, 66.0, 71.0, 58.0, 53.0])
    fl_mu = np.array([80.0, 60.0, 260.0, 46.0, 32.0])
    outside = rng.normal(18, 6, n)
    month = rng.integers(4, 10, n)
    age = rng.integers(1, 9, n)
    weight = w_mu[lab] + rng.normal(0, 5.5, n) + 0.4 * age
    dweight = dw_mu[lab] + rng.normal(0, 1, n) * dw_sd[lab] + 12 * (outside - 18)
    btemp = bt_mu[lab] + rng.normal(0, 1, n) * bt_sd[lab] + 0.02 * (outside - 18)
    tsd = tsd_mu[lab] * rng.lognormal(0, 0.35, n)
    hum = np.clip(rng.normal(56, 8, n) + 4 * (lab == 3), 25, 95)
    hz = hz_mu[lab] + rng.normal(0, 16, n)
    db = db_mu[lab] + rng.normal(0, 3.5, n)
    flights = fl_mu[lab] * rng.lognormal(0, 0.35, n) * np.clip(1 + 0.05 * (outside - 18), 0.2, None)
    df = pd.DataFrame({"weight_kg": weight.round(2), "weight_change_g": dweight.round(0),
                       "brood_temp_c": btemp.round(2), "brood_temp_sd": tsd.round(3), "humidity_pct": hum.round(1),
                       "buzz_hz": hz.round(1), "sound_db": db.round(1), "flights_per_min": flights.round(1),
                       "outside_temp_c": outside.round(1), "month": month, "hive_age_years": age,
                       "target": np.array(names)[lab]})
    df.to_csv(HERE / "h17_hives.csv", index=False)


def deliveries() -> None:
    """Food deliveries and their minutes from order to door."""
    rng = np.random.default_rng(1702)
    n = 2400
    couriers = np.array(["bike", "scooter", "car"])
    rests = np.array(["pizza", "sushi", "burger", "thai", "salad"])
    c = rng.choice(3, n, p=[0.45, 0.35, 0.20])
    r = rng.choice(5, n)
    dist = np.clip(rng.lognormal(1.0, 0.5, n), 0.3, 15)
    items = 1 + rng.poisson(2.0, n)
    hour = rng.integers(10, 24, n)
    evening = (hour >= 18) & (hour <= 21)
    queue = np.round(rng.lognormal(0.9 + 0.5 * evening, 0.85, n))
    wet = rng.random(n) < 0.25
    rain = np.where(wet, rng.lognormal(0.5, 0.8, n), 0.0)
    floor = np.where(rng.random(n) < 0.4, 0, rng.integers(1, 13, n))
    base = np.array([12.0, 16.0, 8.0, 14.0, 6.0])[r]
    prep = base + 2.6 * queue + 0.9 * items
    speed = np.array([15.0, 24.0, 28.0])[c] * (1 - 0.04 * np.minimum(rain, 8) * (c < 2))
    speed = speed * np.where((hour >= 17) & (hour <= 19), 0.75 + 0.25 * (c < 2), 1.0)
    ride = dist / speed * 60
    stairs = 0.6 * floor
    minutes = (prep + ride + stairs + 3) * rng.lognormal(0, 0.06, n)
    df = pd.DataFrame({"distance_km": dist.round(2), "items": items, "kitchen_queue": queue.astype(int), "hour": hour,
                       "rain_mm": rain.round(1), "floor": floor, "courier": couriers[c], "restaurant": rests[r],
                       "target": minutes.round(1)})
    df.to_csv(HERE / "h17_deliveries.csv", index=False)


def tiles() -> None:
    """Inspection images of glazed tiles, five grades."""
    rng = np.random.default_rng(1703)
    n, S = 900, 20
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, lab in enumerate(labels):
        level = 152 + rng.uniform(-8, 8)                  # exposure
        if lab == 4:                                      # dull glaze: darker, nothing else
            level -= rng.uniform(24, 34)
        tilt = rng.normal(0, 0.6, 2)
        img = level + tilt[0] * (xx - S / 2) + tilt[1] * (yy - S / 2) + rng.normal(0, 5, (S, S))
        if lab == 1:                                      # crack: a thin dark line across
            a = rng.uniform(0, np.pi)
            cx, cy = rng.uniform(6, 14, 2)
            dist = np.abs((xx - cx) * np.sin(a) - (yy - cy) * np.cos(a))
            along = np.abs((xx - cx) * np.cos(a) + (yy - cy) * np.sin(a))
            img -= 55 * np.exp(-0.5 * (dist / 0.45) ** 2) * (along < rng.uniform(5, 9))
        elif lab == 2:                                    # chip: a corner gone, the dark belt shows
            k = rng.integers(0, 4)
            size = rng.uniform(4, 7)
            cxx = xx if k in (0, 2) else S - 1 - xx
            cyy = yy if k in (0, 1) else S - 1 - yy
            img = np.where(cxx + cyy < size, 25 + rng.normal(0, 4, (S, S)), img)
        elif lab == 3:                                    # pinholes: a few one-pixel dark dots
            for _ in range(int(rng.integers(3, 7))):
                py, px = rng.integers(2, S - 2, 2)
                img[py, px] -= rng.uniform(45, 70)
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h17_tiles.npz", x=x, y=labels.astype(np.int64))


def swim() -> None:
    """Wrist-sensor recordings of five swimming drills (five seconds at 10 Hz)."""
    rng = np.random.default_rng(1704)
    n, T = 750, 50
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    t = np.arange(T) / 10.0
    x = np.zeros((n, T, 4), np.int16)
    for i, lab in enumerate(labels):
        period = rng.uniform(1.2, 1.7) if lab != 2 else rng.uniform(1.5, 2.0)
        ph = 2 * np.pi * (t / period + rng.uniform(0, 1))
        amp = rng.uniform(0.8, 1.2)
        if lab == 0:     # freestyle: a smooth arm cycle, palm down
            ax = 900 * np.sin(ph)
            ay = 500 * np.sin(2 * ph + 0.5)
            az = -800 + 300 * np.cos(ph)
            gz = 1500 * np.cos(ph)
        elif lab == 1:   # backstroke: the same arm cycle as seen by the wrist, palm up (gravity on acc_z flips)
            ax = 900 * np.sin(ph)
            ay = 500 * np.sin(2 * ph + 0.5)
            az = 800 + 300 * np.cos(ph)
            gz = 1500 * np.cos(ph)
        elif lab == 2:   # breaststroke: a short pull, then a glide
            pull = np.clip(np.sin(ph), 0, None) ** 3
            ax = 1400 * pull
            ay = 700 * pull * np.cos(ph)
            az = -950 + 200 * pull
            gz = 900 * pull - 100
        elif lab == 3:   # butterfly: both arms, big and sharp
            s = np.sin(ph)
            ax = 1500 * np.sign(s) * np.abs(s) ** 0.5
            ay = 300 * np.cos(ph)
            az = -600 + 700 * np.cos(2 * ph)
            gz = 2600 * np.cos(ph) * np.abs(np.cos(ph))
        else:            # kick: hands on a kickboard
            tremble = np.sin(2 * np.pi * 2.0 * t + rng.uniform(0, 6.3))
            ax = 60 * tremble
            ay = 40 * np.roll(tremble, 1)
            az = -980 + 50 * tremble
            gz = 120 * tremble
        sig = np.stack([ax * amp, ay * amp, az, gz * amp], 1)
        sig += rng.normal(0, 1, (T, 4)) * np.array([90.0, 90.0, 80.0, 150.0])
        x[i] = np.clip(np.round(sig), -8000, 8000).astype(np.int16)
    _savez(HERE / "h17_swim.npz", x=x, y=labels.astype(np.int64))


def logs() -> None:
    """Server log lines and the component they were assigned to."""
    rng = np.random.default_rng(1705)
    hosts = ["web", "api", "db", "worker", "cache", "batch"]
    levels = ["INFO", "WARN", "ERROR", "ERROR", "WARN", "CRIT"]
    msgs = {
        "storage": ["disk /dev/sd{c} is {p} percent full", "write to volume vol-{n} failed with io error",
                    "filesystem remounted read only on /dev/sd{c}", "raid array degraded, drive {n} missing",
                    "inode usage at {p} percent on /var", "slow disk latency {n} ms on volume vol-{n}",
                    "smart error count rising on drive {n}", "snapshot of volume vol-{n} took {n} s"],
        "network": ["connection to {ip} timed out after {n} ms", "packet loss {p} percent on eth{c}",
                    "dns lookup for upstream failed", "link eth{c} went down", "tls handshake with {ip} reset by peer",
                    "route to {ip} unreachable", "interface eth{c} flapping", "socket backlog full on port {n}"],
        "auth": ["login failed for user {u} from {ip}", "token expired for session {n}", "password reset requested by {u}",
                 "account {u} locked after {n} attempts", "invalid api key presented by client {n}",
                 "permission denied for {u} on /admin", "mfa challenge failed for {u}", "oauth callback rejected state mismatch"],
        "database": ["query took {n} ms on table orders", "deadlock detected on table users",
                     "replication lag {n} s on replica {c}", "connection pool exhausted, {n} waiting",
                     "transaction rolled back after timeout", "index scan on table payments slow",
                     "too many connections to postgres", "vacuum running on table events for {n} s"],
        "scheduler": ["job {u}-report missed its {n} pm window", "cron task backup-{n} exited with code {c}",
                      "queue depth {n} jobs pending", "worker {c} did not pick up job {n}",
                      "retrying job export-{n} attempt {c}", "job nightly-etl running for {n} min",
                      "scheduled run skipped, previous still active", "lease lost for job {n}"],
        "memory": ["out of memory, killed process {n}", "heap usage {p} percent of limit",
                   "swap usage {p} percent", "gc pause {n} ms in java worker", "memory leak suspected in worker {c}",
                   "oom killer invoked on container {n}", "page cache pressure high", "rss {n} mb exceeds soft limit"],
    }
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"]
    comps = list(msgs)
    rows = []
    for _ in range(2000):
        k = int(rng.integers(0, len(comps)))
        day, hh, mm, ss = rng.integers(1, 29), rng.integers(0, 24), rng.integers(0, 60), rng.integers(0, 60)
        head = (f"2024-03-{day:02d} {hh:02d}:{mm:02d}:{ss:02d} {rng.choice(hosts)}-{int(rng.integers(1, 13)):02d} "
                f"[{int(rng.integers(100, 9999))}] {rng.choice(levels)}")
        body = str(rng.choice(msgs[comps[k]])).format(
            c=int(rng.integers(0, 4)), p=int(rng.integers(70, 100)), n=int(rng.integers(1, 500)),
            ip=f"10.0.{int(rng.integers(0, 8))}.{int(rng.integers(1, 255))}", u=str(rng.choice(users)))
        if rng.random() < 0.02:
            k = int(rng.integers(0, len(comps)))
        rows.append((f"{head} {body}", comps[k]))
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h17_logs.csv", index=False)


def river() -> None:
    """Hourly stage of a river below a small catchment, with an upstream rain gauge."""
    rng = np.random.default_rng(1706)
    hours = 100 * 24
    ts = pd.date_range("2024-04-01 00:00", periods=hours, freq="h")
    h = ts.hour.to_numpy()
    rain = np.zeros(hours)
    k = 0
    while k < hours:
        k += int(rng.exponential(40)) + 4
        if k >= hours:
            break
        dur = int(rng.integers(2, 9))
        depth = rng.lognormal(1.0, 0.6)
        rain[k:k + dur] += depth * rng.uniform(0.3, 1.0, min(dur, hours - k))
    rain = np.round(rain, 1)
    # unit hydrograph: the flood arrives after 5-9 hours and recedes over about a day
    lag = np.arange(48)
    uh = (lag / 7.0) ** 3 * np.exp(-3 * (lag / 7.0 - 1))
    uh /= uh.sum()
    quick = np.convolve(rain, uh)[:hours] * 9.0
    base = np.zeros(hours)
    base[0] = 40.0
    for t in range(1, hours):
        base[t] = base[t - 1] + 0.0025 * (32 - base[t - 1]) + 0.12 * rain[t - 1]
    stage = base + quick + rng.normal(0, 0.4, hours)
    temp = 11 + 0.05 * np.arange(hours) / 24 + 5 * np.sin(2 * np.pi * (h - 9) / 24) + rng.normal(0, 0.8, hours)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "stage_cm": stage.round(1), "rain_mm": rain,
                  "temp_c": temp.round(1), "hour": h}).to_csv(HERE / "h17_river.csv", index=False)


def heldout17() -> None:
    HERE.mkdir(exist_ok=True)
    hives()
    deliveries()
    tiles()
    swim()
    logs()
    river()


if __name__ == "__main__":
    heldout17()
    print_sizes(HERE, FILES)
