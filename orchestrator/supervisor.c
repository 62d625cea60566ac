/* supervisor.c: the orchestrator's run loop: planner output in, restored file out.
 *
 * DESIGN
 * A run is a series of attempts. A pipeline attempt starts decode, preprocess, upscale,
 * audio and encode workers, asks decode for the segments not yet done (a few at a time), and
 * records each segment the encode stage commits in the manifest of the work dir
 * (TEMP_DIR/OUTPUT_NAME.vhs-work). When every segment is done, a mux attempt runs the mux
 * stage alone, which joins the segments into OUTPUT.part; the part is renamed and the
 * work dir removed.
 *
 * Crashes: a stage that dies without reporting an error (killed, crashed, hung: see the
 * heartbeat below) ends the attempt: the other stages are killed too, every ring and
 * slot is dropped with them, and after the back-off of restart.h a fresh attempt starts
 * from the first unfinished segment. Finished segments are files in the work dir, so
 * nothing done is lost; unfinished segments are made again from the input, and since a
 * segment is a pure function of its input window, the result is bit-identical. One
 * mechanism serves restarts, --resume after the orchestrator itself died, and Ctrl-C.
 * (Restarting the healthy stages too costs little: their unfinished segments would have
 * to pass through them again anyway, since no intermediate edge is persisted.) A stage
 * that reports an error (bad input, bad setting, full disk) is not restarted.
 *
 * Within an attempt: one thread, one ROUTER socket (ipc://RUNDIR/ctl), one signalfd
 * (SIGCHLD, SIGINT, SIGTERM, SIGHUP), polled together. Each stage runs as the plan's
 * number of worker processes ("preprocess.0", "preprocess.1", ...; plan.h); each process
 * walks a small state machine:
 *
 *   SPAWNED --HELLO/CONFIG--> CONFIGURED --FORMAT--> FORMATTED --ATTACH--> ATTACHED
 *   ATTACHED --READY--> RUNNING --DONE--> DONE;  any --exit--> EXITED
 *
 * The first worker of each stage starts in plan order, because a stage's CONFIG carries
 * the formats its producers declared; it waits in FORMATTED until the last stage has
 * declared its outputs, when every ring can be sized. Then the rings are created, those
 * workers attached, and all the other workers started at once (their formats must equal
 * their first worker's). When every worker is RUNNING, every slot is granted to its
 * producer worker, and frames start to flow.
 *
 * Slots: a ring has a share of slots per producer worker (plan.h: quota); slot s is
 * worker s / quota's, granted back to it whenever released. Ownership per slot: FREE (the
 * orchestrator), PRODUCER or CONSUMER, plus the process holding it. It changes only here:
 * GRANT (FREE -> PRODUCER), FRAME/AUDIO (PRODUCER -> CONSUMER, the record is forwarded),
 * RELEASE (CONSUMER -> PRODUCER again, with a GRANT, or FREE when the producer has ended).
 * A record that does not match the table is a protocol error.
 *
 * Segments: a segment is given to one worker per stage (pool.h: the least loaded one, at
 * its first marker there) and every record of it is routed to that worker. SEGMENT
 * BEGIN/END markers are routed like FRAME records, in order with them, but own no slot.
 * The plan's in_flight segments are requested at a time (from the least loaded decode
 * worker); encode's DONE goes into the manifest and frees a place; decode's NONE (past
 * the end) and its LAST flag bound the requests. EOS on an edge reaches the consumer
 * workers when every producer worker has sent its own.
 *
 * Logs: each process's stderr is a pipe read in the loop; everything goes to its log,
 * RUNDIR/ID.log (appended to by every process of that id, one header line each), and the
 * lines meant for people ("vhs-orchestrate: warning: ...", notes) also to the terminal.
 * Libraries' warnings and errors stay in the log, which is shown (its last lines) under
 * the error when the run fails because of that stage; a profile keeps the logs.
 *
 * Failure: the first ERROR record, a start-up timeout, or a second interrupt turns the
 * attempt into ABORTING: STOP to every live worker, SIGKILL after 2 s, and the attempt
 * ends when every child is reaped. The first Ctrl-C drains instead: decode finishes the
 * segments at hand, the pipeline flushes, and the run ends keeping what is finished.
 * Then, success or not: rings unlinked, socket and run dir removed, OUTPUT.part renamed
 * (success) or removed (failure), the work dir removed (success) or left holding only
 * the manifest and finished segments (failure, for --resume).
 */
#include "supervisor.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <sched.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "child.h"
#include "dirs.h"
#include "exitcode.h"
#include "kv.h"
#include "files.h"
#include "manifest.h"
#include "plan.h"
#include "pool.h"
#include "proto.h"
#include "restart.h"
#include "stageproc.h"
#include "ring.h"
#include "devpool.h"

#define STARTUP_TIMEOUT_NS (60ull * 1000000000ull)
#define STOP_GRACE_NS (2ull * 1000000000ull)
#define EXIT_GRACE_NS (1ull * 1000000000ull)  /* for a DONE or ERROR sent just before exit */
#define STALL_NS (60ull * 1000000000ull)   /* no record moved for this long: stalled */
#define HEARTBEAT_NS (3ull * 1000000000ull) /* silent this long, with no CPU used: hung */
#define NO_CRASH (-1)
#define NO_PROC (-1)
#define SHOW_LOG_LINES 12 /* log lines shown under a stage's failure */

/* Start-up, per process: SPAWNED -HELLO/CONFIG-> CONFIGURED -FORMAT-> FORMATTED (the first
 * worker of each stage waits there until every ring can be sized) -ATTACH-> ATTACHED
 * -READY-> RUNNING. */
enum proc_state { P_NONE, P_SPAWNED, P_CONFIGURED, P_FORMATTED, P_ATTACHED, P_RUNNING };
enum owner { OWN_FREE, OWN_PRODUCER, OWN_CONSUMER };

struct proc {
	enum vhs_stage_kind kind;
	int instance;                 /* worker number within its stage */
	char id[VHS_NAME_LEN + 16];   /* ZeroMQ routing id, "decode.0" */
	pid_t pid;
	enum proc_state state;        /* start-up progress */
	bool done;                    /* DONE received: finished its work */
	bool exited;                  /* reaped */
	uint64_t sent[VHS_MAX_PORTS];     /* records forwarded from it, per output port */
	bool ended[VHS_MAX_PORTS];        /* EOS from it, per output port */
	uint64_t received[VHS_MAX_PORTS]; /* records forwarded to it, per input port */
	uint64_t bytes_sent;          /* bytes of the records forwarded from it (profiles) */
	struct vhs_prof_instance *prof; /* its profile instance, or NULL when not profiling */
	int err_fd;                   /* read end of its stderr pipe, -1 when closed */
	int log_fd;                   /* RUNDIR/ID.log, its stderr's copy, -1 when closed */
	char line[512];               /* stderr: the start of a line not yet ended */
	size_t line_len;
	struct vhs_stats stats;       /* last STATS */
	struct rusage ru;             /* from wait4 */
	int status;                   /* from wait4 */
	uint64_t exited_ns;           /* when reaped (for the DONE grace) */
	uint64_t heard_ns;            /* last record from it, or last check that found it busy */
	unsigned long long cpu_ticks; /* utime + stime sampled once it fell silent, 0 = none yet */
};

/* The edges of a stage kind, the same for each of its workers. */
struct wiring {
	int n_in, n_out;
	int in_edge[VHS_MAX_PORTS];   /* edge index per input port */
	int out_edge[VHS_MAX_PORTS];  /* edge index per output port */
};

struct edge {
	struct vhs_plan_edge plan;
	struct vhs_stream_fmt fmt;    /* declared by the producers (all alike) */
	bool fmt_known;
	struct vhs_ring ring;
	uint8_t *owner;               /* enum owner per slot */
	int *holder;                  /* per slot: the process holding it, NO_PROC when free */
	bool detached;                /* GPU edge: DETACHED sent to its producers */
};

/* What --stats prints for a stage: its workers summed (peak memory: the largest). */
struct kind_stats {
	int workers;
	uint64_t first_in_ns, last_out_ns; /* the stage's active span: first record in, last out */
	double cpu_user, cpu_sys;
	long maxrss_kb;
	uint64_t frames_in, frames_out, copies, bytes_copied;
};

struct run {
	const struct vhs_job *job;
	const struct vhs_run_opts *opts;
	/* the whole run */
	char work_dir[PATH_MAX];      /* finished segments and the manifest */
	char analysis[PATH_MAX + 64]; /* the work dir's audio analysis, when the job uses it */
	struct vhs_manifest man;
	struct vhs_reach reach;
	struct vhs_restart restarts[VHS_STAGE_KINDS];
	int cores;                    /* CPUs this process may run on */
	int interrupts;               /* SIGINTs seen */
	bool draining;                /* the first Ctrl-C: finish the segments at hand, then end */
	bool work_owned;              /* the work dir was opened (not refused): settle it at the end */
	int kept;                     /* finished segments the work dir keeps at the end */
	int restarts_done;            /* pipeline or mux restarts after crashes */
	uint32_t made;                /* segments committed by this run */
	uint64_t crash_ns;            /* when the last crash was seen (recovery time) */
	uint64_t recovery_ns;         /* sum of crash -> first frame out again */
	int recoveries;
	uint64_t frames_redone;       /* frames that reached encode in segments a crash lost */
	int gpu_edges;                /* GPU edges (CUDA IPC) of the last pipeline attempt */
	struct kind_stats kstats[VHS_STAGE_KINDS]; /* last pipeline attempt's (mux: its own) */
	bool announced;               /* the worker plan was printed */
	int auto_workers[VHS_STAGE_KINDS]; /* workers = "auto": the counts chosen, 0 = not yet */
	bool replanning;              /* draining the attempt to start again with auto's counts */
	uint64_t flow_seen_ns;        /* auto: when frames first reached encode, 0 = not yet */
	uint64_t calib_ns;            /* auto: when the measuring window opened, 0 = not yet */
	uint64_t calib_busy[VHS_STAGE_KINDS], calib_cpu[VHS_STAGE_KINDS]; /* sums at its start */
	/* one attempt */
	bool mux;                     /* the mux attempt */
	int crashed;                  /* kind of the stage whose crash ended the attempt, or NO_CRASH */
	char crash_why[256];
	uint32_t next_request;        /* lowest segment index not yet requested */
	uint32_t past_end;            /* lowest segment known not to exist (NONE), or UINT32_MAX */
	bool requests_closed;         /* decode was told there are no more */
	uint64_t seg_frames;          /* frames of the segments in flight that reached encode */
	struct vhs_plan plan;
	struct vhs_pool pool;         /* segments in flight and their workers */
	struct proc *procs;           /* every worker of every stage, stage by stage */
	int n_procs;
	int base[VHS_STAGE_KINDS];    /* index in procs of each stage's worker 0 */
	struct wiring wiring[VHS_STAGE_KINDS];
	struct edge edges[VHS_PLAN_MAX_EDGES];
	int n_edges;
	void *zctx, *router;
	int sigfd;
	char run_dir[PATH_MAX];
	char endpoint[PATH_MAX + 16];
	char part[PATH_MAX + 8];
	bool aborting;
	uint64_t abort_ns;            /* when STOP went out */
	uint64_t start_ns;            /* start-up deadline base */
	bool flowing;                 /* all stages running, slots granted */
	int exit_code;                /* first failure's code, or 0 */
	char error[512];              /* first failure's message */
	char failed_id[VHS_NAME_LEN + 16]; /* the process whose failure or crash was the first, or "" */
	struct vhs_progress progress;
	struct vhs_progress_detail last_detail; /* the stages and rings at the last update */
	bool progress_started;
	uint64_t frames_out;          /* video frames in finished segments and on their way */
	uint64_t moved_ns;            /* when a data record last moved (stall watch) */
	uint64_t began_ns;            /* when the run started */
};

