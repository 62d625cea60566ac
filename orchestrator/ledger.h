/* ledger.h: who holds each slot of a ring: the orchestrator's slot table, kept apart from
 * any socket so that it can be tested alone (DESIGN.md, Data plane).
 *
 * A ring's slots are shared out among its producer workers, quota each: slot s belongs to
 * producer worker s / quota. A slot is FREE (with the orchestrator), with its PRODUCER
 * (granted, being filled) or with a CONSUMER (filled, being read), and held by one process
 * (an index the caller chooses; VHS_LEDGER_NOBODY when free). It moves only so:
 *
 *   FREE --grant--> PRODUCER --pass (FRAME/AUDIO)--> CONSUMER --release--> FREE
 *
 * and a process's claim on a slot (the slot in a record it sent) is checked against the
 * table before anything moves.
 */
#ifndef VHS_LEDGER_H
#define VHS_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#define VHS_LEDGER_NOBODY (-1)

enum vhs_slot_owner { VHS_SLOT_FREE, VHS_SLOT_PRODUCER, VHS_SLOT_CONSUMER };

struct vhs_ledger {
	uint32_t slots;       /* slots of the ring */
	uint32_t quota;       /* slots of each producer worker */
	uint8_t *owner;       /* enum vhs_slot_owner per slot */
	int *holder;          /* per slot: the process holding it, VHS_LEDGER_NOBODY when free */
};

/* Every slot free. Returns 0, -EINVAL (no slots, or a quota that does not divide them) or
 * -ENOMEM. */
int vhs_ledger_init(struct vhs_ledger *l, uint32_t slots, uint32_t quota);
void vhs_ledger_free(struct vhs_ledger *l);

/* The producer worker whose share slot is (slot / quota). */
int vhs_ledger_producer(const struct vhs_ledger *l, uint32_t slot);

/* Whether process holder holds slot as owner (a record's claim). */
bool vhs_ledger_holds(const struct vhs_ledger *l, uint32_t slot, enum vhs_slot_owner owner,
		      int holder);

/* FREE -> PRODUCER, held by holder. Returns 0, or -EINVAL when the slot is not free. */
int vhs_ledger_grant(struct vhs_ledger *l, uint32_t slot, int holder);

/* PRODUCER -> CONSUMER, held by consumer. Returns 0, or -EINVAL when no producer holds it. */
int vhs_ledger_pass(struct vhs_ledger *l, uint32_t slot, int consumer);

/* Back to FREE, from whoever held it. */
void vhs_ledger_release(struct vhs_ledger *l, uint32_t slot);

/* Slots with this owner. */
uint32_t vhs_ledger_count(const struct vhs_ledger *l, enum vhs_slot_owner owner);

/* Slots consumers hold, per consumer process first .. first + n - 1, added to counts[]. */
void vhs_ledger_backlog(const struct vhs_ledger *l, int first, int n, uint32_t *counts);

/* Whether consumers hold every slot of producer worker's share (it cannot go on). */
bool vhs_ledger_share_held(const struct vhs_ledger *l, int worker);

#endif
