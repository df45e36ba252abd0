/* spec.h - the service description file: what a deployment should be.
 *
 * nc_spec_load() reads a YAML file (libyaml), checks every key against
 * the table in spec.c (types, ranges, references between sections) and
 * returns the description, or one error "FILE:LINE: KEY: reason" and
 * nothing. docs/ORCHESTRATOR.md is the schema.
 */
#ifndef NC_SPEC_H
#define NC_SPEC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NC_NAME_MAX	15	/* deployment, VNF, port and chain names */
#define NC_VNF_MAX	16	/* VNF types */
#define NC_REPLICA_MAX	16	/* replicas of one type (End.AD's member limit) */
#define NC_XPORT_MAX	16	/* ports where traffic enters and leaves */
#define NC_CHAIN_MAX	16
#define NC_HOPS_MAX	8	/* VNFs in one chain (the ToS bitmap has 8 bits) */
#define NC_FILE_MAX	8	/* extra files of one VNF type */
#define NC_TENANT_MAX	16	/* tenants of the portal */
#define NC_HASH_MAX	128	/* a crypt(3) password hash */
#define NC_NODE_NAME	63	/* a node's name (a host name: a-z, 0-9, '-', '.') */
#define NC_NODE_MAX	64	/* nodes one deployment's file names (cluster.nodes) */
#define NC_LABEL_MAX	8	/* labels a placement asks for */

enum nc_runtime { NC_RT_RUNC, NC_RT_PROCESS };
enum nc_steer { NC_ST_SRV6, NC_ST_TOS };
enum nc_restart { NC_RS_ALWAYS, NC_RS_ON_FAILURE, NC_RS_NEVER };

struct nc_file {
	char name[64];		/* a plain file name, written next to vnf.conf */
	char *text;
};

/* vnfs.NAME.scale: autoscaling (scale.h); on is false without it. */
struct nc_scale {
	bool on;
	unsigned min, max;	/* replicas; min 0: started by its first frame */
	uint64_t target_pps;	/* frames/s per replica; 0: not a target */
	unsigned target_busy;	/* busy fraction per replica, thousandths; 0: not a target */
	unsigned target_queue;	/* receive ring fill, thousandths; 0: not a target */
	unsigned cooldown_ms;	/* at most one change per cooldown */
	unsigned idle_ms;	/* min 0: no traffic this long -> no replica */
	unsigned drain_ms;	/* a replica scaled in keeps its flows this long at most */
	unsigned hold;		/* min 0: frames the switch holds while one starts */
};

/* chains.NAME.slo: the service level the chain declares (0: none). */
struct nc_slo {
	uint64_t latency_us;	/* latency-p99 */
	uint64_t min_pps;	/* min-throughput */
	uint64_t max_loss_ppm;	/* max-loss, parts per million; UINT64_MAX: none */
	bool on;
};

struct nc_vnf {
	char name[NC_NAME_MAX + 1];
	char program[256];	/* resolved to an absolute path */
	char port[2][NC_NAME_MAX + 1];	/* [0] takes the chain's traffic in */
	char *config;		/* directives; nfchain adds the port lines */
	int config_line;	/* the file's line of the config's first line */
	struct nc_file file[NC_FILE_MAX];
	unsigned nfiles;
	unsigned replicas;
	unsigned cpu_milli;	/* 0: no limit */
	uint64_t memory;	/* bytes, 0: no limit */
	struct nc_scale scale;
	bool replicas_set;	/* replicas given in the file */
	/* placement: where the controller may put this type's replicas */
	char pin[NC_NODE_NAME + 1];	/* placement.node: "" any */
	char label[NC_LABEL_MAX][NC_NAME_MAX + 1];	/* placement.labels: all needed */
	unsigned nlabel;
	char anti_name[NC_VNF_MAX][NC_NAME_MAX + 1];	/* placement.anti-affinity */
	unsigned nanti;
	uint32_t anti;		/* the same as bits: bit v, VNF type v */
	int node;		/* cluster: index in nc_spec.node, -1 without one */
	bool remote;		/* cluster: on another node (no replica here) */
	int line;
};

struct nc_xport {
	char name[NC_NAME_MAX + 1];
	bool is_memif;
	unsigned memif_id;	/* a client (a generator, another node) connects here */
	char ifname[16];	/* or a host interface */
	char spec[64];		/* or a port spec (the cluster's uplink: afxdp:IF) */
	char pin[NC_NODE_NAME + 1];	/* node: the node it is on, "" any */
	int node;		/* cluster: index in nc_spec.node, -1 without one */
	bool remote;		/* cluster: on another node (not opened here) */
	int line;
};

