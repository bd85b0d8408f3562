#!/usr/bin/env python
"""Write the data files of the eighteenth held-out set (heldout18.yaml) into benchmarks/doctor/data/.

Everything is drawn with numpy from fixed seeds (one generator per data set, 1801-1806, so changing
one never shifts another) and written byte for byte the same on every run:

    .venv/bin/python benchmarks/doctor/make_data18.py

  h18_transits.csv    2000 transit candidates from a space photometry survey and the vetting team's
                      verdict: planet (~52%), eclipsing_binary (~22%), false_alarm (~14%),
                      background_eb (~7%: an eclipsing binary on a fainter star nearby, diluted to a
                      planet-like depth; its light centroid moves in transit in 60% of them),
                      stellar_variability (~4%: a spotted star's quasi-sinusoid). tic_id (a catalogue
                      id, text, unique per row), period_days (0.3-400, log-uniform), n_transits (a
                      count, heavy-tailed), log10_depth_ppm (depths of 5 to 400000 ppm), duration_hours,
                      log10_snr, impact, v_shape, secondary_ppm (0 for most rows: no secondary eclipse
                      seen; heavy-tailed), odd_even_sigma, centroid_arcsec, sine_power, star_teff_k
                      (3000-7500), star_radius_rsun, star_logg, tmag, pipeline (text: spoc, qlp)
  h18_sailing.csv     2000 ten-minute legs of a club's racing yachts and their speed over ground in knots:
                      tws_kn (true wind speed), twa_deg (true wind angle 0-360 from the bow, port and
                      starboard tacks: 45 and 315 are the same point of sail), wave_m, current_kn (the
                      tidal current along the course), lwl_m (waterline length: hull speed grows with
                      its root), crew_kg (250-700), hull_days (days since the hull was last cleaned: zero
                      after a haul-out), sails (text: main+jib, main+genoa, reefed, main+spinnaker). The
                      speed follows a polar: it rises with the wind and saturates at hull speed, is
                      zero head to wind, best on a beam reach, lower dead downwind; a spinnaker helps
                      downwind, waves slow the boat upwind, fouling slows it a little
  h18_pills.npz       1000 photos from a pharmacy's pill-counting tray (N, 1, 22, 22) uint8, and the
                      count: 1-5 tablets (200 each), bright ellipses at random places and angles on a
                      dark tray (tablets of two colours, so two brightnesses), with dust specks (single
                      dim pixels), a vignette and an exposure that varies
  h18_plugs.npz       900 ten-minute recordings (N, 60, 2) float32 from a smart plug, one reading every
                      10 s: active power in watts (0-2500) and power factor (0-1; 0 when off), and
                      the appliance plugged in (y 0-5): kettle, fridge, microwave, washer, laptop,
                      television, 150 each; the appliance starts, stops and cycles at random times;
                      laptop and television draw the same 50-140 W and differ in the power factor
                      (a laptop charger has no power-factor correction) and in the flicker
  h18_atc.csv         1600 air-traffic-control transmissions as transcribed (spelled numbers:
                      'delta four two seven wind two niner zero at one two runway two seven left cleared
                      for takeoff') and the controller's instruction: takeoff, landing, line_up,
                      hold_short, taxi, go_around, handoff, altitude (181-231 each); a callsign first,
                      then 0-3 advisories that may precede any instruction (wind, altimeter, traffic,
                      'behind the landing traffic'), then the instruction, last; 1% of the labels
                      redrawn
  h18_harbor.csv      2880 hours (120 days from 2024-01-01) of a harbour's tide gauge: level_cm (above
                      chart datum; a mixed tide: the semidiurnal M2, S2 and diurnal K1, O1 constituents,
                      so the two daily highs differ), pressure_hpa (the inverse barometer: 1 cm less
                      per hPa), wind_ms and wind_dir_deg (south-westerly gales pile water into the
                      harbour); forecast level_cm 1..12 hours ahead
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from make_data12 import _savez, print_sizes  # _savez: a fixed-date zip, the same bytes on every run

HERE = Path(__file__).resolve().parent / "data"
FILES = ["h18_transits.csv", "h18_sailing.csv", "h18_pills.npz", "h18_plugs.npz", "h18_atc.csv", "h18_harbor.csv"]


def transits() -> None:
    """Transit candidates and the vetting team's verdict."""
    rng = np.random.default_rng(1801)
    n = 2000
    names = ["planet", "eclipsing_binary", "false_alarm", "background_eb", "stellar_variability"]
    lab = rng.choice(5, n, p=[0.52, 0.22, 0.14, 0.07, 0.05])
    teff = np.clip(rng.normal(5600, 900, n), 3000, 7500)
    rstar = np.clip(np.exp(rng.normal(0.0, 0.35, n)) * (teff / 5700) ** 1.2, 0.15, 4.0)
    logg = 4.44 - 2 * np.log10(rstar) + 0.5 * np.log10(np.clip(rstar, 0.3, 3)) + rng.normal(0, 0.08, n)
    tmag = rng.uniform(8, 15.5, n)
    pipeline = np.where(tmag > 13.0, "qlp", "spoc")
    noise_ppm = 60 * 10 ** (0.2 * (tmag - 10)) * np.where(pipeline == "qlp", 1.4, 1.0)
    period = np.exp(rng.uniform(np.log(0.5), np.log(400), n))
    depth = np.zeros(n)
    vshape = np.zeros(n)
    sec = np.zeros(n)
    oe = np.abs(rng.normal(0, 1, n))
    cen = np.abs(rng.normal(0, 0.25, n))
    sine = rng.beta(1.2, 6, n)
    impact = rng.uniform(0, 1.0, n)
    dur_scale = np.ones(n)
    for i in range(n):
        k = lab[i]
        if k == 0:      # planet: (Rp / Rs)^2, a U-shaped transit
            rp = np.exp(rng.uniform(np.log(0.8), np.log(20)))          # earth radii
            depth[i] = 84.0 * (rp / rstar[i]) ** 2
            vshape[i] = rng.beta(2, 7) + 0.5 * max(impact[i] - 0.8, 0)
            if rp > 8 and period[i] < 5 and rng.random() < 0.5:      # a hot Jupiter's faint occultation
                sec[i] = rng.uniform(10, 120)
        elif k == 1:    # eclipsing binary: deep, often V-shaped, a secondary eclipse, odd/even differ
            period[i] = np.exp(rng.uniform(np.log(0.3), np.log(40)))
            depth[i] = np.exp(rng.uniform(np.log(4000), np.log(400000)))
            vshape[i] = rng.beta(5, 2)
            impact[i] = rng.uniform(0.5, 1.3)
            if rng.random() < 0.7:
                sec[i] = depth[i] * rng.uniform(0.05, 0.7)
            oe[i] = np.abs(rng.normal(0, 1)) + rng.exponential(6) * (rng.random() < 0.5)
            dur_scale[i] = rng.uniform(1.0, 2.0)
        elif k == 2:    # false alarm: noise and systematics at the detection limit
            depth[i] = noise_ppm[i] * rng.uniform(0.4, 1.6)
            vshape[i] = rng.uniform(0, 1)
            dur_scale[i] = np.exp(rng.normal(0, 0.6))
        elif k == 3:    # background eclipsing binary: diluted to a planet-like depth; the centroid moves
            period[i] = np.exp(rng.uniform(np.log(0.4), np.log(60)))
            depth[i] = np.exp(rng.uniform(np.log(150), np.log(8000)))
            vshape[i] = rng.beta(3, 3)
            if rng.random() < 0.4:
                sec[i] = depth[i] * rng.uniform(0.1, 0.6)
            oe[i] = np.abs(rng.normal(0, 1)) + rng.exponential(2.5) * (rng.random() < 0.4)
            cen[i] = rng.exponential(2.0) if rng.random() < 0.6 else abs(rng.normal(0, 0.3))
        else:           # stellar variability: a spotted star's quasi-sinusoid
            period[i] = np.exp(rng.uniform(np.log(0.5), np.log(25)))
            depth[i] = np.exp(rng.uniform(np.log(300), np.log(20000)))
            vshape[i] = rng.beta(4, 4)
            sine[i] = rng.beta(4, 3)
            dur_scale[i] = rng.uniform(2.5, 6.0)
            oe[i] = abs(rng.normal(0, 1.8))
    span = 27.4 * rng.choice([1, 2, 3, 13], n, p=[0.45, 0.25, 0.15, 0.15])   # days observed (sectors)
    n_tr = np.maximum(1, np.floor(span / period)).astype(int)
    n_tr = np.where(lab == 2, np.maximum(1, (n_tr * rng.uniform(0.2, 1.0, n)).astype(int)), n_tr)
    dens = rstar ** -2.0
    duration = 13.0 * (period / 365.0) ** (1 / 3) * dens ** (-1 / 3) * np.sqrt(np.clip(1 - impact ** 2, 0.05, 1))
    duration = np.clip(duration * dur_scale * np.exp(rng.normal(0, 0.1, n)), 0.3, 30)
    snr = depth / noise_ppm * np.sqrt(n_tr * duration / 1.0) * np.exp(rng.normal(0, 0.15, n))
    snr = np.where(lab == 2, rng.uniform(7.1, 11.0, n), np.maximum(snr, 7.1))
    sec = np.where(sec > 0, sec * np.exp(rng.normal(0, 0.2, n)), 0.0)
    tic = rng.choice(np.arange(10_000_000, 499_999_999), n, replace=False)
    df = pd.DataFrame({
        "tic_id": [f"TIC {t}" for t in tic], "period_days": period.round(4), "n_transits": n_tr,
        "log10_depth_ppm": np.log10(depth).round(3), "duration_hours": duration.round(2),
        "log10_snr": np.log10(snr).round(3),
        "impact": impact.round(3), "v_shape": np.clip(vshape, 0, 1).round(3), "secondary_ppm": sec.round(0),
        "odd_even_sigma": oe.round(2), "centroid_arcsec": cen.round(2), "sine_power": np.clip(sine, 0, 1).round(3),
        "star_teff_k": teff.round(0), "star_radius_rsun": rstar.round(3), "star_logg": logg.round(3),
        "tmag": tmag.round(2), "pipeline": pipeline, "target": np.array(names)[lab]})
    df.to_csv(HERE / "h18_transits.csv", index=False)


