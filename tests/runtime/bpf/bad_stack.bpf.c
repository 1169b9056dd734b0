// SPDX-License-Identifier: MIT
/* Broken on purpose: passes a half-initialized key to a helper. The kernel
 * lets a loader with CAP_PERFMON (root) read uninitialized stack, so this
 * is rejected only for loaders without it (the test drops it). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct key {
	__u64 a;
	__u64 b; /* never written: a whole stack slot left uninitialized */
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
