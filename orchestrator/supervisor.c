/* supervisor.c: `run` (supervisor.h): a series of attempts until the output is whole, a
 * stage fails, or the run is interrupted; the attempt's state machine (run.h, THE ATTEMPT);
 * the loop that polls the socket, the stages' stderr and the signals.
 *
 * DESIGN
 * A pipeline attempt starts decode, preprocess, upscale, audio and encode workers, asks
 * decode for the segments not yet done (a few at a time), and records each segment the
 * encode stage commits in the manifest of the work dir (TEMP_DIR/OUTPUT_NAME.vhs-work).
 * When every segment is done, a mux attempt runs the mux stage alone, which joins the
 * segments into OUTPUT.part; the part is renamed and the work dir removed.
 *
 * Crashes: a stage that dies without reporting an error (killed, crashed, hung: see the
 * heartbeat in procs.c) ends the attempt: the other stages are killed too, every ring and
 * slot is dropped with them, and after the back-off of restart.h a fresh attempt starts
 * from the first unfinished segment. Finished segments are files in the work dir, so
 * nothing done is lost; unfinished segments are made again from the input, and since a
 * segment is a pure function of its input window, the result is bit-identical. One
 * mechanism serves restarts, --resume after the orchestrator itself died, and Ctrl-C.
 * A stage that reports an error (bad input, bad setting, full disk) is not restarted.
 *
 * Within an attempt: one thread, one ROUTER socket (ipc://RUNDIR/ctl), one signalfd
 * (SIGCHLD, SIGINT, SIGTERM, SIGHUP), polled together with every stage's stderr.
 *
 * Failure: the first ERROR record, a start-up timeout, or a second interrupt moves the
 * attempt to STOPPING: STOP to every live worker, SIGKILL after 2 s, and the attempt ends
 * when every child is reaped. The first Ctrl-C drains instead (DRAINING). Then, success or
 * not: rings unlinked, socket and run dir removed, OUTPUT.part renamed (success) or removed
 * (failure), the work dir removed (success) or left holding only the manifest and finished
 * segments (failure, for --resume).
 */
#include "run.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>
#include <zmq.h>

#include "dirs.h"
#include "exitcode.h"
#include "stageproc.h"

/* Keeps the first failure of the run: its exit code and message. */
static void s_record(struct run *r, int code, const char *fmt, va_list ap)
{
	if (r->exit_code)
		return;
	r->exit_code = code;
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
}

int run_error_code(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_record(r, code, fmt, ap);
	va_end(ap);
	return r->exit_code;
}

/* ---- the attempt's state machine (run.h, THE ATTEMPT) ---- */

/* Where each event takes each state; an event a state does not answer leaves it as it is. */
static const enum attempt_state s_next[A_STATES][E_EVENTS] = {
	/*               FLOW          ALL_ASKED     INTERRUPT     REPLAN        FAIL        CRASH */
	[A_STARTING] = { A_FLOWING,    A_STARTING,   A_STOPPING,   A_STARTING,   A_STOPPING, A_CRASHED },
	[A_FLOWING] = { A_FLOWING,     A_CLOSED,     A_DRAINING,   A_REPLANNING, A_STOPPING, A_CRASHED },
	[A_CLOSED] = { A_CLOSED,       A_CLOSED,     A_DRAINING,   A_CLOSED,     A_STOPPING, A_CRASHED },
	[A_DRAINING] = { A_DRAINING,   A_DRAINING,   A_STOPPING,   A_DRAINING,   A_STOPPING, A_CRASHED },
	[A_REPLANNING] = { A_REPLANNING, A_REPLANNING, A_DRAINING, A_REPLANNING, A_STOPPING, A_CRASHED },
	[A_STOPPING] = { A_STOPPING,   A_STOPPING,   A_STOPPING,   A_STOPPING,   A_STOPPING, A_STOPPING },
	[A_CRASHED] = { A_CRASHED,     A_CRASHED,    A_CRASHED,    A_CRASHED,    A_CRASHED,  A_CRASHED },
};

/* Where ev takes the attempt: the table's answer, but a mux attempt has nothing to drain,
 * so an interrupt stops it. */
static enum attempt_state s_where(const struct run *r, enum attempt_event ev)
{
	if (r->kind == ATTEMPT_MUX && ev == E_INTERRUPT)
		ev = E_FAIL;
	return s_next[r->state][ev];
}

