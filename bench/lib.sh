# shellcheck shell=bash disable=SC2034
# lib.sh: the reference job of the benchmarks, sourced by bench/run.sh and bench/crash.sh.
#
# The job of issue 2: 480i NTSC DV with PCM audio from tests/media/make_tape.sh, the chain
# bwdif + hqdn3d + eq, 1440x1080 lanczos, the audio chain below, and one of two encodings:
#   x264  libx264 fast crf 18 yuv420p, aac 192k (the reference)
#   ffv1  ffv1 yuv420p, pcm_s16le (lossless: encoding no longer dwarfs the rest)
# Defines VF, AF, WIDTH, HEIGHT and the functions below; needs ROOT (the repository root).

# die MESSAGE: the benchmark stops, saying why.
die() {
	echo "bench: $*" >&2
	exit 1
}

VF="bwdif=mode=send_field,hqdn3d=3:2:3:2,eq=contrast=1.1:brightness=0.05:saturation=1.05"
AF="highpass=f=100,lowpass=f=15000,afftdn=nf=-25,dynaudnorm=f=200:g=15"
WIDTH=1440 HEIGHT=1080

# encode_settings x264|ffv1: sets ENC_TOML (the [encode] keys), ENC_ARGS (the same as ffmpeg
# arguments) and ENC_DESC (one line for reports).
encode_settings() {
	if [ "$1" = ffv1 ]; then
		ENC_TOML=$'codec = "ffv1"\npreset = ""\ncrf = -1\npix_fmt = "yuv420p"\naudio_codec = "pcm_s16le"\naudio_bitrate = ""'
		ENC_ARGS=(-c:v ffv1 -c:a pcm_s16le)
		ENC_DESC="ffv1 yuv420p, pcm_s16le"
	else
		ENC_TOML=$'codec = "libx264"\npreset = "fast"\ncrf = 18\npix_fmt = "yuv420p"\naudio_codec = "aac"\naudio_bitrate = "192k"'
		ENC_ARGS=(-c:v libx264 -preset fast -crf 18 -c:a aac -b:a 192k)
		ENC_DESC="libx264 fast crf 18 yuv420p, aac 192k"
	fi
}

# write_job FILE OUTPUT: the reference job reading tape.avi beside FILE (call encode_settings
# first). Settings that vary between runs are given with --set on the command line.
write_job() {
	cat >"$1" <<-EOF
		# The reference job of bench/ (bench/lib.sh).
		input = "tape.avi"
		output = "$2"
		preset = "none"

		[video]
		filters = "$VF"

		[upscale]
		backend = "cpu"
		model = "lanczos"
		width = $WIDTH
		height = $HEIGHT

		[audio]
		filters = "$AF"

		[encode]
		$ENC_TOML
	EOF
}

# make_tape SECONDS OUT.avi: the reference tape (same arguments, same bytes).
make_tape() {
	"$ROOT/tests/media/make_tape.sh" --standard ntsc --seconds "$1" --codec dv "$2"
}

# machine: CPUs, CPU model, RAM and kernel in one line.
machine() {
	local cpu mem
	cpu="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	mem="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "$(nproc) CPUs ($cpu), $mem RAM, $(uname -sr)"
}
