/* schedule.c: a chain per stretch of the tape (see schedule.h). */
#include "schedule.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void vhs_schedule_write(FILE *f, double from, double to, const char *chain)
{
	/* %.6f prints the infinities as "-inf" and "inf", which strtod reads back */
	fprintf(f, "%.6f %.6f ", from, to);
	for (const char *c = chain; *c; c++)
		fputc(*c == '\n' || *c == '\r' ? ' ' : *c, f);
	fputc('\n', f);
}

/* One "FROM TO CHAIN" line [line, end) into st. */
static int s_line(const char *line, const char *end, struct vhs_stretch *st)
{
	char *p;
	size_t len;

	st->from = strtod(line, &p);
	if (p == line || *p != ' ')
		return -EINVAL;
	line = p + 1;
	st->to = strtod(line, &p);
	if (p == line || *p != ' ' || !(st->from < st->to))
		return -EINVAL;
	line = p + 1;
	len = (size_t)(end - line);
	if (!len)
		return -EINVAL;
	st->chain = strndup(line, len);
	return st->chain ? 0 : -ENOMEM;
}

int vhs_schedule_parse(const char *text, struct vhs_schedule *out, char *err, size_t errlen)
{
	size_t cap = 1, line_no = 0;
	const char *line = text;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!text || !*text)
		return 0;
	for (const char *c = text; *c; c++)
		cap += *c == '\n';
	out->s = calloc(cap, sizeof(*out->s));
	if (!out->s)
		return -ENOMEM;
	while (!ret && *line) {
		const char *end = strchrnul(line, '\n');
		struct vhs_stretch *st = &out->s[out->n];

		line_no++;
		ret = s_line(line, end, st);
		if (!ret && ++out->n > 1 && st->from < st[-1].to)
			ret = -EINVAL;
		line = *end ? end + 1 : end;
	}
	if (ret == -EINVAL)
		snprintf(err, errlen, "schedule line %zu is not 'FROM TO CHAIN' in order", line_no);
	if (ret)
		vhs_schedule_free(out);
	return ret;
}

const char *vhs_schedule_pick(const struct vhs_schedule *s, double start, double end, const char *def)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->s[i].from <= start && end <= s->s[i].to)
			return s->s[i].chain;
	return def;
}

void vhs_schedule_free(struct vhs_schedule *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->s[i].chain);
	free(s->s);
	memset(s, 0, sizeof(*s));
}
