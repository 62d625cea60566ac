# test_progress.sh: live observability of `run` (issue 8, part 2): --progress=json writes
# one JSON object per update on stdout, read back by a JSON parser (python3's json module),
# with the run's and each stage's figures; --verbose adds a line per stage and per ring
# under the progress line. Run by tests/integration/run.sh.

# A 4 s NTSC DV job with a slow-ish chain, so updates come while frames flow.
progress_job() {
	make_job job.toml input="$(tape ntsc 4 dv)" video.filters="bwdif=mode=send_field,hqdn3d=3:2:3:2" \
		upscale.width=720 upscale.height=540 run.segment_seconds=1
}

test_progress_json_lines() {
	need_bin
	progress_job
	orch run --progress=json job.toml
	expect_rc 0
	python3 - orch.out <<'PY' || { show_file orch.out 5; fail "the JSON progress lines are wrong (see above)"; }
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no progress lines on stdout"
objs = [json.loads(l) for l in lines]          # every line is one JSON object
frames = [o["frames"] for o in objs]
assert frames == sorted(frames), f"frames go back: {frames}"
last = objs[-1]
assert last["done"] is True and all(o["done"] is False for o in objs[:-1]), "done only on the last"
assert last["total"] > 0 and last["frames"] == last["total"], (last["frames"], last["total"])
assert last["percent"] == 100.0, last["percent"]
names = [s["name"] for s in last["stages"]]
assert names == ["decode", "preprocess", "upscale", "audio", "encode"], names
for o in objs:
    for s in o["stages"]:
        for k in ("busy", "waiting_for_input", "blocked_on_output"):
            assert 0 <= s[k] <= 1, (s["name"], k, s[k])
        assert s["fps"] >= 0 and s["workers"] == 1
    for r in o["rings"]:
        assert 0 <= r["full"] <= r["slots"], r
assert {r["edge"] for r in last["rings"]} >= {"decode.video", "preprocess.video", "upscale.video"}
assert any(s["fps"] > 0 for o in objs for s in o["stages"]), "no stage ever moved"
print(f"{len(objs)} lines, last: {last['frames']} frames, {last['fps']} fps", file=sys.stderr)
PY
	grep -q '^progress:' orch.err && fail "json mode also wrote the progress line to stderr"
	return 0
}

test_progress_verbose_log() {
	need_bin
	progress_job
	orch run --progress=log --verbose job.toml
	expect_rc 0
	local stage
	for stage in decode preprocess upscale audio encode; do
		grep -qE "^  $stage +x1 +[0-9.]+ fps  busy +[0-9]+%  waiting for input +[0-9]+%  blocked on output +[0-9]+%" orch.err ||
			{ show_file orch.err 30; fail "no verbose line for $stage"; }
	done
	grep -qE '^  ring decode.video +[0-9]+/8$' orch.err || { show_file orch.err 30; fail "no ring line"; }
}

test_progress_bad_mode() {
	need_bin
	progress_job
	orch run --progress=xml job.toml
	expect_rc 2
	expect_one_error "--progress=xml: expected auto, bar, log, json or none"
}

# Each stage's stderr goes to its log in the run dir; when the stage fails the run, the
# log's last lines follow the one-line error (here libavfilter's own word on the chain).
test_stage_log_shown_on_failure() {
	need_bin
	progress_job
	orch run --progress=none --set video.filters=bwdif,nosuchfilter=3 job.toml
	expect_rc 3
	expect_one_error "^vhs-orchestrate: error: preprocess: invalid filter chain"
	grep -q "^vhs-orchestrate: the last lines of stage preprocess.0's log:$" orch.err.full ||
		{ show_file orch.err.full; fail "the failed stage's log is not shown"; }
	grep -q "^  | No such filter: 'nosuchfilter'$" orch.err.full ||
		{ show_file orch.err.full; fail "the log does not hold libavfilter's message"; }
}

# A stage killed by a signal wrote nothing but the line saying it started: the run fails
# with the crash's one line and shows no empty log.
test_stage_log_not_shown_when_empty() {
	need_bin
	progress_job
	VHS_TEST_CRASH=upscale:20 orch run --progress=none --set run.restart_limit=0 job.toml
	expect_rc 6
	grep -q "the last lines of stage" orch.err && { show_file orch.err; fail "a log with nothing in it was shown"; }
	return 0
}
