// SPDX-License-Identifier: MIT
/* portfwd (team platform): the bastion listens on 22 internally but is
 * reached on 2222: rewrite IPv4 TCP dport 2222 -> 22, fixing the TCP
 * checksum. Never drops. */
#include "../common/parse.h"

SEC("xdp")
int portfwd(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip ||
	    !p.tcp || p.tcp->dest != bpf_htons(2222))
		return XDP_PASS;
	csum_replace2(&p.tcp->check, p.tcp->dest, bpf_htons(22));
	p.tcp->dest = bpf_htons(22);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
