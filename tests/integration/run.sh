#!/usr/bin/env bash
# run.sh: the black-box integration test harness for vhs-orchestrate.
#
#   tests/integration/run.sh                 run every tests/integration/test_*.sh
#   tests/integration/run.sh oracle badinput run only those files (test_oracle.sh, ...)
#   tests/integration/run.sh 'test_sigint*'  run only the test functions matching a glob
#
# Each test file defines functions named test_*; each function is one test. Every test runs
# in a fresh directory (its cwd, with TMPDIR inside it), in its own process under a timeout
# (VHS_IT_TIMEOUT, default 120 s), so nothing can hang the suite. After every test the
# harness checks for debris the product must never leave: /dev/shm/vhs-<pid>-* objects of
# the orchestrators the test started, vhs-run.* dirs in the test's TMPDIR, *.part files, and
# live vhs-* processes the test started (found by a tag in their environment). Debris fails
# the test. Prints `ok NAME`, `FAIL NAME: reason` or `skip NAME: reason` per test, then
# exactly `N passed, N failed, N skipped`; exits 1 if any failed.
#
# Test media comes from tests/media/make_tape.sh, made once and cached in build/test-media
# (keyed by the arguments and the script's contents), as are the ffmpeg reference hashes.
#
# Environment: VHS_BIN_DIR (default build/bin), VHS_IT_TIMEOUT (seconds per test),
# VHS_IT_KEEP=1 keeps every test's directory (failed tests' directories are always kept).

IT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd -- "$IT_DIR/../.." && pwd)"
BIN_DIR="${VHS_BIN_DIR:-$ROOT/build/bin}"
ORCH="$BIN_DIR/vhs-orchestrate"
MEDIA_CACHE="${VHS_MEDIA_CACHE:-$ROOT/build/test-media}"
MAKE_TAPE="$ROOT/tests/media/make_tape.sh"
ERROR_PREFIX="vhs-orchestrate: error: "
STAGES=(decode preprocess upscale audio encode mux)

# ---------------------------------------------------------------------------------------------
# Helpers for test files (they run inside the test's own process, cwd = the test directory).
# ---------------------------------------------------------------------------------------------

# fail MSG: ends the test as failed; MSG is the one-line reason, details go to the log first.
fail() {
	printf '%s\n' "$*" >"$VHS_TEST_DIR/.reason"
	echo "FAIL: $*" >&2
	exit 1
}

# skip MSG: ends the test as skipped.
skip() {
	printf '%s\n' "$*" >"$VHS_TEST_DIR/.reason"
	exit 77
}

# note MSG: a line in the test's log (shown when it fails).
note() { echo "# $*" >&2; }

# at_least A B: whether number A >= B ("inf" is more than any number).
at_least() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }

# show_file FILE [LINES]: the tail of a file, indented, into the log.
show_file() {
	local f="$1" n="${2:-20}"
	[ -s "$f" ] || { echo "    ($f is empty)" >&2; return 0; }
	echo "    --- $f (last $n lines) ---" >&2
	tail -n "$n" -- "$f" | sed 's/^/    /' >&2
}

need_bin() {
	[ -x "$ORCH" ] || fail "$ORCH is missing: run make first"
	local s
	for s in "${STAGES[@]}"; do
		[ -x "$BIN_DIR/vhs-stage-$s" ] || fail "$BIN_DIR/vhs-stage-$s is missing: run make first"
	done
}

