// SPDX-License-Identifier: MIT
/* Test enforcer at tc ingress using the Apiary API: labels the flow, counts
 * packets in the declared array `hits`, and returns TC_ACT_UNSPEC (a
 * continue verdict). */
#include <apiary/bpf/apiary.h>

SEC("tc")
int tag_main(struct __sk_buff *skb)
{
	struct apiary_flow *f = apiary_flow();
	__u32 zero = 0;

	if (f)
		f->label = 7;
	apiary_state_add(hits, &zero, 1);
	return TC_ACT_UNSPEC;
}

char LICENSE[] SEC("license") = "GPL";
