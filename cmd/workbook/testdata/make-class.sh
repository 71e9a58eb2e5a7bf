#!/usr/bin/env bash
# make-class.sh DIR: makes the class of eight submissions that cmd/workbook/README.md grades, as checkouts of this
# repository (its committed HEAD) under DIR, so that the README's report can be re-captured after the course changes:
#
#	bash cmd/workbook/testdata/make-class.sh /tmp/wb/class && go run ./cmd/workbook grade /tmp/wb/class
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
class=${1:?usage: make-class.sh DIR}
rm -rf "$class"
mkdir -p "$class"

checkout() { # checkout NAME FILE...: a clone with the reference's FILEs (day45/ file names) copied into day45/
	local dir=$class/$1
	shift
	git clone -q "$root" "$dir"
	for f in "$@"; do
		cp "$dir/solutions/day45/$f" "$dir/day45/$f"
	done
}

core=(jitter.go singleflight.go lock.go breaker.go swr.go metrics.go)

# alice copied the reference's file of every step in the manifest: full marks and every bonus.
checkout alice $(python3 -c 'import json, sys; print(" ".join(s["file"] for s in json.load(open(sys.argv[1]))))' "$root/steps/steps.json")

# bob did steps 01-03.
checkout bob jitter.go singleflight.go lock.go

# carol did the core day, but counts misses in an unsynchronised package variable.
checkout carol "${core[@]}"
sed -i 's/^func (m \*metrics) miss()              { m.misses.Add(1) }$/var missCount int64 \/\/ one counter for every protector, unsynchronised\n\nfunc (m *metrics) miss() { missCount++ }/; s/^\ts.CacheMisses = m.misses.Load()$/\ts.CacheMisses = missCount/' "$class/carol/day45/metrics.go"
grep -q 'missCount++' "$class/carol/day45/metrics.go"

# dave's lock.go does not compile.
checkout dave "${core[@]}"
printf '\nfunc (l *DistributedLock) ttlMillis() { return l.ttl.Milliseconds() }\n' >>"$class/dave/day45/lock.go"

# erin did steps 01-04 and deleted step 05's tests.
checkout erin jitter.go singleflight.go lock.go breaker.go
rm "$class/erin/steps/05-swr/swr_test.go"

# frank did step 01 and turned step 02's assertions into logs.
checkout frank jitter.go
sed -i 's/\b\(assert\|require\)\.[A-Za-z]*(t, /t.Log(/' "$class/frank/steps/02-singleflight/singleflight_test.go"

# grace did the core day, but AddJitter starts a goroutine that never ends.
checkout grace "${core[@]}"
sed -i 's/^\tif base <= 0 || !(percent > 0) { \/\/ !(>) also catches NaN$/\tgo func() { select {} }() \/\/ "warm up" the random source\n&/' "$class/grace/day45/jitter.go"
grep -q 'select {}' "$class/grace/day45/jitter.go"

# notes/ is not a checkout.
mkdir "$class/notes"
echo "my notes for day 45" >"$class/notes/README.txt"
echo "make-class: $(ls "$class" | tr '\n' ' ')in $class"
