// SPDX-License-Identifier: MIT
/* acct (team observability): count TCP packets per destination port into the
 * bundle's state port_hits (key: port in host order). Never drops. */
#include "../common/parse.h"

/* state port_hits : hash(u16 -> u64) max 1024, as declared in the spec. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} port_hits SEC(".maps");

SEC("xdp")
int acct(struct xdp_md *ctx)
{
	struct pkt p;
	__u64 one = 1, *n;
	__u16 port;

	if (!pkt_parse((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) || !p.tcp)
		return XDP_PASS;
	port = bpf_ntohs(p.tcp->dest);
	n = bpf_map_lookup_elem(&port_hits, &port);
	if (n)
		__sync_fetch_and_add(n, 1);
	else
		bpf_map_update_elem(&port_hits, &port, &one, BPF_NOEXIST);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
