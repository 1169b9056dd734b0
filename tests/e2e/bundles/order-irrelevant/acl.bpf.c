// SPDX-License-Identifier: MIT
/* acl (team security): no SSH from outside: drop TCP to port 22. */
#include "../common/parse.h"

SEC("xdp")
int acl(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.tcp)
		return XDP_PASS;
	return p.tcp->dest == bpf_htons(22) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
