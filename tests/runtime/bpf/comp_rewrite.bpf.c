// SPDX-License-Identifier: MIT
/* Compiled test enforcer: rewrites byte 14 of the frame to 0xab, then
 * continues; byte 15 = 0xee means drop instead. */
#include <apiary/bpf/apiary.h>

SEC("xdp")
int rewrite(struct xdp_md *ctx)
{
	__u8 *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;

	if (data + 16 > end)
		return APIARY_XDP_CONTINUE;
	if (data[15] == 0xee)
		return APIARY_XDP_DROP;
	data[14] = 0xab;
	return APIARY_XDP_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
