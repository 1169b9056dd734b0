// SPDX-License-Identifier: MIT
/* Compiled test enforcer configured by its spec: a map of VIPs typed by
 * BTF, a map without BTF types, and globals it copies into order_log[10..12]
 * so a run shows what the loader wrote. */
#include <apiary/bpf/apiary.h>

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
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct vip_key);
	__type(value, struct vip_val);
} vip_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__uint(value_size, 4);
} raw_map SEC(".maps");

volatile const __u32 threshold = 1;
volatile const __be16 port_be = 0;
__u32 level = 5;

SEC("xdp")
int cfg_main(struct xdp_md *ctx)
{
	__u32 k10 = 10, k11 = 11, k12 = 12, v;

	v = threshold;
	apiary_state_set(order_log, &k10, &v);
	v = port_be;
	apiary_state_set(order_log, &k11, &v);
	v = level;
	apiary_state_set(order_log, &k12, &v);
	return APIARY_XDP_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