def _polar(tws, twa_fold):
    """Fraction of hull speed a keelboat reaches: zero head to wind, best on a beam reach."""
    a = np.clip(twa_fold, 0, 180)
    upwind = 1 - np.exp(-np.clip(a - 28, 0, None) / 14.0)
    shape = upwind * (1 - 0.22 * ((a - 105) / 75) ** 2)
    wind = 1 - np.exp(-tws / 8.0)
    return np.clip(shape, 0, None) * wind


def sailing() -> None:
    """Ten-minute legs of racing yachts and their speed over ground."""
    rng = np.random.default_rng(1802)
    n = 2000
    tws = np.clip(rng.gamma(4.0, 3.2, n), 2, 34)
    fold = rng.uniform(32, 180, n)                     # the point of sail, 0-180
    port = rng.random(n) < 0.5
    twa = np.where(port, 360 - fold, fold) % 360
    wave = np.clip(0.06 * tws + rng.gamma(2.0, 0.18, n) - 0.2, 0.05, None)
    current = rng.normal(0, 0.7, n)
    lwl = rng.choice([6.1, 7.9, 9.4, 11.2], n, p=[0.35, 0.3, 0.2, 0.15])
    crew = np.clip(rng.normal(90, 8, n) * np.round(lwl / 1.6) + rng.normal(0, 20, n), 250, 700)
    hull = np.where(rng.random(n) < 0.15, 0, rng.integers(1, 320, n))
    sails = np.where(fold > 115, np.where(rng.random(n) < 0.8, "main+spinnaker", "main+genoa"),
                     np.where(tws > 20, np.where(rng.random(n) < 0.7, "reefed", "main+jib"),
                              np.where(rng.random(n) < 0.5, "main+genoa", "main+jib")))
    hull_speed = 2.43 * np.sqrt(lwl * 3.28) * 0.95 / 1.35
    frac = _polar(tws, fold)
    sail_f = np.select([sails == "main+spinnaker", sails == "reefed", sails == "main+genoa"],
                       [np.where(fold > 115, 1.14, 0.85), np.where(tws > 20, 1.03, 0.88), np.where(tws < 12, 1.05, 0.98)],
                       1.0)
    wave_f = 1 - 0.07 * wave * np.clip(np.cos(np.radians(fold)), 0, None) * 1.6
    foul_f = 1 - 0.0005 * hull
    crew_f = 1 + 0.0004 * (crew - 90 * np.round(lwl / 1.6)) * np.clip(tws - 12, 0, None) / 10
    stw = hull_speed * frac * sail_f * wave_f * foul_f * crew_f
    sog = np.clip(stw + current, 0.1, None)
    sog = sog * np.exp(rng.normal(0, 0.025, n))
    df = pd.DataFrame({"tws_kn": tws.round(1), "twa_deg": twa.round(1), "wave_m": wave.round(2),
                       "current_kn": current.round(2), "lwl_m": lwl, "crew_kg": crew.round(0), "hull_days": hull,
                       "sails": sails, "target": sog.round(2)})
    df.to_csv(HERE / "h18_sailing.csv", index=False)


