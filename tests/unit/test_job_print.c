/* test_job_print.c: the job printed (orchestrator/jobprint.c): `check`'s settings read back
 * as TOML, floats round trip, the CONFIG blob, the Markdown key reference; the repository's
 * presets and example jobs load; and the job keys stages read (proto/settings.h) are the
 * job's. Helpers: job_helpers.h. */
#include "job_helpers.h"

TestSuite(job_print, .init = setup, .fini = teardown);

/* ---- printing ------------------------------------------------------------------------ */

static const char tricky[] =
	"input = 'in \"quoted\" \\\\ dir/tape.avi'\n"
	"output = \"out\\\\x.mkv\"\n"
	"preset = 'p1'\n"
	"[video]\nfilters = \"a\\\\b\\nc\\td \\\"q\\\" \\u00e9 \\u0001 #x\"\n"
	"[stages.preprocess]\nworkers = 'auto'\n"
	"[run]\nsegment_seconds = 2.5\n";

Test(job_print, print_reparses)
{
	struct vhs_job j, again;
	struct toml_value *root = NULL;
	char *text, *kv1, *kv2;
	FILE *f;

	load_ok(&j, tricky, NULL, 0);
	text = print_to_string(&j);
	cr_assert_eq(toml_parse(text, strlen(text), "printed", &root, err, sizeof(err)), 0,
		     "%s\n%s", err, text);
	cr_assert_str_eq(toml_get(root, "input")->u.s, j.input);
	cr_assert_str_eq(toml_get(root, "output")->u.s, j.output);
	cr_assert_str_eq(toml_get(toml_get(root, "video"), "filters")->u.s, j.video.filters);
	cr_assert_str_eq(j.video.filters, "a\\b\nc\td \"q\" \xC3\xA9 \x01 #x");
	cr_assert_str_eq(toml_get(toml_get(toml_get(root, "stages"), "preprocess"), "workers")->u.s,
			 "auto");
	cr_assert_eq(toml_get(toml_get(root, "run"), "segment_seconds")->type, TOML_FLOAT);
	cr_assert_eq(toml_get(toml_get(root, "run"), "segment_seconds")->u.f, 2.5);
	cr_assert_eq(toml_get(toml_get(root, "encode"), "crf")->u.i, 10);
	cr_assert_eq(toml_get(root, "upscale")->u.tab.n, 6);
	cr_assert_eq(toml_get(root, "stages")->u.tab.n, 5);
	toml_free(&root);

	/* The printed file, loaded as a job, resolves to the same settings. */
	f = fopen(jobpath, "w");
	fputs(text, f);
	fclose(f);
	cr_assert_eq(vhs_job_load(&again, jobpath, presets, NULL, 0, err, sizeof(err)), 0, "%s", err);
	kv1 = vhs_job_to_kv(&j);
	kv2 = vhs_job_to_kv(&again);
	cr_assert_str_eq(kv1, kv2);
	free(kv1);
	free(kv2);
	free(text);
	vhs_job_free(&again);
	vhs_job_free(&j);
}

Test(job_print, print_floats_round_trip)
{
	static const char *const values[] = { "10", "0.1", "1e-7", "86400", "0.30000000000000004",
					      "12345.678", "3" };
	struct vhs_job j;
	struct toml_value *root = NULL;
	char set[64], *sets[] = { set }, *text;
	size_t i;

	for (i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		snprintf(set, sizeof(set), "run.segment_seconds=%s", values[i]);
		load_ok(&j, io, sets, 1);
		text = print_to_string(&j);
		cr_assert_eq(toml_parse(text, strlen(text), "p", &root, err, sizeof(err)), 0, "%s", err);
		cr_assert_eq(toml_get(toml_get(root, "run"), "segment_seconds")->type, TOML_FLOAT,
			     "%s", line_of(text, "run", "segment_seconds"));
		cr_assert_eq(toml_get(toml_get(root, "run"), "segment_seconds")->u.f,
			     j.run.segment_seconds, "%s", values[i]);
		toml_free(&root);
		free(text);
		vhs_job_free(&j);
	}
	load_ok(&j, io, NULL, 0);
	text = print_to_string(&j);
	cr_assert_str_eq(line_of(text, "run", "segment_seconds"),
			 "segment_seconds = 10.0                   # default");
	free(text);
	vhs_job_free(&j);
}

