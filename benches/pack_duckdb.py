#!/usr/bin/env python3
"""The detection pack over a Parquet lake: s3trawl against DuckDB running the same queries.

    python3 benches/pack_duckdb.py --s3trawl BIN --lake DIR [--config FILE]
        --since T --until T [--baseline-days N] [--runs 3] [--json OUT]

For every detection, the SQL s3trawl runs (rendered with the window, the config and the
parameters, as `s3trawl detect --explain ID` prints it) is translated to DuckDB's dialect:
named_struct -> struct_pack, first_n/last_n -> min_by/max_by with a count, date_bin ->
time_bucket, json_extract_scalar -> json_extract_string, json_length -> json_array_length,
regexp_like -> regexp_matches, and the window's timestamps. Detections that call s3trawl's own
functions with no DuckDB counterpart (policy documents, threat lists, IP ranges, ARNs) are left
out of both sides and listed. DuckDB gets the same views (history_/window_/baseline_ of each
table over the lake's Parquet files). Both run the whole set RUNS times as separate processes
(user+sys CPU and wall measured from outside); the number of findings of each detection must
agree. Prints a table and the ratio.
"""

import argparse
import calendar
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

ACCESS_COLUMNS = (
    "bucketowner, bucket_name, requestdatetime, remoteip, requester, requestid, operation, key, "
    "httpstatus, errorcode, bytessent, objectsize, totaltime, useragent, versionid, sigv, "
    "ciphersuite, authtype, endpoint, tlsversion, accesspointarn, aclrequired, source_region, "
    "log_object, log_line"
)
TRAIL_COLUMNS = (
    "useridentity, eventtime, eventsource, eventname, awsregion, sourceipaddress, useragent, "
    "errorcode, errormessage, requestparameters, responseelements, additionaleventdata, "
    "requestid, eventid, resources, eventtype, readonly, recipientaccountid, vpcendpointid, "
    "eventcategory, managementevent, tlsdetails, s3_bucket, s3_key, bytes_in, bytes_out, sigv, "
    "ciphersuite, authtype, aclrequired, tlsversion, log_object, log_line"
)
# s3trawl's own functions with no DuckDB counterpart.
OWN_FUNCTIONS = [
    "policy_exposure", "threat_list", "offensive_agent", "min_expiration_days",
    "is_private_ip", "arn_account", "private_bucket",
]


def split_call(sql, start):
    """The arguments of the call whose '(' is at sql[start], and the index after its ')'."""
    depth, args, current, i = 0, [], [], start
    while i < len(sql):
        c = sql[i]
        if c == "'":
            j = i + 1
            while j < len(sql):
                if sql[j] == "'" and (j + 1 >= len(sql) or sql[j + 1] != "'"):
                    break
                j += 2 if sql[j] == "'" else 1
            current.append(sql[i:j + 1])
            i = j + 1
            continue
        if c == "(":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c == ")":
            depth -= 1
            if depth == 0:
                args.append("".join(current).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(current).strip())
            current = []
            i += 1
            continue
        current.append(c)
        i += 1
    raise ValueError("unbalanced parentheses")


def rewrite_calls(sql, name, make, aggregate_only=False):
    """Each call of `name` replaced by make(its arguments); with aggregate_only, only calls
    not followed by OVER (window calls stay as they are)."""
    out, pos = [], 0
    pattern = re.compile(r"\b" + name + r"\s*\(", re.I)
    while True:
        m = pattern.search(sql, pos)
        if not m:
            out.append(sql[pos:])
            return "".join(out)
        args, end = split_call(sql, m.end() - 1)
        args = [rewrite_calls(a, name, make, aggregate_only) for a in args]
        out.append(sql[pos:m.start()])
        if aggregate_only and re.match(r"\s*OVER\b", sql[end:], re.I):
            out.append(sql[m.start():m.end()] + ", ".join(args) + ")")
        else:
            out.append(make(args))
        pos = end


def json_path(parts):
    return "'$" + "".join("." + p.strip("'") for p in parts) + "'"


