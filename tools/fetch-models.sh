#!/usr/bin/env bash
# fetch-models.sh: fetches the ESRGAN models (MIT, by UpscalerJS) from the npm registry.
#
#   tools/fetch-models.sh DIR [NAME ...]     NAME: esrgan-slim esrgan-medium esrgan-thick
#                                            (default: all three)
#
# Each package is fetched at a pinned version with `npm pack` (npm checks the tarball
# against the registry's sha512 integrity) and its models/xN folders are unpacked to
# DIR/NAME/xN (model.json + group1-shard*.bin). A model already in place is kept; a
# half-unpacked one is never left behind (unpacked into a temp dir, then renamed).
# Needs npm (tools/install-deps.sh installs Debian's when it is missing).
set -euo pipefail

VERSION=1.0.0
dir="${1:?usage: fetch-models.sh DIR [NAME ...]}"
shift
names=("$@")
((${#names[@]})) || names=(esrgan-slim esrgan-medium esrgan-thick)

command -v npm >/dev/null || { echo "models: npm is missing: run 'make deps' (installs Debian's npm)" >&2; exit 1; }
mkdir -p "$dir"
for name in "${names[@]}"; do
	case "$name" in
	esrgan-slim | esrgan-medium | esrgan-thick) ;;
	*) echo "models: unknown model '$name' (esrgan-slim, esrgan-medium, esrgan-thick)" >&2; exit 1 ;;
	esac
	if [ -f "$dir/$name/x2/model.json" ] && [ -f "$dir/$name/VERSION" ] &&
		[ "$(cat "$dir/$name/VERSION")" = "$VERSION" ]; then
		echo "models: $name $VERSION present"
		continue
	fi
	tmp="$(mktemp -d "$dir/.fetch.XXXXXX")"
	trap 'rm -rf -- "$tmp"' EXIT
	echo "models: fetching @upscalerjs/$name@$VERSION"
	(cd "$tmp" && npm pack --silent "@upscalerjs/$name@$VERSION" >/dev/null)
	tar -xzf "$tmp"/upscalerjs-"$name"-"$VERSION".tgz -C "$tmp" package/models package/LICENSE 2>/dev/null ||
		tar -xzf "$tmp"/upscalerjs-"$name"-"$VERSION".tgz -C "$tmp" package/models
	mkdir -p "$tmp/out"
	mv "$tmp"/package/models/* "$tmp/out/"
	[ -f "$tmp/package/LICENSE" ] && mv "$tmp/package/LICENSE" "$tmp/out/"
	echo "$VERSION" >"$tmp/out/VERSION"
	rm -rf -- "${dir:?}/$name"
	mv "$tmp/out" "$dir/$name"
	rm -rf -- "$tmp"
	trap - EXIT
	echo "models: $name $VERSION -> $dir/$name ($(du -sh "$dir/$name" | cut -f1))"
done
