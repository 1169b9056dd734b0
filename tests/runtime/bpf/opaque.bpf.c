// SPDX-License-Identifier: MIT
/* A prebuilt enforcer: knows nothing of Apiary, answers XDP_TX. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int lb_main(struct xdp_md *x)
{
	return XDP_TX;
}

char _license[] SEC("license") = "GPL";
