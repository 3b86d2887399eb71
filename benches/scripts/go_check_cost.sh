#!/usr/bin/env bash
# What the stall watchdog and the hand-off cost: builds the go_check_cost
# example with the watchdog compiled out (the bench-only `no-watchdog`
# feature) and normally, then runs ROUNDS rounds (default 10), each running
# every workload once in each configuration (compiled-out, off, warn), the
# order rotating from round to round. Prints the medians and the ratios as
# a Markdown table.
#
#   benches/scripts/go_check_cost.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds="${1:-10}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

cargo build --quiet --release -p parkway-benches --example go_check_cost --features no-watchdog
cp target/release/examples/go_check_cost "$work/compiled-out"
cargo build --quiet --release -p parkway-benches --example go_check_cost
cp target/release/examples/go_check_cost "$work/normal"

configs=(compiled-out off warn)
run() { # config workload
    case "$1" in
        compiled-out) "$work/compiled-out" "$2" off ;;
        off) "$work/normal" "$2" off ;;
        warn) "$work/normal" "$2" warn ;;
    esac
}
for ((r = 0; r < rounds; r++)); do
    for workload in spawn_many_local ping_pong yield_many; do
        for ((k = 0; k < 3; k++)); do
            config="${configs[$(((r + k) % 3))]}"
            echo "$workload $config $(run "$config" "$workload")" >>"$work/times"
        done
    done
done
python3 - "$work/times" "$rounds" <<'PY'
import statistics, sys
times = {}
for line in open(sys.argv[1]):
    w, c, t = line.split()
    times.setdefault((w, c), []).append(float(t))
print(f"{sys.argv[2]} rounds, medians (µs per iteration); ratio = compiled-out time / config time")
print("| workload | compiled-out | off | warn | off ratio | warn ratio |")
print("|---|---:|---:|---:|---:|---:|")
for w in ["spawn_many_local", "ping_pong", "yield_many"]:
    m = {c: statistics.median(times[(w, c)]) for c in ["compiled-out", "off", "warn"]}
    print(f"| {w} | {m['compiled-out']*1e6:.1f} | {m['off']*1e6:.1f} | {m['warn']*1e6:.1f} "
          f"| {m['compiled-out']/m['off']:.3f} | {m['compiled-out']/m['warn']:.3f} |")
PY