# tape STANDARD SECONDS CODEC [make_tape flags...]: prints the path of a cached test tape,
# making it first if needed. An extension flag (--ext mkv) picks the container.
tape() {
	local standard="$1" seconds="$2" codec="$3"
	shift 3
	local ext=avi flags=()
	while (($#)); do
		case "$1" in
		--ext) ext="$2"; shift 2 ;;
		*) flags+=("$1"); shift ;;
		esac
	done
	local script_sum key path
	script_sum="$(md5sum <"$MAKE_TAPE" | cut -c1-8)"
	key="$standard-${seconds}s-$codec$(printf '%s' "${flags[@]/#/_}" | tr -d -)-$script_sum"
	path="$MEDIA_CACHE/$key.$ext"
	if [ ! -s "$path" ]; then
		mkdir -p "$MEDIA_CACHE"
		note "making tape: $MAKE_TAPE --standard $standard --seconds $seconds --codec $codec ${flags[*]} $path"
		"$MAKE_TAPE" --standard "$standard" --seconds "$seconds" --codec "$codec" "${flags[@]}" "$path" >&2 ||
			fail "make_tape.sh failed for $path"
	fi
	printf '%s\n' "$path"
}

# toml_string S: S as a TOML basic string.
toml_string() {
	local s="$1"
	s="${s//\\/\\\\}"
	s="${s//\"/\\\"}"
	printf '"%s"' "$s"
}

# make_job FILE [key=value | section.key=value]...: writes a job file. Defaults are a small,
# fast, lossless job (ffv1 + pcm_s16le, 960x720 lanczos, no filters, preset none); each
# argument overrides one key; a value of '-' removes the key. Numeric keys (width, crf,
# segment_seconds, [audio] hum, hiss, loudness, true_peak, ...) are written bare when the
# value is a number, boolean keys (declick) when it is true or false.
make_job() {
	local file="$1"
	shift
	local -A kv=(
		[input]="in.avi" [output]="out.mkv" [preset]="none"
		[video.filters]="" [upscale.backend]="cpu" [upscale.model]="lanczos"
		[upscale.width]=960 [upscale.height]=720 [audio.filters]=""
		[encode.codec]="ffv1" [encode.pix_fmt]="yuv420p" [encode.audio_codec]="pcm_s16le"
		[encode.sar]="auto"
	)
	local -a order=(input output preset video.filters upscale.backend upscale.model
		upscale.width upscale.height audio.filters encode.codec encode.pix_fmt
		encode.audio_codec encode.sar)
	local arg k i at
	for arg in "$@"; do
		k="${arg%%=*}"
		if [ -z "${kv[$k]+set}" ]; then
			# a new key goes after the last one of its section (a TOML table is written once)
			at=${#order[@]}
			if [[ "$k" == *.* ]]; then
				for i in "${!order[@]}"; do
					[[ "${order[$i]}" == "${k%.*}".* && "${order[$i]%.*}" == "${k%.*}" ]] && at=$((i + 1))
				done
			fi
			order=("${order[@]:0:$at}" "$k" "${order[@]:$at}")
		fi
		kv[$k]="${arg#*=}"
	done
	local section="" cur v key
	{
		echo "# written by tests/integration/run.sh make_job"
		for k in "${order[@]}"; do
			v="${kv[$k]}"
			[ "$v" != "-" ] || continue
			if [[ "$k" == *.* ]]; then cur="${k%.*}" key="${k##*.}"; else cur="" key="$k"; fi
			if [ "$cur" != "$section" ]; then
				[ -n "$cur" ] || fail "make_job: top-level key $k after a section"
				printf '\n[%s]\n' "$cur"
				section="$cur"
			fi
			case "$key" in
			width | height | scale | crf | workers | threads | segment_seconds | restart_limit | warmup_frames | ring_slots | \
				hum | hiss | loudness | true_peak)
				if [[ "$v" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]; then printf '%s = %s\n' "$key" "$v"; continue; fi ;;
			declick)
				if [[ "$v" == true || "$v" == false ]]; then printf '%s = %s\n' "$key" "$v"; continue; fi ;;
			esac
			printf '%s = %s\n' "$key" "$(toml_string "$v")"
		done
	} >"$file"
}

# show_cmd ARGS...: the command, quoted, into the log.
show_cmd() {
	local q
	printf -v q '%q ' "$@"
	echo "\$ ${q% }" >&2
}

# orch ARGS...: runs the orchestrator in the foreground with stdout in ./orch.out and stderr
# in ./orch.err; sets ORCH_RC. Never fails by itself.
ORCH_RC=""
ORCH_CMD=""
orch() {
	orch_bg "$@"
	orch_wait
}

# orch_bg ARGS...: starts the orchestrator in the background, in its own session (so a
# signal to its process group is like Ctrl-C at a terminal), with SIGINT and SIGQUIT at
# their defaults (a non-interactive shell would otherwise start it with them ignored).
# Sets ORCH_PID; the output goes to ./orch.out and ./orch.err.
ORCH_PID=""
orch_bg() {
	printf -v ORCH_CMD '%q ' "$ORCH" "$@"
	ORCH_CMD="${ORCH_CMD% }"
	echo "\$ $ORCH_CMD" >&2
	setsid env --default-signal=INT,QUIT "$ORCH" "$@" >orch.out 2>orch.err </dev/null &
	ORCH_PID=$!
	echo "$ORCH_PID" >>"$VHS_TEST_DIR/.orch-pids"
}

orch_wait() {
	ORCH_RC=0
	wait "$ORCH_PID" || ORCH_RC=$?
	echo "# exit $ORCH_RC" >&2
}

# wait_exit SECONDS: waits for the background orchestrator to exit; fails if it does not.
wait_exit() {
	local deadline=$((SECONDS + $1))
	while kill -0 "$ORCH_PID" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			show_file orch.err
			fail "the orchestrator is still running $1 s after: $2"
		fi
		sleep 0.05
	done
	orch_wait
}

# expect_rc N: the last orchestrator run exited with N, else fail showing its output.
expect_rc() {
	local want="$1"
	if [ "$ORCH_RC" != "$want" ]; then
		show_file orch.out
		show_file orch.err
		fail "expected exit $want, got $ORCH_RC from: $ORCH_CMD (stderr: $(head -c 300 orch.err | head -n 3 | tr '\n' ' '))"
	fi
}

# expect_one_error [REGEX]: stderr is exactly one line, the documented error prefix, and
# matches the extended REGEX when given. The failed stage's log may follow it (a heading
# line, then lines starting "  | "): it is checked for shape, then left out.
expect_one_error() {
	local re="${1:-}" lines
	if grep -q "^vhs-orchestrate: the last lines of stage " orch.err; then
		sed -n '1!{/^vhs-orchestrate: the last lines of stage /d; /^  | /d; p}' orch.err | grep -q . &&
			{ show_file orch.err 30; fail "stderr has more than the error and the stage's log"; }
		sed -n '1p' orch.err >orch.err.first && mv orch.err orch.err.full && mv orch.err.first orch.err
	fi
	lines="$(wc -l <orch.err)"
	if [ "$lines" != 1 ]; then
		show_file orch.err 30
		fail "expected exactly one line on stderr, got $lines from: $ORCH_CMD"
	fi
	if [[ "$(cat orch.err)" != "$ERROR_PREFIX"* ]]; then
		show_file orch.err
		fail "stderr does not start with '$ERROR_PREFIX': $(cat orch.err)"
	fi
	if [ -n "$re" ] && ! grep -Eq -- "$re" orch.err; then
		fail "error does not match /$re/: $(cat orch.err)"
	fi
}

# expect_no_output FILE: neither FILE nor FILE.part exists.
expect_no_output() {
	[ ! -e "$1" ] || fail "output $1 exists after a failed run"
	[ ! -e "$1.part" ] || fail "$1.part exists after a failed run"
}

# ours PID: true if the process was started by this test: its environment carries the test's
# tag, or its parent is an orchestrator the test started, or its cwd is in the test directory
# (the last two catch stages started with a clean environment).
ours() {
	local p="$1" ppid
	grep -qzxF "VHS_IT_TAG=$VHS_IT_TAG" "/proc/$p/environ" 2>/dev/null && return 0
	ppid="$(awk '/^PPid:/ { print $2 }' "/proc/$p/status" 2>/dev/null)"
	[ -n "$ppid" ] && [ -s "$VHS_TEST_DIR/.orch-pids" ] && grep -qx "$ppid" "$VHS_TEST_DIR/.orch-pids" && return 0
	case "$(readlink "/proc/$p/cwd" 2>/dev/null)/" in "$VHS_TEST_DIR"/*) return 0 ;; esac
	return 1
}

# stage_pid NAME [TIMEOUT_S]: prints the pid of a live vhs-stage-NAME process this test
# started, waiting for one to appear (default 10 s) while the orchestrator runs; empty if
# none does.
stage_pid() {
	local name="$1" deadline=$((SECONDS + ${2:-10})) p f
	while ((SECONDS < deadline)); do
		for f in $(grep -lzE "^(.*/)?vhs-stage-$name\$" /proc/[0-9]*/cmdline 2>/dev/null || true); do
			p="${f#/proc/}"
			p="${p%%/*}"
			if ours "$p"; then
				echo "$p"
				return 0
			fi
		done
		kill -0 "$ORCH_PID" 2>/dev/null || return 0
		sleep 0.05
	done
}

