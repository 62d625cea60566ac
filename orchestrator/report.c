/* report.c: a profile's table, JSON, trace events and HTML page (see report.h). */
#include "report.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FPS_WINDOW 5       /* ticks over which the timeline's throughput is taken (1 s) */
#define SVG_W 880
#define SVG_H 300
#define SVG_LEFT 60
#define SVG_RIGHT 170      /* room for the legend */
#define SVG_TOP 34
#define SVG_BOTTOM 40

static const char *const s_colours[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
					 "#8c564b", "#e377c2", "#17becf" };
#define N_COLOURS (sizeof(s_colours) / sizeof(s_colours[0]))

/* ---- helpers ---- */

/* A JSON string: quotes, backslashes and control characters escaped. */
static void s_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

/* Text for HTML: <, >, & and quotes escaped. */
static void s_html_str(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

/* A number for JSON: finite, or null. */
static void s_json_num(FILE *f, const char *key, double v, bool comma)
{
	fprintf(f, "%s\"%s\":", comma ? "," : "", key);
	if (isfinite(v))
		fprintf(f, "%.6g", v);
	else
		fputs("null", f);
}

static bool s_has_kind(const struct vhs_profiler *p, int k)
{
	for (int i = 0; i < p->n_inst; i++)
		if ((int)p->inst[i].kind == k)
			return true;
	return false;
}

static int s_kind_workers(const struct vhs_profiler *p, int k)
{
	int n = 0;

	for (int i = 0; i < p->n_inst; i++)
		n += (int)p->inst[i].kind == k;
	return n;
}

static double s_wall(const struct vhs_profiler *p)
{
	return p->end_ns > p->start_ns ? (double)(p->end_ns - p->start_ns) / 1e9 : 0;
}

/* Ring e over the timeline: mean and largest slots holding a frame, share of ticks full. */
static void s_ring_figures(const struct vhs_profiler *p, int e, double *mean, uint32_t *max, double *full)
{
	double sum = 0;
	size_t at_full = 0;

	*max = 0;
	for (size_t i = 0; i < p->n_ticks; i++) {
		uint32_t v = p->ticks[i].full[e];

		sum += v;
		*max = v > *max ? v : *max;
		at_full += v >= p->edges[e].slots;
	}
	*mean = p->n_ticks ? sum / (double)p->n_ticks : 0;
	*full = p->n_ticks ? (double)at_full / (double)p->n_ticks : 0;
}

/* Stage k's throughput at tick i: frames over the last FPS_WINDOW ticks. */
static double s_tick_fps(const struct vhs_profiler *p, int k, size_t i)
{
	size_t j = i >= FPS_WINDOW ? i - FPS_WINDOW : 0;
	double dt = (double)(p->ticks[i].t_ns - p->ticks[j].t_ns) / 1e9;

	return dt > 0 ? (double)(p->ticks[i].frames[k] - p->ticks[j].frames[k]) / dt : 0;
}

/* ---- the table ---- */

static void s_text_row(FILE *f, const char *name, int indent, const struct vhs_prof_figures *g)
{
	char gpu[16] = "-";

	if (g->gpu_s >= 0)
		snprintf(gpu, sizeof(gpu), "%.2f", g->gpu_s);
	fprintf(f, "%*s%-*s %7llu %7.1f %4.0f%% %6.0f%% %6.0f%% %7.2f %7.2f %7.2f %7.2f %7.1f %6s %9.0f %9.0f %6.2f\n",
		indent, "", 14 - indent, name, (unsigned long long)g->frames, g->fps, 100 * g->busy,
		100 * g->wait_in, 100 * g->wait_out, g->p50_ms, g->p95_ms, g->p99_ms, g->cpu_s,
		g->rss_mib, gpu, g->bytes_per_frame / 1024, g->copied_per_frame / 1024, g->copies_per_frame);
}

static void s_text(FILE *f, const struct vhs_profiler *p, const struct vhs_report_info *info)
{
	struct vhs_prof_figures g;
	char why[1024];
	double wall = s_wall(p);

	vhs_profiler_bottleneck(p, why, sizeof(why));
	fprintf(f, "profile of %s: %llu frames in %.2f s (%.1f fps, %.2fx realtime), %d cores\n", info->job,
		(unsigned long long)p->output_frames, wall, wall > 0 ? p->output_frames / wall : 0,
		wall > 0 && p->fps_media > 0 ? p->output_frames / wall / p->fps_media : 0, info->cores);
	fprintf(f, "%-14s %7s %7s %5s %7s %7s %7s %7s %7s %7s %7s %6s %9s %9s %6s\n", "stage", "frames",
		"fps", "busy", "wait-in", "blocked", "p50 ms", "p95 ms", "p99 ms", "cpu s", "rss MiB",
		"gpu s", "KiB out/f", "KiB cp/f", "cp/f");
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		if (!s_has_kind(p, k))
			continue;
		vhs_profiler_figures(p, NULL, k, &g);
		s_text_row(f, vhs_stage_name((enum vhs_stage_kind)k), 0, &g);
		for (int i = 0; s_kind_workers(p, k) > 1 && i < p->n_inst; i++) {
			if ((int)p->inst[i].kind != k)
				continue;
			vhs_profiler_figures(p, &p->inst[i], -1, &g);
			s_text_row(f, p->inst[i].name, 2, &g);
		}
	}
	for (int e = 0; e < p->n_edges; e++) {
		double mean, full;
		uint32_t max;

		s_ring_figures(p, e, &mean, &max, &full);
		fprintf(f, "ring %-22s %2u slots  mean %5.1f  max %2u  full %3.0f%% of the time\n",
			p->edges[e].name, p->edges[e].slots, mean, max, 100 * full);
	}
	fprintf(f, "bottleneck: %s\n", why);
	if (info->isolated) {
		const struct vhs_isolated *is = info->isolated;

		fprintf(f, "isolated: %s x%d alone, its recorded input replayed: %llu frames in %.2f s = "
			"%.1f fps (%.1f fps in the pipeline; p50 %.2f ms, p95 %.2f ms, p99 %.2f ms a frame)\n",
			is->stage, is->workers, (unsigned long long)is->frames, is->wall_s, is->fps,
			is->pipeline_fps, is->fig.p50_ms, is->fig.p95_ms, is->fig.p99_ms);
	}
}