/* What entering a state does. Returns 0 or -errno (a record that could not be sent). */
static int s_enter(struct run *r, enum attempt_state st)
{
	switch (st) {
	case A_FLOWING:
		r->flow_ns = r->moved_ns = vhs_now_ns();
		return run_start_flow(r);
	case A_CLOSED: /* decode workers end after the segments they hold */
		return run_send_kind(r, VHS_DECODE, &(struct vhs_msg){ .type = VHS_MSG_EOS });
	case A_DRAINING:
		fprintf(stderr, "vhs-orchestrate: interrupted: finishing the segments in progress "
			"(Ctrl-C again to stop at once)\n");
		return run_send_kind(r, VHS_DECODE, &(struct vhs_msg){ .type = VHS_MSG_DRAIN });
	case A_REPLANNING:
		return run_send_kind(r, VHS_DECODE, &(struct vhs_msg){ .type = VHS_MSG_DRAIN });
	case A_STOPPING:
		r->abort_ns = vhs_now_ns();
		run_stop_all(r);
		return 0;
	case A_CRASHED:
		r->abort_ns = r->crash_ns = vhs_now_ns();
		run_kill_all(r);
		return 0;
	default:
		return 0;
	}
}

int run_event(struct run *r, enum attempt_event ev)
{
	enum attempt_state next = s_where(r, ev);

	if (next == r->state)
		return 0;
	r->state = next;
	return s_enter(r, next);
}

bool run_stopping(const struct run *r)
{
	return r->state == A_STOPPING || r->state == A_CRASHED;
}

bool run_flowing(const struct run *r)
{
	return r->state == A_FLOWING || r->state == A_CLOSED || r->state == A_DRAINING ||
	       r->state == A_REPLANNING;
}

/* Records the first failure and stops the attempt. */
void run_fail(struct run *r, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_record(r, code, fmt, ap);
	va_end(ap);
	run_event(r, E_FAIL);
}

/* A stage died without reporting an error: end the attempt at once (kill the rest) so a
 * fresh one can start. The restart policy decides later whether it may. */
void run_crash(struct run *r, struct proc *p, const char *why)
{
	if (run_stopping(r))
		return;
	r->crash_kind = p->kind;
	snprintf(r->crash_why, sizeof(r->crash_why), "%s", why);
	snprintf(r->failed_id, sizeof(r->failed_id), "%s", p->id);
	run_event(r, E_CRASH);
}

static void s_on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->ses.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			run_reap(r);
			continue;
		}
		vhs_progress_end(&r->progress);
		if (si.ssi_signo == SIGINT && ++r->interrupts == 1 && s_where(r, E_INTERRUPT) == A_DRAINING) {
			run_event(r, E_INTERRUPT);
			continue;
		}
		run_fail(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
	}
}

static bool s_finished(const struct run *r)
{
	for (int i = 0; i < r->n_procs; i++)
		if (r->plan.stages[r->procs[i].kind] && !r->procs[i].done)
			return false;
	return r->flow_ns != 0;
}

static void s_check_time(struct run *r)
{
	uint64_t now = vhs_now_ns();

	if (r->state == A_STARTING && now - r->start_ns > STARTUP_TIMEOUT_NS)
		run_fail(r, VHS_EXIT_STAGE, "stages did not start within %llu s",
			 STARTUP_TIMEOUT_NS / 1000000000ull);
	if (run_stopping(r) && now - r->abort_ns > STOP_GRACE_NS)
		run_kill_all(r);
	if (run_flowing(r) && now - r->moved_ns > STALL_NS)
		run_fail_stalled(r);
	if (run_flowing(r))
		run_check_heartbeats(r, now);
	if (run_flowing(r))
		run_auto_check(r, now);
}