/* Keeps the first failure of the run: its exit code and message. */
static void s_record(struct run *r, int code, const char *fmt, va_list ap)
{
	if (r->exit_code)
		return;
	r->exit_code = code;
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
}

/* Records the first failure of the run (outside an attempt). Returns its code. */
static int s_error_code(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int s_error_code(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_record(r, code, fmt, ap);
	va_end(ap);
	return r->exit_code;
}

static bool s_live(const struct proc *p)
{
	return p->state != P_NONE && !p->exited;
}

static void s_fail(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Records the first failure and starts stopping everything. */
static void s_fail(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_record(r, code, fmt, ap);
	va_end(ap);
	if (r->aborting)
		return;
	r->aborting = true;
	r->abort_ns = vhs_now_ns();
	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];

		if (s_live(p)) { /* done ones too: an exporter waits for DETACHED after DONE */
			uint8_t buf[8];
			int n = vhs_proto_pack(&(struct vhs_msg){ .type = VHS_MSG_STOP }, buf, sizeof(buf));

			zmq_send(r->router, p->id, strlen(p->id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
			zmq_send(r->router, buf, (size_t)n, ZMQ_DONTWAIT);
		}
	}
}

static void s_kill_all(struct run *r);

/* A stage died without reporting an error: end the attempt at once (kill the rest) so a
 * fresh one can start. The restart policy decides later whether it may. */
static void s_crash(struct run *r, struct proc *p, const char *why)
{
	if (r->aborting)
		return;
	r->crashed = (int)p->kind;
	snprintf(r->crash_why, sizeof(r->crash_why), "%s", why);
	snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
	r->crash_ns = vhs_now_ns();
	r->aborting = true;
	r->abort_ns = r->crash_ns;
	s_kill_all(r);
}

static int s_send(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	uint8_t small[VHS_MSG_MAX];
	uint8_t *buf = small;
	size_t cap = sizeof(small);
	int n;

	if (m->type == VHS_MSG_CONFIG) {
		cap = vhs_proto_config_size(m->u.config.settings_len);
		buf = malloc(cap);
		if (!buf)
			return -ENOMEM;
	}
	n = vhs_proto_pack(m, buf, cap);
	if (n >= 0 && (zmq_send(r->router, p->id, strlen(p->id), ZMQ_SNDMORE) < 0 ||
		       zmq_send(r->router, buf, (size_t)n, 0) < 0))
		n = -errno;
	if (buf != small)
		free(buf);
	return n < 0 ? n : 0;
}

/* Sends m to every worker of a stage kind (EOS, DRAIN). */
static int s_send_kind(struct run *r, enum vhs_stage_kind kind, const struct vhs_msg *m)
{
	int ret = 0;

	for (int i = 0; i < r->plan.workers[kind]; i++) {
		int one = s_send(r, &r->procs[r->base[kind] + i], m);

		ret = ret ? ret : one == -EHOSTUNREACH ? 0 : one;
	}
	return ret;
}

/* ---- processes ---- */

/* ---- stage logs ---- */

/* RUNDIR/ID.log, opened for appending, with a line saying which process starts. */
static void s_open_log(struct run *r, struct proc *p)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", r->run_dir, p->id);
	p->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	f = p->log_fd >= 0 ? fdopen(dup(p->log_fd), "a") : NULL;
	if (f) {
		fprintf(f, "--- %s: pid %d, %s attempt, %.3f s into the run ---\n", p->id, (int)p->pid,
			r->mux ? "mux" : "pipeline", (vhs_now_ns() - r->began_ns) / 1e9);
		fclose(f);
	}
}

/* A whole line of p's stderr: the lines meant for people go to the terminal too. */
static void s_stderr_line(struct run *r, const char *line)
{
	if (strncmp(line, "vhs-orchestrate: ", 17))
		return;
	vhs_progress_end(&r->progress);
	fputs(line, stderr);
}

/* Reads what p wrote to stderr (all of it when its pipe ended, since it exited): into its
 * log, and line by line to s_stderr_line. */
static void s_read_stderr(struct run *r, struct proc *p)
{
	char buf[4096];
	ssize_t n;

	while (p->err_fd >= 0 && (n = read(p->err_fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return; /* EAGAIN: no more for now */
		if (p->log_fd >= 0 && write(p->log_fd, buf, (size_t)n) != n)
			p->log_fd = (close(p->log_fd), -1); /* a full disk loses the log, not the run */
		for (ssize_t i = 0; i < n; i++) {
			p->line[p->line_len++] = buf[i];
			if (buf[i] != '\n' && p->line_len < sizeof(p->line) - 2)
				continue;
			p->line[p->line_len] = '\0';
			s_stderr_line(r, p->line);
			p->line_len = 0;
		}
	}
	if (p->err_fd >= 0) { /* the end: the process and every child of it are gone */
		close(p->err_fd);
		p->err_fd = -1;
	}
}

static void s_close_log(struct run *r, struct proc *p)
{
	if (p->err_fd >= 0)
		fcntl(p->err_fd, F_SETFL, 0); /* exited: read to the end */
	s_read_stderr(r, p);
	if (p->line_len) {
		p->line[p->line_len++] = '\n';
		p->line[p->line_len] = '\0';
		s_stderr_line(r, p->line);
		p->line_len = 0;
	}
	if (p->log_fd >= 0)
		close(p->log_fd);
	p->log_fd = -1;
}

/* After a failure the stage caused: the last lines of its log that were not shown. */
static void s_show_log(const struct run *r)
{
	char path[PATH_MAX + 64], buf[16384], *lines[SHOW_LOG_LINES];
	int fd, n = 0, shown = 0, content = 0;
	off_t size;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/%s.log", r->run_dir, r->failed_id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	len = pread(fd, buf, sizeof(buf) - 1, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0);
	close(fd);
	buf[len > 0 ? len : 0] = '\0';
	for (char *l = strtok(buf, "\n"); l; l = strtok(NULL, "\n")) {
		if (!strncmp(l, "vhs-orchestrate: ", 17) || (!strncmp(l, "vhs-stage-", 10) && strstr(l, ": error: ")))
			continue; /* on the terminal already, or the error itself */
		lines[n++ % SHOW_LOG_LINES] = l;
		content += strncmp(l, "--- ", 4) != 0;
	}
	if (!content)
		return; /* only the lines saying which process started: nothing to add */
	for (int i = n > SHOW_LOG_LINES ? n - SHOW_LOG_LINES : 0; i < n; i++, shown++) {
		if (!shown)
			fprintf(stderr, "vhs-orchestrate: the last lines of stage %s's log:\n", r->failed_id);
		fprintf(stderr, "  | %s\n", lines[i % SHOW_LOG_LINES]);
	}
}

/* The logs into dir (a profile keeps them), then out of the run dir. */
static void s_remove_logs(const struct run *r)
{
	char path[PATH_MAX + 300], to[PATH_MAX + 300], buf[65536];
	DIR *d = opendir(r->run_dir);
	struct dirent *e;
	ssize_t n;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		int in, out = -1;

		if (len < 5 || strcmp(e->d_name + len - 4, ".log"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->run_dir, e->d_name);
		if (r->opts->log_dir) {
			snprintf(to, sizeof(to), "%s/%s", r->opts->log_dir, e->d_name);
			in = open(path, O_RDONLY | O_CLOEXEC);
			out = in >= 0 ? open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
			while (out >= 0 && (n = read(in, buf, sizeof(buf))) > 0 && write(out, buf, (size_t)n) == n)
				;
			if (in >= 0)
				close(in);
			if (out >= 0)
				close(out);
		}
		unlink(path);
	}
	if (d)
		closedir(d);
}

static int s_spawn(struct run *r, struct proc *p)
{
	int err[2];
	pid_t pid;

	if (pipe2(err, O_CLOEXEC))
		return -errno;
	pid = vhs_stage_spawn(r->opts->stage_dir, vhs_stage_name(p->kind), r->endpoint, p->instance, err[1]);
	close(err[1]);
	if (pid < 0) {
		close(err[0]);
		return (int)pid;
	}
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	p->err_fd = err[0];
	p->pid = pid;
	p->state = P_SPAWNED;
	s_open_log(r, p);
	return 0;
}

/* "preprocess", or "preprocess.1" when the stage has several workers. */
static const char *s_proc_name(const struct run *r, const struct proc *p)
{
	return r->plan.workers[p->kind] > 1 ? p->id : vhs_stage_name(p->kind);
}

/* Describes how a child ended, for messages. */
static void s_describe_exit(const struct run *r, const struct proc *p, char *buf, size_t n)
{
	const char *name = s_proc_name(r, p);

	if (WIFSIGNALED(p->status))
		snprintf(buf, n, "stage %s (pid %d) was killed by signal %d (%s)", name,
			 (int)p->pid, WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
	else if (WEXITSTATUS(p->status) == 127)
		snprintf(buf, n, "stage %s could not be started (is vhs-stage-%s in %s?)",
			 name, vhs_stage_name(p->kind), "the build's bin directory");
	else
		snprintf(buf, n, "stage %s (pid %d) exited with status %d before finishing",
			 name, (int)p->pid, WEXITSTATUS(p->status));
}

static void s_reap(struct run *r)
{
	struct rusage ru;
	int status;
	pid_t pid;

	while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
		for (int i = 0; i < r->n_procs; i++) {
			struct proc *p = &r->procs[i];

			if (p->pid != pid || p->exited)
				continue;
			p->ru = ru;
			p->status = status;
			p->exited_ns = vhs_now_ns();
			p->exited = true;
		}
	}
}

/* An exit is a failure unless the stage said DONE first (or we are stopping anyway).
 * A stage that exits by itself sends DONE or ERROR just before, and the record can still
 * be in the socket when the exit is seen: it gets a moment to arrive, so the user reads
 * the stage's own message. A death by signal sends nothing, so it is judged at once. */
static void s_check_exits(struct run *r)
{
	char why[256];

	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];

		if (!p->exited || p->done || r->aborting)
			continue;
		if (WIFEXITED(p->status) && vhs_now_ns() - p->exited_ns < EXIT_GRACE_NS)
			continue;
		s_describe_exit(r, p, why, sizeof(why));
		if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 127 && !r->exit_code)
			snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
		if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 127)
			s_fail(r, VHS_EXIT_STAGE, "%s", why);
		else
			s_crash(r, p, why);
	}
}

/* GPU edges: a producer worker frees its device buffers only once every consumer process
 * of the edge has exited, its CUDA IPC handles closed with it (shm/devpool.h). DETACHED
 * tells it so, when the edge's work is over (the producers are done, or the attempt is
 * ending) and no consumer is alive. */
