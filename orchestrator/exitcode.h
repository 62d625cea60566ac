/* exitcode.h: the documented exit codes of vhs-orchestrate (docs/operations.md). */
#ifndef VHS_EXITCODE_H
#define VHS_EXITCODE_H

enum vhs_exit {
	VHS_EXIT_OK = 0,          /* the restored file is complete */
	VHS_EXIT_INTERNAL = 1,    /* a bug or a resource failure (memory, /dev/shm, sockets) */
	VHS_EXIT_USAGE = 2,       /* bad command line */
	VHS_EXIT_JOB = 3,         /* job file or setting invalid (also: bad filter chain, codec) */
	VHS_EXIT_INPUT = 4,       /* the capture is missing, unreadable or unsupported */
	VHS_EXIT_OUTPUT = 5,      /* the output cannot be written where asked */
	VHS_EXIT_STAGE = 6,       /* a stage process crashed or failed */
	VHS_EXIT_INTERRUPTED = 130, /* stopped by SIGINT or SIGTERM */
};

#endif
