# test_workers.sh: several workers per stage (issue 4). A segment stays with one worker per
# stage, so whatever the counts, the output must be the same bits: the ffmpeg oracle for
# lossless jobs, and the same packets for x264 + AAC. Also "auto" workers, the memory
# budget, and bad values. Run by tests/integration/run.sh, which checks after each test
# that no process, shared-memory object, run dir or temp file is left.

# Every stage with workers, uneven counts, 0.5 s segments on 8 s of NTSC DV: one decode
# worker makes three segments at once, interleaved; upscale and encode workers each hold
# several; the result is the one ffmpeg command's.
test_workers_uneven_counts_match_oracle() {
	oracle "$(tape ntsc 8 dv)" video.filters="bwdif=mode=send_field,eq=contrast=1.1,crop=704:464:8:8" \
		upscale.width=720 upscale.height=540 audio.filters="volume=0.8" run.segment_seconds=0.5 \
		stages.decode.workers=1 stages.preprocess.workers=3 stages.upscale.workers=2 \
		stages.audio.workers=1 stages.encode.workers=2
	grep -q "workers: decode 1, preprocess 3, upscale 2, audio 1, encode 2" orch.err ||
		fail "the run did not say its worker plan: $(cat orch.err)"
}

# More workers than segments, several decode workers, one thread each: idle workers end
# cleanly, segments past the end are answered (NONE) by whichever decode worker got them.
test_workers_more_than_segments() {
	oracle "$(tape pal 3 dv)" video.filters="yadif" upscale.width=720 upscale.height=576 \
		run.segment_seconds=1 stages.decode.workers=4 stages.decode.threads=1 \
		stages.preprocess.workers=5 stages.preprocess.threads=1 stages.encode.workers=4
}

# A long-GOP capture cut into segments (some empty: two cuts in one GOP) and made by three
# decode workers: still the oracle's frames.
test_workers_long_gop_decode_workers() {
	need_bin
	ffmpeg -nostdin -v error -y -i "$(tape ntsc 8 dv)" -c:v libx264 -g 45 -bf 3 -flags +ilme+ildct \
		-c:a pcm_s16le lgop.mkv || fail "cannot make the long-GOP capture"
	oracle lgop.mkv video.filters="bwdif=mode=send_field" upscale.width=720 upscale.height=540 \
		run.segment_seconds=1 stages.decode.workers=3 stages.preprocess.workers=2
}

# Lossy output: libx264 + AAC with a deinterlacer, a temporal denoiser and tape audio
# filters, one worker per stage against several: every frame is there, the audio is in
# sync, and the two files carry the same packets (x264's thread count does not follow the
# workers, and x264 runs without its AVX-512 routines, which made a process's later
# encoders depend on memory they had not written).
test_workers_x264_same_packets_and_sync() {
	need_bin
	local in
	in="$(tape ntsc 3 dv)"
	local job=(input="$in" video.filters="yadif,hqdn3d=3:2:3:2" audio.filters="highpass=f=100,afftdn=nf=-25"
		encode.codec=libx264 encode.preset=veryfast encode.audio_codec=aac upscale.width=960
		upscale.height=720 run.segment_seconds=1)
	make_job one.toml output=one.mkv "${job[@]}"
	orch run --progress=none one.toml
	expect_rc 0
	make_job many.toml output=many.mkv "${job[@]}" stages.decode.workers=2 stages.preprocess.workers=3 \
		stages.upscale.workers=2 stages.audio.workers=2 stages.encode.workers=3
	orch run --progress=none many.toml
	expect_rc 0
	ffmpeg -nostdin -v error -i one.mkv -map 0 -c copy -f framemd5 - | grep -v '^#' >one.pkt
	ffmpeg -nostdin -v error -i many.mkv -map 0 -c copy -f framemd5 - | grep -v '^#' >many.pkt
	cmp -s one.pkt many.pkt || fail "packets differ between one and several workers: $(diff one.pkt many.pkt | head -3 | tr '\n' ' ')"
	local want got
	want="$(ffmpeg -nostdin -v error -i "$in" -map 0:v -vf yadif -f framemd5 - | grep -vc '^#')"
	got="$(frame_count many.mkv)"
	[ "$got" = "$want" ] || fail "$got frames, the deinterlaced capture has $want"
	expect_av_sync many.mkv
}