# segments_done DIR: finished segments listed in DIR/manifest.toml (0 without one).
segments_done() {
	[ -s "$1/manifest.toml" ] || { echo 0; return; }
	grep -c '^\[\[segment\]\]' "$1/manifest.toml"
}

# wait_segments DIR N TIMEOUT: waits until the manifest lists N segments.
wait_segments() {
	local deadline=$((SECONDS + $3))
	while (($(segments_done "$1") < $2)); do
		kill -0 "$ORCH_PID" 2>/dev/null || { orch_wait; show_file orch.err; fail "the run ended (exit $ORCH_RC) before $2 segments were done"; }
		((SECONDS < deadline)) || fail "fewer than $2 segments done after $3 s"
		sleep 0.05
	done
}

# expect_video_frames FILE RATE COUNT: FILE's video is at RATE frames a second (r_frame_rate,
# e.g. 60000/1001) and has COUNT frames.
expect_video_frames() {
	local rate n
	rate="$(ffprobe_val "$1" v:0 r_frame_rate)"
	[ "$rate" = "$2" ] || fail "$1: $rate frames a second, not $2"
	n="$(frame_count "$1")"
	[ "$n" = "$3" ] || fail "$1: $n frames, not $3"
}

# ffprobe_val FILE STREAM ENTRY: one value, e.g. ffprobe_val out.mkv v:0 codec_name.
ffprobe_val() {
	ffprobe -v error -select_streams "$2" -show_entries "stream=$3" -of default=nw=1:nk=1 "$1" | head -n 1
}

