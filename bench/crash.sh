#!/usr/bin/env bash
# crash.sh: `make bench-crash`, what segments cost and what a crash costs (issue 3; results in
# bench/RESULTS.md).
#
# The job is bench/run.sh's reference job (bench/lib.sh: 20 s of 480i NTSC DV + PCM, bwdif +
# hqdn3d + eq, 1440x1080 lanczos, the audio chain), encoded with ffv1 + pcm_s16le by default
# to keep runs short. Each round runs these, in an order that rotates from round to round so
# that drift of a shared machine falls on all alike:
#   seg10, seg0   `vhs-orchestrate run --stats --set run.segment_seconds=S`, undisturbed:
#                 (a) the overhead of segmenting, 10 s segments against one segment
#   seg2          the same with the chaos run's segment length: its undisturbed reference
#   chaos         (b) the same job with 2 s segments while a seeded schedule SIGKILLs one
#                 stage after another (decode, preprocess, upscale, audio, encode in a seeded
#                 shuffle, repeated) with --set run.restart_limit=20
# The chaos schedule: wait for two segments to finish and take the time between them as T
# (the wall time of one segment); then, after each segment that finishes, sleep a seeded
# random U(0, T) and kill the next stage (its pid found through /proc/*/cmdline, a
# vhs-stage-KIND process whose parent is the orchestrator). So every kill lands at a random
# point of a segment in progress, and every segment between two kills is finished, so the run
# always advances; with 2 s segments kills come about every 4-5 s, with
# BENCH_CHAOS_SEGMENT=1 every 2-3 s. No kill once the mux stage has started.
#
# The binaries are copied into the work dir first, so a rebuild meanwhile cannot mix versions.
# Every run goes through bench/measure.py (wall time, CPU of the whole process tree). After
# each run the script checks that nothing is left (processes, /dev/shm/vhs-PID-*, run dir,
# work dir, OUTPUT.part), hashes the output (ffmpeg -f framemd5 on the video, hashes only;
# -f md5 on the decoded audio) and compares every chaos output with the undisturbed output of
# the same segment length: they must be identical. At the end it prints per-config medians,
# per-stage CPU (--stats), the paired ratios, the chain's reach (`vhs-orchestrate check`), the
# crash numbers (recovery_ms and frames_redone from --stats, kills, back-off delays from the
# orchestrator's warnings) and a Markdown block for bench/RESULTS.md. Everything the script
# made (build/bench/crash) is removed at the end, also on failure or Ctrl-C.
#
# Run: `make bench-crash`, or after `make all` e.g.
#   BENCH_SEGMENTS=0 BENCH_CHAOS_SEGMENT=1 bench/crash.sh
# (about 10 minutes with the defaults on 2 CPUs).
#
# Environment: BENCH_RUNS (rounds, default 3), BENCH_SECONDS (tape length, default 20),
# BENCH_CODEC (ffv1, default, or x264), BENCH_SEGMENTS (undisturbed segment lengths compared,
# default "10 0"), BENCH_CHAOS_SEGMENT (default 2), BENCH_CHAOS_SEED (default random; printed),
# BENCH_RESTART_LIMIT (default 20), BENCH_KEEP=1 (keep build/bench/crash), VHS_BIN_DIR.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${VHS_BIN_DIR:-$ROOT/build/bin}"
WORK="$ROOT/build/bench/crash"
ORCH="$WORK/bin/vhs-orchestrate" # a copy: see snapshot_bins
RUNS="${BENCH_RUNS:-3}"
TAPE_SECONDS="${BENCH_SECONDS:-20}"
read -r -a SEGMENTS <<<"${BENCH_SEGMENTS:-10 0}"
CHAOS_SEG="${BENCH_CHAOS_SEGMENT:-2}"
SEED="${BENCH_CHAOS_SEED:-$RANDOM}"
RESTART_LIMIT="${BENCH_RESTART_LIMIT:-20}"
KINDS=(decode preprocess upscale audio encode)
POLL=0.05

. "$ROOT/bench/lib.sh"
encode_settings "${BENCH_CODEC:-ffv1}"

