// SPDX-License-Identifier: MIT
/* A "third-party" object used unchanged (compiled by meson, not by Apiary):
 * bounces TCP port 80 back out, passes the rest. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

SEC("xdp")
int balancer_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u8 *p = data;

	/* Ethernet + IPv4 without options + TCP destination port. */
	if ((void *)(p + 38) > end)
		return XDP_PASS;
	if (p[12] != 0x08 || p[13] != 0x00 || p[14] != 0x45 || p[23] != 6)
		return XDP_PASS;
	if (p[36] == 0 && p[37] == 80)
		return XDP_TX;
	return XDP_PASS;
}

SEC("tc")
int lb_tc_helper(struct __sk_buff *skb)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
