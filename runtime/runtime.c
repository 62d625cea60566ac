/* runtime.c: the shared stage runtime (see runtime.h for the contract).
 *
 * DESIGN
 * One thread, one DEALER socket. Records from the orchestrator are of two kinds:
 * control (GRANT, STOP) is applied at once wherever the stage is, even while it blocks
 * for an output slot; input (FRAME, AUDIO, EOS) goes into a FIFO that the main loop
 * drains in arrival order, so a stage is never re-entered from inside its own callback.
 * The FIFO is bounded by the input rings' slot counts (plus one EOS per port), because
 * the orchestrator never forwards a slot it has not got back.
 *
 * Heartbeat: STATS goes out at most every 0.5 s from every place the stage can wait
 * (input wait, output wait) and after each callback, so a busy stage still beats.
 *
 * Segments: SEGMENT BEGIN/END markers are input records like FRAME (they keep their order
 * with the frames); a source's SEGMENT REQUESTs queue there too. DRAIN is control: it
 * sets a flag the source reads between segments.
 *
 * GPU edges (shm/devpool.h): a port whose format says memory = CUDA carries device
 * buffers. On an output port the stage writes the buffer itself (vhs_output_device()) and
 * the runtime exports it. On an input port the runtime downloads each frame once, into a
 * page-locked mirror of its slot, and hands the stage that: a consumer needs no CUDA code,
 * and the mirror of slot s stays the stage's until it releases s, like a host slot. An
 * exporter frees its buffers only after DETACHED (every importer has exited), so at the
 * end it waits for that record before tearing down.
 *
 * Profiling (CONFIG's profile.trace = 1): each frame of the stage is timed (a record on
 * its first input port, from dispatch to the callback's return; a source's record on its
 * first output port, from the previous one to it) and the samples go out in TRACE records
 * of eight, the last ones with every STATS. The time the frame spent waiting for a slot
 * or for input is its span less its busy time. Without profiling nothing is timed.
 *
 * Recording for isolated profiles (CONFIG's profile.spool = DIR): every record the stage
 * is given on its inputs is also written, with its slot's bytes, to DIR/spool.INSTANCE
 * through the temp writer (lib/tempfile.h), committed when the stage finishes, in the format
 * of proto/recording.h. orchestrator/replay.c plays it back into the stage alone.
 *
 * Fault injection for tests: VHS_TEST_CRASH=STAGE:N makes stage STAGE kill itself with
 * SIGKILL at its N-th data record (received, or sent by a source), every time it starts.
 * VHS_TEST_DELAY=STAGE:MS makes each frame of stage STAGE (as timed above) take MS
 * milliseconds longer, working (a sleep counted as busy), so a test knows the answer a
 * profile must give.
 *
 * Exit status: 0 after DONE; 1 after ERROR; 3 when stopped by STOP.
 */

#include "ctx.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "kv.h"

