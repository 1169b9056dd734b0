// SPDX-License-Identifier: MIT
/* shed (team platform): under load, drop half of the IPv4 flows — chosen by
 * a hash of the addresses and ports, so a packet always gets the same verdict
 * (and a flow is kept or shed as a whole). */
#include "../common/parse.h"

SEC("xdp")
int shed(struct xdp_md *ctx)
{
	struct pkt p;
	__u32 h;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip)
		return XDP_PASS;
	h = p.ip->saddr ^ p.ip->daddr ^ p.ip->protocol;
	if (p.tcp)
		h ^= ((__u32)p.tcp->source << 16) | p.tcp->dest;
	else if (p.udp)
		h ^= ((__u32)p.udp->source << 16) | p.udp->dest;
	h ^= h >> 16;
	h *= 0x45d9f3b;
	h ^= h >> 16;
	return (h & 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
