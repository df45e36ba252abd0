/* nf_afpacket.c - being written (helper task); refuses to open for now. */
#include "nf_port_impl.h"
#include "nf_util.h"
#include <errno.h>
static int x_open(struct nf_port *p, const struct nf_spec *sp, int s)
{ (void)p; (void)sp; (void)s; nf_set_error("afpacket ports are not built yet"); return -ENOTSUP; }
static void x_close(struct nf_port *p) { (void)p; }
const struct nf_port_ops nf_afpacket_ops = { .type = "afpacket", .open = x_open, .close = x_close };
