/* manifest.h: the resume journal of a run (issue 3: segments and --resume).
 *
 * DESIGN
 * The manifest lists the segments whose encoded file is complete in the temp dir. It is a
 * small TOML file, read back with the project's own parser, and always replaced whole
 * through the temp writer (temp name, fsync, rename, directory fsync): after a crash it
 * is either the previous version or the new one, never a torn mix.
 *
 *   # vhs-orchestrate manifest: written by the orchestrator, do not edit
 *   version = 1
 *   fingerprint = "9c1f0e7a5b3d2c11"   # the settings that shape the output
 *   input_size = 18979228              # bytes, and modification time in ns, of the input
 *   input_mtime_ns = 1764014523000000000
 *   segments_total = 3                 # 0 while the end of the input is not reached yet
 *   auto_interlaced = "mc"             # what deinterlace "auto" took for interlaced video
 *
 *   [[segment]]
 *   index = 0
 *   frames = 600                       # output video frames in it
 *   samples = 480480                   # audio samples (per channel) in its spool
 *   file = "v000000.vseg"              # in the work dir; the audio spool is a000000.pcm
 *   bytes = 51788823                   # of both files
 *
 * A resumed run that finds another fingerprint or another input refuses to continue
 * unless told to start over (--restart).
 */
#ifndef VHS_MANIFEST_H
#define VHS_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VHS_MANIFEST_VERSION 1

struct vhs_manifest_segment {
	uint32_t index;         /* segment number, from 0 */
	int64_t frames;         /* output video frames */
	int64_t samples;        /* audio samples per channel */
	char file[64];          /* file name in the temp dir */
	uint64_t bytes;         /* its size */
};

struct vhs_manifest {
	uint64_t fingerprint;           /* vhs_manifest_fingerprint() of the settings */
	uint64_t input_size;            /* bytes */
	int64_t input_mtime_ns;         /* modification time */
	uint32_t segments_total;        /* segments the timeline is cut into; 0 = not known yet */
	char auto_interlaced[8];        /* what deinterlace "auto" took for interlaced video
					 * ("mc", "bwdif"; "": not recorded, a run of an older
					 * version, which took bwdif) */
	struct vhs_manifest_segment *done; /* complete segments, ascending index */
	size_t n_done;
};

/* Hash (FNV-1a, 64 bits) of the "section.key=value" settings that shape the output:
 * everything except [stages.*] worker counts and [run] temp_dir, ring_slots,
 * restart_limit and restart_window, which may
 * change between a run and its resume without changing a single output bit. */
uint64_t vhs_manifest_fingerprint(const char *settings);

/* Reads DIR/NAME. Returns 0, -ENOENT when there is none, or -EINVAL with one line in err
 * (a damaged manifest is never half-trusted). */
int vhs_manifest_load(struct vhs_manifest *m, const char *path, char *err, size_t errlen);

/* Replaces DIR/NAME with m, atomically. Returns 0 or -errno. */
int vhs_manifest_save(const struct vhs_manifest *m, const char *dir, const char *name);

/* Records a complete segment (replacing an entry of the same index). 0 or -ENOMEM. */
int vhs_manifest_add(struct vhs_manifest *m, const struct vhs_manifest_segment *s);

bool vhs_manifest_has(const struct vhs_manifest *m, uint32_t index);

void vhs_manifest_free(struct vhs_manifest *m);

#endif