# stream_types FILE: the codec types of all streams, space separated ("video audio").
stream_types() {
	ffprobe -v error -show_entries stream=codec_type -of default=nw=1:nk=1 "$1" | tr '\n' ' ' | sed 's/ $//'
}

# frame_count FILE: decoded video frames.
frame_count() {
	ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames \
		-of default=nw=1:nk=1 "$1"
}

# video_hashes FILE: per decoded frame "size hash" (no timestamps), from ffmpeg framemd5.
video_hashes() {
	ffmpeg -nostdin -v error -i "$1" -map 0:v -f framemd5 - |
		awk -F', *' '!/^#/ && NF >= 6 { print $5, $6 }'
}

# audio_md5 FILE: md5 of the decoded audio (as pcm_s16le).
audio_md5() {
	ffmpeg -nostdin -v error -i "$1" -map 0:a -f md5 - | sed 's/^MD5=//'
}

# ref_hashes IN VF AF CODEC_ARGS...: the ffmpeg reference for a chain: writes ref.vhash and
# ref.amd5 in the cwd (cached in build/test-media/ref by input, chain and ffmpeg version).
ref_hashes() {
	local in="$1" vf="$2" af="$3"
	shift 3
	local key dir
	key="$( (basename -- "$in"; stat -c %s -- "$in"; printf '%s\n' "$vf" "$af" "$@"; ffmpeg -version | head -n 1) | md5sum | cut -c1-16)"
	dir="$MEDIA_CACHE/ref/$key"
	if [ ! -s "$dir/vhash" ] || [ ! -e "$dir/amd5" ] || { [ -s "$dir/amd5" ] && [ ! -s "$dir/audio.s16" ]; }; then
		local cmd=(ffmpeg -nostdin -v error -y -i "$in" -vf "$vf")
		[ -z "$af" ] || cmd+=(-af "$af")
		cmd+=("$@" ref.mkv)
		show_cmd "${cmd[@]}"
		"${cmd[@]}" 2>ref.err || { show_file ref.err; fail "the ffmpeg reference failed: ${cmd[*]}"; }
		mkdir -p "$dir"
		video_hashes ref.mkv >"$dir/vhash.tmp" && mv "$dir/vhash.tmp" "$dir/vhash"
		if stream_types ref.mkv | grep -w audio >/dev/null; then
			audio_md5 ref.mkv >"$dir/amd5.tmp"
			audio_raw ref.mkv "$dir/audio.s16"
		else
			: >"$dir/amd5.tmp"
		fi
		mv "$dir/amd5.tmp" "$dir/amd5"
		rm -f ref.mkv
	else
		note "reference from cache $dir"
	fi
	cp "$dir/vhash" ref.vhash
	cp "$dir/amd5" ref.amd5
	REF_AUDIO_RAW="$dir/audio.s16"
}

