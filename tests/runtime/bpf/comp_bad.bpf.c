// SPDX-License-Identifier: MIT
/* Compiled test enforcer, broken on purpose: no NULL check. */
#include <apiary/bpf/apiary.h>

SEC("xdp")
int bad_entry(struct xdp_md *ctx)
{
	__u32 k = 3;
	__u32 *v = apiary_state_get(order_log, &k);

	*v += 1; /* BAD LINE */
	return APIARY_XDP_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