def pills() -> None:
    """Pill-counting tray photos: 1-5 tablets."""
    rng = np.random.default_rng(1803)
    n, S = 1000, 22
    counts = np.repeat(np.arange(1, 6), n // 5)
    rng.shuffle(counts)
    yy, xx = np.mgrid[0:S, 0:S].astype(float)
    vignette = -18 * (((xx - S / 2) ** 2 + (yy - S / 2) ** 2) / (S / 2) ** 2)
    x = np.zeros((n, 1, S, S), np.uint8)
    for i, c in enumerate(counts):
        img = 46 + rng.uniform(-10, 10) + vignette + rng.normal(0, 5, (S, S))
        centres: list[tuple[float, float]] = []
        while len(centres) < c:
            cy, cx = rng.uniform(3, S - 3, 2)
            if all((cy - a) ** 2 + (cx - b) ** 2 > 5.5 ** 2 for a, b in centres):
                centres.append((cy, cx))
        for cy, cx in centres:
            ang = rng.uniform(0, np.pi)
            major, minor = rng.uniform(1.8, 2.4), rng.uniform(1.2, 1.6)
            u = (xx - cx) * np.cos(ang) + (yy - cy) * np.sin(ang)
            v = -(xx - cx) * np.sin(ang) + (yy - cy) * np.cos(ang)
            r = (u / major) ** 2 + (v / minor) ** 2
            bright = 150 if rng.random() < 0.5 else 200
            img += (bright - 46) * np.clip(1.5 - r, 0, 1) ** 0.7
        for _ in range(int(rng.integers(0, 4))):     # dust
            py, px = rng.integers(0, S, 2)
            img[py, px] += rng.uniform(30, 70)
        x[i, 0] = np.clip(np.round(img), 0, 255).astype(np.uint8)
    _savez(HERE / "h18_pills.npz", x=x, y=counts.astype(np.int64))


def plugs() -> None:
    """Smart-plug recordings of six appliances (60 readings, 10 s apart)."""
    rng = np.random.default_rng(1804)
    n, T = 900, 60
    labels = np.repeat(np.arange(6), n // 6)
    rng.shuffle(labels)
    x = np.zeros((n, T, 2), np.float32)
    t = np.arange(T)
    for i, lab in enumerate(labels):
        w = np.zeros(T)
        pf = np.zeros(T)
        if lab == 0:      # kettle: ~2.2 kW resistive, 2-4 minutes
            s, d = rng.integers(0, 40), rng.integers(12, 25)
            on = (t >= s) & (t < s + d)
            w[on] = rng.uniform(1850, 2400) * (1 - 0.01 * (t[on] - s) / d)
            pf[on] = 0.99
        elif lab == 1:    # fridge: a start spike, then the compressor; idle electronics otherwise
            w[:] = rng.uniform(2, 5)
            pf[:] = 0.4
            s, d = rng.integers(0, 30), rng.integers(20, 45)
            on = (t >= s) & (t < s + d)
            w[on] = rng.uniform(85, 140)
            pf[on] = rng.uniform(0.74, 0.86)
            w[s] = rng.uniform(500, 900)
        elif lab == 2:    # microwave: ~1.3 kW, cycling on defrost
            w[:] = 2.5
            pf[:] = 0.3
            s, d = rng.integers(0, 30), rng.integers(8, 30)
            on = (t >= s) & (t < s + d)
            if rng.random() < 0.5:
                on &= ((t - s) % 4) < 2
            w[on] = rng.uniform(1100, 1500)
            pf[on] = rng.uniform(0.93, 0.97)
        elif lab == 3:    # washer: heating, then the drum
            s, d = rng.integers(0, 15), rng.integers(10, 22)
            heat = (t >= s) & (t < s + d)
            drum = t >= s + d
            w[heat] = rng.uniform(1800, 2200)
            pf[heat] = 0.98
            w[drum] = 250 + 200 * np.abs(np.sin(2 * np.pi * (t[drum] - s) / rng.uniform(3, 6))) + rng.normal(0, 30, drum.sum())
            pf[drum] = rng.uniform(0.55, 0.7)
        elif lab == 4:    # laptop charger: 50-140 W, tapering as the battery fills; no power-factor correction
            base = rng.uniform(50, 140)
            w[:] = base * (1 - 0.25 * t / T * rng.uniform(0, 1)) * (1 + 0.05 * np.convolve(rng.normal(0, 1, T + 4), np.ones(5) / 5, "valid"))
            pf[:] = rng.uniform(0.5, 0.62)
        else:             # television: 50-140 W, following the picture; power-factor corrected
            base = rng.uniform(50, 140)
            w[:] = base * (1 + 0.06 * np.convolve(rng.normal(0, 1, T + 4), np.ones(5) / 5, "valid"))
            pf[:] = rng.uniform(0.88, 0.95)
            if rng.random() < 0.3:            # switched to standby
                off = rng.integers(30, 58)
                w[off:] = 0.5
                pf[off:] = 0.2
        on = w > 0
        w = np.where(on, w * (1 + rng.normal(0, 0.015, T)) + rng.normal(0, 1.0, T), 0.0)
        pf = np.where(on, np.clip(pf + rng.normal(0, 0.01, T), 0, 1), 0.0)
        x[i, :, 0] = np.maximum(w, 0).round(1)
        x[i, :, 1] = pf.round(3)
    _savez(HERE / "h18_plugs.npz", x=x, y=labels.astype(np.int64))


_DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "niner"]


def _spell(num: int, width: int = 0) -> str:
    s = str(num).zfill(width) if width else str(num)
    return " ".join(_DIGITS[int(ch)] for ch in s)


def atc() -> None:
    """Air-traffic-control transmissions and the instruction they carry."""
    rng = np.random.default_rng(1805)
    airlines = ["delta", "united", "american", "southwest", "speedbird", "lufthansa", "jetblue", "alaska",
                "skywest", "fedex", "cactus", "shamrock", "air france", "klm", "cessna", "november"]
    intents = ["takeoff", "landing", "line_up", "hold_short", "taxi", "go_around", "handoff", "altitude"]

    def pick(options):
        return str(options[int(rng.integers(0, len(options)))])

    def callsign():
        return f"{pick(airlines)} {_spell(int(rng.integers(10, 9999)))}"

    def runway():
        side = pick(["left", "right", "center", "", ""])
        return f"runway {_spell(int(rng.integers(1, 37)), 2)} {side}".strip()

    def taxiway():
        return pick(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "kilo"])

    def freq():
        return f"{_spell(int(rng.integers(118, 136)))} point {_spell(int(rng.integers(0, 99)))}"

    def info():       # advisories said before the instruction, whatever the instruction is
        return pick([
            f"wind {_spell(int(rng.integers(1, 37)) * 10, 3)} at {_spell(int(rng.integers(2, 25)))}",
            f"altimeter {_spell(int(rng.integers(2980, 3040)))}",
            f"traffic {_spell(int(rng.integers(1, 13)))} o'clock {_spell(int(rng.integers(2, 9)))} miles",
            "caution wake turbulence", "traffic on final", f"traffic departing {runway()}",
            "behind the landing traffic", "radar contact", "expect delay", "company traffic holding short"])

    def instruction(k: int) -> str:
        r = runway()
        return pick({
            0: [f"{r} cleared for takeoff", f"cleared for takeoff {r}"],
            1: [f"{r} cleared to land", f"cleared to land {r}"],
            2: [f"{r} line up and wait", f"line up and wait {r}"],
            3: [f"hold short of {r}", f"taxi via {taxiway()} hold short of {r}"],
            4: [f"taxi to {r} via {taxiway()} {taxiway()}", f"cross {r} taxi via {taxiway()}",
                f"taxi via {taxiway()} to the ramp"],
            5: [f"go around climb and maintain {_spell(int(rng.integers(2, 5)))} thousand", "go around fly runway heading",
                "go around i say again go around"],
            6: [f"contact departure {freq()}", f"contact ground {freq()}", f"monitor tower {freq()}"],
            7: [f"climb and maintain flight level {_spell(int(rng.integers(18, 40)) * 10, 3)}",
                f"descend and maintain {_spell(int(rng.integers(3, 12)))} thousand"],
        }[k])

    rows = []
    for _ in range(1600):
        k = int(rng.integers(0, len(intents)))
        parts = [callsign()]
        if rng.random() < 0.25:
            parts.append(pick(["good morning", "good evening", "hello"]))
        for _ in range(int(rng.choice([0, 1, 1, 2, 2, 3]))):
            parts.append(info())
        parts.append(instruction(k))
        if rng.random() < 0.01:
            k = int(rng.integers(0, len(intents)))
        rows.append((" ".join(parts), intents[k]))
    pd.DataFrame(rows, columns=["text", "target"]).to_csv(HERE / "h18_atc.csv", index=False)


