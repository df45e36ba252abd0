/* test_place.c - the controller's placement (src/nfchain/place.c): crafted
 * nodes and descriptions in, the node of each VNF type and port out. */
#include "harness.h"
#include "../../src/nfchain/place.h"

#include <errno.h>
#include <string.h>

static struct nc_pnode node(const char *name, uint64_t cpu, const char *l1, const char *l2)
{
	struct nc_pnode n = { .cpu_milli = cpu, .memory = 8ull << 30, .alive = true };

	snprintf(n.name, sizeof(n.name), "%s", name);
	if (l1)
		snprintf(n.label[n.nlabel++], sizeof(n.label[0]), "%s", l1);
	if (l2)
		snprintf(n.label[n.nlabel++], sizeof(n.label[0]), "%s", l2);
	return n;
}

/* router -> nat -> fw, from lan to wan; cpu per type in millicores */
static struct nc_pspec chain3(uint64_t cpu)
{
	static const char *const names[] = { "router", "nat", "fw" };
	struct nc_pspec p;
	unsigned v;

	memset(&p, 0, sizeof(p));
	p.nvnf = 3;
	for (v = 0; v < 3; v++) {
		snprintf(p.vnf[v].name, sizeof(p.vnf[v].name), "%s", names[v]);
		p.vnf[v].cpu_milli = cpu;
		p.vnf[v].memory = 64ull << 20;
		p.vnf[v].chained = true;
	}
	p.nport = 2;
	snprintf(p.port[0].name, sizeof(p.port[0].name), "lan");
	snprintf(p.port[1].name, sizeof(p.port[1].name), "wan");
	p.port[0].enters = 0;
	p.port[0].leaves = -1;
	p.port[1].enters = -1;
	p.port[1].leaves = 2;
	return p;
}

static void label(struct nc_pvnf *f, const char *l)
{
	snprintf(f->label[f->nlabel++], sizeof(f->label[0]), "%s", l);
}

static void reset(struct nc_pnode *n, unsigned nn)
{
	unsigned i;

	for (i = 0; i < nn; i++)
		n[i].cpu_used = n[i].mem_used = 0;
}