# audio_raw FILE OUT: the decoded audio as raw s16le (for locating a difference).
audio_raw() {
	ffmpeg -nostdin -v error -y -i "$1" -map 0:a -f s16le -c:a pcm_s16le "$2"
}

# audio_diff REF_RAW OURS_RAW: where two raw 48 kHz stereo s16 streams first differ.
audio_diff() {
	local a="$1" b="$2" na nb at
	na=$(($(stat -c %s "$a") / 4)) nb=$(($(stat -c %s "$b") / 4))
	at="$(cmp "$a" "$b" 2>/dev/null | awk '{ print $5 }' | tr -d ,)"
	if [ -n "$at" ]; then
		at=$(((at - 1) / 4))
		echo "ref $na samples, ours $nb; first difference at sample $at ($(awk -v s="$at" 'BEGIN { printf "%.3f", s / 48000 }') s)"
	else
		echo "ref $na samples, ours $nb; one is a prefix of the other"
	fi
}

# compare_video_hashes REF OURS: identical per-frame size+hash lists, else fail with a diff.
compare_video_hashes() {
	local ref="$1" ours="$2" nref nours
	nref="$(wc -l <"$ref")" nours="$(wc -l <"$ours")"
	if ! cmp -s "$ref" "$ours"; then
		echo "    frame hashes differ (ref: $nref frames, ours: $nours frames); first differences (frame: size hash):" >&2
		{ diff <(awk '{ print NR-1 ": " $0 }' "$ref") <(awk '{ print NR-1 ": " $0 }' "$ours") || true; } |
			head -n 12 | sed 's/^/    /' >&2
		local first
		first="$(paste -d' ' "$ref" "$ours" | awk '$1 != $3 || $2 != $4 { print NR-1; exit }')"
		fail "video differs from the ffmpeg reference: ref $nref frames, ours $nours, first differing frame ${first:-(none: length)}"
	fi
	[ "$nref" -gt 0 ] || fail "the reference has no video frames"
}

# stream_span FILE STREAM: "START END PACKETS" of a stream in seconds (min pts, max
# pts+duration over its packets).
stream_span() {
	ffprobe -v error -select_streams "$2" -show_entries packet=pts_time,duration_time \
		-of csv=p=0 "$1" | awk -F, '$1 != "N/A" {
			e = $1 + ($2 == "N/A" ? 0 : $2); if (n == 0 || $1 < s) s = $1; if (e > m) m = e; n++ }
		END { printf "%.6f %.6f %d\n", s, m, n }'
}

