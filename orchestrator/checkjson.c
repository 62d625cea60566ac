/* checkjson.c: `vhs-orchestrate check --json`, what `check` prints as one JSON object (see
 * checkjson.h). */
#include "checkjson.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "schedule.h"

/* "key=value" lines into obj: numbers as numbers, the rest as strings; keys with a prefix
 * listed in skip are left out. */
static void s_kv_lines(cJSON *obj, const char *text, const char *skip)
{
	const char *line = text;

	while (line && *line) {
		const char *nl = strchr(line, '\n'), *eq = memchr(line, '=', nl ? (size_t)(nl - line) : strlen(line));
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (eq && !(skip && !strncmp(line, skip, strlen(skip)))) {
			char *key = strndup(line, (size_t)(eq - line)), *val = strndup(eq + 1, len - (size_t)(eq - line) - 1);
			char *end;
			double v = val ? strtod(val, &end) : 0;

			if (key && val && *val && !*end)
				cJSON_AddNumberToObject(obj, key, v);
			else if (key && val)
				cJSON_AddStringToObject(obj, key, val);
			free(key);
			free(val);
		}
		line = nl ? nl + 1 : NULL;
	}
}

/* The analysis's sampled runs ("run.I=SECONDS KIND ORDER") as an array. */
static cJSON *s_runs(const char *text)
{
	cJSON *runs = cJSON_CreateArray();
	const char *at = text;

	while (runs && at && (at = strstr(at, "\nrun.")) != NULL) {
		double start;
		char kind[32], order[32];
		cJSON *r;

		at = strchr(at, '=');
		if (!at || sscanf(at + 1, "%lf %31s %31s", &start, kind, order) != 3)
			break;
		r = cJSON_CreateObject();
		cJSON_AddNumberToObject(r, "start", start);
		cJSON_AddStringToObject(r, "scan", kind);
		cJSON_AddStringToObject(r, "field_order", order);
		cJSON_AddItemToArray(runs, r);
	}
	return runs;
}

/* A bound of a stretch: seconds, or null where it is open. */
static cJSON *s_bound(double t)
{
	return isinf(t) ? cJSON_CreateNull() : cJSON_CreateNumber(t);
}

/* The chain per stretch (schedule.h) as [{from, to, chain}], or null when there is none. */
static cJSON *s_schedule(const char *text)
{
	struct vhs_schedule sched;
	cJSON *arr;
	char err[128];

	if (!text || vhs_schedule_parse(text, &sched, err, sizeof(err)))
		return cJSON_CreateNull();
	arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < sched.n; i++) {
		cJSON *o = cJSON_CreateObject();

		cJSON_AddItemToObject(o, "from", s_bound(sched.s[i].from));
		cJSON_AddItemToObject(o, "to", s_bound(sched.s[i].to));
		cJSON_AddStringToObject(o, "chain", sched.s[i].chain);
		cJSON_AddItemToArray(arr, o);
	}
	vhs_schedule_free(&sched);
	return arr;
}

/* The text's lines as an array of strings. */
static cJSON *s_lines(const char *text)
{
	cJSON *a = cJSON_CreateArray();

	for (const char *line = text; a && line && *line;) {
		const char *nl = strchr(line, '\n');
		char *s = strndup(line, nl ? (size_t)(nl - line) : strlen(line));

		if (s)
			cJSON_AddItemToArray(a, cJSON_CreateString(s));
		free(s);
		line = nl ? nl + 1 : NULL;
	}
	return a;
}

/* One choice line, "topic: what was found -> what it leads to", as an object. */
static cJSON *s_choice(const char *line)
{
	cJSON *c = cJSON_CreateObject();
	const char *colon = strstr(line, ": ");
	char *topic = colon ? strndup(line, (size_t)(colon - line)) : NULL;

	cJSON_AddStringToObject(c, "topic", topic ? topic : "");
	cJSON_AddStringToObject(c, "says", colon ? colon + 2 : line);
	free(topic);
	return c;
}

int vhs_check_json(const struct vhs_check_report *r, FILE *out)
{
	cJSON *root = cJSON_CreateObject(), *analysis, *choices, *settings, *size;
	char *kv = vhs_job_to_kv(r->job), *text;
	int ret = 0;

	if (!root || !kv) {
		ret = -ENOMEM;
		goto out_free;
	}
	cJSON_AddStringToObject(root, "job", r->job->path);
	cJSON_AddStringToObject(root, "input", r->job->input);
	cJSON_AddStringToObject(root, "output", r->job->output);
	cJSON_AddItemToObject(root, "probe", s_lines(r->probe));
	settings = cJSON_AddObjectToObject(root, "settings");
	s_kv_lines(settings, kv, NULL);
	if (r->analysis) {
		analysis = cJSON_AddObjectToObject(root, "video_analysis");
		cJSON_AddStringToObject(analysis, "summary", r->analysis_line);
		s_kv_lines(analysis, r->analysis, "run");
		cJSON_AddItemToObject(analysis, "runs", s_runs(r->analysis));
	} else {
		cJSON_AddNullToObject(root, "video_analysis");
	}
	choices = cJSON_AddArrayToObject(root, "video_choices");
	for (int i = 0; i < r->choice->n_lines; i++)
		cJSON_AddItemToArray(choices, s_choice(r->choice->lines[i]));
	cJSON_AddStringToObject(root, "preprocess_chain", r->choice->chain);
	cJSON_AddItemToObject(root, "preprocess_schedule", s_schedule(r->choice->schedule));
	size = cJSON_AddObjectToObject(root, "upscale");
	cJSON_AddNumberToObject(size, "width", r->choice->width);
	cJSON_AddNumberToObject(size, "height", r->choice->height);
	cJSON_AddItemToObject(root, "plan", s_lines(r->plan));
	text = cJSON_Print(root);
	if (!text) {
		ret = -ENOMEM;
		goto out_free;
	}
	fprintf(out, "%s\n", text);
	free(text);
out_free:
	free(kv);
	cJSON_Delete(root);
	return ret;
}
