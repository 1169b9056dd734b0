// SPDX-License-Identifier: MIT
/* Broken on purpose: uses a map value without checking it for NULL. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp") int bad_null(struct xdp_md *x)
{
	__u32 k = x->rx_queue_index & 3;
	__u64 *v = bpf_map_lookup_elem(&counts, &k);

	*v += 1; /* BAD LINE */
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
