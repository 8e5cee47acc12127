#!/usr/bin/env python3
"""Times whole commands of s3trawl against the tools a user would pick instead, on the same
files in the same run, checks that every tool gives the same answer, and prints the ratios
the performance issue (#5) sets as targets.

Run through benches/compare.sh, which installs the peers and generates the data. Figures are
MB of uncompressed log per second of wall time and per CPU-second (user + sys of the command
and its children), the median of --runs runs.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

ATHENA_REGEX = (
    r'([^ ]*) ([^ ]*) \[(.*?)\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) (-|[0-9]*) '
    r'([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ([^ ]*)(?: ([^ ]*) ([^ ]*) '
    r'([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$'
)


def run(cmd, runs, env=None):
    """Runs `cmd` (a list, or a string for the shell) `runs` times: median wall, median CPU,
    the largest peak RSS (MiB, from GNU time), the last stdout."""
    walls, cpus, rss, out = [], [], [], b""
    rss_file = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"compare-rss-{os.getpid()}")
    timed = ["/usr/bin/time", "-f", "%M", "-o", rss_file]
    timed += cmd if isinstance(cmd, list) else ["sh", "-c", cmd]
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run(timed, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if p.returncode != 0:
            sys.exit(f"failed ({p.returncode}): {cmd}\n{p.stderr.decode(errors='replace')[-2000:]}")
        walls.append(wall)
        cpus.append(
            (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        )
        try:
            with open(rss_file) as f:
                rss.append(int(f.read().split()[-1]) / 1024)
        except (OSError, ValueError, IndexError):
            pass
        out = p.stdout
    return statistics.median(walls), statistics.median(cpus), max(rss, default=0.0), out


def python_tool(code):
    return [sys.executable, "-c", code]


def counts(text, sep=","):
    """{key: count} from `key<sep>count` lines (header lines and blanks skipped)."""
    result = {}
    for line in text.decode().splitlines():
        parts = line.rsplit(sep, 1)
        if len(parts) != 2 or not parts[1].strip().isdigit():
            continue
        key = parts[0].strip().strip('"')
        result[key if key not in ("", "NULL", "None", "\\N") else None] = int(parts[1])
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s3trawl", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", help="write the results here too")
    args = ap.parse_args()
    w = args.work
    s3 = args.s3trawl
    rows = []

    def size(path):
        return sum(
            os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
        )

    def measure(name, cmd, mb, answer_of):
        wall, cpu, rss, out = run(cmd, args.runs)
        ans = answer_of(out)
        rows.append(
            {
                "name": name,
                "wall_s": round(wall, 3),
                "cpu_s": round(cpu, 3),
                "mb_per_s": round(mb / wall, 1),
                "mb_per_cpu_s": round(mb / cpu, 1) if cpu > 0 else None,
                "peak_rss_mib": round(rss),
                "answer": ans,
            }
        )
        print(
            f"{name:<62} {wall:7.2f} s wall {cpu:7.2f} s CPU {mb / wall:8.1f} MB/s "
            f"{mb / cpu:8.1f} MB/CPU-s {rss:7.0f} MiB peak",
            flush=True,
        )
        return ans

    plain_mb = size(f"{w}/access-plain") / 1e6
    ct_mb = None
    # Uncompressed sizes: the plain copy of the access logs; CloudTrail measured by gunzip.
    print(f"access logs: {plain_mb:.0f} MB uncompressed", flush=True)

    # --- Access logs, gzipped -----------------------------------------------------------
    gz = f"{w}/access-gz"
    measure(
        "decompression alone: libdeflate-gunzip, 2 processes",
        f"ls {gz}/* | xargs -P 2 -n 25 libdeflate-gunzip -c > /dev/null",
        plain_mb,
        lambda out: None,
    )
    sql = "SELECT operation, count(*) AS n FROM access_logs GROUP BY operation ORDER BY operation"
    ours = measure(
        "s3trawl sql (gzip): operation counts, every field typed",
        [s3, "sql", "--quiet", "--logs", gz, "--format", "csv", sql],
        plain_mb,
        counts,
    )
    duck_regex = f"""
