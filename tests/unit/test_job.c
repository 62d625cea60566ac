/* test_job.c: the job module (orchestrator/job.c) over the TOML reader.
 *
 * Every test runs in its own temporary directory: DIR/job.toml is the job, DIR/presets/
 * the preset directory, holding small presets written by the test (p1 and p2 set
 * recognisable values, bad sets a forbidden key, broken does not parse). The repository's
 * own presets and configs are loaded from VHS_DATADIR. Messages are compared whole,
 * DIR included, because their exact text is part of the interface.
 */
#include "job_helpers.h"

TestSuite(job, .init = setup, .fini = teardown);

/* ---- defaults and types -------------------------------------------------------------- */

Test(job, defaults)
{
	struct vhs_job j;
	int i;

	load_ok(&j, io, NULL, 0);
	cr_assert_str_eq(j.preset, "none");
	cr_assert_str_eq(j.video.filters, "");
	cr_assert_str_eq(j.upscale.backend, "cpu");
	cr_assert_str_eq(j.upscale.model, "lanczos");
	cr_assert_eq(j.upscale.width, 0);
	cr_assert_eq(j.upscale.height, 0);
	cr_assert_str_eq(j.audio.filters, "");
	cr_assert_str_eq(j.encode.codec, "libx264");
	cr_assert_str_eq(j.encode.preset, "");
	cr_assert_eq(j.encode.crf, -1);
	cr_assert_str_eq(j.encode.pix_fmt, "yuv420p");
	cr_assert_str_eq(j.encode.audio_codec, "aac");
	cr_assert_str_eq(j.encode.audio_bitrate, "192k");
	cr_assert_str_eq(j.encode.sar, "auto");
	for (i = 0; i < VHS_JOB_STAGES; i++)
		cr_assert_eq(j.stages[i].workers, 1);
	cr_assert_eq(j.run.segment_seconds, 10.0);
	cr_assert_str_eq(j.run.temp_dir, dir, "temp_dir defaults to the output's directory");
	cr_assert_eq(j.run.ring_slots, 8);
	cr_assert_eq(j.run.warmup_frames, 30);
	cr_assert_eq(j.run.audio_warmup, 3.0);
	cr_assert_eq(j.run.restart_limit, 5);
	cr_assert_eq(j.run.restart_window, 60.0);
	cr_assert_str_eq(j.path, jobpath);
	for (i = 0; i < VHS_JOB_MAX_KEYS; i++)
		cr_assert(j.source[i] == VHS_JOB_SRC_DEFAULT || j.source[i] == VHS_JOB_SRC_JOB);
	vhs_job_free(&j);
	cr_assert_null(j.input);
	vhs_job_free(&j); /* twice is fine */
}

Test(job, every_key_set)
{
	struct vhs_job j;

	load_ok(&j,
		"input = 'i.avi'\noutput = 'o.mkv'\npreset = 'none'\n"
		"[video]\nfilters = 'null'\n"
		"[upscale]\nbackend = 'cuda'\nmodel = 'esrgan-thick'\nwidth = 16\nheight = 8192\n"
		"[audio]\nfilters = 'anull'\n"
		"[encode]\ncodec = 'ffv1'\npreset = 'slow'\ncrf = 63\npix_fmt = 'yuv444p'\n"
		"audio_codec = 'flac'\naudio_bitrate = ''\nsar = '16:15'\n"
		"[stages.decode]\nworkers = 2\n[stages.preprocess]\nworkers = 'auto'\n"
		"[stages.upscale]\nworkers = 3\n[stages.audio]\nworkers = 4\n"
		"[stages.encode]\nworkers = 256\n"
		"[run]\nsegment_seconds = 2.5\ntemp_dir = '/var/tmp'\nring_slots = 64\n"
		"warmup_frames = 10000\naudio_warmup = 0.25\nrestart_limit = 0\n"
		"restart_window = 86400\n",
		NULL, 0);
	cr_assert_str_eq(j.video.filters, "null");
	cr_assert_str_eq(j.upscale.backend, "cuda");
	cr_assert_str_eq(j.upscale.model, "esrgan-thick");
	cr_assert_eq(j.upscale.width, 16);
	cr_assert_eq(j.upscale.height, 8192);
	cr_assert_str_eq(j.audio.filters, "anull");
	cr_assert_str_eq(j.encode.codec, "ffv1");
	cr_assert_str_eq(j.encode.preset, "slow");
	cr_assert_eq(j.encode.crf, 63);
	cr_assert_str_eq(j.encode.pix_fmt, "yuv444p");
	cr_assert_str_eq(j.encode.audio_codec, "flac");
	cr_assert_str_eq(j.encode.audio_bitrate, "");
	cr_assert_str_eq(j.encode.sar, "16:15");
	cr_assert_eq(j.stages[0].workers, 2);
	cr_assert_eq(j.stages[1].workers, 0, "\"auto\" is stored as 0");
	cr_assert_eq(j.stages[2].workers, 3);
	cr_assert_eq(j.stages[3].workers, 4);
	cr_assert_eq(j.stages[4].workers, 256);
	cr_assert_eq(j.run.segment_seconds, 2.5);
	cr_assert_str_eq(j.run.temp_dir, "/var/tmp");
	cr_assert_eq(j.run.ring_slots, 64);
	cr_assert_eq(j.run.warmup_frames, 10000);
	cr_assert_eq(j.run.audio_warmup, 0.25);
	cr_assert_eq(j.run.restart_limit, 0);
	cr_assert_eq(j.run.restart_window, 86400.0);
	vhs_job_free(&j);
}

