/* dirs.h: emptying the flat directories the orchestrator makes and owns (run dirs, a
 * profile's spool, an isolated run's scratch dir). */
#ifndef VHS_DIRS_H
#define VHS_DIRS_H

/* Unlinks every entry of dir (not recursive: these dirs hold only files). A missing dir is
 * not an error; nothing is reported, as this runs on the way out. */
void vhs_empty_dir(const char *dir);

#endif