def duck_path(path):
    """A JSONPath literal with $.a["b-c"] steps in DuckDB's spelling ($.a."b-c")."""
    return re.sub(r'\["([^"]*)"\]', r'."\1"', path)


def translate(sql):
    if any(re.search(r"\b" + f + r"\s*\(", sql) for f in OWN_FUNCTIONS):
        return None
    sql = rewrite_calls(
        sql, "arrow_cast",
        lambda a: re.sub(r"to_timestamp_millis\((-?\d+)\)", r"epoch_ms(\1)::TIMESTAMPTZ", a[0]))
    sql = rewrite_calls(
        sql, "named_struct",
        lambda a: "struct_pack(" + ", ".join(
            f'"{a[i].strip(chr(39))}" := {a[i + 1]}' for i in range(0, len(a), 2)) + ")")
    sql = rewrite_calls(sql, "first_n", lambda a: f"min_by({a[0]}, {a[1]}, {a[2]})")
    sql = rewrite_calls(sql, "last_n", lambda a: f"max_by({a[0]}, {a[1]}, {a[2]})")
    sql = rewrite_calls(sql, "date_bin", lambda a: f"time_bucket({a[0]}, {a[1]})")
    sql = rewrite_calls(
        sql, "json_extract_scalar", lambda a: f"json_extract_string({a[0]}, {duck_path(a[1])})")
    sql = rewrite_calls(sql, "json_extract", lambda a: f"json_extract({a[0]}, {duck_path(a[1])})")
    # replace(text, from) removes `from`.
    sql = rewrite_calls(
        sql, "replace", lambda a: f"replace({a[0]}, {a[1]}, '')" if len(a) == 2
        else f"replace({', '.join(a)})")
    sql = rewrite_calls(
        sql, "json_length",
        lambda a: f"json_array_length({a[0]}, {json_path(a[1:])})" if len(a) > 1
        else f"json_array_length({a[0]})")
    sql = rewrite_calls(sql, "regexp_like", lambda a: f"regexp_matches({', '.join(a)})")
    # DataFusion's first_value is also an aggregate; DuckDB's aggregate is first().
    sql = rewrite_calls(sql, "first_value", lambda a: f"first({', '.join(a)})", aggregate_only=True)
    sql = rewrite_calls(sql, "array_element", lambda a: f"list_extract({a[0]}, {a[1]})")
    return sql


def rendered(s3trawl, common, detection):
    out = subprocess.run([s3trawl, "detect", *common, "--explain", detection],
                         capture_output=True, text=True, check=True).stdout
    return out.split("\n+--", 1)[0].strip()


DUCK_RUNNER = r'''
import duckdb, json, sys
spec = json.load(open(sys.argv[1]))
con = duckdb.connect()
con.execute("SET TimeZone = 'UTC'")
for table, time, columns in spec["tables"]:
    files = f"{spec['lake']}/{table}/**/*.parquet"
    con.execute(f"CREATE VIEW history_{table} AS SELECT {columns} FROM read_parquet('{files}', "
                f"hive_partitioning = true, union_by_name = true) "
                f"WHERE {time} >= {spec['start']} AND {time} < {spec['until']}")
    con.execute(f"CREATE VIEW window_{table} AS SELECT * FROM history_{table} WHERE {time} >= {spec['since']}")
    con.execute(f"CREATE VIEW baseline_{table} AS SELECT * FROM history_{table} WHERE {time} < {spec['since']}")
counts = {}
for detection, sql in spec["queries"].items():
    try:
        counts[detection] = con.sql(sql).to_arrow_table().num_rows
    except duckdb.Error as e:
        print(f"{detection}: {e}", file=sys.stderr)
        counts[detection] = None
print(json.dumps(counts))
'''