/* The [run] keys of segment replay and supervision: their defaults, each printed as a
 * default, and in the CONFIG blob. */
Test(job, run_replay_and_restart_defaults)
{
	struct vhs_job j;
	char *text, *blob, buf[64];
	long long v;

	load_ok(&j, io, NULL, 0);
	cr_assert_eq(j.run.warmup_frames, 30);
	cr_assert_eq(j.run.audio_warmup, 3.0);
	cr_assert_eq(j.run.restart_limit, 5);
	cr_assert_eq(j.run.restart_window, 60.0);
	text = print_to_string(&j);
	source_is(text, "run", "warmup_frames", "default");
	source_is(text, "run", "audio_warmup", "default");
	source_is(text, "run", "restart_limit", "default");
	source_is(text, "run", "restart_window", "default");
	free(text);
	blob = vhs_job_to_kv(&j);
	cr_assert_not_null(blob);
	cr_assert_eq(vhs_kv_get_int(blob, "run.warmup_frames", &v), 0);
	cr_assert_eq(v, 30);
	cr_assert_eq(vhs_kv_get_int(blob, "run.restart_limit", &v), 0);
	cr_assert_eq(v, 5);
	cr_assert_gt(vhs_kv_get(blob, "run.audio_warmup", buf, sizeof(buf)), 0);
	cr_assert_eq(strtod(buf, NULL), 3.0, "%s", buf);
	cr_assert_gt(vhs_kv_get(blob, "run.restart_window", buf, sizeof(buf)), 0);
	cr_assert_eq(strtod(buf, NULL), 60.0, "%s", buf);
	free(blob);
	vhs_job_free(&j);

	/* a job file overrides each */
	load_ok(&j, "input = 'i'\noutput = 'o'\n[run]\nwarmup_frames = 0\naudio_warmup = 1.5\n"
		"restart_limit = 64\nrestart_window = 2.5\n", NULL, 0);
	cr_assert_eq(j.run.warmup_frames, 0);
	cr_assert_eq(j.run.audio_warmup, 1.5);
	cr_assert_eq(j.run.restart_limit, 64);
	cr_assert_eq(j.run.restart_window, 2.5);
	vhs_job_free(&j);
}

Test(job, restart_limit_range)
{
	fails("[run]\nrestart_limit = 65\n",
	      "2:17: 'restart_limit' in [run] must be between 0 and 64, not 65");
	fails("[run]\nrestart_limit = -1\n",
	      "2:17: 'restart_limit' in [run] must be between 0 and 64, not -1");
	fails("[run]\nrestart_limit = 5.0\n",
	      "2:17: 'restart_limit' in [run] must be an integer, not a float");
	set_fails("run.restart_limit=65",
		  "--set run.restart_limit=65: 'restart_limit' in [run] must be between 0 and 64, "
		  "not 65");
}

