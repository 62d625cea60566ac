/* filters.c: walking filter chains and the reach table (see filters.h). */
#include "filters.h"

#include <string.h>

const struct vhs_filter_reach vhs_filter_reaches[] = {
	/* temporal: deinterlacers and field matching see the frame either side */
	{ "bwdif", 1, 1, false }, { "yadif", 1, 1, false }, { "w3fdif", 1, 1, false },
	{ "estdif", 1, 1, false }, { "fieldmatch", 1, 1, false },
	{ "fps", 1, 1, false },
	{ "hqdn3d", -1, 0, false }, { "tmix", -1, 0, false }, { "atadenoise", -1, -1, false },
	{ "deflicker", -1, -1, false },
	/* spatial: each output frame depends on its own input frame only */
	{ "eq", 0, 0, false }, { "crop", 0, 0, false }, { "scale", 0, 0, false },
	{ "drawbox", 0, 0, false }, { "format", 0, 0, false }, { "setsar", 0, 0, false },
	{ "setdar", 0, 0, false }, { "setfield", 0, 0, false }, { "setparams", 0, 0, false },
	{ "null", 0, 0, false }, { "pad", 0, 0, false }, { "hflip", 0, 0, false },
	{ "vflip", 0, 0, false }, { "nlmeans", 0, 0, false }, { "unsharp", 0, 0, false },
	{ "gblur", 0, 0, false }, { "boxblur", 0, 0, false }, { "removegrain", 0, 0, false },
	{ "colorspace", 0, 0, false }, { "colorbalance", 0, 0, false },
	{ "colorlevels", 0, 0, false }, { "curves", 0, 0, false }, { "hue", 0, 0, false },
	{ "lutyuv", 0, 0, false }, { "chromashift", 0, 0, false }, { "smartblur", 0, 0, false },
	{ "vaguedenoiser", 0, 0, false },
	/* the project's own (dsp/filters/) */
	{ "vhs_chroma", 0, 0, true },
	{ "vhs_decimate", 5, 4, true },
	{ "vhs_headswitch", 0, 0, true },
	{ "vhs_dropouts", 1, 1, true },
	{ "vhs_mcdeint", 1, 1, true },
	{ NULL, 0, 0, false },
};

const struct vhs_filter_reach *vhs_filter_reach_find(const char *name)
{
	for (const struct vhs_filter_reach *r = vhs_filter_reaches; r->name; r++)
		if (!strcmp(r->name, name))
			return r;
	return NULL;
}

/* The end of the item starting at c: the ',' or ';' outside quotes that ends it, or the
 * terminator. Labels are part of the item. */
static const char *s_item_end(const char *c)
{
	int quote = 0;

	for (; *c; c++) {
		if (*c == '\\' && c[1])
			c++;
		else if (*c == '\'')
			quote = !quote;
		else if (!quote && (*c == ',' || *c == ';'))
			break;
	}
	return c;
}

/* Fills it from the item [c, end): labels skipped, the name up to '=' or '@'. */
static void s_item(const char *c, const char *end, bool graph, struct vhs_chain_item *it)
{
	size_t n = 0;

	it->simple = !graph;
	while (c < end && (*c == ' ' || *c == '[')) { /* leading labels */
		if (*c == '[') {
			it->simple = false;
			while (c < end && *c != ']')
				c++;
		}
		c++;
	}
	while (end > c && (end[-1] == ' ' || end[-1] == ']')) { /* trailing labels */
		if (end[-1] == ']') {
			const char *open = end - 1;

			while (open > c && *open != '[')
				open--;
			if (*open != '[')
				break;
			it->simple = false;
			end = open;
		} else {
			end--;
		}
	}
	it->text = c;
	it->len = (size_t)(end - c);
	it->args = NULL;
	for (; c < end && *c != '=' && *c != '@'; c++)
		if (n + 1 < sizeof(it->name))
			it->name[n++] = *c;
	it->name[n] = '\0';
	if (c < end && *c == '@')
		while (c < end && *c != '=')
			c++;
	if (c < end && *c == '=')
		it->args = c + 1;
}

void vhs_chain_each_filter(const char *chain, void (*fn)(const struct vhs_chain_item *it, void *arg),
			   void *arg)
{
	bool graph = false; /* several chains, ';'-separated */
	const char *c;

	for (c = chain ? chain : ""; *c; c++)
		if (*(c = s_item_end(c)) == ';')
			graph = true;
		else if (!*c)
			break;
	for (c = chain ? chain : ""; *c;) {
		const char *end = s_item_end(c);
		struct vhs_chain_item it;

		s_item(c, end, graph, &it);
		if (it.name[0])
			fn(&it, arg);
		c = *end ? end + 1 : end;
	}
}
