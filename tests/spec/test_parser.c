// SPDX-License-Identifier: MIT
/*
 * Parser unit tests: the AST of a full spec (every declaration kind, the
 * locations), predicate precedence, literal encodings, apiary_pred_format
 * round trips, and recovery (all errors reported, partial AST freed).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "apiary/spec.h"

static const char edge[] =
	"bundle edge version 3\n"
	"\n"
	"classifier conn at xdp {\n"
	"    key ip.src, ip.dst, ip.proto, l4.sport, l4.dport\n"
	"    match ip.proto == tcp\n"
	"}\n"
	"\n"
	"state conn_bytes : hash(conn -> u64) max 65536\n"
	"state blob : percpu_array(u32 -> bytes[24]) max 4\n"
	"\n"
	"enforcer firewall team security version 2 at xdp {\n"
	"    source \"enforcers/firewall.bpf.c\" program \"fw_main\"\n"
	"    effect drop when tcp.dport == 23 or ip.src in 10.66.0.0/16\n"
	"}\n"
	"\n"
	"enforcer lb team netops version 7 at xdp {\n"
	"    object \"prebuilt/lb.bpf.o\" program \"balancer_ingress\"   # third-party\n"
	"    config vip_map { key { addr 192.0.2.10, port 80, proto tcp } value { vip_num 0 } }\n"
	"    config raw { key 0x0a000001 value 0x01 }\n"
	"    effect tx when ip.dst == 192.0.2.10 and tcp.dport == 80\n"
	"    global debug = 1\n"
	"}\n"
	"\n"
	"enforcer meter team observability version 1 at tc.egress {\n"
	"    source \"enforcers/meter.bpf.c\"\n"
	"    reads conn  writes conn_bytes, blob\n"
	"}\n"
	"\n"
	"update lb to version 8 { object \"prebuilt/lb_v8.bpf.o\" global debug = 2 }\n"
	"order firewall before lb\n"
	"cover meter sees ip.proto == tcp\n"
	"exclusive conn_bytes by meter\n"
	"flow-consistent lb\n";

static struct apiary_spec *parse_ok(const char *text)
{
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	int err;

	apiary_diags_init(&d);
	err = apiary_spec_parse("dir/t.spec", text, strlen(text), &s, &d);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	assert_int_equal(d.count, 0);
	apiary_diags_free(&d);
	assert_non_null(s);
	return s;
}

static void test_full_ast(void **state)
{
	struct apiary_spec *s = parse_ok(edge);
	const struct apiary_classifier *c = s->classifier;
	const struct apiary_enforcer *fw, *lb, *meter;
	const struct apiary_pred *p;

	assert_string_equal(s->path, "dir/t.spec");
	assert_string_equal(s->dir, "dir");
	assert_string_equal(s->bundle.s, "edge");
	assert_int_equal(s->version, 3);

	assert_non_null(c);
	assert_string_equal(c->name.s, "conn");
	assert_int_equal(c->hook, APIARY_HOOK_XDP);
	assert_int_equal(c->nkeys, 5);
	assert_int_equal(c->keys[0], APIARY_F_IP_SRC);
	assert_int_equal(c->keys[4], APIARY_F_L4_DPORT);
	assert_int_equal(c->key_locs[1].line, 4);
	assert_int_equal(c->key_locs[1].col, 17);
	assert_int_equal(c->key_locs[1].len, 6);
	assert_int_equal(c->match->kind, APIARY_P_CMP);
	assert_int_equal(c->match->field, APIARY_F_IP_PROTO);
	assert_int_equal(c->match->value.u, 6);

	assert_int_equal(s->nstates, 2);
	assert_string_equal(s->states[0].name.s, "conn_bytes");
	assert_int_equal(s->states[0].kind, APIARY_MAP_HASH);
	assert_int_equal(s->states[0].key.kind, APIARY_TY_FLOW);
	assert_string_equal(s->states[0].key.ref.s, "conn");
	assert_int_equal(s->states[0].value.kind, APIARY_TY_U64);
	assert_int_equal(s->states[0].value.size, 8);
	assert_int_equal(s->states[0].max_entries, 65536);
	assert_int_equal(s->states[1].kind, APIARY_MAP_PERCPU_ARRAY);
	assert_int_equal(s->states[1].value.kind, APIARY_TY_BYTES);
	assert_int_equal(s->states[1].value.size, 24);

	assert_int_equal(s->nenforcers, 3);
	fw = apiary_spec_enforcer(s, "firewall");
	lb = apiary_spec_enforcer(s, "lb");
	meter = apiary_spec_enforcer(s, "meter");
	assert_ptr_equal(fw, &s->enforcers[0]);
	assert_int_equal(apiary_spec_enforcer_index(s, "meter"), 2);
	assert_int_equal(apiary_spec_enforcer_index(s, "nope"), -1);
	assert_null(apiary_spec_enforcer(s, "nope"));
	assert_string_equal(fw->team.s, "security");
	assert_int_equal(fw->version, 2);
	assert_int_equal(fw->hook, APIARY_HOOK_XDP);
	assert_int_equal(fw->loc.line, 11);
	assert_int_equal(fw->name.loc.col, 10);
	assert_false(fw->code.prebuilt);
	assert_string_equal(fw->code.path.s, "enforcers/firewall.bpf.c");
	assert_string_equal(fw->code.program.s, "fw_main");
	assert_null(fw->code.resolved); /* filled by sema */
	assert_int_equal(fw->neffects, 1);
	assert_int_equal(fw->effects[0].verdict, APIARY_V_DROP);
	p = fw->effects[0].when;
	assert_int_equal(p->kind, APIARY_P_OR);
	assert_int_equal(p->lhs->kind, APIARY_P_CMP);
	assert_int_equal(p->lhs->field, APIARY_F_TCP_DPORT);
	assert_int_equal(p->lhs->op, APIARY_OP_EQ);
	assert_int_equal(p->lhs->value.kind, APIARY_LIT_INT);
	assert_int_equal(p->lhs->value.u, 23);
	assert_int_equal(p->rhs->kind, APIARY_P_IN);
	assert_int_equal(p->rhs->value.kind, APIARY_LIT_IPV4);
	assert_memory_equal(p->rhs->value.addr, "\x0a\x42\x00\x00", 4);
	assert_int_equal(p->rhs->value.prefix, 16);
	/* the or-node spans the whole predicate on its line */
	assert_int_equal(p->loc.line, 13);
	assert_int_equal(p->loc.col, 22);
	assert_int_equal(p->loc.len, (int)strlen("tcp.dport == 23 or ip.src in 10.66.0.0/16"));

	assert_true(lb->code.prebuilt);
	assert_string_equal(lb->code.program.s, "balancer_ingress");
	assert_int_equal(lb->nconfigs, 2);
	assert_string_equal(lb->configs[0].map.s, "vip_map");
	assert_false(lb->configs[0].key.raw);
	assert_int_equal(lb->configs[0].key.nfields, 3);
	assert_string_equal(lb->configs[0].key.fields[0].name.s, "addr");
	assert_int_equal(lb->configs[0].key.fields[0].value.kind, APIARY_LIT_IPV4);
	assert_memory_equal(lb->configs[0].key.fields[0].value.addr, "\xc0\x00\x02\x0a", 4);
	assert_int_equal(lb->configs[0].key.fields[1].value.u, 80);
	assert_int_equal(lb->configs[0].key.fields[2].value.u, 6);
	assert_int_equal(lb->configs[0].value.nfields, 1);
	assert_true(lb->configs[1].key.raw);
	assert_int_equal(lb->configs[1].key.nbytes, 4);
	assert_memory_equal(lb->configs[1].key.bytes, "\x0a\x00\x00\x01", 4);
	assert_int_equal(lb->configs[1].value.nbytes, 1);
	assert_int_equal(lb->configs[1].value.bytes[0], 1);
	assert_int_equal(lb->effects[0].verdict, APIARY_V_TX);
	assert_int_equal(lb->effects[0].when->kind, APIARY_P_AND);
	assert_int_equal(lb->nglobals, 1);
	assert_string_equal(lb->globals[0].name.s, "debug");
	assert_int_equal(lb->globals[0].value.u, 1);

	assert_int_equal(meter->hook, APIARY_HOOK_TC_EGRESS);
	assert_int_equal(meter->nreads, 1);
	assert_string_equal(meter->reads[0].s, "conn");
	assert_int_equal(meter->nwrites, 2);
	assert_string_equal(meter->writes[1].s, "blob");

	assert_int_equal(s->nupdates, 1);
	assert_string_equal(s->updates[0].enforcer.s, "lb");
	assert_int_equal(s->updates[0].version, 8);
	assert_true(s->updates[0].code.prebuilt);
	assert_string_equal(s->updates[0].code.path.s, "prebuilt/lb_v8.bpf.o");
	assert_int_equal(s->updates[0].nglobals, 1);
	assert_int_equal(s->updates[0].globals[0].value.u, 2);

	assert_int_equal(s->norders, 1);
	assert_string_equal(s->orders[0].before.s, "firewall");
	assert_string_equal(s->orders[0].after.s, "lb");
	assert_int_equal(s->ncovers, 1);
	assert_string_equal(s->covers[0].enforcer.s, "meter");
	assert_int_equal(s->covers[0].sees->field, APIARY_F_IP_PROTO);
	assert_int_equal(s->nexclusives, 1);
	assert_string_equal(s->exclusives[0].state.s, "conn_bytes");
	assert_string_equal(s->exclusives[0].owner.s, "meter");
	assert_int_equal(s->nflow_consistent, 1);
	assert_string_equal(s->flow_consistent[0].enforcer.s, "lb");
	assert_non_null(apiary_spec_state(s, "blob"));
	assert_null(apiary_spec_state(s, "conn"));
	apiary_spec_free(s);
}

