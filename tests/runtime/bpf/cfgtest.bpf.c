// SPDX-License-Identifier: MIT
/* Test enforcer with maps and globals for `config` / `global`: copies its
 * globals into order_log[10..12] so a run shows what was set. */
#include "mini_abi.h"

struct vip_key {
	__be32 addr;
	__be16 port;
	__u8 proto;
	__u8 pad;
};

struct vip_val {
	__u32 vip_num;
	__u8 mac[6];
	__u16 flags;
	__u8 addr6[16];
	__u64 big;
	struct {
		__u8 inner; /* anonymous member: found by name too */
	};
	__u32 bits : 4; /* bit field: refused by the encoder */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct vip_key);
	__type(value, struct vip_val);
} vip_map SEC(".maps");

/* No BTF for key and value: only hex config works. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 8);
} raw_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u32);
} pcpu_cfg SEC(".maps");

volatile const __u32 threshold = 1;
volatile const __be16 port_be = 0;
__u32 level = 5;

static __noinline int cfg_entry(struct xdp_md *x)
{
	__u32 k10 = 10, k11 = 11, k12 = 12, v;

	v = threshold;
	bpf_map_update_elem(&order_log, &k10, &v, BPF_ANY);
	v = port_be;
	bpf_map_update_elem(&order_log, &k11, &v, BPF_ANY);
	v = level;
	bpf_map_update_elem(&order_log, &k12, &v, BPF_ANY);
	return XDP_PASS;
}

MINI_WRAP_XDP(apiary_w_cfg, cfg_entry, 0)