# Every process of this benchmark carries the tag in its environment (the orchestrator
# passes its environment to the stages), so leftovers can be found by it; run dirs go under
# the work dir.
TAG="vhs-bench-crash.$$"
export VHS_BENCH_TAG="$TAG"
export TMPDIR="$WORK/tmp"

MPID="" ORCH_PID="" PROBLEMS=0

die() {
	echo "bench-crash: $*" >&2
	exit 1
}

note() { echo "bench-crash: $*"; }

problem() {
	echo "bench-crash: PROBLEM: $*" >&2
	PROBLEMS=$((PROBLEMS + 1))
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# snapshot_bins: copies the binaries into the work dir, so that a rebuild while the benchmark
# runs (another make in the same tree) cannot mix two versions in one comparison.
snapshot_bins() {
	local f
	[ -x "$BIN_DIR/vhs-orchestrate" ] || die "$BIN_DIR/vhs-orchestrate is missing: run make first"
	mkdir -p "$WORK/bin"
	for f in "$BIN_DIR"/vhs-orchestrate "$BIN_DIR"/vhs-stage-*; do cp -p -- "$f" "$WORK/bin/"; done
	export VHS_PRESET_DIR="$ROOT/configs/presets" VHS_STAGE_DIR="$WORK/bin"
}

# build_state: the commit, local changes outside bench/, and whether the binaries are current.
build_state() {
	local head dirty current
	head="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo "?")"
	dirty="$(git -C "$ROOT" status --porcelain 2>/dev/null | awk '$2 !~ /^bench\// { print $2 }' | paste -sd' ')"
	current="$(make -C "$ROOT" -q all >/dev/null 2>&1 && echo "binaries current" || echo "BINARIES OLDER THAN THE SOURCES")"
	echo "commit $head${dirty:+, local changes in $dirty}, $current"
}

# tagged_pids: live vhs-* processes carrying this benchmark's tag (this script's own shells
# and tools carry it too, and are not counted).
tagged_pids() {
	local f p
	for f in $(grep -lzxF "VHS_BENCH_TAG=$TAG" /proc/[0-9]*/environ 2>/dev/null || true); do
		p="${f#/proc/}"
		p="${p%%/*}"
		case "$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")" in vhs-*) echo "$p" ;; esac
	done
}

# stop_run: ends the run in progress, if any: SIGTERM twice (drain, then stop at once), then
# SIGKILL after 5 s; by pid only.
stop_run() {
	[ -n "$MPID" ] || return 0
	if [ -n "$ORCH_PID" ] && kill -0 "$ORCH_PID" 2>/dev/null; then
		kill -TERM "$ORCH_PID" 2>/dev/null || true
		sleep 0.2
		kill -TERM "$ORCH_PID" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$ORCH_PID" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$ORCH_PID" 2>/dev/null || true
	fi
	wait "$MPID" 2>/dev/null || true
	MPID="" ORCH_PID=""
}

cleanup() {
	local p
	stop_run
	sleep 0.2
	for p in $(tagged_pids); do kill -KILL "$p" 2>/dev/null || true; done
	[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf -- "$WORK"
}

# segments_done: finished segments in the chaos run's manifest (0 without one).
segments_done() {
	local m="$WORK/out.mkv.vhs-work/manifest.toml"
	[ -s "$m" ] || { echo 0; return; }
	grep -c '^\[\[segment\]\]' "$m" || true
}

# child_stage KIND: the pid of a live vhs-stage-KIND whose parent is the orchestrator; empty
# if there is none.
child_stage() {
	local f p
	for f in $(grep -lzE "^(.*/)?vhs-stage-$1\$" /proc/[0-9]*/cmdline 2>/dev/null || true); do
		p="${f#/proc/}"
		p="${p%%/*}"
		if [ "$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)" = "$ORCH_PID" ]; then
			echo "$p"
			return 0
		fi
	done
}

orch_alive() { kill -0 "$ORCH_PID" 2>/dev/null; }

# args_for CONFIG: the orchestrator's arguments for a config (seg<S> or chaos).
args_for() {
	case "$1" in
	seg*) echo "--set run.segment_seconds=${1#seg}" ;;
	chaos) echo "--set run.segment_seconds=$CHAOS_SEG --set run.restart_limit=$RESTART_LIMIT" ;;
	esac
}