/* Parse `cover x sees PRED` and return the spec (pred in covers[0]). */
static struct apiary_spec *parse_pred(const char *pred)
{
	char buf[1024];

	snprintf(buf, sizeof(buf), "bundle b version 1\ncover x sees %s\n", pred);
	return parse_ok(buf);
}

static void test_precedence_and_literals(void **state)
{
	struct apiary_spec *s;
	const struct apiary_pred *p;
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	/* not binds tighter than and, and tighter than or */
	s = parse_pred("not tcp.dport == 1 and udp.dport != 2 or icmp.type < 3");
	p = s->covers[0].sees;
	assert_int_equal(p->kind, APIARY_P_OR);
	assert_int_equal(p->lhs->kind, APIARY_P_AND);
	assert_int_equal(p->lhs->lhs->kind, APIARY_P_NOT);
	assert_int_equal(p->lhs->lhs->lhs->field, APIARY_F_TCP_DPORT);
	assert_int_equal(p->lhs->rhs->op, APIARY_OP_NE);
	assert_int_equal(p->rhs->op, APIARY_OP_LT);
	apiary_spec_free(s);

	s = parse_pred("tcp.dport == 1 and (udp.dport == 2 or ip.ttl >= 3)");
	p = s->covers[0].sees;
	assert_int_equal(p->kind, APIARY_P_AND);
	assert_int_equal(p->rhs->kind, APIARY_P_OR);
	assert_int_equal(p->rhs->rhs->op, APIARY_OP_GE);
	apiary_spec_free(s);

	s = parse_pred("tcp.flags has syn and tcp.dport in 1024..0xffff and "
		       "ip6.src in 2001:db8::/32 and eth.src == 02:00:00:00:00:01 and "
		       "udp.dport in { 53, 0x35, 5353 } and eth.type == ipv6");
	p = s->covers[0].sees;
	assert_int_equal(p->rhs->value.u, 0x86dd);
	assert_int_equal(p->rhs->field, APIARY_F_ETH_TYPE);
	p = p->lhs;
	assert_int_equal(p->rhs->value.kind, APIARY_LIT_SET);
	assert_int_equal(p->rhs->value.nitems, 3);
	assert_int_equal(p->rhs->value.items[1].u, 53);
	assert_int_equal(p->rhs->value.items[2].u, 5353);
	p = p->lhs;
	assert_int_equal(p->rhs->value.kind, APIARY_LIT_MAC);
	assert_memory_equal(p->rhs->value.addr, "\x02\x00\x00\x00\x00\x01", 6);
	p = p->lhs;
	assert_int_equal(p->rhs->value.kind, APIARY_LIT_IPV6);
	assert_int_equal(p->rhs->value.prefix, 32);
	assert_memory_equal(p->rhs->value.addr, v6, 16);
	p = p->lhs;
	assert_int_equal(p->rhs->kind, APIARY_P_IN);
	assert_int_equal(p->rhs->value.kind, APIARY_LIT_RANGE);
	assert_int_equal(p->rhs->value.lo, 1024);
	assert_int_equal(p->rhs->value.hi, 65535);
	assert_int_equal(p->lhs->kind, APIARY_P_HAS);
	assert_int_equal(p->lhs->value.u, 0x02);
	apiary_spec_free(s);
}

