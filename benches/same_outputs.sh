#!/usr/bin/env bash
# Two s3trawl builds give the same outputs: detect (every format, raw logs and a lake, the
# scenario's window and config), detect --list and --explain's SQL, report (json, md, html and
# the state file, twice in one folder so that the second run judges against the first), and
# the errors of bad arguments, a failing rule and a rule whose rows are not findings.
# For refactors that must not change behaviour (issue 17).
#
#   benches/same_outputs.sh BASE_BINARY NEW_BINARY [WORK]
#
# Reports are compared with their times normalised, JSON with evidence lists sorted, stderr
# with the output folder's name replaced. Exit 1 when anything differs.
set -euo pipefail
BASE=$(realpath "$1"); NEW=$(realpath "$2"); WORK=${3:-/tmp/s3trawl-same-outputs}
rm -rf "$WORK" && mkdir -p "$WORK"
S=$WORK/scen
"$BASE" generate scenario --out "$S" --scale 2 --seed 1 >/dev/null
"$BASE" ingest --quiet "$S/access" "$S/cloudtrail" --lake "$WORK/lake" >/dev/null
mkdir -p "$WORK/rules"
printf -- '-- id: broken-rule\n-- title: A rule whose query fails\n-- severity: low\n-- family: test\nSELECT no_such_column AS entity FROM window_access_logs\n' > "$WORK/rules/broken.sql"
printf -- "-- id: bad-row\n-- title: Rows that are not findings\n-- severity: low\n-- family: test\nSELECT 'x' AS entity, 2.5 AS count\n" > "$WORK/rules/badrow.sql"
printf '[detections.access-denied-burst]\nthreshold = "many"\n' > "$WORK/badconf.toml"

outputs() {
    local B=$1 O=$2 L=$WORK/lake
    mkdir -p "$O"
    run() { local name=$1; shift; (cd "$S" && "$B" "$@") > "$O/$name.out" 2> "$O/$name.err" || echo "exit $?" >> "$O/$name.err"; }
    local W="--config s3trawl.toml --since 2026-11-07 --until 2026-11-08 --baseline-days 6"
    run detect-logs detect --quiet --logs access cloudtrail --format json
    run detect-lake detect --quiet --lake "$L" --format json
    run detect-md detect --quiet --lake "$L" --format md
    run detect-table detect --quiet --lake "$L"
    # shellcheck disable=SC2086
    run detect-win detect --quiet --logs access cloudtrail $W --format json
    # shellcheck disable=SC2086
    run detect-win-csv detect --quiet --lake "$L" $W --format csv
    run list detect --list
    run rules detect --quiet --lake "$L" --rules "$WORK/rules" --format json
    run only detect --quiet --lake "$L" --only nope
    run conf detect --quiet --lake "$L" --config "$WORK/badconf.toml"
    run window detect --quiet --lake "$L" --since 2026-11-08 --until 2026-11-07
    run nosrc detect --quiet
    run badtime detect --quiet --lake "$L" --since yesterday
    run explain-unknown detect --quiet --lake "$L" --explain nope
    (cd "$S" && "$B" detect --quiet --lake "$L" --explain access-denied-burst 2>/dev/null | sed '/^$/q') > "$O/explain.sql"
    for r in rep1 rep2; do
        # shellcheck disable=SC2086
        run "$r" report --quiet --logs access cloudtrail $W --out "$O/rep"
    done
    run rep-lake report --quiet --lake "$L" --rules "$WORK/rules" --out "$O/rep-lake"
    for f in "$O"/*.err; do sed -i "s#$O#OUT#g" "$f"; done
    for f in "$O"/rep/* "$O"/rep-lake/*; do
        sed -E -i 's/20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z/TIME/g' "$f"
    done
    for f in "$O"/*.out "$O"/rep/*.json "$O"/rep-lake/*.json; do
        python3 - "$f" <<'PY'
import json, sys
p = sys.argv[1]
try:
    value = json.load(open(p))
except ValueError:
    sys.exit(0)
def walk(v):
    if isinstance(v, dict):
        return {k: walk(x) for k, x in v.items()}
    if isinstance(v, list):
        items = [walk(x) for x in v]
        if items and all(isinstance(x, dict) and "log_object" in x for x in items):
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return items
    return v
json.dump(walk(value), open(p, "w"), indent=1, sort_keys=True)
PY
    done
}
outputs "$BASE" "$WORK/base"
outputs "$NEW" "$WORK/new"
if diff -r "$WORK/base" "$WORK/new"; then
    echo "same outputs: $(find "$WORK/base" -type f | wc -l) files"
else
    echo "outputs differ" >&2
    exit 1
fi