struct nc_chain {
	char name[NC_NAME_MAX + 1];
	enum nc_steer steering;
	int from, to;		/* nc_xport indices */
	char match[512];	/* the classifier: nfswitch rule matches */
	char return_match[512];	/* the way back (srv6): "" for none */
	uint8_t to_mac[6], from_mac[6];	/* destination MAC out of to / from */
	int vnf[NC_HOPS_MAX];
	unsigned nvnf;
	struct nc_slo slo;
	int line;
};

#define NC_ADDR_MAX	64	/* "[v6]:port" addresses */

/* A tenant of the portal (docs/ORCHESTRATOR.md "Tenants"): its traffic
 * (match, return-match) visits the VNFs of its chain it picked. Bit j of
 * services/allowed is the chain's VNF j. */
struct nc_tenant {
	char name[NC_NAME_MAX + 1];
	char password[NC_HASH_MAX];	/* crypt(3) hash */
	int chain;			/* nc_chain index */
	char match[512];		/* outbound traffic: nfswitch rule matches */
	char return_match[512];		/* inbound, "" for none */
	uint8_t services;		/* now (changed live by the portal) */
	uint8_t allowed;		/* what the tenant may pick */
	int line;
};

/* A node of a deployment spread over several (cluster.nodes): written by
 * the node agent from the controller's placement (docs/CLUSTER.md). */
struct nc_node {
	char name[NC_NODE_NAME + 1];
	uint8_t locator[16];	/* its SIDs: locator, chain number, function */
	unsigned plen;		/* 16..96 */
	char uplink[64];	/* the switch's port to the underlay (afxdp:IF) */
	uint8_t gateway[6];	/* the underlay router's MAC on it */
	char kernel[64];	/* "" or a port to the node's kernel (afpacket:IF):
				 * what the underlay sends that is not a SID
				 * (NDP, routing protocols) goes there, and back */
};

struct nc_spec {
	char file[256];		/* as given */
	char dir[256];		/* the file's directory: relative paths start here */
	char name[NC_NAME_MAX + 1];
	enum nc_runtime runtime;
	unsigned mode;		/* index in nc_mode_names: busy, intr, yield */
	int switch_cpu;		/* -1: not pinned */
	enum nc_restart restart;
	unsigned probe_interval_ms, probe_timeout_ms;
	struct nc_vnf vnf[NC_VNF_MAX];
	unsigned nvnf;
	struct nc_xport xport[NC_XPORT_MAX + 2];	/* + a cluster's uplink, kernel */
	unsigned nxport;
	struct nc_chain chain[NC_CHAIN_MAX];
	unsigned nchain;
	char http[NC_ADDR_MAX];		/* the agent's HTTP server: "" none */
	char switch_metrics[NC_ADDR_MAX];	/* nfswitch --metrics: "" none */
	struct nc_tenant tenant[NC_TENANT_MAX];
	unsigned ntenant;
	unsigned session_timeout_ms;	/* portal: idle sessions end */
	char dash_password[NC_HASH_MAX];	/* dashboard: crypt(3) hash, "" none */
	char plots[256];		/* dashboard: plots directory, "" none */
	/* cluster: this file is one node's part of a deployment */
	bool cluster;
	int self;		/* index in node[] of the node this runs on */
	struct nc_node node[NC_NODE_MAX];
	unsigned nnode;
};

extern const char *const nc_mode_names[];

/* Read and check @path. 0 and *out (free with nc_spec_free), or -errno
 * with the reason in @err ("FILE:LINE: KEY: reason"). */
int nc_spec_load(const char *path, struct nc_spec **out, char *err, size_t errlen);
void nc_spec_free(struct nc_spec *s);
int nc_spec_vnf(const struct nc_spec *s, const char *name);
int nc_spec_tenant(const struct nc_spec *s, const char *name);
/* The two VNF types are the same (program, ports, config, files, limits);
 * replicas are not compared. */
bool nc_vnf_same(const struct nc_vnf *a, const struct nc_vnf *b);
/* A node name: 1..63 of a-z, 0-9, '-', '.', starting with a letter or digit. */
bool nc_node_name_ok(const char *s);
/* The uplink's switch port name in a cluster file. */
#define NC_UPLINK	"uplink"
#define NC_KERNEL	"kernel"
#endif