static void s_detach_exporters(struct run *r)
{
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];
		int from = r->base[e->plan.from], to = r->base[e->plan.to];
		bool producing = false, consumers = false;

		if (!e->fmt_known || e->fmt.memory != VHS_MEMORY_CUDA || e->detached)
			continue;
		for (int w = 0; w < r->plan.workers[e->plan.to]; w++)
			consumers |= s_live(&r->procs[to + w]);
		for (int w = 0; w < r->plan.workers[e->plan.from]; w++)
			producing |= s_live(&r->procs[from + w]) && !r->procs[from + w].done;
		if (consumers || (producing && !r->aborting))
			continue;
		for (int w = 0; w < r->plan.workers[e->plan.from]; w++) {
			struct proc *p = &r->procs[from + w];
			struct vhs_msg m = { .type = VHS_MSG_DETACHED };

			m.u.detached.port = (uint8_t)e->plan.from_port;
			if (s_live(p))
				s_send(r, p, &m);
		}
		e->detached = true;
	}
}

static bool s_all_exited(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (s_live(&r->procs[i]))
			return false;
	return true;
}

static void s_kill_all(struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (s_live(&r->procs[i]))
			kill(r->procs[i].pid, SIGKILL);
}

/* ---- start-up ---- */

static int s_next_stage(const struct run *r, int after)
{
	for (int k = after + 1; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			return k;
	return -1;
}

/* The pipeline's plan: the job's worker counts, "auto" ones as chosen (1 until then). */
static void s_build_plan(struct run *r, bool audio)
{
	vhs_plan_build(&r->plan, r->job, audio);
	if (r->auto_workers[VHS_DECODE])
		vhs_plan_layout(&r->plan, r->auto_workers, r->job->run.ring_slots);
}

/* The workers of the plan: procs[] laid out stage by stage, each with its routing id. */
static int s_make_procs(struct run *r)
{
	int n = 0;

	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		n += r->plan.workers[k];
	r->procs = calloc((size_t)n, sizeof(*r->procs));
	if (!r->procs)
		return -ENOMEM;
	r->n_procs = n;
	n = 0;
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		r->base[k] = n;
		for (int i = 0; i < r->plan.workers[k]; i++, n++) {
			r->procs[n].kind = (enum vhs_stage_kind)k;
			r->procs[n].instance = i;
			r->procs[n].err_fd = r->procs[n].log_fd = -1;
			if (r->opts->profiler)
				r->procs[n].prof = vhs_profiler_instance(r->opts->profiler, (enum vhs_stage_kind)k, i);
			snprintf(r->procs[n].id, sizeof(r->procs[n].id), "%s.%d",
				 vhs_stage_name((enum vhs_stage_kind)k), i);
		}
	}
	return 0;
}

static void s_wire(struct run *r)
{
	memset(r->wiring, 0, sizeof(r->wiring));
	r->n_edges = r->plan.n_edges;
	for (int i = 0; i < r->n_edges; i++) {
		const struct vhs_plan_edge *e = &r->plan.edges[i];
		struct wiring *from = &r->wiring[e->from], *to = &r->wiring[e->to];

		r->edges[i].plan = *e;
		from->out_edge[e->from_port] = i;
		from->n_out = e->from_port >= from->n_out ? e->from_port + 1 : from->n_out;
		to->in_edge[e->to_port] = i;
		to->n_in = e->to_port >= to->n_in ? e->to_port + 1 : to->n_in;
	}
}

/* key=value with the escapes of kv.h. */
static void s_kv(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s=", key);
	for (const char *c = value; *c; c++)
		fputs(*c == '\\' ? "\\\\" : *c == '\n' ? "\\n" : (char[2]){ *c, 0 }, f);
	fputc('\n', f);
}

/* Whether the work dir holds segment index's file of kind. */
static bool s_segment_exists(const struct run *r, enum vhs_segment_file kind, unsigned index)
{
	char path[PATH_MAX + 64];

	vhs_segment_file_path(path, sizeof(path), r->work_dir, kind, index);
	return access(path, F_OK) == 0;
}

/* Video frames in the finished segments. */
static uint64_t s_done_frames(const struct run *r)
{
	uint64_t n = 0;

	for (size_t i = 0; i < r->man.n_done; i++)
		n += (uint64_t)r->man.done[i].frames;
	return n;
}

/* Threads of a decode or filter worker: the job's, or the cores shared among the stage's
 * workers (one worker: the libraries' own choice, all cores). Audio gets one: its filters
 * thread by channel at most, and on the enhancement chain two threads cost more than they
 * gave (10 min of stereo: 35.9 s CPU and 44.9 s against 29.6 s and 40.3 s with one). */
static int s_threads(const struct run *r, enum vhs_stage_kind kind)
{
	int workers = r->plan.workers[kind];

	if (kind >= VHS_JOB_STAGES || r->job->stages[kind].threads > 0)
		return kind < VHS_JOB_STAGES ? r->job->stages[kind].threads : 0;
	if (kind == VHS_AUDIO)
		return 1;
	if (workers <= 1)
		return 0;
	return r->cores / workers > 1 ? r->cores / workers : 1;
}

/* The CONFIG blob: the job's settings plus what this run adds (segment.*) and what this
 * worker is (worker.*). */