import duckdb
q = r'''SELECT regexp_extract(line, '{ATHENA_REGEX}', 7) AS operation, count(*) AS n
FROM read_csv('{gz}/*', columns={{'line': 'VARCHAR'}}, delim='\\x01', quote='', escape='',
              header=false, compression='gzip', auto_detect=false)
GROUP BY 1 ORDER BY 1'''
for op, n in duckdb.sql(q).fetchall(): print(f"{{op}},{{n}}")
"""
    theirs = measure("DuckDB, Athena regex (gzip)", python_tool(duck_regex), plain_mb, counts)
    check("DuckDB regex", ours, theirs)
    df_csv = f"""
import datafusion
ctx = datafusion.SessionContext()
cols = ", ".join(f"c{{i}} VARCHAR" for i in range(40))
ctx.sql(f"CREATE EXTERNAL TABLE t ({{cols}}) STORED AS CSV LOCATION '{gz}/' OPTIONS ('format.delimiter' ' ', 'format.has_header' 'false', 'format.truncated_rows' 'true', 'format.compression' 'gzip')")
for b in ctx.sql("SELECT c7 AS operation, count(*) AS n FROM t GROUP BY 1 ORDER BY 1").collect():
    for op, n in zip(b.column(0).to_pylist(), b.column(1).to_pylist()): print(f"{{op}},{{n}}")
"""
    try:
        theirs = measure("DataFusion CSV reader, split on spaces (gzip)", python_tool(df_csv), plain_mb, counts)
        check("DataFusion CSV", ours, theirs)
    except SystemExit as e:
        print(f"DataFusion CSV reader: could not run: {str(e)[:300]}")

    # --- Access logs, plain -------------------------------------------------------------
    plain = f"{w}/access-plain"
    ours_plain = measure(
        "s3trawl sql (plain)",
        [s3, "sql", "--quiet", "--logs", plain, "--format", "csv", sql],
        plain_mb,
        counts,
    )
    duck_csv = f"""
