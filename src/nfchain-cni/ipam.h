/* ipam.h - delegation to an IPAM plugin (the spec's "delegated plugins"):
 * the plugin named by ipam.type is looked up in CNI_PATH and run with our
 * environment (CNI_COMMAND replaced by @cmd) and our stdin, unchanged.
 */
#ifndef CNI_IPAM_H
#define CNI_IPAM_H

#include "cni.h"

/* Run the IPAM plugin with command @cmd ("ADD", "DEL", "CHECK") over the
 * configuration text @conf (@len bytes). On success returns 0 and, for an
 * ADD, *result (the caller puts it; NULL for other commands). On failure
 * returns -1 with @e: the plugin's own error result when it wrote one
 * (its code, msg and details), else code 103 (not found in CNI_PATH, not
 * runnable, output not JSON). */
int cni_ipam_exec(const struct cni_conf *c, const char *cmd, const char *conf,
		  size_t len, struct json_object **result, struct cni_err *e);

#endif
