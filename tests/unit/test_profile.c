/* test_profile.c: the profiler's arithmetic (orchestrator/profile.c) and the files of a
 * profile (orchestrator/report.c), from a pipeline made up here: known frame times, known
 * busy and waiting counters, so every figure has one right value. The JSON and trace
 * files are read back with cJSON. */
#include <criterion/criterion.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile.h"
#include "report.h"

#define MS 1000000ull

/* n frames of one instance, each busy_ms of work inside a span of span_ms, back to back. */
static void s_frames(struct vhs_profiler *p, struct vhs_prof_instance *in, int n, uint32_t busy_ms,
		     uint32_t span_ms)
{
	struct vhs_trace t = { 0 };

	for (int i = 0; i < n; i++) {
		t.s[t.n++] = (struct vhs_trace_sample){ .start_ns = p->start_ns + (uint64_t)i * span_ms * MS,
							 .dur_ns = span_ms * (uint32_t)MS,
							 .busy_ns = busy_ms * (uint32_t)MS,
							 .segment = (uint32_t)i / 10, .index = (uint32_t)i };
		if (t.n == VHS_TRACE_SAMPLES || i == n - 1) {
			cr_assert_eq(vhs_profiler_trace(in, &t), 0);
			t.n = 0;
		}
	}
}

/* An instance whose process ran 1 s: busy, waiting for input and blocked on output in ms. */
static struct vhs_prof_instance *s_stage(struct vhs_profiler *p, enum vhs_stage_kind k, int instance,
					 uint64_t busy, uint64_t in, uint64_t out, uint64_t frames)
{
	struct vhs_prof_instance *x = vhs_profiler_instance(p, k, instance);
	struct vhs_stats st = { .busy_ns = busy * MS, .wait_in_ns = in * MS, .wait_out_ns = out * MS,
				.bytes_copied = frames * 1000, .copies = frames };
	struct rusage ru = { .ru_utime = { .tv_sec = 1 }, .ru_stime = { .tv_usec = 500000 }, .ru_maxrss = 2048 };

	cr_assert_not_null(x);
	vhs_profiler_process(x, &st, &ru, frames, frames * 4000);
	return x;
}

/* decode -> preprocess -> upscale -> encode, upscale the slow one: 20 ms a frame, busy
 * 95%, its neighbours waiting on it. 50 frames each. */
static void s_pipeline(struct vhs_profiler *p)
{
	struct vhs_plan plan = { .n_edges = 3, .workers = { 1, 1, 1, 0, 1 } };
	uint64_t frames[VHS_STAGE_KINDS] = { 0 };
	uint32_t full[VHS_PLAN_MAX_EDGES] = { 0 };

	vhs_profiler_init(p);
	plan.edges[0] = (struct vhs_plan_edge){ .from = VHS_DECODE, .to = VHS_PREPROCESS, .slots = 8, .name = "decode.video" };
	plan.edges[1] = (struct vhs_plan_edge){ .from = VHS_PREPROCESS, .to = VHS_UPSCALE, .slots = 8, .name = "preprocess.video" };
	plan.edges[2] = (struct vhs_plan_edge){ .from = VHS_UPSCALE, .to = VHS_ENCODE, .slots = 8, .name = "upscale.video" };
	vhs_profiler_attempt(p, &plan);
	s_frames(p, s_stage(p, VHS_DECODE, 0, 100, 0, 900, 50), 50, 2, 21);
	s_frames(p, s_stage(p, VHS_PREPROCESS, 0, 150, 50, 800, 50), 50, 3, 21);
	s_frames(p, s_stage(p, VHS_UPSCALE, 0, 950, 30, 20, 50), 50, 20, 21);
	s_frames(p, s_stage(p, VHS_ENCODE, 0, 200, 800, 0, 50), 50, 4, 21);
	for (int t = 0; t < 6; t++) { /* ticks 200 ms apart: 10 frames a tick, rings filling */
		for (int k = 0; k < VHS_STAGE_KINDS; k++)
			frames[k] = 10u * (uint64_t)t;
		full[0] = full[1] = (uint32_t)t + 2;
		full[2] = 1;
		vhs_profiler_tick(p, p->start_ns + (uint64_t)t * VHS_PROF_TICK_NS, frames, full);
	}
	p->end_ns = p->start_ns + 1050 * MS;
	p->output_frames = 50;
	p->fps_media = 25;
}

Test(profile, percentile_nearest_rank)
{
	uint32_t v[100];

	for (int i = 0; i < 100; i++)
		v[i] = (uint32_t)i + 1;
	cr_assert_eq(vhs_percentile(v, 100, 50), 50);
	cr_assert_eq(vhs_percentile(v, 100, 95), 95);
	cr_assert_eq(vhs_percentile(v, 100, 99), 99);
	cr_assert_eq(vhs_percentile(v, 100, 100), 100);
	cr_assert_eq(vhs_percentile(v, 1, 99), 1);
	cr_assert_eq(vhs_percentile(v, 3, 50), 2);
	cr_assert_eq(vhs_percentile(v, 0, 50), 0);
}

