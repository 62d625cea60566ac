/* run.h: the inside of `run` (supervisor.h), shared by the files that make it up. Nothing
 * outside orchestrator/supervisor.c and its parts includes this.
 *
 *   supervisor.c   the run: attempts, the attempt's state machine, the loop, set-up, clean-up
 *   procs.c        the process table: starting, messages out, stage logs, exits, heartbeats
 *   startup.c      start-up: plan, wiring, CONFIG, formats, rings, the memory budget
 *   broker.c       the descriptor broker: slots (ledger.h), records routed, segment requests
 *   autoworkers.c  [stages.NAME] workers = "auto": measure, choose, replan
 *   workdir.c      the work dir: manifest, finished segments, the audio analysis, the output
 *   runstats.c     figures: progress, profiles, --stats
 *
 * THE ATTEMPT
 * A run is a series of attempts (supervisor.c). An attempt is one of two kinds (the pipeline,
 * or the mux alone) and walks these states; events move it, as the table in supervisor.c
 * says, and entering a state does what the state means:
 *
 *   STARTING ---flow---> FLOWING ---all asked---> CLOSED
 *                           |  \---interrupt---> DRAINING <--interrupt-- CLOSED, REPLANNING
 *                           \-----replan-----> REPLANNING
 *   any but STOPPING, CRASHED ---fail---> STOPPING;  ---crash---> CRASHED
 *   STARTING, DRAINING ---interrupt---> STOPPING (the second Ctrl-C, or one before frames flow)
 *
 *   FLOWING     every slot granted; segments are asked for as places free
 *   CLOSED      every segment asked for: EOS to decode; the attempt ends when all are done
 *   DRAINING    Ctrl-C: DRAIN to decode, which finishes the segments at hand; the run ends
 *   REPLANNING  auto workers chose other counts: DRAIN to decode; a new attempt uses them
 *   STOPPING    a failure: STOP to every process, SIGKILL after a grace
 *   CRASHED     a stage died: every process killed at once; the run restarts after a back-off
 *
 * A mux attempt has nothing to ask for (it is CLOSED as soon as it flows) and nothing to
 * drain: an interrupt stops it.
 */
#ifndef VHS_RUN_H
#define VHS_RUN_H

#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "files.h"
#include "job.h"
#include "ledger.h"
#include "manifest.h"
#include "videochoice.h"
#include "plan.h"
#include "pool.h"
#include "profile.h"
#include "progress.h"
#include "proto.h"
#include "restart.h"
#include "ring.h"
#include "stageproc.h"
#include "supervisor.h"

#define STARTUP_TIMEOUT_NS (60ull * 1000000000ull)
#define STOP_GRACE_NS (2ull * 1000000000ull)
#define EXIT_GRACE_NS (1ull * 1000000000ull)  /* for a DONE or ERROR sent just before exit */
#define STALL_NS (60ull * 1000000000ull)   /* no record moved for this long: stalled */
#define HEARTBEAT_NS (3ull * 1000000000ull) /* silent this long, with no CPU used: hung */
#define NO_PROC VHS_LEDGER_NOBODY
#define SHOW_LOG_LINES 12 /* log lines shown under a stage's failure */

/* Start-up, per process: SPAWNED -HELLO/CONFIG-> CONFIGURED -FORMAT-> FORMATTED (the first
 * worker of each stage waits there until every ring can be sized) -ATTACH-> ATTACHED
 * -READY-> RUNNING. */
enum proc_state { P_NONE, P_SPAWNED, P_CONFIGURED, P_FORMATTED, P_ATTACHED, P_RUNNING };

enum attempt_kind { ATTEMPT_PIPELINE, ATTEMPT_MUX };

enum attempt_state {
	A_STARTING,
	A_FLOWING,
	A_CLOSED,
	A_DRAINING,
	A_REPLANNING,
	A_STOPPING,
	A_CRASHED,
	A_STATES
};

