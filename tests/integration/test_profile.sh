# test_profile.sh: `vhs-orchestrate profile` (issue 8): a known delay in one stage
# (VHS_TEST_DELAY, the stage runtime's test hook) must come out as the bottleneck with its
# frame time; the JSON and trace files are read back with python3's json module; --stage
# replays a stage alone; --frames cuts the input; bad options fail with one line. Run by
# tests/integration/run.sh.

DELAY_MS=20

# A 4 s NTSC DV job whose stages are all cheap next to the delay: no upscaling work to speak
# of (720x480 to 720x540), a light chain, lossless output.
profile_job() {
	make_job job.toml input="$(tape ntsc 4 dv)" video.filters="bwdif=mode=send_field" \
		upscale.width=720 upscale.height=540 run.segment_seconds=1 "$@"
}

# check_profile DIR: the four files exist, both JSON files parse, the trace has a slice per
# frame per stage instance with a positive length, the page has its charts.
check_profile_files() {
	local dir="$1"
	for f in profile.txt profile.json trace.json report.html; do
		[ -s "$dir/$f" ] || fail "$dir/$f is missing or empty"
	done
	python3 - "$dir" <<'PY' || fail "the profile's files are wrong (see above)"
import json, sys, collections
d = sys.argv[1]
prof = json.load(open(f"{d}/profile.json"))
trace = json.load(open(f"{d}/trace.json"))
names = {e["tid"]: e["args"]["name"] for e in trace["traceEvents"] if e["ph"] == "M" and e["name"] == "thread_name"}
slices = collections.Counter()
for e in trace["traceEvents"]:
    assert e["ph"] in ("M", "X", "C"), e
    if e["ph"] == "X":
        assert e["dur"] > 0 and e["ts"] >= 0, e
        slices[names[e["tid"]]] += 1
for st in prof["stages"]:
    for inst in st["instances"]:
        if st["name"] != "mux":
            assert slices[inst["name"]] == inst["frames"] > 0, (inst["name"], slices[inst["name"]], inst["frames"])
        for k in ("busy", "waiting_for_input", "blocked_on_output"):
            assert 0 <= inst[k] <= 1, (inst["name"], k, inst[k])
        assert inst["cpu_s"] > 0 and inst["peak_rss_mib"] > 0, inst
counters = [e for e in trace["traceEvents"] if e["ph"] == "C"]
assert counters and all(e["name"].startswith("ring ") for e in counters)
t = prof["timeline"]
assert len(t["t_s"]) > 3 and all(len(v) == len(t["t_s"]) for v in t["frames"].values())
html = open(f"{d}/report.html").read()
assert html.count("<svg") >= 3 and "<polyline" in html, "charts missing"
assert "src=" not in html and "href=" not in html, "a network resource in the page"
PY
}

test_profile_finds_the_delayed_stage() {
	need_bin
	profile_job
	VHS_TEST_DELAY="upscale:$DELAY_MS" orch profile --progress=none job.toml
	expect_rc 0
	check_profile_files job.profile
	python3 - job.profile/profile.json "$DELAY_MS" <<'PY' || { show_file orch.out 20; fail "the profile does not report the delay (see above)"; }
import json, sys
prof = json.load(open(sys.argv[1])); delay = float(sys.argv[2])
assert prof["bottleneck"]["stage"] == "upscale", prof["bottleneck"]
up = next(s for s in prof["stages"] if s["name"] == "upscale")
p50 = up["frame_ms"]["p50"]
assert abs(p50 - delay) <= 0.1 * delay, f"upscale p50 {p50} ms, the delay is {delay} ms"
assert up["busy"] > 0.8, up["busy"]
pre = next(s for s in prof["stages"] if s["name"] == "preprocess")
assert pre["blocked_on_output"] > 0.5, pre
print(f"upscale p50 {p50:.2f} ms (delay {delay} ms), busy {up['busy']:.2f}; {prof['bottleneck']['why']}", file=sys.stderr)
PY
	grep -q "^bottleneck: upscale is busy" orch.out || fail "the printed table does not name upscale"
	grep -q "^bottleneck: upscale" job.profile/profile.txt || fail "profile.txt does not name upscale"
	[ -s job.profile/out.mkv ] || fail "the profile run's output is not in the profile directory"
	[ ! -e out.mkv ] || fail "the profile wrote the job's real output"
	[ ! -e job.profile/work ] || fail "the profile's work dir was left"
	local st
	for st in decode preprocess upscale audio encode mux; do
		grep -q "^--- $st.0: pid [0-9]*, " "job.profile/logs/$st.0.log" || fail "no log of $st.0 kept in job.profile/logs"
	done
}