static char *s_settings(const struct run *r, const struct proc *p)
{
	char *job = vhs_job_to_kv(r->job), *text = NULL;
	size_t len = 0;
	FILE *f = job ? open_memstream(&text, &len) : NULL;

	if (!f) {
		free(job);
		return NULL;
	}
	fputs(job, f);
	s_kv(f, "segment.dir", r->work_dir);
	if (r->analysis[0])
		s_kv(f, "segment.audio_analysis", r->analysis);
	fprintf(f, "segment.warmup=%d\nsegment.lookahead=%d\nsegment.audio_reach_ms=%d\n"
		   "segment.count=%u\nsegment.frames=%llu\nsegment.audio=%d\n"
		   "worker.instance=%d\nworker.threads=%d\n",
		r->reach.warmup, r->reach.lookahead, r->reach.audio_ms, r->man.segments_total,
		(unsigned long long)s_done_frames(r), s_segment_exists(r, VHS_SEGMENT_AUDIO, 0), p->instance,
		s_threads(r, p->kind));
	if (r->opts->profiler)
		fputs("profile.trace=1\n", f);
	if (r->opts->spool_dir && (int)p->kind == r->opts->spool_kind)
		s_kv(f, "profile.spool", r->opts->spool_dir);
	free(job);
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

static int s_on_hello(struct run *r, struct proc *p)
{
	const struct wiring *w = &r->wiring[p->kind];
	struct vhs_msg m = { .type = VHS_MSG_CONFIG };
	char *kv = s_settings(r, p);
	int ret;

	if (!kv)
		return -ENOMEM;
	m.u.config.n_inputs = (uint8_t)w->n_in;
	for (int i = 0; i < w->n_in; i++)
		m.u.config.inputs[i] = r->edges[w->in_edge[i]].fmt;
	m.u.config.settings = kv;
	m.u.config.settings_len = (uint32_t)strlen(kv);
	ret = s_send(r, p, &m);
	free(kv);
	p->state = P_CONFIGURED;
	return ret;
}

/* Host bytes of a slot: the frame, or on a GPU edge the record naming its device buffer. */
static uint32_t s_host_slot_size(const struct vhs_stream_fmt *f)
{
	return f->memory == VHS_MEMORY_CUDA ? VHS_DEVSLOT_SIZE : f->slot_size;
}

static int s_create_ring(struct run *r, struct edge *e)
{
	char name[VHS_RING_NAME_LEN], what[VHS_RING_FORMAT_LEN];
	bool gpu = e->fmt.memory == VHS_MEMORY_CUDA;
	int ret;

	snprintf(name, sizeof(name), "/vhs-%ld-%s", (long)getpid(), e->plan.name);
	if (e->fmt.media == VHS_MEDIA_VIDEO)
		snprintf(what, sizeof(what), "%s %s %dx%d", gpu ? "cuda" : "video", e->fmt.fmt,
			 e->fmt.width, e->fmt.height);
	else
		snprintf(what, sizeof(what), "audio %s %d Hz %d ch", e->fmt.fmt, e->fmt.sample_rate, e->fmt.channels);
	ret = vhs_ring_create(&e->ring, name, e->plan.slots, s_host_slot_size(&e->fmt), what);
	if (ret)
		return ret;
	if (gpu)
		vhs_ring_set_flags(&e->ring, VHS_RING_DEVICE);

	e->owner = calloc(e->plan.slots, 1);
	e->holder = malloc(e->plan.slots * sizeof(*e->holder));
	if (!e->owner || !e->holder)
		return -ENOMEM;
	for (uint32_t s = 0; s < e->plan.slots; s++)
		e->holder[s] = NO_PROC;
	return 0;
}

static int s_attach(struct run *r, struct proc *p)
{
	const struct wiring *w = &r->wiring[p->kind];
	struct vhs_msg a = { .type = VHS_MSG_ATTACH };

	for (int i = 0; i < w->n_out; i++)
		snprintf(a.u.attach.outputs[i], VHS_RING_NAME_LEN, "%s", r->edges[w->out_edge[i]].ring.name);
	for (int i = 0; i < w->n_in; i++)
		snprintf(a.u.attach.inputs[i], VHS_RING_NAME_LEN, "%s", r->edges[w->in_edge[i]].ring.name);
	a.u.attach.n_inputs = (uint8_t)w->n_in;
	a.u.attach.n_outputs = (uint8_t)w->n_out;
	a.u.attach.segments = (uint16_t)r->plan.open[p->kind];
	p->state = P_ATTACHED;
	return s_send(r, p, &a);
}

/* A "Key: N kB" line of a /proc/PID file, in bytes; 0 if it cannot be read. */
static uint64_t s_proc_kb(pid_t pid, const char *file, const char *key)
{
	char path[64], line[256];
	unsigned long long kb = 0;
	size_t n = strlen(key);
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "r");
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':' && sscanf(line + n + 1, "%llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return (uint64_t)kb * 1024;
}

/* Resident memory of a process in bytes: its proportional share (Pss, so the libraries
 * all stages map are not counted once per process), or its RSS where smaps_rollup is
 * missing; 0 if neither can be read. */
static uint64_t s_resident(pid_t pid)
{
	uint64_t pss = s_proc_kb(pid, "smaps_rollup", "Pss");

	return pss ? pss : s_proc_kb(pid, "status", "VmRSS");
}

/* Physical memory in bytes (for max_memory "auto" and percentages). */
static uint64_t s_ram(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	return pages > 0 && size > 0 ? (uint64_t)pages * (uint64_t)size : 0;
}

/* Frames a worker keeps per segment it holds, beyond its slots: decoders their reference
 * and threading frames, filters their queues, the encoder its look-ahead and threads'
 * frames (x264 "fast" at 1440x1080 on 2 cores measured about 280 MiB per encoder, 120
 * frames). An estimate, checked against measured peaks in bench/RESULTS.md. */
static const int s_working_frames[VHS_STAGE_KINDS] = {
	[VHS_DECODE] = 16, [VHS_PREPROCESS] = 8, [VHS_UPSCALE] = 4, [VHS_AUDIO] = 4, [VHS_ENCODE] = 128,
};

/* The costs of the plan: slot sizes, each stage's first worker as measured now, and the
 * working set per segment from its largest edge's slot size. */
static void s_costs(struct run *r, struct vhs_plan_costs *c)
{
	memset(c, 0, sizeof(*c));
	for (int i = 0; i < r->n_edges; i++) {
		const struct edge *e = &r->edges[i];
		uint64_t frames[2] = { (uint64_t)s_working_frames[e->plan.from] * e->fmt.slot_size,
				       (uint64_t)s_working_frames[e->plan.to] * e->fmt.slot_size };

		c->slot_size[i] = s_host_slot_size(&e->fmt);
		c->per_segment[e->plan.from] = frames[0] > c->per_segment[e->plan.from] ? frames[0]
						: c->per_segment[e->plan.from];
		if (e->plan.to == VHS_ENCODE && e->plan.to_port == 0)
			c->per_segment[VHS_ENCODE] = frames[1];
	}
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			c->base[k] = s_resident(r->procs[r->base[k]].pid);
}

/* Lays procs[] out again for the plan's (reduced) worker counts, keeping each stage's
 * first worker, which is running already. */
static int s_relayout_procs(struct run *r)
{
	struct proc first[VHS_STAGE_KINDS];
	int ret;

	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			first[k] = r->procs[r->base[k]];
	free(r->procs);
	vhs_pool_free(&r->pool);
	ret = s_make_procs(r);
	if (!ret)
		ret = vhs_pool_init(&r->pool, r->plan.workers, r->plan.in_flight);
	if (ret)
		return ret;
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		if (r->plan.stages[k])
			r->procs[r->base[k]] = first[k];
	s_wire(r);
	return 0;
}

/* Checks the plan against [run] max_memory, cutting it down or refusing it (plan.h). */
static int s_fit_memory(struct run *r)
{
	struct vhs_plan_costs c;
	bool is_auto[VHS_STAGE_KINDS] = { false };
	uint64_t budget = 0, rings, procs, need;
	char msg[512];
	int ret;

	vhs_job_memory_bytes(r->job->run.max_memory ? r->job->run.max_memory : "auto", s_ram(), &budget);
	for (int k = 0; k < VHS_JOB_STAGES; k++)
		is_auto[k] = r->job->stages[k].workers == 0;
	s_costs(r, &c);
	ret = vhs_plan_fit(&r->plan, is_auto, &c, budget, msg, sizeof(msg));
	if (ret < 0) {
		s_fail(r, VHS_EXIT_JOB, "%s", msg);
		return 0;
	}
	if (ret > 0) {
		fprintf(stderr, "vhs-orchestrate: warning: %s\n", msg);
		ret = s_relayout_procs(r);
	}
	need = vhs_plan_memory(&r->plan, &c, &rings, &procs);
	if (r->plan.width > 1 && !r->announced) {
		fprintf(stderr, "vhs-orchestrate: workers: decode %d, preprocess %d, upscale %d, audio %d, "
			"encode %d on %d cores; memory about %.0f MiB of %.0f MiB allowed\n",
			r->plan.workers[VHS_DECODE], r->plan.workers[VHS_PREPROCESS], r->plan.workers[VHS_UPSCALE],
			r->plan.stages[VHS_AUDIO] ? r->plan.workers[VHS_AUDIO] : 0, r->plan.workers[VHS_ENCODE],
			r->cores, (double)need / 1048576.0, (double)budget / 1048576.0);
		r->announced = true;
	}
	return ret;
}

/* Every stage's first worker declared its outputs, so every ring can be sized: fit the
 * plan to the memory budget, create the rings, attach those workers, and start all the
 * others, which need nothing in order. */
static int s_rings_up(struct run *r)
{
	int ret = r->mux ? 0 : s_fit_memory(r);

	if (ret || r->aborting)
		return ret;

	r->gpu_edges = 0;
	for (int i = 0; i < r->n_edges && !ret; i++) {
		struct edge *e = &r->edges[i];

		r->gpu_edges += e->fmt.memory == VHS_MEMORY_CUDA;
		ret = s_create_ring(r, e);
		if (ret) {
			s_fail(r, VHS_EXIT_INTERNAL, "cannot create shared memory for %s (%u x %u bytes): %s",
			       e->plan.name, e->plan.slots, e->fmt.slot_size, strerror(-ret));
			return 0;
		}
	}
	for (int i = 0; i < r->n_procs && !ret; i++) {
		struct proc *p = &r->procs[i];

		if (!r->plan.stages[p->kind])
			continue;
		if (p->state == P_FORMATTED)
			ret = s_attach(r, p);
		else if (p->state == P_NONE && (ret = s_spawn(r, p)))
			s_fail(r, VHS_EXIT_INTERNAL, "cannot start stage %s: %s", p->id, strerror(-ret));
	}
	return ret;
}

/* The formats a worker declares must be those its stage's first worker declared. */
static bool s_same_format(const struct vhs_stream_fmt *a, const struct vhs_stream_fmt *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static int s_on_format(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	const struct wiring *w;
	int next;

	if (p->kind == VHS_DECODE && p->instance == 0) {
		s_build_plan(r, m->u.format.n > 1);
		s_wire(r);
	}
	w = &r->wiring[p->kind];
	if (m->u.format.n != w->n_out) {
		s_fail(r, VHS_EXIT_INTERNAL, "stage %s declared %d outputs, the plan has %d",
		       s_proc_name(r, p), m->u.format.n, w->n_out);
		return 0;
	}
	for (int i = 0; i < w->n_out; i++) {
		struct edge *e = &r->edges[w->out_edge[i]];

		if (e->fmt_known && !s_same_format(&e->fmt, &m->u.format.outputs[i])) {
			s_fail(r, VHS_EXIT_INTERNAL, "stage %s declared another format for %s than its "
			       "first worker", s_proc_name(r, p), e->plan.name);
			return 0;
		}
		e->fmt = m->u.format.outputs[i];
		e->fmt_known = true;
	}
	if (p->instance > 0)
		return s_attach(r, p);
	p->state = P_FORMATTED;
	next = s_next_stage(r, (int)p->kind);
	if (next < 0)
		return s_rings_up(r);
	return s_spawn(r, &r->procs[r->base[next]]);
}

/* The process a slot of e is given to: the producer worker whose share it is. */
static struct proc *s_slot_producer(struct run *r, const struct edge *e, uint32_t slot)
{
	return &r->procs[r->base[e->plan.from] + (int)(slot / e->plan.quota)];
}

static int s_grant(struct run *r, struct edge *e, uint32_t slot)
{
	struct proc *p = s_slot_producer(r, e, slot);
	struct vhs_msg m = { .type = VHS_MSG_GRANT };
	int ret;

	m.u.grant.port = (uint8_t)e->plan.from_port;
	m.u.grant.slot = slot;
	ret = s_send(r, p, &m);
	/* The producer may have ended and gone before its EOS was read here (the ROUTER reads
	 * peers fairly, not in global order): the slot then rests. */
	e->owner[slot] = ret == 0 ? OWN_PRODUCER : OWN_FREE;
	e->holder[slot] = ret == 0 ? (int)(p - r->procs) : NO_PROC;
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* The worker of kind that holds f, chosen at the segment's first record there: the least
 * loaded, then the one with the fewest input slots in hand (pool.h). */
static struct proc *s_holder(struct run *r, struct vhs_flight *f, enum vhs_stage_kind kind)
{
	uint32_t *backlog = NULL;
	int i;

	if (f->worker[kind] == VHS_POOL_NONE && r->plan.workers[kind] > 1 &&
	    (backlog = calloc((size_t)r->plan.workers[kind], sizeof(*backlog)))) {
		for (int k = 0; k < r->wiring[kind].n_in; k++) {
			const struct edge *e = &r->edges[r->wiring[kind].in_edge[k]];

			for (uint32_t s = 0; s < e->plan.slots; s++)
				if (e->owner[s] == OWN_CONSUMER && e->holder[s] != NO_PROC)
					backlog[e->holder[s] - r->base[kind]]++;
		}
	}
	i = vhs_pool_holder(&r->pool, f, kind, backlog);
	free(backlog);
	return &r->procs[r->base[kind] + i];
}

/* No more segments to ask for: every decode worker is told (EOS), once. */
static int s_close_requests(struct run *r)
{
	if (r->requests_closed)
		return 0;
	r->requests_closed = true;
	return s_send_kind(r, VHS_DECODE, &(struct vhs_msg){ .type = VHS_MSG_EOS });
}

/* Asks for the next segments not done yet, up to the plan's in_flight, each from the
 * decode worker holding the fewest; when every segment is asked for, closes the requests. */
static int s_request_more(struct run *r)
{
	int ret = 0;

	while (!ret && !r->mux && !r->requests_closed && !r->draining && !r->replanning &&
	       r->pool.n < r->plan.in_flight) {
		struct vhs_msg m = { .type = VHS_MSG_SEGMENT };
		uint32_t k = r->next_request;
		struct vhs_flight *f;

		while (vhs_manifest_has(&r->man, k))
			k++;
		if (r->man.segments_total && k >= r->man.segments_total)
			return s_close_requests(r);
		if (k >= r->past_end)
			return 0; /* past the end; the segment flagged LAST is still being made */
		f = vhs_pool_start(&r->pool, k);
		if (!f)
			return -EPROTO;
		m.u.segment.phase = VHS_SEG_REQUEST;
		m.u.segment.index = k;
		ret = s_send(r, s_holder(r, f, VHS_DECODE), &m);
		r->next_request = k + 1;
	}
	return ret;
}

static bool s_all_running(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->plan.stages[r->procs[i].kind] && r->procs[i].state != P_RUNNING)
			return false;
	return true;
}

/* Everything is up: hand every slot to its producer, ask for segments, start the
 * progress display. */
static int s_start_flow(struct run *r)
{
	const struct vhs_stream_fmt *out;
	double fps, total;
	int ret = 0;

	r->flowing = true;
	r->moved_ns = vhs_now_ns();
	if (r->mux)
		return 0;
	out = &r->edges[r->wiring[VHS_ENCODE].in_edge[0]].fmt;
	fps = out->fr_den ? (double)out->fr_num / out->fr_den : 0;
	total = out->duration_us > 0 && fps > 0 ? (double)out->duration_us / 1e6 * fps : 0;
	for (int i = 0; i < r->n_edges && !ret; i++)
		for (uint32_t s = 0; s < r->edges[i].plan.slots && !ret; s++)
			ret = s_grant(r, &r->edges[i], s);
	if (!r->progress_started)
		vhs_progress_start(&r->progress, r->opts->progress, r->opts->verbose, total, fps);
	r->progress_started = true;
	return ret ? ret : s_request_more(r);
}

static int s_on_ready(struct run *r, struct proc *p)
{
	p->state = P_RUNNING;
	return s_all_running(r) ? s_start_flow(r) : 0;
}

/* ---- the broker ---- */

static bool s_slot_ok(struct run *r, struct proc *p, struct edge *e, uint32_t slot,
		      enum owner expect, const char *what)
{
	if (slot < e->plan.slots && e->owner[slot] == expect && e->holder[slot] == (int)(p - r->procs))
		return true;
	s_fail(r, VHS_EXIT_INTERNAL, "protocol error: stage %s sent %s for slot %u of %s, which it does not own",
	       s_proc_name(r, p), what, slot, e->plan.name);
	return false;
}

/* The worker of e's consumer stage that holds segment index (given it at the segment's
 * first marker there), or NULL when the segment is not in flight there: a protocol error. */
static struct proc *s_consumer(struct run *r, const struct edge *e, uint32_t index, bool assign)
{
	struct vhs_flight *f = vhs_pool_find(&r->pool, index);

	if (!f || (!assign && f->worker[e->plan.to] == VHS_POOL_NONE))
		return NULL;
	return s_holder(r, f, e->plan.to);
}

/* A record went from stage `from` to stage `to`: the active spans of both (for --stats),
 * at the time s_dispatch took when the record arrived. */
static void s_span(struct run *r, enum vhs_stage_kind from, enum vhs_stage_kind to)
{
	uint64_t now = r->moved_ns;

	if (!r->kstats[to].first_in_ns)
		r->kstats[to].first_in_ns = now;
	r->kstats[from].last_out_ns = now;
	r->kstats[to].last_out_ns = to == VHS_ENCODE ? now : r->kstats[to].last_out_ns;
}

/* FRAME or AUDIO from a producer: the slot moves to the worker holding its segment. */
static int s_on_data(struct run *r, struct proc *p, struct vhs_msg *m)
{
	uint8_t *port = m->type == VHS_MSG_FRAME ? &m->u.frame.port : &m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;
	uint32_t index = m->type == VHS_MSG_FRAME ? m->u.frame.segment : m->u.audio.segment;
	struct edge *e;
	struct proc *to;

	if (*port >= r->wiring[p->kind].n_out)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].out_edge[*port]];
	if (!s_slot_ok(r, p, e, slot, OWN_PRODUCER, vhs_proto_type_name(m->type)))
		return 0;
	to = s_consumer(r, e, index, false);
	if (!to)
		return -EPROTO;
	e->owner[slot] = OWN_CONSUMER;
	e->holder[slot] = (int)(to - r->procs);
	s_span(r, p->kind, e->plan.to);
	p->sent[*port]++;
	p->bytes_sent += m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->u.audio.bytes;
	to->received[e->plan.to_port]++;
	if (e->plan.to == VHS_ENCODE && e->plan.to_port == 0) {
		r->frames_out++;
		r->seg_frames++;
		if (r->crash_ns) { /* the first frame out again since a crash */
			r->recovery_ns += vhs_now_ns() - r->crash_ns;
			r->recoveries++;
			r->crash_ns = 0;
		}
	}
	*port = (uint8_t)e->plan.to_port;
	return s_send(r, to, m);
}

