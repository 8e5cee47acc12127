#!/usr/bin/env bash
# Whole-command comparison of s3trawl with the tools a user would pick instead (issue #5).
#
#   benches/compare.sh [SIZE]          # default 1GB of access logs and of CloudTrail
#   SEED=7 benches/compare.sh 2GB      # other data of the same shape (default seed 1)
#
# Installs the peers (pip: duckdb, chdb, datafusion; Debian: libdeflate-tools), builds the
# release binary, generates the data with `s3trawl generate` (deterministic: the same SIZE gives
# the same files; SEED picks other files of the same shape), then runs benches/compare.py: each tool RUNS times (default 3), the answers
# checked against each other, and the ratios printed; then benches/pack_duckdb.py: the detection
# pack over an ingested scenario lake against DuckDB running the same queries. WORK (default
# /tmp/s3trawl-compare) keeps the data between runs.
set -euo pipefail
SIZE="${1:-1GB}"
RUNS="${RUNS:-3}"
WORK="${WORK:-/tmp/s3trawl-compare}"
SEED="${SEED:-1}"
cd "$(dirname "$0")/.."

python3 -c "import duckdb, chdb, datafusion" 2>/dev/null || pip3 install --quiet duckdb chdb datafusion pyarrow
if ! command -v libdeflate-gunzip >/dev/null; then
    if [ "$(id -u)" = 0 ]; then apt-get install -y -q libdeflate-tools >/dev/null; else sudo apt-get install -y -q libdeflate-tools >/dev/null; fi
fi

S3TRAWL="${S3TRAWL:-}"
if [ -z "$S3TRAWL" ]; then
    cargo build --release --quiet
    S3TRAWL="$PWD/target/release/s3trawl"
fi

mkdir -p "$WORK"
# The seed-1 data keeps the marker name of earlier versions of this script.
MARK="$WORK/.size-$SIZE"
[ "$SEED" = 1 ] || MARK="$WORK/.size-$SIZE-seed-$SEED"
if [ ! -f "$MARK" ]; then
    rm -rf "$WORK"/access-gz "$WORK"/access-plain "$WORK"/access-small "$WORK"/cloudtrail "$WORK"/lake "$WORK"/.size-*
    "$S3TRAWL" generate access-logs --out "$WORK/access-gz" --size "$SIZE" --objects 200 --gzip --seed "$SEED"
    "$S3TRAWL" generate access-logs --out "$WORK/access-plain" --size "$SIZE" --objects 200 --seed "$SEED"
    # CloudTrail delivers about one file per account and region every five minutes: many files.
    "$S3TRAWL" generate cloudtrail --out "$WORK/cloudtrail" --size "$SIZE" --objects 1800 --gzip --seed "$SEED"
    # Many small objects: 10,000 of ~20 KB, as a busy bucket's log prefix holds them.
    "$S3TRAWL" generate access-logs --out "$WORK/access-small" --size 200MB --objects 10000 --gzip --seed "$((SEED + 1))"
    touch "$MARK"
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "s3trawl: $("$S3TRAWL" --version), data: $SIZE each in $WORK, median of $RUNS runs"
python3 benches/compare.py --s3trawl "$S3TRAWL" --work "$WORK" --runs "$RUNS" --json "$WORK/results.json"

# The detection pack over a lake against DuckDB running the same queries on the same Parquet:
# the scenario (a benign week and planted attacks, ~1.2 GB at scale 30) ingested once.
SCALE="${SCALE:-30}"
SCENARIO_MARK="$WORK/.scenario-$SCALE"
[ "$SEED" = 1 ] || SCENARIO_MARK="$WORK/.scenario-$SCALE-seed-$SEED"
if [ ! -f "$SCENARIO_MARK" ]; then
    rm -rf "$WORK/scenario" "$WORK/scenario-lake" "$WORK"/.scenario-*
    "$S3TRAWL" generate scenario --out "$WORK/scenario" --scale "$SCALE" --seed "$SEED"
    "$S3TRAWL" ingest --quiet "$WORK/scenario/access" "$WORK/scenario/cloudtrail" --lake "$WORK/scenario-lake"
    touch "$SCENARIO_MARK"
fi
window() { python3 -c "import json; print(json.load(open('$WORK/scenario/scenario.json'))['$1'])"; }
echo
echo "detection pack over the scenario lake (scale $SCALE):"
python3 benches/pack_duckdb.py --s3trawl "$S3TRAWL" --lake "$WORK/scenario-lake" \
    --config "$WORK/scenario/s3trawl.toml" --since "$(window since)" --until "$(window until)" \
    --baseline-days "$(window baseline_days)" --runs "$RUNS" --json "$WORK/pack.json"