/* ---- JSON ---- */

static void s_json_figures(FILE *f, const char *name, const struct vhs_prof_figures *g)
{
	fputs("\"name\":", f);
	s_json_str(f, name);
	fprintf(f, ",\"frames\":%llu", (unsigned long long)g->frames);
	s_json_num(f, "span_s", g->span_s, true);
	s_json_num(f, "fps", g->fps, true);
	s_json_num(f, "busy", g->busy, true);
	s_json_num(f, "waiting_for_input", g->wait_in, true);
	s_json_num(f, "blocked_on_output", g->wait_out, true);
	fputs(",\"frame_ms\":{", f);
	s_json_num(f, "mean", g->mean_ms, false);
	s_json_num(f, "p50", g->p50_ms, true);
	s_json_num(f, "p95", g->p95_ms, true);
	s_json_num(f, "p99", g->p99_ms, true);
	fputc('}', f);
	s_json_num(f, "cpu_s", g->cpu_s, true);
	s_json_num(f, "peak_rss_mib", g->rss_mib, true);
	s_json_num(f, "gpu_s", g->gpu_s >= 0 ? g->gpu_s : NAN, true);
	s_json_num(f, "bytes_moved_per_frame", g->bytes_per_frame, true);
	s_json_num(f, "bytes_copied_per_frame", g->copied_per_frame, true);
	s_json_num(f, "memcpy_per_frame", g->copies_per_frame, true);
}

