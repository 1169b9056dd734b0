// SPDX-License-Identifier: MIT
/* Test enforcer (team netops) at tc egress: counts bytes per flow in the
 * declared state map conn_bytes. */
#include <apiary/bpf/apiary.h>

SEC("tc")
int meter_main(struct __sk_buff *skb)
{
	apiary_flow_state_add(conn_bytes, skb->len);
	return APIARY_TC_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