def measure(cmd):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if p.returncode not in (0, 1) or (cmd[0] == sys.executable and p.returncode != 0):
        sys.exit(f"{' '.join(cmd)} failed ({p.returncode}):\n{p.stderr}")
    return wall, cpu, p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--s3trawl", required=True)
    ap.add_argument("--lake", required=True)
    ap.add_argument("--config")
    ap.add_argument("--since", required=True)
    ap.add_argument("--until", required=True)
    ap.add_argument("--baseline-days", default="7")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json")
    a = ap.parse_args()

    common = ["--lake", a.lake, "--quiet"]
    for flag, value in [("--config", a.config), ("--since", a.since), ("--until", a.until),
                        ("--baseline-days", a.baseline_days)]:
        if value:
            common += [flag, value]
    ids = [line.split()[0] for line in subprocess.run(
        [a.s3trawl, "detect", "--list"], capture_output=True, text=True, check=True
    ).stdout.splitlines() if line.strip()]

    queries, left_out = {}, []
    for detection in ids:
        duck = translate(rendered(a.s3trawl, common, detection))
        if duck is None:
            left_out.append(detection)
        else:
            queries[detection] = duck

    since = epoch_ms(a.since)
    until = epoch_ms(a.until)
    start = since - int(a.baseline_days) * 86_400_000

    def stamp(ms):
        return f"epoch_ms({ms})::TIMESTAMPTZ"

    spec = {
        "lake": os.path.abspath(a.lake),
        "tables": [["access_logs", "requestdatetime", ACCESS_COLUMNS],
                   ["cloudtrail", "eventtime", TRAIL_COLUMNS]],
        "start": stamp(start), "since": stamp(since), "until": stamp(until),
        "queries": queries,
    }
    spec_path = os.path.join(os.path.dirname(os.path.abspath(a.json or a.lake)), ".pack-duckdb.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f)
    runner = spec_path + ".py"
    with open(runner, "w") as f:
        f.write(DUCK_RUNNER)

    ours_cmd = [a.s3trawl, "detect", *common, "--only", ",".join(queries), "--format", "json",
                "--fail-on", "critical"]
    theirs_cmd = [sys.executable, runner, spec_path]
    results = {}
    for name, cmd in [("s3trawl detect --lake", ours_cmd), ("DuckDB, same queries", theirs_cmd)]:
        runs = [measure(cmd) for _ in range(a.runs)]
        results[name] = {
            "wall_s": statistics.median(r[0] for r in runs),
            "cpu_s": statistics.median(r[1] for r in runs),
            "stdout": runs[-1][2],
        }

    ours_counts = {d: 0 for d in queries}
    for finding in json.loads(results["s3trawl detect --lake"]["stdout"] or "[]"):
        ours_counts[finding["detection"]] += 1
    theirs_counts = json.loads(results["DuckDB, same queries"]["stdout"])
    print(f"{'detection':45} {'s3trawl':>8} {'DuckDB':>8}")
    differ = []
    for d in queries:
        mark = "" if ours_counts[d] == theirs_counts.get(d) else "  <- differ"
        if mark:
            differ.append(d)
        print(f"{d:45} {ours_counts[d]:8} {str(theirs_counts.get(d)):>8}{mark}")
    print(f"\n{len(queries)} detections compared; left out (s3trawl functions with no DuckDB "
          f"counterpart): {', '.join(left_out) or 'none'}")
    for name, r in results.items():
        print(f"{name:28} wall {r['wall_s']:6.2f} s   CPU {r['cpu_s']:6.2f} s")
    ours, theirs = results["s3trawl detect --lake"], results["DuckDB, same queries"]
    print(f"ratio (DuckDB time / s3trawl time): CPU {theirs['cpu_s'] / ours['cpu_s']:.2f}x, "
          f"wall {theirs['wall_s'] / ours['wall_s']:.2f}x  (target >= 1.0)")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"compared": list(queries), "left_out": left_out, "differ": differ,
                       "ours": ours_counts, "theirs": theirs_counts,
                       "timings": {k: {"wall_s": v["wall_s"], "cpu_s": v["cpu_s"]}
                                   for k, v in results.items()}}, f, indent=2)
    if differ:
        sys.exit(f"answers differ: {', '.join(differ)}")


def epoch_ms(text):
    """A --since/--until value (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ) as UTC milliseconds."""
    fmt = "%Y-%m-%dT%H:%M:%SZ" if "T" in text else "%Y-%m-%d"
    return calendar.timegm(time.strptime(text, fmt)) * 1000


if __name__ == "__main__":
    main()