static void s_json_timeline(FILE *f, const struct vhs_profiler *p)
{
	bool first = true;

	fputs("\"timeline\":{\"tick_s\":", f);
	fprintf(f, "%.3f,\"t_s\":[", VHS_PROF_TICK_NS / 1e9);
	for (size_t i = 0; i < p->n_ticks; i++)
		fprintf(f, "%s%.3f", i ? "," : "", p->ticks[i].t_ns / 1e9);
	fputs("],\"frames\":{", f);
	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		if (!s_has_kind(p, k))
			continue;
		fprintf(f, "%s\"%s\":[", first ? "" : ",", vhs_stage_name((enum vhs_stage_kind)k));
		for (size_t i = 0; i < p->n_ticks; i++)
			fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)p->ticks[i].frames[k]);
		fputc(']', f);
		first = false;
	}
	fputs("},\"ring_full\":{", f);
	for (int e = 0; e < p->n_edges; e++) {
		fprintf(f, "%s\"%s\":[", e ? "," : "", p->edges[e].name);
		for (size_t i = 0; i < p->n_ticks; i++)
			fprintf(f, "%s%u", i ? "," : "", p->ticks[i].full[e]);
		fputc(']', f);
	}
	fputs("}}", f);
}

static void s_json(FILE *f, const struct vhs_profiler *p, const struct vhs_report_info *info)
{
	struct vhs_prof_figures g;
	char why[1024];
	int b = vhs_profiler_bottleneck(p, why, sizeof(why)), n = 0;
	double wall = s_wall(p);

	fputs("{\"version\":1,\"job\":", f);
	s_json_str(f, info->job);
	fputs(",\"output\":", f);
	s_json_str(f, info->output);
	fprintf(f, ",\"cores\":%d,\"attempts\":%d,\"restarts\":%d,\"frames\":%llu", info->cores, p->attempts,
		p->restarts, (unsigned long long)p->output_frames);
	s_json_num(f, "wall_s", wall, true);
	s_json_num(f, "fps", wall > 0 ? p->output_frames / wall : 0, true);
	s_json_num(f, "speed", wall > 0 && p->fps_media > 0 ? p->output_frames / wall / p->fps_media : 0, true);
	fputs(",\"bottleneck\":{\"stage\":", f);
	if (b >= 0)
		s_json_str(f, vhs_stage_name((enum vhs_stage_kind)b));
	else
		fputs("null", f);
	fputs(",\"why\":", f);
	s_json_str(f, why);
	fputs("},\"stages\":[", f);
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		if (!s_has_kind(p, k))
			continue;
		vhs_profiler_figures(p, NULL, k, &g);
		fprintf(f, "%s{", n++ ? "," : "");
		s_json_figures(f, vhs_stage_name((enum vhs_stage_kind)k), &g);
		fprintf(f, ",\"workers\":%d,\"instances\":[", s_kind_workers(p, k));
		for (int i = 0, m = 0; i < p->n_inst; i++) {
			if ((int)p->inst[i].kind != k)
				continue;
			vhs_profiler_figures(p, &p->inst[i], -1, &g);
			fprintf(f, "%s{", m++ ? "," : "");
			s_json_figures(f, p->inst[i].name, &g);
			fprintf(f, ",\"processes\":%d}", p->inst[i].processes);
		}
		fputs("]}", f);
	}
	fputs("],\"rings\":[", f);
	for (int e = 0; e < p->n_edges; e++) {
		double mean, full;
		uint32_t max;

		s_ring_figures(p, e, &mean, &max, &full);
		fprintf(f, "%s{\"edge\":\"%s\",\"slots\":%u,\"max_full\":%u", e ? "," : "", p->edges[e].name,
			p->edges[e].slots, max);
		s_json_num(f, "mean_full", mean, true);
		s_json_num(f, "full_share", full, true);
		fputc('}', f);
	}
	fputs("],\"isolated\":", f);
	if (info->isolated) {
		const struct vhs_isolated *is = info->isolated;

		fputs("{", f);
		s_json_figures(f, is->stage, &is->fig);
		fprintf(f, ",\"workers\":%d,\"replayed_frames\":%llu", is->workers, (unsigned long long)is->frames);
		s_json_num(f, "wall_s", is->wall_s, true);
		s_json_num(f, "standalone_fps", is->fps, true);
		s_json_num(f, "pipeline_fps", is->pipeline_fps, true);
		fputc('}', f);
	} else {
		fputs("null", f);
	}
	fputc(',', f);
	s_json_timeline(f, p);
	fputs("}\n", f);
}

