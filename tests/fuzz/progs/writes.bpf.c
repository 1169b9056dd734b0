// SPDX-License-Identifier: MIT
/* Map write flags (coverage.h): three maps, written only on some inputs.
 * First payload byte 1: `updated` gets an element; 2: the value that
 * `counted` holds at key 0 is incremented through the lookup's pointer;
 * 3 or 4: an element is deleted from `sel_a` or `sel_b`, chosen by a select
 * the pass cannot resolve (so the "some map" flag); `readonly` is only
 * looked up and read, whatever the input. The program returns XDP_PASS,
 * or XDP_DROP when `readonly` holds 7 at the first byte. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} updated SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} readonly SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} sel_a SEC(".maps"), sel_b SEC(".maps");

SEC("xdp")
int writes(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 key = 0;
	__u64 one = 1, *v;

	if ((void *)(p + 1) > (void *)end)
		return XDP_PASS;
	if (p[0] == 1)
		bpf_map_update_elem(&updated, &key, &one, BPF_ANY);
	if (p[0] == 2) {
		v = bpf_map_lookup_elem(&counted, &key);
		if (v)
			*v += 1;
	}
	if (p[0] == 3 || p[0] == 4)
		bpf_map_delete_elem(p[0] == 3 ? (void *)&sel_a : (void *)&sel_b, &key);
	key = p[0];
	v = bpf_map_lookup_elem(&readonly, &key);
	if (v && *v == 7)
		return XDP_DROP;
	return XDP_PASS;
}

char _license[] SEC("license") = "GPL";
