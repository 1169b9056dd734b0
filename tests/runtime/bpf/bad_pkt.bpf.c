// SPDX-License-Identifier: MIT
/* Broken on purpose: reads the Ethernet type without checking data_end. */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int bad_pkt(struct xdp_md *x)
{
	struct ethhdr *eth = (void *)(long)x->data;

	if (eth->h_proto == 0x0008) /* BAD LINE */
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
