#!/usr/bin/env bash
# Sweep scaling: a CPU-bound sweep of 200 runs (`placement-strategies` at 50 seeds, the base
# scenario HOURS long, 1000 h by default: about 14 s with one thread) with --threads 1 and
# --threads 2, against a control that has no sweep machinery in common: the same 200 runs as two
# independent processes of one thread each (`--shard 0/2` and `--shard 1/2`, run at the same
# time). The control measures what this machine gives two CPU-bound threads; the sweep cannot
# beat it.
#
#   bash benches/sweep.sh                 # 3 interleaved rounds
#   ROUNDS=5 HOURS=200 bash benches/sweep.sh
#   ECSIM=/path/to/an/older/ecsim bash benches/sweep.sh
#
# Prints, per configuration, the median wall time and CPU time (user + system, all processes)
# over the rounds, and the median of each round's speed-up over that round's --threads 1 run
# (paired, so a slow round slows both sides).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${ECSIM:-}" ]; then
  cargo build --release --quiet
  ECSIM=${CARGO_TARGET_DIR:-target}/release/ecsim
fi
ECSIM=$(realpath "$(command -v "$ECSIM" || echo "$ECSIM")")
ROUNDS=${ROUNDS:-3}
HOURS=${HOURS:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp scenarios/sweeps/placement-strategies.toml scenarios/sweeps/placement-mixed.toml "$work/"
sed -i 's/^seeds = 20$/seeds = 50/' "$work/placement-strategies.toml"
sed -i "s/^duration = \"8h\"$/duration = \"${HOURS}h\"/" "$work/placement-mixed.toml"
grep -q '^seeds = 50$' "$work/placement-strategies.toml"
grep -q "^duration = \"${HOURS}h\"$" "$work/placement-mixed.toml"
cd "$work"

# Appends "wall_s cpu_s" of one command (CPU of it and its children) to a file.
measure() {
  local file=$1
  shift
  /usr/bin/time -f "%e %U %S" -o "$file.one" "$@"
  awk '{ printf "%.2f %.2f\n", $1, $2 + $3 }' "$file.one" >>"$file"
}
export ECSIM
one='rm -rf o1 && "$ECSIM" sweep placement-strategies.toml --threads 1 --out o1 -q'
two='rm -rf o2 && "$ECSIM" sweep placement-strategies.toml --threads 2 --out o2 -q'
pair='rm -rf s0 s1
  "$ECSIM" sweep placement-strategies.toml --threads 1 --shard 0/2 --out s0 -q &
  "$ECSIM" sweep placement-strategies.toml --threads 1 --shard 1/2 --out s1 -q
  wait'
for _ in $(seq "$ROUNDS"); do
  measure t1 bash -c "$one"
  measure t2 bash -c "$two"
  measure tp bash -c "$pair"
done
# The runs are the same whatever the thread count.
cmp o1/runs.csv o2/runs.csv

# Median of a column of numbers (the mean of the middle two for an even count).
median() {
  sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
col() { awk -v k="$2" '{ print $k }' "$1"; }
ratios() { paste t1 "$1" | awk '{ print $1 / $3 }'; }
printf '%-30s %11s %10s %18s\n' "200 runs x ${HOURS} h, $ROUNDS rounds" wall_s cpu_s "speed-up (paired)"
for f in t1 t2 tp; do
  case $f in
    t1) name="sweep --threads 1" ;;
    t2) name="sweep --threads 2" ;;
    tp) name="two 1-thread shards at once" ;;
  esac
  printf '%-30s %11.2f %10.2f %18.2f\n' "$name" "$(col $f 1 | median)" "$(col $f 2 | median)" \
    "$(ratios $f | median)"
done
