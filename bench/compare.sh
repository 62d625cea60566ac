#!/usr/bin/env bash
# compare.sh: `make bench-compare REV=...`: this tree against an earlier revision on the
# reference job, for changes that must not change speed or output (issue 24's
# reorganisation, say). The revision is built in a git worktree (build/compare/REV); then
# the reference job (bench/lib.sh: 20 s of 480i NTSC DV, bwdif + hqdn3d + eq, 1440x1080
# lanczos, libx264 fast + aac) runs with each build in pairs, ABBA (the old build first in
# odd pairs, the new one first in even ones), and once more as a profile with each.
#
# Prints, per build: median wall and CPU of the whole process tree (bench/measure.py), the
# median CPU of each stage (run --stats), the ratios new/old, whether the two outputs decode
# to the same video and audio (Matroska files differ in their UID and date every run), and
# each build's profile table; then a Markdown block for
# bench/RESULTS.md. Nothing else should run meanwhile.
#
# Environment: REV (the revision to compare with; required), BENCH_RUNS (pairs, default 3),
# BENCH_SECONDS (tape length, default 20), BENCH_CODEC (x264 or ffv1, as bench/run.sh).
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
REV="${REV:?set REV to the revision to compare with, e.g. make bench-compare REV=HEAD~3}"
RUNS="${BENCH_RUNS:-3}"
TAPE_SECONDS="${BENCH_SECONDS:-20}"
WORK="$ROOT/build/bench-compare"
STAGES=(decode preprocess upscale audio encode)

. "$ROOT/bench/lib.sh"
encode_settings "${BENCH_CODEC:-x264}"

# build_rev: REV built in its own worktree; prints its bin dir.
build_rev() {
	local sha dir
	sha="$(git -C "$ROOT" rev-parse --short "$REV")" || die "no revision $REV"
	dir="$ROOT/build/compare/$sha"
	if [ ! -d "$dir/src" ]; then
		mkdir -p "$dir"
		git -C "$ROOT" worktree add --detach "$dir/src" "$sha" >/dev/null 2>&1 ||
			die "cannot make a worktree of $sha in $dir/src"
	fi
	make -s --no-print-directory -C "$dir/src" all >"$dir/build.log" 2>&1 ||
		die "building $sha failed (see $dir/build.log)"
	echo "$dir/src/build/bin"
}

# run NAME I BIN: one measured run of the job with BIN's orchestrator.
run() {
	local name="$1" i="$2" bin="$3"
	(cd "$WORK" && python3 "$ROOT/bench/measure.py" --out "$name-$i.json" -- \
		"$bin/vhs-orchestrate" run --force --progress=none --stats --restart "$name.toml" 2>"$name-$i.err") ||
		{ sed 's/^/    /' "$WORK/$name-$i.err" >&2; die "run $i of $name failed"; }
	echo "  $name run $i: $(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("wall %.2f s, cpu %.2f s" % (r["wall_s"], r["user_s"] + r["sys_s"]))' "$WORK/$name-$i.json")"
}

# s_decoded FILE: the md5 of its decoded video, then of its decoded audio
s_decoded() {
	ffmpeg -nostdin -v error -i "$1" -map 0:v -f md5 - 2>/dev/null
	ffmpeg -nostdin -v error -i "$1" -map 0:a -f md5 - 2>/dev/null
}

