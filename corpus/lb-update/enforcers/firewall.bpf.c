// SPDX-License-Identifier: MIT
/* firewall (team security): drops telnet. */
#include <apiary/bpf/apiary.h>

SEC("xdp") int fw_main(struct xdp_md *ctx)
{
	struct apiary_ctx *c = apiary_ctx();

	if (c && apiary_has(c, APIARY_L_TCP) && c->pkt.dport == 23)
		return XDP_DROP;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
