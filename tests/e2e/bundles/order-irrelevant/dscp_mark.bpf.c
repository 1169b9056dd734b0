// SPDX-License-Identifier: MIT
/* dscp_mark (team voice): mark SIP signalling (IPv4 UDP to port 5060) as
 * Expedited Forwarding (DSCP 46), keeping ECN bits, fixing the checksum.
 * Touches only the TOS byte of UDP packets; never drops. */
#include "../common/parse.h"

#define DSCP_EF 46

SEC("xdp")
int dscp_mark(struct xdp_md *ctx)
{
	struct pkt p;
	__be16 old;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip ||
	    !p.udp || p.udp->dest != bpf_htons(5060))
		return XDP_PASS;
	old = *(__be16 *)p.ip; /* version/ihl and tos share a word */
	p.ip->tos = (DSCP_EF << 2) | (p.ip->tos & 3);
	csum_replace2(&p.ip->check, old, *(__be16 *)p.ip);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
