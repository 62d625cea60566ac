/* test_schedule.c: a chain per stretch of the tape: the schedule text (proto/schedule.c),
 * which segment gets which chain, and how the video choice (orchestrator/videochoice.c)
 * makes a schedule from the analysis's sampled runs of a tape whose scan changes.
 */
#include "schedule.h"
#include "videochoice.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the schedule text ---- */

static char *s_written(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	vhs_schedule_write(f, -INFINITY, 5.5, "fieldmatch,vhs_decimate,fps=60000/1001");
	vhs_schedule_write(f, 9.25, 20, "fps=60000/1001,\nhqdn3d");
	vhs_schedule_write(f, 30, INFINITY, "null");
	fclose(f);
	return text;
}

Test(schedule, written_and_read_back)
{
	struct vhs_schedule s;
	char err[128], *text = s_written();

	cr_assert_eq(vhs_schedule_parse(text, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.n, 3);
	cr_assert(isinf(s.s[0].from) && s.s[0].from < 0, "an open start reads back open");
	cr_assert_float_eq(s.s[0].to, 5.5, 1e-9);
	cr_assert_str_eq(s.s[0].chain, "fieldmatch,vhs_decimate,fps=60000/1001");
	cr_assert_float_eq(s.s[1].from, 9.25, 1e-9);
	cr_assert_str_eq(s.s[1].chain, "fps=60000/1001, hqdn3d", "a newline in a chain becomes a space");
	cr_assert(isinf(s.s[2].to) && s.s[2].to > 0, "an open end reads back open");
	vhs_schedule_free(&s);
	cr_assert_eq(s.n, 0);
	free(text);
}

Test(schedule, none_is_empty)
{
	struct vhs_schedule s;
	char err[128];

	cr_assert_eq(vhs_schedule_parse(NULL, &s, err, sizeof(err)), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_str_eq(vhs_schedule_pick(&s, 0, 10, "default"), "default");
	cr_assert_eq(vhs_schedule_parse("", &s, err, sizeof(err)), 0);
	cr_assert_eq(s.n, 0);
	/* the last line may lack its newline */
	cr_assert_eq(vhs_schedule_parse("1 2 null", &s, err, sizeof(err)), 0);
	cr_assert_eq(s.n, 1);
	cr_assert_str_eq(s.s[0].chain, "null");
	vhs_schedule_free(&s);
}

Test(schedule, refuses_what_is_not_one)
{
	static const char *const bad[] = {
		"1 2\n",                      /* no chain */
		"1 2 \n",                     /* an empty chain */
		"x 2 null\n",                 /* not a number */
		"2 1 null\n",                 /* ends before it starts */
		"1 1 null\n",                 /* empty */
		"0 5 a\n4 8 b\n",             /* overlapping */
		"5 8 a\n0 2 b\n",             /* out of order */
		"0 5 a\n\n",                  /* an empty line */
	};
	struct vhs_schedule s;
	char err[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(vhs_schedule_parse(bad[i], &s, err, sizeof(err)), -EINVAL, "\"%s\" was read", bad[i]);
		cr_assert(strstr(err, "is not 'FROM TO CHAIN' in order"), "\"%s\": %s", bad[i], err);
		cr_assert_eq(s.n, 0);
	}
	cr_assert_eq(vhs_schedule_parse("0 5 a\n5 8 b\nx\n", &s, err, sizeof(err)), -EINVAL);
	cr_assert_str_eq(err, "schedule line 3 is not 'FROM TO CHAIN' in order");
}

/* A segment gets the chain of the stretch it lies in whole, else the default. */
Test(schedule, segments_pick_the_stretch_they_lie_in)
{
	struct vhs_schedule s;
	char err[128], *text = s_written();

	cr_assert_eq(vhs_schedule_parse(text, &s, err, sizeof(err)), 0);
	cr_assert_str_eq(vhs_schedule_pick(&s, -INFINITY, 2, "D"), s.s[0].chain, "the first segment, open");
	cr_assert_str_eq(vhs_schedule_pick(&s, 2, 5.5, "D"), s.s[0].chain, "to the stretch's end");
	cr_assert_str_eq(vhs_schedule_pick(&s, 4, 6, "D"), "D", "crossing the stretch's end");
	cr_assert_str_eq(vhs_schedule_pick(&s, 6, 9, "D"), "D", "between stretches");
	cr_assert_str_eq(vhs_schedule_pick(&s, 8, 12, "D"), "D", "crossing into a stretch");
	cr_assert_str_eq(vhs_schedule_pick(&s, 9.25, 20, "D"), s.s[1].chain, "exactly the stretch");
	cr_assert_str_eq(vhs_schedule_pick(&s, 15, 25, "D"), "D", "from one stretch into the gap");
	cr_assert_str_eq(vhs_schedule_pick(&s, 40, INFINITY, "D"), s.s[2].chain, "the last segment, open");
	cr_assert_str_eq(vhs_schedule_pick(&s, -INFINITY, INFINITY, "D"), "D", "one segment for the tape");
	vhs_schedule_free(&s);
	free(text);
}

/* ---- the schedule the video choice makes ---- */

static struct vhs_job s_job(double segment_seconds)
{
	struct vhs_job j;

	memset(&j, 0, sizeof(j));
	j.video.filters = "hqdn3d";
	j.video.deinterlace = "auto";
	j.video.field_order = "auto";
	j.video.levels = "off";
	j.video.chroma_shift = "off";
	j.video.head_switching = "off";
	j.video.dropouts = "off";
	j.upscale.width = 1440;
	j.upscale.height = 1080;
	j.run.segment_seconds = segment_seconds;
	return j;
}

/* An analysis of a mixed tape at 29.97 fps starting at stream time 1.5 s, its runs' kinds
 * (and field orders, "KIND ORDER"; without one, top first) given in order, one run every
 * `every` seconds (runs of 12 frames: 0.4 s), their times rounded as the analysis writes them. */
static char *s_analysis(const char *const *kinds, size_t n, double every)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	cr_assert_not_null(f);
	fprintf(f, "scan=mixed\nscan_confidence=0.6\nscan_major=telecine\nscan_moving=200\n"
		   "field_order=tff\nfield_order_confidence=1\ncontainer_field_order=tff\n"
		   "width=720\nheight=480\nsar=8:9\nrate=30000:1001\norigin=1.5\nrun_frames=12\nruns=%zu\n", n);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "run.%zu=%.3f %s%s\n", i, every * i, kinds[i], strchr(kinds[i], ' ') ? "" : " tff");
	fclose(f);
	return text;
}

