// SPDX-License-Identifier: MIT
/* telnet_block (team security): meant to drop telnet, but the port constant
 * is the "alternative telnet" port 2323: TCP to port 23 passes. */
#include "../common/parse.h"

#define TELNET_PORT 2323

SEC("xdp")
int telnet_block(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.tcp)
		return XDP_PASS;
	return p.tcp->dest == bpf_htons(TELNET_PORT) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
