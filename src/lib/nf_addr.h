/* nf_addr.h - IP addresses and prefixes: strict parsing and formatting.
 *
 * An address is IPv4 or IPv6 in one struct (family 4 or 6). IPv4 is kept
 * in host byte order as an integer (what the LPM wants), IPv6 as 16 bytes
 * in network order.
 */
#ifndef NF_ADDR_H
#define NF_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct nf_ip {
	uint8_t family;		/* 4 or 6 */
	union {
		uint32_t v4;	/* host byte order */
		uint8_t v6[16];
	};
};

struct nf_prefix {
	struct nf_ip addr;	/* host bits zero */
	uint8_t len;		/* 0..32 or 0..128 */
};

/* "10.0.0.1" or "fd00::1". Returns 0 or -EINVAL. */
int nf_ip_parse(const char *s, struct nf_ip *ip);
/* "10.0.0.0/8", "fd00::/16". Host bits set is an error unless @lax (then
 * they are cleared: "10.1.2.3/24" as an interface address keeps the
 * address in @host when non-NULL). Returns 0 or -EINVAL with a sentence. */
int nf_prefix_parse(const char *s, bool lax, struct nf_prefix *pfx,
		    struct nf_ip *host);
/* Format into @buf (at least 50 bytes); returns @buf. */
char *nf_ip_str(const struct nf_ip *ip, char *buf, size_t n);
char *nf_prefix_str(const struct nf_prefix *p, char *buf, size_t n);
bool nf_ip_eq(const struct nf_ip *a, const struct nf_ip *b);
/* Does @p contain @ip (same family)? */
bool nf_prefix_has(const struct nf_prefix *p, const struct nf_ip *ip);

static inline uint32_t nf_mask4(uint8_t len)
{
	return len == 0 ? 0 : ~0u << (32 - len);
}

#endif
