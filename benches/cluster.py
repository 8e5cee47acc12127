#!/usr/bin/env python3
"""s3trawl on a Ballista cluster of itself against the local engine, over the same lake and
the same raw logs.

    python3 benches/cluster.py --s3trawl target/release/s3trawl --logs DIR [DIR...]
                               [--work /tmp/s3trawl-cluster] [--rounds 3] [--raw-rounds 1]
                               [--json FILE]

Ingests the logs (e.g. `s3trawl generate access-logs|cloudtrail --gzip`) into a lake under WORK
once, then runs each query over the lake (--lake) and over the raw logs (--logs) locally (one
thread and all threads), and on a cluster of one scheduler and 1, then 2 executors with one
slot each (`s3trawl cluster …`, processes on 127.0.0.1, stopped on exit): the least wall time
of ROUNDS runs of each (RAW_ROUNDS over raw logs), and the answers compared with the local
ones. `SELECT 1` measures what a query costs on the cluster before it reads anything (planning,
job submission, result fetch; with raw logs also the version check and the rejects query).
"""

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time

QUERIES = {
    "SELECT 1 (fixed overhead)": "SELECT 1 AS one",
    "access: operation counts": "SELECT operation, count(*) AS n FROM access_logs GROUP BY operation ORDER BY n DESC, operation",
    "access: distinct addresses per bucket": "SELECT bucket_name, count(DISTINCT remoteip) AS ips, sum(bytessent) AS bytes FROM access_logs GROUP BY 1 ORDER BY 1",
    "access: the 20 most requested keys": "SELECT key, count(*) AS n, sum(bytessent) AS bytes FROM access_logs GROUP BY key ORDER BY n DESC, key LIMIT 20",
    # count(DISTINCT useragent) per address (measured on the 291 MB lake before) needs more than
    # this machine's 24 GB locally at 1.2 GB of Parquet: requests and bytes per address instead.
    "access: requests and bytes per address": "SELECT remoteip, count(*) AS n, sum(bytessent) AS bytes FROM access_logs GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20",
    "access: tool user agents by regex": "SELECT operation, count(*) AS n FROM access_logs WHERE regexp_like(useragent, '(?i)(curl|python|go-http|aws-cli)') GROUP BY 1 ORDER BY 2 DESC, 1",
    "cloudtrail: deletes per principal": "SELECT useridentity.arn AS principal, count(*) AS n FROM cloudtrail WHERE eventname LIKE 'Delete%' GROUP BY 1 ORDER BY 2 DESC, 1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, what):
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited: {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen")


# The roles and clients share this secret (the clients through the environment).
SECRET = "benchmark cluster secret " + os.urandom(8).hex()


class Cluster:
    def __init__(self, binary, work, executors, roots, tls=None):
        self.procs = []
        self.logs = []
        port = free_port()
        self.url = f"df://127.0.0.1:{port}"
        common = [a for r in roots for a in ("--data-root", r)] + (tls or [])
        self.start(binary, work, "scheduler",
                   ["scheduler", "--bind", f"127.0.0.1:{port}"] + common)
        wait_port(port, self.procs[0], "the scheduler")
        for i in range(executors):
            args = ["executor", "--scheduler", f"127.0.0.1:{port}",
                    "--bind", f"127.0.0.1:{free_port()}", "--grpc-bind", f"127.0.0.1:{free_port()}",
                    "--work-dir", os.path.join(work, f"executor-{i}"), "--slots", "1"] + common
            self.start(binary, work, f"executor-{i}", args)
        deadline = time.time() + 60
        while not all("Starting poll work loop" in open(l).read() for l in self.logs[1:]):
            if time.time() > deadline:
                sys.exit("executors did not register")
            time.sleep(0.1)

    def start(self, binary, work, name, args):
        log = os.path.join(work, f"{name}.log")
        self.logs.append(log)
        env = dict(os.environ, S3TRAWL_CLUSTER_SECRET=SECRET)
        self.procs.append(subprocess.Popen([binary, "cluster"] + args, stdout=open(log, "w"),
                                           stderr=subprocess.STDOUT, env=env))

    def stop(self):
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


def timed(cmd):
    start = time.monotonic()
    out = subprocess.run(cmd, capture_output=True, env=dict(os.environ, S3TRAWL_CLUSTER_SECRET=SECRET))
    wall = time.monotonic() - start
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)}: exit {out.returncode}: {out.stderr.decode()[:400]}")
    return wall, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s3trawl", required=True)
    ap.add_argument("--logs", nargs="+", required=True)
    ap.add_argument("--work", default="/tmp/s3trawl-cluster")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--raw-rounds", type=int, default=1)
    ap.add_argument("--json")
    a = ap.parse_args()
    binary = os.path.abspath(a.s3trawl)
    os.makedirs(a.work, exist_ok=True)
    lake = os.path.join(a.work, "lake")
    if not os.path.isdir(lake):
        wall, _ = timed([binary, "-q", "ingest", "--lake", lake] + a.logs)
        print(f"ingest: {wall:.1f} s", file=sys.stderr)
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(lake) for f in fs)
    print(f"lake: {size / 1e6:.0f} MB of Parquet", file=sys.stderr)

    setups = [("local, 1 thread", None, ["--threads", "1"]), ("local, all threads", None, [])]
    sources = [("lake", ["--lake", lake], a.rounds),
               ("raw logs", ["--logs"] + [os.path.abspath(l) for l in a.logs], a.raw_rounds)]
    keys = [(src, q) for src, _, _ in sources for q in QUERIES]
    results = {k: {} for k in keys}
    answers = {}

    def measure(name, prefix):
        for src, where, rounds in sources:
            for q, sql in QUERIES.items():
                walls = []
                for _ in range(rounds):
                    wall, out = timed([binary, "-q"] + prefix + ["sql"] + where
                                      + ["--format", "csv", sql])
                    walls.append(wall)
                    expected = answers.setdefault((src, q), out)
                    if out != expected:
                        sys.exit(f"{name}, {src}: {q}: a different answer")
                results[(src, q)][name] = min(walls)
                print(f"{name}, {src}: {q}: {min(walls):.2f} s", file=sys.stderr)

    for name, _, extra in setups:
        measure(name, extra)
    for executors in (1, 2):
        work = os.path.join(a.work, f"cluster-{executors}")
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        cluster = Cluster(binary, work, executors,
                          [a.work] + [os.path.abspath(l) for l in a.logs])
        try:
            name = f"cluster, {executors} executor{'s' if executors > 1 else ''}"
            measure(name, ["--cluster", cluster.url])
        finally:
            cluster.stop()

    names = [s[0] for s in setups] + ["cluster, 1 executor", "cluster, 2 executors"]
    print("| Source | Query | " + " | ".join(names) + " | 2 executors / 1 |")
    print("|---|---|" + "---:|" * (len(names) + 1))
    for src, q in keys:
        r = results[(src, q)]
        ratio = r["cluster, 1 executor"] / r["cluster, 2 executors"]
        print(f"| {src} | {q} | " + " | ".join(f"{r[n]:.2f} s" for n in names) + f" | {ratio:.2f}× |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"lake_bytes": size, "results": {f"{s} | {q}": r for (s, q), r in results.items()}},
                      f, indent=2)


if __name__ == "__main__":
    main()