/* ---- Chrome trace events ---- */

static void s_trace(FILE *f, const struct vhs_profiler *p)
{
	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n"
	      "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":\"vhs-orchestrate profile\"}}",
	      f);
	for (int i = 0; i < p->n_inst; i++) {
		const struct vhs_prof_instance *in = &p->inst[i];

		fprintf(f, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":\"%s\"}}"
			",\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%d,\"args\":{\"sort_index\":%d}}",
			i + 1, in->name, i + 1, (int)in->kind * 100 + in->instance);
		for (size_t j = 0; j < in->n_samples; j++) {
			const struct vhs_trace_sample *s = &in->samples[j];
			double ts = s->start_ns >= p->start_ns ? (double)(s->start_ns - p->start_ns) / 1e3 : 0;

			fprintf(f, ",\n{\"name\":\"frame %u\",\"cat\":\"%s\",\"ph\":\"X\",\"pid\":1,\"tid\":%d,"
				"\"ts\":%.3f,\"dur\":%.3f,\"args\":{\"frame\":%u,\"segment\":%u,\"busy_ms\":%.3f}}",
				s->index, vhs_stage_name(in->kind), i + 1, ts, s->dur_ns / 1e3, s->index,
				s->segment, s->busy_ns / 1e6);
		}
	}
	for (size_t t = 0; t < p->n_ticks; t++)
		for (int e = 0; e < p->n_edges; e++)
			fprintf(f, ",\n{\"name\":\"ring %s\",\"ph\":\"C\",\"pid\":1,\"ts\":%.3f,\"args\":{\"full\":%u}}",
				p->edges[e].name, p->ticks[t].t_ns / 1e3, p->ticks[t].full[e]);
	fputs("\n]}\n", f);
}

/* ---- HTML ---- */

/* A series of a line chart: y at every tick. */
struct series {
	const char *name;
	double *y;
};

/* A line chart of n points (x: the ticks' times) with a legend, y from 0 to ymax. */
static void s_svg_lines(FILE *f, const char *id, const char *title, const char *unit,
			const struct vhs_profiler *p, const struct series *s, int ns, double ymax)
{
	double pw = SVG_W - SVG_LEFT - SVG_RIGHT, ph = SVG_H - SVG_TOP - SVG_BOTTOM;
	double tmax = p->n_ticks ? p->ticks[p->n_ticks - 1].t_ns / 1e9 : 1;

	tmax = tmax > 0 ? tmax : 1;
	ymax = ymax > 0 ? ymax * 1.05 : 1;
	fprintf(f, "<figure><svg id=\"%s\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		"<text x=\"%d\" y=\"20\" class=\"title\">", id, SVG_W, SVG_H, SVG_W, SVG_H, SVG_W, SVG_H, SVG_LEFT);
	s_html_str(f, title);
	fputs("</text>\n", f);
	for (int g = 0; g <= 4; g++) { /* grid and labels */
		double y = SVG_TOP + ph - ph * g / 4, x = SVG_LEFT + pw * g / 4;

		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
			"<text x=\"%d\" y=\"%.1f\" class=\"ylabel\">%.3g</text>"
			"<text x=\"%.1f\" y=\"%d\" class=\"xlabel\">%.1f s</text>\n", SVG_LEFT, y, SVG_LEFT + pw, y,
			SVG_LEFT - 6, y + 4, ymax * g / 4, x, SVG_H - SVG_BOTTOM + 18, tmax * g / 4);
	}
	fprintf(f, "<text x=\"12\" y=\"%.1f\" class=\"unit\" transform=\"rotate(-90 12 %.1f)\">%s</text>\n",
		SVG_TOP + ph / 2, SVG_TOP + ph / 2, unit);
	for (int i = 0; i < ns; i++) {
		fprintf(f, "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
			s_colours[i % N_COLOURS]);
		for (size_t t = 0; t < p->n_ticks; t++)
			fprintf(f, "%.1f,%.1f ", SVG_LEFT + pw * (p->ticks[t].t_ns / 1e9) / tmax,
				SVG_TOP + ph - ph * (s[i].y[t] / ymax));
		fprintf(f, "\"/>\n<rect x=\"%.0f\" y=\"%d\" width=\"14\" height=\"4\" fill=\"%s\"/>"
			"<text x=\"%.0f\" y=\"%d\" class=\"legend\">", SVG_LEFT + pw + 16, SVG_TOP + 18 * i + 4,
			s_colours[i % N_COLOURS], SVG_LEFT + pw + 36, SVG_TOP + 18 * i + 10);
		s_html_str(f, s[i].name);
		fputs("</text>\n", f);
	}
	fputs("</svg></figure>\n", f);
}