/* RELEASE from a consumer: the slot goes back to the producer whose share it is, or rests
 * if that one ended. */
static int s_on_release(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	struct edge *e;
	struct proc *producer;

	if (m->u.grant.port >= r->wiring[p->kind].n_in)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].in_edge[m->u.grant.port]];
	if (!s_slot_ok(r, p, e, m->u.grant.slot, OWN_CONSUMER, "RELEASE"))
		return 0;
	e->owner[m->u.grant.slot] = OWN_FREE;
	e->holder[m->u.grant.slot] = NO_PROC;
	producer = s_slot_producer(r, e, m->u.grant.slot);
	if (producer->ended[e->plan.from_port] || producer->exited || r->aborting)
		return 0;
	return s_grant(r, e, m->u.grant.slot);
}

/* EOS from a producer worker; when the last of them ended, every consumer worker gets it. */
static int s_on_eos(struct run *r, struct proc *p, struct vhs_msg *m)
{
	struct vhs_msg out = { .type = VHS_MSG_EOS };
	struct edge *e;
	int ret = 0;

	if (m->u.eos.port >= r->wiring[p->kind].n_out)
		return -EPROTO;
	e = &r->edges[r->wiring[p->kind].out_edge[m->u.eos.port]];
	if (m->u.eos.count != p->sent[m->u.eos.port]) {
		s_fail(r, VHS_EXIT_INTERNAL, "protocol error: %s says it sent %llu records on %s, %llu arrived",
		       s_proc_name(r, p), (unsigned long long)m->u.eos.count, e->plan.name,
		       (unsigned long long)p->sent[m->u.eos.port]);
		return 0;
	}
	p->ended[m->u.eos.port] = true;
	for (int i = 0; i < r->plan.workers[e->plan.from]; i++)
		if (!r->procs[r->base[e->plan.from] + i].ended[e->plan.from_port])
			return 0;
	out.u.eos.port = (uint8_t)e->plan.to_port;
	for (int i = 0; i < r->plan.workers[e->plan.to] && !ret; i++) {
		struct proc *to = &r->procs[r->base[e->plan.to] + i];

		out.u.eos.count = to->received[e->plan.to_port];
		ret = s_send(r, to, &out);
	}
	return ret;
}

/* encode committed a segment: into the manifest, which is replaced atomically. */
static int s_on_segment_done(struct run *r, const struct vhs_segment *sg)
{
	struct vhs_manifest_segment ms = { .index = sg->index, .frames = (int64_t)sg->frames,
					   .samples = (int64_t)sg->samples, .bytes = sg->bytes };
	struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);
	int ret;

	if (!f)
		return -EPROTO;
	vhs_pool_finish(&r->pool, f);
	vhs_segment_file_name(ms.file, sizeof(ms.file), VHS_SEGMENT_VIDEO, sg->index);
	if (sg->flags & VHS_SEG_LAST)
		r->man.segments_total = sg->index + 1;
	ret = vhs_manifest_add(&r->man, &ms);
	if (!ret)
		ret = vhs_manifest_save(&r->man, r->work_dir, VHS_FILE_MANIFEST);
	if (ret) {
		s_fail(r, VHS_EXIT_OUTPUT, "cannot write the manifest in '%s': %s", r->work_dir, strerror(-ret));
		return 0;
	}
	r->made++;
	r->seg_frames -= sg->frames < r->seg_frames ? sg->frames : r->seg_frames;
	ret = s_request_more(r);
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* decode found the input ends before a segment it was asked for. */
static int s_on_segment_none(struct run *r, const struct vhs_segment *sg)
{
	struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);
	int ret;

	if (!f || sg->index == 0)
		return -EPROTO;
	vhs_pool_finish(&r->pool, f);
	r->past_end = sg->index < r->past_end ? sg->index : r->past_end;
	ret = s_request_more(r);
	return ret == -EHOSTUNREACH ? 0 : ret;
}

/* SEGMENT: BEGIN/END markers are routed like data, to the worker holding the segment at
 * the next stage (chosen at its first marker there); encode's DONE is recorded; decode's
 * NONE and LAST bound the requests. */
static int s_on_segment(struct run *r, struct proc *p, struct vhs_msg *m)
{
	struct vhs_segment *sg = &m->u.segment;
	const struct wiring *w = &r->wiring[p->kind];
	struct edge *e;
	struct proc *to;

	if (sg->phase == VHS_SEG_DONE)
		return p->kind == VHS_ENCODE ? s_on_segment_done(r, sg) : -EPROTO;
	if (sg->phase == VHS_SEG_NONE)
		return p->kind == VHS_DECODE ? s_on_segment_none(r, sg) : -EPROTO;
	if ((sg->phase != VHS_SEG_BEGIN && sg->phase != VHS_SEG_END) || sg->port >= w->n_out)
		return -EPROTO;
	e = &r->edges[w->out_edge[sg->port]];
	to = s_consumer(r, e, sg->index, sg->phase == VHS_SEG_BEGIN);
	if (!to)
		return -EPROTO;
	if (sg->phase == VHS_SEG_END) {
		struct vhs_flight *f = vhs_pool_find(&r->pool, sg->index);

		vhs_pool_end(&r->pool, f, p->kind, w->n_out);
		vhs_pool_end_in(&r->pool, f, e->plan.to, r->wiring[e->plan.to].n_in);
	}
	if (p->kind == VHS_DECODE && sg->port == 0 && sg->phase == VHS_SEG_BEGIN &&
	    (sg->flags & VHS_SEG_LAST)) {
		int ret = s_close_requests(r); /* decode workers end after what they hold */

		r->man.segments_total = sg->index + 1;
		if (ret && ret != -EHOSTUNREACH)
			return ret;
	}
	sg->port = (uint8_t)e->plan.to_port;
	return s_send(r, to, m);
}

static int s_on_error(struct run *r, struct proc *p, const struct vhs_msg *m)
{
	static const int codes[] = {
		[VHS_ERR_INTERNAL] = VHS_EXIT_STAGE, [VHS_ERR_INPUT] = VHS_EXIT_INPUT,
		[VHS_ERR_OUTPUT] = VHS_EXIT_OUTPUT,  [VHS_ERR_CONFIG] = VHS_EXIT_JOB,
	};

	if (!r->exit_code)
		snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
	s_fail(r, codes[m->u.error.cls], "%s: %s", vhs_stage_name(p->kind), m->u.error.text);
	return 0;
}

static struct proc *s_find(struct run *r, const char *id, size_t len)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->procs[i].state != P_NONE && strlen(r->procs[i].id) == len &&
		    !memcmp(r->procs[i].id, id, len))
			return &r->procs[i];
	return NULL;
}

/* Which record a stage may send in which state: start-up records one at a time. */
static int s_dispatch(struct run *r, struct proc *p, struct vhs_msg *m)
{
	bool running = p->state == P_RUNNING;

	if (r->aborting && m->type != VHS_MSG_ERROR && m->type != VHS_MSG_STATS)
		return 0; /* stopping: nothing starts and nothing moves any more */
	switch (m->type) {
	case VHS_MSG_HELLO:
		return p->state == P_SPAWNED ? s_on_hello(r, p) : -EPROTO;
	case VHS_MSG_FORMAT:
		return p->state == P_CONFIGURED ? s_on_format(r, p, m) : -EPROTO;
	case VHS_MSG_READY:
		return p->state == P_ATTACHED ? s_on_ready(r, p) : -EPROTO;
	case VHS_MSG_ERROR:
		return s_on_error(r, p, m);
	case VHS_MSG_STATS:
		p->stats = m->u.stats;
		return 0;
	case VHS_MSG_TRACE:
		return p->prof && vhs_profiler_trace(p->prof, &m->u.trace) ? -ENOMEM : 0;
	}
	if (!running || !r->flowing)
		return -EPROTO;
	r->moved_ns = vhs_now_ns();
	switch (m->type) {
	case VHS_MSG_FRAME:
	case VHS_MSG_AUDIO:
		return s_on_data(r, p, m);
	case VHS_MSG_RELEASE:
		return s_on_release(r, p, m);
	case VHS_MSG_EOS:
		return s_on_eos(r, p, m);
	case VHS_MSG_SEGMENT:
		return s_on_segment(r, p, m);
	case VHS_MSG_DONE:
		p->done = true;
		return 0;
	default:
		return -EPROTO;
	}
}

static void s_on_message(struct run *r)
{
	char id[64];
	uint8_t buf[VHS_MSG_MAX];
	struct vhs_msg m;
	struct proc *p;
	int idlen, len, more = 0, ret;
	size_t moresz = sizeof(more);

	idlen = zmq_recv(r->router, id, sizeof(id), ZMQ_DONTWAIT);
	if (idlen < 0)
		return;
	zmq_getsockopt(r->router, ZMQ_RCVMORE, &more, &moresz);
	if (!more)
		return;
	len = zmq_recv(r->router, buf, sizeof(buf), 0);
	p = s_find(r, id, (size_t)(idlen < (int)sizeof(id) ? idlen : (int)sizeof(id)));
	if (!p || len < 0)
		return; /* not one of ours (or a stage already forgotten) */
	p->heard_ns = vhs_now_ns();
	p->cpu_ticks = 0; /* a silent spell starts with a fresh CPU sample */
	ret = len > (int)sizeof(buf) ? -EPROTO : vhs_proto_unpack(&m, buf, (size_t)len);
	if (!ret)
		ret = s_dispatch(r, p, &m);
	if (ret == -EPROTO)
		s_fail(r, VHS_EXIT_INTERNAL, "protocol error from stage %s (%s record out of place or malformed)",
		       s_proc_name(r, p), vhs_proto_type_name(len >= 2 ? buf[1] : 0));
	else if (ret == -EHOSTUNREACH)
		; /* a peer that left: its exit is judged by s_check_exits, with the real cause */
	else if (ret < 0)
		s_fail(r, VHS_EXIT_INTERNAL, "routing a record of stage %s: %s", s_proc_name(r, p), strerror(-ret));
}

