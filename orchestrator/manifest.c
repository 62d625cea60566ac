/* manifest.c: the resume journal (see manifest.h). */
#include "manifest.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tempfile.h"
#include "toml.h"

/* Settings that may differ between a run and its resume without changing the output. */
static const char *const s_free_keys[] = { "stages.", "run.temp_dir=", "run.ring_slots=",
					   "run.max_memory=", "run.restart_limit=",
					   "run.restart_window=", "run.gpu_edges=", NULL };

uint64_t vhs_manifest_fingerprint(const char *settings)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a offset basis */
	const char *line = settings;

	while (line && *line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
		int skip = 0;

		for (int i = 0; s_free_keys[i]; i++)
			skip |= !strncmp(line, s_free_keys[i], strlen(s_free_keys[i]));
		for (size_t i = 0; !skip && i < len; i++)
			h = (h ^ (uint8_t)line[i]) * 0x100000001b3ull;
		line += len;
	}
	return h;
}

int vhs_manifest_add(struct vhs_manifest *m, const struct vhs_manifest_segment *s)
{
	size_t at = 0;
	struct vhs_manifest_segment *n;

	while (at < m->n_done && m->done[at].index < s->index)
		at++;
	if (at < m->n_done && m->done[at].index == s->index) {
		m->done[at] = *s;
		return 0;
	}
	n = realloc(m->done, (m->n_done + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	memmove(n + at + 1, n + at, (m->n_done - at) * sizeof(*n));
	n[at] = *s;
	m->done = n;
	m->n_done++;
	return 0;
}

bool vhs_manifest_has(const struct vhs_manifest *m, uint32_t index)
{
	for (size_t i = 0; i < m->n_done; i++)
		if (m->done[i].index == index)
			return true;
	return false;
}

void vhs_manifest_free(struct vhs_manifest *m)
{
	free(m->done);
	memset(m, 0, sizeof(*m));
}

int vhs_manifest_save(const struct vhs_manifest *m, const char *dir, const char *name)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int ret;

	if (!f)
		return -errno;
	fprintf(f, "# vhs-orchestrate manifest: written by the orchestrator, do not edit\n"
		   "version = %d\nfingerprint = \"%016" PRIx64 "\"\ninput_size = %" PRIu64 "\n"
		   "input_mtime_ns = %" PRId64 "\nsegments_total = %" PRIu32 "\n",
		VHS_MANIFEST_VERSION, m->fingerprint, m->input_size, m->input_mtime_ns,
		m->segments_total);
	if (m->auto_interlaced[0])
		fprintf(f, "auto_interlaced = \"%s\"\n", m->auto_interlaced);
	for (size_t i = 0; i < m->n_done; i++) {
		const struct vhs_manifest_segment *s = &m->done[i];

		fprintf(f, "\n[[segment]]\nindex = %" PRIu32 "\nframes = %" PRId64 "\n"
			   "samples = %" PRId64 "\nfile = \"%s\"\nbytes = %" PRIu64 "\n",
			s->index, s->frames, s->samples, s->file, s->bytes);
	}
	if (fclose(f))
		ret = -errno;
	else
		ret = vhs_tempfile_put(dir, name, text, len);
	free(text);
	return ret;
}

/* ---- loading: every field checked, nothing half-trusted ---- */

struct loader {
	const char *path;
	char *err;
	size_t errlen;
};

static int s_bad(struct loader *l, const char *what)
{
	snprintf(l->err, l->errlen, "%s: damaged manifest: %s", l->path, what);
	return -EINVAL;
}

/* A non-negative integer key of table t. */
static int s_int(struct loader *l, const struct toml_value *t, const char *key, int64_t *out)
{
	const struct toml_value *v = toml_get(t, key);
	char what[96];

	if (!v || v->type != TOML_INTEGER || v->u.i < 0) {
		snprintf(what, sizeof(what), "'%s' missing or not a non-negative integer", key);
		return s_bad(l, what);
	}
	*out = v->u.i;
	return 0;
}

static int s_fingerprint(struct loader *l, const struct toml_value *root, uint64_t *out)
{
	const struct toml_value *v = toml_get(root, "fingerprint");
	char *end;

	if (!v || v->type != TOML_STRING || v->len != 16)
		return s_bad(l, "'fingerprint' missing or not 16 hex digits");
	*out = strtoull(v->u.s, &end, 16);
	return *end ? s_bad(l, "'fingerprint' is not hexadecimal") : 0;
}

static int s_segment(struct loader *l, struct vhs_manifest *m, const struct toml_value *t)
{
	struct vhs_manifest_segment s = { 0 };
	const struct toml_value *file = toml_get(t, "file");
	int64_t index, bytes;
	int ret;

	if (t->type != TOML_TABLE)
		return s_bad(l, "a [[segment]] is not a table");
	ret = s_int(l, t, "index", &index);
	if (!ret)
		ret = s_int(l, t, "samples", &s.samples);
	if (!ret)
		ret = s_int(l, t, "frames", &s.frames);
	if (!ret)
		ret = s_int(l, t, "bytes", &bytes);
	if (ret)
		return ret;
	if (!file || file->type != TOML_STRING || !file->len || file->len >= sizeof(s.file) ||
	    strchr(file->u.s, '/') || file->u.s[0] == '.')
		return s_bad(l, "a segment 'file' is missing or not a plain file name");
	if (m->segments_total && index >= m->segments_total)
		return s_bad(l, "a segment index is beyond segments_total");
	s.index = (uint32_t)index;
	s.bytes = (uint64_t)bytes;
	memcpy(s.file, file->u.s, file->len + 1);
	if (vhs_manifest_has(m, s.index))
		return s_bad(l, "a segment is listed twice");
	return vhs_manifest_add(m, &s);
}

static int s_fill(struct loader *l, struct vhs_manifest *m, const struct toml_value *root)
{
	const struct toml_value *segs = toml_get(root, "segment"), *v;
	int64_t version, size, total;
	int ret = s_int(l, root, "version", &version);

	if (!ret && version != VHS_MANIFEST_VERSION)
		return s_bad(l, "unknown version");
	if (!ret)
		ret = s_fingerprint(l, root, &m->fingerprint);
	if (!ret)
		ret = s_int(l, root, "input_size", &size);
	if (!ret)
		ret = s_int(l, root, "input_mtime_ns", &m->input_mtime_ns);
	if (!ret)
		ret = s_int(l, root, "segments_total", &total);
	if (!ret && (v = toml_get(root, "auto_interlaced"))) { /* optional: older runs lack it */
		if (v->type != TOML_STRING || (strcmp(v->u.s, "mc") && strcmp(v->u.s, "bwdif")))
			return s_bad(l, "'auto_interlaced' is not \"mc\" or \"bwdif\"");
		snprintf(m->auto_interlaced, sizeof(m->auto_interlaced), "%s", v->u.s);
	}
	if (ret)
		return ret;
	if (total > UINT32_MAX)
		return s_bad(l, "segments_total out of range");
	m->input_size = (uint64_t)size;
	m->segments_total = (uint32_t)total;
	if (segs && segs->type != TOML_ARRAY)
		return s_bad(l, "'segment' is not an array of tables");
	for (size_t i = 0; segs && !ret && i < segs->u.arr.n; i++)
		ret = s_segment(l, m, segs->u.arr.items[i]);
	return ret;
}

int vhs_manifest_load(struct vhs_manifest *m, const char *path, char *err, size_t errlen)
{
	struct loader l = { path, err, errlen };
	struct toml_value *root = NULL;
	int ret = toml_parse_file(path, &root, err, errlen);

	memset(m, 0, sizeof(*m));
	if (ret == -ENOENT)
		return ret;
	if (ret) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "damaged manifest: %s", why);
		return -EINVAL;
	}
	ret = s_fill(&l, m, root);
	toml_free(&root);
	if (ret)
		vhs_manifest_free(m);
	return ret;
}