import duckdb
q = '''SELECT column07 AS operation, count(*) AS n
FROM read_csv('{plain}/*', delim=' ', quote='"', escape='"', header=false, null_padding=true,
              all_varchar=true, ignore_errors=true, auto_detect=true)
GROUP BY 1 ORDER BY 1'''
for op, n in duckdb.sql(q).fetchall(): print(f"{{op}},{{n}}")
"""
    try:
        measure("DuckDB read_csv, split on spaces (plain)", python_tool(duck_csv), plain_mb, counts)
    except SystemExit as e:
        print(f"DuckDB read_csv: could not run: {str(e)[:300]}")
    check("s3trawl plain vs gzip", ours, ours_plain)

    # --- One thread, many small objects, ingest and the lake -----------------------------
    measure(
        "s3trawl sql (gzip), --threads 1",
        [s3, "--threads", "1", "sql", "--quiet", "--logs", gz, "--format", "csv", sql],
        plain_mb,
        counts,
    )
    small = f"{w}/access-small"
    if os.path.isdir(small):
        listing = run(f"ls {small}/* | xargs -n 500 libdeflate-gunzip -c | wc -c", 1)[3]
        small_mb = int(listing.decode().strip()) / 1e6
        print(f"small objects: {len(os.listdir(small))} objects, {small_mb:.0f} MB uncompressed", flush=True)
        measure(
            "s3trawl sql (gzip), many small objects",
            [s3, "sql", "--quiet", "--logs", small, "--format", "csv", sql],
            small_mb,
            counts,
        )
    # Every column built (ingest builds and stores them all; the query above builds one): the
    # fair baseline for ingest's decoding half.
    access_columns, every_access_column = every_column(s3, gz, "access_logs")
    measure(
        f"s3trawl sql (gzip): every column ({access_columns}) decoded",
        [s3, "sql", "--quiet", "--logs", gz, "--format", "csv", every_access_column],
        plain_mb,
        lambda out: None,
    )
    lake = f"{w}/lake"
    measure(
        "s3trawl ingest (gzip) into a fresh lake",
        f"rm -rf {lake} && {s3} ingest --quiet {gz} --lake {lake}",
        plain_mb,
        lambda out: None,
    )
    ours_lake = measure(
        "s3trawl sql --lake: operation counts",
        [s3, "sql", "--quiet", "--lake", lake, "--format", "csv", sql],
        plain_mb,
        counts,
    )
    check("s3trawl lake vs raw", ours, ours_lake)
    duck_lake = (
        "import duckdb\n"
        f"q = \"SELECT operation, count(*) AS n FROM read_parquet('{lake}/access_logs/**/*.parquet', "
        "hive_partitioning=true) GROUP BY 1 ORDER BY 1\"\n"
        "for op, n in duckdb.sql(q).fetchall(): print(f'{op},{n}')\n"
    )
    theirs = measure("DuckDB over the same Parquet lake", python_tool(duck_lake), plain_mb, counts)
    check("DuckDB lake", ours, theirs)

    # --- CloudTrail ---------------------------------------------------------------------
    ct = f"{w}/cloudtrail"
    if os.path.isdir(ct):
        wall, cpu, _, out = run(
            f"find {ct} -name '*.gz' | xargs -P 2 -n 50 libdeflate-gunzip -c | wc -c", 1
        )
        ct_mb = int(out.decode().strip()) / 1e6
        print(f"CloudTrail: {ct_mb:.0f} MB uncompressed", flush=True)
        measure(
            "decompression alone: libdeflate-gunzip, 2 processes (CloudTrail)",
            f"find {ct} -name '*.gz' | xargs -P 2 -n 50 libdeflate-gunzip -c > /dev/null",
            ct_mb,
            lambda out: None,
        )
        q = (
            "SELECT useridentity.arn AS arn, count(*) AS n FROM cloudtrail "
            "WHERE eventname IN ('DeleteObject', 'DeleteObjects') GROUP BY 1 ORDER BY 1"
        )
        ours_ct = measure(
            "s3trawl sql: deletes per principal (CloudTrail)",
            [s3, "sql", "--quiet", "--logs", ct, "--format", "csv", q],
            ct_mb,
            counts,
        )
        trail_columns, every_trail_column = every_column(s3, ct, "cloudtrail")
        measure(
            f"s3trawl sql: every column ({trail_columns}) decoded (CloudTrail)",
            [s3, "sql", "--quiet", "--logs", ct, "--format", "csv", every_trail_column],
            ct_mb,
            lambda out: None,
        )
        chdb = f"""
import chdb
q = '''SELECT r.userIdentity.arn AS arn, count() AS n
FROM (SELECT arrayJoin(Records) AS r FROM file('{ct}/**/*.json.gz', 'JSONEachRow',
      'Records Array(Tuple(eventName String, userIdentity Tuple(arn Nullable(String))))'))
WHERE r.eventName IN ('DeleteObject', 'DeleteObjects') GROUP BY arn ORDER BY arn FORMAT CSV'''
print(chdb.query(q, 'CSV'))
"""
        try:
            theirs = measure("chDB, typed JSON schema (CloudTrail)", python_tool(chdb), ct_mb, counts)
            check("chDB", ours_ct, theirs)
        except SystemExit as e:
            print(f"chDB: could not run: {str(e)[:300]}")
        duck_json = f"""
