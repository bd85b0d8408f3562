#!/usr/bin/env python
"""Write the data files of the twenty-ninth held-out set (heldout29.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 2901-2904, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data29.py

  h29_kilns.csv       1200 firings of floor tiles in a roller kiln and the tile's linear firing
                      shrinkage (the target, regression, %, about 1-8): peak_temp_c (1150-1250),
                      soak_min (minutes at the peak), ramp_c_min (heating rate), feldspar_pct,
                      quartz_pct, kaolin_pct (the body's recipe, summing to 100 with 5 % of
                      talc), moisture_pct (pressing moisture), press_mpa, thickness_mm, kiln (text:
                      four kilns, each with its own thermocouple offset), batch_code (a number, no
                      effect). The body vitrifies at a temperature the feldspar flux lowers; the
                      shrinkage rises steeply (a sigmoid of about 8 degC) as the effective heat work
                      (peak, soak, ramp, thickness and the kiln's offset) passes it, and falls again
                      when the tile is overfired (bloating); the green density (pressing pressure and
                      moisture) and the quartz set the level; noise of 0.12 (points of shrinkage)
  h29_crowns.csv      1300 tree crowns segmented from an airborne LiDAR and multispectral survey and
                      the species (the target, text, six species, imbalanced: spruce 460, pine 330,
                      birch 240, aspen 130, larch 85, alder 55): height_m, crown_diam_m,
                      crown_depth (live crown / height), point_density, first_last_ratio (first
                      returns over last returns: how much the laser passes through), intensity_mean,
                      intensity_sd, ndvi, red_edge, swir, gap_frac, elevation_m, stand (text: four
                      stands, each its own species mix), survey_day (no effect). The species overlap
                      in any one feature; conifers and broadleaves differ in the spectra, the
                      species within each group in the crown's shape, its size and its texture
  h29_tram.csv        3120 hours (130 days from Monday 2024-02-05) of a tram line's boardings:
                      timestamp, boardings (the series forecast), hour (0-23), weekday (0 = Monday),
                      temp_c, rain_mm, school_day (0/1), event (0/1: a match or a concert at the
                      stadium on the line, flagged from noon of the day until the crowd has left),
                      trams (vehicles in service). Weekday morning and evening rush hours, a bump when
                      school is out, smaller rush hours in the school holidays (two weeks in the
                      middle, the last week), flat weekend afternoons, no service from 01 to 05
                      (boardings 0), rain pushes cyclists onto the tram, an event brings a crowd in the
                      two hours before it starts (17-19 h) and in the hour after; the level grows 15 %
                      over the spring; 5 % noise
  h29_pollen.npz      1020 images (N, 1, 16, 16) uint8 of stained pollen grains under a light
                      microscope with a monochrome camera behind a green filter (a pale background,
                      the grains dark where the fuchsin stain absorbs), 170 per taxon: 0 pine (a body
                      with two air bladders), 1 grass (a round grain with one ringed pore), 2 birch (a
                      rounded triangle with a pore at each corner), 3 aster (a round grain covered in
                      spines), 4 oak (an ellipse with three furrows), 5 nettle (a small, pale,
                      thin-walled ring); at a random orientation, position (+-1.5 px) and size
                      (+-15 %), with a staining depth of 0.8-1.15 times the usual, out-of-focus
                      blur, noise and an uneven illumination
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h29_kilns.csv", "h29_crowns.csv", "h29_tram.csv", "h29_pollen.npz"]


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def kilns() -> None:
    """Firing shrinkage of floor tiles in a roller kiln."""
    rng = np.random.default_rng(2901)
    n = 1200
    kiln = rng.choice(4, n, p=[0.3, 0.3, 0.25, 0.15])
    k_off = np.array([0.0, -14.0, 9.0, -6.0])[kiln]                    # thermocouple offsets, degC
    peak = np.round(rng.uniform(1150, 1250, n), 0)
    soak = np.round(rng.uniform(5, 45, n), 0)
    ramp = np.round(rng.uniform(10, 60, n), 1)
    feld = np.round(rng.uniform(10, 40, n), 1)
    quartz = np.round(rng.uniform(15, 35, n), 1)
    kaolin = np.round(95 - feld - quartz, 1)
    moist = np.round(rng.uniform(3.0, 7.0, n), 2)
    press = np.round(rng.uniform(20, 45, n), 1)
    thick = np.round(rng.uniform(7, 12, n), 1)
    t_vit = 1236 - 2.4 * (feld - 10)                                   # flux lowers the vitrification point
    t_eff = peak + k_off + 16 * np.log(soak / 15) - 0.45 * (ramp - 30) - 3.5 * (thick - 9)
    gap = t_eff - t_vit
    rho = 1.95 + 0.012 * (press - 30) + 0.02 * (moist - 5)              # green density
    shrink = (1.4 + 5.2 * _sigmoid(gap / 8.0) - 0.07 * (quartz - 25) - 6.0 * (rho - 1.95)
              - 0.045 * np.clip(gap - 35, 0, None))                    # overfiring: bloating
    shrink = shrink + rng.normal(0, 0.12, n)
    df = pd.DataFrame({
        "peak_temp_c": peak.astype(int), "soak_min": soak.astype(int), "ramp_c_min": ramp, "feldspar_pct": feld,
        "quartz_pct": quartz, "kaolin_pct": kaolin, "moisture_pct": moist, "press_mpa": press,
        "thickness_mm": thick, "kiln": np.array(["K1", "K2", "K3", "K4"])[kiln],
        "batch_code": rng.integers(1000, 2000, n), "target": shrink.round(2)})
    df.to_csv(HERE / "h29_kilns.csv", index=False)


def crowns() -> None:
    """LiDAR and multispectral metrics of tree crowns and the species."""
    rng = np.random.default_rng(2902)
    names = ["spruce", "pine", "birch", "aspen", "larch", "alder"]
    counts = [460, 330, 240, 130, 85, 55]
    y = np.repeat(np.arange(6), counts)
    rng.shuffle(y)
    n = len(y)
    stands = np.array(["north_slope", "river_flat", "old_growth", "clearcut_edge"])
    stand_p = np.array([[0.40, 0.10, 0.40, 0.10],     # spruce
                        [0.30, 0.20, 0.20, 0.30],     # pine
                        [0.20, 0.30, 0.15, 0.35],     # birch
                        [0.15, 0.30, 0.15, 0.40],     # aspen
                        [0.40, 0.20, 0.30, 0.10],     # larch
                        [0.05, 0.75, 0.05, 0.15]])    # alder
    stand = np.array([rng.choice(4, p=stand_p[k]) for k in y])
    age = rng.gamma(4.0, 0.25, n) * np.array([1.0, 0.8, 1.2, 1.3, 0.7, 1.0])[stand]   # stand age, a size factor
    # per species: height (m, at age factor 1), crown diameter ratio, crown depth, transmission (first/last),
    # intensity, ndvi, red edge, swir, texture
    h0 = np.array([24.0, 21.0, 19.0, 22.0, 23.0, 14.0])
    cd = np.array([0.22, 0.30, 0.36, 0.30, 0.24, 0.42])
    depth = np.array([0.75, 0.40, 0.55, 0.45, 0.60, 0.65])
    trans = np.array([1.25, 1.55, 1.65, 1.85, 1.90, 1.45])
    inten = np.array([95.0, 105.0, 150.0, 145.0, 120.0, 160.0])
    ndvi = np.array([0.72, 0.70, 0.80, 0.79, 0.76, 0.81])
    redge = np.array([0.30, 0.31, 0.39, 0.37, 0.36, 0.40])
    swir = np.array([0.14, 0.16, 0.19, 0.18, 0.17, 0.21])
    tex = np.array([0.9, 1.3, 1.6, 1.5, 1.1, 1.7])
    size = np.clip(age, 0.3, 2.5) ** 0.6
    height = np.clip(h0[y] * size * rng.normal(1, 0.10, n), 3, 42)
    diam = np.clip(height * cd[y] * rng.normal(1, 0.15, n), 1, 16)
    cdepth = np.clip(depth[y] + rng.normal(0, 0.08, n), 0.1, 0.95)
    density = np.clip(rng.normal(12, 3, n) * (1 + 0.02 * height), 3, 40)
    fl = np.clip(trans[y] + rng.normal(0, 0.16, n) + 0.05 * (stand == 2), 1.0, 3.0)
    i_mean = inten[y] + rng.normal(0, 14, n) + 8 * (stand == 1)
    i_sd = np.clip(tex[y] * 20 + rng.normal(0, 5, n), 3, None)
    season = rng.normal(0, 0.025, n)                                   # phenology / illumination, shared by the bands
    nd = np.clip(ndvi[y] + season + rng.normal(0, 0.025, n), 0.3, 0.95)
    re = redge[y] + 0.8 * season + rng.normal(0, 0.022, n)
    sw = swir[y] - 0.4 * season + rng.normal(0, 0.014, n)
    gapf = np.clip(0.15 + 0.12 * (fl - 1.2) + rng.normal(0, 0.05, n), 0.01, 0.8)
    elev = np.array([620.0, 310.0, 540.0, 420.0])[stand] + rng.normal(0, 40, n)
    day = rng.integers(150, 250, n)
    df = pd.DataFrame({
        "height_m": height.round(1), "crown_diam_m": diam.round(1), "crown_depth": cdepth.round(2),
        "point_density": density.round(1), "first_last_ratio": fl.round(2), "intensity_mean": i_mean.round(1),
        "intensity_sd": i_sd.round(1), "ndvi": nd.round(3), "red_edge": re.round(3), "swir": sw.round(3),
        "gap_frac": gapf.round(3), "elevation_m": elev.round(0).astype(int), "stand": stands[stand],
        "survey_day": day, "target": np.array(names)[y]})
    df.to_csv(HERE / "h29_crowns.csv", index=False)


def tram() -> None:
    """Hourly boardings on a tram line, with the weather, school days and stadium events."""
    rng = np.random.default_rng(2903)
    days = 130
    hours = days * 24
    ts = pd.date_range("2024-02-05 00:00", periods=hours, freq="h")
    t = np.arange(hours)
    hod, dow, day = t % 24, (t // 24) % 7, t // 24
    # weather: a slow warming, a daily cycle, fronts; rain in spells
    front = np.zeros(hours)
    for i in range(1, hours):
        front[i] = 0.98 * front[i - 1] + rng.normal(0, 0.5)
    temp = 2 + 12 * (day / days) + 4 * np.sin(2 * np.pi * (hod - 9) / 24) + front
    wet = np.zeros(hours, dtype=bool)
    for i in range(1, hours):
        wet[i] = (rng.random() < 0.90) if wet[i - 1] else (rng.random() < 0.035)
    rain = np.where(wet, rng.gamma(1.2, 1.2, hours), 0.0)
    # school holidays: two weeks in the middle and the last week
    holiday_days = set(range(47, 61)) | set(range(123, 130))
    school = np.array([(d % 7 < 5) and (d not in holiday_days) for d in day]).astype(int)
    # stadium events: some evenings, about one a week
    ev_days = [d for d in range(days) if rng.random() < 0.15]
    event = np.zeros(hours, dtype=int)                                 # the match-day flag, from noon
    crowd = np.zeros(hours)
    for d in ev_days:
        start = d * 24 + int(rng.integers(17, 20))
        event[d * 24 + 12:start + 3] = 1
        crowd[start - 2:start] = 1.0                                   # the crowd going in
        crowd[start + 2:start + 3] = 1.2                               # and coming out
    weekday = dow < 5
    base = np.where(weekday,
                    40 + 520 * np.exp(-0.5 * ((hod - 7.8) / 1.0) ** 2) + 430 * np.exp(-0.5 * ((hod - 17.2) / 1.4) ** 2)
                    + 130 * ((hod >= 10) & (hod <= 15)),
                    30 + 210 * np.exp(-0.5 * ((hod - 14.5) / 3.2) ** 2))
    base = base * np.where(weekday & (school == 0), 0.72, 1.0)
    base = base + weekday * school * 160 * np.exp(-0.5 * ((hod - 15.3) / 0.7) ** 2)   # school's out
    level = 1 + 0.15 * (day / days)
    boardings = base * level * (1 + 0.05 * np.clip(rain, 0, 6)) * (1 - 0.012 * np.clip(temp - 12, 0, None))
    boardings = boardings + 600 * crowd * rng.uniform(0.7, 1.2, hours)
    boardings = boardings * (1 + rng.normal(0, 0.05, hours))
    service = (hod >= 5) | (hod == 0)                                  # no trams from 01 to 05
    boardings = np.where(service, np.clip(boardings, 0, None), 0.0)
    trams = np.where(service, np.where(weekday & ((np.abs(hod - 8) <= 1) | (np.abs(hod - 17) <= 1)), 14, 9)
                     + 3 * (crowd > 0), 0)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "boardings": boardings.round(0).astype(int),
                  "hour": hod, "weekday": dow,
                  "temp_c": temp.round(1), "rain_mm": rain.round(1), "school_day": school, "event": event,
                  "trams": trams}).to_csv(HERE / "h29_tram.csv", index=False)


def pollen() -> None:
    """Small grayscale images of stained pollen grains, six taxa."""
    rng = np.random.default_rng(2904)
    n_per, S = 170, 16
    labels = np.repeat(np.arange(6), n_per)
    rng.shuffle(labels)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    stain = 0.75                                                       # fuchsin's absorbance, green filter

    def disk(cx, cy, r, soft=0.6):
        return np.clip((r - np.hypot(xx - cx, yy - cy)) / soft + 0.5, 0, 1)

    def ellipse(cx, cy, a, b, th):
        u = (xx - cx) * np.cos(th) + (yy - cy) * np.sin(th)
        v = -(xx - cx) * np.sin(th) + (yy - cy) * np.cos(th)
        r = np.hypot(u / a, v / b)
        return np.clip((1 - r) * min(a, b) / 0.6 + 0.5, 0, 1)

    imgs = np.zeros((len(labels), 1, S, S), dtype=np.uint8)
    for i, k in enumerate(labels):
        cx, cy = 7.5 + rng.uniform(-1.5, 1.5, 2)
        sc = rng.uniform(0.85, 1.15)
        th = rng.uniform(0, 2 * np.pi)
        dens = np.zeros((S, S))                                        # stain density (optical depth)
        if k == 0:                                                     # pine: body and two air bladders
            dens += 0.9 * ellipse(cx, cy, 3.2 * sc, 2.4 * sc, th)
            for s in (-1, 1):
                bx, by = cx + s * 3.6 * sc * np.cos(th), cy + s * 3.6 * sc * np.sin(th)
                dens += 0.45 * disk(bx, by, 2.4 * sc)
        elif k == 1:                                                   # grass: round, one ringed pore
            dens += 0.8 * disk(cx, cy, 4.2 * sc)
            px, py = cx + 2.4 * sc * np.cos(th), cy + 2.4 * sc * np.sin(th)
            dens += 0.6 * disk(px, py, 1.3) - 0.9 * disk(px, py, 0.6, 0.4)
        elif k == 2:                                                   # birch: rounded triangle, three pores
            body = disk(cx, cy, 3.6 * sc)
            for j in range(3):
                a = th + j * 2 * np.pi / 3
                px, py = cx + 3.6 * sc * np.cos(a), cy + 3.6 * sc * np.sin(a)
                body = np.maximum(body, disk(px, py, 1.4 * sc))
            dens += 0.8 * body
            for j in range(3):
                a = th + j * 2 * np.pi / 3
                px, py = cx + 4.1 * sc * np.cos(a), cy + 4.1 * sc * np.sin(a)
                dens += 0.7 * disk(px, py, 0.8, 0.4)
        elif k == 3:                                                   # aster: round, spiny
            dens += 0.85 * disk(cx, cy, 3.4 * sc)
            for j in range(9):
                a = th + j * 2 * np.pi / 9
                px, py = cx + 4.3 * sc * np.cos(a), cy + 4.3 * sc * np.sin(a)
                dens += 0.9 * disk(px, py, 0.7, 0.4)
        elif k == 4:                                                   # oak: ellipse with three furrows
            dens += 0.85 * ellipse(cx, cy, 4.6 * sc, 3.3 * sc, th)
            for j in (-1, 0, 1):
                # furrows run along the long axis
                off = j * 1.6 * sc
                ox, oy = cx - off * np.sin(th), cy + off * np.cos(th)
                u = (xx - ox) * np.cos(th) + (yy - oy) * np.sin(th)
                v = -(xx - ox) * np.sin(th) + (yy - oy) * np.cos(th)
                dens -= 0.45 * np.clip(0.6 - np.abs(v) / 0.7, 0, 1) * (np.abs(u) < 3.2 * sc)
        else:                                                          # nettle: small, pale, thin-walled
            ring = disk(cx, cy, 3.0 * sc) - 0.55 * disk(cx, cy, 2.2 * sc)
            dens += 0.7 * ring
        dens = np.clip(dens, 0, 1.6) * rng.uniform(0.8, 1.15)
        # out of focus: a light 3x3 blur
        pad = np.pad(dens, 1, mode="edge")
        dens = 0.5 * dens + 0.5 * sum(pad[1 + a:1 + a + S, 1 + b:1 + b + S] for a in (-1, 0, 1) for b in (-1, 0, 1)) / 9
        g = rng.normal(0, 1, 2)
        light = 0.92 + 0.04 * (g[0] * (xx - 7.5) + g[1] * (yy - 7.5)) / 8           # uneven illumination
        img = light * np.exp(-stain * 1.6 * dens) + rng.normal(0, 0.02, (S, S))
        imgs[i, 0] = np.clip(img * 240, 0, 255).astype(np.uint8)
    _savez(HERE / "h29_pollen.npz", x=imgs, y=labels.astype(np.int64))


def heldout29() -> None:
    HERE.mkdir(parents=True, exist_ok=True)
    kilns()
    crowns()
    tram()
    pollen()
    print_sizes(HERE, FILES)


if __name__ == "__main__":
    heldout29()
