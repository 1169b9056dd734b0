// SPDX-License-Identifier: MIT
/* Broken on purpose: a loop bounded only by a value the verifier does not
 * know, so it never sees the end. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp") int bad_loop(struct xdp_md *x)
{
	__u32 n = x->rx_queue_index, i;
	__u64 sum = 0;

	for (i = 0; i < n; i++) sum += bpf_get_prandom_u32(); /* BAD LINE */
	return sum & 1 ? XDP_PASS : XDP_DROP;
}

char _license[] SEC("license") = "GPL";