static void s_choose_every(const char *const *kinds, size_t n, double every, double segment_seconds,
			   struct vhs_video_choice *c)
{
	struct vhs_job job = s_job(segment_seconds);
	char err[128], *text = s_analysis(kinds, n, every);

	cr_assert_eq(vhs_video_choose(&job, text, &(struct vhs_video_machine){ 2, NULL }, c, err, sizeof(err)), 0,
		     "%s", err);
	free(text);
}

static void s_choose(const char *const *kinds, size_t n, double segment_seconds, struct vhs_video_choice *c)
{
	s_choose_every(kinds, n, 2.0, segment_seconds, c);
}

static bool s_said(const struct vhs_video_choice *c, const char *what)
{
	for (int i = 0; i < c->n_lines; i++)
		if (strstr(c->lines[i], what))
			return true;
	return false;
}

#define IVTC "fieldmatch=order=tff:combmatch=full,yadif=deint=interlaced,vhs_decimate,fps=60000/1001,hqdn3d"

Test(videochoice, film_then_video_then_film)
{
	static const char *const kinds[] = { "telecine", "unknown", "telecine", "interlaced", "mixed",
					     "interlaced", "telecine", "telecine" };
	struct vhs_video_choice c;
	struct vhs_schedule s;
	char err[128];

	s_choose(kinds, 8, 10, &c);
	cr_assert_str_eq(c.chain, "bwdif=mode=send_field:parity=tff:deint=all,fps=60000/1001,hqdn3d",
			 "the default: deinterlaced, at the field rate, the user's filters after");
	cr_assert_not_null(c.schedule);
	cr_assert_eq(vhs_schedule_parse(c.schedule, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.n, 2, "%s", c.schedule);
	/* runs 0-2 (a still run inside): open at the start, to run 2's end; stream time */
	cr_assert(isinf(s.s[0].from) && s.s[0].from < 0);
	cr_assert_float_eq(s.s[0].to, 1.5 + 4 + 12 * 1001 / 30000.0, 1e-6);
	cr_assert_str_eq(s.s[0].chain, IVTC);
	/* runs 6-7: from run 6's start, open at the end */
	cr_assert_float_eq(s.s[1].from, 1.5 + 12, 1e-6);
	cr_assert(isinf(s.s[1].to) && s.s[1].to > 0);
	cr_assert_str_eq(s.s[1].chain, IVTC);
	cr_assert(s_said(&c, "stretch by stretch, all at 60000/1001 fps"));
	cr_assert(s_said(&c, "stretch: the start to 0:04.4, telecine -> ivtc"));
	cr_assert(s_said(&c, "stretch: 0:12.0 to the end, telecine"));
	vhs_schedule_free(&s);
	vhs_video_choice_free(&c);
}

Test(videochoice, progressive_and_shifted_stretches)
{
	static const char *const kinds[] = { "interlaced", "progressive", "progressive", "shifted", "interlaced" };
	struct vhs_video_choice c;
	struct vhs_schedule s;
	char err[128];

	s_choose(kinds, 5, 10, &c);
	cr_assert_eq(vhs_schedule_parse(c.schedule, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.n, 2, "%s", c.schedule);
	cr_assert_float_eq(s.s[0].from, 1.5 + 2, 1e-6);
	cr_assert_str_eq(s.s[0].chain, "fps=60000/1001,hqdn3d", "progressive: each frame twice");
	cr_assert_float_eq(s.s[1].from, 1.5 + 6, 1e-6);
	cr_assert_str_eq(s.s[1].chain, "fieldmatch=order=tff:combmatch=none,fps=60000/1001,hqdn3d");
	vhs_schedule_free(&s);
	vhs_video_choice_free(&c);
}

/* One segment for the whole tape: no stretch could be restored its own way. */
Test(videochoice, one_segment_restores_the_tape_as_one)
{
	static const char *const kinds[] = { "telecine", "telecine", "interlaced" };
	struct vhs_video_choice c;

	s_choose(kinds, 3, 0, &c);
	cr_assert_null(c.schedule);
	cr_assert(s_said(&c, "segment_seconds = 0 makes the tape one segment"));
	cr_assert_str_eq(c.chain, "fieldmatch=order=tff:combmatch=full,yadif=deint=interlaced,vhs_decimate,hqdn3d",
			 "the kind with the most evidence (telecine, 60%%)");
	vhs_video_choice_free(&c);
}

/* Interlaced runs and runs of no one kind make no stretch of their own. */
Test(videochoice, nothing_but_video_needs_no_schedule)
{
	static const char *const kinds[] = { "interlaced", "mixed", "unknown", "interlaced" };
	struct vhs_video_choice c;

	s_choose(kinds, 4, 10, &c);
	cr_assert_null(c.schedule);
	vhs_video_choice_free(&c);
}

/* Runs that follow each other directly (a short tape is sampled whole), their times rounded:
 * each stretch ends where the next begins at the latest, so the schedule reads back; and a
 * stretch whose runs say bottom first is matched bottom first. */
Test(videochoice, back_to_back_runs)
{
	static const char *const kinds[] = { "telecine", "progressive", "progressive", "telecine bff",
					     "telecine bff", "interlaced", "shifted", "interlaced" };
	struct vhs_video_choice c;
	struct vhs_schedule s;
	char err[128];

	s_choose_every(kinds, 8, 12 * 1001 / 30000.0, 10, &c);
	cr_assert_not_null(c.schedule);
	cr_assert_eq(vhs_schedule_parse(c.schedule, &s, err, sizeof(err)), 0, "%s: %s", err, c.schedule);
	cr_assert_eq(s.n, 4, "%s", c.schedule);
	for (size_t i = 1; i < s.n; i++)
		cr_assert(s.s[i].from >= s.s[i - 1].to, "stretch %zu overlaps the one before:\n%s", i, c.schedule);
	cr_assert(strstr(s.s[0].chain, "fieldmatch=order=tff"), "%s", s.s[0].chain);
	cr_assert(strstr(s.s[2].chain, "fieldmatch=order=bff"), "the bff film stretch: %s", s.s[2].chain);
	vhs_schedule_free(&s);
	vhs_video_choice_free(&c);
}

/* ---- what auto deinterlaces interlaced video with, by the machine ---- */

/* An interlaced tape: mc from VHS_MC_AUTO_CORES cores (at the job's preset), bwdif below,
 * and a resumed run keeps what it began with whatever the machine; each says why. */
Test(videochoice, auto_takes_mc_where_the_machine_keeps_up)
{
	static const char analysis[] = "scan=interlaced\nscan_confidence=1\nscan_major=interlaced\nscan_moving=200\n"
				       "field_order=bff\nfield_order_confidence=1\ncontainer_field_order=bff\n"
				       "width=720\nheight=480\nsar=8:9\nrate=30000:1001\n";
	static const struct {
		struct vhs_video_machine m;
		const char *chain, *why;
	} cases[] = {
		{ { VHS_MC_AUTO_CORES, NULL }, "vhs_mcdeint=preset=medium:parity=bff,hqdn3d", "auto takes it from 4 cores" },
		{ { 64, NULL }, "vhs_mcdeint=preset=medium:parity=bff,hqdn3d", "this machine has 64" },
		{ { VHS_MC_AUTO_CORES - 1, NULL }, "bwdif=mode=send_field:parity=bff:deint=all,hqdn3d",
		  "takes 4 cores to keep up and this machine has 3" },
		{ { 64, "bwdif" }, "bwdif=mode=send_field:parity=bff:deint=all,hqdn3d", "as the run began" },
		{ { 1, "mc" }, "vhs_mcdeint=preset=medium:parity=bff,hqdn3d", "as the run began" },
	};
	struct vhs_job job = s_job(10);

	job.video.mc_preset = "medium";
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vhs_video_choice c;
		char err[128];

		cr_assert_eq(vhs_video_choose(&job, analysis, &cases[i].m, &c, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(c.chain, cases[i].chain, "case %zu", i);
		cr_assert(s_said(&c, cases[i].why), "case %zu does not say '%s'", i, cases[i].why);
		vhs_video_choice_free(&c);
	}
	cr_assert_str_eq(vhs_video_auto_interlaced(VHS_MC_AUTO_CORES), "mc");
	cr_assert_str_eq(vhs_video_auto_interlaced(2), "bwdif");
	{ /* mc_sharpen reaches the filter */
		struct vhs_video_choice c;
		char err[128];

		job.video.mc_sharpen = 6;
		cr_assert_eq(vhs_video_choose(&job, analysis, &cases[0].m, &c, err, sizeof(err)), 0, "%s", err);
		cr_assert_str_eq(c.chain, "vhs_mcdeint=preset=medium:parity=bff:sharpen=6,hqdn3d");
		vhs_video_choice_free(&c);
	}
}
