/* workdir.c: the run's work dir (run.h): the manifest and the finished segments (kept for
 * --resume), --resume and --restart, the whole-track audio analysis made once a run, and the
 * output settled at the end (OUTPUT.part renamed, or removed).
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze.h"
#include "child.h"
#include "readfile.h"
#include "exitcode.h"
#include "videochoice.h"

/* Whether the work dir holds segment index's file of kind. */
bool run_segment_exists(const struct run *r, enum vhs_segment_file kind, unsigned index)
{
	char path[PATH_MAX + 64];

	vhs_segment_file_path(path, sizeof(path), r->work_dir, kind, index);
	return access(path, F_OK) == 0;
}

/* Video frames in the finished segments. */
uint64_t run_done_frames(const struct run *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->man.n_done; i++)
		n += (uint64_t)r->man.done[i].frames;
	return n;
}

/* Is name the manifest, a file of a finished segment, or an analysis (kept through the
 * run, and after it with finished segments, for --resume)? */
static bool s_keeps(const struct run *r, const char *name, bool last)
{
	unsigned k;
	char kind, ext[8];

	if (!strcmp(name, VHS_FILE_ANALYSIS) || !strcmp(name, VHS_FILE_VIDEO_ANALYSIS))
		return !last || r->man.n_done > 0;
	if (!strcmp(name, VHS_FILE_MANIFEST))
		return r->man.n_done > 0;
	if (sscanf(name, "%c%6u.%4s", &kind, &k, ext) != 3 || (kind != 'v' && kind != 'a'))
		return false;
	return vhs_manifest_has(&r->man, k);
}

/* Removes everything in the work dir but what keep allows (the manifest and finished
 * segments); at the end of the run (last) with nothing kept, the dir itself goes. */
