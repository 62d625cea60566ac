/* recording.h: the recording of a stage's input, made for `profile --stage NAME` (CONFIG's
 * profile.spool = DIR) and played back into the stage alone (orchestrator/replay.c). The
 * stage runtime writes it (runtime/runtime.c) through the temp writer to DIR/spool.INSTANCE,
 * committed when the stage finishes.
 *
 * FORMAT
 * A series of entries, all integers little endian:
 *   <len:u32> <record: len bytes, proto.h's packing> <data_len:u32> <data: data_len bytes>
 * First the CONFIG the stage was given (no data), then an ATTACH carrying its segments count
 * (no data), then the input records in the order the stage handled them: FRAME and AUDIO
 * with their slot's first `bytes` bytes as data, SEGMENT markers and EOS without.
 */
#ifndef VHS_RECORDING_H
#define VHS_RECORDING_H

#include <stdint.h>
#include <stdio.h>

#include "proto.h"

/* The recording's file name for stage instance, in buf (as snprintf). */
int vhs_recording_name(char *buf, size_t len, unsigned instance);

/* Bytes vhs_recording_pack() needs for m. */
size_t vhs_recording_head_size(const struct vhs_msg *m);

/* Packs an entry's head, <len><record><data_len>, into buf (cap bytes; the data follows it
 * in the file). Returns its length, or a negative errno (-ENOSPC, -EINVAL). */
int vhs_recording_pack(const struct vhs_msg *m, uint32_t data_len, uint8_t *buf, size_t cap);

/* Reads the next entry's head from f into *m and *data_len, leaving f at its data. A CONFIG's
 * settings point into a buffer handed to *blob (malloc'd; free it once m is done with); where
 * blob is NULL a CONFIG is refused as damage. Returns 1, 0 at the end of the recording,
 * -EPROTO for a damaged one, or -ENOMEM. */
int vhs_recording_read(FILE *f, struct vhs_msg *m, uint32_t *data_len, uint8_t **blob);

#endif
