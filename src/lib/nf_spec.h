/* nf_spec.h - port spec strings: "type:pos1,pos2,key=value,...".
 *
 * Positional items come first (a path, an interface name, pcap files);
 * options are key=value. Each port type declares its options in one table
 * (name, range, default) and nf_spec_apply() validates them all, so that a
 * bad spec gets one sentence: which option, what value, which range.
 */
#ifndef NF_SPEC_H
#define NF_SPEC_H

#include <stddef.h>
#include <stdint.h>

#define NF_SPEC_MAX_POS	4
#define NF_SPEC_MAX_KV	16
#define NF_SPEC_LEN	512

struct nf_spec {
	char type[16];
	int npos;
	const char *pos[NF_SPEC_MAX_POS];
	int nkv;
	struct { const char *key, *val; } kv[NF_SPEC_MAX_KV];
	char buf[NF_SPEC_LEN];
};

enum nf_opt_kind { NF_OPT_U64, NF_OPT_STR, NF_OPT_ENUM, NF_OPT_MAC };

/* One option of a port type. @off is the offsetof() of the field in the
 * type's configuration struct: uint64_t for U64 and ENUM (index in @enums),
 * char[@max] for STR, uint8_t[6] for MAC. */
struct nf_opt {
	const char *name;
	enum nf_opt_kind kind;
	uint64_t min, max;	/* U64: range; STR: max length incl. NUL */
	const char *const *enums;	/* ENUM: NULL-terminated names */
	size_t off;
	const char *help;
};

/* Split @s into @sp. Returns 0 or -EINVAL (too long, no ':' type
 * separator, too many items, empty key). Sets nf_last_error(). */
int nf_spec_parse(const char *s, struct nf_spec *sp);

/* Validate the options of @sp against @opts (@nopts entries) and store them
 * into @cfg. Unknown keys, repeated keys and out-of-range values give
 * -EINVAL and a sentence naming the option and the allowed range. */
int nf_spec_apply(const struct nf_spec *sp, const struct nf_opt *opts,
		  unsigned nopts, void *cfg);

/* The interface name of a host-interface spec ("TYPE:IFNAME,..."): the
 * one positional item, copied into @ifname (@size bytes, IFNAMSIZ).
 * Returns 0 or -EINVAL with a sentence: no or several names ("TYPE port
 * needs exactly one interface name (@usage)"), a name too long. */
int nf_spec_ifname(const struct nf_spec *sp, char *ifname, size_t size,
		   const char *usage);

#endif
