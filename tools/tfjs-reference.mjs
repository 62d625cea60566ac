// tfjs-reference.mjs: runs an UpscalerJS ESRGAN model through TensorFlow.js itself (the
// framework the models were published for) on a PPM image and writes the output as PFM, the
// independent reference that tests/unit/test_reference.c checks the C network (net.c) against.
//
// DESIGN
// Nothing of ours is in the loop: the model folder (model.json + group1-shard*.bin, as
// tools/fetch-models.sh unpacks it from npm) is handed to tf.loadLayersModel through
// tf.io.fromMemory exactly as it is on disk, and the image goes in as the PPM's bytes turned
// into float32, [1, h, w, 3], 0..255, no scaling (the slim and medium models take 0..255;
// for esrgan-thick, which takes 0..1, pass --range 1 and the bytes are divided by 255 in
// float32). The backend is TensorFlow.js's pure-JavaScript CPU backend (tfjs-backend-cpu),
// so the result does not depend on a GPU or on native code. Its convolution accumulates
// into a Float32Array (every partial sum rounded to float32, each product exact in a double
// first) and adds the bias after the sum, so it is float32 like net.c but not bit-identical.
//
// Output: PFM (Portable Float Map), colour, little-endian float32:
//
//   "PF\n" "<width> <height>\n" "-1.0\n"          (ASCII; the negative scale = little-endian)
//   <height rows of width x {R, G, B} float32>     rows BOTTOM to TOP, as PFM defines them
//
// i.e. the network's NHWC output with its rows in reverse order; values are the network's
// own, unclamped (test_reference.c measures their range). ffmpeg reads the file too.
//
// Regenerate the stored reference (Node 20; node_modules stays outside the repository):
//
//   mkdir -p /tmp/tfjs && (cd /tmp/tfjs && npm init -y >/dev/null &&
//       npm install --no-audit --no-fund @tensorflow/tfjs@4.22.0)
//   tools/fetch-models.sh models esrgan-slim
//   TFJS_DIR=/tmp/tfjs node tools/tfjs-reference.mjs models/esrgan-slim/x2 \
//       tests/media/astronaut-48x32.ppm tests/media/astronaut-48x32-esrgan-slim-x2-tfjs.pfm
//
// It prints the output's shape, min and max, and the file's SHA-256.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const TFJS_VERSION = '4.22.0'; // the version the stored reference was made with

function usage() {
	console.error('usage: TFJS_DIR=DIR node tools/tfjs-reference.mjs [--range 255|1] MODELDIR IN.ppm OUT.pfm');
	process.exit(2);
}

// @tensorflow/tfjs is resolved from $TFJS_DIR (where it was npm-installed), else from here.
function loadTf() {
	const base = process.env.TFJS_DIR ? resolve(process.env.TFJS_DIR) : process.cwd();
	const require = createRequire(join(base, 'package.json'));
	let tf;
	try {
		tf = require('@tensorflow/tfjs');
	} catch (e) {
		console.error(`tfjs-reference: cannot load @tensorflow/tfjs from ${base} (set TFJS_DIR): ${e.message}`);
		process.exit(1);
	}
	if (tf.version.tfjs !== TFJS_VERSION)
		console.error(`tfjs-reference: warning: @tensorflow/tfjs ${tf.version.tfjs}, reference made with ${TFJS_VERSION}`);
	return tf;
}

// Binary PPM (P6), maxval 255: header tokens separated by whitespace, '#' comments, then
// exactly one whitespace byte before the samples.
function readPpm(path) {
	const buf = readFileSync(path);
	const tok = [];
	let i = 0;
	while (tok.length < 4) {
		while (i < buf.length && /\s/.test(String.fromCharCode(buf[i])))
			i++;
		if (buf[i] === 0x23) { // '#'
			while (i < buf.length && buf[i] !== 0x0a)
				i++;
			continue;
		}
		let s = '';
		while (i < buf.length && !/\s/.test(String.fromCharCode(buf[i])))
			s += String.fromCharCode(buf[i++]);
		tok.push(s);
	}
	i++;
	const [magic, w, h, maxval] = [tok[0], +tok[1], +tok[2], +tok[3]];
	if (magic !== 'P6' || maxval !== 255 || !(w > 0) || !(h > 0) || buf.length - i !== w * h * 3)
		throw new Error(`${path}: not a ${w}x${h} 8-bit binary PPM`);
	return { w, h, rgb: buf.subarray(i) };
}

// The layers-model artifacts straight from disk: topology, the manifest's weight specs in
// order, and the shards concatenated in order.
function readModel(tf, dir) {
	const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
	const specs = [];
	const shards = [];
	for (const group of json.weightsManifest) {
		specs.push(...group.weights);
		for (const p of group.paths)
			shards.push(readFileSync(join(dir, p)));
	}
	const data = Buffer.concat(shards);
	const weightData = data.buffer.slice(data.byteOffset, data.byteOffset + data.length);
	return tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData });
}

function writePfm(path, v, w, h) {
	const head = Buffer.from(`PF\n${w} ${h}\n-1.0\n`, 'ascii');
	const body = Buffer.alloc(w * h * 3 * 4);
	for (let y = 0; y < h; y++)
		for (let i = 0; i < w * 3; i++)
			body.writeFloatLE(v[y * w * 3 + i], ((h - 1 - y) * w * 3 + i) * 4);
	const file = Buffer.concat([head, body]);
	writeFileSync(path, file);
	return createHash('sha256').update(file).digest('hex');
}

async function main() {
	const args = process.argv.slice(2);
	let range = 255;
	if (args[0] === '--range') {
		range = +args[1];
		args.splice(0, 2);
	}
	if (args.length !== 3 || (range !== 255 && range !== 1))
		usage();
	const [modelDir, inPath, outPath] = args;
	const tf = loadTf();
	await tf.setBackend('cpu');
	await tf.ready();

	const img = readPpm(inPath);
	const x = new Float32Array(img.rgb.length);
	for (let i = 0; i < x.length; i++)
		x[i] = range === 255 ? img.rgb[i] : Math.fround(img.rgb[i] / 255);
	const model = await tf.loadLayersModel(readModel(tf, modelDir));
	const out = model.predict(tf.tensor4d(x, [1, img.h, img.w, 3], 'float32'));
	const [n, oh, ow, oc] = out.shape;
	if (n !== 1 || oc !== 3)
		throw new Error(`unexpected output shape ${out.shape}`);
	const v = await out.data();
	let lo = Infinity, hi = -Infinity;
	for (const e of v) {
		lo = Math.min(lo, e);
		hi = Math.max(hi, e);
	}
	const sha = writePfm(outPath, v, ow, oh);
	console.log(`tfjs ${tf.version.tfjs} (${tf.getBackend()}): ${img.w}x${img.h} -> ${ow}x${oh}x${oc}, ` +
		    `min ${lo}, max ${hi}; ${outPath} sha256 ${sha}`);
}

main().catch((e) => {
	console.error(`tfjs-reference: ${e.message}`);
	process.exit(1);
});
