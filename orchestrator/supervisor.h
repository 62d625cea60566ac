/* supervisor.h: `run`: start the stage processes, broker descriptors, watch, clean up. */
#ifndef VHS_SUPERVISOR_H
#define VHS_SUPERVISOR_H

#include "job.h"
#include "profile.h"
#include "progress.h"

struct vhs_run_opts {
	enum vhs_progress_mode progress;
	int stats;                /* print per-stage CPU and memory at exit */
	int verbose;              /* --verbose: stage and ring lines under the progress line */
	const char *stage_dir;    /* where vhs-stage-* live */
	int resume;               /* --resume: continue the unfinished run in the work dir */
	int restart;              /* --restart: discard it and start over */
	int force;                /* --force: an existing output may be replaced */
	struct vhs_profiler *profiler; /* profile: fed as the run goes (profile.h), or NULL */
	const char *work_dir;     /* the work dir instead of TEMP_DIR/OUTPUT_NAME.vhs-work, or NULL */
	const char *spool_dir;    /* profile --stage: record spool_kind's input here, or NULL */
	int spool_kind;           /* enum vhs_stage_kind */
	const char *log_dir;      /* keep the stages' logs here at the end (profile), or NULL */
};

/* Runs the job to completion. Returns an exit code (exitcode.h). */
int vhs_run(const struct vhs_job *job, const struct vhs_run_opts *opts);

/* The cores this process may run on (its affinity mask; else the online CPUs): what "auto"
 * workers, threads and deinterlacer go by. */
int vhs_cores(void);

#endif
