/* main.c: the vhs-orchestrate command line.
 *
 *   vhs-orchestrate run   [--set section.key=value]... [--progress=MODE] [--stats] [--verbose]
 *                         [--resume | --restart] JOB.toml
 *   vhs-orchestrate profile [--set section.key=value]... [--stage NAME] [--frames N] [--out DIR]
 *                         [--progress=MODE] [--verbose] JOB.toml
 *   vhs-orchestrate check [--set section.key=value]... [--json] JOB.toml
 *   vhs-orchestrate keys
 *
 * Before anything is started, the job is loaded and the things that need no stage are
 * checked here, each with one line and its exit code (exitcode.h): the input can be read,
 * the output's directory exists, the output is not the input, the container is known.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analyze.h"
#include "checkjson.h"
#include "child.h"
#include "dirs.h"
#include "exitcode.h"
#include "job.h"
#include "plan.h"
#include "profile.h"
#include "readfile.h"
#include "replay.h"
#include "report.h"
#include "supervisor.h"
#include "videochoice.h"

#define MAX_SETS 64
#define VERSION "0.1.0"

/* Outputs the encode and mux stages can write: libavformat's containers, or without
 * FFmpeg (make FFMPEG=0: stages/y4m_*.c) a y4m file. */
#ifdef VHS_NO_FFMPEG
static const char *const s_containers[] = { ".y4m", NULL };
#define CONTAINERS_HINT "use .y4m: this build has no FFmpeg"
#else
static const char *const s_containers[] = { ".mkv", ".mp4", ".mov", ".m4v", ".nut", NULL };
#define CONTAINERS_HINT "use .mkv or .mp4"
#endif

