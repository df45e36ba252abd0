/* box.c - placeholder: runtime runc is refused until the container module lands. */
#include "box.h"
#include <errno.h>
#include <stdio.h>
int nc_box_create(const struct nc_box *b, char *err, size_t errlen) { (void)b; snprintf(err, errlen, "runtime runc is not built in yet: use runtime: process"); return -ENOTSUP; }
int nc_box_argv(const struct nc_box *b, const char **argv, size_t n) { (void)b; (void)argv; (void)n; return -ENOTSUP; }
int nc_box_destroy(const char *id, const char *dir) { (void)id; (void)dir; return 0; }
int nc_box_reap(const char *prefix) { (void)prefix; return 0; }
