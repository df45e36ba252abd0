/* box.h - replicas as runc containers: placeholder until the box module lands (runtime: runc refused) */
#ifndef NC_BOX_H
#define NC_BOX_H
#include <stddef.h>
#include <stdint.h>
#define NC_BOX_SOCK   "/run/nfchain/sw.sock"
#define NC_BOX_CTLDIR "/run/nfchain/ctl"
#define NC_BOX_CONF   "/etc/nfchain/vnf.conf"
struct nc_box {
	const char *id, *dir, *prog;
	const char *const *args;
	const char *conf, *sock, *ctldir;
	unsigned cpu_milli;
	uint64_t mem_bytes;
	const char *cpus;
};
int nc_box_create(const struct nc_box *b, char *err, size_t errlen);
int nc_box_argv(const struct nc_box *b, const char **argv, size_t n);
int nc_box_destroy(const char *id, const char *dir);
int nc_box_reap(const char *prefix);
#endif
