// SPDX-License-Identifier: MIT
/* Test enforcer (team observability) written without the Apiary API: a
 * plain XDP program with its own map. The spec names no `program`, so the
 * compiler finds its single SEC("xdp") function. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} counter_hits SEC(".maps");

SEC("xdp")
int count_pkts(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&counter_hits, &zero);

	if (n)
		__sync_fetch_and_add(n, 1);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