test_profile_bottleneck_moves_with_the_delay() {
	need_bin
	profile_job
	# decode makes a frame for two of encode's (bwdif sends a frame per field), which takes
	# about 13 ms each here: 20 ms would leave the two even, 40 ms makes decode the limit
	VHS_TEST_DELAY="decode:40" orch profile --progress=none --out p job.toml
	expect_rc 0
	python3 -c 'import json,sys; b=json.load(open("p/profile.json"))["bottleneck"]; assert b["stage"]=="decode", b' ||
		{ show_file orch.out 20; fail "a delayed decode is not the bottleneck"; }
}

test_profile_isolated_stage() {
	need_bin
	profile_job
	orch profile --progress=none --stage preprocess --frames 60 job.toml
	expect_rc 0
	check_profile_files job.profile
	python3 - job.profile/profile.json <<'PY' || { show_file orch.out 20; fail "the isolated run's figures are wrong (see above)"; }
import json, sys
prof = json.load(open(sys.argv[1]))
iso = prof["isolated"]
assert iso and iso["name"] == "preprocess" and iso["workers"] == 1, iso
pre = next(s for s in prof["stages"] if s["name"] == "preprocess")
assert iso["replayed_frames"] == pre["frames"] > 0, (iso["replayed_frames"], pre["frames"])
assert iso["frames"] == iso["replayed_frames"], iso
assert iso["standalone_fps"] > 0 and iso["frame_ms"]["p50"] > 0, iso
assert prof["frames"] == 120, prof["frames"]   # 60 frames in, bwdif sends a frame per field
PY
	grep -q "^isolated: preprocess x1 alone" orch.out || fail "the table has no isolated line"
	[ ! -e job.profile/spool ] || fail "the recording was left in the profile directory"
	ls /dev/shm | grep -q "^vhs-" && fail "shared memory left: $(ls /dev/shm | grep '^vhs-')"
	return 0
}

test_profile_isolated_source_and_sink() {
	need_bin
	profile_job
	local st
	for st in decode encode; do
		orch profile --progress=none --stage "$st" --frames 30 --out "p-$st" job.toml
		expect_rc 0
		grep -q "^isolated: $st x1 alone" orch.out || { show_file orch.out; fail "no isolated line for $st"; }
	done
}

test_profile_frames_cuts_the_input() {
	need_bin
	profile_job video.filters=hqdn3d
	orch profile --progress=none --frames 25 job.toml
	expect_rc 0
	local n
	n="$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames -of csv=p=0 job.profile/out.mkv)"
	[ "$n" = 25 ] || fail "--frames 25 made $n frames"
}

test_profile_bad_options() {
	need_bin
	profile_job
	orch profile --stage mux job.toml
	expect_rc 2
	expect_one_error "--stage mux: expected decode, preprocess, upscale, audio or encode"
	orch profile --frames 0 job.toml
	expect_rc 2
	expect_one_error "--frames 0: expected a number of frames"
	orch run --stage upscale job.toml
	expect_rc 2
	expect_one_error "option '--stage' is not one of 'run'"
	orch profile --out /proc/no-such-dir job.toml
	expect_rc 5
	expect_one_error "cannot create the profile directory '/proc/no-such-dir'"
}