int main(void)
{
	struct nc_pnode n[4];
	struct nc_pspec p;
	int cur[NC_VNF_MAX], out[NC_VNF_MAX], xout[NC_XPORT_MAX];
	char why[200];
	unsigned i;

	/* labels: the example of tests/it/cluster.sh */
	n[0] = node("n1", 4000, "edge", NULL);
	n[1] = node("n2", 4000, "core", NULL);
	n[2] = node("n3", 4000, "core", "cloud");
	p = chain3(100);
	label(&p.vnf[0], "edge");
	label(&p.vnf[1], "core");
	label(&p.vnf[2], "cloud");
	for (i = 0; i < NC_VNF_MAX; i++)
		cur[i] = -1;
	NF_TEST("keep: nothing placed yet, nothing kept", nc_place_keep(n, 3, &p, cur, out) == 0);
	NF_TEST("place: every type finds a node", nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0);
	NF_TEST("labels: router on n1 (edge), NAT on n2 (core, ties go to the first name), "
		"fw on n3 (cloud)", out[0] == 0 && out[1] == 1 && out[2] == 2);
	nc_place_ports(n, 3, &p, out, xout);
	NF_TEST("ports: lan with the chain's first VNF (n1), wan with its last (n3)",
		xout[0] == 0 && xout[1] == 2);
	NF_TEST("capacity is counted: n1 100m used, n3 100m",
		n[0].cpu_used == 100 && n[2].cpu_used == 100 && n[1].mem_used == 64ull << 20);

	/* keep: the same nodes, the same placement, no move */
	reset(n, 3);
	memcpy(cur, out, sizeof(cur));
	NF_TEST("keep: all three kept", nc_place_keep(n, 3, &p, cur, out) == 3);
	NF_TEST("keep: nothing left to place",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0 && out[1] == 1);

	/* n2 dies: the NAT moves to n3, the others stay */
	reset(n, 3);
	n[1].alive = false;
	NF_TEST("n2 down: router and fw kept", nc_place_keep(n, 3, &p, cur, out) == 2);
	NF_TEST("n2 down: the NAT goes to n3 (core)",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0 && out[1] == 2 &&
		out[0] == 0 && out[2] == 2);
	n[1].alive = true;

	/* most free CPU wins */
	reset(n, 3);
	n[1].cpu_used = 1000;	/* n2 busier than n3 */
	for (i = 0; i < 3; i++)
		cur[i] = -1;
	nc_place_keep(n, 3, &p, cur, out);
	nc_place_new(n, 3, &p, out, why, sizeof(why));
	NF_TEST("spread: the NAT goes to the core node with the most free CPU (n3)", out[1] == 2);

	/* anti-affinity, both ways */
	reset(n, 3);
	p.vnf[1].anti = 1u << 2;	/* nat not with fw */
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("anti-affinity: the NAT avoids the fw's node, so n2",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0 && out[1] == 1);
	reset(n, 3);
	n[1].alive = false;
	memcpy(cur, out, sizeof(cur));
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("anti-affinity and n2 down: no node for the NAT, -ENOSPC",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC && out[1] == -1);
	NF_TEST("... and the reason names it", strcmp(why, "nat: every node with its labels runs "
		"a type of its anti-affinity") == 0);
	p.vnf[1].anti = 0;
	p.vnf[2].anti = 1u << 1;	/* the same, written on the other type */
	reset(n, 3);
	for (i = 0; i < 3; i++)
		cur[i] = -1;
	cur[2] = 2;
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("anti-affinity written on fw also keeps the NAT off n3",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC);
	p.vnf[2].anti = 0;
	n[1].alive = true;

	/* pins */
	reset(n, 3);
	for (i = 0; i < 3; i++)
		cur[i] = -1;
	snprintf(p.vnf[2].pin, sizeof(p.vnf[2].pin), "n2");
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("a pin that contradicts the labels: no node",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC &&
		strcmp(why, "fw: no node that is up has the labels it needs") == 0);
	p.vnf[2].nlabel = 0;
	reset(n, 3);
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("a pin: fw on n2", nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0 &&
		out[2] == 1);
	snprintf(p.port[1].pin, sizeof(p.port[1].pin), "n1");
	nc_place_ports(n, 3, &p, out, xout);
	NF_TEST("a port's pin beats its chain", xout[1] == 0);
	p.port[1].pin[0] = '\0';
	n[1].alive = false;
	reset(n, 3);
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("a pin to a node that is down: no node, said so",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC &&
		strcmp(why, "fw: its node is not up") == 0);
	p.vnf[2].pin[0] = '\0';
	label(&p.vnf[2], "cloud");
	n[1].alive = true;

	/* capacity */
	p = chain3(3000);
	reset(n, 3);
	for (i = 0; i < 3; i++)
		cur[i] = -1;
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("capacity: three types of 3 CPUs on three 4-CPU nodes: one each",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == 0 && out[0] != out[1] &&
		out[1] != out[2] && out[0] != out[2]);
	reset(n, 3);
	n[2].alive = false;
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("capacity: with two nodes the third type fits nowhere, said so",
		nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC &&
		strcmp(why, "fw: no node has 3000 mCPU and 64 MiB free") == 0);
	NF_TEST("capacity: the two that fit are placed", out[0] >= 0 && out[1] >= 0 &&
		out[2] == -1);
	n[0].alive = n[1].alive = false;
	reset(n, 3);
	nc_place_keep(n, 3, &p, cur, out);
	NF_TEST("no node up: said so", nc_place_new(n, 3, &p, out, why, sizeof(why)) == -ENOSPC &&
		strcmp(why, "router: no node is up") == 0);

	/* a type in no chain needs no node */
	p = chain3(100);
	p.vnf[1].chained = false;
	n[0].alive = n[1].alive = n[2].alive = true;
	reset(n, 3);
	nc_place_keep(n, 3, &p, cur, out);
	nc_place_new(n, 3, &p, out, why, sizeof(why));
	NF_TEST("a type in no chain is not placed", out[1] == -1 && out[0] >= 0);
	return nf_test_report();
}
