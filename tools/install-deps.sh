#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages the project needs, only those missing.
# Runs apt-get update first (a fresh machine's package lists are empty or stale).
# Needs root or sudo when something is missing; does nothing when all are present.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	ffmpeg libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev
	libswresample-dev libavutil-dev
	libzmq3-dev liburing-dev libcriterion-dev libcjson-dev
	python3
)
# npm fetches the ESRGAN models (make models); a machine with its own Node.js keeps it.
command -v npm >/dev/null || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || { echo "deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
	SUDO=sudo
fi
echo "deps: installing ${missing[*]}"
$SUDO apt-get update
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
