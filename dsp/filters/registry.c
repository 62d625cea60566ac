/* registry.c: every filter of the project's own, the one list the chain looks names up in
 * (see native.h). A new filter is a file in this folder and a line here, and a row in
 * proto/filters.h's reach table. */
#include "native.h"

extern const struct vhs_native_filter vhs_native_chroma;
extern const struct vhs_native_filter vhs_native_decimate;
extern const struct vhs_native_filter vhs_native_headswitch;
extern const struct vhs_native_filter vhs_native_dropouts;
extern const struct vhs_native_filter vhs_native_mcdeint;

const struct vhs_native_filter *const vhs_native_filters[] = {
	&vhs_native_chroma,
	&vhs_native_decimate,
	&vhs_native_headswitch,
	&vhs_native_dropouts,
	&vhs_native_mcdeint,
	NULL,
};
