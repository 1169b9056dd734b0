// SPDX-License-Identifier: MIT
/* ttl_dec (team routing): decrement the IPv4 TTL like a router hop would,
 * fixing the header checksum. Never drops. */
#include "../common/parse.h"

SEC("xdp")
int ttl_dec(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip)
		return XDP_PASS;
	if (p.ip->ttl > 0) {
		__be16 old = *(__be16 *)&p.ip->ttl; /* ttl and protocol share a word */

		p.ip->ttl--;
		csum_replace2(&p.ip->check, old, *(__be16 *)&p.ip->ttl);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
