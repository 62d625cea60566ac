/* restart.c: the restart policy (see restart.h). */
#include "restart.h"

#include <string.h>

void vhs_restart_init(struct vhs_restart *r, int limit, double window_s)
{
	memset(r, 0, sizeof(*r));
	r->limit = limit < 0 ? 0 : limit > VHS_RESTART_MAX_LIMIT ? VHS_RESTART_MAX_LIMIT : limit;
	r->window_ns = window_s > 0 ? (uint64_t)(window_s * 1e9) : 0;
}

/* Forgets crashes that left the window. */
static void s_expire(struct vhs_restart *r, uint64_t now)
{
	int keep = 0;

	for (int i = 0; i < r->n; i++)
		if (now - r->at[i] < r->window_ns)
			r->at[keep++] = r->at[i];
	r->n = keep;
}

int vhs_restart_recent(const struct vhs_restart *r, uint64_t now_ns)
{
	int n = 0;

	for (int i = 0; i < r->n; i++)
		n += now_ns - r->at[i] < r->window_ns;
	return n;
}

bool vhs_restart_crashed(struct vhs_restart *r, uint64_t now_ns, uint64_t *delay_ns)
{
	uint64_t delay = VHS_RESTART_BACKOFF_MIN_NS;

	s_expire(r, now_ns);
	if (r->n >= r->limit)
		return false; /* this would be restart number limit + 1 within the window */
	r->at[r->n++] = now_ns;
	for (int i = 1; i < r->n && delay < VHS_RESTART_BACKOFF_MAX_NS; i++)
		delay *= 2;
	*delay_ns = delay < VHS_RESTART_BACKOFF_MAX_NS ? delay : VHS_RESTART_BACKOFF_MAX_NS;
	return true;
}
