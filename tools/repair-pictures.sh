#!/usr/bin/env bash
# repair-pictures.sh: the before-and-after pictures of docs/user-guide.md's tape repairs, from
# the captures and repaired files bench/analysis.sh leaves in its work folder:
#
#   tools/repair-pictures.sh [WORKDIR] [OUTDIR]   (defaults: build/bench-analysis, docs/images)
#
# Each picture is three crops side by side, enlarged twice (nearest neighbour, so the pixels
# show): as captured | repaired | the truth.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="${1:-$ROOT/build/bench-analysis}"
OUT="${2:-$ROOT/docs/images}"
mkdir -p "$OUT"

# trio NAME REPAIRED FRAME CROP OUT.png: frame FRAME of NAME.mkv, REPAIRED and NAME.truth.mkv,
# cropped (w:h:x:y), enlarged, side by side.
trio() {
	local name="$1" repaired="$2" frame="$3" crop="$4" png="$5"
	local pick="select=eq(n\\,$frame),crop=$crop,scale=iw*2:ih*2:flags=neighbor,format=rgb24"
	ffmpeg -nostdin -v error -y -i "$WORK/$name.mkv" -i "$WORK/$repaired" -i "$WORK/$name.truth.mkv" \
		-filter_complex "[0]$pick[a];[1]$pick[b];[2]$pick[c];[a][b][c]hstack=3" -frames:v 1 "$OUT/$png"
	echo "$OUT/$png"
}

trio headsw headsw-fixed.mkv 30 "200:48:0:432" head-switching.png
trio dropouts dropouts-fixed.mkv 30 "240:80:200:150" dropouts.png
trio chroma chroma-fixed.mkv 30 "160:80:280:200" chroma-shift.png