Test(job, inline_tables_and_dotted_keys_work_too)
{
	struct vhs_job j;

	load_ok(&j,
		"input = 'i.avi'\noutput = 'o.mkv'\n"
		"video = { filters = 'hqdn3d' }\n"
		"encode.crf = 22\n"
		"stages = { preprocess = { workers = 3 } }\n"
		"run.segment_seconds = 4\n",
		NULL, 0);
	cr_assert_str_eq(j.video.filters, "hqdn3d");
	cr_assert_eq(j.encode.crf, 22);
	cr_assert_eq(j.stages[1].workers, 3);
	cr_assert_eq(j.run.segment_seconds, 4.0, "an integer is fine for a float key");
	vhs_job_free(&j);
}

Test(job, unknown_keys_did_you_mean)
{
	fails("input = 'a'\noutput = 'b'\n[video]\nfiltres = 'x'\n",
	      "4:1: unknown key 'filtres' in [video] (did you mean 'filters'?)");
	fails("[video]\n    denoize = 1\n", "2:5: unknown key 'denoize' in [video]");
	fails("inptu = 'a'\n", "1:1: unknown key 'inptu' at top level (did you mean 'input'?)");
	fails("outptu = 'a'\n", "1:1: unknown key 'outptu' at top level (did you mean 'output'?)");
	fails("zzz = 1\n", "1:1: unknown key 'zzz' at top level");
	fails("[encode]\ncrff = 1\n", "2:1: unknown key 'crff' in [encode] (did you mean 'crf'?)");
	fails("[encode]\npixfmt = 'x'\n",
	      "2:1: unknown key 'pixfmt' in [encode] (did you mean 'pix_fmt'?)");
	fails("[upscale]\nwidht = 2\n", "2:1: unknown key 'widht' in [upscale] (did you mean 'width'?)");
	fails("[run]\nring_slot = 4\n",
	      "2:1: unknown key 'ring_slot' in [run] (did you mean 'ring_slots'?)");
	fails("[stages.decode]\nworker = 2\n",
	      "2:1: unknown key 'worker' in [stages.decode] (did you mean 'workers'?)");
	fails("[vidoe]\nfilters = ''\n", "1:2: unknown section [vidoe] (did you mean [video]?)");
	fails("[nothing]\n", "1:2: unknown section [nothing]");
	fails("[stages.preproces]\nworkers = 2\n",
	      "1:9: unknown stage 'preproces' in [stages] (did you mean 'preprocess'?)");
	fails("[stages.mux]\n", "1:9: unknown stage 'mux' in [stages]");
	fails("[video.extra]\nx = 1\n", "1:8: unknown key 'extra' in [video]");
	fails("\"in\\nput\" = 1\n",
	      "1:1: unknown key 'in\\nput' at top level (did you mean 'input'?)");
	fails("[upscale]\nbackend = \"cpu\\n\"\n",
	      "2:11: 'backend' in [upscale] must be one of cpu, cuda, auto, not 'cpu\\n' "
	      "(did you mean 'cpu'?)");
}

Test(job, wrong_types)
{
	fails("[encode]\ncrf = \"18\"\n", "2:7: 'crf' in [encode] must be an integer, not a string");
	fails("[encode]\ncrf = 18.0\n", "2:7: 'crf' in [encode] must be an integer, not a float");
	fails("[encode]\ncrf = \"18\"\n",
	      "2:7: 'crf' in [encode] must be an integer, not a string");
	fails("[upscale]\nwidth = \"1440\"\n",
	      "2:9: 'width' in [upscale] must be an integer or \"auto\", not '1440'");
	fails("[upscale]\nheight = true\n",
	      "2:10: 'height' in [upscale] must be an integer or \"auto\", not a boolean");
	fails("input = 5\n", "1:9: 'input' must be a string, not an integer");
	fails("input = ['a']\n", "1:9: 'input' must be a string, not an array");
	fails("input = { a = 1 }\n", "1:9: 'input' must be a string, not a table");
	fails("[video]\nfilters = 1\n", "2:11: 'filters' in [video] must be a string, not an integer");
	fails("[run]\nsegment_seconds = '10'\n",
	      "2:19: 'segment_seconds' in [run] must be a number, not a string");
	fails("[stages.upscale]\nworkers = 1.5\n",
	      "2:11: 'workers' in [stages.upscale] must be an integer or \"auto\", not a float");
	fails("[stages.upscale]\nworkers = 'many'\n",
	      "2:11: 'workers' in [stages.upscale] must be an integer or \"auto\", not 'many'");
	fails("video = 'x'\n", "1:9: section 'video' must be a table, not a string");
	fails("stages = 1\n", "1:10: section 'stages' must be a table, not an integer");
	fails("[stages]\npreprocess = 2\n",
	      "2:14: stage 'preprocess' must be a table, not an integer");
	fails("input = \"a\\u0000b\"\n", "1:9: 'input' must not contain U+0000");
}