int run_tidy(struct run *r, bool keep, bool last)
{
	DIR *d = opendir(r->work_dir);
	char path[PATH_MAX + 300];
	struct dirent *e;
	int kept = 0;

	while (d && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (keep && s_keeps(r, e->d_name, last)) {
			kept += strcmp(e->d_name, VHS_FILE_ANALYSIS) != 0;
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", r->work_dir, e->d_name);
		unlink(path);
	}
	if (d)
		closedir(d);
	if (!kept && last)
		rmdir(r->work_dir);
	return kept ? (int)r->man.n_done : 0;
}

bool run_all_done(const struct run *r)
{
	if (!r->man.segments_total)
		return false;
	for (uint32_t k = 0; k < r->man.segments_total; k++)
		if (!vhs_manifest_has(&r->man, k))
			return false;
	return true;
}

/* Drops manifest entries whose files are gone or have another size. */
static void s_check_segments(struct run *r)
{
	for (size_t i = 0; i < r->man.n_done;) {
		const struct vhs_manifest_segment *s = &r->man.done[i];
		char path[PATH_MAX + 64];
		struct stat st;
		uint64_t bytes = 0;

		vhs_segment_file_path(path, sizeof(path), r->work_dir, VHS_SEGMENT_VIDEO, s->index);
		bytes += stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		vhs_segment_file_path(path, sizeof(path), r->work_dir, VHS_SEGMENT_AUDIO, s->index);
		bytes += stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
		if (bytes == s->bytes) {
			i++;
			continue;
		}
		fprintf(stderr, "vhs-orchestrate: warning: segment %u in '%s' is missing or damaged; "
			"it is made again\n", s->index, r->work_dir);
		memmove(&r->man.done[i], &r->man.done[i + 1], (r->man.n_done - i - 1) * sizeof(*s));
		r->man.n_done--;
	}
}

/* Finds or starts the work dir. --resume continues a manifest whose settings and input
 * match; --restart discards it; plain `run` refuses to guess. Returns an exit code. */
int run_open_work(struct run *r)
{
	char path[PATH_MAX + 64], tmp[PATH_MAX], err[512];
	char *kv = vhs_job_to_kv(r->job);
	uint64_t fp = kv ? vhs_manifest_fingerprint(kv) : 0;
	struct stat st;
	int ret;

	free(kv);
	snprintf(tmp, sizeof(tmp), "%s", r->job->output);
	snprintf(r->work_dir, sizeof(r->work_dir), "%s/%s.vhs-work", r->job->run.temp_dir, basename(tmp));
	if (r->opts->work_dir)
		snprintf(r->work_dir, sizeof(r->work_dir), "%s", r->opts->work_dir);
	if (stat(r->job->input, &st) != 0)
		return run_error_code(r, VHS_EXIT_INPUT, "cannot read input '%s': %s", r->job->input, strerror(errno));
	if (mkdir(r->work_dir, 0700) != 0 && errno != EEXIST)
		return run_error_code(r, VHS_EXIT_OUTPUT, "cannot create the work dir '%s': %s", r->work_dir,
				    strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", r->work_dir, VHS_FILE_MANIFEST);
	ret = vhs_manifest_load(&r->man, path, err, sizeof(err));
	if (ret == -EINVAL && !r->opts->restart)
		return run_error_code(r, VHS_EXIT_JOB, "%s; start over with --restart", err);
	if (ret == 0 && !r->opts->restart && !r->opts->resume)
		return run_error_code(r, VHS_EXIT_USAGE, "an unfinished run of this job is in '%s' (%zu segment%s "
				    "finished); continue it with --resume or start over with --restart",
				    r->work_dir, r->man.n_done, r->man.n_done == 1 ? "" : "s");
	if (ret == 0 && !r->opts->restart &&
	    (r->man.fingerprint != fp || r->man.input_size != (uint64_t)st.st_size ||
	     r->man.input_mtime_ns != (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec))
		return run_error_code(r, VHS_EXIT_JOB, "the %s changed since the unfinished run in '%s'; "
				    "resuming would mix two different restorations: start over with --restart",
				    r->man.fingerprint != fp ? "job settings" : "input file", r->work_dir);
	if (ret || r->opts->restart)
		vhs_manifest_free(&r->man);
	if (ret == 0 && !r->opts->restart) {
		s_check_segments(r);
		fprintf(stderr, "vhs-orchestrate: resuming: %zu segments already done%s\n", r->man.n_done,
			run_all_done(r) ? " (all of them)" : "");
	} else if (r->opts->resume && ret == -ENOENT) {
		fprintf(stderr, "vhs-orchestrate: nothing to resume in '%s'; starting from the beginning\n",
			r->work_dir);
	}
	r->man.fingerprint = fp;
	r->man.input_size = (uint64_t)st.st_size;
	r->man.input_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	run_tidy(r, true, false);
	return 0;
}

/* Whether the job's audio switches need the whole-track analysis (dsp/audio/enhance.h
 * decides the same from the settings, and fails if it is not given). */
static bool s_needs_analysis(const struct vhs_job *job)
{
	return !*job->audio.filters && (!strcmp(job->audio.hum, "auto") || job->audio.hiss > 0 ||
					 !strcmp(job->audio.channels, "auto"));
}

/* The decode stage's analysis (what: "audio" or "video") of the input into path, its line
 * into line. Returns 0, or -1 (nothing to analyse: "none: ..."), or the run's exit code. */
static int s_analyze(struct run *r, const char *what, const char *path, char *line, size_t len)
{
	uint64_t t0 = vhs_now_ns();
	sigset_t pending;
	int ret;

	fprintf(stderr, "vhs-orchestrate: %s: analysing the whole %s...\n", what,
		!strcmp(what, "audio") ? "track" : "tape");
	ret = vhs_analyze(r->opts->stage_dir, what, r->job->input, path, line, len);
	sigpending(&pending);
	if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
		return run_error_code(r, VHS_EXIT_INTERRUPTED, "interrupted");
	if (ret < 0)
		return run_error_code(r, VHS_EXIT_INTERNAL, "the %s analysis failed: %s", what,
				    ret == -EINTR ? "it was killed" : strerror(-ret));
	if (ret)
		return run_error_code(r, ret, "%s", strncmp(line, "error: ", 7) ? line : line + 7);
	if (!strncmp(line, "none: ", 6)) {
		fprintf(stderr, "vhs-orchestrate: %s: %s\n", what, line + 6);
		return -1;
	}
	fprintf(stderr, "vhs-orchestrate: %s: %s (%.1f s)\n", what, line, (vhs_now_ns() - t0) / 1e9);
	return 0;
}

/* Makes the work dir's audio analysis, once per run (a resumed run reuses the one its
 * finished segments were made with; a fresh start or --restart makes it again), when the
 * job's audio switches need it; r->analysis is its path then. Returns an exit code. */
int run_analyze_audio(struct run *r)
{
	char path[PATH_MAX + 64], line[1024];
	int ret;

	if (!s_needs_analysis(r->job))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", r->work_dir, VHS_FILE_ANALYSIS);
	if (!(r->man.n_done > 0 && access(path, F_OK) == 0)) { /* resuming: its segments used it */
		ret = s_analyze(r, "audio", path, line, sizeof(line));
		if (ret)
			return ret < 0 ? 0 : ret;
	}
	snprintf(r->analysis, sizeof(r->analysis), "%s", path);
	return 0;
}

/* The video keys' "auto" decided from the work dir's video analysis (made once per run and
 * kept for --resume, as the audio's), into r->vjob, which r->job then points to. Returns
 * an exit code. */
int run_choose_video(struct run *r)
{
	char path[PATH_MAX + 64], line[1024], err[256];
	char *text = NULL;
	int ret = 0;

	r->vjob = *r->job;
	if (vhs_video_needs_analysis(r->job)) {
		snprintf(path, sizeof(path), "%s/%s", r->work_dir, VHS_FILE_VIDEO_ANALYSIS);
		if (!(r->man.n_done > 0 && access(path, F_OK) == 0))
			ret = s_analyze(r, "video", path, line, sizeof(line));
		if (ret > 0)
			return ret;
		if (ret == 0 && (ret = vhs_read_file(path, &text, &(size_t){ 0 })))
			return run_error_code(r, VHS_EXIT_INTERNAL, "cannot read '%s': %s", path, strerror(-ret));
	}
	/* what auto takes for interlaced video depends on the machine: a resumed run keeps
	 * what it began with (one from before this was recorded took bwdif), a new one records
	 * this machine's choice in the manifest */
	if (r->man.n_done > 0 && !r->man.auto_interlaced[0])
		snprintf(r->man.auto_interlaced, sizeof(r->man.auto_interlaced), "bwdif");
	ret = vhs_video_choose(r->job, text,
			       &(struct vhs_video_machine){ r->cores, r->man.n_done > 0 ? r->man.auto_interlaced : NULL },
			       &r->vchoice, err, sizeof(err));
	if (!r->man.n_done)
		snprintf(r->man.auto_interlaced, sizeof(r->man.auto_interlaced), "%s", r->vchoice.auto_interlaced);
	free(text);
	if (ret == -ENOMEM)
		return run_error_code(r, VHS_EXIT_INTERNAL, "out of memory");
	if (ret)
		return run_error_code(r, VHS_EXIT_INTERNAL, "%s", err);
	if (r->vchoice.n_lines) { /* one line: what each decision rests on, and what it gives */
		fprintf(stderr, "vhs-orchestrate: video:");
		for (int i = 0; i < r->vchoice.n_lines; i++)
			fprintf(stderr, "%s %s", i ? ";" : "", r->vchoice.lines[i]);
		fputc('\n', stderr);
	}
	vhs_video_choice_apply(&r->vchoice, &r->vjob);
	r->job = &r->vjob;
	vhs_plan_reach(r->job, &r->reach);
	return 0;
}

/* Success: OUTPUT.part becomes OUTPUT and the work dir goes. Failure: OUTPUT.part goes,
 * the work dir keeps the manifest and finished segments (or goes, if none). Without --force
 * an output that appeared while the run went on is not replaced either (the rename refuses). */
void run_settle_output(struct run *r)
{
	unsigned flags = r->opts->force ? 0 : RENAME_NOREPLACE;

	if (!r->exit_code && renameat2(AT_FDCWD, r->part, AT_FDCWD, r->job->output, flags) != 0) {
		if (errno == EEXIST)
			run_error_code(r, VHS_EXIT_OUTPUT, "output '%s' appeared while the run went on: --force "
				       "replaces it, or choose another name", r->job->output);
		else
			run_error_code(r, VHS_EXIT_OUTPUT, "cannot rename '%s' to '%s': %s", r->part, r->job->output,
				       strerror(errno));
	}
	if (r->exit_code)
		unlink(r->part);
	r->kept = run_tidy(r, r->exit_code != 0, true);
}