/* Format, parse the output, format again: both texts equal the expected
 * canonical form. */
static void round_trip(const char *in, const char *want)
{
	struct apiary_spec *s = parse_pred(in), *s2;
	char buf[512], buf2[512];
	int n;

	n = apiary_pred_format(s->covers[0].sees, buf, sizeof(buf));
	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf, want);
	s2 = parse_pred(buf);
	apiary_pred_format(s2->covers[0].sees, buf2, sizeof(buf2));
	assert_string_equal(buf2, buf);
	apiary_spec_free(s);
	apiary_spec_free(s2);
}

static void test_format_round_trip(void **state)
{
	round_trip("tcp.dport == 23 or ip.src in 10.66.0.0/16",
		   "tcp.dport == 23 or ip.src in 10.66.0.0/16");
	round_trip("(ip.proto == tcp)", "ip.proto == tcp");
	round_trip("not (tcp.dport == 1 or tcp.dport == 2) and not not ip.ttl > 3",
		   "not (tcp.dport == 1 or tcp.dport == 2) and not not ip.ttl > 3");
	round_trip("(tcp.dport == 1 or udp.dport == 2) and (ip.ttl <= 3 or ip.ttl != 4)",
		   "(tcp.dport == 1 or udp.dport == 2) and (ip.ttl <= 3 or ip.ttl != 4)");
	round_trip("tcp.dport == 1 or (udp.dport == 2 or ip.ttl < 3)",
		   "tcp.dport == 1 or (udp.dport == 2 or ip.ttl < 3)");
	round_trip("((tcp.dport == 1 and udp.dport == 2)) or ip.ttl >= 3",
		   "tcp.dport == 1 and udp.dport == 2 or ip.ttl >= 3");
	round_trip("tcp.flags has syn and eth.type == ipv4 and vlan.id in 1..100",
		   "tcp.flags has 0x02 and eth.type == 0x0800 and vlan.id in 1..100");
	round_trip("ip6.dst in fe80::/64 or ip6.src == ::1 or eth.dst == DE:AD:be:ef:00:01",
		   "ip6.dst in fe80::/64 or ip6.src == ::1 or eth.dst == de:ad:be:ef:00:01");
	round_trip("udp.sport in {53,  67 ,68} and ip.dst in { 10.0.0.0/8, 192.168.1.1 }",
		   "udp.sport in { 53, 67, 68 } and ip.dst in { 10.0.0.0/8, 192.168.1.1 }");
}