static void s_on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			s_reap(r);
			continue;
		}
		vhs_progress_end(&r->progress);
		if (si.ssi_signo == SIGINT && ++r->interrupts == 1 && r->flowing && !r->mux && !r->aborting) {
			struct vhs_msg m = { .type = VHS_MSG_DRAIN };

			r->draining = true;
			s_send_kind(r, VHS_DECODE, &m);
			fprintf(stderr, "vhs-orchestrate: interrupted: finishing the segments in progress "
				"(Ctrl-C again to stop at once)\n");
			continue;
		}
		s_fail(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
	}
}

static bool s_finished(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->plan.stages[r->procs[i].kind] && !r->procs[i].done)
			return false;
	return r->flowing;
}

/* CPU time (utime + stime, clock ticks) of a process; 0 if it cannot be read. */
static unsigned long long s_cpu_ticks(pid_t pid)
{
	unsigned long long utime = 0, stime = 0;
	char path[64], buf[1024], *end;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	end = strrchr(buf, ')'); /* the command name may hold spaces */
	if (!end || sscanf(end + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			   &utime, &stime) != 2)
		return 0;
	return utime + stime;
}

/* The heartbeat: every stage sends STATS at least every 0.5 s from wherever it waits.
 * One that has said nothing for 3 s and used no CPU meanwhile is stopped or deadlocked
 * (a slow filter inside one long callback uses CPU, so it is not mistaken for hung). */
static void s_check_heartbeats(struct run *r, uint64_t now)
{
	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];
		unsigned long long ticks;
		char why[256];

		if (p->state != P_RUNNING || p->done || p->exited || now - p->heard_ns < HEARTBEAT_NS)
			continue;
		ticks = s_cpu_ticks(p->pid);
		if (ticks != p->cpu_ticks || !ticks) {
			p->cpu_ticks = ticks; /* busy: look again in 3 s */
			p->heard_ns = now;
			continue;
		}
		snprintf(why, sizeof(why), "stage %s (pid %d) stopped responding: no heartbeat and no CPU "
			 "time for %llu s; killed", s_proc_name(r, p), (int)p->pid, HEARTBEAT_NS / 1000000000ull);
		s_crash(r, p, why);
	}
}

/* Nothing moved for a minute: name an edge where consumers hold every slot of a
 * producer worker that has not ended. */
static void s_fail_stalled(struct run *r)
{
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];

		for (uint32_t first = 0; first < e->plan.slots; first += e->plan.quota) {
			uint32_t held = 0;

			for (uint32_t s = first; s < first + e->plan.quota; s++)
				held += e->owner[s] == OWN_CONSUMER;
			if (held < e->plan.quota || s_slot_producer(r, e, first)->ended[e->plan.from_port])
				continue;
			s_fail(r, VHS_EXIT_STAGE, "pipeline stalled: %s holds all %u slots of %s; its filters "
			       "keep more frames than that (raise [run] ring_slots)",
			       vhs_stage_name(e->plan.to), held, e->plan.name);
			return;
		}
	}
	s_fail(r, VHS_EXIT_STAGE, "pipeline stalled: no frame moved for %llu s", STALL_NS / 1000000000ull);
}

/* ---- workers = "auto" ---- */

#define AUTO_SETTLE_NS (1ull * 1000000000ull) /* from the first frame at encode to the window */
#define AUTO_WINDOW_NS (5ull * 1000000000ull) /* measured before choosing */
#define AUTO_MIN_GAIN 1.10                    /* a new plan must promise this much more */

static bool s_any_auto(const struct run *r)
{
	for (int k = 0; k < VHS_JOB_STAGES; k++)
		if (r->job->stages[k].workers == 0)
			return true;
	return false;
}

static unsigned long long s_cpu_ticks(pid_t pid);

/* Busy nanoseconds of each stage's workers (from their last STATS) and CPU nanoseconds
 * (read now from /proc), summed per stage. */
static void s_stage_times(const struct run *r, uint64_t busy[VHS_STAGE_KINDS], uint64_t cpu[VHS_STAGE_KINDS])
{
	long tick = sysconf(_SC_CLK_TCK);

	memset(busy, 0, VHS_STAGE_KINDS * sizeof(*busy));
	memset(cpu, 0, VHS_STAGE_KINDS * sizeof(*cpu));
	for (int i = 0; i < r->n_procs; i++) {
		if (!s_live(&r->procs[i]))
			continue;
		busy[r->procs[i].kind] += r->procs[i].stats.busy_ns;
		cpu[r->procs[i].kind] += s_cpu_ticks(r->procs[i].pid) * (1000000000ull / (uint64_t)(tick > 0 ? tick : 100));
	}
}

/* (now - then) / window, 0 if a counter ran back (a worker gone, a late STATS). */
static double s_rate(uint64_t now, uint64_t then, uint64_t window)
{
	return now > then ? (double)(now - then) / (double)window : 0;
}

/* The rule (docs/user-guide.md): over the window, stage k kept its workers busy B_k and
 * used CPU U_k. All cores would carry the pipeline s = cores / sum(U_k / T) times faster,
 * where stage k then needs s * B_k / T workers busy: each "auto" stage gets that many,
 * rounded up, at least 1. Stages with a count of their own keep it. */
static double s_auto_choose(struct run *r, uint64_t window, const uint64_t busy[], const uint64_t cpu[],
			    int chosen[VHS_STAGE_KINDS])
{
	double used = 0, s, gain;

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		used += r->plan.stages[k] ? s_rate(cpu[k], r->calib_cpu[k], window) : 0;
	s = used > 0 ? r->cores / used : 1;
	gain = s;
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		double b = s_rate(busy[k], r->calib_busy[k], window);
		double need = s * b;

		chosen[k] = r->plan.workers[k];
		if (!r->plan.stages[k])
			continue;
		if (r->job->stages[k].workers == 0) {
			chosen[k] = need > 1 ? (int)ceil(need - 0.05) : 1;
			chosen[k] = chosen[k] > r->cores ? r->cores : chosen[k];
		}
		gain = b > 0 && chosen[k] / b < gain ? chosen[k] / b : gain; /* its workers' limit */
	}
	return gain;
}

/* Prints what auto saw and chose. */
static void s_auto_report(const struct run *r, uint64_t window, const uint64_t busy[], const uint64_t cpu[],
			  const int chosen[], double gain, bool change)
{
	fprintf(stderr, "vhs-orchestrate: auto workers: over %.1f s on %d cores:", (double)window / 1e9, r->cores);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (r->plan.stages[k])
			fprintf(stderr, " %s %d busy %.0f%% cpu %.2f;", vhs_stage_name((enum vhs_stage_kind)k),
				r->plan.workers[k], 100.0 * s_rate(busy[k], r->calib_busy[k], window) /
				r->plan.workers[k], s_rate(cpu[k], r->calib_cpu[k], window));
	fprintf(stderr, " %s", change ? "now" : "keeping");
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		if (r->plan.stages[k] && r->job->stages[k].workers == 0)
			fprintf(stderr, " %s %d", vhs_stage_name((enum vhs_stage_kind)k),
				change ? chosen[k] : r->plan.workers[k]);
	fprintf(stderr, change ? " (about %.2fx faster; the segments in progress finish first)\n"
			       : " (another count would gain less than %.0f%%)\n",
		change ? gain : (AUTO_MIN_GAIN - 1) * 100);
}

/* Auto workers: opens the measuring window a second after frames first reach encode; at its end,
 * chooses the counts and, if they promise enough, drains the attempt so that the next one
 * starts with them (finished segments are kept; nothing is redone). */
static void s_auto_check(struct run *r, uint64_t now)
{
	uint64_t busy[VHS_STAGE_KINDS], cpu[VHS_STAGE_KINDS];
	int chosen[VHS_STAGE_KINDS];
	double gain;
	bool change = false;

	if (r->mux || r->replanning || r->draining || r->auto_workers[VHS_DECODE] || !s_any_auto(r) ||
	    r->frames_out == s_done_frames(r))
		return;
	if (!r->flow_seen_ns)
		r->flow_seen_ns = now;
	if (now - r->flow_seen_ns < AUTO_SETTLE_NS)
		return; /* the pipeline is still filling */
	s_stage_times(r, busy, cpu);
	if (!r->calib_ns) {
		r->calib_ns = now;
		memcpy(r->calib_busy, busy, sizeof(busy));
		memcpy(r->calib_cpu, cpu, sizeof(cpu));
		return;
	}
	if (now - r->calib_ns < AUTO_WINDOW_NS)
		return;
	gain = s_auto_choose(r, now - r->calib_ns, busy, cpu, chosen);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++)
		change |= chosen[k] != r->plan.workers[k];
	change &= gain >= AUTO_MIN_GAIN && !r->requests_closed;
	s_auto_report(r, now - r->calib_ns, busy, cpu, chosen, gain, change);
	memcpy(r->auto_workers, change ? chosen : r->plan.workers, sizeof(chosen));
	if (change) {
		r->replanning = true;
		s_send_kind(r, VHS_DECODE, &(struct vhs_msg){ .type = VHS_MSG_DRAIN });
	}
}

static void s_check_time(struct run *r)
{
	uint64_t now = vhs_now_ns();

	if (!r->flowing && !r->aborting && now - r->start_ns > STARTUP_TIMEOUT_NS)
		s_fail(r, VHS_EXIT_STAGE, "stages did not start within %llu s",
		       STARTUP_TIMEOUT_NS / 1000000000ull);
	if (r->aborting && now - r->abort_ns > STOP_GRACE_NS)
		s_kill_all(r);
	if (r->flowing && !r->aborting && now - r->moved_ns > STALL_NS)
		s_fail_stalled(r);
	if (r->flowing && !r->aborting)
		s_check_heartbeats(r, now);
	if (r->flowing && !r->aborting)
		s_auto_check(r, now);
}

/* The progress display's figures: per stage kind its workers' last STATS summed, per edge
 * the slots its consumers hold. */
static void s_progress(struct run *r, int force, int done)
{
	struct vhs_progress_detail d = { 0 };

	if (!r->procs) { /* between attempts, or after the last: the last figures seen */
		vhs_progress_update(&r->progress, r->frames_out, force, &r->last_detail, done);
		return;
	}

	for (int k = 0; k < VHS_STAGE_KINDS && d.n_stages < VHS_PROGRESS_ROWS; k++) {
		struct vhs_progress_stage *st = &d.stages[d.n_stages];

		if (!r->plan.stages[k] || k == VHS_MUX)
			continue;
		st->name = vhs_stage_name((enum vhs_stage_kind)k);
		st->workers = r->plan.workers[k];
		for (int i = 0; i < r->plan.workers[k]; i++) {
			const struct vhs_stats *x = &r->procs[r->base[k] + i].stats;

			st->frames += k == VHS_ENCODE ? x->frames_in : x->frames_out;
			st->busy_ns += x->busy_ns;
			st->wait_in_ns += x->wait_in_ns;
			st->wait_out_ns += x->wait_out_ns;
		}
		d.n_stages++;
	}
	for (int i = 0; i < r->n_edges && d.n_rings < VHS_PROGRESS_ROWS; i++) {
		const struct edge *e = &r->edges[i];
		struct vhs_progress_ring *ring = &d.rings[d.n_rings++];

		ring->name = e->plan.name;
		ring->slots = e->plan.slots;
		for (uint32_t sl = 0; e->owner && sl < e->plan.slots; sl++)
			ring->full += e->owner[sl] == OWN_CONSUMER;
	}
	r->last_detail = d;
	vhs_progress_update(&r->progress, r->frames_out, force, &d, done);
}

