/* SPDX-License-Identifier: MIT */
/* Shared body of the compiled test enforcers comp_a/b/c: append my id to
 * the declared state order_log at my position in the chain. */
#include <apiary/bpf/apiary.h>

static __always_inline int comp_append(__u32 id)
{
	struct apiary_ctx *c = apiary_ctx();
	__u32 k, v = id;

	if (!c)
		return APIARY_XDP_ABORTED;
	k = c->step;
	apiary_state_set(order_log, &k, &v);
	return APIARY_XDP_CONTINUE;
}