static int s_error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int s_error(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("vhs-orchestrate: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

static void s_usage(FILE *out)
{
	fputs("usage: vhs-orchestrate run   [--set section.key=value]... [--progress=auto|bar|log|json|none] [--stats] [--verbose]\n"
	      "                             [--resume | --restart] [--force] JOB.toml\n"
	      "         --resume   continue an interrupted or crashed run from its finished segments\n"
	      "         --restart  discard an unfinished run's segments and start over\n"
	      "         --force    replace an existing output (it is replaced once the run has finished)\n"
	      "       vhs-orchestrate profile [--set section.key=value]... [--stage NAME] [--frames N] [--out DIR]\n"
	      "                             [--progress=MODE] [--verbose] JOB.toml\n"
	      "         where the time goes, per stage: runs the job (its output into DIR) and writes\n"
	      "         DIR/profile.txt, profile.json, trace.json and report.html (default DIR: JOB.profile)\n"
	      "         --stage NAME  also replay NAME's recorded input into it alone: its standalone speed\n"
	      "         --frames N    only the first N frames\n"
	      "       vhs-orchestrate check [--set section.key=value]... [--json] JOB.toml\n"
	      "       vhs-orchestrate keys      print every job file key (Markdown)\n"
	      "       vhs-orchestrate --help | --version\n"
	      "Restores an analog video capture as described by JOB.toml. See docs/user-guide.md.\n"
	      "Exit codes: 0 ok, 1 internal, 2 usage, 3 job file, 4 input, 5 output, 6 stage failed, 130 interrupted.\n",
	      out);
}

/* The directory holding this executable (the stage binaries live beside it). */
static void s_exe_dir(char *buf, size_t n)
{
	char exe[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (len <= 0) {
		snprintf(buf, n, ".");
		return;
	}
	exe[len] = '\0';
	snprintf(buf, n, "%s", dirname(exe));
}

static void s_preset_dir(const char *exe_dir, char *buf, size_t n)
{
	const char *env = getenv("VHS_PRESET_DIR");
	struct stat st;

	if (env && *env) {
		snprintf(buf, n, "%s", env);
		return;
	}
	snprintf(buf, n, "%s/../../configs/presets", exe_dir);
	if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
		return;
	snprintf(buf, n, "%s/presets", VHS_DATADIR);
}

static bool s_same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (!strcmp(a, b))
		return true;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Free space (bytes) below which a directory's file system counts as full before any work. */
#define FULL_BELOW ((uint64_t)16 << 20)

/* A directory the run writes into (what) is there, writable (a read-only file system says
 * so) and not full. Returns 0 or an exit code, its line said. */
static int s_check_writable_dir(const char *what, const char *dir)
{
	struct statvfs vfs;
	struct stat st;
	uint64_t avail;

	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return s_error(VHS_EXIT_OUTPUT, "%s '%s' does not exist", what, dir);
	if (access(dir, W_OK) != 0)
		return s_error(VHS_EXIT_OUTPUT, "%s '%s' is not writable: %s", what, dir, strerror(errno));
	if (statvfs(dir, &vfs) == 0) {
		avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
		if (avail < FULL_BELOW)
			return s_error(VHS_EXIT_OUTPUT, "%s '%s' is on a full file system (%llu KiB free): free some "
				       "space or choose another", what, dir, (unsigned long long)(avail >> 10));
	}
	return 0;
}

/* What can be known about input and output without starting a stage. An existing output is
 * refused unless may_replace (run --force; a profile writes into its own directory). */
static int s_check_paths(const struct vhs_job *job, bool may_replace)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *ext = strrchr(job->output, '.');
	struct stat st;
	int known = 0, ret;

	if (stat(job->input, &st) != 0 || access(job->input, R_OK) != 0)
		return s_error(VHS_EXIT_INPUT, "cannot read input '%s': %s", job->input, strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return s_error(VHS_EXIT_INPUT, "input '%s' is not a file (segments are made by seeking "
			       "in the capture, so pipes cannot be read)", job->input);
	snprintf(tmp, sizeof(tmp), "%s", job->output);
	snprintf(dir, sizeof(dir), "%s", dirname(tmp));
	if ((ret = s_check_writable_dir("output directory", dir)))
		return ret;
	if (job->run.temp_dir && strcmp(job->run.temp_dir, dir) &&
	    (ret = s_check_writable_dir("[run] temp_dir", job->run.temp_dir)))
		return ret;
	if (s_same_file(job->input, job->output))
		return s_error(VHS_EXIT_OUTPUT, "output '%s' is the input; choose another name", job->output);
	if (!may_replace && lstat(job->output, &st) == 0)
		return s_error(VHS_EXIT_OUTPUT, "output '%s' exists: --force replaces it (once the run has "
			       "finished), or choose another name", job->output);
	for (int i = 0; s_containers[i]; i++)
		known |= ext && !strcasecmp(ext, s_containers[i]);
	if (!known)
		return s_error(VHS_EXIT_OUTPUT, "output '%s': unsupported container '%s' (" CONTAINERS_HINT ")",
			       job->output, ext ? ext : "(none)");
	return 0;
}

/* Runs `vhs-stage-decode --probe INPUT`, echoing its lines; sets *audio. */
/* What the decode stage's --probe says of the input, its lines onto out (after "# input");
 * whether it has audio. Returns an exit code. */
static int s_probe(const char *stage_dir, const char *input, bool *audio, FILE *out)
{
	char exe[PATH_MAX + 32], line[512];
	char *argv[] = { exe, "--probe", (char *)input, NULL };
	int status = 0, ret = 0;
	FILE *in;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/vhs-stage-decode", stage_dir);
	pid = vhs_child_popen(argv, false, &in);
	if (pid < 0)
		return s_error(VHS_EXIT_INTERNAL, "cannot run %s: %s", exe, strerror((int)-pid));
	*audio = false;
	fprintf(out, "# input\n");
	while (fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = '\0';
		*audio |= !strncmp(line, "audio:", 6);
		if (!strncmp(line, "error: ", 7) || !strncmp(line, "fatal: ", 7)) {
			ret = s_error(line[0] == 'e' ? VHS_EXIT_INPUT : VHS_EXIT_INTERNAL, "%s", line + 7);
			break;
		}
		if (!strncmp(line, "cannot run ", 11)) { /* lib/child.h: it could not start */
			ret = s_error(VHS_EXIT_INTERNAL, "%s", line);
			break;
		}
		fprintf(out, "%s\n", line);
	}
	fclose(in);
	vhs_child_wait(pid, &status);
	if (ret)
		return ret;
	return WIFEXITED(status) ? WEXITSTATUS(status) : VHS_EXIT_INTERNAL;
}

/* The video analysis into a scratch directory, when the keys need it: the analysis text
 * (malloc'd) or NULL (none needed, or no video), and its one line into line. Returns an exit
 * code. */
static int s_check_analysis(const struct vhs_job *job, const char *stage_dir, char **text, char *line,
			    size_t len)
{
	char dir[] = "/tmp/vhs-check.XXXXXX", path[64];
	int ret;

	*text = NULL;
	line[0] = '\0';
	if (!vhs_video_needs_analysis(job))
		return 0;
	if (!mkdtemp(dir))
		return s_error(VHS_EXIT_INTERNAL, "cannot make a scratch directory in /tmp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/video.analysis", dir);
	ret = vhs_analyze(stage_dir, "video", job->input, path, line, len);
	if (ret == 0 && strncmp(line, "none: ", 6))
		ret = vhs_read_file(path, text, &(size_t){ 0 });
	unlink(path);
	rmdir(dir);
	if (ret < 0)
		return s_error(VHS_EXIT_INTERNAL, "the video analysis failed: %s",
			       ret == -EINTR ? "it was killed" : strerror(-ret));
	if (ret)
		return s_error(ret, "%s", strncmp(line, "error: ", 7) ? line : line + 7);
	if (!strncmp(line, "none: ", 6))
		memmove(line, line + 6, strlen(line + 6) + 1);
	return 0;
}

/* What check found and chose, as text. */
static void s_check_print(const struct vhs_check_report *r)
{
	if (r->analysis_line[0])
		printf("# video analysis\n%s\n", r->analysis_line);
	printf("# video choices\n");
	for (int i = 0; i < r->choice->n_lines; i++)
		printf("%s\n", r->choice->lines[i]);
	printf("preprocess chain: %s\n", *r->choice->chain ? r->choice->chain : "(none)");
	if (r->choice->schedule) /* the stretches' own, "FROM TO CHAIN" (stream seconds) */
		printf("preprocess chain by stretch (seconds of the stream, then the chain):\n%s", r->choice->schedule);
	fputs(r->plan, stdout);
	printf("# ok\n");
}

static int s_check(const struct vhs_job *job, const char *stage_dir, bool json)
{
	struct vhs_video_choice choice;
	struct vhs_job resolved = *job;
	struct vhs_plan plan;
	bool audio = false;
	char *analysis, err[256], line[1024], *plan_text = NULL, *probe_text = NULL;
	size_t plan_len = 0, probe_len = 0;
	FILE *f, *probe = json ? open_memstream(&probe_text, &probe_len) : stdout;
	int ret;

	if (!probe)
		return s_error(VHS_EXIT_INTERNAL, "out of memory");
	if (!json) {
		printf("# resolved settings of %s\n", job->path);
		vhs_job_print(job, stdout);
	}
	fflush(stdout);
	ret = s_probe(stage_dir, job->input, &audio, probe);
	if (json && fclose(probe) && !ret)
		ret = s_error(VHS_EXIT_INTERNAL, "out of memory");
	if (ret)
		free(probe_text);
	if (!ret)
		ret = s_check_analysis(job, stage_dir, &analysis, line, sizeof(line));
	if (ret)
		return ret;
	ret = vhs_video_choose(job, analysis, &(struct vhs_video_machine){ vhs_cores(), NULL }, &choice, err,
			       sizeof(err));
	if (ret) {
		free(analysis);
		free(probe_text);
		return s_error(VHS_EXIT_INTERNAL, "%s", ret == -ENOMEM ? "out of memory" : err);
	}
	vhs_video_choice_apply(&choice, &resolved);
	vhs_plan_build(&plan, &resolved, audio);
	if ((f = open_memstream(&plan_text, &plan_len))) {
		vhs_plan_print(&plan, &resolved, f);
		ret = fclose(f) ? -ENOMEM : 0;
	}
	struct vhs_check_report r = { job, probe_text, analysis, line, &choice, plan_text };

	if (!f || ret)
		ret = -ENOMEM;
	else if (json)
		ret = vhs_check_json(&r, stdout);
	else
		s_check_print(&r);
	free(plan_text);
	free(probe_text);
	free(analysis);
	vhs_video_choice_free(&choice);
	return ret ? s_error(VHS_EXIT_INTERNAL, "out of memory") : VHS_EXIT_OK;
}

/* The pipeline stage called name, or -1. */
static int s_stage_kind(const char *name)
{
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (!strcmp(name, vhs_stage_name((enum vhs_stage_kind)k)))
			return k;
	return -1;
}

static int s_progress_mode(const char *s, enum vhs_progress_mode *m)
{
	static const char *const names[] = { "auto", "bar", "log", "none", "json" };

	for (int i = 0; i < 5; i++)
		if (!strcmp(s, names[i])) {
			*m = (enum vhs_progress_mode)i;
			return 0;
		}
	return -EINVAL;
}

/* The long name of option c. */
static const char *s_option_name(const struct option *opts, int c)
{
	for (; opts->name; opts++)
		if (opts->val == c)
			return opts->name;
	return "?";
}

/* What `profile` adds to the command line. */
struct profile_args {
	const char *stage;            /* --stage NAME, or NULL */
	const char *out;              /* --out DIR, or NULL: JOB.profile */
	char frames[48];              /* --frames N as "run.frames=N", or "" */
};

/* DIR for the profile's files: --out, or the job file's name with .profile for .toml. */
static int s_profile_dir(const char *job_path, const struct profile_args *pa, char *dir, size_t n)
{
	char tmp[PATH_MAX];
	char *base, *dot;

	if (pa->out) {
		snprintf(dir, n, "%s", pa->out);
	} else {
		snprintf(tmp, sizeof(tmp), "%s", job_path);
		base = basename(tmp);
		dot = strrchr(base, '.');
		if (dot && dot != base)
			*dot = '\0';
		snprintf(dir, n, "%s.profile", base);
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return s_error(VHS_EXIT_OUTPUT, "cannot create the profile directory '%s': %s", dir, strerror(errno));
	if (access(dir, W_OK) != 0)
		return s_error(VHS_EXIT_OUTPUT, "the profile directory '%s' is not writable: %s", dir, strerror(errno));
	return 0;
}

/* --stage NAME after the pipeline run recorded its input: NAME alone, replayed. */
static int s_isolated(const struct vhs_job *job, const struct vhs_run_opts *opts, const struct vhs_profiler *pipe,
		      struct vhs_isolated *iso)
{
	struct vhs_profiler *prof = malloc(sizeof(*prof));
	struct vhs_replay_opts ro = { .kind = (enum vhs_stage_kind)opts->spool_kind, .stage_dir = opts->stage_dir,
				      .spool_dir = opts->spool_dir, .scratch_dir = opts->work_dir };
	struct vhs_prof_figures f;
	char err[512];
	int ret;

	if (!prof)
		return s_error(VHS_EXIT_INTERNAL, "out of memory");
	vhs_profiler_init(prof);
	ro.workers = pipe->workers[ro.kind] > 0 ? pipe->workers[ro.kind] : 1;
	if (mkdir(opts->work_dir, 0700) && errno != EEXIST)
		ret = s_error(VHS_EXIT_OUTPUT, "cannot create '%s': %s", opts->work_dir, strerror(errno));
	else if ((ret = vhs_replay(&ro, prof, iso, err, sizeof(err))))
		s_error(ret, "%s", err);
	rmdir(opts->work_dir);
	vhs_profiler_figures(pipe, NULL, ro.kind, &f);
	iso->pipeline_fps = f.fps;
	vhs_profiler_free(prof);
	free(prof);
	(void)job;
	return ret;
}

/* `profile`: the job run once with the profiler (its output and work dir inside DIR, so a
 * real run's output and resume state are never touched), with --stage NAME also NAME's
 * input recorded and replayed into it alone, then the report. */
static int s_profile(struct vhs_job *job, struct vhs_run_opts *opts, const struct profile_args *pa)
{
	char dir[PATH_MAX], work[PATH_MAX + 16], spool[PATH_MAX + 16], out[PATH_MAX + 256], err[PATH_MAX + 64];
	char tmp[PATH_MAX], logs[PATH_MAX + 16];
	struct vhs_report_info info = { .job = job->path, .stage = pa->stage };
	struct vhs_profiler *prof = malloc(sizeof(*prof));
	struct vhs_isolated iso = { 0 };
	int ret;

	if (!prof)
		return s_error(VHS_EXIT_INTERNAL, "out of memory");
	ret = s_profile_dir(job->path, pa, dir, sizeof(dir));
	if (ret)
		goto out_free;
	snprintf(tmp, sizeof(tmp), "%s", job->output);
	snprintf(out, sizeof(out), "%s/%s", dir, basename(tmp));
	snprintf(work, sizeof(work), "%s/work", dir);
	snprintf(spool, sizeof(spool), "%s/spool", dir);
	snprintf(logs, sizeof(logs), "%s/logs", dir);
	free(job->output);
	job->output = strdup(out);
	ret = job->output ? s_check_paths(job, true) : s_error(VHS_EXIT_INTERNAL, "out of memory");
	if (!ret && pa->stage && mkdir(spool, 0700) && errno != EEXIST)
		ret = s_error(VHS_EXIT_OUTPUT, "cannot create the spool '%s': %s", spool, strerror(errno));
	if (!ret && mkdir(logs, 0755) && errno != EEXIST)
		ret = s_error(VHS_EXIT_OUTPUT, "cannot create '%s': %s", logs, strerror(errno));
	if (ret)
		goto out_free;
	vhs_profiler_init(prof);
	opts->log_dir = logs;
	opts->profiler = prof;
	opts->work_dir = work;
	opts->restart = 1; /* a profile always starts afresh, in its own work dir */
	opts->spool_dir = pa->stage ? spool : NULL;
	opts->spool_kind = pa->stage ? s_stage_kind(pa->stage) : 0;
	ret = vhs_run(job, opts);
	if (!ret && pa->stage) {
		if (prof->restarts)
			fprintf(stderr, "vhs-orchestrate: warning: the pipeline restarted %d times; the recording "
				"of %s holds only the segments made after the last restart\n", prof->restarts, pa->stage);
		fprintf(stderr, "vhs-orchestrate: isolated run: %s alone, its recorded input replayed\n", pa->stage);
		ret = s_isolated(job, opts, prof, &iso);
		info.isolated = ret ? NULL : &iso;
	}
	if (pa->stage) { /* the recording: its finished and unfinished files, then the dir */
		vhs_empty_dir(spool);
		rmdir(spool);
	}
	info.output = job->output;
	info.cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (!ret && vhs_report_write(prof, &info, dir, stdout, err, sizeof(err)))
		ret = s_error(VHS_EXIT_OUTPUT, "%s", err);
	else if (!ret)
		fprintf(stderr, "vhs-orchestrate: profile written to %s/ (profile.txt, profile.json, trace.json, "
			"report.html; the stages' logs in logs/)\n", dir);
	vhs_profiler_free(prof);
out_free:
	free(prof);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "set", required_argument, NULL, 's' },   { "progress", required_argument, NULL, 'p' },
		{ "stats", no_argument, NULL, 'S' },       { "help", no_argument, NULL, 'h' },
		{ "resume", no_argument, NULL, 'R' },      { "restart", no_argument, NULL, 'X' },
		{ "version", no_argument, NULL, 'V' },     { "verbose", no_argument, NULL, 'v' },
		{ "stage", required_argument, NULL, 'g' }, { "frames", required_argument, NULL, 'f' },
		{ "out", required_argument, NULL, 'o' },   { "json", no_argument, NULL, 'j' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	struct vhs_run_opts opts = { .progress = VHS_PROGRESS_AUTO };
	struct profile_args pa = { 0 };
	char *sets[MAX_SETS + 2], exe_dir[PATH_MAX], stage_dir[PATH_MAX], preset_dir[PATH_MAX + 32];
	char err[1024], *end;
	struct vhs_job job = { 0 };
	const char *cmd;
	int nsets = 0, c, ret;
	bool profile, json = false;

	opterr = 0; /* one error line, ours */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		if (c == 'h')
			return s_usage(stdout), VHS_EXIT_OK;
		if (c == 'V')
			return puts("vhs-orchestrate " VERSION), VHS_EXIT_OK;
		return s_usage(stderr), VHS_EXIT_USAGE;
	}
	if (optind >= argc)
		return s_usage(stderr), VHS_EXIT_USAGE;
	cmd = argv[optind++];
	if (!strcmp(cmd, "keys")) {
		vhs_job_print_reference(stdout);
		return VHS_EXIT_OK;
	}
	if (strcmp(cmd, "run") && strcmp(cmd, "check") && strcmp(cmd, "profile"))
		return s_error(VHS_EXIT_USAGE, "unknown command '%s' (run, profile, check, keys)", cmd);
	profile = !strcmp(cmd, "profile");
	argv += optind - 1; /* the command stands in for argv[0] */
	argc -= optind - 1;
	optind = 0;         /* 0: glibc re-initialises (and permutes: options may follow the job) */
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		bool profile_only = c == 'g' || c == 'f' || c == 'o';
		bool run_only = c == 'R' || c == 'X' || c == 'S' || c == 'F';

		if ((profile_only && !profile) || (run_only && strcmp(cmd, "run")) || (c == 'j' && strcmp(cmd, "check")) ||
		    (c == 'v' && !strcmp(cmd, "check")) || (c == 'p' && !strcmp(cmd, "check")))
			return s_error(VHS_EXIT_USAGE, "option '--%s' is not one of '%s' (see --help)",
				       s_option_name(longopts, c), cmd);
		if (c == 's' && !strchr(optarg, '='))
			return s_error(VHS_EXIT_USAGE, "--set '%s': expected section.key=value", optarg);
		if (c == 's' && nsets == MAX_SETS)
			return s_error(VHS_EXIT_USAGE, "more than %d --set options", MAX_SETS);
		if (c == 's')
			sets[nsets++] = optarg;
		else if (c == 'p' && s_progress_mode(optarg, &opts.progress))
			return s_error(VHS_EXIT_USAGE, "--progress=%s: expected auto, bar, log, json or none", optarg);
		else if (c == 'p')
			continue;
		else if (c == 'S')
			opts.stats = 1;
		else if (c == 'j')
			json = true;
		else if (c == 'v')
			opts.verbose = 1;
		else if (c == 'R')
			opts.resume = 1;
		else if (c == 'X')
			opts.restart = 1;
		else if (c == 'F')
			opts.force = 1;
		else if (c == 'g')
			pa.stage = optarg;
		else if (c == 'o')
			pa.out = optarg;
		else if (c == 'f' && (strtol(optarg, &end, 10) <= 0 || *end || strlen(optarg) > 10))
			return s_error(VHS_EXIT_USAGE, "--frames %s: expected a number of frames, 1 or more", optarg);
		else if (c == 'f')
			snprintf(pa.frames, sizeof(pa.frames), "run.frames=%s", optarg);
		else if (c == 'h')
			return s_usage(stdout), VHS_EXIT_OK;
		else
			return s_error(VHS_EXIT_USAGE, "%s option '%s' for '%s' (see --help)",
				       c == ':' ? "missing value of" : "unknown", argv[optind - 1], cmd);
	}
	if (optind != argc - 1)
		return s_error(VHS_EXIT_USAGE, "'%s' takes exactly one job file (see --help)", cmd);
	if (opts.resume && opts.restart)
		return s_error(VHS_EXIT_USAGE, "--resume and --restart exclude each other");
	if (pa.stage && s_stage_kind(pa.stage) < 0)
		return s_error(VHS_EXIT_USAGE, "--stage %s: expected decode, preprocess, upscale, audio or encode",
			       pa.stage);
	if (pa.frames[0])
		sets[nsets++] = pa.frames; /* after the user's --set: --frames wins */
	if (pa.stage)
		sets[nsets++] = "run.gpu_edges=off"; /* the recording reads host slots */
	s_exe_dir(exe_dir, sizeof(exe_dir));
	snprintf(stage_dir, sizeof(stage_dir), "%s", getenv("VHS_STAGE_DIR") ? getenv("VHS_STAGE_DIR") : exe_dir);
	s_preset_dir(exe_dir, preset_dir, sizeof(preset_dir));
	ret = vhs_job_load(&job, argv[optind], preset_dir, sets, nsets, err, sizeof(err));
	if (ret) {
		vhs_job_free(&job);
		return s_error(VHS_EXIT_JOB, "%s", err);
	}
	opts.stage_dir = stage_dir;
	if (profile)
		ret = s_profile(&job, &opts, &pa);
	else if (!(ret = s_check_paths(&job, opts.force || !strcmp(cmd, "check"))))
		ret = !strcmp(cmd, "check") ? s_check(&job, stage_dir, json) : vhs_run(&job, &opts);
	vhs_job_free(&job);
	return ret;
}
