/* progress.c: the progress line, its verbose stage lines, and the JSON updates (see
 * progress.h). */
#include "progress.h"

#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_INTERVAL_NS 250000000ull   /* at most 4 redraws a second */
#define LOG_INTERVAL_NS 2000000000ull
#define JSON_INTERVAL_NS 500000000ull

uint64_t vhs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vhs_progress_start(struct vhs_progress *p, enum vhs_progress_mode mode, int verbose,
			double total, double fps_media)
{
	if (mode == VHS_PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? VHS_PROGRESS_BAR : VHS_PROGRESS_LOG;
	*p = (struct vhs_progress){ .mode = mode, .verbose = verbose, .json = stdout,
				    .total = total, .fps_media = fps_media };
	p->start_ns = p->last_ns = p->prev_ns = vhs_now_ns();
}

static void s_clock(char *buf, size_t n, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* A counter's growth since the last update (a restarted worker starts again from 0). */
static double s_delta(uint64_t now, uint64_t before)
{
	return now >= before ? (double)(now - before) : (double)now;
}

/* Stage i's figures over the interval dt (seconds). */
struct rates {
	double fps, busy, wait_in, wait_out; /* shares of dt x workers, 0..1 */
};

static struct rates s_rates(const struct vhs_progress *p, const struct vhs_progress_stage *s, int i,
			    double dt)
{
	const struct vhs_progress_stage *b = &p->prev[i];
	double span = dt * 1e9 * (s->workers > 0 ? s->workers : 1);
	struct rates r = { 0 };

	if (dt <= 0)
		return r;
	r.fps = s_delta(s->frames, b->frames) / dt;
	r.busy = s_delta(s->busy_ns, b->busy_ns) / span;
	r.wait_in = s_delta(s->wait_in_ns, b->wait_in_ns) / span;
	r.wait_out = s_delta(s->wait_out_ns, b->wait_out_ns) / span;
	return r;
}

static double s_share(double x)
{
	return x < 0 ? 0 : x > 1 ? 100 : 100 * x;
}

/* The verbose lines; returns how many were written. */
static int s_detail_lines(const struct vhs_progress *p, const struct vhs_progress_detail *d, double dt,
			  const char *eol)
{
	int n = 0;

	for (int i = 0; d && i < d->n_stages; i++, n++) {
		struct rates r = s_rates(p, &d->stages[i], i, dt);

		fprintf(stderr, "\n  %-10s x%-2d %7.1f fps  busy %3.0f%%  waiting for input %3.0f%%  "
			"blocked on output %3.0f%%%s", d->stages[i].name, d->stages[i].workers, r.fps,
			s_share(r.busy), s_share(r.wait_in), s_share(r.wait_out), eol);
	}
	for (int i = 0; d && i < d->n_rings; i++, n++)
		fprintf(stderr, "\n  ring %-22s %u/%u%s", d->rings[i].name, d->rings[i].full,
			d->rings[i].slots, eol);
	return n;
}

/* One JSON object: the run, then each stage and ring. Names are the project's own (no
 * characters to escape). */
static void s_json(struct vhs_progress *p, const struct vhs_progress_detail *d, uint64_t frames,
		   double elapsed, double fps, double speed, double dt, int done)
{
	FILE *f = p->json;

	fprintf(f, "{\"elapsed_s\":%.3f,\"frames\":%llu,\"total\":%.0f,\"percent\":", elapsed,
		(unsigned long long)frames, p->total > 0 ? p->total : 0);
	if (p->total > 0)
		fprintf(f, "%.2f", 100.0 * (double)frames / p->total);
	else
		fputs("null", f);
	fprintf(f, ",\"fps\":%.2f,\"speed\":%.3f,\"eta_s\":", fps, speed);
	if (p->total > 0 && fps > 0 && !done)
		fprintf(f, "%.1f", (p->total - (double)frames) / fps);
	else
		fputs(done ? "0" : "null", f);
	fprintf(f, ",\"done\":%s,\"stages\":[", done ? "true" : "false");
	for (int i = 0; d && i < d->n_stages; i++) {
		struct rates r = s_rates(p, &d->stages[i], i, dt);

		fprintf(f, "%s{\"name\":\"%s\",\"workers\":%d,\"frames\":%llu,\"fps\":%.2f,\"busy\":%.3f,"
			"\"waiting_for_input\":%.3f,\"blocked_on_output\":%.3f}", i ? "," : "",
			d->stages[i].name, d->stages[i].workers, (unsigned long long)d->stages[i].frames,
			r.fps, s_share(r.busy) / 100, s_share(r.wait_in) / 100, s_share(r.wait_out) / 100);
	}
	fputs("],\"rings\":[", f);
	for (int i = 0; d && i < d->n_rings; i++)
		fprintf(f, "%s{\"edge\":\"%s\",\"slots\":%u,\"full\":%u}", i ? "," : "", d->rings[i].name,
			d->rings[i].slots, d->rings[i].full);
	fputs("]}\n", f);
	fflush(f);
}

void vhs_progress_update(struct vhs_progress *p, uint64_t frames, int force,
			 const struct vhs_progress_detail *d, int done)
{
	uint64_t now = vhs_now_ns(), interval;
	double elapsed = (double)(now - p->start_ns) / 1e9, dt = (double)(now - p->prev_ns) / 1e9;
	double fps = elapsed > 0 ? (double)frames / elapsed : 0;
	double speed = p->fps_media > 0 ? fps / p->fps_media : 0;
	char eta[32] = "?", pct[16] = "  ?  ";

	if (p->mode == VHS_PROGRESS_NONE)
		return;
	interval = p->mode == VHS_PROGRESS_BAR ? BAR_INTERVAL_NS
		   : p->mode == VHS_PROGRESS_JSON ? JSON_INTERVAL_NS : LOG_INTERVAL_NS;
	if (!force && now - p->last_ns < interval)
		return;
	if (p->mode == VHS_PROGRESS_LOG && frames == p->shown && p->shown && !done)
		return; /* the last log line already says it (encoders flushing) */
	p->last_ns = now;
	p->shown = frames;
	if (p->mode == VHS_PROGRESS_JSON) {
		s_json(p, d, frames, elapsed, fps, speed, dt, done);
	} else {
		if (p->total > 0) {
			snprintf(pct, sizeof(pct), "%5.1f%%", 100.0 * (double)frames / p->total);
			if (fps > 0)
				s_clock(eta, sizeof(eta), (p->total - (double)frames) / fps);
		}
		if (p->mode == VHS_PROGRESS_BAR) {
			if (p->drawn > 1) /* back to the first line */
				fprintf(stderr, "\033[%dA", p->drawn - 1);
			fprintf(stderr, "\r%s  %llu/%.0f frames  %.1f fps  %.2fx  ETA %s\033[K", pct,
				(unsigned long long)frames, p->total, fps, speed, eta);
			p->drawn = 1 + (p->verbose ? s_detail_lines(p, d, dt, "\033[K") : 0);
		} else {
			fprintf(stderr, "progress: %s %llu/%.0f frames %.1f fps %.2fx eta %s", pct,
				(unsigned long long)frames, p->total, fps, speed, eta);
			if (p->verbose)
				s_detail_lines(p, d, dt, "");
			fputc('\n', stderr);
		}
		fflush(stderr);
	}
	for (int i = 0; d && i < d->n_stages && i < VHS_PROGRESS_ROWS; i++)
		p->prev[i] = d->stages[i];
	p->prev_ns = now;
}

void vhs_progress_end(struct vhs_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
