// SPDX-License-Identifier: MIT
/* probe (team netops): copies acct's count for the packet's TCP port into its
 * own state probe_seen, which only it writes. Reads port_hits, never writes
 * it. Never drops. */
#include <linux/pkt_cls.h>
#include "../common/parse.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} port_hits SEC(".maps");

/* state probe_seen : hash(u16 -> u64) max 1024 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u16);
	__type(value, __u64);
} probe_seen SEC(".maps");

SEC("tc")
int probe(struct __sk_buff *skb)
{
	struct pkt p;
	__u64 *n;
	__u16 port;

	if (!pkt_parse((void *)(long)skb->data, (void *)(long)skb->data_end, &p) || !p.tcp)
		return TC_ACT_OK;
	port = bpf_ntohs(p.tcp->dest);
	n = bpf_map_lookup_elem(&port_hits, &port);
	if (n) {
		__u64 v = *n;

		bpf_map_update_elem(&probe_seen, &port, &v, BPF_ANY);
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
