// SPDX-License-Identifier: MIT
/* Test enforcer (team security): drops telnet, using the Apiary API for the
 * parsed packet. FW_PORT2 (v2) also drops a second port. */
#include <apiary/bpf/apiary.h>

#ifndef FW_PORT2
#define FW_PORT2 0
#endif

/* Something the entry calls: stays a subprogram. */
static __attribute__((noinline)) int fw_blocked(__u16 port)
{
	return port == 23 || (FW_PORT2 && port == FW_PORT2);
}

SEC("xdp")
int fw_main(struct xdp_md *ctx)
{
	struct apiary_ctx *c = apiary_ctx();

	if (c && apiary_has(c, APIARY_L_TCP) && fw_blocked(c->pkt.dport))
		return APIARY_XDP_DROP;
	return APIARY_XDP_CONTINUE;
}

char LICENSE[] SEC("license") = "GPL";
