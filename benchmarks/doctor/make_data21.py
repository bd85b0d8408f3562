#!/usr/bin/env python
"""Write the data files of the twenty-first held-out set (heldout21.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2101-2106, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data21.py

  h21_ferries.csv     1600 sailings of a small island ferry company and the departure delay in
                      minutes (the target, regression). route (short_hop 2.5 km, island_loop 9 km,
                      long_crossing 22 km) and crew_change (yes/no) text, dep_hour 6-22, weekend
                      (0/1), wind_kn 0-45, wave_m (from the wind, with swell), visibility_m 60-10 000
                      (fog; the fog sensor failed on ~8% of sailings: empty), cars_booked 6-85,
                      foot_passengers 65-381, deck_load_kg 21 000-385 000 (cars, vans and lorries),
                      prior_delay_min (the previous sailing's delay, which is carried over in part),
                      vessel_age_yr 3-41 (old ships load slower). delay = 0.55 x the carried-over
                      delay + the loading overrun (cars and deck load over the ramp's pace, foot
                      passengers in the summer rush) + the weather (waves above ~1.5 m slow the ship:
                      quadratic in the excess wave height, times the route's length; fog under
                      ~1500 m: a slow crossing, again times the length) + 4 min for a crew change +
                      gamma noise; never below 0
  h21_catches.csv     1500 fishing-trip logs of a coastal fleet and the species that made up most
                      of the catch (the target): cod, haddock, mackerel, herring, halibut (the rare
                      one, ~3%). gear (trawl, gillnet, longline, handline, purse_seine) text, depth_m
                      10-420, sea_temp_c 2-16, month 1-12, dist_shore_km 1-80, hours_fished 1-20,
                      moon (illumination 0-1), lat_n 56.5-62.5. Each species has a log-suitability
                      (a habitat window in depth and temperature, a season, a gear's selectivity:
                      mackerel pelagic, warm and summery, caught on handlines and seines; herring
                      pelagic and cooler, seines and trawls, on dark nights; cod and haddock
                      demersal at different depths and temperatures; halibut deep, cold and on
                      longlines) plus Gumbel noise; the largest wins
  h21_glacier.csv     2160 hours (90 days from 2024-06-01) at a gauging station below a valley
                      glacier: discharge_m3s (the meltwater river; the series to forecast), air_temp_c,
                      radiation_wm2 (incoming shortwave: the sun's elevation times a cloudiness that
                      drifts), precip_mm. Melt = a degree-hour factor x max(T, 0) + a radiation factor x
                      radiation (x the albedo, which falls as the snow cover retreats over the
                      summer), rain added; the melt is routed through a fast (~5 h) and a slow (~60 h)
                      linear reservoir, so the river peaks in the evening, hours after the sun; a late
                      summer cold spell; 2% noise. discharge_m3s 1..12 hours ahead from a window of
                      24 hours
  h21_leaves.npz      600 RGB patches (N, 3, 16, 16) uint8 of grapevine leaves photographed in a
                      vineyard, and the diagnosis (y 0-4, 120 each): 0 healthy (green blade), 1
                      chlorosis (yellowed blade), 2 leafroll (red-purple blade), 3 mildew (a green
                      blade with whitish powdery patches), 4 black_rot (a green blade with small dark
                      round lesions). The three blade colours have nearly the same luminance (ITU-R
                      601 luma within a few grey levels, below the per-image exposure spread), so
                      healthy, chlorosis and leafroll differ by hue alone; all blades carry lighter
                      veins at random angles, texture and pixel noise. Any flip or rotation keeps
                      the diagnosis
  h21_bowing.npz      750 half-second traces (N, 40, 4) float32 at 80 Hz from a sensor bow on a
                      violin, and the bowing technique (y 0-4, 150 each): 0 detache (separate even
                      strokes, 2-4 per trace), 1 legato (one slow smooth stroke), 2 spiccato (the bow
                      bounces: force drops to zero between short strokes, 7-11 a second), 3 martele
                      (each stroke starts with a hard 'bite' of force, then a stop with no motion and
                      no sound), 4 tremolo (very fast tiny strokes, 16-22 a second). Channels:
                      bow velocity (m/s; its sign is the direction), bow force (N), bow position
                      (m from the frog), the string's vibration envelope (a bridge pickup, 0-1).
                      Player-to-player tempo, force and noise
  h21_library.csv     1500 messages to a public library's help desk and the desk queue it went to
                      (300 each): renewal, holds, fines, lost_card, interlibrary. Each message has a
                      greeting, some context ('i borrowed a book last month for my course'), 2-4 key
                      words (60% from the queue's own vocabulary, 20% shared: book, account,
                      online, date, branch; 20% from a random queue), sometimes a title word, and a
                      sign-off; 8-19 tokens. The greeting and context words are far more frequent
                      than any key word
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h21_ferries.csv", "h21_catches.csv", "h21_glacier.csv", "h21_leaves.npz", "h21_bowing.npz",
         "h21_library.csv"]


def ferries() -> None:
    """Sailings of an island ferry and the departure delay."""
    rng = np.random.default_rng(2101)
    n = 1600
    routes = np.array(["short_hop", "island_loop", "long_crossing"])
    r = rng.choice(3, n, p=[0.45, 0.35, 0.20])
    length_km = np.array([2.5, 9.0, 22.0])[r]
    hour = rng.integers(6, 23, n)
    weekend = (rng.random(n) < 2 / 7).astype(int)
    summer = rng.random(n) < 0.4
    # weather: wind and waves, fog in calm mornings
    wind = np.clip(rng.gamma(2.2, 6.0, n), 0, 45)
    wave = np.clip(0.06 * wind + 0.0016 * wind ** 2 + rng.gamma(2.0, 0.15, n), 0.1, 5.0)
    foggy = rng.random(n) < np.where((hour < 11) & (wind < 12), 0.35, 0.06)
    vis = np.where(foggy, np.exp(rng.uniform(np.log(60), np.log(2500), n)),
                   np.exp(rng.uniform(np.log(3000), np.log(10000), n)))
    cars = np.clip(rng.poisson(np.where(summer, 55, 35) + 15 * weekend, n) * np.array([0.4, 0.8, 1.0])[r], 0, 120)
    cars = np.round(cars).astype(int)
    lorries = rng.poisson(np.array([0.5, 2.0, 4.0])[r] * np.where(weekend == 1, 0.3, 1.0), n)
    deck = cars * rng.normal(1550, 120, n) + lorries * rng.normal(28000, 5000, n) + rng.uniform(5000, 15000, n)
    foot = np.clip(rng.poisson(np.where(summer, 220, 90) * (1 + 0.5 * weekend), n), 0, 600)
    prior = np.clip(rng.gamma(1.2, 6.0, n) * (rng.random(n) < 0.6), 0, 90)
    crew = rng.random(n) < 0.12
    age = rng.uniform(3, 41, n)
    ramp_pace = 3.0 - 0.03 * age                                   # cars a minute
    load_min = cars / ramp_pace + deck / 60000.0 + foot / 120.0
    slot = np.array([12.0, 22.0, 30.0])[r]                         # the timetable's loading slot
    overrun = np.log1p(np.exp(load_min - slot))                    # soft max(0, .)
    waves = 0.9 * np.maximum(wave - 1.5, 0) ** 2 * length_km / 5.0
    fog = 1.6 * np.clip((1500 - vis) / 1500, 0, 1) * length_km / 3.0
    delay = 0.55 * prior + overrun + waves + fog + 4.0 * crew + rng.gamma(1.5, 1.2, n) - 1.0
    delay = np.maximum(delay, 0)
    vis_col = vis.round(0).astype(object)
    vis_col[rng.random(n) < 0.08] = np.nan
    df = pd.DataFrame({
        "route": routes[r], "dep_hour": hour, "weekend": weekend, "wind_kn": wind.round(1), "wave_m": wave.round(2),
        "visibility_m": vis_col, "cars_booked": cars, "foot_passengers": foot, "deck_load_kg": deck.round(0),
        "prior_delay_min": prior.round(1), "crew_change": np.where(crew, "yes", "no"),
        "vessel_age_yr": age.round(1), "target": delay.round(1)})
    df.to_csv(HERE / "h21_ferries.csv", index=False)


def catches() -> None:
    """Fishing-trip logs and the species that made up most of the catch."""
    rng = np.random.default_rng(2102)
    n = 1500
    gears = np.array(["trawl", "gillnet", "longline", "handline", "purse_seine"])
    g = rng.choice(5, n, p=[0.30, 0.20, 0.20, 0.15, 0.15])
    month = rng.integers(1, 13, n)
    season = np.cos(2 * np.pi * (month - 7.5) / 12)                # +1 in summer, -1 in winter
    lat = rng.uniform(56.5, 62.5, n)
    temp = np.clip(9.5 + 3.5 * season - 0.6 * (lat - 59.5) + rng.normal(0, 1.2, n), 2, 16)
    depth = np.clip(np.exp(rng.normal(np.log(110), 0.8, n)), 10, 420)
    dist = np.clip(depth / 6 + rng.gamma(2, 5, n), 1, 80)
    hours = rng.uniform(1, 20, n)
    moon = rng.uniform(0, 1, n)

    def window(x, mid, width):
        return -0.5 * ((x - mid) / width) ** 2

    ld = np.log(depth)
    # gear selectivity: rows = species (cod, haddock, mackerel, herring, halibut), cols = gears
    sel = np.array([[1.0, 1.2, 0.8, 0.0, -2.0],
                    [1.1, 0.2, 1.0, -0.5, -2.0],
                    [-1.0, -1.5, -2.0, 2.0, 1.6],
                    [0.6, -1.0, -2.5, -1.0, 2.0],
                    [-1.5, -0.5, 1.6, -1.0, -3.0]])
    score = np.stack([
        window(ld, np.log(140), 0.55) + window(temp, 6.0, 2.2),
        window(ld, np.log(170), 0.40) + window(temp, 8.5, 1.8),
        window(ld, np.log(30), 0.70) + window(temp, 12.5, 2.0) + 0.8 * season,
        window(ld, np.log(60), 0.60) + window(temp, 8.0, 2.5) - 1.2 * moon - 0.3 * season,
        window(ld, np.log(330), 0.30) + window(temp, 5.0, 2.0) - 0.6,
    ], 1) * 2.0 + sel[:, g].T
    score = score + rng.gumbel(0, 0.75, score.shape)
    species = np.array(["cod", "haddock", "mackerel", "herring", "halibut"])[score.argmax(1)]
    df = pd.DataFrame({
        "gear": gears[g], "depth_m": depth.round(0), "sea_temp_c": temp.round(1), "month": month,
        "dist_shore_km": dist.round(1), "hours_fished": hours.round(1), "moon": moon.round(2),
        "lat_n": lat.round(2), "target": species})
    df.to_csv(HERE / "h21_catches.csv", index=False)


def glacier() -> None:
    """Hourly meltwater discharge below a glacier, and the weather."""
    rng = np.random.default_rng(2103)
    hours = 90 * 24
    ts = pd.date_range("2024-06-01 00:00", periods=hours, freq="h")
    t = np.arange(hours, dtype=float)
    day = t / 24.0
    hod = t % 24
    # weather: a warm-up to late July, a cold spell in mid August, AR(1) anomalies
    anomaly = np.zeros(hours)
    cloud = np.zeros(hours)
    for k in range(1, hours):
        anomaly[k] = 0.985 * anomaly[k - 1] + rng.normal(0, 0.35)
        cloud[k] = 0.97 * cloud[k - 1] + rng.normal(0, 0.25)
    cloudiness = 1 / (1 + np.exp(-(cloud - 0.3)))                          # 0 clear .. 1 overcast
    seasonal = 4.0 + 5.0 * np.sin(np.pi * np.clip(day / 75.0, 0, 1.2)) - 5.0 * np.exp(-((day - 72) / 4.0) ** 2)
    elev = np.maximum(np.sin(2 * np.pi * (hod - 6) / 24), 0) * (1 - 0.25 * day / 90)
    radiation = 950 * elev ** 1.3 * (1 - 0.75 * cloudiness) + rng.normal(0, 8, hours)
    radiation = np.maximum(radiation, 0)
    temp = seasonal + anomaly + 4.5 * np.sin(2 * np.pi * (hod - 9) / 24) * (1 - 0.5 * cloudiness) \
        + rng.normal(0, 0.4, hours)
    rain = np.where(rng.random(hours) < 0.04 + 0.08 * cloudiness, rng.gamma(1.2, 1.5, hours), 0.0) * (cloudiness > 0.5)
    albedo_gain = 0.6 + 0.8 * np.clip(day / 60.0, 0, 1)                   # snow retreats, dark ice
    melt = 0.35 * np.maximum(temp, 0) + 0.012 * radiation * albedo_gain + 0.6 * rain * (temp > 1)
    fast = np.zeros(hours)
    slow = np.zeros(hours)
    for k in range(1, hours):
        fast[k] = fast[k - 1] + (0.7 * melt[k] - fast[k - 1]) / 5.0
        slow[k] = slow[k - 1] + (0.3 * melt[k] - slow[k - 1]) / 60.0
    slow = slow + 1.0                                                     # base flow
    discharge = 3.0 * (fast + slow) * np.exp(rng.normal(0, 0.02, hours))
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "discharge_m3s": discharge.round(3),
                  "air_temp_c": temp.round(2), "radiation_wm2": radiation.round(1),
                  "precip_mm": rain.round(2)}).to_csv(HERE / "h21_glacier.csv", index=False)


# blade colours (R, G, B): healthy green, chlorosis yellow, leafroll red-purple; luma 0.299 R + 0.587 G + 0.114 B
_BLADE = {0: (70.0, 140.0, 50.0), 1: (150.0, 106.0, 40.0), 2: (182.0, 80.0, 88.0)}


def leaves() -> None:
    """Grapevine leaf patches and the diagnosis."""
    rng = np.random.default_rng(2104)
    n, S = 600, 16
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    x = np.zeros((n, 3, S, S), np.uint8)
    for i, k in enumerate(labels):
        base = np.array(_BLADE.get(int(k), _BLADE[0]))
        base = base + rng.normal(0, 6, 3)                                  # cultivar and light
        img = np.repeat(base[:, None, None], S, 1).repeat(S, 2).astype(float)
        # veins: 1-2 lighter lines at a random angle, through a random point
        for _ in range(int(rng.integers(1, 3))):
            a = rng.uniform(0, np.pi)
            cx, cy = rng.uniform(3, 13, 2)
            d = np.abs((xx - cx) * np.sin(a) - (yy - cy) * np.cos(a))
            img += 22.0 * np.exp(-d ** 2 / 0.8)[None]
        img += rng.normal(0, 5, (1, S, S)) * np.array([1.0, 1.0, 1.0])[:, None, None]   # blade texture
        if k == 3:                                                         # mildew: whitish powder
            for _ in range(int(rng.integers(2, 5))):
                by, bx = rng.uniform(0, S, 2)
                blob = np.exp(-((yy - by) ** 2 + (xx - bx) ** 2) / rng.uniform(3, 8))
                img = img * (1 - 0.75 * blob[None]) + 215.0 * 0.75 * blob[None]
        if k == 4:                                                         # black rot: dark lesions with a rim
            for _ in range(int(rng.integers(2, 5))):
                by, bx = rng.uniform(1, S - 1, 2)
                r2 = (yy - by) ** 2 + (xx - bx) ** 2
                rad = rng.uniform(1.0, 1.8)
                core = np.exp(-r2 / rad ** 2)
                img = img * (1 - 0.8 * core[None]) + np.array([45.0, 30.0, 20.0])[:, None, None] * 0.8 * core[None]
        img = img * rng.uniform(0.8, 1.2) + rng.normal(0, 7, (3, S, S))    # exposure and sensor noise
        x[i] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h21_leaves.npz", x=x, y=labels.astype(np.int64))


def bowing() -> None:
    """Sensor-bow traces and the bowing technique."""
    rng = np.random.default_rng(2105)
    n, T, fs = 750, 40, 80.0
    labels = np.repeat(np.arange(5), n // 5)
    rng.shuffle(labels)
    x = np.zeros((n, T, 4), np.float32)
    t = np.arange(T) / fs
    for i, k in enumerate(labels):
        speed = rng.uniform(0.8, 1.25)                                     # the player's tempo
        f0 = rng.uniform(0.7, 1.3)                                         # the player's weight
        phase = rng.uniform(0, 1)
        if k == 0:                                                         # detache: even separate strokes
            rate = rng.uniform(4, 8) * speed
            s = np.sin(2 * np.pi * (rate / 2 * t + phase / 2))
            vel = 0.45 * np.sign(s) * np.abs(s) ** 0.3
            force = f0 * (0.9 + 0.1 * rng.normal(0, 1, T))
            vib = 0.7 * np.abs(s) ** 0.3
        elif k == 1:                                                       # legato: one slow stroke
            v0 = rng.choice([-1, 1]) * rng.uniform(0.15, 0.35)
            vel = v0 * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(1, 3) * t))
            force = f0 * (0.8 + 0.05 * rng.normal(0, 1, T))
            vib = 0.6 + 0.05 * np.sin(2 * np.pi * 5 * t)
        elif k == 2:                                                       # spiccato: the bow bounces
            rate = rng.uniform(7, 11) * speed
            s = np.sin(2 * np.pi * (rate / 2 * t + phase / 2))
            vel = 0.5 * s
            contact = np.maximum(np.sin(2 * np.pi * (rate * t + phase)), 0)
            force = f0 * 1.1 * contact ** 2
            env = np.zeros(T)
            for j in range(1, T):
                env[j] = max(contact[j] ** 2, env[j - 1] * 0.8)
            vib = 0.8 * env
        elif k == 3:                                                       # martele: bite, stroke, stop
            rate = rng.uniform(2.5, 4.5) * speed
            cyc = (rate * t + phase) % 1.0
            moving = cyc < 0.6
            direction = np.where(np.floor(rate * t + phase) % 2 == 0, 1.0, -1.0)
            vel = np.where(moving, direction * 0.6 * np.sin(np.pi * cyc / 0.6), 0.0)
            force = f0 * (0.5 + 1.6 * np.exp(-cyc / 0.06))
            vib = np.where(moving, 0.9 * np.exp(-cyc / 0.4), 0.1 * np.exp(-(cyc - 0.6) / 0.05))
        else:                                                              # tremolo: fast tiny strokes
            rate = rng.uniform(16, 22) * speed
            vel = 0.25 * np.sin(2 * np.pi * (rate / 2 * t + phase / 2))
            force = f0 * (0.7 + 0.1 * rng.normal(0, 1, T))
            vib = 0.55 + 0.1 * np.abs(np.sin(2 * np.pi * rate / 2 * t))
        pos = np.clip(rng.uniform(0.1, 0.55) + np.cumsum(vel) / fs, 0, 0.65)
        x[i, :, 0] = np.round(vel + rng.normal(0, 0.04, T), 3)
        x[i, :, 1] = np.round(np.maximum(force + rng.normal(0, 0.06, T), 0), 3)
        x[i, :, 2] = np.round(pos + rng.normal(0, 0.005, T), 3)
        x[i, :, 3] = np.round(np.clip(vib + rng.normal(0, 0.05, T), 0, 1), 3)
    _savez(HERE / "h21_bowing.npz", x=x, y=labels.astype(np.int64))


_GREET = [["hi"], ["hello"], ["hello", "there"], ["good", "morning"], ["dear", "library"], ["hi", "team"],
          ["good", "afternoon"], ["hey"]]
_CONTEXT = ["i", "borrowed", "a", "book", "last", "month", "for", "my", "course", "and", "the", "my", "son",
            "we", "have", "a", "question", "about", "it", "is", "this", "from", "your", "main", "branch",
            "i", "am", "a", "member", "since", "years", "can", "you", "help", "with", "the", "please"]
_QUEUES = {
    "renewal": ["renew", "extend", "longer", "renewal", "keep", "another", "weeks", "due"],
    "holds": ["reserve", "hold", "waiting", "queue", "reservation", "collect", "pickup", "list"],
    "fines": ["fine", "overdue", "charge", "pay", "fee", "late", "waive", "owe"],
    "lost_card": ["card", "lost", "stolen", "replacement", "pin", "barcode", "wallet", "new"],
    "interlibrary": ["interlibrary", "loan", "another", "university", "request", "copy", "article", "order"],
}
_SHARED = ["book", "account", "online", "date", "branch"]
_TITLES = ["river", "silent", "garden", "history", "winter", "stars", "cooking", "atlas", "poems", "kings"]
_SIGN = [["thanks"], ["thank", "you"], ["cheers"], ["regards", "alex"], ["many", "thanks"], ["best", "wishes"]]


def library() -> None:
    """Messages to a library help desk and the queue."""
    rng = np.random.default_rng(2106)
    queues = list(_QUEUES)
    rows = []
    for i in range(1500):
        q = queues[i % len(queues)]
        words = list(_GREET[int(rng.integers(0, len(_GREET)))])
        words += [_CONTEXT[int(j)] for j in rng.integers(0, len(_CONTEXT), int(rng.integers(4, 10)))]
        for _ in range(int(rng.integers(2, 5))):
            r = rng.random()
            if r < 0.60:
                pool = _QUEUES[q]
            elif r < 0.80:
                pool = _SHARED
            else:
                pool = _QUEUES[queues[int(rng.integers(0, len(queues)))]]
            words.append(pool[int(rng.integers(0, len(pool)))])
        if rng.random() < 0.4:
            words += ["the", _TITLES[int(rng.integers(0, len(_TITLES)))]]
        words += _SIGN[int(rng.integers(0, len(_SIGN)))]
        rows.append((" ".join(words), q))
    order = rng.permutation(len(rows))
    pd.DataFrame([rows[j] for j in order], columns=["text", "target"]).to_csv(HERE / "h21_library.csv", index=False)


def heldout21() -> None:
    HERE.mkdir(exist_ok=True)
    ferries()
    catches()
    glacier()
    leaves()
    bowing()
    library()


if __name__ == "__main__":
    heldout21()
    print_sizes(HERE, FILES)