Test(job, ranges_and_allowed_values)
{
	fails("[encode]\ncrf = 64\n", "2:7: 'crf' in [encode] must be between -1 and 63, not 64");
	fails("[encode]\ncrf = -2\n", "2:7: 'crf' in [encode] must be between -1 and 63, not -2");
	fails("[upscale]\nwidth = 8\n",
	      "2:9: 'width' in [upscale] must be \"auto\", 0 or between 16 and 8192, not 8");
	fails("[upscale]\nheight = 8193\n",
	      "2:10: 'height' in [upscale] must be \"auto\", 0 or between 16 and 8192, not 8193");
	fails("[upscale]\nwidth = -1\n",
	      "2:9: 'width' in [upscale] must be \"auto\", 0 or between 16 and 8192, not -1");
	fails("[upscale]\nwidth = 9999999999\n",
	      "2:9: 'width' in [upscale] must be \"auto\", 0 or between 16 and 8192, not 9999999999");
	fails("[run]\nring_slots = 2\n", "2:14: 'ring_slots' in [run] must be between 3 and 64, not 2");
	fails("[run]\nring_slots = 65\n",
	      "2:14: 'ring_slots' in [run] must be between 3 and 64, not 65");
	fails("[run]\nsegment_seconds = -1.5\n",
	      "2:19: 'segment_seconds' in [run] must be between 0 and 86400, not -1.5");
	fails("[run]\naudio_warmup = -1\n",
	      "2:16: 'audio_warmup' in [run] must be between 0 and 600, not -1");
	fails("[run]\nsegment_seconds = nan\n",
	      "2:19: 'segment_seconds' in [run] must be between 0 and 86400, not nan");
	fails("[run]\nsegment_seconds = inf\n",
	      "2:19: 'segment_seconds' in [run] must be between 0 and 86400, not inf");
	fails("[stages.decode]\nworkers = 0\n",
	      "2:11: 'workers' in [stages.decode] must be \"auto\" or between 1 and 256, not 0");
	fails("[upscale]\nbackend = 'gpu'\n",
	      "2:11: 'backend' in [upscale] must be one of cpu, cuda, auto, not 'gpu' "
	      "(did you mean 'cpu'?)");
	fails("[upscale]\nmodel = 'esrgan'\n",
	      "2:9: 'model' in [upscale] must be one of lanczos, bicubic, esrgan-slim, "
	      "esrgan-medium, esrgan-thick, not 'esrgan'");
	fails("[encode]\nsar = '0:1'\n",
	      "2:7: 'sar' in [encode] must be \"auto\" or \"N:D\" with positive integers, like "
	      "\"1:1\", not '0:1'");
	fails("[encode]\nsar = '4:3:1'\n",
	      "2:7: 'sar' in [encode] must be \"auto\" or \"N:D\" with positive integers, like "
	      "\"1:1\", not '4:3:1'");
	fails("[encode]\nsar = '1:'\n",
	      "2:7: 'sar' in [encode] must be \"auto\" or \"N:D\" with positive integers, like "
	      "\"1:1\", not '1:'");
	fails("input = ''\n", "1:9: 'input' must not be empty");
	fails("[run]\nsegment_seconds = 1979-05-27\n",
	      "2:19: dates and times are not supported in job files");
}

/* ---- [audio] enhance and its switches -------------------------------------------------- */