# workers = "auto" on every stage with a slow denoiser: the run measures, says what it saw
# and chose, starts again with the counts chosen (keeping finished segments), and the
# output is still the oracle's.
test_workers_auto_chooses_and_stays_exact() {
	oracle "$(tape ntsc 4 dv)" video.filters="yadif,nlmeans=s=2:p=3:r=9" upscale.width=720 upscale.height=480 \
		run.segment_seconds=0.5 stages.decode.workers=auto stages.preprocess.workers=auto \
		stages.upscale.workers=auto stages.audio.workers=auto stages.encode.workers=auto
	grep -q "auto workers: over [0-9.]* s on [0-9]* cores: decode 1 busy" orch.err ||
		fail "auto did not report what it measured: $(cat orch.err)"
	if (($(nproc) > 1)); then
		grep -Eq "auto workers: .* now .*preprocess [2-9]" orch.err ||
			fail "auto did not give the slow preprocess stage more workers: $(grep auto orch.err)"
	fi
}

# A plan over [run] max_memory with explicit counts is refused, saying what it needs;
# nothing is left behind.
test_workers_memory_budget_refused() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" upscale.width=1440 upscale.height=1080 \
		run.max_memory=200M stages.preprocess.workers=6 stages.encode.workers=6
	orch run --progress=none job.toml
	expect_rc 3
	expect_one_error "the plan needs [0-9]+ MiB .*max_memory allows 200 MiB"
	expect_no_output out.mkv
	[ ! -e out.mkv.vhs-work ] || fail "a work dir is left after a refused plan"
}

# A budget a little short for the ring slots asked for: auto stages and ring slots are cut
# down (a warning says to what) and the run completes with the same bits.
test_workers_memory_budget_reduces() {
	need_bin
	local base
	make_job job.toml input="$(tape ntsc 2 dv)" run.ring_slots=64 run.max_memory=8G stages.decode.workers=2 \
		stages.preprocess.workers=2 stages.upscale.workers=2 stages.encode.workers=2
	orch run --progress=none job.toml
	expect_rc 0
	base="$(grep -o 'memory about [0-9]*' orch.err | grep -o '[0-9]*$')"
	[ -n "$base" ] || fail "no memory line: $(cat orch.err)"
	make_job small.toml input="$(tape ntsc 2 dv)" output=small.mkv run.ring_slots=64 \
		run.max_memory="$((base * 3 / 4))M" stages.decode.workers=2 stages.preprocess.workers=2 \
		stages.upscale.workers=2 stages.encode.workers=2
	orch run --progress=none small.toml
	expect_rc 0
	grep -q "reduced to fit \[run\] max_memory" orch.err || fail "no reduction reported: $(cat orch.err)"
	video_hashes out.mkv >a.vhash
	video_hashes small.mkv >b.vhash
	compare_video_hashes a.vhash b.vhash
	note "memory: $base MiB planned with 64 slots per segment; fitted into $((base * 3 / 4)) MiB"
}

# Bad values are refused at load time, with the key's place.
test_workers_bad_values() {
	need_bin
	make_job job.toml input="$(tape ntsc 2 dv)" stages.preprocess.threads=0
	orch run job.toml
	expect_rc 3
	expect_one_error "job.toml:[0-9]+:[0-9]+: 'threads' in \[stages.preprocess\] must be \"auto\" or between 1 and 256, not 0"
	make_job job.toml input="$(tape ntsc 2 dv)" run.max_memory=lots
	orch run job.toml
	expect_rc 3
	expect_one_error "'max_memory' in \[run\] must be \"auto\", a percentage"
	make_job job.toml input="$(tape ntsc 2 dv)" stages.encode.workers=0
	orch run job.toml
	expect_rc 3
	expect_one_error "'workers' in \[stages.encode\] must be \"auto\" or between 1 and 256, not 0"
}