import duckdb
q = '''SELECT r.userIdentity.arn AS arn, count(*) AS n
FROM (SELECT unnest(Records) AS r FROM read_json('{ct}/**/*.json.gz', maximum_object_size=67108864, ignore_errors=true))
WHERE r.eventName IN ('DeleteObject', 'DeleteObjects') GROUP BY 1 ORDER BY 1'''
for arn, n in duckdb.sql(q).fetchall(): print(f"{{arn}},{{n}}")
"""
        try:
            theirs = measure("DuckDB read_json, automatic schema (CloudTrail)", python_tool(duck_json), ct_mb, counts)
            check("DuckDB read_json", ours_ct, theirs)
        except SystemExit as e:
            print(f"DuckDB read_json: could not run: {str(e)[:300]}")

    # --- Ratios -------------------------------------------------------------------------
    by = {r["name"]: r for r in rows}

    def ratio(a, b, key="mb_per_cpu_s"):
        if a in by and b in by and by[a][key] and by[b][key]:
            return by[a][key] / by[b][key]
        return None

    print("\nratios (per CPU-second, then wall):")
    for label, a, b, target in [
        ("gzip access logs vs decompression alone", "s3trawl sql (gzip): operation counts, every field typed", "decompression alone: libdeflate-gunzip, 2 processes", 0.4),
        ("gzip access logs vs DuckDB Athena regex", "s3trawl sql (gzip): operation counts, every field typed", "DuckDB, Athena regex (gzip)", 5.0),
        ("gzip access logs vs DataFusion CSV", "s3trawl sql (gzip): operation counts, every field typed", "DataFusion CSV reader, split on spaces (gzip)", 1.2),
        ("plain access logs vs DuckDB read_csv", "s3trawl sql (plain)", "DuckDB read_csv, split on spaces (plain)", 1.0),
        ("ingest vs raw scan", "s3trawl ingest (gzip) into a fresh lake", "s3trawl sql (gzip): operation counts, every field typed", 0.8),
        ("ingest vs every column decoded (not a target)", "s3trawl ingest (gzip) into a fresh lake", f"s3trawl sql (gzip): every column ({access_columns}) decoded", 0.8),
        ("small objects vs large, per byte", "s3trawl sql (gzip), many small objects", "s3trawl sql (gzip): operation counts, every field typed", 1 / 1.5),
        ("lake query vs DuckDB on the same Parquet", "s3trawl sql --lake: operation counts", "DuckDB over the same Parquet lake", 1.0),
        ("CloudTrail deletes vs chDB", "s3trawl sql: deletes per principal (CloudTrail)", "chDB, typed JSON schema (CloudTrail)", 1.2),
        ("CloudTrail deletes vs DuckDB read_json", "s3trawl sql: deletes per principal (CloudTrail)", "DuckDB read_json, automatic schema (CloudTrail)", 4.0),
    ]:
        r_cpu, r_wall = ratio(a, b), ratio(a, b, "mb_per_s")
        if r_cpu is None:
            print(f"  {label:<45} not measured (target {target}x)")
        else:
            verdict = "met" if r_cpu >= target else "NOT met"
            print(f"  {label:<45} {r_cpu:5.2f}x CPU, {r_wall:5.2f}x wall (target {target:.2g}x: {verdict})")
    two = by.get("s3trawl sql (gzip): operation counts, every field typed")
    one = by.get("s3trawl sql (gzip), --threads 1")
    if two and one:
        print(f"  {'2 threads vs 1 thread (wall)':<45} {one['wall_s'] / two['wall_s']:5.2f}x (target 1.8x where two cores are free)")
    peak = max((r["peak_rss_mib"] for r in rows if r["name"].startswith("s3trawl")), default=0)
    print(f"  {'s3trawl peak RSS, largest of its commands':<45} {peak:5.0f} MiB (target <= 1024 MiB)")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1, default=str)


def every_column(s3, logs, table):
    """How many columns `table` has, and a query that makes the decoder build every one of them
    without the cost of printing them: count(column) of each (a bare `SELECT *` under count(*)
    is pruned to no columns)."""
    described = run([s3, "sql", "--quiet", "--logs", logs, "--format", "csv", f"DESCRIBE {table}"], 1)[3]
    columns = [l.split(",", 1)[0] for l in described.decode().splitlines()[1:] if l]
    return len(columns), "SELECT " + ", ".join(f"count({c})" for c in columns) + f" FROM {table}"


def check(what, ours, theirs):
    if theirs is None or ours is None:
        return
    if ours != theirs:
        diff = {k: (ours.get(k), theirs.get(k)) for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k)}
        print(
            f"  ANSWERS DIFFER ({what}): ours {sum(ours.values())} rows, theirs {sum(theirs.values())}; "
            f"first differences (ours, theirs): {dict(list(diff.items())[:6])}"
        )
    else:
        print(f"  answers agree ({what}: {sum(ours.values())} rows counted)")


if __name__ == "__main__":
    main()
