#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages the project needs, only those missing.
# Runs apt-get update first (a fresh machine's package lists are empty or stale).
# Needs root or sudo when something is missing; does nothing when all are present.
#
#   tools/install-deps.sh [PACKAGE...]   the project's packages, and those a caller adds
#                                        (make bench-profile-count: valgrind)
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	ffmpeg libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev
	libswresample-dev libavutil-dev
	libzmq3-dev liburing-dev libcriterion-dev libcjson-dev
	python3
	# real photographs for the test captures (tests/media/make_capture.sh, make_deint_clip.sh)
	# and the font of the deinterlacing clips' text
	mate-backgrounds fonts-dejavu-core
	"$@"
)
# npm fetches the ESRGAN models (make models); a machine with its own Node.js keeps it.
command -v npm >/dev/null || PACKAGES+=(npm)
# Wanted, not needed: the browser test of the profile's HTML report
# (tests/integration/test_report_browser.sh) skips, saying so, where it cannot be installed.
OPTIONAL=(chromium)

installed() {
	dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"
}

missing=() optional=()
for p in "${PACKAGES[@]}"; do
	installed "$p" || missing+=("$p")
done
for p in "${OPTIONAL[@]}"; do
	installed "$p" || optional+=("$p")
done

if ((${#missing[@]} == 0 && ${#optional[@]} == 0)); then
	echo "deps: all ${#PACKAGES[@]} packages present (and ${OPTIONAL[*]})"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null; then
		((${#missing[@]} == 0)) && { echo "deps: cannot install ${optional[*]} (not root, no sudo); its tests will skip" >&2; exit 0; }
		echo "deps: need root or sudo to install: ${missing[*]}" >&2
		exit 1
	fi
	SUDO=sudo
fi
$SUDO apt-get update
if ((${#missing[@]})); then
	echo "deps: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
if ((${#optional[@]})); then
	echo "deps: installing ${optional[*]} (optional: for the browser test)"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${optional[@]}" ||
		echo "deps: ${optional[*]} could not be installed; the browser test will skip" >&2
fi