Test(job, audio_enhance_fills_what_nothing_set)
{
	struct vhs_job j;
	char *text;

	load_ok(&j, "input = 'a.avi'\noutput = 'b.mkv'\n[audio]\nenhance = 'aggressive'\nhum = 50\n"
		    "declick = false\n", NULL, 0);
	cr_assert_str_eq(j.audio.hum, "50", "an integer is the value's text");
	cr_assert_eq(j.audio.hiss, 24.0);
	cr_assert_eq(j.audio.declick, 0, "set explicitly, not from the preset");
	cr_assert_eq(j.audio.loudness, -16.0);
	cr_assert_eq(j.audio.true_peak, -1.0);
	cr_assert_str_eq(j.audio.channels, "auto");
	text = print_to_string(&j);
	source_is(text, "audio", "hum", "job");
	source_is(text, "audio", "hiss", "enhance aggressive");
	source_is(text, "audio", "channels", "enhance aggressive");
	source_is(text, "audio", "true_peak", "default");
	cr_assert_str_eq(line_of(text, "audio", "declick"), "declick = false                          # job");
	free(text);
	vhs_job_free(&j);

	load_ok(&j, "input = 'a.avi'\noutput = 'b.mkv'\n", NULL, 0);
	cr_assert_str_eq(j.audio.enhance, "none");
	cr_assert_str_eq(j.audio.hum, "off", "enhance none is the defaults");
	cr_assert_eq(j.audio.hiss, 0.0);
	cr_assert_eq(j.audio.loudness, 0.0);
	cr_assert_str_eq(j.audio.channels, "keep");
	vhs_job_free(&j);
}

Test(job, audio_enhance_and_filters)
{
	struct vhs_job j;
	char *sets[] = { "audio.filters=volume=2", "audio.loudness=-23" };

	/* a chain replaces the enhancement: nothing filled, the loudness pass may still run */
	load_ok(&j, "input = 'a.avi'\noutput = 'b.mkv'\n[audio]\nenhance = 'moderate'\n", sets, 2);
	cr_assert_str_eq(j.audio.hum, "off");
	cr_assert_eq(j.audio.hiss, 0.0);
	cr_assert_eq(j.audio.loudness, -23.0);
	vhs_job_free(&j);
	cr_assert_eq(load_sets(&j, "input = 'a.avi'\noutput = 'b.mkv'\n[audio]\nhiss = 6\n", sets, 1),
		     -EINVAL);
	snprintf(want, sizeof(want), "%s: 'hiss' in [audio] cannot be combined with [audio] filters, "
		 "which replaces the enhancement chain", jobpath);
	cr_assert_str_eq(err, want);
}

Test(job, audio_switch_errors)
{
	fails("[audio]\nhum = 55\n",
	      "2:7: 'hum' in [audio] must be one of auto, 50, 60, off, not '55' (did you mean '50'?)");
	fails("[audio]\nhum = 1.5\n", "2:7: 'hum' in [audio] must be a string or an integer, not a float");
	fails("[audio]\nenhance = 'strong'\n",
	      "2:11: 'enhance' in [audio] must be one of none, light, moderate, aggressive, not 'strong'");
	fails("[audio]\ndeclick = 1\n", "2:11: 'declick' in [audio] must be true or false, not an integer");
	fails("[audio]\nloudness = 5\n",
	      "2:12: 'loudness' in [audio] must be 0 (off) or greater than -70 and at most -5, not 5");
	fails("[audio]\nhiss = 41\n", "2:8: 'hiss' in [audio] must be between 0 and 40, not 41");
	fails("[audio]\ntrue_peak = 1\n",
	      "2:13: 'true_peak' in [audio] must be greater than -20 and at most 0, not 1");
	fails("[audio]\nchannels = 'stereo'\n",
	      "2:12: 'channels' in [audio] must be one of auto, keep, mono, not 'stereo'");
}

Test(job, missing_required_and_empty)
{
	struct vhs_job j;

	cr_assert_eq(load(&j, ""), -EINVAL);
	snprintf(want, sizeof(want), "%s: missing required key 'input'", jobpath);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "# just a comment\n"), -EINVAL);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "output = 'o.mkv'\n"), -EINVAL);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "input = 'i.avi'\n"), -EINVAL);
	snprintf(want, sizeof(want), "%s: missing required key 'output'", jobpath);
	cr_assert_str_eq(err, want);
}

