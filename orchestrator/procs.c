/* procs.c: the run's process table (run.h): every worker of every stage, started from
 * stages/' executables, sent records, its stderr read into its log (RUNDIR/ID.log, the lines
 * meant for people also to the terminal), reaped, judged when it exits, and watched for a
 * heartbeat.
 *
 * Each process walks a small state machine of its own (run.h, enum proc_state):
 *
 *   SPAWNED --HELLO/CONFIG--> CONFIGURED --FORMAT--> FORMATTED --ATTACH--> ATTACHED
 *   ATTACHED --READY--> RUNNING --DONE--> done;  any --exit--> exited
 *
 * Heartbeat: every stage sends STATS at least every 0.5 s from wherever it waits. One that
 * has said nothing for 3 s and used no CPU meanwhile is stopped or deadlocked, and counts
 * as crashed.
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

#include "child.h"
#include "exitcode.h"
#include "stageproc.h"

bool run_live(const struct proc *p)
{
	return p->state != P_NONE && !p->exited;
}

int run_send(struct run *r, struct proc *p, const struct vhs_msg *m)
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
int run_send_kind(struct run *r, enum vhs_stage_kind kind, const struct vhs_msg *m)
{
	int ret = 0;

	for (int i = 0; i < r->plan.workers[kind]; i++) {
		int one = run_send(r, &r->procs[r->base[kind] + i], m);

		ret = ret ? ret : one == -EHOSTUNREACH ? 0 : one;
	}
	return ret;
}

/* RUNDIR/ID.log, opened for appending, with a line saying which process starts. */
static void s_open_log(struct run *r, struct proc *p)
{
	char path[PATH_MAX + 64];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.log", r->ses.run_dir, p->id);
	p->log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	f = p->log_fd >= 0 ? fdopen(dup(p->log_fd), "a") : NULL;
	if (f) {
		fprintf(f, "--- %s: pid %d, %s attempt, %.3f s into the run ---\n", p->id, (int)p->pid,
			r->kind == ATTEMPT_MUX ? "mux" : "pipeline", (vhs_now_ns() - r->began_ns) / 1e9);
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
void run_read_stderr(struct run *r, struct proc *p)
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

void run_close_log(struct run *r, struct proc *p)
{
	if (p->err_fd >= 0)
		fcntl(p->err_fd, F_SETFL, 0); /* exited: read to the end */
	run_read_stderr(r, p);
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
void run_show_log(const struct run *r)
{
	char path[PATH_MAX + 64], buf[16384], *lines[SHOW_LOG_LINES];
	int fd, n = 0, shown = 0, content = 0;
	off_t size;
	ssize_t len;

	snprintf(path, sizeof(path), "%s/%s.log", r->ses.run_dir, r->failed_id);
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
void run_remove_logs(const struct run *r)
{
	char path[PATH_MAX + 300], to[PATH_MAX + 300], buf[65536];
	DIR *d = opendir(r->ses.run_dir);
	struct dirent *e;
	ssize_t n;

	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		int in, out = -1;

		if (len < 5 || strcmp(e->d_name + len - 4, ".log"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", r->ses.run_dir, e->d_name);
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

int run_spawn(struct run *r, struct proc *p)
{
	int err[2];
	pid_t pid;

	if (pipe2(err, O_CLOEXEC))
		return -errno;
	pid = vhs_stage_spawn(r->opts->stage_dir, vhs_stage_name(p->kind), r->ses.endpoint, p->instance, err[1]);
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
const char *run_proc_name(const struct run *r, const struct proc *p)
{
	return r->plan.workers[p->kind] > 1 ? p->id : vhs_stage_name(p->kind);
}

/* Describes how a child ended, for messages. */
static void s_describe_exit(const struct run *r, const struct proc *p, char *buf, size_t n)
{
	const char *name = run_proc_name(r, p);

	if (WIFSIGNALED(p->status))
		snprintf(buf, n, "stage %s (pid %d) was killed by signal %d (%s)", name,
			 (int)p->pid, WTERMSIG(p->status), strsignal(WTERMSIG(p->status)));
	else if (WEXITSTATUS(p->status) == VHS_CHILD_CANNOT_EXEC)
		snprintf(buf, n, "stage %s could not be started (is vhs-stage-%s in %s?)",
			 name, vhs_stage_name(p->kind), "the build's bin directory");
	else
		snprintf(buf, n, "stage %s (pid %d) exited with status %d before finishing",
			 name, (int)p->pid, WEXITSTATUS(p->status));
}

/* A child ended: the process of the table it was, if any (vhs_reap's callback). */
static void s_exited(void *ctx, pid_t pid, int status, const struct rusage *ru)
{
	struct run *r = ctx;

	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];

		if (p->pid != pid || p->exited)
			continue;
		p->ru = *ru;
		p->status = status;
		p->exited_ns = vhs_now_ns();
		p->exited = true;
	}
}

void run_reap(struct run *r)
{
	vhs_reap(s_exited, r);
}

/* An exit is a failure unless the stage said DONE first (or we are stopping anyway).
 * A stage that exits by itself sends DONE or ERROR just before, and the record can still
 * be in the socket when the exit is seen: it gets a moment to arrive, so the user reads
 * the stage's own message. A death by signal sends nothing, so it is judged at once. */
void run_check_exits(struct run *r)
{
	char why[256];

	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];

		if (!p->exited || p->done || run_stopping(r))
			continue;
		if (WIFEXITED(p->status) && vhs_now_ns() - p->exited_ns < EXIT_GRACE_NS)
			continue;
		s_describe_exit(r, p, why, sizeof(why));
		if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == VHS_CHILD_CANNOT_EXEC && !r->exit_code)
			snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
		if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == VHS_CHILD_CANNOT_EXEC)
			run_fail(r, VHS_EXIT_STAGE, "%s", why);
		else
			run_crash(r, p, why);
	}
}

bool run_all_exited(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (run_live(&r->procs[i]))
			return false;
	return true;
}

void run_stop_all(struct run *r)
{
	uint8_t buf[8];
	int n = vhs_proto_pack(&(struct vhs_msg){ .type = VHS_MSG_STOP }, buf, sizeof(buf));

	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];

		if (run_live(p)) { /* done ones too: an exporter waits for DETACHED after DONE */
			zmq_send(r->router, p->id, strlen(p->id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
			zmq_send(r->router, buf, (size_t)n, ZMQ_DONTWAIT);
		}
	}
}

void run_kill_all(struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (run_live(&r->procs[i]))
			kill(r->procs[i].pid, SIGKILL);
}

/* The workers of the plan: procs[] laid out stage by stage, each with its routing id. */
int run_make_procs(struct run *r)
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

struct proc *run_find(struct run *r, const char *id, size_t len)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->procs[i].state != P_NONE && strlen(r->procs[i].id) == len &&
		    !memcmp(r->procs[i].id, id, len))
			return &r->procs[i];
	return NULL;
}

/* CPU time (utime + stime, clock ticks) of a process; 0 if it cannot be read. */
unsigned long long run_cpu_ticks(pid_t pid)
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
void run_check_heartbeats(struct run *r, uint64_t now)
{
	for (int i = 0; i < r->n_procs; i++) {
		struct proc *p = &r->procs[i];
		unsigned long long ticks;
		char why[256];

		if (p->state != P_RUNNING || p->done || p->exited || now - p->heard_ns < HEARTBEAT_NS)
			continue;
		ticks = run_cpu_ticks(p->pid);
		if (ticks != p->cpu_ticks || !ticks) {
			p->cpu_ticks = ticks; /* busy: look again in 3 s */
			p->heard_ns = now;
			continue;
		}
		snprintf(why, sizeof(why), "stage %s (pid %d) stopped responding: no heartbeat and no CPU "
			 "time for %llu s; killed", run_proc_name(r, p), (int)p->pid, HEARTBEAT_NS / 1000000000ull);
		run_crash(r, p, why);
	}
}
