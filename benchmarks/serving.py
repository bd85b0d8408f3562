#!/usr/bin/env python
"""Serving speed: the eager PyTorch path (a run directory) against ONNX Runtime (its export).

Trains a digits MLP (64 features, 10 classes) and a digits CNN (8x8 images), exports each to ONNX, then for
each engine starts a real `trainwell serve` process (uvicorn, 127.0.0.1, --threads 1) and sends
POST /predict over loopback with keep-alive: single-row and 256-row requests, from one client
(latency) and from --clients concurrent clients (throughput). Both servers run at once and take
turns in blocks of 20 requests per client, so load from anything else on the machine falls on
both alike; each cell is measured --repeats times and the median is reported. It also times the predictors in
process, without HTTP, to show what the network and JSON cost on top of the model.

    .venv/bin/python benchmarks/serving.py [--run RUN] [--requests 400] [--clients 4] [--repeats 3]

Nothing here is run by CI; it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run", type=Path, help="a run directory of a digits table model (default: train one)")
    p.add_argument("--families", default="mlp,cnn", help="which digits models to train and serve (default mlp,cnn)")
    p.add_argument("--requests", type=int, default=400, help="requests per cell (default 400)")
    p.add_argument("--clients", type=int, default=4, help="concurrent clients for the throughput rows")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--rows", default="1,256", help="rows per request (default 1,256)")
    return p.parse_args(argv)


FAMILIES = {
    # a small table model: the network is a fraction of a millisecond, so HTTP and JSON dominate
    "mlp": {"model": {"hidden": [128, 64]}, "training": {"epochs": 20, "threads": 1}},
    # a convolutional one on 8x8 digit images: enough arithmetic for the engine to show
    "cnn": {"model": {"type": "cnn", "blocks": [{"channels": 32, "kernel": 3, "pool": "max", "pool_size": 2},
                                                {"channels": 64, "kernel": 3, "pool": "max", "pool_size": 2}],
                      "head": [128]}, "training": {"epochs": 5, "threads": 1}},
}


def train_run(folder: Path, family: str) -> Path:
    import trainwell

    cfg = {"name": f"serving_{family}", "seed": 0, "data": {"source": "builtin:digits"},
           "optimizer": {"name": "adam", "lr": 0.002}, **FAMILIES[family]}
    return trainwell.train(cfg, out=folder / family, quiet=True).path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, path: Path):
        import httpx

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "trainwell", "serve", str(path), "--port", str(self.port),
                                      "--threads", "1", "--max-rows", "10000"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        while True:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode())
            time.sleep(0.05)
        self.startup = time.perf_counter() - started

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def measure(urls: dict, body: bytes, n: int, clients: int, block: int = 20) -> dict:
    """n requests per engine, split over `clients` threads per engine, each thread with one
    keep-alive connection. The engines take turns in blocks of `block` requests per client, so
    that load from anything else on the machine falls on both alike."""
    import httpx

    lat = {name: [] for name in urls}
    busy = {name: 0.0 for name in urls}
    errors = []
    conns = {name: [httpx.Client(base_url=url, timeout=60, headers={"content-type": "application/json"})
                    for _ in range(clients)] for name, url in urls.items()}
    try:
        for name in urls:
            for http in conns[name]:
                for _ in range(3):  # warm-up: connection, first-call paths
                    http.post("/predict", content=body)
        per_client = -(-n // clients)
        done = 0
        while done < per_client:
            step = min(block, per_client - done)
            for name in urls:
                def run(http, out):
                    for _ in range(step):
                        t = time.perf_counter()
                        r = http.post("/predict", content=body)
                        out.append(time.perf_counter() - t)
                        if r.status_code != 200:
                            errors.append(r.status_code)
                outs = [[] for _ in range(clients)]
                threads = [threading.Thread(target=run, args=(h, o)) for h, o in zip(conns[name], outs)]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                busy[name] += time.perf_counter() - t0
                for o in outs:
                    lat[name].extend(o)
            done += step
    finally:
        for cs in conns.values():
            for c in cs:
                c.close()
    if errors:
        raise RuntimeError(f"non-200 answers: {errors[:5]}")
    result = {}
    for name, values in lat.items():
        ms = np.array(values) * 1000
        result[name] = {"rps": len(values) / busy[name], "p50": float(np.percentile(ms, 50)),
                        "p99": float(np.percentile(ms, 99))}
    return result


def in_process(path: Path, part, n: int = 200) -> float:
    """Median ms per predict() call without HTTP (same preprocessing and formatting)."""
    from trainwell.serve.predict import load_predictor

    predictor = load_predictor(path, threads=1)
    for _ in range(5):
        predictor.predict(part)
    times = []
    for _ in range(n):
        t = time.perf_counter()
        predictor.predict(part)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def bench_family(family: str, run: Path, tmp: Path, args) -> list[str]:
    import pandas as pd
    from sklearn.datasets import load_digits

    from trainwell.serve.export import export

    exp = export(run, "onnx", tmp / f"{family}-export")
    print(f"{family}: run {run}; export parity max abs diff {exp.max_abs_diff:.3g} on {exp.rows} rows",
          file=sys.stderr)
    rows_list = [int(r) for r in args.rows.split(",")]
    digits = load_digits(as_frame=True)
    reps = 1 + max(rows_list) // len(digits.frame)
    if family == "cnn":
        inputs = np.concatenate([digits.images] * reps).astype(np.float32)
        bodies = {r: json.dumps({"inputs": inputs[:r].tolist()}).encode() for r in rows_list}
        parts = {r: inputs[:r] for r in rows_list}
    else:
        frame = pd.concat([digits.frame.drop(columns=["target"])] * reps).reset_index(drop=True)
        bodies = {r: json.dumps({"records": json.loads(frame.head(r).to_json(orient="records"))}).encode()
                  for r in rows_list}
        parts = {r: frame.head(r) for r in rows_list}
    engines = {"eager PyTorch (run dir)": run, "ONNX Runtime (export)": exp.path}
    cells: dict = {}
    startups: dict = {e: [] for e in engines}
    servers = {}
    try:
        for engine, path in engines.items():
            servers[engine] = Server(path)
            startups[engine].append(servers[engine].startup)
        urls = {engine: srv.url for engine, srv in servers.items()}
        for rep in range(args.repeats):
            for rows in rows_list:
                for clients in (1, args.clients):
                    result = measure(urls, bodies[rows], args.requests, clients)
                    for engine, m in result.items():
                        cells.setdefault((engine, rows, clients), []).append(m)
                        print(f"{family} repeat {rep + 1} {engine} rows {rows} clients {clients}: "
                              f"{m['rps']:.0f} req/s p50 {m['p50']:.2f} ms p99 {m['p99']:.2f} ms", file=sys.stderr)
    finally:
        for srv in servers.values():
            srv.close()
    direct = {(e, r): in_process(p, parts[r]) for e, p in engines.items() for r in rows_list}
    med = lambda ms, k: statistics.median(m[k] for m in ms)  # noqa: E731
    lines = []
    for rows in rows_list:
        for clients in (1, args.clients):
            for engine in engines:
                ms = cells[(engine, rows, clients)]
                lines.append(f"| {family} | {engine} | {rows} | {clients} | {med(ms, 'rps'):.0f} | "
                             f"{med(ms, 'p50'):.2f} | {med(ms, 'p99'):.2f} | {direct[(engine, rows)]:.2f} |")
    for engine, values in startups.items():
        lines.append(f"start-up, {family}, {engine}: {statistics.median(values):.2f} s")
    return lines


def main(argv=None) -> None:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="tw-serving-"))
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    lines = []
    for family in families:
        run = args.run if (args.run and family == "mlp") else train_run(tmp, family)
        lines += bench_family(family, run, tmp, args)
    print(f"\n{args.requests} requests per engine per cell, median of {args.repeats} repeats; server --threads 1, "
          f"loopback, keep-alive; load average {os.getloadavg()[0]:.1f} at the end\n")
    print("| model | engine | rows/request | clients | requests/s | p50 ms | p99 ms | predict() in process, ms |")
    print("|---|---|---|---|---|---|---|---|")
    for line in lines:
        if line.startswith("|"):
            print(line)
    print()
    for line in lines:
        if line.startswith("start-up"):
            print("server " + line + " (to the first /health)")


if __name__ == "__main__":
    main()