static void s_loop(struct run *r)
{
	zmq_pollitem_t *items = calloc((size_t)r->n_procs + 2, sizeof(*items));
	int n;

	if (!items) {
		run_fail(r, VHS_EXIT_INTERNAL, "out of memory");
		run_kill_all(r);
		return;
	}
	for (;;) {
		items[0] = (zmq_pollitem_t){ .socket = r->router, .events = ZMQ_POLLIN };
		items[1] = (zmq_pollitem_t){ .fd = r->ses.sigfd, .events = ZMQ_POLLIN };
		n = 2;
		for (int i = 0; i < r->n_procs; i++)
			if (r->procs[i].err_fd >= 0)
				items[n++] = (zmq_pollitem_t){ .fd = r->procs[i].err_fd, .events = ZMQ_POLLIN };
		if (zmq_poll(items, n, 100) < 0 && errno != EINTR) {
			run_fail(r, VHS_EXIT_INTERNAL, "zmq_poll: %s", strerror(errno));
			run_kill_all(r);
		}
		for (int i = 0; i < 256; i++) {
			int ev = 0;
			size_t sz = sizeof(ev);

			zmq_getsockopt(r->router, ZMQ_EVENTS, &ev, &sz);
			if (!(ev & ZMQ_POLLIN))
				break;
			run_on_message(r);
		}
		for (int i = 0; i < r->n_procs; i++)
			run_read_stderr(r, &r->procs[i]);
		s_on_signal(r);
		run_check_exits(r);
		run_detach_exporters(r);
		s_check_time(r);
		if (run_flowing(r) && r->kind == ATTEMPT_PIPELINE)
			run_progress(r, 0, 0);
		if (r->flow_ns && r->opts->profiler)
			run_profile_tick(r);
		if (run_all_exited(r) && (run_stopping(r) || s_finished(r)))
			break;
	}
	free(items);
}

/* The ROUTER socket: one per attempt, so nothing of a crashed attempt's peers lingers. */
static int s_open_socket(struct run *r)
{
	r->router = vhs_stage_router(r->ses.zctx, r->ses.endpoint);
	return r->router ? 0 : -errno;
}

/* The end of an attempt: rings unlinked, socket closed. */
static void s_close_attempt(struct run *r)
{
	char path[PATH_MAX + 16];

	for (int i = 0; i < r->n_procs; i++)
		run_close_log(r, &r->procs[i]);
	for (int i = 0; i < r->n_edges; i++) {
		struct edge *e = &r->edges[i];

		if (e->ring.base) {
			vhs_ring_close(&e->ring);
			vhs_ring_unlink(e->ring.name);
		}
		vhs_ledger_free(&e->slots);
		memset(e, 0, sizeof(*e));
	}
	r->n_edges = 0;
	if (r->router)
		zmq_close(r->router);
	r->router = NULL;
	snprintf(path, sizeof(path), "%s/ctl", r->ses.run_dir);
	unlink(path); /* the next attempt binds it again */
}

static void s_cleanup(struct run *r)
{
	if (r->ses.run_dir[0])
		run_remove_logs(r);
	vhs_session_close(&r->ses);
}

static void s_attempt(struct run *r, enum attempt_kind kind)
{
	int ret;

	r->kind = kind;
	r->state = A_STARTING;
	r->flow_ns = 0;
	r->next_request = 0;
	r->past_end = UINT32_MAX;
	r->seg_frames = 0;
	r->frames_out = run_done_frames(r);
	r->calib_ns = r->flow_seen_ns = 0;
	if (kind == ATTEMPT_MUX)
		vhs_plan_build_mux(&r->plan);
	else
		run_build_plan(r, false);
	run_wire(r);
	if (r->opts->profiler)
		vhs_profiler_attempt(r->opts->profiler, &r->plan);
	r->start_ns = vhs_now_ns();
	ret = run_make_procs(r);
	if (!ret)
		ret = vhs_pool_init(&r->pool, r->plan.workers, r->plan.in_flight);
	if (!ret)
		ret = s_open_socket(r);
	if (ret)
		run_fail(r, VHS_EXIT_INTERNAL, "cannot set up the attempt: %s", strerror(-ret));
	else if ((ret = run_spawn(r, &r->procs[r->base[run_next_stage(r, -1)]])))
		run_fail(r, VHS_EXIT_INTERNAL, "cannot start the first stage: %s", strerror(-ret));
	s_loop(r);
	s_close_attempt(r);
	run_tidy(r, true, false);
	run_collect_stats(r);
	if (r->opts->profiler)
		run_profile_attempt_end(r);
	vhs_pool_free(&r->pool);
	free(r->procs);
	r->procs = NULL;
	r->n_procs = 0;
}

/* Waits delay_ns, still answering signals. Returns false when interrupted meanwhile. */
static bool s_backoff(struct run *r, uint64_t delay_ns)
{
	uint64_t until = vhs_now_ns() + delay_ns;
	struct pollfd pfd = { .fd = r->ses.sigfd, .events = POLLIN };

	for (uint64_t now = vhs_now_ns(); now < until; now = vhs_now_ns()) {
		struct signalfd_siginfo si;

		if (poll(&pfd, 1, (int)((until - now) / 1000000 + 1)) > 0 &&
		    read(r->ses.sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si) && si.ssi_signo != SIGCHLD) {
			run_error_code(r, VHS_EXIT_INTERRUPTED, "interrupted by SIG%s", sigabbrev_np((int)si.ssi_signo));
			return false;
		}
	}
	return true;
}