/* Frames each stage's processes handled in this attempt: records on the first input port,
 * a source's on its first output port. */
static uint64_t s_proc_frames(const struct run *r, const struct proc *p)
{
	return r->wiring[p->kind].n_in ? p->received[0] : p->sent[0];
}

/* A profile's timeline point: frames per stage, slots holding a frame per ring. */
static void s_profile_tick(struct run *r)
{
	uint64_t frames[VHS_STAGE_KINDS] = { 0 };
	uint32_t full[VHS_PLAN_MAX_EDGES] = { 0 };

	for (int i = 0; i < r->n_procs; i++)
		frames[r->procs[i].kind] += s_proc_frames(r, &r->procs[i]);
	for (int i = 0; i < r->n_edges; i++)
		for (uint32_t sl = 0; r->edges[i].owner && sl < r->edges[i].plan.slots; sl++)
			full[i] += r->edges[i].owner[sl] == OWN_CONSUMER;
	vhs_profiler_tick(r->opts->profiler, vhs_now_ns(), frames, full);
}

/* The end of an attempt, for the profile: each process's last figures. */
static void s_profile_attempt_end(struct run *r)
{
	uint64_t frames[VHS_STAGE_KINDS] = { 0 };

	for (int i = 0; i < r->n_procs; i++) {
		const struct proc *p = &r->procs[i];

		if (p->state == P_NONE || !p->prof)
			continue;
		frames[p->kind] += s_proc_frames(r, p);
		vhs_profiler_process(p->prof, &p->stats, &p->ru, s_proc_frames(r, p), p->bytes_sent);
	}
	vhs_profiler_attempt_end(r->opts->profiler, frames);
}

static void s_loop(struct run *r)
{
	zmq_pollitem_t *items = calloc((size_t)r->n_procs + 2, sizeof(*items));
	int n;

	if (!items) {
		s_fail(r, VHS_EXIT_INTERNAL, "out of memory");
		s_kill_all(r);
		return;
	}
	for (;;) {
		items[0] = (zmq_pollitem_t){ .socket = r->router, .events = ZMQ_POLLIN };
		items[1] = (zmq_pollitem_t){ .fd = r->sigfd, .events = ZMQ_POLLIN };
		n = 2;
		for (int i = 0; i < r->n_procs; i++)
			if (r->procs[i].err_fd >= 0)
				items[n++] = (zmq_pollitem_t){ .fd = r->procs[i].err_fd, .events = ZMQ_POLLIN };
		if (zmq_poll(items, n, 100) < 0 && errno != EINTR) {
			s_fail(r, VHS_EXIT_INTERNAL, "zmq_poll: %s", strerror(errno));
			s_kill_all(r);
		}
		for (int i = 0; i < 256; i++) {
			int ev = 0;
			size_t sz = sizeof(ev);

			zmq_getsockopt(r->router, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
			s_on_message(r);
		}
		for (int i = 0; i < r->n_procs; i++)
			s_read_stderr(r, &r->procs[i]);
		s_on_signal(r);
		s_check_exits(r);
		s_detach_exporters(r);
		s_check_time(r);
		if (r->flowing && !r->aborting && !r->mux)
			s_progress(r, 0, 0);
		if (r->flowing && r->opts->profiler)
			s_profile_tick(r);
		if (s_all_exited(r) && (r->aborting || s_finished(r)))
			break;
	}
	free(items);
}

/* ---- set-up and clean-up ---- */

/* Removes run dirs of orchestrators that died without cleaning up (vhs-run.<pid>.*). */
static void s_sweep_run_dirs(const char *tmp)
{
	char path[PATH_MAX];
	struct dirent *e;
	DIR *d = opendir(tmp);
	long pid;

	while (d && (e = readdir(d))) {
		if (sscanf(e->d_name, "vhs-run.%ld.", &pid) != 1 || pid <= 0 ||
		    kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
		vhs_empty_dir(path); /* its socket and logs */
		rmdir(path);
	}
	if (d)
		closedir(d);
}

/* The run dir, the signals and the ZeroMQ context: once per run. */
static int s_setup(struct run *r)
{
	const char *tmp = getenv("TMPDIR");
	sigset_t set;

	tmp = tmp && *tmp ? tmp : "/tmp";
	s_sweep_run_dirs(tmp);
	snprintf(r->run_dir, sizeof(r->run_dir), "%s/vhs-run.%ld.XXXXXX", tmp, (long)getpid());
	if (!mkdtemp(r->run_dir)) /* mode 0700 */
		return -errno;
	snprintf(r->endpoint, sizeof(r->endpoint), "ipc://%s/ctl", r->run_dir);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0)
		return -errno;
	r->zctx = zmq_ctx_new();
	return r->zctx ? 0 : -errno;
}

/* The ROUTER socket: one per attempt, so nothing of a crashed attempt's peers lingers. */
static int s_open_socket(struct run *r)
{
	r->router = vhs_stage_router(r->zctx, r->endpoint);
	return r->router ? 0 : -errno;
}

/* The end of an attempt: rings unlinked, socket closed. */
static void s_close_attempt(struct run *r)
{
	char path[PATH_MAX + 16];

	for (int i = 0; i < r->n_procs; i++)
		s_close_log(r, &r->procs[i]);
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];

		if (e->ring.base) {
			vhs_ring_close(&e->ring);
			vhs_ring_unlink(e->ring.name);
		}
		free(e->owner);
		free(e->holder);
		memset(e, 0, sizeof(*e));
	}
	r->n_edges = 0;
	if (r->router)
		zmq_close(r->router);
	r->router = NULL;
	snprintf(path, sizeof(path), "%s/ctl", r->run_dir);
	unlink(path);
}

static void s_cleanup(struct run *r)
{
	if (r->zctx)
		zmq_ctx_term(r->zctx);
	if (r->sigfd > 0)
		close(r->sigfd);
	if (r->run_dir[0])
		s_remove_logs(r);
	if (r->run_dir[0])
		rmdir(r->run_dir);
}

/* Sums the attempt's workers per stage for --stats (peak memory: the largest worker's). */
static void s_collect_stats(struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		uint64_t first = r->kstats[k].first_in_ns, last = r->kstats[k].last_out_ns;

		if (!r->plan.stages[k])
			continue;
		memset(&r->kstats[k], 0, sizeof(r->kstats[k]));
		r->kstats[k].first_in_ns = first;
		r->kstats[k].last_out_ns = last;
	}
	for (int i = 0; i < r->n_procs; i++) {
		const struct proc *p = &r->procs[i];
		struct kind_stats *s = &r->kstats[p->kind];

		if (p->state == P_NONE)
			continue;
		s->workers++;
		s->cpu_user += (double)p->ru.ru_utime.tv_sec + p->ru.ru_utime.tv_usec / 1e6;
		s->cpu_sys += (double)p->ru.ru_stime.tv_sec + p->ru.ru_stime.tv_usec / 1e6;
		s->maxrss_kb = p->ru.ru_maxrss > s->maxrss_kb ? p->ru.ru_maxrss : s->maxrss_kb;
		s->frames_in += p->stats.frames_in;
		s->frames_out += p->stats.frames_out;
		s->copies += p->stats.copies;
		s->bytes_copied += p->stats.bytes_copied;
	}
}

static void s_print_stats(const struct run *r)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		const struct kind_stats *s = &r->kstats[k];

		if (!s->workers)
			continue;
		fprintf(stderr, "stats: %s workers=%d cpu_user=%.3f cpu_sys=%.3f maxrss_kb=%ld frames=%llu "
			"frames_in=%llu frames_out=%llu copies=%llu bytes_copied=%llu active_s=%.3f\n",
			vhs_stage_name((enum vhs_stage_kind)k), s->workers, s->cpu_user, s->cpu_sys,
			s->maxrss_kb, (unsigned long long)(k == VHS_ENCODE || k == VHS_MUX ? s->frames_in : s->frames_out),
			(unsigned long long)s->frames_in, (unsigned long long)s->frames_out,
			(unsigned long long)s->copies, (unsigned long long)s->bytes_copied,
			s->last_out_ns > s->first_in_ns && s->first_in_ns ? (s->last_out_ns - s->first_in_ns) / 1e9 : 0.0);
	}
	fprintf(stderr, "stats: run segments_made=%u segments_done=%zu segments_total=%u restarts=%d "
		"recovery_ms=%.1f frames_redone=%llu gpu_edges=%d\n", r->made, r->man.n_done,
		r->man.segments_total, r->restarts_done,
		r->recoveries ? (double)r->recovery_ns / r->recoveries / 1e6 : 0.0,
		(unsigned long long)r->frames_redone, r->gpu_edges);
}

/* ---- the work dir: finished segments and the manifest ---- */

/* Is name the manifest, a file of a finished segment, or the audio analysis (kept through
 * the run, and after it with finished segments, for --resume)? */
static bool s_keeps(const struct run *r, const char *name, bool last)
{
	unsigned k;
	char kind, ext[8];

	if (!strcmp(name, VHS_FILE_ANALYSIS))
		return !last || r->man.n_done > 0;
	if (!strcmp(name, VHS_FILE_MANIFEST))
		return r->man.n_done > 0;
	if (sscanf(name, "%c%6u.%4s", &kind, &k, ext) != 3 || (kind != 'v' && kind != 'a'))
		return false;
	return vhs_manifest_has(&r->man, k);
}

/* Removes everything in the work dir but what keep allows (the manifest and finished
 * segments); at the end of the run (last) with nothing kept, the dir itself goes. */
static int s_tidy(struct run *r, bool keep, bool last)
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

static bool s_all_done(const struct run *r)
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
static int s_open_work(struct run *r)
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
		return s_error_code(r, VHS_EXIT_INPUT, "cannot read input '%s': %s", r->job->input, strerror(errno));
	if (mkdir(r->work_dir, 0700) != 0 && errno != EEXIST)
		return s_error_code(r, VHS_EXIT_OUTPUT, "cannot create the work dir '%s': %s", r->work_dir,
				    strerror(errno));
	snprintf(path, sizeof(path), "%s/%s", r->work_dir, VHS_FILE_MANIFEST);
	ret = vhs_manifest_load(&r->man, path, err, sizeof(err));
	if (ret == -EINVAL && !r->opts->restart)
		return s_error_code(r, VHS_EXIT_JOB, "%s; start over with --restart", err);
	if (ret == 0 && !r->opts->restart && !r->opts->resume)
		return s_error_code(r, VHS_EXIT_USAGE, "an unfinished run of this job is in '%s' (%zu segments "
				    "finished); continue it with --resume or start over with --restart",
				    r->work_dir, r->man.n_done);
	if (ret == 0 && !r->opts->restart &&
	    (r->man.fingerprint != fp || r->man.input_size != (uint64_t)st.st_size ||
	     r->man.input_mtime_ns != (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec))
		return s_error_code(r, VHS_EXIT_JOB, "the %s changed since the unfinished run in '%s'; "
				    "resuming would mix two different restorations: start over with --restart",
				    r->man.fingerprint != fp ? "job settings" : "input file", r->work_dir);
	if (ret || r->opts->restart)
		vhs_manifest_free(&r->man);
	if (ret == 0 && !r->opts->restart) {
		s_check_segments(r);
		fprintf(stderr, "vhs-orchestrate: resuming: %zu segments already done%s\n", r->man.n_done,
			s_all_done(r) ? " (all of them)" : "");
	} else if (r->opts->resume && ret == -ENOENT) {
		fprintf(stderr, "vhs-orchestrate: nothing to resume in '%s'; starting from the beginning\n",
			r->work_dir);
	}
	r->man.fingerprint = fp;
	r->man.input_size = (uint64_t)st.st_size;
	r->man.input_mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	s_tidy(r, true, false);
	return 0;
}

