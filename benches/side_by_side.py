#!/usr/bin/env python3
"""Two s3trawl builds side by side on the data of benches/compare.sh: each s3trawl command of
the comparison, the two builds interleaved ROUNDS times, the median (or least) CPU seconds (user + sys,
children included) and wall seconds of each, and the ratio new/base.

    python3 benches/side_by_side.py BASE_BINARY NEW_BINARY [--work /tmp/s3trawl-compare] [--rounds 5]
        [--stat median|min] [--threads N]

Run benches/compare.sh first: it generates the data in WORK (same SIZE, same files).
"""

import argparse
import os
import resource
import statistics
import subprocess
import time


def timed(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if out.returncode != 0:
        raise SystemExit(f"{cmd}: exit {out.returncode}: {out.stderr.decode()[:500]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, out.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("base")
    ap.add_argument("new")
    ap.add_argument("--work", default="/tmp/s3trawl-compare")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--stat", choices=["median", "min"], default="median",
                    help="min is steadier on a shared machine (noise only adds time)")
    ap.add_argument("--threads", type=int, help="pass --threads N to both builds")
    a = ap.parse_args()
    w = a.work
    sql = "SELECT operation, count(*) AS n FROM access_logs GROUP BY operation ORDER BY operation"
    trail = ("SELECT useridentity.arn AS arn, count(*) AS n FROM cloudtrail "
             "WHERE eventname IN ('DeleteObject', 'DeleteObjects') GROUP BY 1 ORDER BY 1")
    every = ("SELECT " + ", ".join(f"count(\"{c}\")" for c in (
        "bucketowner bucket_name requestdatetime remoteip requester requestid operation key "
        "request_uri httpstatus errorcode bytessent objectsize totaltime turnaroundtime referrer "
        "useragent versionid hostid sigv ciphersuite authtype endpoint tlsversion accesspointarn "
        "aclrequired source_region extra_fields log_object log_line timestamp").split())
        + " FROM access_logs")
    commands = [
        ("sql (gzip): operation counts", ["sql", "--quiet", "--logs", f"{w}/access-gz", "--format", "csv", sql]),
        ("sql (plain)", ["sql", "--quiet", "--logs", f"{w}/access-plain", "--format", "csv", sql]),
        ("sql (gzip), 10,000 small objects", ["sql", "--quiet", "--logs", f"{w}/access-small", "--format", "csv", sql]),
        ("sql (gzip): every column", ["sql", "--quiet", "--logs", f"{w}/access-gz", "--format", "csv", every]),
        ("sql: CloudTrail deletes per principal", ["sql", "--quiet", "--logs", f"{w}/cloudtrail", "--format", "csv", trail]),
    ]
    print(f"{'command':<40} {'base CPU-s':>10} {'new CPU-s':>10} {'new/base':>9} {'base wall':>10} {'new wall':>9}")
    for name, args in commands:
        runs = {"base": [], "new": []}
        outs = {}
        for _ in range(a.rounds):
            for which, binary in (("base", a.base), ("new", a.new)):
                extra = ["--threads", str(a.threads)] if a.threads else []
                wall, cpu, out = timed([binary] + args[:1] + extra + args[1:])
                runs[which].append((wall, cpu))
                outs[which] = out
        same = "" if outs["base"] == outs["new"] else "  ANSWERS DIFFER"
        stat = min if a.stat == "min" else statistics.median
        med = {k: (stat(r[1] for r in v), stat(r[0] for r in v)) for k, v in runs.items()}
        print(f"{name:<40} {med['base'][0]:>10.2f} {med['new'][0]:>10.2f} {med['new'][0] / med['base'][0]:>9.3f} "
              f"{med['base'][1]:>10.2f} {med['new'][1]:>9.2f}{same}", flush=True)


if __name__ == "__main__":
    main()
