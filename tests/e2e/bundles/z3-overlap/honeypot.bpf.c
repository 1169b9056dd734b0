// SPDX-License-Identifier: MIT
/* honeypot (team research): steer one watched host's TCP/8443 traffic to a
 * honeypot: rewrite the IPv4 destination to HONEYPOT (IP and TCP checksums
 * fixed), swap the MAC addresses and send it back out with XDP_TX.
 * Everything else passes untouched. */
#include "../common/parse.h"

#define WATCHED_HOST 0xc633644d /* 198.51.100.77 */
#define HONEYPOT 0xcb007105     /* 203.0.113.5 */

SEC("xdp")
int honeypot(struct xdp_md *ctx)
{
	struct pkt p;
	__u8 mac[ETH_ALEN];
	__be32 old;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip ||
	    !p.tcp || p.ip->saddr != bpf_htonl(WATCHED_HOST) || p.tcp->dest != bpf_htons(8443))
		return XDP_PASS;
	old = p.ip->daddr;
	p.ip->daddr = bpf_htonl(HONEYPOT);
	csum_replace4(&p.ip->check, old, p.ip->daddr);
	csum_replace4(&p.tcp->check, old, p.ip->daddr); /* pseudo-header */
	__builtin_memcpy(mac, p.eth->h_dest, ETH_ALEN);
	__builtin_memcpy(p.eth->h_dest, p.eth->h_source, ETH_ALEN);
	__builtin_memcpy(p.eth->h_source, mac, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
