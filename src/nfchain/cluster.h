/* cluster.h - nfchain over several nodes, coordinated through etcd
 * (docs/CLUSTER.md).
 *
 *   nfchain controller --etcd URLS     places VNF types on nodes
 *   nfchain node --etcd URLS --name N  runs this node's part
 *   nfchain cluster apply|delete|status|simulate
 *
 * etcd holds everything (prefix /nfchain by default):
 *   nodes/NODE         a node agent, under its lease: labels, capacity,
 *                      locator, uplink, gateway (JSON)
 *   specs/NAME         a description (the YAML file as written)
 *   placement/NAME     the controller's decision: the node of each VNF
 *                      type and port, for the spec's revision (JSON)
 *   status/NODE/NAME   a node agent's report on its part (JSON)
 */
#ifndef NC_CLUSTER_H
#define NC_CLUSTER_H
int nc_cmd_controller(int argc, char **argv);
int nc_cmd_node(int argc, char **argv);
int nc_cmd_cluster(int argc, char **argv);
#endif
