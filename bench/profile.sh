#!/usr/bin/env bash
# profile.sh: `make bench-profile`, issue 8: what profiling costs. The reference job
# (bench/lib.sh: 20 s of 480i NTSC DV, bwdif + hqdn3d + eq, 1440x1080 lanczos, libx264 fast
# crf 18 + aac) restored two ways, in pairs of runs
#   run:      vhs-orchestrate run --progress=none --restart job.toml
#   profile:  vhs-orchestrate profile --progress=none --out prof job.toml (every frame timed,
#             TRACE records, the timeline, then the four report files)
# (ABBA: run first in odd pairs, profile first in even ones, so neither always follows the
# other) and prints the median wall time and CPU of each (the process tree's, from bench/measure.py)
# and the ratio profile/run (target: within 2%), the ratio within each pair with its 95 %
# interval, then a Markdown block for bench/RESULTS.md.
#
# Environment: BENCH_RUNS (runs of each, default 5), BENCH_SECONDS (tape length, default
# 20), BENCH_CODEC (x264 or ffv1, as bench/run.sh), VHS_BIN_DIR (default build/bin).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
ORCH="${VHS_BIN_DIR:-$ROOT/build/bin}/vhs-orchestrate"
WORK="$ROOT/build/bench-profile"
RUNS="${BENCH_RUNS:-5}"
TAPE_SECONDS="${BENCH_SECONDS:-20}"

. "$ROOT/bench/lib.sh"
encode_settings "${BENCH_CODEC:-x264}"

RUN_CMD=("$ORCH" run --force --progress=none --restart job.toml)
PROFILE_CMD=("$ORCH" profile --progress=none --out prof job.toml)

# measure NAME I CMD...: one measured run in $WORK; its figures in NAME-I.json.
measure() {
	local name="$1" i="$2"
	shift 2
	rm -f "$WORK/out.mkv"
	if ! (cd "$WORK" && python3 "$ROOT/bench/measure.py" --out "$name-$i.json" -- "$@" >"$name-$i.out" 2>"$name-$i.err"); then
		sed 's/^/    /' "$WORK/$name-$i.err" >&2
		die "run $i of $name failed: $(printf '%q ' "$@")"
	fi
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("  %-8s run %s: wall %.2f s, cpu %.2f s" % (sys.argv[2], sys.argv[3], r["wall_s"], r["user_s"]+r["sys_s"]))' \
		"$WORK/$name-$i.json" "$name" "$i"
}

summary() {
	python3 - "$WORK" "$RUNS" <<-'EOF'
		import json, math, statistics, sys
		work, runs = sys.argv[1], int(sys.argv[2])
		med = statistics.median
		def load(name):
		    return [json.load(open(f"{work}/{name}-{i}.json")) for i in range(1, runs + 1)]
		run, prof = load("run"), load("profile")
		rw, pw = med(r["wall_s"] for r in run), med(r["wall_s"] for r in prof)
		rc, pc = med(r["user_s"] + r["sys_s"] for r in run), med(r["user_s"] + r["sys_s"] for r in prof)
		p = json.load(open(f"{work}/prof/profile.json"))
		samples = sum(s["frames"] for s in p["stages"])
		print("| | median wall (s) | median CPU user+sys (s) | wall of each run (s) |")
		print("|---|---:|---:|---|")
		print(f"| run | {rw:.2f} | {rc:.2f} | {', '.join('%.2f' % r['wall_s'] for r in run)} |")
		print(f"| profile | {pw:.2f} | {pc:.2f} | {', '.join('%.2f' % r['wall_s'] for r in prof)} |")
		print()
		names = sorted({n for r in run + prof for n in r.get("cpu_by_process", {})})
		print("| median CPU by process (s) | run | profile | profile/run |")
		print("|---|---:|---:|---:|")
		for n in names:
		    a = med(r.get("cpu_by_process", {}).get(n, 0) for r in run)
		    b = med(r.get("cpu_by_process", {}).get(n, 0) for r in prof)
		    print(f"| {n} | {a:.2f} | {b:.2f} | {b / a if a else 0:.3f} |")
		print()
		print(f"Wall-time ratio profile/run: **{pw / rw:.4f}** ({100 * (pw / rw - 1):+.2f}%; target within 2%); "
		      f"CPU ratio {pc / rc:.4f}. The profile timed {samples} frames (all stages) and named "
		      f"`{p['bottleneck']['stage']}` the bottleneck: {p['bottleneck']['why']}.")
		# The two runs of a pair share the machine's state (tenants, clock), so the ratio
		# within each pair is less noisy than the ratio of medians: its geometric mean with a
		# 95 % confidence interval (Student's t on the log ratios) says what can be resolved.
		logs = [math.log(b["wall_s"] / a["wall_s"]) for a, b in zip(run, prof)]
		m = statistics.mean(logs)
		if runs > 1:
		    t975 = {1: 12.71, 2: 4.30, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26,
		            10: 2.23, 11: 2.20, 12: 2.18, 13: 2.16, 14: 2.14, 15: 2.13}.get(runs - 1, 2.10)
		    h = t975 * statistics.stdev(logs) / math.sqrt(runs)
		    ci = f", 95 % interval {math.exp(m - h):.4f} to {math.exp(m + h):.4f}"
		else:
		    ci = ""
		print()
		print(f"Wall-time ratio within each pair: {', '.join('%.4f' % math.exp(x) for x in logs)}; "
		      f"geometric mean **{math.exp(m):.4f}**{ci}.")
	EOF
}

main() {
	[ -x "$ORCH" ] || die "$ORCH is missing: run make first"
	mkdir -p "$WORK"
	rm -f "$WORK"/run-*.json "$WORK"/profile-*.json
	echo "bench: making ${TAPE_SECONDS} s of 480i NTSC DV with PCM audio (build/bench-profile/tape.avi)"
	make_tape "$TAPE_SECONDS" "$WORK/tape.avi"
	write_job "$WORK/job.toml" out.mkv
	echo "bench: run:     $(printf '%q ' "${RUN_CMD[@]}")"
	echo "bench: profile: $(printf '%q ' "${PROFILE_CMD[@]}")"
	echo "bench: $RUNS runs of each, in pairs, the first of each pair swapped every pair (in build/bench-profile)"
	local i table
	for ((i = 1; i <= RUNS; i++)); do # ABBA: each command goes first in every other pair
		if ((i % 2)); then
			measure run "$i" "${RUN_CMD[@]}"
			measure profile "$i" "${PROFILE_CMD[@]}"
		else
			measure profile "$i" "${PROFILE_CMD[@]}"
			measure run "$i" "${RUN_CMD[@]}"
		fi
	done
	table="$(summary)"
	echo
	echo "$table"
	echo
	echo "---- paste into bench/RESULTS.md ----"
	cat <<-EOF
		### $(date -u +%Y-%m-%d) $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "")

		- machine: $(machine)
		- command: \`make bench-profile\` (bench/profile.sh, BENCH_RUNS=$RUNS, ${TAPE_SECONDS} s of 480i NTSC DV + PCM, the reference job of bench/lib.sh: \`$VF\`, ${WIDTH}x${HEIGHT} lanczos, $ENC_DESC)

		$table
	EOF
	echo "---- end ----"
}

main "$@"
