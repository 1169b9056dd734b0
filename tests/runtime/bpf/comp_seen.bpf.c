// SPDX-License-Identifier: MIT
/* Compiled test enforcer: records in order_log[15] the byte 14 it sees. */
#include <apiary/bpf/apiary.h>

SEC("xdp")
int seen(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 k = 15, v;

	if (data + 16 > end)
		return APIARY_XDP_CONTINUE;
	v = data[14];
	apiary_state_set(order_log, &k, &v);
	return APIARY_XDP_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
