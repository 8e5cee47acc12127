#!/usr/bin/env python3
"""Peak memory, wall and CPU time of the commands of the bounded-memory issue (#29), each run
under a watcher that samples the process's RSS every 0.2 s and kills it past a ceiling (so a
command the kernel would kill is reported as such, not waited for).

    python3 benches/memory.py --s3trawl target/release/s3trawl --work /tmp/s3trawl-memory \
        [--limit 2GiB] [--ceiling 8GiB] [--big DIR] [--lake DIR] [--only NAME...]

It makes the hostile inputs itself (a 10 MB gzip of a CloudTrail document that is gigabytes of
spaces, a 255 KB gzip of 256 MiB of `x\\n`, a plain 64 MiB file of junk lines, 10 M tiny
CloudTrail records); --big names a folder of generated access logs (`s3trawl generate
access-logs --size 3GB --gzip`) for the heavy queries and the detection pack, --lake a lake.
Each row: name, exit code, peak RSS (MiB), wall s, CPU s, and the first line of stderr when
the command failed.
"""

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time


def rss_of_tree(pid):
    """RSS in bytes of `pid` and its children (from /proc)."""
    total = 0
    todo = [pid]
    seen = set()
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            pass
    return total


def watch(cmd, ceiling, env=None):
    """Runs `cmd`: (exit code or 'killed', peak RSS MiB, wall s, CPU s, stderr's first line)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0
    killed = False
    err = b""
    while p.poll() is None:
        rss = rss_of_tree(p.pid)
        peak = max(peak, rss)
        if rss > ceiling:
            p.kill()
            killed = True
            break
        time.sleep(0.2)
    _, err = p.communicate()
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    code = "killed" if killed else p.returncode
    first = err.decode(errors="replace").strip().splitlines()
    return code, peak / 2**20, wall, cpu, (first[-1] if first else "")


def hostile_inputs(work):
    """The hostile objects, made once: their folders."""
    made = {}
    ct = os.path.join(work, "spaces-cloudtrail")
    if not os.path.isdir(ct):
        os.makedirs(ct)
        # 10 gzip members, each of a gigabyte of spaces (compressed ~1000:1).
        path = os.path.join(ct, "111122223333_CloudTrail_us-east-1_20261120T1000Z_spaces.json.gz")
        block = b" " * (8 << 20)
        with open(path, "wb") as out:
            for member in range(10):
                with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=9) as gz:
                    if member == 0:
                        gz.write(b'{"Records":[')
                    for _ in range(128):
                        gz.write(block)
    made["spaces"] = ct
    xs = os.path.join(work, "x-lines")
    if not os.path.isdir(xs):
        os.makedirs(xs)
        with gzip.open(os.path.join(xs, "2026-11-20-10-00-00-XXXXXXXXXXXXXXXX.gz"), "wb", 9) as gz:
            block = b"x\n" * (4 << 20)
            for _ in range(32):
                gz.write(block)
    made["xs"] = xs
    junk = os.path.join(work, "junk-lines")
    if not os.path.isdir(junk):
        os.makedirs(junk)
        with open(os.path.join(junk, "2026-11-20-10-00-00-JUNKJUNKJUNKJUNK"), "wb") as f:
            line = b"this is not an access log line, it is junk 0123456789 abcdef\n"
            f.write(line * ((64 << 20) // len(line)))
    made["junk"] = junk
    tiny = os.path.join(work, "tiny-cloudtrail")
    if not os.path.isdir(tiny):
        os.makedirs(tiny)
        record = '{"eventVersion":"1.09","eventTime":"2026-11-20T10:00:00Z","eventName":"GetObject","eventSource":"s3.amazonaws.com","sourceIPAddress":"192.0.2.1","eventID":"%d"}\n'
        for part in range(10):
            with gzip.open(os.path.join(tiny, f"part-{part}.json.gz"), "wt", 1) as gz:
                for i in range(1_000_000):
                    gz.write(record % (part * 1_000_000 + i))
    made["tiny"] = tiny
    return made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s3trawl", required=True)
    ap.add_argument("--work", default="/tmp/s3trawl-memory")
    ap.add_argument("--limit", default="2GiB")
    ap.add_argument("--ceiling", default="8GiB")
    ap.add_argument("--big")
    ap.add_argument("--lake")
    ap.add_argument("--since", default="2026-11-07")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--json")
    a = ap.parse_args()
    units = {"GiB": 2**30, "MiB": 2**20}
    ceiling = int(a.ceiling[:-3]) * units[a.ceiling[-3:]]
    os.makedirs(a.work, exist_ok=True)
    s3 = os.path.abspath(a.s3trawl)
    inputs = hostile_inputs(a.work)
    limit = ["--memory-limit", a.limit] if a.limit != "none" else []
    runs = [
        ("spaces CloudTrail: count(*)", [s3, "-q", *limit, "sql", "--logs", inputs["spaces"],
                                          "SELECT count(*) FROM cloudtrail"]),
        ("256 MiB of x lines: count(*)", [s3, "-q", *limit, "sql", "--logs", inputs["xs"],
                                          "SELECT count(*) FROM access_logs"]),
        ("64 MiB of junk lines: count(*)", [s3, "-q", *limit, "sql", "--logs", inputs["junk"],
                                            "SELECT count(*) FROM access_logs"]),
        ("64 MiB of junk lines: rejects", [s3, "-q", *limit, "sql", "--logs", inputs["junk"],
                                           "SELECT count(*) FROM rejects"]),
        ("10 M tiny CloudTrail records: count(*)", [s3, "-q", *limit, "sql", "--logs",
                                                    inputs["tiny"],
                                                    "SELECT count(*) FROM cloudtrail"]),
    ]
    if a.big:
        runs += [
            ("3 GB: sql scan", [s3, "-q", *limit, "sql", "--logs", a.big,
                                "SELECT count(*) FROM access_logs"]),
            ("3 GB: distinct keys and array_agg per address",
             [s3, "-q", *limit, "sql", "--logs", a.big,
              "SELECT remoteip, count(DISTINCT key), array_agg(request_uri) FROM access_logs GROUP BY remoteip"]),
            ("3 GB: detect, one day", [s3, "-q", *limit, "detect", "--logs", a.big, "--since",
                                       a.since, "--format", "json"]),
        ]
    if a.lake:
        runs += [
            ("lake: count(DISTINCT useragent) per address",
             [s3, "-q", *limit, "--threads", "2", "sql", "--lake", a.lake,
              "SELECT remoteip, count(DISTINCT useragent) FROM access_logs GROUP BY remoteip"]),
        ]
    results = []
    for name, cmd in runs:
        if a.only and not any(o in name for o in a.only):
            continue
        code, peak, wall, cpu, err = watch(cmd, ceiling)
        results.append({"name": name, "exit": code, "peak_rss_mib": round(peak),
                        "wall_s": round(wall, 2), "cpu_s": round(cpu, 2), "stderr": err})
        print(f"{name:<50} exit {code!s:>6} {peak:8.0f} MiB {wall:8.2f} s wall {cpu:8.2f} s CPU"
              f"{'  ' + err[:160] if code not in (0, 1) else ''}", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
