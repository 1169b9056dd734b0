// SPDX-License-Identifier: MIT
/* blocklist (team security): drop everything from one known-bad host. */
#include "../common/parse.h"

#define BAD_HOST 0xc633644d /* 198.51.100.77 */

SEC("xdp")
int blocklist(struct xdp_md *ctx)
{
	struct pkt p;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.ip)
		return XDP_PASS;
	return p.ip->saddr == bpf_htonl(BAD_HOST) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