/* ---- the audio analysis ---- */

/* Whether the job's audio switches need the whole-track analysis (dsp/audio/enhance.h
 * decides the same from the settings, and fails if it is not given). */
static bool s_needs_analysis(const struct vhs_job *job)
{
	return !*job->audio.filters && (!strcmp(job->audio.hum, "auto") || job->audio.hiss > 0 ||
					 !strcmp(job->audio.channels, "auto"));
}

/* Runs `vhs-stage-decode --analyze-audio INPUT PATH` and reads its one line. Returns its
 * exit status, or -EINTR when it was killed, or -errno. */
static int s_run_analysis(struct run *r, const char *path, char *line, size_t len)
{
	char exe[PATH_MAX + 32];
	char *argv[] = { exe, "--analyze-audio", (char *)r->job->input, (char *)path, NULL };
	int status = 0;
	FILE *in;
	pid_t pid;

	snprintf(exe, sizeof(exe), "%s/vhs-stage-decode", r->opts->stage_dir);
	pid = vhs_child_popen(argv, true, &in);
	if (pid < 0)
		return (int)pid;
	line[0] = '\0';
	if (!fgets(line, (int)len, in))
		snprintf(line, len, "error: the analysis said nothing");
	line[strcspn(line, "\n")] = '\0';
	fclose(in);
	if (vhs_child_wait(pid, &status))
		return -ECHILD;
	if (WIFSIGNALED(status))
		return -EINTR;
	return WEXITSTATUS(status) == VHS_CHILD_CANNOT_EXEC ? VHS_EXIT_INTERNAL : WEXITSTATUS(status);
}

/* Makes the work dir's audio analysis, once per run (a resumed run reuses the one its
 * finished segments were made with; a fresh start or --restart makes it again), when the
 * job's audio switches need it; r->analysis is its path then. Returns an exit code. */
static int s_analyze_audio(struct run *r)
{
	char path[PATH_MAX + 64], line[1024];
	uint64_t t0 = vhs_now_ns();
	sigset_t pending;
	int ret;

	if (!s_needs_analysis(r->job))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", r->work_dir, VHS_FILE_ANALYSIS);
	if (r->man.n_done > 0 && access(path, F_OK) == 0) { /* resuming: its segments used it */
		snprintf(r->analysis, sizeof(r->analysis), "%s", path);
		return 0;
	}
	fprintf(stderr, "vhs-orchestrate: audio: analysing the whole track...\n");
	ret = s_run_analysis(r, path, line, sizeof(line));
	sigpending(&pending);
	if (sigismember(&pending, SIGINT) || sigismember(&pending, SIGTERM))
		return s_error_code(r, VHS_EXIT_INTERRUPTED, "interrupted");
	if (ret < 0)
		return s_error_code(r, VHS_EXIT_INTERNAL, "the audio analysis failed: %s",
				    ret == -EINTR ? "it was killed" : strerror(-ret));
	if (ret)
		return s_error_code(r, ret, "%s", strncmp(line, "error: ", 7) ? line : line + 7);
	if (!strncmp(line, "none: ", 6)) { /* no audio track: nothing to enhance */
		fprintf(stderr, "vhs-orchestrate: audio: %s\n", line + 6);
		return 0;
	}
	snprintf(r->analysis, sizeof(r->analysis), "%s", path);
	fprintf(stderr, "vhs-orchestrate: audio: %s (%.1f s)\n", line, (vhs_now_ns() - t0) / 1e9);
	return 0;
}

/* ---- attempts ---- */

static void s_attempt(struct run *r, bool mux)
{
	int ret;

	r->mux = mux;
	r->crashed = NO_CRASH;
	r->aborting = r->flowing = false;
	r->next_request = 0;
	r->past_end = UINT32_MAX;
	r->requests_closed = false;
	r->seg_frames = 0;
	r->frames_out = s_done_frames(r);
	r->replanning = false;
	r->calib_ns = r->flow_seen_ns = 0;
	if (mux)
		vhs_plan_build_mux(&r->plan);
	else
		s_build_plan(r, false);
	s_wire(r);
	if (r->opts->profiler)
		vhs_profiler_attempt(r->opts->profiler, &r->plan);
	r->start_ns = vhs_now_ns();
	ret = s_make_procs(r);
	if (!ret)
		ret = vhs_pool_init(&r->pool, r->plan.workers, r->plan.in_flight);
	if (!ret)
		ret = s_open_socket(r);
	if (ret)
		s_fail(r, VHS_EXIT_INTERNAL, "cannot set up the attempt: %s", strerror(-ret));
	else if ((ret = s_spawn(r, &r->procs[r->base[s_next_stage(r, -1)]])))
		s_fail(r, VHS_EXIT_INTERNAL, "cannot start the first stage: %s", strerror(-ret));
	s_loop(r);
	s_close_attempt(r);
	s_tidy(r, true, false);
	s_collect_stats(r);
	if (r->opts->profiler)
		s_profile_attempt_end(r);
	vhs_pool_free(&r->pool);
	free(r->procs);
	r->procs = NULL;
	r->n_procs = 0;
}

/* Waits delay_ns, still answering signals. Returns false when interrupted meanwhile. */
static bool s_backoff(struct run *r, uint64_t delay_ns)
{
	uint64_t until = vhs_now_ns() + delay_ns;
	struct pollfd pfd = { .fd = r->sigfd, .events = POLLIN };

	for (uint64_t now = vhs_now_ns(); now < until; now = vhs_now_ns()) {
		struct signalfd_siginfo si;

		if (poll(&pfd, 1, (int)((until - now) / 1000000 + 1)) > 0 &&
		    read(r->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD) {
			s_error_code(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
			return false;
		}
	}
	return true;
}

/* After a crash: restart, after the back-off, unless the intensity limit is reached. */
static bool s_may_restart(struct run *r)
{
	struct vhs_restart *rs = &r->restarts[r->crashed];
	const char *name = vhs_stage_name((enum vhs_stage_kind)r->crashed);
	uint64_t now = vhs_now_ns(), delay;
	uint32_t from = 0;

	r->frames_redone += r->seg_frames;
	if (!vhs_restart_crashed(rs, now, &delay)) {
		s_error_code(r, VHS_EXIT_STAGE, "%s; stage %s failed %d times within %g s ([run] "
			     "restart_limit = %d): giving up", r->crash_why, name, rs->limit + 1,
			     r->job->run.restart_window, rs->limit);
		return false;
	}
	while (vhs_manifest_has(&r->man, from))
		from++;
	r->restarts_done++;
	vhs_progress_end(&r->progress);
	fprintf(stderr, "vhs-orchestrate: warning: %s; restarting from segment %u in %llu ms "
		"(restart %d of %d within %g s)\n", r->crash_why, from,
		(unsigned long long)(delay / 1000000), vhs_restart_recent(rs, now), rs->limit,
		r->job->run.restart_window);
	return s_backoff(r, delay);
}

/* Success: OUTPUT.part becomes OUTPUT and the work dir goes. Failure: OUTPUT.part goes,
 * the work dir keeps the manifest and finished segments (or goes, if none). */
static void s_settle_output(struct run *r)
{
	if (!r->exit_code && rename(r->part, r->job->output) != 0)
		s_error_code(r, VHS_EXIT_OUTPUT, "cannot rename '%s' to '%s': %s", r->part, r->job->output,
			     strerror(errno));
	if (r->exit_code)
		unlink(r->part);
	r->kept = s_tidy(r, r->exit_code != 0, true);
}

/* CPUs this process may run on (its affinity mask: a container's or taskset's limit). */
static int s_cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN) > 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
}

int vhs_run(const struct vhs_job *job, const struct vhs_run_opts *opts)
{
	struct run r = { .job = job, .opts = opts, .sigfd = -1, .crashed = NO_CRASH, .began_ns = vhs_now_ns() };
	int ret;

	vhs_ring_sweep_stale();
	snprintf(r.part, sizeof(r.part), "%s.part", job->output);
	vhs_plan_reach(job, &r.reach);
	r.cores = s_cores();
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		vhs_restart_init(&r.restarts[k], job->run.restart_limit, job->run.restart_window);
	ret = s_setup(&r);
	if (ret)
		s_error_code(&r, VHS_EXIT_INTERNAL, "cannot set up the run directory or socket: %s", strerror(-ret));
	else
		r.work_owned = !s_open_work(&r); /* refused: the work dir is left as it was */
	if (r.work_owned && !r.exit_code)
		s_analyze_audio(&r);
	while (!r.exit_code) {
		bool mux = s_all_done(&r);

		s_attempt(&r, mux);
		if (r.exit_code)
			break;
		if (r.crashed != NO_CRASH && r.draining) {
			s_error_code(&r, VHS_EXIT_INTERRUPTED, "interrupted (and %s)", r.crash_why);
			break;
		}
		if (r.crashed != NO_CRASH) {
			if (!s_may_restart(&r))
				break;
			continue;
		}
		if (mux)
			break; /* the output is complete */
		if (r.draining)
			s_error_code(&r, VHS_EXIT_INTERRUPTED, "interrupted");
		else if (r.replanning)
			vhs_progress_end(&r.progress); /* on with auto's worker counts */
		else if (!s_all_done(&r))
			s_error_code(&r, VHS_EXIT_INTERNAL, "the pipeline ended with segments missing");
	}
	if (r.progress_started && !r.exit_code)
		s_progress(&r, 1, 1);
	if (opts->profiler) {
		opts->profiler->end_ns = vhs_now_ns();
		opts->profiler->output_frames = r.frames_out;
		opts->profiler->fps_media = r.progress.fps_media;
		opts->profiler->restarts = r.restarts_done;
	}
	vhs_progress_end(&r.progress);
	if (r.work_owned)
		s_settle_output(&r);
	if (opts->stats)
		s_print_stats(&r);
	if (r.exit_code && r.work_owned && r.kept)
		fprintf(stderr, "vhs-orchestrate: error: %s; %d finished segments are kept in '%s': "
			"continue with --resume\n", r.error, r.kept, r.work_dir);
	else if (r.exit_code)
		fprintf(stderr, "vhs-orchestrate: error: %s\n", r.error);
	if (r.exit_code && r.failed_id[0])
		s_show_log(&r);
	s_cleanup(&r);
	vhs_manifest_free(&r.man);
	return r.exit_code;
}
