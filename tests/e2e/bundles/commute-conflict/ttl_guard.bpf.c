// SPDX-License-Identifier: MIT
/* ttl_guard (team security): drop IPv4 packets that are about to expire. */
#include "../common/parse.h"

SEC("xdp")
int ttl_guard(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip)
		return XDP_PASS;
	return p.ip->ttl <= 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