# expect_av_sync FILE: audio starts and ends within one video frame of the video (the frame
# duration is the video's span over its frame count; container frame rates can be guesses).
expect_av_sync() {
	local f="$1" v a
	v="$(stream_span "$f" v:0)" a="$(stream_span "$f" a:0)"
	note "A/V sync in $f: video start end frames: $v; audio start end packets: $a"
	awk -v v="$v" -v a="$a" 'BEGIN {
		split(v, V, " "); split(a, A, " "); fd = (V[3] > 0) ? (V[2] - V[1]) / V[3] : 0.04
		ds = V[1] - A[1]; de = V[2] - A[2]; if (ds < 0) ds = -ds; if (de < 0) de = -de
		exit !(ds <= fd + 1e-6 && de <= fd + 1e-6) }' ||
		fail "A/V out of sync in $f: video (start end frames) $v, audio (start end packets) $a: more than one frame apart"
}

# oracle IN JOBARGS...: runs our pipeline on IN with a lossless job (make_job arguments
# override the defaults) and checks it against the equivalent ffmpeg command: identical
# per-frame video hashes, same frame count, identical decoded audio md5, and A/V sync.
oracle() {
	local in="$1"
	shift
	need_bin
	make_job job.toml input="$in" output=out.mkv "$@"
	note "job.toml:"
	sed 's/^/    /' job.toml >&2
	local -A j=([video.filters]="" [audio.filters]="" [upscale.width]=960 [upscale.height]=720
		[encode.pix_fmt]=yuv420p [upscale.model]=lanczos)
	local a
	for a in "$@"; do j[${a%%=*}]="${a#*=}"; done
	local vf="scale=${j[upscale.width]}:${j[upscale.height]}:flags=${j[upscale.model]},format=${j[encode.pix_fmt]}"
	[ -z "${j[video.filters]}" ] || vf="${j[video.filters]},$vf"
	ref_hashes "$in" "$vf" "${j[audio.filters]}" -c:v ffv1 -c:a pcm_s16le

	orch run --progress=none job.toml
	expect_rc 0
	[ -s out.mkv ] || fail "exit 0 but no out.mkv"
	video_hashes out.mkv >ours.vhash
	compare_video_hashes ref.vhash ours.vhash
	if [ -s ref.amd5 ]; then
		audio_md5 out.mkv >ours.amd5
		if ! cmp -s ref.amd5 ours.amd5; then
			local rs where=""
			rs="$(ffprobe -v error -select_streams a:0 -show_entries stream=sample_rate,channels,sample_fmt -of compact=p=0:nk=0 out.mkv)"
			if [ -s "$REF_AUDIO_RAW" ]; then
				audio_raw out.mkv ours.s16
				where="$(audio_diff "$REF_AUDIO_RAW" ours.s16)"
			fi
			fail "audio differs from the ffmpeg reference: ${where:+$where; }ours is $rs"
		fi
		expect_av_sync out.mkv
	else
		if stream_types out.mkv | grep -w audio >/dev/null; then fail "the reference has no audio but our output does"; fi
	fi
}

# ---------------------------------------------------------------------------------------------
# The harness itself.
# ---------------------------------------------------------------------------------------------

# run_one FILE FUNC: inside the test's process: loads the file and runs one test.
run_one() {
	local file="$1" func="$2"
	# shellcheck disable=SC1090
	source "$file"
	set -eEuo pipefail
	trap 'rc=$?; [ -s "$VHS_TEST_DIR/.reason" ] || printf "line %s: command failed (exit %s): %s\n" "$LINENO" "$rc" "$BASH_COMMAND" >"$VHS_TEST_DIR/.reason"' ERR
	"$func"
	exit 0
}

# list_tests FILE: the test functions a file defines, in file order.
list_tests() {
	grep -oE '^(function[[:space:]]+)?test_[A-Za-z0-9_]+[[:space:]]*\(\)' "$1" |
		sed -E 's/^function[[:space:]]+//; s/[[:space:]]*\(\)$//'
}