def harbor() -> None:
    """Hourly tide-gauge readings of a harbour, with the weather."""
    rng = np.random.default_rng(1806)
    hours = 120 * 24
    ts = pd.date_range("2024-01-01 00:00", periods=hours, freq="h")
    t = np.arange(hours, dtype=float)
    # constituents: period (hours), amplitude (cm), phase
    cons = [(12.4206, 62.0), (12.0, 18.0), (23.9345, 44.0), (25.8193, 30.0)]
    tide = sum(a * np.cos(2 * np.pi * t / p + rng.uniform(0, 2 * np.pi)) for p, a in cons)
    # weather: pressure and wind as smooth random processes with passing storms
    def smooth(sd, tau):
        out = np.zeros(hours)
        for k in range(1, hours):
            out[k] = out[k - 1] * (1 - 1 / tau) + rng.normal(0, sd)
        return out
    pressure = 1013 + smooth(1.1, 40)
    for s in np.cumsum(rng.exponential(150, 30)):
        if s < hours:
            pressure -= rng.uniform(10, 30) * np.exp(-0.5 * ((t - s) / rng.uniform(10, 20)) ** 2)
    wind = np.clip(6 + 0.45 * (1013 - pressure) + smooth(0.35, 12), 0.3, None)
    wdir = (225 + np.cumsum(rng.normal(0, 6, hours)) + 40 * np.sin(2 * np.pi * t / 300)) % 360
    onshore = np.clip(np.cos(np.radians(wdir - 225)), 0, None)
    setup = 0.09 * wind ** 2 * onshore
    kernel = np.exp(-np.arange(24) / 6.0)
    kernel /= kernel.sum()
    surge = -1.0 * (pressure - 1013) + np.convolve(setup, kernel)[:hours]
    level = 160 + tide + surge + rng.normal(0, 2.0, hours)
    pd.DataFrame({"timestamp": ts.strftime("%Y-%m-%d %H:%M"), "level_cm": level.round(1),
                  "pressure_hpa": pressure.round(1), "wind_ms": wind.round(1),
                  "wind_dir_deg": wdir.round(0)}).to_csv(HERE / "h18_harbor.csv", index=False)


def heldout18() -> None:
    HERE.mkdir(exist_ok=True)
    transits()
    sailing()
    pills()
    plugs()
    atc()
    harbor()


if __name__ == "__main__":
    heldout18()
    print_sizes(HERE, FILES)
