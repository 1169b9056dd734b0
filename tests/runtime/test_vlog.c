// SPDX-License-Identifier: MIT
/* Unit tests of the verifier-log parser on recorded kernel 6.x logs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rt_internal.h"

/* Recorded (kernel 6.18, log_level 1): an unchecked packet read. */
static const char log_pkt[] =
	"func#0 @0\n"
	"0: R1=ctx() R10=fp0\n"
	"; struct ethhdr *eth = (void *)(long)x->data; @ bad_pkt.bpf.c:9\n"
	"0: (61) r1 = *(u32 *)(r1 +0)          ; R1_w=pkt(r=0)\n"
	"; if (eth->h_proto == 0x0008) /* BAD LINE */ @ bad_pkt.bpf.c:11\n"
	"1: (69) r2 = *(u16 *)(r1 +12)\n"
	"invalid access to packet, off=12 size=2, R1(id=0,off=12,r=0)\n"
	"R1 offset is outside of the packet\n"
	"processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n";

/* A NULL map value: the error comes after several line infos. */
static const char log_null[] =
	"func#0 @0\n"
	"; __u32 k = x->rx_queue_index & 3; @ bad_null.bpf.c:16\n"
	"0: (61) r1 = *(u32 *)(r1 +16)\n"
	"; __u64 *v = bpf_map_lookup_elem(&counts, &k); @ bad_null.bpf.c:17\n"
	"5: (85) call bpf_map_lookup_elem#1    ; R0_w=map_value_or_null(id=1,map=counts,ks=4,vs=8)\n"
	"; *v += 1; /* BAD LINE */ @ bad_null.bpf.c:19\n"
	"6: (79) r1 = *(u64 *)(r0 +0)\n"
	"R0 invalid mem access 'map_value_or_null'\n"
	"processed 7 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0\n"
	"\n";

static void test_pkt(void **state)
{
	struct rt_vlog v;

	rt_vlog_parse(log_pkt, &v);
	assert_int_equal(v.line, 11);
	assert_string_equal(v.file, "bad_pkt.bpf.c");
	assert_string_equal(v.src, "if (eth->h_proto == 0x0008) /* BAD LINE */");
	assert_non_null(v.hint);
	assert_non_null(strstr(v.hint, "data_end"));
	assert_non_null(strstr(v.error, "outside of the packet"));
	/* The tail ends with the statistics line and has at most 8 lines. */
	assert_non_null(strstr(v.tail, "processed 2 insns"));
	assert_non_null(strstr(v.tail, "invalid access to packet"));
}

static void test_null(void **state)
{
	struct rt_vlog v;
	size_t lines = 0;
	const char *p;

	rt_vlog_parse(log_null, &v);
	assert_int_equal(v.line, 19);
	assert_string_equal(v.file, "bad_null.bpf.c");
	assert_string_equal(v.error, "R0 invalid mem access 'map_value_or_null'");
	assert_non_null(strstr(v.hint, "NULL"));
	for (p = v.tail; *p; p++)
		lines += *p == '\n';
	assert_int_equal(lines, RT_VLOG_TAIL_LINES);
	assert_null(strstr(v.tail, "func#0")); /* cut: 9 lines in the log */
}

static void test_classes(void **state)
{
	assert_non_null(strstr(rt_vlog_explain("back-edge from insn 7 to 3"), "loop"));
	assert_non_null(strstr(rt_vlog_explain("infinite loop detected at insn 4"), "loop"));
	assert_non_null(strstr(rt_vlog_explain("BPF program is too large. Processed 1000001 insn"),
			       "loop"));
	assert_non_null(strstr(rt_vlog_explain("invalid read from stack R10 off=-8 size=8"),
			       "uninitialized"));
	assert_non_null(strstr(rt_vlog_explain("invalid indirect read from stack R2 off -8+4 size 8"),
			       "uninitialized"));
	assert_non_null(strstr(rt_vlog_explain("R2 !read_ok"), "uninitialized"));
	assert_null(rt_vlog_explain("R0 !something else"));
	assert_null(rt_vlog_explain(NULL));
}

/* No line info (BTF missing) and an old-style "; src" line: no line number,
 * the error is still found. */
static void test_no_line_info(void **state)
{
	struct rt_vlog v;

	rt_vlog_parse("; r = *p\n0: (61) r0 = *(u32 *)(r1 +0)\nR1 !read_ok\n", &v);
	assert_int_equal(v.line, 0);
	assert_string_equal(v.src, "r = *p");
	assert_string_equal(v.error, "R1 !read_ok");
	rt_vlog_parse("", &v);
	assert_int_equal(v.line, 0);
	assert_string_equal(v.error, "");
	assert_null(v.hint);
	rt_vlog_parse(NULL, &v);
	assert_int_equal(v.line, 0);
}

/* An unknown error: the last meaningful line is the error, with no hint. */
static void test_unknown(void **state)
{
	struct rt_vlog v;

	rt_vlog_parse("; return 0; @ x.c:3\n0: (b7) r0 = 0\nunknown func bpf_foo#999\n"
		      "processed 1 insns\n", &v);
	assert_string_equal(v.error, "unknown func bpf_foo#999");
	assert_null(v.hint);
	assert_int_equal(v.line, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkt),	    cmocka_unit_test(test_null),
		cmocka_unit_test(test_classes),	    cmocka_unit_test(test_no_line_info),
		cmocka_unit_test(test_unknown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