/* Where each instance's time went: a stacked bar per instance. */
static void s_svg_shares(FILE *f, const struct vhs_profiler *p)
{
	static const char *const parts[] = { "busy", "waiting for input", "blocked on output" };
	static const char *const fills[] = { "#d62728", "#1f77b4", "#ff7f0e" };
	int h = SVG_TOP + 24 * p->n_inst + 30;
	double pw = SVG_W - 160 - 40;

	fprintf(f, "<figure><svg id=\"shares\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" "
		"viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\">\n"
		"<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n"
		"<text x=\"%d\" y=\"20\" class=\"title\">Where each stage's time went</text>\n",
		SVG_W, h, SVG_W, h, SVG_W, h, SVG_LEFT);
	for (int i = 0; i < p->n_inst; i++) {
		struct vhs_prof_figures g;
		double share[3], x = 160;
		int y = SVG_TOP + 24 * i;

		vhs_profiler_figures(p, &p->inst[i], -1, &g);
		share[0] = g.busy;
		share[1] = g.wait_in;
		share[2] = g.wait_out;
		fprintf(f, "<text x=\"150\" y=\"%d\" class=\"ylabel\">%s</text>\n", y + 14, p->inst[i].name);
		for (int j = 0; j < 3; j++) {
			fprintf(f, "<rect class=\"bar\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\">"
				"<title>%s %.0f%%</title></rect>\n", x, y, pw * share[j], fills[j], parts[j],
				100 * share[j]);
			x += pw * share[j];
		}
	}
	for (int j = 0; j < 3; j++)
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"10\" fill=\"%s\"/>"
			"<text x=\"%d\" y=\"%d\" class=\"legend\">%s</text>\n", 160 + 200 * j, h - 20, fills[j],
			180 + 200 * j, h - 11, parts[j]);
	fputs("</svg></figure>\n", f);
}

static void s_html_charts(FILE *f, const struct vhs_profiler *p)
{
	struct series s[VHS_STAGE_KINDS + VHS_PLAN_MAX_EDGES];
	double ymax = 0;
	int ns = 0;

	for (int k = 0; k < VHS_PIPELINE_KINDS; k++) {
		if (!s_has_kind(p, k) || !(s[ns].y = calloc(p->n_ticks + 1, sizeof(double))))
			continue;
		s[ns].name = vhs_stage_name((enum vhs_stage_kind)k);
		for (size_t t = 0; t < p->n_ticks; t++) {
			s[ns].y[t] = s_tick_fps(p, k, t);
			ymax = s[ns].y[t] > ymax ? s[ns].y[t] : ymax;
		}
		ns++;
	}
	s_svg_lines(f, "throughput", "Throughput over time per stage (frames per second, 1 s window)", "fps",
		    p, s, ns, ymax);
	for (int i = 0; i < ns; i++)
		free(s[i].y);
	ns = 0;
	for (int e = 0; e < p->n_edges; e++) {
		if (!(s[ns].y = calloc(p->n_ticks + 1, sizeof(double))))
			continue;
		s[ns].name = p->edges[e].name;
		for (size_t t = 0; t < p->n_ticks; t++)
			s[ns].y[t] = 100.0 * p->ticks[t].full[e] / (p->edges[e].slots ? p->edges[e].slots : 1);
		ns++;
	}
	s_svg_lines(f, "rings", "Ring occupancy per edge (slots holding a frame)", "% full", p, s, ns, 100);
	for (int i = 0; i < ns; i++)
		free(s[i].y);
	s_svg_shares(f, p);
}

