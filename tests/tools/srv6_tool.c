/* srv6_tool.c - nf_srv6 behaviours on frames given in hex, for the
 * integration tests that compare them with Linux (tests/it/srv6_linux.sh)
 * and dissect them with tshark (tests/it/srv6_tshark.sh).
 *
 *   srv6_tool parse HEX                 "ok sl=S last=L next=N segs=A,B,..." (wire order)
 *   srv6_tool end HEX                   the End result in hex
 *   srv6_tool dx4|dx6 HEX DMAC SMAC     End.DX4 / End.DX6 with that adjacency
 *   srv6_tool encaps MODE SRC SEGS HEX  MODE encaps|red|l2|l2red, SEGS a,b,c
 *   srv6_tool pcap FILE                 a pcap of every behaviour's output;
 *                                       prints "N name sl last entries" per frame
 * A drop prints "drop REASON" and exits 2; bad usage exits 1.
 */
#include "nf_csum.h"
#include "nf_parse.h"
#include "nf_srv6.h"
#include "nf_util.h"

#include <arpa/inet.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint8_t in[70000], out[70000];

static uint32_t unhex(const char *s, uint8_t *b, uint32_t cap)
{
	uint32_t n = 0;
	unsigned v;

	while (s[0] && s[1] && n < cap && sscanf(s, "%2x", &v) == 1) {
		b[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void hex(const uint8_t *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
	printf("\n");
}

static int result(int r)
{
	if (r < 0) {
		printf("drop %s\n", nf_srv6_drop_name((enum nf_srv6_drop)-r));
		return 2;
	}
	hex(out, r);
	return 0;
}

static void sid6(const char *s, struct nf_srv6_sid *sid)
{
	if (inet_pton(AF_INET6, s, sid) != 1) {
		fprintf(stderr, "srv6_tool: bad address %s\n", s);
		exit(1);
	}
}

static void segs_parse(const char *s, struct nf_srv6_segs *segs)
{
	char buf[2048], *save = NULL, *t;

	nf_strlcpy(buf, s, sizeof(buf));
	segs->n = 0;
	for (t = strtok_r(buf, ",", &save); t && segs->n < NF_SRV6_SEGS_MAX;
	     t = strtok_r(NULL, ",", &save))
		sid6(t, &segs->sid[segs->n++]);
}

static int mode_of(const char *m)
{
	static const char *const names[] = { "encaps", "red", "l2", "l2red" };
	unsigned i;

	for (i = 0; i < 4; i++)
		if (!strcmp(m, names[i]))
			return (int)i;
	fprintf(stderr, "srv6_tool: mode %s?\n", m);
	exit(1);
}

/* ---- pcap of every behaviour ---- */

static pcap_dumper_t *dump;
static int nframes;

/* Dump OUT (@r bytes) and print the SRH fields the behaviour must have
 * set, worked out from the segment list and the step (not by parsing):
 * @sl < 0: no SRH; @da: the destination address, NULL when not IPv6. */
static void emit(const char *name, int r, int sl, int last, const char *da)
{
	struct pcap_pkthdr ph = { { 1700000000 + nframes, 0 }, 0, 0 };

	if (r <= 0) {
		fprintf(stderr, "srv6_tool: %s: %s\n", name,
			nf_srv6_drop_name((enum nf_srv6_drop)-r));
		exit(1);
	}
	ph.caplen = ph.len = (uint32_t)r;
	pcap_dump((u_char *)dump, &ph, out);
	nframes++;
	if (sl >= 0)
		printf("%d %s %d %d %d %s\n", nframes, name, sl, last, last + 1, da);
	else
		printf("%d %s - - 0 %s\n", nframes, name, da ? da : "-");
}

static const char *sidstr(const struct nf_srv6_sid *s)
{
	static char a[8][64];
	static unsigned i;

	return inet_ntop(AF_INET6, s, a[i++ % 8], sizeof(a[0]));
}

/* An Ethernet + IPv4/UDP (or IPv6/UDP) frame in @f, checksums right. */
static uint32_t mk_udp(uint8_t *f, int v6, unsigned vid, unsigned dlen)
{
	static const uint8_t hdr[12] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1 };
	uint32_t l2 = vid ? 18 : 14, ul = 8 + dlen, n;
	uint8_t *ip = f + l2, *u;

	memcpy(f, hdr, 12);
	if (vid) {
		f[12] = 0x81; f[13] = 0; f[14] = (uint8_t)(vid >> 8); f[15] = (uint8_t)vid;
	}
	f[l2 - 2] = v6 ? 0x86 : 0x08;
	f[l2 - 1] = v6 ? 0xdd : 0x00;
	if (!v6) {
		uint16_t c;

		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[2] = (uint8_t)((20 + ul) >> 8); ip[3] = (uint8_t)(20 + ul);
		ip[6] = 0x40; ip[8] = 64; ip[9] = 17;
		ip[12] = 10; ip[13] = 1; ip[15] = 1;
		ip[16] = 10; ip[17] = 2; ip[19] = 2;
		c = nf_csum(ip, 20);
		memcpy(ip + 10, &c, 2);
		u = ip + 20;
		n = l2 + 20 + ul;
	} else {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[4] = (uint8_t)(ul >> 8); ip[5] = (uint8_t)ul;
		ip[6] = 17; ip[7] = 64;
		ip[8] = 0x20; ip[9] = 0x01; ip[10] = 0x0d; ip[11] = 0xb8; ip[23] = 1;
		ip[24] = 0x20; ip[25] = 0x01; ip[26] = 0x0d; ip[27] = 0xb8; ip[39] = 2;
		u = ip + 40;
		n = l2 + 40 + ul;
	}
	u[0] = 0x30; u[1] = 0x39; u[2] = 0; u[3] = 9;
	u[4] = (uint8_t)(ul >> 8); u[5] = (uint8_t)ul;
	u[6] = u[7] = 0;
	memset(u + 8, 'x', dlen);
	{
		uint64_t s = v6 ? nf_csum_pseudo6(ip + 8, ip + 24, 17, ul) :
				  nf_csum_pseudo4(ip + 12, ip + 16, 17, (uint16_t)ul);
		uint16_t c = nf_csum_udp(nf_csum_partial(u, ul, s));

		memcpy(u + 6, &c, 2);
	}
	return n;
}

static int pcap_all(const char *file)
{
	static const struct nf_srv6_adj adj = { { 2, 0, 0, 0, 0, 0x77 },
						{ 2, 0, 0, 0, 0, 0x66 } };
	static uint8_t frame[4096], enc[4096];
	static struct nf_srv6_proxy px;
	struct nf_srv6_segs segs;
	struct nf_srv6_encap e;
	struct nf_srv6_sid src;
	struct nf_hdrs h, he;
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	unsigned n, i, mode, v6, vid;
	int k;
	uint32_t len, elen;
	char name[64];
	int r;

	dump = pcap_dump_open(pd, file);
	if (!dump) {
		fprintf(stderr, "srv6_tool: %s\n", pcap_geterr(pd));
		return 1;
	}
	sid6("fd00::1", &src);
	nf_srv6_proxy_init(&px, 2);
	for (v6 = 0; v6 <= 1; v6++)
		for (vid = 0; vid <= 10; vid += 10)
			for (mode = 0; mode < 4; mode++)
				for (n = 1; n <= 16; n++) {
					if (n > 3 && n < 16)
						continue;
					if (mode >= 2 && (v6 || (n != 1 && n != 3)))
						continue;
					segs.n = n;
					for (i = 0; i < n; i++) {
						char a[64];

						snprintf(a, sizeof(a), "fc00:%x::%x", i + 1, 0xe);
						sid6(a, &segs.sid[i]);
					}
					len = mk_udp(frame, (int)v6, vid, 18);
					nf_parse(frame, len, &h);
					nf_srv6_encap_init(&e, &src, &segs, 0, (enum nf_srv6_mode)mode);
					r = nf_srv6_encaps(&e, frame, len, &h, out, sizeof(out));
					snprintf(name, sizeof(name), "%s-%s%s-%useg",
						 (const char *[]){ "encaps", "encaps-red", "encaps-l2",
								   "encaps-l2-red" }[mode],
						 v6 ? "ipv6" : "ipv4", vid ? "-vlan" : "", n);
					k = mode & 1 ? (int)n - 1 : (int)n;
					emit(name, r, k ? (int)n - 1 : -1, k - 1,
					     sidstr(&segs.sid[0]));
					if (mode >= 2)
						continue;
					/* every End along the way, End.X on the first */
					elen = (uint32_t)r;
					memcpy(enc, out, elen);
					for (i = 0;; i++) {
						nf_parse(enc, elen, &he);
						{
							struct nf_srv6_view vw;

							if (nf_srv6_srh_parse(enc, &he, &vw) != NF_SRV6_OK ||
							    vw.sl == 0)
								break;
						}
						r = nf_srv6_end(enc, elen, &he, i ? NULL : &adj,
								out, sizeof(out));
						snprintf(name, sizeof(name), "%s-%s", i ? "end" : "end-x",
							 v6 ? "ipv6" : "ipv4");
						emit(name, r, (int)n - 2 - (int)i, k - 1,
						     sidstr(&segs.sid[i + 1]));
						elen = (uint32_t)r;
						memcpy(enc, out, elen);
					}
					nf_parse(enc, elen, &he);
					r = nf_srv6_end_dx(enc, elen, &he, v6 ? 41 : 4, &adj,
							   out, sizeof(out));
					emit(v6 ? "end-dx6" : "end-dx4", r, -1, 0,
					     v6 ? "2001:db8::2" : NULL);
					r = nf_srv6_end_dx(enc, elen, &he, v6 ? 41 : 4, NULL,
							   out, sizeof(out));
					emit(v6 ? "end-dt6" : "end-dt4", r, -1, 0,
					     v6 ? "2001:db8::2" : NULL);
				}
	/* time exceeded of an SRv6 frame */
	segs.n = 2;
	sid6("fc00::a", &segs.sid[0]);
	sid6("fc00::b", &segs.sid[1]);
	len = mk_udp(frame, 0, 0, 18);
	nf_parse(frame, len, &h);
	nf_srv6_encap_init(&e, &src, &segs, 0, NF_SRV6_ENCAPS);
	elen = (uint32_t)nf_srv6_encaps(&e, frame, len, &h, enc, sizeof(enc));
	nf_parse(enc, elen, &he);
	emit("time-exceeded", nf_srv6_icmp_error(enc, &he, NF_SRV6_HOP_LIMIT, &segs.sid[0],
						 out, sizeof(out)), -1, 0, "fd00::1");
	/* proxy: AD in, AD out, AS in, AS out */
	r = nf_srv6_proxy_in(&px, 1, 4, enc, elen, &he, &adj, out, sizeof(out));
	emit("end-ad-in", r, -1, 0, NULL);
	nf_parse(out, (uint32_t)r, &h);
	memcpy(frame, out, (size_t)r);
	len = (uint32_t)r;
	emit("end-ad-out", nf_srv6_proxy_out(&px, 1, frame, len, &h, &adj, out,
					      sizeof(out)), 0, 1, "fc00::b");
	emit("end-as-in", nf_srv6_proxy_in(NULL, 0, 4, enc, elen, &he, &adj, out,
					    sizeof(out)), -1, 0, NULL);
	nf_srv6_encap_init(&e, &src, &segs, 1, NF_SRV6_ENCAPS);
	emit("end-as-out", nf_srv6_encaps(&e, frame, len, &h, out, sizeof(out)),
	     0, 1, "fc00::b");
	/* a parameter problem: End finds SL 0 (code 4, at the upper layer) */
	segs.n = 1;
	nf_srv6_encap_init(&e, &src, &segs, 0, NF_SRV6_ENCAPS);
	len = mk_udp(frame, 0, 0, 18);
	nf_parse(frame, len, &h);
	elen = (uint32_t)nf_srv6_encaps(&e, frame, len, &h, enc, sizeof(enc));
	nf_parse(enc, elen, &he);
	emit("param-problem", nf_srv6_icmp_error(enc, &he, NF_SRV6_SL_ZERO, &segs.sid[0],
						 out, sizeof(out)), -1, 0, "fd00::1");
	pcap_dump_close(dump);
	pcap_close(pd);
	return 0;
}

int main(int argc, char **argv)
{
	static const char usage[] =
		"usage: srv6_tool parse|end HEX | dx4|dx6 HEX DMAC SMAC | "
		"encaps MODE SRC SEGS HEX | pcap FILE\n";
	struct nf_hdrs h;
	uint32_t len;
	int pe;

	if (argc == 3 && !strcmp(argv[1], "pcap"))
		return pcap_all(argv[2]);
	if (argc < 3) {
		fputs(usage, stderr);
		return 1;
	}
	len = unhex(argv[argc - 1], in, sizeof(in));
	if (!strcmp(argv[1], "encaps"))
		len = unhex(argv[5], in, sizeof(in));
	else if (argc == 5)
		len = unhex(argv[2], in, sizeof(in));
	pe = nf_parse(in, len, &h);
	if (pe != NF_PERR_OK) {
		printf("drop %s\n", nf_parse_err_name((enum nf_parse_err)pe));
		return 2;
	}
	if (!strcmp(argv[1], "parse") && argc == 3) {
		struct nf_srv6_view v;
		enum nf_srv6_drop r = nf_srv6_srh_parse(in, &h, &v);
		char a[64];
		unsigned i;

		if (r != NF_SRV6_OK)
			return result(-(int)r);
		printf("ok sl=%u last=%u next=%u segs=", v.sl, v.last, v.next);
		for (i = 0; i <= v.last; i++)
			printf("%s%s", i ? "," : "",
			       inet_ntop(AF_INET6, nf_srv6_seg(in, &v, i), a, sizeof(a)));
		printf("\n");
		return 0;
	}
	if (!strcmp(argv[1], "end") && argc == 3)
		return result(nf_srv6_end(in, len, &h, NULL, out, sizeof(out)));
	if ((!strcmp(argv[1], "dx4") || !strcmp(argv[1], "dx6")) && argc == 5) {
		struct nf_srv6_adj adj;

		if (nf_parse_mac(argv[3], adj.dst) < 0 ||
		    nf_parse_mac(argv[4], adj.src) < 0) {
			fputs(usage, stderr);
			return 1;
		}
		return result(nf_srv6_end_dx(in, len, &h, argv[1][2] == '4' ? 4 : 41,
					     &adj, out, sizeof(out)));
	}
	if (!strcmp(argv[1], "encaps") && argc == 6) {
		struct nf_srv6_encap e;
		struct nf_srv6_segs segs;
		struct nf_srv6_sid src;

		sid6(argv[3], &src);
		segs_parse(argv[4], &segs);
		if (nf_srv6_encap_init(&e, &src, &segs, 0,
				       (enum nf_srv6_mode)mode_of(argv[2])) < 0) {
			fprintf(stderr, "srv6_tool: %s\n", nf_last_error());
			return 1;
		}
		return result(nf_srv6_encaps(&e, in, len, &h, out, sizeof(out)));
	}
	fputs(usage, stderr);
	return 1;
}