Test(job_print, to_kv)
{
	struct vhs_job j;
	char *blob, buf[256], w[256];
	long long v;
	size_t lines = 0;
	const char *p;

	load_ok(&j, tricky, NULL, 0);
	blob = vhs_job_to_kv(&j);
	cr_assert_not_null(blob);
	for (p = blob; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 53, "one line per key");
	cr_assert_eq(blob[strlen(blob) - 1], '\n');
	cr_assert(strstr(blob, "\nvideo.filters=a\\\\b\\nc\td \"q\" \xC3\xA9 \x01 #x\n"), "%s", blob);
	cr_assert(strstr(blob, "\nencode.crf=10\n"), "%s", blob);
	cr_assert(strstr(blob, "\nstages.preprocess.workers=0\n"), "%s", blob);
	cr_assert(strstr(blob, "\nstages.decode.workers=1\n"), "%s", blob);
	cr_assert(strstr(blob, "\nstages.preprocess.threads=0\n"), "threads default to auto: %s", blob);
	cr_assert(strstr(blob, "\nrun.segment_seconds=2.5\n"), "%s", blob);
	cr_assert(strstr(blob, "\npreset=p1\n"), "%s", blob);
	cr_assert_eq(strncmp(blob, "input=", 6), 0, "%s", blob);

	cr_assert_eq(vhs_kv_get(blob, "video.filters", buf, sizeof(buf)), (int)strlen(j.video.filters));
	cr_assert_str_eq(buf, j.video.filters);
	cr_assert_gt(vhs_kv_get(blob, "input", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, j.input);
	snprintf(w, sizeof(w), "%s/out\\x.mkv", dir);
	cr_assert_gt(vhs_kv_get(blob, "output", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, w);
	cr_assert_gt(vhs_kv_get(blob, "preset", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "p1");
	cr_assert_gt(vhs_kv_get(blob, "encode.preset", buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "p1preset");
	cr_assert_eq(vhs_kv_get_int(blob, "encode.crf", &v), 0);
	cr_assert_eq(v, 10);
	cr_assert_eq(vhs_kv_get_int(blob, "upscale.width", &v), 0);
	cr_assert_eq(v, 640);
	cr_assert_eq(vhs_kv_get_int(blob, "run.ring_slots", &v), 0);
	cr_assert_eq(v, 8);
	cr_assert_eq(vhs_kv_get(blob, "run.nothing", buf, sizeof(buf)), -ENOENT);
	free(blob);
	vhs_job_free(&j);
}

Test(job_print, print_reference)
{
	char *buf = NULL;
	size_t len = 0, lines = 0;
	FILE *f = open_memstream(&buf, &len);
	const char *p;

	vhs_job_print_reference(f);
	fclose(f);
	for (p = buf; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 2 + 53, "%s", buf);
	cr_assert(strstr(buf, "\n| `upscale.scale` | integer | `2` | 2, 3, 4, 8 |"), "%s", buf);
	cr_assert_eq(strncmp(buf, "| Key | Type | Default | Allowed | Description |\n", 49), 0);
	cr_assert(strstr(buf, "\n| `encode.crf` | integer | `-1` | -1..63 | "), "%s", buf);
	cr_assert(strstr(buf, "\n| `input` | path | (required) |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `upscale.width` | integer or \"auto\" | `0` | 0, 16..8192 or `\"auto\"` |"),
		  "%s", buf);
	cr_assert(strstr(buf, "\n| `video.levels` | string | `off` | `auto`, `off`, `<black:white>` |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `upscale.backend` | string | `cpu` | `cpu`, `cuda`, `auto` |"),
		  "%s", buf);
	cr_assert(strstr(buf, "\n| `stages.preprocess.workers` | integer or \"auto\" | `1` |"),
		  "%s", buf);
	cr_assert(strstr(buf, "\n| `video.filters` | string | `\"\"` |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.segment_seconds` | number | `10` |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.warmup_frames` | integer | `30` | 0..10000 |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.audio_warmup` | number | `3` |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.restart_limit` | integer | `5` | 0..64 |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.restart_window` | number | `60` |"), "%s", buf);
	cr_assert(strstr(buf, "\n| `run.max_memory` | string | `auto` | `auto`, `N%`, or a size"), "%s", buf);
	cr_assert(strstr(buf, "\n| `stages.upscale.threads` | integer or \"auto\" | `\"auto\"` |"), "%s", buf);
	free(buf);
}

/* ---- the repository's presets and configs -------------------------------------------- */

static void load_repo_preset(struct vhs_job *j, const char *preset)
{
	char text[256];

	snprintf(text, sizeof(text), "%spreset = '%s'\n", io, preset);
	put("job.toml", text);
	cr_assert_eq(vhs_job_load(j, jobpath, VHS_DATADIR "/presets", NULL, 0, err, sizeof(err)), 0,
		     "%s", err);
}

Test(job_print, repo_presets)
{
	struct vhs_job j;

	load_repo_preset(&j, "vhs");
	cr_assert_str_eq(j.video.filters, "hqdn3d=3:2:3:2,eq=contrast=1.1:brightness=0.05:saturation=1.05");
	cr_assert_str_eq(j.video.deinterlace, "auto");
	cr_assert_str_eq(j.video.field_order, "auto");
	cr_assert_str_eq(j.video.levels, "auto");
	cr_assert_str_eq(j.video.head_switching, "auto");
	cr_assert_str_eq(j.audio.filters, "");
	cr_assert_str_eq(j.audio.enhance, "moderate");
	cr_assert_str_eq(j.audio.hum, "auto");
	cr_assert_eq(j.audio.hiss, 15.0);
	cr_assert_eq(j.audio.loudness, -16.0);
	cr_assert_eq(j.upscale.width, -1, "auto");
	cr_assert_eq(j.upscale.height, 1080);
	cr_assert_str_eq(j.upscale.model, "lanczos");
	cr_assert_str_eq(j.encode.sar, "1:1");
	cr_assert_str_eq(j.encode.codec, "libx264");
	cr_assert_str_eq(j.encode.preset, "fast");
	cr_assert_eq(j.encode.crf, 18);
	cr_assert_str_eq(j.encode.pix_fmt, "yuv420p");
	cr_assert_str_eq(j.encode.audio_codec, "aac");
	cr_assert_str_eq(j.encode.audio_bitrate, "192k");
	vhs_job_free(&j);

	load_repo_preset(&j, "dvd");
	cr_assert_str_eq(j.video.filters, "hqdn3d=2:1:2:1");
	cr_assert_str_eq(j.video.deinterlace, "auto");
	cr_assert_eq(j.upscale.width, -1, "auto");
	cr_assert_eq(j.upscale.height, 1080);
	cr_assert_str_eq(j.encode.sar, "1:1");
	cr_assert_eq(j.encode.crf, 18);
	vhs_job_free(&j);

	load_repo_preset(&j, "webcam");
	cr_assert_str_eq(j.video.filters, "hqdn3d=4:3:4:3");
	cr_assert_eq(j.upscale.width, 0);
	cr_assert_eq(j.upscale.height, 0);
	cr_assert_str_eq(j.encode.codec, "libx264");
	cr_assert_eq(j.encode.crf, 20);
	vhs_job_free(&j);

	load_repo_preset(&j, "none");
	cr_assert_str_eq(j.video.filters, "");
	cr_assert_eq(j.encode.crf, -1);
	vhs_job_free(&j);
}

Test(job_print, repo_configs)
{
	struct vhs_job j;
	const char *tail;

	cr_assert_eq(vhs_job_load(&j, VHS_DATADIR "/demo.toml", VHS_DATADIR "/presets", NULL, 0, err,
				  sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(j.preset, "vhs");
	tail = j.input + strlen(j.input) - strlen("/configs/../build/demo/tape.avi");
	cr_assert_str_eq(tail, "/configs/../build/demo/tape.avi", "%s", j.input);
	cr_assert_eq(j.upscale.width, 1440);
	vhs_job_free(&j);

	cr_assert_eq(vhs_job_load(&j, VHS_DATADIR "/example-job.toml", VHS_DATADIR "/presets", NULL, 0,
				  err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(j.input, VHS_DATADIR "/tape01.avi");
	cr_assert_str_eq(j.output, VHS_DATADIR "/tape01.mkv");
	cr_assert_eq(j.encode.crf, 18);
	cr_assert_eq(j.run.segment_seconds, 10.0);
	vhs_job_free(&j);
}

Test(job_print, memory_sizes)
{
	const uint64_t ram = 16ull << 30;
	static const struct {
		const char *text;
		uint64_t bytes;
	} ok[] = {
		{ "auto", 8ull << 30 }, { "50%", 8ull << 30 }, { "12.5%", 2ull << 30 }, { "100%", 16ull << 30 },
		{ "6G", 6ull << 30 },   { "512M", 512ull << 20 }, { "1.5G", 3ull << 29 }, { "2T", 2ull << 40 },
		{ "64K", 64ull << 10 }, { "4096", 4096 }, { "6GB", 6ull << 30 }, { "6GiB", 6ull << 30 },
	};
	static const char *const bad[] = { "", "lots", "0", "-1G", "6X", "6 G", " 6G", "101%", "%", "G",
					   "6Gb", "1e30", "nan", "0%" };
	uint64_t b;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		cr_assert_eq(vhs_job_memory_bytes(ok[i].text, ram, &b), 0, "'%s'", ok[i].text);
		cr_assert_eq(b, ok[i].bytes, "'%s': %llu", ok[i].text, (unsigned long long)b);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(vhs_job_memory_bytes(bad[i], ram, &b), -EINVAL, "'%s' accepted", bad[i]);
}

/* proto/settings.h declares the job keys stages read; each must be one of the job's own keys
 * (orchestrator/job.c's table, which holds its type, default and range) and so in every
 * CONFIG blob, and no run key may be a job key. */
Test(job_print, settings_declared_for_stages_are_job_keys)
{
	struct vhs_job j;
	char *blob, buf[4096];
	int jobs = 0;

	load_ok(&j, io, NULL, 0);
	blob = vhs_job_to_kv(&j);
	cr_assert_not_null(blob);
	for (int id = 0; id < VHS_SETTINGS_COUNT; id++) {
		const struct vhs_setting_decl *d = vhs_setting_decl((enum vhs_setting_id)id);
		int ret = vhs_kv_get(blob, d->name, buf, sizeof(buf));

		if (d->kind == VHS_SETTING_JOB) {
			cr_assert_geq(ret, 0, "%s is declared a job key but the job has no such key", d->name);
			cr_assert_null(d->absent, "%s: a job key has no value for absent", d->name);
			jobs++;
		} else {
			cr_assert_eq(ret, -ENOENT, "%s is declared a run key but is a job key", d->name);
		}
	}
	cr_assert_gt(jobs, 20);
	free(blob);
	vhs_job_free(&j);
}
