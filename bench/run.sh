#!/usr/bin/env bash
# bench/run.sh VARIANT: measures the hit path of the reference against its floor and writes bench/VARIANT/:
#   raw.txt        the benchmark output: ROUNDS rounds (default 20) of the four hit benchmarks
#   get.txt        BenchmarkGetHit{,Parallel}/client=*         renamed BenchmarkHit{,Parallel}/client=*
#   floor.txt      BenchmarkPlainGetDecode{,Parallel}/client=* renamed BenchmarkHit{,Parallel}/client=*
#   benchstat.txt  benchstat floor.txt get.txt: the cost of the protector over a plain GET + decode
# VARIANT is "miniredis" (embedded; REDIS_ADDR is ignored) or "redis" (the real server named by REDIS_ADDR, db 15).
#
# Each benchmark runs in its own process, and the rounds alternate which side goes first (get, floor, floor, get,
# ...). go test -count 10 would run each benchmark ten times in a row, in one process, always in the same order:
# on a shared machine a change of load, or the first benchmark of a process paying for warm-up, then lands on one
# side only. BENCHTIME (default 1s) is passed to -test.benchtime.
set -euo pipefail
cd "$(dirname "$0")/.."
variant=${1:?usage: bench/run.sh miniredis|redis}
case $variant in
miniredis) unset REDIS_ADDR ;;
redis) : "${REDIS_ADDR:?bench/run.sh redis needs REDIS_ADDR=host:port of a real Redis}" ;;
*) echo "bench/run.sh: unknown variant $variant (miniredis or redis)" >&2; exit 2 ;;
esac
gopath=$(go env GOPATH)
export PATH="$PATH:$gopath/bin"
command -v benchstat >/dev/null || go install golang.org/x/perf/cmd/benchstat@latest

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -tags solution -c -o "$tmp/day45.test" ./solutions/day45/

out=$PWD/bench/$variant
mkdir -p "$out"
: >"$out/raw.txt"
bench() { # bench NAME: one run of BenchmarkNAME, in its own process
	(cd solutions/day45 && "$tmp/day45.test" -test.run '^$' -test.bench "^Benchmark$1\$" -test.benchmem \
		-test.benchtime "${BENCHTIME:-1s}") >>"$out/raw.txt"
}
for round in $(seq "${ROUNDS:-20}"); do
	if [ $((round % 2)) = 1 ]; then
		bench GetHit; bench PlainGetDecode; bench PlainGetDecodeParallel; bench GetHitParallel
	else
		bench PlainGetDecode; bench GetHit; bench GetHitParallel; bench PlainGetDecodeParallel
	fi
done

header=$(grep -E '^(goos|goarch|pkg|cpu):' "$out/raw.txt" | awk '!seen[$0]++')
{ echo "$header"; grep '^BenchmarkGetHit' "$out/raw.txt" | sed 's/BenchmarkGetHit/BenchmarkHit/'; } >"$out/get.txt"
{ echo "$header"; grep '^BenchmarkPlainGetDecode' "$out/raw.txt" | sed 's/BenchmarkPlainGetDecode/BenchmarkHit/'; } >"$out/floor.txt"
(cd "$out" && benchstat floor.txt get.txt) | tee "$out/benchstat.txt"
