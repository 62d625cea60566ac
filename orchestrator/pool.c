/* pool.c: segments in flight and the workers holding them (see pool.h). */
#include "pool.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vhs_pool_init(struct vhs_pool *p, const int workers[VHS_STAGE_KINDS], int max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
	p->flights = calloc((size_t)max, sizeof(*p->flights));
	if (!p->flights)
		return -ENOMEM;
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		p->workers[k] = workers[k];
		p->load[k] = calloc((size_t)(workers[k] > 0 ? workers[k] : 1), sizeof(int));
		p->arriving[k] = calloc((size_t)(workers[k] > 0 ? workers[k] : 1), sizeof(int));
		if (!p->load[k] || !p->arriving[k]) {
			vhs_pool_free(p);
			return -ENOMEM;
		}
	}
	return 0;
}

void vhs_pool_free(struct vhs_pool *p)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++) {
		free(p->load[k]);
		free(p->arriving[k]);
	}
	free(p->flights);
	memset(p, 0, sizeof(*p));
}

struct vhs_flight *vhs_pool_find(struct vhs_pool *p, uint32_t index)
{
	for (int i = 0; i < p->n; i++)
		if (p->flights[i].index == index)
			return &p->flights[i];
	return NULL;
}

struct vhs_flight *vhs_pool_start(struct vhs_pool *p, uint32_t index)
{
	struct vhs_flight *f;

	if (p->n == p->max || vhs_pool_find(p, index))
		return NULL;
	f = &p->flights[p->n++];
	memset(f, 0, sizeof(*f));
	f->index = index;
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		f->worker[k] = VHS_POOL_NONE;
	return f;
}

int vhs_pool_holder(struct vhs_pool *p, struct vhs_flight *f, int kind, const uint32_t *backlog)
{
	const int *arriving = p->arriving[kind], *load = p->load[kind];
	int best = 0;

	if (f->worker[kind] != VHS_POOL_NONE)
		return f->worker[kind];
	for (int i = 1; i < p->workers[kind]; i++) {
		int d = arriving[i] != arriving[best] ? arriving[i] - arriving[best] : load[i] - load[best];

		if (d < 0 || (d == 0 && backlog && backlog[i] < backlog[best]))
			best = i;
	}
	p->load[kind][best]++;
	p->arriving[kind][best]++;
	f->worker[kind] = best;
	return best;
}

/* The holder at kind has all of f's input (once). */
static void s_input_whole(struct vhs_pool *p, struct vhs_flight *f, int kind)
{
	if (f->worker[kind] == VHS_POOL_NONE || f->input_whole[kind])
		return;
	f->input_whole[kind] = true;
	p->arriving[kind][f->worker[kind]]--;
}

/* The holder at kind lets f go (once). */
static void s_let_go(struct vhs_pool *p, struct vhs_flight *f, int kind)
{
	if (f->worker[kind] == VHS_POOL_NONE || f->finished[kind])
		return;
	s_input_whole(p, f, kind);
	f->finished[kind] = true;
	p->load[kind][f->worker[kind]]--;
}

void vhs_pool_end_in(struct vhs_pool *p, struct vhs_flight *f, int kind, int ports)
{
	if (f->worker[kind] != VHS_POOL_NONE && ++f->ends_in[kind] >= ports)
		s_input_whole(p, f, kind);
}

bool vhs_pool_end(struct vhs_pool *p, struct vhs_flight *f, int kind, int ports)
{
	if (f->worker[kind] == VHS_POOL_NONE || f->finished[kind] || ++f->ends[kind] < ports)
		return false;
	s_let_go(p, f, kind);
	return true;
}

void vhs_pool_finish(struct vhs_pool *p, struct vhs_flight *f)
{
	for (int k = 0; k < VHS_STAGE_KINDS; k++)
		s_let_go(p, f, k);
	*f = p->flights[--p->n];
}

int vhs_pool_load(const struct vhs_pool *p, int kind, int instance)
{
	return p->load[kind][instance];
}
