#!/usr/bin/env bash
# install-deps.sh: installs the Debian 12 packages the project needs, only those missing.
# Runs apt-get update first (a fresh machine's package lists are empty or stale).
# Needs root or sudo when something is missing; does nothing when all are present.
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	ffmpeg libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev
	libswresample-dev libavutil-dev
	libzmq3-dev liburing-dev libcriterion-dev
	python3
)

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
