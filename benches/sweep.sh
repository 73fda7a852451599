#!/usr/bin/env bash
# Sweep scaling: a CPU-bound sweep of 200 runs (`placement-strategies` at 50 seeds, the base
# scenario 200 h long) with --threads 1 and --threads 2, against a control that has no sweep
# machinery in common: the same 200 runs as two independent processes of one thread each
# (`--shard 0/2` and `--shard 1/2`, run at the same time). The control measures what this
# machine gives two CPU-bound threads; the sweep cannot beat it.
#
#   bash benches/sweep.sh                 # 5 interleaved rounds
#   ROUNDS=9 bash benches/sweep.sh
#   ECSIM=/path/to/an/older/ecsim bash benches/sweep.sh
#
# Prints the median and minimum wall time of each and the speed-ups over --threads 1.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ECSIM:-}" ]; then
  cargo build --release --quiet
  ECSIM=${CARGO_TARGET_DIR:-target}/release/ecsim
fi
ECSIM=$(realpath "$ECSIM")
ROUNDS=${ROUNDS:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp scenarios/sweeps/placement-strategies.toml scenarios/sweeps/placement-mixed.toml "$work/"
sed -i 's/^seeds = 20$/seeds = 50/' "$work/placement-strategies.toml"
sed -i 's/^duration = "8h"$/duration = "200h"/' "$work/placement-mixed.toml"
grep -q '^seeds = 50$' "$work/placement-strategies.toml"
grep -q '^duration = "200h"$' "$work/placement-mixed.toml"
cd "$work"

# Wall seconds of one command, appended to a file.
timed() {
  local file=$1
  shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }' >>"$file"
}
one() { rm -rf o1 && "$ECSIM" sweep placement-strategies.toml --threads 1 --out o1 -q; }
two() { rm -rf o2 && "$ECSIM" sweep placement-strategies.toml --threads 2 --out o2 -q; }
pair() {
  rm -rf s0 s1
  "$ECSIM" sweep placement-strategies.toml --threads 1 --shard 0/2 --out s0 -q &
  local p=$!
  "$ECSIM" sweep placement-strategies.toml --threads 1 --shard 1/2 --out s1 -q
  wait "$p"
}
for _ in $(seq "$ROUNDS"); do
  timed t1 one
  timed t2 two
  timed tp pair
done
# The runs are the same whatever the thread count.
cmp o1/runs.csv o2/runs.csv

stat() { sort -n "$1" | awk '{ v[NR] = $1 } END { printf "%.2f %.2f\n", v[int((NR + 1) / 2)], v[1] }'; }
read -r m1 b1 < <(stat t1)
read -r m2 b2 < <(stat t2)
read -r mp bp < <(stat tp)
printf '%-34s %9s %9s %9s\n' "200 runs, $ROUNDS rounds" median_s min_s speed-up
printf '%-34s %9s %9s %9s\n' "sweep --threads 1" "$m1" "$b1" 1.00
awk -v m="$m2" -v b="$b2" -v r="$m1" 'BEGIN { printf "%-34s %9.2f %9.2f %9.2f\n", "sweep --threads 2", m, b, r / m }'
awk -v m="$mp" -v b="$bp" -v r="$m1" 'BEGIN { printf "%-34s %9.2f %9.2f %9.2f\n", "two 1-thread shards at once", m, b, r / m }'