# tagged_pids TAG: live processes carrying the test's tag in their environment, and vhs-*
# processes that are the test's by ours(): what the test left running.
tagged_pids() {
	local tag="$1" f p
	{
		grep -lzxF "VHS_IT_TAG=$tag" /proc/[0-9]*/environ 2>/dev/null || true
		for f in $(grep -lzE '^(.*/)?vhs-(stage-[a-z]+|orchestrate)$' /proc/[0-9]*/cmdline 2>/dev/null || true); do
			p="${f#/proc/}"
			p="${p%%/*}"
			VHS_IT_TAG="$tag" ours "$p" && echo "$f"
		done
	} | sed -E 's|^/proc/([0-9]+)/.*|\1|' | sort -un | grep -vx "$$" || true
}

# debris TESTDIR TAG: prints one line per leftover; empty when clean.
debris() {
	local tdir="$1" tag="$2" p f
	local VHS_TEST_DIR="$tdir"
	if [ -s "$tdir/.orch-pids" ]; then
		while read -r p; do
			for f in /dev/shm/vhs-"$p"-*; do
				[ -e "$f" ] && echo "shared memory object $f"
			done
		done <"$tdir/.orch-pids"
	fi
	find "$tdir" -name 'vhs-run.*' -print 2>/dev/null | sed 's/^/run dir /' 
	find "$tdir" -name '*.part' -print 2>/dev/null | sed 's/^/partial output /'
	# temp files of the temp writer (.NAME.XXXXXX) anywhere; in a work dir, nothing but the
	# manifest and the files of the segments it lists
	find "$tdir" -name '.*.??????' -type f -print 2>/dev/null | sed 's/^/temp file /'
	local w n
	while IFS= read -r w; do
		[ -s "$w/manifest.toml" ] || { echo "work dir without a manifest: $w"; continue; }
		for f in "$w"/*; do
			[ -e "$f" ] || continue
			n="${f##*/}"
			case "$n" in
			manifest.toml | audio.analysis | video.analysis) ;; # kept for --resume
			[va][0-9][0-9][0-9][0-9][0-9][0-9].vseg | [va][0-9][0-9][0-9][0-9][0-9][0-9].pcm)
				grep -qx "index = $((10#${n:1:6}))" "$w/manifest.toml" || echo "unfinished segment file $f" ;;
			*) echo "stray file in a work dir: $f" ;;
			esac
		done
	done < <(find "$tdir" -type d -name '*.vhs-work' 2>/dev/null)
	local pids
	pids="$(tagged_pids "$tag")"
	if [ -n "$pids" ]; then
		sleep 0.3 # let init reap what is exiting right now
		pids="$(tagged_pids "$tag")"
	fi
	for p in $pids; do
		echo "process $p still running: $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | cut -c1-120)"
	done
}

# kill_tagged TESTDIR TAG: ends the leftover processes a test started (by pid, not by name).
kill_tagged() {
	local VHS_TEST_DIR="$1" p
	shift
	for p in $(tagged_pids "$1"); do kill -KILL "$p" 2>/dev/null || true; done
}

# remove_shm TESTDIR: removes the shared-memory objects of the test's orchestrators (debris
# already reported), so they do not pile up.
remove_shm() {
	local p
	[ -s "$1/.orch-pids" ] || return 0
	while read -r p; do rm -f /dev/shm/vhs-"$p"-*; done <"$1/.orch-pids"
}