/* After a crash: restart, after the back-off, unless the intensity limit is reached. */
static bool s_may_restart(struct run *r)
{
	struct vhs_restart *rs = &r->restarts[r->crash_kind];
	const char *name = vhs_stage_name(r->crash_kind);
	uint64_t now = vhs_now_ns(), delay;
	uint32_t from = 0;

	r->frames_redone += r->seg_frames;
	if (!vhs_restart_crashed(rs, now, &delay)) {
		run_error_code(r, VHS_EXIT_STAGE, "%s; stage %s failed %d times within %g s ([run] "
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

/* CPUs this process may run on (its affinity mask: a container's or taskset's limit). */
int vhs_cores(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return CPU_COUNT(&set);
	return sysconf(_SC_NPROCESSORS_ONLN) > 0 ? (int)sysconf(_SC_NPROCESSORS_ONLN) : 1;
}

int vhs_run(const struct vhs_job *job, const struct vhs_run_opts *opts)
{
	struct run r = { .job = job, .opts = opts, .ses.sigfd = -1, .began_ns = vhs_now_ns() };
	int ret;

	vhs_ring_sweep_stale();
	snprintf(r.part, sizeof(r.part), "%s.part", job->output);
	vhs_plan_reach(job, &r.reach);
	r.cores = vhs_cores();
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		vhs_restart_init(&r.restarts[k], job->run.restart_limit, job->run.restart_window);
	ret = vhs_session_open(&r.ses);
	if (ret)
		run_error_code(&r, VHS_EXIT_INTERNAL, "cannot set up the run directory or socket: %s", strerror(-ret));
	else
		r.work_owned = !run_open_work(&r); /* refused: the work dir is left as it was */
	if (r.work_owned && !r.exit_code)
		run_choose_video(&r);
	if (r.work_owned && !r.exit_code)
		run_analyze_audio(&r);
	while (!r.exit_code) {
		enum attempt_kind kind = run_all_done(&r) ? ATTEMPT_MUX : ATTEMPT_PIPELINE;
		bool drained; /* a first Ctrl-C that did not stop the run at once drained it */

		s_attempt(&r, kind);
		drained = r.interrupts > 0;
		if (r.exit_code)
			break;
		if (r.state == A_CRASHED && drained) {
			run_error_code(&r, VHS_EXIT_INTERRUPTED, "interrupted (and %s)", r.crash_why);
			break;
		}
		if (r.state == A_CRASHED) {
			if (!s_may_restart(&r))
				break;
			continue;
		}
		if (kind == ATTEMPT_MUX)
			break; /* the output is complete */
		if (drained)
			run_error_code(&r, VHS_EXIT_INTERRUPTED, "interrupted");
		else if (r.state == A_REPLANNING)
			vhs_progress_end(&r.progress); /* on with auto's worker counts */
		else if (!run_all_done(&r))
			run_error_code(&r, VHS_EXIT_INTERNAL, "the pipeline ended with segments missing");
	}
	if (r.progress_started && !r.exit_code)
		run_progress(&r, 1, 1);
	if (opts->profiler) {
		opts->profiler->end_ns = vhs_now_ns();
		opts->profiler->output_frames = r.frames_out;
		opts->profiler->fps_media = r.progress.fps_media;
		opts->profiler->restarts = r.restarts_done;
	}
	vhs_progress_end(&r.progress);
	if (r.work_owned)
		run_settle_output(&r);
	if (opts->stats)
		run_print_stats(&r);
	if (r.exit_code && r.work_owned && r.kept && r.resume_futile)
		fprintf(stderr, "vhs-orchestrate: error: %s; %d finished segment%s kept in '%s'\n", r.error, r.kept,
			r.kept == 1 ? " is" : "s are", r.work_dir);
	else if (r.exit_code && r.work_owned && r.kept)
		fprintf(stderr, "vhs-orchestrate: error: %s; %d finished segment%s kept in '%s': "
			"continue with --resume\n", r.error, r.kept, r.kept == 1 ? " is" : "s are", r.work_dir);
	else if (r.exit_code)
		fprintf(stderr, "vhs-orchestrate: error: %s\n", r.error);
	if (r.exit_code && r.failed_id[0])
		run_show_log(&r);
	s_cleanup(&r);
	vhs_manifest_free(&r.man);
	vhs_video_choice_free(&r.vchoice);
	return r.exit_code;
}