Test(profile, figures_of_an_instance)
{
	struct vhs_profiler p;
	struct vhs_prof_figures f;

	s_pipeline(&p);
	vhs_profiler_figures(&p, NULL, VHS_UPSCALE, &f);
	cr_assert_eq(f.frames, 50);
	cr_assert_float_eq(f.p50_ms, 20.0, 1e-9);
	cr_assert_float_eq(f.p99_ms, 20.0, 1e-9);
	cr_assert_float_eq(f.mean_ms, 20.0, 1e-9);
	cr_assert_float_eq(f.busy, 0.95, 1e-9);
	cr_assert_float_eq(f.wait_in, 0.03, 1e-9);
	cr_assert_float_eq(f.wait_out, 0.02, 1e-9);
	cr_assert_float_eq(f.span_s, 50 * 0.021, 1e-9);
	cr_assert_float_eq(f.fps, 50 / 1.05, 1e-9);
	cr_assert_float_eq(f.cpu_s, 1.5, 1e-9);
	cr_assert_float_eq(f.rss_mib, 2.0, 1e-9);
	cr_assert_lt(f.gpu_s, 0, "no GPU time measured: none, not 0");
	cr_assert_float_eq(f.bytes_per_frame, 4000, 1e-9);
	cr_assert_float_eq(f.copied_per_frame, 1000, 1e-9);
	cr_assert_float_eq(f.copies_per_frame, 1, 1e-9);
	vhs_profiler_free(&p);
}

Test(profile, workers_sum_and_restarts_add)
{
	struct vhs_profiler p;
	struct vhs_prof_figures f;
	struct vhs_prof_instance *a, *b;

	vhs_profiler_init(&p);
	a = s_stage(&p, VHS_PREPROCESS, 0, 600, 400, 0, 30);
	b = s_stage(&p, VHS_PREPROCESS, 1, 200, 800, 0, 10);
	s_frames(&p, a, 30, 10, 10);
	s_frames(&p, b, 10, 30, 30);
	cr_assert_eq(vhs_profiler_instance(&p, VHS_PREPROCESS, 1), b, "one instance per worker");
	s_stage(&p, VHS_PREPROCESS, 1, 200, 800, 0, 10); /* worker 1 restarted */
	cr_assert_eq(b->processes, 2);
	vhs_profiler_figures(&p, NULL, VHS_PREPROCESS, &f);
	cr_assert_eq(f.frames, 50);
	cr_assert_float_eq(f.busy, 1000.0 / 3000.0, 1e-9);
	cr_assert_float_eq(f.p50_ms, 10.0, 1e-9, "30 frames of 10 ms, 10 of 30 ms");
	cr_assert_float_eq(f.p95_ms, 30.0, 1e-9);
	cr_assert_float_eq(f.cpu_s, 4.5, 1e-9);
	vhs_profiler_figures(&p, b, -1, &f);
	cr_assert_eq(f.frames, 20);
	vhs_profiler_free(&p);
}

Test(profile, bottleneck_names_the_busy_stage_and_its_neighbours)
{
	struct vhs_profiler p;
	char why[512];

	s_pipeline(&p);
	cr_assert_eq(vhs_profiler_bottleneck(&p, why, sizeof(why)), VHS_UPSCALE, "%s", why);
	cr_assert(strstr(why, "upscale is busy 95%"), "%s", why);
	cr_assert(strstr(why, "preprocess is blocked on output 80%"), "%s", why);
	cr_assert(strstr(why, "encode waits for input 80%"), "%s", why);
	cr_assert_null(strstr(why, "saturated"), "%s", why);
	vhs_profiler_free(&p);
	vhs_profiler_init(&p);
	cr_assert_eq(vhs_profiler_bottleneck(&p, why, sizeof(why)), -1);
	vhs_profiler_free(&p);
}

Test(profile, bottleneck_says_when_no_stage_is_saturated)
{
	struct vhs_profiler p;
	char why[512];

	vhs_profiler_init(&p);
	s_frames(&p, s_stage(&p, VHS_DECODE, 0, 300, 700, 0, 10), 10, 3, 10);
	s_frames(&p, s_stage(&p, VHS_ENCODE, 0, 200, 800, 0, 10), 10, 2, 10);
	cr_assert_eq(vhs_profiler_bottleneck(&p, why, sizeof(why)), VHS_DECODE, "%s", why);
	cr_assert(strstr(why, "no stage is saturated"), "%s", why);
	vhs_profiler_free(&p);
}

Test(profile, ticks_keep_their_interval_and_add_attempts)
{
	struct vhs_profiler p;
	uint64_t frames[VHS_STAGE_KINDS] = { 5 };
	uint32_t full[VHS_PLAN_MAX_EDGES] = { 3 };

	vhs_profiler_init(&p);
	vhs_profiler_tick(&p, p.start_ns, frames, full);
	vhs_profiler_tick(&p, p.start_ns + VHS_PROF_TICK_NS / 2, frames, full); /* too soon */
	cr_assert_eq(p.n_ticks, 1);
	vhs_profiler_attempt_end(&p, frames); /* a crash: the next attempt starts from 0 again */
	frames[0] = 2;
	vhs_profiler_tick(&p, p.start_ns + VHS_PROF_TICK_NS, frames, full);
	cr_assert_eq(p.n_ticks, 2);
	cr_assert_eq(p.ticks[1].frames[0], 7);
	cr_assert_eq(p.ticks[1].full[0], 3);
	vhs_profiler_free(&p);
}