# select_files ARGS...: prints the test files to run: those the arguments name, or all.
select_files() {
	local picked=() a f
	for a in "$@"; do
		f="$(file_for "$a")"
		[ -z "$f" ] || picked+=("$f")
	done
	((${#picked[@]})) || picked=("$IT_DIR"/test_*.sh)
	for f in "${picked[@]}"; do [ -f "$f" ] && printf '%s\n' "$f"; done
}

# file_for ARG: the test file an argument names (oracle, test_oracle, test_oracle.sh), if any.
file_for() {
	local base="${1##*/}"
	base="${base%.sh}"
	base="${base#test_}"
	[ ! -f "$IT_DIR/test_$base.sh" ] || echo "$IT_DIR/test_$base.sh"
}

# FUNC_GLOBS: the arguments that name no file: globs over test function names.
FUNC_GLOBS=()
set_func_globs() {
	local a
	for a in "$@"; do
		[ -n "$(file_for "$a")" ] || FUNC_GLOBS+=("$a")
	done
}

selected() {
	((${#FUNC_GLOBS[@]})) || return 0
	local g
	for g in "${FUNC_GLOBS[@]}"; do
		# shellcheck disable=SC2053
		[[ "$1" == $g || "$1" == test_$g ]] && return 0
	done
	return 1
}

main() {
	set -uo pipefail
	local timeout_s="${VHS_IT_TIMEOUT:-120}"
	local suite_id suite_dir passed=0 failed=0 skipped=0 files file func
	suite_id="$(date +%Y%m%d-%H%M%S)-$$"
	suite_dir="$(mktemp -d "${TMPDIR:-/tmp}/vhs-it.XXXXXX")"
	set_func_globs "$@"
	mapfile -t files < <(select_files "$@")
	((${#files[@]})) || { echo "run.sh: no test files in $IT_DIR" >&2; exit 2; }
	local t0=$SECONDS
	for file in "${files[@]}"; do
		while read -r func; do
			selected "$func" || continue
			local tdir="$suite_dir/$func" tag="$suite_id:$func" rc reason start
			mkdir -p "$tdir/tmp"
			start=$(date +%s.%N)
			(
				cd "$tdir" &&
					VHS_IT_TAG="$tag" VHS_TEST_DIR="$tdir" TMPDIR="$tdir/tmp" \
						exec timeout -k 5 "$timeout_s" bash "$IT_DIR/run.sh" --run-one "$file" "$func"
			) >"$tdir/log" 2>&1 </dev/null
			rc=$?
			local took
			took="$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1fs", e - s }')"
			reason="$(head -n 1 "$tdir/.reason" 2>/dev/null || true)"
			if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
				reason="timed out after ${timeout_s}s (hang?)${reason:+; $reason}"
				rc=1
			fi
			local junk
			junk="$(debris "$tdir" "$tag")"
			if [ -n "$junk" ]; then
				kill_tagged "$tdir" "$tag"
				remove_shm "$tdir"
				reason="left debris: $(echo "$junk" | head -n 3 | paste -sd ';' -)${reason:+; $reason}"
				[ "$rc" = 77 ] && rc=1
				[ "$rc" = 0 ] && rc=1
			fi
			case "$rc" in
			0)
				echo "ok $func  # $took"
				passed=$((passed + 1))
				[ -n "${VHS_IT_KEEP:-}" ] || rm -rf "$tdir"
				;;
			77)
				echo "skip $func: ${reason:-no reason given}"
				skipped=$((skipped + 1))
				[ -n "${VHS_IT_KEEP:-}" ] || rm -rf "$tdir"
				;;
			*)
				echo "FAIL $func: ${reason:-exit $rc}"
				sed 's/^/    /' "$tdir/log" | tail -n 40
				echo "    (test dir kept: $tdir)"
				failed=$((failed + 1))
				;;
			esac
		done < <(list_tests "$file")
	done
	rmdir "$suite_dir" 2>/dev/null || true
	echo "# $((SECONDS - t0)) s"
	echo "$passed passed, $failed failed, $skipped skipped"
	((failed == 0))
}

# Sourced (to use the helpers by hand): define only.
if [ "${BASH_SOURCE[0]}" != "$0" ]; then
	return 0
elif [ "${1:-}" = "--run-one" ]; then
	shift
	run_one "$@"
else
	main "$@"
fi
