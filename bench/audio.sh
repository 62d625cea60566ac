#!/usr/bin/env bash
# audio.sh: `make bench-audio`, the tape audio enhancement's figures (issue 7; results in
# bench/RESULTS.md).
#
# (a) Quality: runs the acceptance tests (tests/integration/test_audio.sh) and prints every
#     figure they measured with ffmpeg's own meters (ebur128, astats, band-passes; never the
#     project's code), test by test: hum, hiss and click reduction, loudness, true peak,
#     the clean tapes' levels, sync. The tests judge; this only collects their numbers.
# (b) Speed: a 10-minute tape (tests/media/make_audio_tape.sh: Hi-Fi stereo music with 60 Hz
#     hum, hiss and clicks; a 160x120 video so that the audio dominates), the moderate
#     preset into FLAC, against the same job with enhance = "none" (the audio stage then only
#     converts), BENCH_RUNS rounds in alternating order. From --stats and the run's lines:
#     the whole-track analysis (wall), the audio stage (CPU user+sys of its process; with
#     its 3 s of warm-up either side of each 10 s segment it processes 1.6x the tape) and the
#     mux (which runs the loudness passes and encodes the audio), as x realtime.
#
# Environment: BENCH_RUNS (default 3), BENCH_PARTS ("quality speed", default both),
# BENCH_KEEP=1 keeps build/bench/audio, VHS_BIN_DIR.
set -euo pipefail

ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
BIN_DIR="${VHS_BIN_DIR:-$ROOT/build/bin}"
WORK="$ROOT/build/bench/audio"
RUNS="${BENCH_RUNS:-3}"
SECONDS_10MIN=600
read -r -a PARTS <<<"${BENCH_PARTS:-quality speed}"

die() {
	echo "bench-audio: $*" >&2
	exit 1
}

# quality: the acceptance tests, kept, and the figures from their logs.
quality() {
	local suite log t
	mkdir -p "$WORK/it"
	echo "## (a) quality: tests/integration/test_audio.sh"
	TMPDIR="$WORK/it" VHS_IT_KEEP=1 "$ROOT/tests/integration/run.sh" audio | grep -E '^(ok|FAIL|skip)|passed'
	suite="$(ls -td "$WORK"/it/vhs-it.* | head -n 1)"
	for log in "$suite"/test_*/log; do
		t="$(basename "$(dirname "$log")")"
		echo
		echo "### $t"
		grep -E '^# .* = .* \(want ' "$log" | sed 's/^# /- /' || true
		grep -E '^    vhs-orchestrate: (audio|mux): ' "$log" | sed 's/^    /  /' | sort -u || true
	done
}

# one_run NAME ENHANCE: one timed run of the 10-minute job; appends "NAME wall analysis
# audio_cpu mux_cpu" to $WORK/speed.txt.
one_run() {
	local name="$1" enhance="$2" t0 t1 wall an acpu mcpu
	rm -rf "$WORK/out.mkv" "$WORK/out.mkv.vhs-work"
	t0=$(date +%s.%N)
	"$BIN_DIR/vhs-orchestrate" run --force --progress=none --stats --set "audio.enhance=$enhance" \
		"$WORK/job.toml" 2>"$WORK/$name.err" || { cat "$WORK/$name.err" >&2; die "the $name run failed"; }
	t1=$(date +%s.%N)
	wall="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')"
	an="$(grep -E '^vhs-orchestrate: audio: ' "$WORK/$name.err" | grep -v analysing |
		sed -nE 's/.*\(([0-9.]+) s\)$/\1/p' | head -n 1 || true)"
	acpu="$(awk '/^stats: audio /{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.2f", v["cpu_user"] + v["cpu_sys"] }' "$WORK/$name.err")"
	mcpu="$(awk '/^stats: mux /{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } printf "%.2f", v["cpu_user"] + v["cpu_sys"] }' "$WORK/$name.err")"
	echo "$name $wall ${an:-0} $acpu $mcpu" >>"$WORK/speed.txt"
	grep -E '^vhs-orchestrate: (audio|mux): ' "$WORK/$name.err" | grep -v analysing >"$WORK/$name.lines" || true
}

speed() {
	local r
	mkdir -p "$WORK"
	[ -s "$WORK/tape.mkv" ] ||
		"$ROOT/tests/media/make_audio_tape.sh" --seconds "$SECONDS_10MIN" --hum 60 --hiss --clicks \
			--stereo hifi "$WORK/tape.mkv" >/dev/null
	cat >"$WORK/job.toml" <<-EOF
		# bench/audio.sh: 10 minutes of Hi-Fi stereo with hum, hiss and clicks.
		input = "tape.mkv"
		output = "out.mkv"
		preset = "none"
		[upscale]
		width = 160
		height = 120
		[encode]
		codec = "ffv1"
		audio_codec = "flac"
	EOF
	: >"$WORK/speed.txt"
	for ((r = 0; r < RUNS; r++)); do
		if ((r % 2)); then
			one_run moderate moderate
			one_run none none
		else
			one_run none none
			one_run moderate moderate
		fi
	done
	echo
	echo "## (b) speed: $SECONDS_10MIN s of 48 kHz stereo, $RUNS rounds (medians)"
	echo
	echo "| enhance | run wall s | analysis s | audio stage CPU s | x realtime (audio CPU) | mux CPU s |"
	echo "|---|---|---|---|---|---|"
	for name in none moderate; do
		awk -v n="$name" -v len="$SECONDS_10MIN" '
			$1 == n { w[++k] = $2; a[k] = $3; c[k] = $4; m[k] = $5 }
			function med(x, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t } return x[int((n + 1) / 2)] }
			END { printf "| %s | %.1f | %.2f | %.1f | %.0fx | %.1f |\n", n, med(w, k), med(a, k),
				med(c, k), len / med(c, k), med(m, k) }' "$WORK/speed.txt"
	done
	echo
	echo "The moderate run said:"
	sed 's/^/    /' "$WORK/moderate.lines"
}

main() {
	[ -x "$BIN_DIR/vhs-orchestrate" ] || die "build first (make)"
	echo "# bench-audio, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
	for part in "${PARTS[@]}"; do
		case "$part" in
		quality) quality ;;
		speed) speed ;;
		*) die "unknown part '$part' (quality, speed)" ;;
		esac
	done
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$WORK/it" "$WORK/out.mkv"
}

main "$@"
