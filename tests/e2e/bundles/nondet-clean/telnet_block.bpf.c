// SPDX-License-Identifier: MIT
/* telnet_block (team security): drop TCP to port 23 (IPv4 and IPv6). */
#include "../common/parse.h"

SEC("xdp")
int telnet_block(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.tcp)
		return XDP_PASS;
	return p.tcp->dest == bpf_htons(23) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
