// SPDX-License-Identifier: MIT
/* Broken on purpose: passes a half-initialized key to a helper. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key {
	__u32 a;
	__u32 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, struct key);
	__type(value, __u64);
} seen SEC(".maps");

SEC("xdp") int bad_stack(struct xdp_md *x)
{
	struct key k;
	__u64 *v;

	k.a = x->rx_queue_index;
	v = bpf_map_lookup_elem(&seen, &k); /* BAD LINE */
	return v ? XDP_DROP : XDP_PASS;
}

char _license[] SEC("license") = "GPL";