int vhs_fail(struct vhs_ctx *ctx, enum vhs_err_class cls, const char *fmt, ...)
{
	struct vhs_msg m = { .type = VHS_MSG_ERROR };
	va_list ap;

	if (ctx->failed)
		return -EIO;
	ctx->failed = 1;
	m.u.error.cls = (uint8_t)cls;
	va_start(ap, fmt);
	vsnprintf(m.u.error.text, sizeof(m.u.error.text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vhs-stage-%s: error: %s\n", ctx->stage->name, m.u.error.text); /* the log's copy */
	if (ctx->sock)
		rt_send(ctx, &m);
	return -EIO;
}

/* One line to stderr: "vhs-orchestrate: KIND" + "STAGE: text". */
static void s_say(struct vhs_ctx *ctx, const char *kind, const char *fmt, va_list ap)
{
	char text[512];

	vsnprintf(text, sizeof(text), fmt, ap);
	fprintf(stderr, "vhs-orchestrate: %s%s: %s\n", kind, ctx->stage->name, text);
}

void vhs_warn(struct vhs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_say(ctx, "warning: ", fmt, ap);
	va_end(ap);
}

void vhs_note(struct vhs_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	s_say(ctx, "", fmt, ap);
	va_end(ap);
}

int vhs_stopping(struct vhs_ctx *ctx)
{
	while (!ctx->stop && rt_pump(ctx, 0) > 0)
		;
	rt_maybe_stats(ctx); /* a source that never waits still beats */
	return ctx->stop;
}

static int s_connect(struct vhs_ctx *ctx, const char *endpoint, const char *id)
{
	int linger = 5000, hwm = 100000;

	ctx->zctx = zmq_ctx_new();
	if (!ctx->zctx)
		return -errno;
	ctx->sock = zmq_socket(ctx->zctx, ZMQ_DEALER);
	if (!ctx->sock)
		return -errno;
	zmq_setsockopt(ctx->sock, ZMQ_ROUTING_ID, id, strlen(id));
	zmq_setsockopt(ctx->sock, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(ctx->sock, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(ctx->sock, ZMQ_RCVHWM, &hwm, sizeof(hwm));
	return zmq_connect(ctx->sock, endpoint) ? -errno : 0;
}

/* HELLO, CONFIG, init, FORMAT, ATTACH, READY. */
static int s_startup(struct vhs_ctx *ctx, uint16_t instance)
{
	struct vhs_msg m = { .type = VHS_MSG_HELLO };
	int ret;

	snprintf(m.u.hello.stage, sizeof(m.u.hello.stage), "%s", ctx->stage->name);
	m.u.hello.pid = (uint32_t)getpid();
	m.u.hello.instance = instance;
	ret = rt_send(ctx, &m);
	if (!ret)
		ret = rt_expect(ctx, VHS_MSG_CONFIG, &m);
	if (ret)
		return ret;
	ctx->n_in = m.u.config.n_inputs;
	for (int i = 0; i < ctx->n_in; i++)
		ctx->in[i].fmt = m.u.config.inputs[i];
	ret = rt_check_settings(ctx);
	if (!ret)
		ret = rt_apply_options(ctx);
	if (ret)
		return ret;
	ctx->trace = vhs_setting_int(ctx, VHS_SET_PROFILE_TRACE) != 0;
	ret = ctx->stage->init ? ctx->stage->init(ctx) : 0;
	if (ret)
		return ret;
	m = (struct vhs_msg){ .type = VHS_MSG_FORMAT };
	m.u.format.n = (uint8_t)ctx->n_out;
	for (int i = 0; i < ctx->n_out; i++)
		m.u.format.outputs[i] = ctx->out[i].fmt;
	ret = rt_send(ctx, &m);
	if (!ret)
		ret = rt_expect(ctx, VHS_MSG_ATTACH, &m);
	if (!ret)
		ret = rt_attach(ctx, &m);
	if (!ret)
		ret = rt_spool_open(ctx, instance);
	if (!ret)
		ret = rt_send(ctx, &(struct vhs_msg){ .type = VHS_MSG_READY });
	ctx->running_ns = ctx->frame_ns = rt_now();
	return ret;
}

/* Hands a FRAME or AUDIO record to the stage. */
static int s_record(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	const struct vhs_stage *st = ctx->stage;
	int port = m->type == VHS_MSG_FRAME ? m->u.frame.port : m->u.audio.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;

	if (m->type == VHS_MSG_FRAME && st->video)
		return st->video(ctx, &m->u.frame, vhs_input_slot(ctx, port, slot));
	if (m->type == VHS_MSG_AUDIO && st->audio)
		return st->audio(ctx, &m->u.audio, vhs_input_slot(ctx, port, slot));
	vhs_release(ctx, port, slot); /* a stage without a handler drops it */
	return 0;
}

/* A record on the first input port is the stage's frame: the test delay, then the stage,
 * timed when profiling. */
static int s_timed_record(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	uint64_t t0 = ctx->trace ? rt_now() : 0, waited = ctx->stats.wait_in_ns + ctx->stats.wait_out_ns;
	int ret;

	rt_test_delay(ctx);
	ret = s_record(ctx, m);
	if (ctx->trace)
		rt_trace_frame(ctx, t0, ctx->stats.wait_in_ns + ctx->stats.wait_out_ns - waited,
			      m->type == VHS_MSG_FRAME ? m->u.frame.segment : m->u.audio.segment,
			      m->type == VHS_MSG_FRAME ? m->u.frame.index : m->u.audio.index);
	return ret;
}

static int s_dispatch(struct vhs_ctx *ctx, const struct vhs_msg *m)
{
	const struct vhs_stage *st = ctx->stage;
	int port = m->type == VHS_MSG_FRAME ? m->u.frame.port
		 : m->type == VHS_MSG_AUDIO ? m->u.audio.port
		 : m->type == VHS_MSG_SEGMENT ? m->u.segment.port : m->u.eos.port;
	uint32_t slot = m->type == VHS_MSG_FRAME ? m->u.frame.slot : m->u.audio.slot;

	if (port >= ctx->n_in || ctx->in[port].eos)
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "%s for port %d out of turn",
				vhs_proto_type_name(m->type), port);
	if (m->type == VHS_MSG_EOS || m->type == VHS_MSG_SEGMENT) {
		int ret = rt_spool_input(ctx, m, port);

		if (ret || m->type == VHS_MSG_SEGMENT)
			return ret ? ret : rt_segment_marker(ctx, &m->u.segment);
		ctx->in[port].eos = 1;
		return st->eos ? st->eos(ctx, port) : 0;
	}
	if (slot >= ctx->in[port].ring.slot_count ||
	    (m->type == VHS_MSG_FRAME ? m->u.frame.bytes : m->u.audio.bytes) >
		    rt_slot_capacity(&ctx->in[port].ring, &ctx->in[port].fmt) ||
	    (ctx->in[port].pool && m->type != VHS_MSG_FRAME))
		return vhs_fail(ctx, VHS_ERR_INTERNAL, "descriptor outside ring %s",
				ctx->in[port].ring.name);
	ctx->stats.frames_in++;
	rt_crash_point(ctx);
	if (ctx->in[port].pool && !ctx->in[port].on_device) {
		int ret = rt_download(ctx, port, &m->u.frame);

		if (ret)
			return ret;
	}
	if (rt_spool_input(ctx, m, port))
		return -EIO;
	return port == 0 ? s_timed_record(ctx, m) : s_record(ctx, m);
}

static int s_inputs_done(struct vhs_ctx *ctx)
{
	for (int i = 0; i < ctx->n_in; i++)
		if (!ctx->in[i].eos)
			return 0;
	return 1;
}

/* Drains input records until every input port has ended. */
static int s_loop(struct vhs_ctx *ctx)
{
	struct vhs_msg m;
	uint64_t t0;
	int ret = 0;

	while (!ret && !ctx->stop && !s_inputs_done(ctx)) {
		if (!rt_fifo_pop(ctx, &m)) {
			t0 = rt_now();
			ret = rt_pump(ctx, 250);
			ctx->stats.wait_in_ns += rt_now() - t0;
			ret = ret < 0 ? ret : 0;
		} else {
			ret = s_dispatch(ctx, &m);
		}
		rt_maybe_stats(ctx);
	}
	return ret;
}

/* After the inputs (or the source) ended: finish, EOS on every output, STATS, DONE. */
static int s_finish(struct vhs_ctx *ctx)
{
	struct vhs_msg m = { .type = VHS_MSG_EOS };
	int ret = ctx->stage->finish ? ctx->stage->finish(ctx) : 0;

	for (int i = 0; !ret && i < ctx->n_out; i++) {
		m.u.eos.port = (uint8_t)i;
		m.u.eos.count = ctx->out[i].sent;
		ret = rt_send(ctx, &m);
	}
	if (!ret && ctx->spool && (ret = vhs_tempfile_commit(&ctx->spool)))
		vhs_fail(ctx, VHS_ERR_OUTPUT, "profile spool: %s", strerror(-ret));
	if (ret)
		return ret;
	rt_send_stats(ctx);
	return rt_send(ctx, &(struct vhs_msg){ .type = VHS_MSG_DONE });
}

static void s_teardown(struct vhs_ctx *ctx)
{
	vhs_tempfile_abort(&ctx->spool); /* unfinished: no spool under its final name */
	if (ctx->stage->uninit && ctx->priv)
		ctx->stage->uninit(ctx);
	rt_detach_wait(ctx);
	for (int i = 0; i < VHS_MAX_PORTS; i++) {
		struct port_in *in = &ctx->in[i];

		vhs_devpool_close(&in->pool); /* importers close their handles first (devpool.h) */
		for (uint32_t s = 0; in->mirror && s < in->ring.slot_count; s++)
			vhs_devpool_host_free(in->mirror[s]);
		free(in->mirror);
		vhs_devpool_close(&ctx->out[i].pool);
		vhs_ring_close(&in->ring);
		vhs_ring_close(&ctx->out[i].ring);
		free(ctx->out[i].credits);
		free(ctx->out[i].open);
	}
	if (ctx->sock)
		zmq_close(ctx->sock);
	if (ctx->zctx)
		zmq_ctx_term(ctx->zctx);
	free(ctx->priv);
	free(ctx->settings);
	free(ctx->fifo);
}

/* Dies with the orchestrator, ignores the terminal's Ctrl-C (the orchestrator handles it). */
static int s_process_setup(void)
{
	const char *parent = getenv("VHS_PARENT_PID");

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (parent && getppid() != (pid_t)atol(parent))
		return -ESRCH; /* the orchestrator died before prctl took effect */
	signal(SIGINT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	return 0;
}

static void s_usage(const char *name)
{
	fprintf(stderr,
		"usage: vhs-stage-%s --ctl ENDPOINT [--instance N]\n"
		"A stage process of vhs-orchestrate; it is started by the orchestrator, not by hand.\n",
		name);
}

int vhs_stage_main(const struct vhs_stage *stage, int argc, char **argv)
{
	struct vhs_ctx ctx = { .stage = stage };
	const char *endpoint = NULL;
	char id[VHS_NAME_LEN + 8];
	long instance = 0;
	int ret;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--ctl") && i + 1 < argc)
			endpoint = argv[++i];
		else if (!strcmp(argv[i], "--instance") && i + 1 < argc)
			instance = atol(argv[++i]);
		else
			return s_usage(stage->name), 2;
	}
	if (!endpoint)
		return s_usage(stage->name), 2;
	if (s_process_setup())
		return 1;
	snprintf(id, sizeof(id), "%s.%ld", stage->name, instance);
	rt_test_setup(&ctx);
	ctx.priv = calloc(1, stage->priv_size ? stage->priv_size : 1);
	ret = ctx.priv ? s_connect(&ctx, endpoint, id) : -ENOMEM;
	if (!ret)
		ret = s_startup(&ctx, (uint16_t)instance);
	if (!ret)
		ret = stage->run ? stage->run(&ctx) : s_loop(&ctx);
	if (!ret && !ctx.stop)
		ret = s_finish(&ctx);
	if (ret && !ctx.stop && !ctx.failed)
		vhs_fail(&ctx, VHS_ERR_INTERNAL, "%s", strerror(ret < 0 ? -ret : ret));
	s_teardown(&ctx);
	if (ctx.stop && !ctx.failed)
		return EXIT_STOPPED;
	return ret ? 1 : 0;
}
