/* progress.c: the progress line (see progress.h). */
#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define BAR_INTERVAL_NS 250000000ull   /* at most 4 redraws a second */
#define LOG_INTERVAL_NS 2000000000ull

uint64_t vhs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void vhs_progress_start(struct vhs_progress *p, enum vhs_progress_mode mode, double total,
			double fps_media)
{
	if (mode == VHS_PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? VHS_PROGRESS_BAR : VHS_PROGRESS_LOG;
	*p = (struct vhs_progress){ .mode = mode, .total = total, .fps_media = fps_media };
	p->start_ns = p->last_ns = vhs_now_ns();
}

static void s_clock(char *buf, size_t n, double s)
{
	long t = s < 0 ? 0 : (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

void vhs_progress_update(struct vhs_progress *p, uint64_t frames, int force)
{
	uint64_t now = vhs_now_ns();
	double elapsed = (double)(now - p->start_ns) / 1e9;
	double fps = elapsed > 0 ? (double)frames / elapsed : 0;
	double speed = p->fps_media > 0 ? fps / p->fps_media : 0;
	char eta[32] = "?", pct[16] = "  ?  ";

	if (p->mode == VHS_PROGRESS_NONE)
		return;
	if (!force && now - p->last_ns < (p->mode == VHS_PROGRESS_BAR ? BAR_INTERVAL_NS : LOG_INTERVAL_NS))
		return;
	if (p->mode == VHS_PROGRESS_LOG && frames == p->shown && p->shown)
		return; /* the last log line already says it (encoders flushing) */
	p->last_ns = now;
	p->shown = frames;
	if (p->total > 0) {
		snprintf(pct, sizeof(pct), "%5.1f%%", 100.0 * (double)frames / p->total);
		if (fps > 0)
			s_clock(eta, sizeof(eta), (p->total - (double)frames) / fps);
	}
	if (p->mode == VHS_PROGRESS_BAR) {
		fprintf(stderr, "\r%s  %llu/%.0f frames  %.1f fps  %.2fx  ETA %s\033[K", pct,
			(unsigned long long)frames, p->total, fps, speed, eta);
		p->drawn = 1;
	} else {
		fprintf(stderr, "progress: %s %llu/%.0f frames %.1f fps %.2fx eta %s\n", pct,
			(unsigned long long)frames, p->total, fps, speed, eta);
	}
	fflush(stderr);
}

void vhs_progress_end(struct vhs_progress *p)
{
	if (p->drawn)
		fputc('\n', stderr);
	p->drawn = 0;
}
