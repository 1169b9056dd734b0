// SPDX-License-Identifier: MIT
/* scrub (team security): drop chargen (UDP port 19) at XDP, a classic
 * amplification vector. TCP is never touched. */
#include "../common/parse.h"

SEC("xdp")
int scrub(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.udp)
		return XDP_PASS;
	return p.udp->dest == bpf_htons(19) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