Test(job, unreadable_job_file)
{
	struct vhs_job j;
	char path[256];

	snprintf(path, sizeof(path), "%s/nope.toml", dir);
	cr_assert_eq(vhs_job_load(&j, path, presets, NULL, 0, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	cr_assert_str_eq(err, want);
	fails("a = \n", "1:5: expected a value, found end of line");
}

/* ---- presets and merge order --------------------------------------------------------- */

Test(job, merge_order)
{
	struct vhs_job j;
	char *sets[] = { "encode.crf=30" };
	char *text;

	load_ok(&j,
		"input = 'in.avi'\noutput = 'out.mkv'\npreset = 'p1'\n"
		"[encode]\ncrf = 20\npreset = 'jobpreset'\n"
		"[upscale]\nwidth = 800\n",
		sets, 1);
	cr_assert_str_eq(j.video.filters, "p1-video", "preset over default");
	cr_assert_str_eq(j.encode.codec, "p1codec", "preset over default");
	cr_assert_str_eq(j.encode.preset, "jobpreset", "job over preset");
	cr_assert_eq(j.upscale.width, 800, "job over preset");
	cr_assert_eq(j.encode.crf, 30, "--set over job over preset");
	cr_assert_eq(j.upscale.height, 0, "default");
	cr_assert_str_eq(j.encode.pix_fmt, "yuv420p", "default");
	text = print_to_string(&j);
	source_is(text, "", "input", "job");
	source_is(text, "", "preset", "job");
	source_is(text, "video", "filters", "preset p1");
	source_is(text, "encode", "codec", "preset p1");
	source_is(text, "encode", "preset", "job");
	source_is(text, "encode", "crf", "--set");
	source_is(text, "upscale", "width", "job");
	source_is(text, "upscale", "height", "default");
	source_is(text, "run", "temp_dir", "default");
	cr_assert_str_eq(line_of(text, "encode", "crf"),
			 "crf = 30                                 # --set");
	free(text);
	vhs_job_free(&j);
}

Test(job, set_preset_overrides_job_preset)
{
	struct vhs_job j;
	char *sets[] = { "preset=p2" };
	char *text;

	load_ok(&j, "input = 'i'\noutput = 'o'\npreset = 'p1'\n", sets, 1);
	cr_assert_str_eq(j.preset, "p2");
	cr_assert_str_eq(j.encode.codec, "p2codec");
	cr_assert_str_eq(j.video.filters, "", "p1 was not loaded");
	text = print_to_string(&j);
	source_is(text, "", "preset", "--set");
	source_is(text, "encode", "codec", "preset p2");
	free(text);
	vhs_job_free(&j);
}

Test(job, preset_from_set_alone)
{
	struct vhs_job j;
	char *sets[] = { " preset = \"p1\" ", "encode.crf=5" };

	load_ok(&j, io, sets, 2);
	cr_assert_str_eq(j.preset, "p1");
	cr_assert_str_eq(j.video.filters, "p1-video");
	cr_assert_eq(j.encode.crf, 5);
	vhs_job_free(&j);
}

Test(job, preset_none_and_none_toml)
{
	struct vhs_job j;

	load_ok(&j, "input = 'i'\noutput = 'o'\npreset = 'none'\n", NULL, 0);
	cr_assert_str_eq(j.encode.codec, "libx264", "no none.toml: table defaults");
	vhs_job_free(&j);
	put("presets/none.toml", "[encode]\ncodec = 'fromnone'\n");
	load_ok(&j, io, NULL, 0);
	cr_assert_str_eq(j.encode.codec, "fromnone", "none.toml, when present, is applied");
	vhs_job_free(&j);
}

Test(job, preset_errors)
{
	struct vhs_job j;

	snprintf(want, sizeof(want),
		 "%s:3:10: unknown preset 'p3' (did you mean 'p1'?); presets in %s: bad, broken, "
		 "none, p1, p2", jobpath, presets);
	cr_assert_eq(load(&j, "input = 'i'\noutput = 'o'\npreset = 'p3'\n"), -EINVAL);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "preset = '../presets/p1'\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:1:10: unknown preset '../presets/p1'; presets in %s: bad, broken, none, p1, p2",
		 jobpath, presets);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "preset = 'bad'\n"), -EINVAL);
	snprintf(want, sizeof(want), "%s/bad.toml:1:9: 'input' cannot be set by a preset", presets);
	cr_assert_str_eq(err, want);
	cr_assert_eq(load(&j, "preset = 'broken'\n"), -EINVAL);
	snprintf(want, sizeof(want), "%s/broken.toml:1:7: expected ']', found end of line", presets);
	cr_assert_str_eq(err, want);
	put("presets/p4.toml", "preset = 'p1'\n");
	cr_assert_eq(load(&j, "preset = 'p4'\n"), -EINVAL);
	snprintf(want, sizeof(want), "%s/p4.toml:1:10: 'preset' cannot be set by a preset", presets);
	cr_assert_str_eq(err, want);
	put("presets/p5.toml", "[encode]\ncrf = 99\n");
	cr_assert_eq(load(&j, "preset = 'p5'\n"), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s/p5.toml:2:7: 'crf' in [encode] must be between -1 and 63, not 99", presets);
	cr_assert_str_eq(err, want);
	fails("preset = 3\n", "1:10: 'preset' must be a string, not an integer");
}

