// SPDX-License-Identifier: MIT
/* Broken on purpose: a loop the verifier cannot see end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int bad_loop(struct xdp_md *x)
{
	__u32 n = x->rx_queue_index;

	while (n != 7) /* BAD LINE */
		n = n * 3 + 1;
	return n == 7 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