enum attempt_event {
	E_FLOW,        /* every process is running */
	E_ALL_ASKED,   /* every segment was asked for (or decode found the last) */
	E_INTERRUPT,   /* SIGINT */
	E_REPLAN,      /* auto workers chose other counts */
	E_FAIL,        /* an error: a stage's ERROR, a protocol error, a timeout, SIGTERM */
	E_CRASH,       /* a stage died without an error, or hung */
	E_EVENTS
};

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
	struct vhs_ledger slots;      /* who holds each slot; holders are indices in procs[] */
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
	struct vhs_job vjob;          /* the job with the video keys' "auto" decided: r->job */
	struct vhs_video_choice vchoice; /* what was decided, and why */
	struct vhs_manifest man;
	struct vhs_reach reach;
	struct vhs_restart restarts[VHS_STAGE_KINDS];
	int cores;                    /* CPUs this process may run on */
	int interrupts;               /* SIGINTs seen */
	bool work_owned;              /* the work dir was opened (not refused): settle it at the end */
	int kept;                     /* finished segments the work dir keeps at the end */
	bool resume_futile;           /* the failure would come again on --resume (no advice) */
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
	uint64_t flow_seen_ns;        /* auto: when frames first reached encode, 0 = not yet */
	uint64_t calib_ns;            /* auto: when the measuring window opened, 0 = not yet */
	uint64_t calib_busy[VHS_STAGE_KINDS], calib_cpu[VHS_STAGE_KINDS]; /* sums at its start */
	/* one attempt */
	enum attempt_kind kind;
	enum attempt_state state;
	enum vhs_stage_kind crash_kind; /* CRASHED: the stage whose crash ended the attempt */
	char crash_why[256];
	uint32_t next_request;        /* lowest segment index not yet requested */
	uint32_t past_end;            /* lowest segment known not to exist (NONE), or UINT32_MAX */
	uint64_t seg_frames;          /* frames of the segments in flight that reached encode */
	struct vhs_plan plan;
	struct vhs_pool pool;         /* segments in flight and their workers */
	struct proc *procs;           /* every worker of every stage, stage by stage */
	int n_procs;
	int base[VHS_STAGE_KINDS];    /* index in procs of each stage's worker 0 */
	struct wiring wiring[VHS_STAGE_KINDS];
	struct edge edges[VHS_PLAN_MAX_EDGES];
	int n_edges;
	struct vhs_session ses;       /* run dir, signals, ZeroMQ context (stageproc.h) */
	void *router;                 /* one ROUTER socket per attempt */
	char part[PATH_MAX + 8];
	uint64_t abort_ns;            /* when STOPPING or CRASHED began */
	uint64_t start_ns;            /* start-up deadline base */
	uint64_t flow_ns;             /* when frames began to flow, 0 = not yet */
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

/* ---- supervisor.c: the attempt ---- */

/* Moves the attempt as the table says, doing what entering the new state means. Returns 0,
 * or -errno when that could not be done (a record that could not be sent). */
int run_event(struct run *r, enum attempt_event ev);
/* STOPPING or CRASHED: nothing starts and nothing moves any more. */
bool run_stopping(const struct run *r);
/* FLOWING, CLOSED, DRAINING or REPLANNING: frames move. */
bool run_flowing(const struct run *r);
/* Records the first failure of the run (outside an attempt). Returns its code. */
int run_error_code(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records the first failure and stops the attempt (E_FAIL). */
void run_fail(struct run *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A stage died without reporting an error (E_CRASH): the attempt ends, to restart. */
void run_crash(struct run *r, struct proc *p, const char *why);

/* ---- procs.c: the process table ---- */

int run_make_procs(struct run *r);
bool run_live(const struct proc *p);
struct proc *run_find(struct run *r, const char *id, size_t len);
const char *run_proc_name(const struct run *r, const struct proc *p);
int run_spawn(struct run *r, struct proc *p);
int run_send(struct run *r, struct proc *p, const struct vhs_msg *m);
int run_send_kind(struct run *r, enum vhs_stage_kind kind, const struct vhs_msg *m);
void run_read_stderr(struct run *r, struct proc *p);
void run_close_log(struct run *r, struct proc *p);
void run_show_log(const struct run *r);
void run_remove_logs(const struct run *r);
void run_reap(struct run *r);
void run_check_exits(struct run *r);
void run_check_heartbeats(struct run *r, uint64_t now);
unsigned long long run_cpu_ticks(pid_t pid);
bool run_all_exited(const struct run *r);
void run_kill_all(struct run *r);
/* STOP to every live process. */
void run_stop_all(struct run *r);

/* ---- startup.c ---- */

int run_next_stage(const struct run *r, int after);
void run_build_plan(struct run *r, bool audio);
void run_wire(struct run *r);
int run_on_hello(struct run *r, struct proc *p);
int run_on_format(struct run *r, struct proc *p, const struct vhs_msg *m);
int run_on_ready(struct run *r, struct proc *p);

/* ---- broker.c ---- */

int run_start_flow(struct run *r);
int run_request_more(struct run *r);
void run_on_message(struct run *r);
void run_detach_exporters(struct run *r);
void run_fail_stalled(struct run *r);

/* ---- autoworkers.c ---- */

void run_auto_check(struct run *r, uint64_t now);

/* ---- workdir.c ---- */

int run_open_work(struct run *r);
int run_analyze_audio(struct run *r);
int run_choose_video(struct run *r);
bool run_segment_exists(const struct run *r, enum vhs_segment_file kind, unsigned index);
uint64_t run_done_frames(const struct run *r);
int run_tidy(struct run *r, bool keep, bool last);
bool run_all_done(const struct run *r);
void run_settle_output(struct run *r);

/* ---- runstats.c ---- */

void run_span(struct run *r, enum vhs_stage_kind from, enum vhs_stage_kind to);
void run_progress(struct run *r, int force, int done);
void run_profile_tick(struct run *r);
void run_profile_attempt_end(struct run *r);
void run_collect_stats(struct run *r);
void run_print_stats(const struct run *r);

#endif