static char *s_slurp(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;
	long n;
	char *buf;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

static cJSON *s_item(const cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	cr_assert_not_null(v, "no \"%s\"", key);
	return v;
}

Test(profile, report_files_parse_and_carry_the_figures)
{
	struct vhs_profiler p;
	struct vhs_report_info info = { .job = "tape \"01\".toml", .output = "out.mkv", .cores = 2 };
	char dir[] = "/tmp/vhs-test-report.XXXXXX", err[256], *text;
	cJSON *o, *st, *up = NULL, *trace, *ev;
	int slices = 0, counters = 0;

	cr_assert_not_null(mkdtemp(dir));
	s_pipeline(&p);
	cr_assert_eq(vhs_report_write(&p, &info, dir, NULL, err, sizeof(err)), 0, "%s", err);
	text = s_slurp(dir, "profile.json");
	o = cJSON_Parse(text);
	cr_assert_not_null(o, "profile.json is not JSON: %s", text);
	cr_assert_str_eq(s_item(o, "job")->valuestring, "tape \"01\".toml");
	cr_assert_str_eq(s_item(s_item(o, "bottleneck"), "stage")->valuestring, "upscale");
	st = s_item(o, "stages");
	cr_assert_eq(cJSON_GetArraySize(st), 4);
	for (int i = 0; i < cJSON_GetArraySize(st); i++)
		if (!strcmp(s_item(cJSON_GetArrayItem(st, i), "name")->valuestring, "upscale"))
			up = cJSON_GetArrayItem(st, i);
	cr_assert_not_null(up);
	cr_assert_float_eq(s_item(s_item(up, "frame_ms"), "p50")->valuedouble, 20.0, 1e-6);
	cr_assert_float_eq(s_item(up, "busy")->valuedouble, 0.95, 1e-6);
	cr_assert(cJSON_IsNull(s_item(up, "gpu_s")));
	cr_assert_eq(cJSON_GetArraySize(s_item(up, "instances")), 1);
	cr_assert_eq(cJSON_GetArraySize(s_item(s_item(o, "timeline"), "t_s")), 6);
	cr_assert_eq(cJSON_GetArraySize(s_item(o, "rings")), 3);
	cr_assert_eq(s_item(cJSON_GetArrayItem(s_item(o, "rings"), 0), "max_full")->valueint, 7);
	cJSON_Delete(o);
	free(text);

	text = s_slurp(dir, "trace.json");
	trace = cJSON_Parse(text);
	cr_assert_not_null(trace, "trace.json is not JSON");
	cJSON_ArrayForEach(ev, s_item(trace, "traceEvents")) {
		const char *ph = s_item(ev, "ph")->valuestring;

		slices += !strcmp(ph, "X");
		counters += !strcmp(ph, "C");
		if (!strcmp(ph, "X"))
			cr_assert_gt(s_item(ev, "dur")->valuedouble, 0);
	}
	cr_assert_eq(slices, 4 * 50, "a slice per frame per stage");
	cr_assert_eq(counters, 6 * 3, "a counter per ring per tick");
	cJSON_Delete(trace);
	free(text);

	text = s_slurp(dir, "report.html");
	cr_assert(strstr(text, "<svg id=\"throughput\""));
	cr_assert(strstr(text, "<svg id=\"rings\""));
	cr_assert(strstr(text, "<polyline"));
	cr_assert_null(strstr(text, "src="), "a resource loaded from elsewhere");
	cr_assert_null(strstr(text, "href="), "a linked resource");
	cr_assert_null(strstr(text, "url("), "a resource in the style sheet");
	cr_assert_null(strstr(text, "<script"), "the page needs no script");
	cr_assert(strstr(text, "tape &quot;01&quot;.toml"), "the job's name escaped");
	free(text);
	text = s_slurp(dir, "profile.txt");
	cr_assert(strstr(text, "bottleneck: upscale is busy 95%"), "%s", text);
	free(text);
	vhs_profiler_free(&p);
	for (const char *const *n = (const char *const[]){ "profile.txt", "profile.json", "trace.json",
							   "report.html", NULL }; *n; n++) {
		char path[4200];

		snprintf(path, sizeof(path), "%s/%s", dir, *n);
		unlink(path);
	}
	cr_assert_eq(rmdir(dir), 0, "only the four files were left");
}

Test(profile, report_refuses_a_missing_directory)
{
	struct vhs_profiler p;
	struct vhs_report_info info = { .job = "j.toml", .output = "o.mkv" };
	char err[256] = "";

	s_pipeline(&p);
	cr_assert_lt(vhs_report_write(&p, &info, "/nonexistent/dir", NULL, err, sizeof(err)), 0);
	cr_assert(strstr(err, "cannot write '/nonexistent/dir/.profile.txt.tmp'"), "%s", err);
	vhs_profiler_free(&p);
}
