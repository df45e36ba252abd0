/* nf_memif_proto.h - memif 2.0 wire format (control messages, rings,
 * descriptors), as spoken by DPDK's memif PMD, VPP and libmemif.
 *
 * Control: a SOCK_SEQPACKET UNIX socket, every message exactly 128 bytes,
 * file descriptors (memory regions, eventfds) passed with SCM_RIGHTS.
 * The server sends HELLO; the client answers INIT, ADD_REGION (one per
 * region), ADD_RING (one per ring), CONNECT, each acknowledged by ACK
 * (CONNECT by CONNECTED). Either side may send DISCONNECT.
 *
 * Memory: the client owns every region, every ring and every buffer.
 * A ring is a 128-byte header (cookie, flags, head on one cache line, tail
 * on the next) followed by 2^log2 16-byte descriptors.
 *  C2S ring (client transmits): the client writes descriptors and moves
 *      head; the server reads them and moves tail.
 *  S2C ring (server transmits): the client offers empty buffers and moves
 *      head; the server fills them, sets length, and moves tail.
 * head and tail are free-running 16-bit counters; slot = counter & mask.
 */
#ifndef NF_MEMIF_PROTO_H
#define NF_MEMIF_PROTO_H

#include <stdint.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "nf_memif_desc.w0 assumes a little-endian host"
#endif

#define NF_MEMIF_COOKIE		0x3E31F20u
#define NF_MEMIF_VERSION	0x0200u	/* 2.0 */
#define NF_MEMIF_NAME_SZ	32
#define NF_MEMIF_SECRET_SZ	24
#define NF_MEMIF_MSG_SZ		128

enum nf_memif_msg_type {
	NF_MEMIF_MSG_NONE = 0,
	NF_MEMIF_MSG_ACK,
	NF_MEMIF_MSG_HELLO,
	NF_MEMIF_MSG_INIT,
	NF_MEMIF_MSG_ADD_REGION,
	NF_MEMIF_MSG_ADD_RING,
	NF_MEMIF_MSG_CONNECT,
	NF_MEMIF_MSG_CONNECTED,
	NF_MEMIF_MSG_DISCONNECT,
	NF_MEMIF_MSG_MAX
};

#define NF_MEMIF_MODE_ETHERNET		0
#define NF_MEMIF_ADD_RING_FLAG_C2S	1
#define NF_MEMIF_DESC_FLAG_NEXT		1
#define NF_MEMIF_RING_FLAG_MASK_INT	1

struct nf_memif_hello {
	uint8_t name[NF_MEMIF_NAME_SZ];
	uint16_t min_version;
	uint16_t max_version;
	uint16_t max_region;		/* highest region index accepted */
	uint16_t max_c2s_ring;		/* highest ring index accepted */
	uint16_t max_s2c_ring;
	uint8_t max_log2_ring_size;
} __attribute__((packed));

struct nf_memif_init {
	uint16_t version;
	uint32_t id;
	uint8_t mode;
	uint8_t secret[NF_MEMIF_SECRET_SZ];
	uint8_t name[NF_MEMIF_NAME_SZ];
} __attribute__((packed));

struct nf_memif_add_region {
	uint16_t index;
	uint64_t size;
} __attribute__((packed));

struct nf_memif_add_ring {
	uint16_t flags;
	uint16_t index;
	uint16_t region;
	uint32_t offset;
	uint8_t log2_ring_size;
	uint16_t private_hdr_size;
} __attribute__((packed));

struct nf_memif_connect {
	uint8_t if_name[NF_MEMIF_NAME_SZ];
} __attribute__((packed));

struct nf_memif_disconnect {
	uint32_t code;
	uint8_t string[96];
} __attribute__((packed));

struct nf_memif_msg {
	uint16_t type;
	union {
		struct nf_memif_hello hello;
		struct nf_memif_init init;
		struct nf_memif_add_region add_region;
		struct nf_memif_add_ring add_ring;
		struct nf_memif_connect connect;
		struct nf_memif_connect connected;
		struct nf_memif_disconnect disconnect;
		uint8_t raw[NF_MEMIF_MSG_SZ - 2];
	};
} __attribute__((packed, aligned(8)));

struct nf_memif_desc {
	union {
		struct {
			uint16_t flags;
			uint16_t region;
			uint32_t length;
		};
		/* The same 8 bytes as one word, to read (and write) a
		 * descriptor's flags, region and length in one access:
		 * flags | region << 16 | length << 32 (little-endian hosts;
		 * memif is host-local). */
		uint64_t w0;
		/* flags | region << 16: both tested with one mask. */
		uint32_t flags_region;
	};
	uint32_t offset;
	uint32_t metadata;
};

#define NF_MEMIF_W0(flags, region, length) \
	((uint64_t)(flags) | (uint64_t)(region) << 16 | (uint64_t)(length) << 32)

struct nf_memif_ring {
	uint32_t cookie;
	uint16_t flags;
	uint16_t head;
	uint8_t pad0[56];
	uint16_t tail;
	uint8_t pad1[62];
	struct nf_memif_desc desc[];
};

#define NF_MEMIF_RING_BYTES(log2) \
	(sizeof(struct nf_memif_ring) + (sizeof(struct nf_memif_desc) << (log2)))

_Static_assert(sizeof(struct nf_memif_msg) == NF_MEMIF_MSG_SZ, "msg size");
_Static_assert(sizeof(struct nf_memif_desc) == 16, "desc size");
_Static_assert(sizeof(struct nf_memif_ring) == 128, "ring header size");
_Static_assert(__builtin_offsetof(struct nf_memif_ring, tail) == 64, "tail");
_Static_assert(sizeof(struct nf_memif_hello) == 43, "hello size");
_Static_assert(sizeof(struct nf_memif_init) == 63, "init size");
_Static_assert(sizeof(struct nf_memif_add_ring) == 13, "add_ring size");

#endif
