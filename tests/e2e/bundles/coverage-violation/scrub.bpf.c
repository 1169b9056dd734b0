// SPDX-License-Identifier: MIT
/* scrub (team security): drop TCP scan probes at XDP: NULL scans (no flag
 * set) and SYN+FIN. The team never declared this effect. */
#include "../common/parse.h"

#define TCP_FIN 0x01
#define TCP_SYN 0x02

SEC("xdp")
int scrub(struct xdp_md *ctx)
{
	struct pkt p;
	__u8 flags;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.tcp)
		return XDP_PASS;
	flags = ((__u8 *)p.tcp)[13];
	if (flags == 0 || (flags & (TCP_SYN | TCP_FIN)) == (TCP_SYN | TCP_FIN))
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
