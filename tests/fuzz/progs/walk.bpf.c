// SPDX-License-Identifier: MIT
/* Map write flags (coverage.h): how a looked-up value pointer is used
 * decides whether the lookup is a write site. One straight path through
 * all cases; the maps named r_* are only read, the w_* ones are written
 * (or may be: the pass is conservative about calls). */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct val {
	__u64 a, b, c, d;
};

#define ARRAY(name, kind)                               \
	struct {                                        \
		__uint(type, kind);                     \
		__uint(max_entries, 2);                 \
		__type(key, __u32);                     \
		__type(value, struct val);              \
	} name SEC(".maps")

ARRAY(r_copy_src, BPF_MAP_TYPE_ARRAY); /* memcpy source */
ARRAY(r_null_check, BPF_MAP_TYPE_ARRAY); /* compared with NULL only */
ARRAY(w_memcpy_dst, BPF_MAP_TYPE_ARRAY); /* memcpy destination */
ARRAY(w_memset, BPF_MAP_TYPE_ARRAY);
ARRAY(w_atomic, BPF_MAP_TYPE_ARRAY);
ARRAY(w_phi, BPF_MAP_TYPE_ARRAY);      /* two lookups merged, then stored to */
ARRAY(w_subprog, BPF_MAP_TYPE_ARRAY);  /* passed to a BPF-to-BPF call */
ARRAY(w_percpu, BPF_MAP_TYPE_PERCPU_ARRAY); /* lookup_percpu_elem, stored to */
ARRAY(w_sink, BPF_MAP_TYPE_ARRAY);     /* updated from a stack copy */

static __attribute__((noinline)) int touch(struct val *v)
{
	if (!v)
		return 0;
	v->d = 9;
	return 1;
}

SEC("xdp")
int walk(struct xdp_md *ctx)
{
	unsigned char *p = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	__u32 key = 0, key1;
	struct val local = {}, *v, *x;
	int ret = XDP_PASS;

	if ((void *)(p + 1) > (void *)end)
		return XDP_PASS;
	v = bpf_map_lookup_elem(&r_copy_src, &key);
	if (v)
		__builtin_memcpy(&local, v, sizeof(local));
	bpf_map_update_elem(&w_sink, &key, &local, BPF_ANY);
	if (!bpf_map_lookup_elem(&r_null_check, &key))
		ret = XDP_DROP;
	v = bpf_map_lookup_elem(&w_memcpy_dst, &key);
	if (v)
		__builtin_memcpy(v, &local, sizeof(local));
	v = bpf_map_lookup_elem(&w_memset, &key);
	if (v)
		__builtin_memset(v, 0, sizeof(*v));
	v = bpf_map_lookup_elem(&w_atomic, &key);
	if (v)
		__sync_fetch_and_add(&v->a, 1);
	key1 = p[0] & 1;
	x = bpf_map_lookup_elem(&w_phi, &key1);
	if (!x)
		x = bpf_map_lookup_elem(&w_phi, &key);
	if (x)
		x->b = p[0];
	ret += touch(bpf_map_lookup_elem(&w_subprog, &key)) ? 0 : 1;
	v = bpf_map_lookup_percpu_elem(&w_percpu, &key, 0);
	if (v)
		v->c = 5;
	return ret;
}

char _license[] SEC("license") = "GPL";
