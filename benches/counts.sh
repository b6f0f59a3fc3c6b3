#!/usr/bin/env bash
# Counts, not seconds: instructions and cache misses of `kafkasim bench --one-thread FILE`, as
# valgrind's cachegrind simulates them. The same binary and scenario give the same counts on a
# busy machine and a quiet one, so a change of a few percent shows, where timings on a shared
# machine swing by 30% and more (docs/speed.md, "Counted, not timed").
#
#   bash benches/counts.sh benches/per-record.yaml benches/per-record-10k.yaml
#
# The last-level cache is simulated at 2 MiB, 16-way: this machine's L2 per core. Its L3 is far
# larger, so what cachegrind calls an LL miss is an L2 miss here, a trip to the L3 (or beyond).
# "Estimated cycles" weights them as cachegrind's docs suggest for a rough figure: one per
# instruction, 10 per first-level miss, and 60 (not 100) per L2 miss, an L3 hit's cost. It
# leaves out what the hardware hides (prefetches, overlapped misses); it is a ratio to compare
# runs with, not a time.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "counts.sh needs valgrind (Debian package valgrind)" >&2; exit 2; }
[ $# -gt 0 ] || { echo "usage: bash benches/counts.sh SCENARIO.yaml..." >&2; exit 2; }
cargo build --release -q
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-28s %16s %14s %12s %16s\n' scenario instructions "L1 misses" "L2 misses" "estimated cycles"
first=""
for f in "$@"; do
    valgrind --tool=cachegrind --cache-sim=yes --LL=2097152,16,64 --cachegrind-out-file="$out/cg" \
        target/release/kafkasim bench --one-thread "$f" >/dev/null 2>"$out/log"
    # The summary line of the out file: Ir I1mr ILmr Dr D1mr DLmr Dw D1mw DLmw.
    read -r ir l1 ll est < <(awk '/^summary:/ {
        printf "%.0f %.0f %.0f %.0f\n", $2, $3 + $6 + $9, $4 + $7 + $10, $2 + 10 * ($3 + $6 + $9) + 60 * ($4 + $7 + $10) }' "$out/cg")
    ratio=""
    if [ -z "$first" ]; then first=$est; else ratio=$(awk -v a="$est" -v b="$first" 'BEGIN { printf "  (%.2fx the first)", a / b }'); fi
    printf '%-28s %16s %14s %12s %16s%s\n' "$(basename "$f")" "$ir" "$l1" "$ll" "$est" "$ratio"
done