static void test_format_truncates(void **state)
{
	struct apiary_spec *s = parse_pred("tcp.dport == 23 or ip.src in 10.66.0.0/16");
	char small[10];
	int n;

	n = apiary_pred_format(s->covers[0].sees, small, sizeof(small));
	assert_int_equal(n, (int)strlen("tcp.dport == 23 or ip.src in 10.66.0.0/16"));
	assert_string_equal(small, "tcp.dport");
	n = apiary_pred_format(s->covers[0].sees, NULL, 0);
	assert_int_equal(n, (int)strlen("tcp.dport == 23 or ip.src in 10.66.0.0/16"));
	apiary_spec_free(s);
}

/* Recovery: every broken declaration is reported, the good ones survive
 * in the partial AST, and nothing leaks (checked under ASan). */
static void test_recovery(void **state)
{
	static const char text[] =
		"bundle b version 1\n"
		"enforcer a team t version 1 at xdp { source \"a.c\" effect drop when }\n"
		"enforcer b team t version at xdp { source \"b.c\" }\n"
		"order a before\n"
		"enforcer c team t version 1 at xdp {\n"
		"    config m { key 0x01 value { x } }\n"
		"    effect drop when tcp.dport == 1\n"
		"}\n"
		"state s : hash(u32 -> u64) max\n"
		"cover a sees tcp.dport ==\n"
		"flow-consistent c\n";
	struct apiary_diags d;
	struct apiary_spec *s = NULL;
	int err;

	apiary_diags_init(&d);
	err = apiary_spec_parse("t.spec", text, strlen(text), &s, &d);
	assert_int_equal(err, -EINVAL);
	assert_int_equal(d.errors, 6);
	assert_int_equal(d.items[0].loc.line, 2);
	assert_string_equal(d.items[0].msg, "expected a test such as 'tcp.dport == 23', found '}'");
	assert_int_equal(d.items[1].loc.line, 3);
	assert_int_equal(d.items[2].loc.line, 5);
	assert_string_equal(d.items[2].msg,
			    "expected an enforcer name after 'before', found 'enforcer'");
	assert_int_equal(d.items[3].loc.line, 6);
	assert_int_equal(d.items[4].loc.line, 10);
	assert_int_equal(d.items[5].loc.line, 11);
	assert_non_null(s);
	/* a and c survive (a lost its broken effect), b does not */
	assert_int_equal(s->nenforcers, 2);
	assert_string_equal(s->enforcers[0].name.s, "a");
	assert_int_equal(s->enforcers[0].neffects, 0);
	assert_string_equal(s->enforcers[1].name.s, "c");
	assert_int_equal(s->enforcers[1].nconfigs, 0);
	assert_int_equal(s->enforcers[1].neffects, 1);
	assert_int_equal(s->norders, 0);
	assert_int_equal(s->nstates, 0);
	assert_int_equal(s->ncovers, 0);
	assert_int_equal(s->nflow_consistent, 1);
	apiary_diags_free(&d);
	apiary_spec_free(s);
}

