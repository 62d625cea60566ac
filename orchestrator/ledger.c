/* ledger.c: the slot table (see ledger.h). */
#include "ledger.h"

#include <errno.h>
#include <stdlib.h>

int vhs_ledger_init(struct vhs_ledger *l, uint32_t slots, uint32_t quota)
{
	*l = (struct vhs_ledger){ .slots = slots, .quota = quota };
	if (!slots || !quota || slots % quota)
		return -EINVAL;
	l->owner = calloc(slots, sizeof(*l->owner));
	l->holder = malloc(slots * sizeof(*l->holder));
	if (!l->owner || !l->holder) {
		vhs_ledger_free(l);
		return -ENOMEM;
	}
	for (uint32_t s = 0; s < slots; s++)
		l->holder[s] = VHS_LEDGER_NOBODY;
	return 0;
}

void vhs_ledger_free(struct vhs_ledger *l)
{
	free(l->owner);
	free(l->holder);
	*l = (struct vhs_ledger){ 0 };
}

int vhs_ledger_producer(const struct vhs_ledger *l, uint32_t slot)
{
	return (int)(slot / l->quota);
}

bool vhs_ledger_holds(const struct vhs_ledger *l, uint32_t slot, enum vhs_slot_owner owner,
		      int holder)
{
	return slot < l->slots && l->owner[slot] == owner && l->holder[slot] == holder;
}

int vhs_ledger_grant(struct vhs_ledger *l, uint32_t slot, int holder)
{
	if (slot >= l->slots || l->owner[slot] != VHS_SLOT_FREE)
		return -EINVAL;
	l->owner[slot] = VHS_SLOT_PRODUCER;
	l->holder[slot] = holder;
	return 0;
}

int vhs_ledger_pass(struct vhs_ledger *l, uint32_t slot, int consumer)
{
	if (slot >= l->slots || l->owner[slot] != VHS_SLOT_PRODUCER)
		return -EINVAL;
	l->owner[slot] = VHS_SLOT_CONSUMER;
	l->holder[slot] = consumer;
	return 0;
}

void vhs_ledger_release(struct vhs_ledger *l, uint32_t slot)
{
	if (slot >= l->slots)
		return;
	l->owner[slot] = VHS_SLOT_FREE;
	l->holder[slot] = VHS_LEDGER_NOBODY;
}

uint32_t vhs_ledger_count(const struct vhs_ledger *l, enum vhs_slot_owner owner)
{
	uint32_t n = 0;

	for (uint32_t s = 0; l->owner && s < l->slots; s++)
		n += l->owner[s] == owner;
	return n;
}

void vhs_ledger_backlog(const struct vhs_ledger *l, int first, int n, uint32_t *counts)
{
	for (uint32_t s = 0; l->owner && s < l->slots; s++)
		if (l->owner[s] == VHS_SLOT_CONSUMER && l->holder[s] >= first && l->holder[s] < first + n)
			counts[l->holder[s] - first]++;
}

bool vhs_ledger_share_held(const struct vhs_ledger *l, int worker)
{
	uint32_t first = (uint32_t)worker * l->quota;

	if (!l->owner || first >= l->slots)
		return false;
	for (uint32_t s = first; s < first + l->quota; s++)
		if (l->owner[s] != VHS_SLOT_CONSUMER)
			return false;
	return true;
}