static void s_html(FILE *f, const struct vhs_profiler *p, const struct vhs_report_info *info, const char *table)
{
	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>vhs-orchestrate profile: ", f);
	s_html_str(f, info->job);
	fputs("</title>\n<style>\n"
	      "body { font: 14px/1.4 sans-serif; margin: 24px; color: #222; background: #fafafa; }\n"
	      "pre { background: #fff; border: 1px solid #ddd; padding: 12px; overflow-x: auto; }\n"
	      "figure { margin: 16px 0; } svg.chart { background: #fff; border: 1px solid #ddd; }\n"
	      ".title { font: bold 14px sans-serif; } .legend, .xlabel { font: 12px sans-serif; }\n"
	      ".ylabel { font: 12px sans-serif; text-anchor: end; } .xlabel { text-anchor: middle; }\n"
	      ".unit { font: 12px sans-serif; text-anchor: middle; } .grid { stroke: #e4e4e4; }\n"
	      "</style></head><body>\n<h1>Profile of ", f);
	s_html_str(f, info->job);
	fputs("</h1>\n<p>Made by <code>vhs-orchestrate profile</code>; the figures are in profile.json, "
	      "a slice per frame per stage in trace.json (Perfetto, chrome://tracing).</p>\n<pre>", f);
	s_html_str(f, table);
	fputs("</pre>\n", f);
	s_html_charts(f, p);
	fputs("</body></html>\n", f);
}

/* ---- files ---- */

/* Writes DIR/NAME through DIR/.NAME.tmp and a rename. */
static int s_write(const char *dir, const char *name, void (*fill)(FILE *, const void *), const void *arg,
		   char *err, size_t n)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8];
	FILE *f;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	if (!f) {
		ret = -errno;
		snprintf(err, n, "cannot write '%s': %s", tmp, strerror(errno));
		return ret;
	}
	fill(f, arg);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		ret = errno ? -errno : -EIO;
		snprintf(err, n, "cannot write '%s': %s", path, strerror(-ret));
		unlink(tmp);
	}
	return ret;
}

struct fill_args {
	const struct vhs_profiler *p;
	const struct vhs_report_info *info;
	const char *table;
};

static void s_fill_text(FILE *f, const void *a)
{
	fputs(((const struct fill_args *)a)->table, f);
}

static void s_fill_json(FILE *f, const void *a)
{
	s_json(f, ((const struct fill_args *)a)->p, ((const struct fill_args *)a)->info);
}

static void s_fill_trace(FILE *f, const void *a)
{
	s_trace(f, ((const struct fill_args *)a)->p);
}

static void s_fill_html(FILE *f, const void *a)
{
	const struct fill_args *x = a;

	s_html(f, x->p, x->info, x->table);
}

int vhs_report_write(const struct vhs_profiler *p, const struct vhs_report_info *info, const char *dir,
		     FILE *out, char *err, size_t n)
{
	struct fill_args a = { .p = p, .info = info };
	char *table = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&table, &len);
	int ret;

	if (!mem)
		return -ENOMEM;
	s_text(mem, p, info);
	if (fclose(mem))
		return -ENOMEM;
	a.table = table;
	if (out)
		fputs(table, out);
	ret = s_write(dir, "profile.txt", s_fill_text, &a, err, n);
	if (!ret)
		ret = s_write(dir, "profile.json", s_fill_json, &a, err, n);
	if (!ret)
		ret = s_write(dir, "trace.json", s_fill_trace, &a, err, n);
	if (!ret)
		ret = s_write(dir, "report.html", s_fill_html, &a, err, n);
	free(table);
	return ret;
}