static void test_hooks_fields(void **state)
{
	assert_int_equal(apiary_hook_parse("xdp"), APIARY_HOOK_XDP);
	assert_int_equal(apiary_hook_parse("tc.ingress"), APIARY_HOOK_TC_INGRESS);
	assert_int_equal(apiary_hook_parse("tc.egress"), APIARY_HOOK_TC_EGRESS);
	assert_int_equal(apiary_hook_parse("tc"), APIARY_HOOK_NONE);
	assert_int_equal(apiary_hook_parse(NULL), APIARY_HOOK_NONE);
	assert_string_equal(apiary_hook_name(APIARY_HOOK_TC_EGRESS), "tc.egress");
	assert_string_equal(apiary_hook_name(APIARY_HOOK__COUNT), "none");
	for (int i = 0; i < APIARY_F__COUNT; i++) {
		assert_int_equal(apiary_fields[i].id, i);
		assert_ptr_equal(apiary_field_lookup(apiary_fields[i].name), &apiary_fields[i]);
	}
	assert_int_equal(apiary_field_lookup("tcp.dport")->bits, 16);
	assert_int_equal(apiary_field_lookup("ip6.src")->type, APIARY_T_IPV6);
	assert_int_equal(apiary_field_lookup("eth.dst")->bits, 48);
	assert_true(apiary_field_lookup("l4.sport")->layers & APIARY_L_L4);
	assert_null(apiary_field_lookup("tcp.dprt"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_ast),
		cmocka_unit_test(test_precedence_and_literals),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_recovery),
		cmocka_unit_test(test_hooks_fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