# start_run NAME I: starts measure.py + the orchestrator in the background in $WORK; sets MPID
# and ORCH_PID.
start_run() {
	local name="$1" i="$2" args p
	read -r -a args <<<"$(args_for "$name")"
	rm -f "$WORK/out.mkv"
	(cd "$WORK" && exec python3 "$ROOT/bench/measure.py" --out "$name-$i.json" -- \
		"$ORCH" run --force --progress=none --stats "${args[@]}" job.toml 2>"$name-$i.err") &
	MPID=$!
	ORCH_PID=""
	for _ in $(seq 200); do
		for p in $(cat /proc/"$MPID"/task/*/children 2>/dev/null); do # pids, space separated
			[ "$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)")" = vhs-orchestrate ] && ORCH_PID=$p
		done
		[ -n "$ORCH_PID" ] && return 0
		kill -0 "$MPID" 2>/dev/null || break
		sleep 0.02
	done
	wait "$MPID" || true
	MPID=""
	sed 's/^/    /' "$WORK/$name-$i.err" >&2
	die "$name run $i: the orchestrator did not start"
}

# debris: what the finished run left behind; one problem per item.
debris() {
	local f p
	for f in /dev/shm/vhs-"$ORCH_PID"-*; do [ -e "$f" ] && problem "shared memory object $f left"; done
	for f in "$TMPDIR"/vhs-run.* "$WORK/out.mkv.part" "$WORK/out.mkv.vhs-work"; do
		[ -e "$f" ] && problem "$f left after the run"
	done
	p="$(tagged_pids)"
	if [ -n "$p" ]; then
		sleep 0.3
		for p in $(tagged_pids); do problem "process $p left: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null)"; done
	fi
	return 0
}

# finish_run NAME I: waits for the run, checks its exit and what it left; hashes the output
# into NAME-I.vhash / NAME-I.amd5 when asked (HASH=1).
finish_run() {
	local name="$1" i="$2" rc=0
	wait "$MPID" || rc=$?
	MPID=""
	if [ "$rc" != 0 ] || [ ! -s "$WORK/out.mkv" ]; then
		sed 's/^/    /' "$WORK/$name-$i.err" | tail -n 30 >&2
		die "$name run $i failed (exit $rc)"
	fi
	debris
	if [ "${HASH:-0}" = 1 ]; then
		ffmpeg -nostdin -v error -i "$WORK/out.mkv" -map 0:v -f framemd5 - |
			awk -F', *' '!/^#/ && NF >= 6 { print $5, $6 }' >"$WORK/$name-$i.vhash"
		ffmpeg -nostdin -v error -i "$WORK/out.mkv" -map 0:a -f md5 - >"$WORK/$name-$i.amd5"
	fi
	rm -f "$WORK/out.mkv"
	ORCH_PID=""
}

# wait_done_above N: waits until more than N segments are done; false if the run ended first.
wait_done_above() {
	while (($(segments_done) <= $1)); do
		orch_alive || return 1
		[ -z "$(child_stage mux)" ] || return 1
		sleep "$POLL"
	done
}

# chaos_kills I: the kill schedule against the run in progress; one line per kill in
# chaos-I.kills: "ms_since_start kind pid segments_done phase_ms T_ms".
chaos_kills() {
	local log="$WORK/chaos-$1.kills" t0 t1 t2 tseg ndone kind pid phase seed order=()
	: >"$log"
	t0="$(now_ms)"
	wait_done_above 0 || return 0
	t1="$(now_ms)"
	wait_done_above 1 || return 0
	t2="$(now_ms)"
	tseg=$((t2 - t1))
	while :; do
		if ((${#order[@]} == 0)); then # a fresh seeded shuffle of the stage kinds
			seed=$RANDOM # drawn here: a subshell would reseed RANDOM
			mapfile -t order < <(printf '%s\n' "${KINDS[@]}" | awk -v s="$seed" 'BEGIN { srand(s) } { print rand(), $0 }' | sort -n | cut -d' ' -f2)
		fi
		kind="${order[0]}"
		order=("${order[@]:1}")
		phase=$((RANDOM * 32768 + RANDOM))
		phase=$((phase % (tseg > 0 ? tseg : 1)))
		sleep "$(printf '%d.%03d' $((phase / 1000)) $((phase % 1000)))"
		orch_alive && [ -z "$(child_stage mux)" ] || return 0
		pid="$(child_stage "$kind")"
		[ -n "$pid" ] || continue # between attempts, or this stage already ended
		ndone="$(segments_done)"
		kill -KILL "$pid" 2>/dev/null || continue
		echo "$(($(now_ms) - t0)) $kind $pid $ndone $phase $tseg" >>"$log"
		wait_done_above "$ndone" || return 0
	done
}

# summary: the tables, from the JSON, .err, .kills, .vhash and .amd5 files.
summary() {
	python3 - "$WORK" "$RUNS" "$CHAOS_SEG" "${CONFIGS[*]}" <<-'EOF'
		import json, os, re, statistics, sys
		work, runs, chaos_seg, configs = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4].split()
		med = statistics.median
		stages = ["decode", "preprocess", "upscale", "audio", "encode", "mux"]
		def load(name, i):
		    r = json.load(open(f"{work}/{name}-{i}.json"))
		    r["stage_cpu"], r["stage_frames"], r["run"] = {}, {}, {}
		    r["warn"] = []
		    for line in open(f"{work}/{name}-{i}.err"):
		        m = re.match(r"stats: (\S+) cpu_user=([0-9.]+) cpu_sys=([0-9.]+) maxrss_kb=\d+ frames=(\d+)", line)
		        if m and m.group(1) in stages:
		            r["stage_cpu"][m.group(1)] = float(m.group(2)) + float(m.group(3))
		            r["stage_frames"][m.group(1)] = int(m.group(4))
		        if line.startswith("stats: run "):
		            r["run"] = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", line)}
		        if "restarting from segment" in line:
		            r["warn"].append(line)
		    return r
		res = {c: [load(c, i) for i in range(1, runs + 1)] for c in configs}
		seg = [c for c in configs if c != "chaos"]
		out = []
		out.append("| segment_seconds | segments | median wall (s) | median CPU user+sys (s) | wall / seg0 (median of paired ratios) | CPU / seg0 |")
		out.append("|---|---:|---:|---:|---:|---:|")
		base = res.get("seg0")
		for c in seg:
		    rs = res[c]
		    w = med(r["wall_s"] for r in rs)
		    cpu = med(r["user_s"] + r["sys_s"] for r in rs)
		    if base and c != "seg0":
		        pw = med(a["wall_s"] / b["wall_s"] for a, b in zip(rs, base))
		        pc = med((a["user_s"] + a["sys_s"]) / (b["user_s"] + b["sys_s"]) for a, b in zip(rs, base))
		        ratio = f"{pw:.3f} | {pc:.3f}"
		    else:
		        ratio = "1 | 1"
		    out.append(f"| {c[3:]} | {int(rs[0]['run'].get('segments_total', 0))} | {w:.2f} | {cpu:.2f} | {ratio} |")
		out.append("")
		out.append("Per run, in run order within each round (wall s / CPU s):")
		out.append("")
		out.append("| round | " + " | ".join(configs) + " |")
		out.append("|---|" + "---|" * len(configs))
		for i in range(runs):
		    out.append(f"| {i + 1} | " + " | ".join(f"{res[c][i]['wall_s']:.2f} / {res[c][i]['user_s'] + res[c][i]['sys_s']:.2f}" for c in configs) + " |")
		out.append("")
		out.append("| stage: median CPU user+sys (s), frames sent | " + " | ".join(f"segment_seconds={c[3:]}" for c in seg) + " |")
		out.append("|---|" + "---:|" * len(seg))
		for s in stages:
		    cells = []
		    for c in seg:
		        v = [r["stage_cpu"][s] for r in res[c] if s in r["stage_cpu"]]
		        f = res[c][0]["stage_frames"].get(s, "?")
		        cells.append(f"{med(v):.2f} ({f})" if v else "-")
		    out.append(f"| {s} | " + " | ".join(cells) + " |")
		if "chaos" in res:
		    ch = res["chaos"]
		    ref = res.get(f"seg{chaos_seg}")
		    out.append("")
		    out.append(f"Crash recovery, segment_seconds={chaos_seg}:")
		    out.append("")
		    out.append("| run | kills | restarts | recovery_ms (mean) | mean back-off (ms) | frames_redone | per kill | kill phase (mean, of T) | wall (s) | output = undisturbed |")
		    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
		    tk = tf = tr = trec = tb = 0
		    phases, gaps = [], []
		    for i, r in enumerate(ch, 1):
		        kills = [l.split() for l in open(f"{work}/chaos-{i}.kills")]
		        err = open(f"{work}/chaos-{i}.err").read()
		        landed = len(re.findall(r"was killed by signal 9", err))
		        backs = [int(x) for x in re.findall(r"restarting from segment \d+ in (\d+) ms", err)]
		        rr = r["run"]
		        redone, restarts, rec = rr.get("frames_redone", 0), rr.get("restarts", 0), rr.get("recovery_ms", 0)
		        ph = [int(k[4]) / int(k[5]) for k in kills if int(k[5]) > 0]
		        phases += ph
		        gaps += [int(b[0]) - int(a[0]) for a, b in zip(kills, kills[1:])]
		        same = open(f"{work}/same-{i}").read().strip()
		        out.append(f"| {i} | {landed} | {int(restarts)} | {rec:.0f} | {statistics.mean(backs) if backs else 0:.0f} | {int(redone)} | {redone / landed if landed else 0:.1f} | {statistics.mean(ph) if ph else 0:.2f} | {r['wall_s']:.2f} | {same} |")
		        # recovery_ms is a mean over recoveries; the schedule lets a segment finish after
		        # every kill, so every restart is also a recovery and restarts can weigh it
		        tk += landed; tf += redone; tr += restarts; trec += rec * restarts; tb += sum(backs)
		    frames = res[f"seg{chaos_seg}"][0]["stage_frames"].get("upscale") if ref else None
		    segs = res[f"seg{chaos_seg}"][0]["run"].get("segments_total") if ref else None
		    per_seg = frames / segs if frames and segs else float("nan")
		    out.append("")
		    out.append(f"- kills that landed: {tk} in {runs} runs (the orchestrator reported each as 'killed by signal 9'), "
		               f"{med(gaps) / 1000 if gaps else 0:.1f} s apart (median; {min(gaps or [0]) / 1000:.1f} to {max(gaps or [0]) / 1000:.1f} s)")
		    if tr:
		        out.append(f"- recovery, a kill seen to the first video frame at encode again: mean {trec / tr:.0f} ms over {int(tr)} recoveries; of which back-off {tb / max(tk, 1):.0f} ms on average, so {trec / tr - tb / max(tk, 1):.0f} ms for the rest: stopping the other stages, starting five new ones up to READY, the seek, the warm-up frames and the way through the pipeline")
		    if tk:
		        out.append(f"- frames redone per kill: {tf / tk:.1f}, a segment being {per_seg:.1f} output frames: {tf / tk / per_seg:.2f} segments per kill; the kills landed at a mean {statistics.mean(phases):.2f} of a segment's wall time after the previous segment finished")
		    if ref:
		        wc, wr = med(r["wall_s"] for r in ch), med(r["wall_s"] for r in ref)
		        out.append(f"- wall time: chaos median {wc:.2f} s against {wr:.2f} s undisturbed: {(wc - wr) / (tk / runs):.2f} s per kill")
		print("\n".join(out))
	EOF
}

# compare_chaos I: the chaos output's hashes against the undisturbed run of the same segment
# length; writes "identical" or what differs into same-I.
compare_chaos() {
	local i="$1" ref="$WORK/seg$CHAOS_SEG-1" out="$WORK/chaos-$1" v a
	v="$(wc -l <"$out.vhash") frames"
	if cmp -s "$ref.vhash" "$out.vhash"; then v="video identical ($v)"; else
		v="VIDEO DIFFERS: $(diff "$ref.vhash" "$out.vhash" | grep -c '^>' || true) of $v"
		problem "chaos run $i: the video differs from the undisturbed run"
	fi
	if cmp -s "$ref.amd5" "$out.amd5"; then a="audio identical"; else
		a="AUDIO DIFFERS"
		problem "chaos run $i: the audio differs from the undisturbed run"
	fi
	echo "$v, $a" >"$WORK/same-$i"
}

# compare_configs: how the undisturbed outputs of the segment lengths differ (informational:
# an IIR filter such as hqdn3d is cut at a configured warm-up, so they need not be equal).
compare_configs() {
	local c n
	for c in "${CONFIGS[@]}"; do
		case "$c" in chaos | seg0) continue ;; esac
		n="$(diff <(cut -d' ' -f2 "$WORK/seg0-1.vhash") <(cut -d' ' -f2 "$WORK/$c-1.vhash") | grep -c '^>' || true)"
		echo "- video frames that differ from segment_seconds=0: segment_seconds=${c#seg}: $n of $(wc -l <"$WORK/$c-1.vhash")"
	done
}

main() {
	command -v python3 >/dev/null || die "python3 is needed (make deps)"
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	rm -rf -- "$WORK"
	mkdir -p "$WORK" "$TMPDIR"
	snapshot_bins
	CONFIGS=()
	local s c i k order
	for s in "${SEGMENTS[@]}" "$CHAOS_SEG"; do
		[[ " ${CONFIGS[*]} " == *" seg$s "* ]] || CONFIGS+=("seg$s")
	done
	CONFIGS+=(chaos)
	note "machine: $(machine); $(df -T "$WORK" | awk 'NR == 2 { print $2 " on " $1 }') under build/bench"
	note "build: $(build_state) (copied to build/bench/crash/bin)"
	note "making ${TAPE_SECONDS} s of 480i NTSC DV with PCM audio (build/bench/crash/tape.avi)"
	make_tape "$TAPE_SECONDS" "$WORK/tape.avi"
	write_job "$WORK/job.toml" out.mkv
	for c in "${CONFIGS[@]}"; do
		[ "$c" = chaos ] && continue
		# shellcheck disable=SC2046
		note "$c: $("$ORCH" check $(args_for "$c") "$WORK/job.toml" | grep '^segments ')"
	done
	note "chaos seed $SEED (BENCH_CHAOS_SEED=$SEED replays the kinds and delays; the moments still depend on the machine)"
	RANDOM=$SEED
	note "command: (cd build/bench/crash && bench/measure.py -- vhs-orchestrate run --progress=none --stats ARGS job.toml)"
	for c in "${CONFIGS[@]}"; do note "  $c: ARGS = $(args_for "$c")"; done
	note "$RUNS rounds of ${CONFIGS[*]}, the order rotating each round ($ENC_DESC)"
	for ((i = 1; i <= RUNS; i++)); do
		order=()
		for ((k = 0; k < ${#CONFIGS[@]}; k++)); do order+=("${CONFIGS[(k + i - 1) % ${#CONFIGS[@]}]}"); done
		for c in "${order[@]}"; do
			start_run "$c" "$i"
			[ "$c" != chaos ] || chaos_kills "$i"
			HASH=$([ "$c" = chaos ] || [ "$i" = 1 ] && echo 1 || echo 0) finish_run "$c" "$i"
			printf '  round %d %-6s %s\n' "$i" "$c" "$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("wall %.2f s, cpu %.2f s" % (r["wall_s"], r["user_s"]+r["sys_s"]))' "$WORK/$c-$i.json")$(
				[ "$c" = chaos ] && echo ", $(wc -l <"$WORK/chaos-$i.kills") kills sent" || true)"
		done
	done
	for ((i = 1; i <= RUNS; i++)); do compare_chaos "$i"; done
	local table
	table="$(summary)
$(compare_configs)"
	echo
	echo "$table"
	echo
	echo "---- paste into bench/RESULTS.md ----"
	cat <<-EOF
		- machine: $(machine); work dir on $(df -T "$WORK" | awk 'NR == 2 { print $2 }')
		- build: $(build_state)
		- command: \`make bench-crash\` (bench/crash.sh, BENCH_RUNS=$RUNS, BENCH_CHAOS_SEED=$SEED, ${TAPE_SECONDS} s tape, $ENC_DESC)
		- reach: $("$ORCH" check "$WORK/job.toml" | grep '^segments ' | sed 's/^segments [^,]*, //')

		$table
	EOF
	echo "---- end ----"
	((PROBLEMS == 0)) || die "$PROBLEMS problems (see above)"
}

main "$@"
