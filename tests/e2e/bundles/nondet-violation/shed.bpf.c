// SPDX-License-Identifier: MIT
/* shed (team platform): under load, drop half of the IPv4 packets — chosen
 * at random with bpf_get_prandom_u32(). The verdict for one packet changes
 * from run to run. */
#include "../common/parse.h"

SEC("xdp")
int shed(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip)
		return XDP_PASS;
	return (bpf_get_prandom_u32() & 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