Test(job, unknown_preset_in_missing_dir)
{
	struct vhs_job j;

	put("job.toml", "input = 'i'\noutput = 'o'\npreset = 'vhs'\n");
	cr_assert_eq(vhs_job_load(&j, jobpath, "/nonexistent", NULL, 0, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:3:10: unknown preset 'vhs'; presets in /nonexistent: none",
		 jobpath);
	cr_assert_str_eq(err, want);
}

/* ---- --set --------------------------------------------------------------------------- */

Test(job, set_values)
{
	struct vhs_job j;
	char *sets[] = {
		"encode.codec=ffv1",              /* bare string */
		"upscale.width=1440",             /* TOML integer */
		"encode.preset=\"slow\"",         /* TOML string */
		"video.filters=hqdn3d=1:2:3:4,eq=gamma=1.2",
		"stages.preprocess.workers=2",
		"stages.upscale.workers=auto",
		" encode.crf = 25 ",
		"encode.crf=26",                  /* the later one wins */
		"encode.audio_bitrate=128000",    /* an integer, taken as text for a string key */
		"run.segment_seconds=2",
		"upscale.model='bicubic'",
		"encode.pix_fmt=",
		"audio.filters=a=b # not a comment",
	};

	load_ok(&j, io, sets, sizeof(sets) / sizeof(sets[0]));
	cr_assert_str_eq(j.encode.codec, "ffv1");
	cr_assert_eq(j.upscale.width, 1440);
	cr_assert_str_eq(j.encode.preset, "slow");
	cr_assert_str_eq(j.video.filters, "hqdn3d=1:2:3:4,eq=gamma=1.2");
	cr_assert_eq(j.stages[1].workers, 2);
	cr_assert_eq(j.stages[2].workers, 0);
	cr_assert_eq(j.encode.crf, 26);
	cr_assert_str_eq(j.encode.audio_bitrate, "128000");
	cr_assert_eq(j.run.segment_seconds, 2.0);
	cr_assert_str_eq(j.upscale.model, "bicubic");
	cr_assert_str_eq(j.encode.pix_fmt, "");
	cr_assert_str_eq(j.audio.filters, "a=b # not a comment");
	vhs_job_free(&j);
}

Test(job, set_errors)
{
	set_fails("encode.crf=abc", "--set encode.crf=abc: 'crf' in [encode] must be an integer, not a string");
	set_fails("encode.crf=1.5", "--set encode.crf=1.5: 'crf' in [encode] must be an integer, not a float");
	set_fails("upscale.width=\"1440\"",
		  "--set upscale.width=\"1440\": 'width' in [upscale] must be an integer or \"auto\", not '1440'");
	set_fails("encode.crf=\"18\"", "--set encode.crf=\"18\": 'crf' in [encode] must be an integer, not a string");
	set_fails("run.segment_seconds=abc",
		  "--set run.segment_seconds=abc: 'segment_seconds' in [run] must be a number, not a string");
	set_fails("noequals", "--set noequals: expected section.key=value");
	set_fails("encode.crff=1", "--set encode.crff=1: unknown key 'crff' in [encode] (did you mean 'crf'?)");
	set_fails("inptu=x", "--set inptu=x: unknown key 'inptu' at top level (did you mean 'input'?)");
	set_fails("vidoe.filters=x", "--set vidoe.filters=x: unknown section [vidoe] (did you mean [video]?)");
	set_fails("stages.preproces.workers=2",
		  "--set stages.preproces.workers=2: unknown stage 'preproces' in [stages] "
		  "(did you mean 'preprocess'?)");
	set_fails("stages.decode.workers=0",
		  "--set stages.decode.workers=0: 'workers' in [stages.decode] must be \"auto\" or "
		  "between 1 and 256, not 0");
	set_fails("upscale.backend=gpu",
		  "--set upscale.backend=gpu: 'backend' in [upscale] must be one of cpu, cuda, auto, "
		  "not 'gpu' (did you mean 'cpu'?)");
}

Test(job, set_unknown_preset_and_bad_utf8)
{
	char msg[512];

	snprintf(msg, sizeof(msg),
		 "--set preset=vsh: unknown preset 'vsh'; presets in %s: bad, broken, none, p1, p2",
		 presets);
	set_fails("preset=vsh", msg);
	set_fails("encode.codec=\xff", "--set encode.codec=\xff: the value is not valid UTF-8");
	set_fails("encode.crf=1\n[x]", "--set encode.crf=1\\n[x]: 'crf' in [encode] must be an "
		  "integer, not a string");
}

/* ---- paths --------------------------------------------------------------------------- */

Test(job, relative_paths)
{
	struct vhs_job j;
	char w[512];

	load_ok(&j, "input = 'a/b.avi'\noutput = '../out.mkv'\n[run]\ntemp_dir = './tmp//x/'\n",
		NULL, 0);
	snprintf(w, sizeof(w), "%s/a/b.avi", dir);
	cr_assert_str_eq(j.input, w);
	snprintf(w, sizeof(w), "%s/../out.mkv", dir);
	cr_assert_str_eq(j.output, w, ".. is kept: the directory may be a symlink");
	snprintf(w, sizeof(w), "%s/tmp/x", dir);
	cr_assert_str_eq(j.run.temp_dir, w);
	vhs_job_free(&j);

	load_ok(&j, "input = '/abs/in.avi'\noutput = 'sub/dir/out.mkv'\n", NULL, 0);
	cr_assert_str_eq(j.input, "/abs/in.avi");
	snprintf(w, sizeof(w), "%s/sub/dir", dir);
	cr_assert_str_eq(j.run.temp_dir, w, "the output's directory, which need not exist");
	vhs_job_free(&j);

	load_ok(&j, "input = 'x.avi'\noutput = '/out.mkv'\n", NULL, 0);
	cr_assert_str_eq(j.run.temp_dir, "/");
	vhs_job_free(&j);
}

Test(job, relative_job_path_and_set_paths)
{
	struct vhs_job j;
	char cwd[512], w[600];
	char *sets[] = { "input=x.avi" };

	put("job.toml", "input = 'a.avi'\noutput = 'o.mkv'\n");
	cr_assert_eq(chdir(dir), 0);
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(vhs_job_load(&j, "job.toml", presets, NULL, 0, err, sizeof(err)), 0, "%s", err);
	snprintf(w, sizeof(w), "%s/a.avi", cwd);
	cr_assert_str_eq(j.input, w);
	cr_assert_str_eq(j.path, "job.toml");
	vhs_job_free(&j);

	cr_assert_eq(chdir(presets), 0);
	cr_assert_not_null(getcwd(cwd, sizeof(cwd)));
	cr_assert_eq(vhs_job_load(&j, "../job.toml", presets, sets, 1, err, sizeof(err)), 0, "%s",
		     err);
	snprintf(w, sizeof(w), "%s/x.avi", cwd);
	cr_assert_str_eq(j.input, w, "a --set path is relative to the current directory");
	snprintf(w, sizeof(w), "%s/../o.mkv", cwd);
	cr_assert_str_eq(j.output, w, "a job path is relative to the job file");
	vhs_job_free(&j);
}
