# test_report_browser.sh: the profile's report.html in a real browser (issue 8): headless
# Chromium from Debian's packages (make deps installs it when it can) renders the page to a
# PNG, which must not be blank and must show the charts' colours, and dumps the DOM it
# built, which must hold the SVG charts. Skipped, saying why, when Chromium is not
# installed. Run by tests/integration/run.sh.

# chromium_bin: the browser, or nothing.
chromium_bin() {
	command -v chromium || command -v chromium-browser || true
}

# chromium ARGS...: headless, as root in a container (no sandbox), no GPU, fixed size.
chromium_run() {
	timeout 90 "$(chromium_bin)" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--no-first-run --user-data-dir="$PWD/chromium-profile" --window-size=1000,1600 "$@"
}

test_report_renders_in_chromium() {
	need_bin
	[ -n "$(chromium_bin)" ] || skip "Chromium is not installed (make deps installs Debian's chromium when the package can be had)"
	make_job job.toml input="$(tape ntsc 4 dv)" video.filters="bwdif=mode=send_field" \
		upscale.width=720 upscale.height=540 run.segment_seconds=1
	orch profile --progress=none --frames 60 job.toml
	expect_rc 0
	local page="file://$PWD/job.profile/report.html"
	chromium_run --screenshot="$PWD/shot.png" "$page" >chromium.log 2>&1 ||
		{ show_file chromium.log; fail "chromium could not take the screenshot"; }
	chromium_run --dump-dom "$page" >dom.html 2>chromium.log ||
		{ show_file chromium.log; fail "chromium could not dump the DOM"; }
	python3 - shot.png dom.html <<'PY' || fail "the rendered report is wrong (see above)"
import struct, sys, zlib

def png_pixels(path):
    """RGB(A) rows of an 8-bit PNG, unfiltered (the five filters of the PNG spec)."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h, depth, colour = hdr[:4]
    assert depth == 8 and colour in (2, 6), hdr
    bpp = 3 if colour == 2 else 4
    raw, stride, rows, prev = zlib.decompress(idat), w * bpp, [], bytearray(w * bpp)
    for y in range(h):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

w, h, bpp, rows = png_pixels(sys.argv[1])
colours = {}
for line in rows[::4]:
    for x in range(0, len(line), bpp * 2):
        px = tuple(line[x:x + 3])
        colours[px] = colours.get(px, 0) + 1
top = max(colours.values()) / sum(colours.values())
assert len(colours) > 20 and top < 0.98, f"the screenshot is blank: {len(colours)} colours, {top:.1%} one colour"
def near(rgb, tol=40):
    return sum(n for px, n in colours.items() if all(abs(px[i] - rgb[i]) <= tol for i in range(3)))
series = {"decode (blue)": (0x1f, 0x77, 0xb4), "preprocess (red)": (0xd6, 0x27, 0x28), "upscale (green)": (0x2c, 0xa0, 0x2c)}
for name, rgb in series.items():
    assert near(rgb) > 20, f"no {name} line or bar in the screenshot"
dom = open(sys.argv[2]).read()
for chart in ("throughput", "rings", "shares"):
    assert f'<svg id="{chart}"' in dom, f"the rendered page has no {chart} chart"
assert dom.count("<polyline") >= 6, f"{dom.count('<polyline')} lines in the charts"
assert dom.count("<rect") >= 10
print(f"screenshot {w}x{h}, {len(colours)} colours; DOM: {dom.count('<svg')} svg, {dom.count('<polyline')} polylines", file=sys.stderr)
PY
}