summary() {
	python3 - "$WORK" "$RUNS" "${STAGES[*]}" <<-'EOF'
		import json, re, statistics, sys
		work, runs, stages = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
		med = statistics.median
		def figures(name):
		    rs = [json.load(open(f"{work}/{name}-{i}.json")) for i in range(1, runs + 1)]
		    cpu = {s: [] for s in stages}
		    for i in range(1, runs + 1):
		        for line in open(f"{work}/{name}-{i}.err"):
		            m = re.match(r"stats: (\S+) \S+ cpu_user=([0-9.]+) cpu_sys=([0-9.]+)", line)
		            if m and m.group(1) in cpu:
		                cpu[m.group(1)].append(float(m.group(2)) + float(m.group(3)))
		    return (med(r["wall_s"] for r in rs), med(r["user_s"] + r["sys_s"] for r in rs),
		            {s: med(v) if v else float("nan") for s, v in cpu.items()})
		old, new = figures("old"), figures("new")
		out = ["| | old | new | new/old |", "|---|---:|---:|---:|"]
		out.append(f"| wall (s) | {old[0]:.2f} | {new[0]:.2f} | {new[0] / old[0]:.3f} |")
		out.append(f"| CPU, whole tree (s) | {old[1]:.2f} | {new[1]:.2f} | {new[1] / old[1]:.3f} |")
		for s in stages:
		    o, n = old[2][s], new[2][s]
		    out.append(f"| CPU {s} (s) | {o:.2f} | {n:.2f} | {n / o if o else float('nan'):.3f} |")
		print("\n".join(out))
	EOF
}

main() {
	local old_bin new_bin="$ROOT/build/bin" i same
	[ -x "$new_bin/vhs-orchestrate" ] || die "build this tree first (make)"
	command -v python3 >/dev/null || die "python3 is needed (make deps)"
	echo "bench: building $REV"
	old_bin="$(build_rev)"
	mkdir -p "$WORK"
	rm -rf "$WORK"/old-* "$WORK"/new-* "$WORK"/*.mkv "$WORK"/prof-*
	make_tape "$TAPE_SECONDS" "$WORK/tape.avi"
	write_job "$WORK/old.toml" old.mkv
	write_job "$WORK/new.toml" new.mkv
	echo "bench: $RUNS pairs, ABBA: old = $REV ($old_bin), new = this tree ($new_bin)"
	for ((i = 1; i <= RUNS; i++)); do
		if ((i % 2)); then
			run old "$i" "$old_bin"
			run new "$i" "$new_bin"
		else
			run new "$i" "$new_bin"
			run old "$i" "$old_bin"
		fi
	done
	# Matroska files differ in their segment UID and date every run: compare what they decode to
	if [ "$(s_decoded "$WORK/old.mkv")" = "$(s_decoded "$WORK/new.mkv")" ]; then
		same="the same decoded video and audio (md5 $(s_decoded "$WORK/new.mkv" | tr '\n' ' '))"
	else
		same="DIFFERENT decoded video or audio"
	fi
	for b in old new; do
		local bin="$old_bin"
		[ "$b" = new ] && bin="$new_bin"
		(cd "$WORK" && "$bin/vhs-orchestrate" profile --progress=none --out "prof-$b" "$b.toml" \
			>"prof-$b.txt" 2>"prof-$b.err") || die "the $b profile failed (see $WORK/prof-$b.err)"
	done
	local table
	table="$(summary)"
	echo
	echo "$table"
	echo "outputs: $same"
	echo
	echo "---- paste into bench/RESULTS.md ----"
	cat <<-EOF
		### $(date -u +%Y-%m-%d): $(git -C "$ROOT" rev-parse --short HEAD) against $(git -C "$ROOT" rev-parse --short "$REV")

		- machine: $(machine)
		- command: \`make bench-compare REV=$REV\` (bench/compare.sh, $RUNS ABBA pairs, ${TAPE_SECONDS} s of 480i NTSC DV + PCM)
		- job: preset none, \`$VF\`, ${WIDTH}x${HEIGHT} lanczos, $ENC_DESC
		- outputs of the two builds: $same

		$table

		Profile of the reference job, old build:

		\`\`\`
		$(sed -n '/^stage/,/^$/p' "$WORK/prof-old/profile.txt")
		\`\`\`

		New build:

		\`\`\`
		$(sed -n '/^stage/,/^$/p' "$WORK/prof-new/profile.txt")
		\`\`\`
	EOF
	echo "---- end ----"
}

main "$@"
