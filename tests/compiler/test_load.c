// SPDX-License-Identifier: MIT
/*
 * Real kernel (root): the generated sidecar and wrapped enforcers pass the
 * verifier and implement the execution model. A minimal load with plain
 * libbpf (the project's loader lives in runtime/): sidecar first, then each
 * object with the shared maps reused by name, program fds in the prog
 * arrays, chains written by hand. Packets run under BPF_PROG_TEST_RUN on
 * CPU 0 and the per-CPU context is read back.
 */

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "apiary/abi.h"
#include "apiary/compiler.h"
#include "specs.h"

#define MAX_OBJS 8

struct bundle {
	struct apiary_spec *spec;
	struct apiary_build *b;
	struct bpf_object *side;
	struct bpf_object *objs[MAX_OBJS];
};

static int map_fd(struct bpf_object *obj, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(obj, name);

	assert_non_null(m);
	return bpf_map__fd(m);
}

static struct bundle *load(struct apiary_spec *spec, const char *name)
{
	struct bundle *bu = calloc(1, sizeof(*bu));
	struct apiary_build_opts o = { .sz = sizeof(o) };
	struct apiary_diags d;
	char *dir;
	int err;

	assert_true(asprintf(&dir, "%s/out_load_%s", TEST_BUILD_DIR, name) > 0);
	o.out_dir = dir;
	bu->spec = spec;
	apiary_diags_init(&d);
	err = apiary_compile(spec, &o, &bu->b, &d);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	apiary_diags_free(&d);
	free(dir);

	bu->side = bpf_object__open_file(bu->b->sidecar_object, NULL);
	assert_non_null(bu->side);
	assert_int_equal(bpf_object__load(bu->side), 0);

	assert_true(bu->b->nprogs <= MAX_OBJS);
	for (size_t i = 0; i < bu->b->nprogs; i++) {
		const struct apiary_build_prog *p = &bu->b->progs[i];
		struct bpf_object *obj = bpf_object__open_file(p->object_path, NULL);
		struct bpf_map *m;
		struct bpf_program *prog;
		__u32 slot = APIARY_PROG_SLOT(p->enforcer, p->vslot);
		int fd;

		assert_non_null(obj);
		bpf_object__for_each_map(m, obj) {
			struct bpf_map *shared = bpf_object__find_map_by_name(bu->side,
									      bpf_map__name(m));

			if (shared)
				assert_int_equal(bpf_map__reuse_fd(m, bpf_map__fd(shared)), 0);
		}
		err = bpf_object__load(obj);
		if (err)
			fail_msg("%s: load failed: %d", p->object_path, err);
		prog = bpf_object__find_program_by_name(obj, p->prog_name);
		assert_non_null(prog);
		fd = bpf_program__fd(prog);
		assert_true(fd >= 0);
		assert_int_equal(bpf_map_update_elem(map_fd(bu->side, p->hook == APIARY_HOOK_XDP ?
									  APIARY_MAP_PROGS_XDP :
									  APIARY_MAP_PROGS_TC),
						     &slot, &fd, BPF_ANY),
				 0);
		bu->objs[i] = obj;
	}
	return bu;
}

static void unload(struct bundle *bu)
{
	for (size_t i = 0; i < MAX_OBJS; i++)
		bpf_object__close(bu->objs[i]);
	bpf_object__close(bu->side);
	apiary_build_free(bu->b);
	tspec_free(bu->spec);
	free(bu);
}

static void set_chain(struct bundle *bu, __u32 hook, int n, ...)
{
	struct apiary_chain ch = { .len = (__u32)n };
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++)
		ch.enforcer[i] = (__u8)va_arg(ap, int);
	va_end(ap);
	assert_int_equal(bpf_map_update_elem(map_fd(bu->side, APIARY_MAP_CHAIN), &hook, &ch, 0), 0);
}

static void set_route(struct bundle *bu, __u32 enf, __u32 vslot, __u32 mode)
{
	struct apiary_route r = { .default_vslot = vslot, .mode = mode };

	assert_int_equal(bpf_map_update_elem(map_fd(bu->side, APIARY_MAP_ROUTES), &enf, &r, 0), 0);
}

/* The context of CPU 0 (this thread is pinned there). */
static void read_ctx(struct bundle *bu, struct apiary_ctx *out)
{
	size_t sz = (sizeof(*out) + 7) & ~7ul;
	int ncpu = libbpf_num_possible_cpus();
	char *vals = calloc((size_t)ncpu, sz);
	__u32 zero = 0;

	assert_int_equal(bpf_map_lookup_elem(map_fd(bu->side, APIARY_MAP_CTX), &zero, vals), 0);
	memcpy(out, vals, sizeof(*out));
	free(vals);
}

/* Run one frame through a dispatcher; returns its verdict. */
static int run(struct bundle *bu, const char *dispatcher, const void *frame, size_t len,
	       struct apiary_ctx *ctx)
{
	struct bpf_program *prog = bpf_object__find_program_by_name(bu->side, dispatcher);
	unsigned char out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	assert_non_null(prog);
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(prog), &o), 0);
	read_ctx(bu, ctx);
	return (int)o.retval;
}

/* ---- frames ---- */

struct frame {
	unsigned char b[256];
	size_t len;
};

static void put16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

/* Ethernet (+ optional VLAN) header; returns the L3 offset. */
static size_t eth(struct frame *f, unsigned type, int vlan)
{
	static const unsigned char dst[6] = { 2, 0, 0, 0, 0, 2 }, src[6] = { 2, 0, 0, 0, 0, 9 };
	size_t off = 12;

	memcpy(f->b, dst, 6);
	memcpy(f->b + 6, src, 6);
	if (vlan) {
		put16(f->b + 12, 0x8100);
		put16(f->b + 14, (unsigned)vlan);
		off = 16;
	}
	put16(f->b + off, type);
	return off + 2;
}

/* IPv4 (ihl words) + TCP/UDP with ports. */
static void ip4(struct frame *f, unsigned proto, const unsigned char s[4], const unsigned char d[4],
		unsigned sport, unsigned dport, unsigned flags, int ihl, unsigned frag)
{
	size_t l3 = eth(f, 0x0800, 0), l4 = l3 + (size_t)ihl * 4;
	unsigned char *ip = f->b + l3, *t = f->b + l4;

	ip[0] = (unsigned char)(0x40 | ihl);
	put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = (unsigned char)proto;
	memcpy(ip + 12, s, 4);
	memcpy(ip + 16, d, 4);
	put16(t, sport);
	put16(t + 2, dport);
	if (proto == 6) {
		t[12] = 5 << 4;
		t[13] = (unsigned char)flags;
		f->len = l4 + 20;
	} else {
		f->len = l4 + 8;
	}
	put16(ip + 2, (unsigned)(f->len - l3));
}

static const unsigned char A[4] = { 10, 1, 0, 1 }, B[4] = { 10, 2, 0, 2 };

static struct frame tcp4(const unsigned char *s, const unsigned char *d, unsigned sp, unsigned dp)
{
	struct frame f = { 0 };

	ip4(&f, 6, s, d, sp, dp, 0x18, 5, 0);
	return f;
}

/* ---- the edge bundle: xdp fw -> counter, tc.egress meter ---- */

static void test_edge_execution(void **state)
{
	struct bundle *bu = load(tspec_edge(BPF_SRC_DIR), "edge");
	struct apiary_ctx c, c2;
	struct frame f;
	__u64 flow80, hits = 0, bytes = 0;
	__u32 zero = 0;

	set_chain(bu, APIARY_HOOK_ID_XDP, 2, 0, 1);
	set_chain(bu, APIARY_HOOK_ID_TC_EGRESS, 1, 2);

	/* telnet: fw drops, counter never runs. */
	f = tcp4(A, B, 40000, 23);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_DROP);
	assert_int_equal(c.hook, APIARY_HOOK_ID_XDP);
	assert_int_equal(c.ntrace, 1);
	assert_int_equal(c.trace[0].enforcer, 0);
	assert_int_equal(c.trace[0].vslot, 0);
	assert_int_equal(c.trace[0].hook, APIARY_HOOK_ID_XDP);
	assert_int_equal(c.trace[0].verdict, XDP_DROP);
	assert_int_equal(c.matched, 1);
	assert_true(c.flow_id != 0);
	assert_int_equal(c.pkt.dport, 23);
	assert_int_equal(c.pkt.sport, 40000);
	assert_int_equal(c.pkt.layers, 0x1 | 0x4 | 0x10 | 0x80);
	assert_int_equal(c.key.family, 4);
	assert_int_equal(c.key.proto, 6);

	/* web: both run and pass; the counter's own map counts. */
	f = tcp4(A, B, 40001, 80);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_PASS);
	assert_int_equal(c.ntrace, 2);
	assert_int_equal(c.trace[0].enforcer, 0);
	assert_int_equal(c.trace[0].verdict, XDP_PASS);
	assert_int_equal(c.trace[1].enforcer, 1);
	assert_int_equal(c.trace[1].verdict, XDP_PASS);
	assert_int_equal(c.step, 1);
	assert_int_equal(c.direction, 0);
	flow80 = c.flow_id;
	assert_int_equal(bpf_map_lookup_elem(map_fd(bu->objs[2], "counter_hits"), &zero, &hits), 0);
	assert_int_equal(hits, 1);

	/* The reply finds the same flow, other direction. */
	f = tcp4(B, A, 80, 40001);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c2), XDP_PASS);
	assert_true(c2.seq > c.seq);
	assert_int_equal(c2.flow_id, flow80);
	assert_int_equal(c2.direction, 1);
	assert_memory_equal(&c2.key, &c.key, sizeof(c.key));

	/* Not matched (UDP): no flow, enforcers still run. */
	{
		struct frame u = { 0 };

		ip4(&u, 17, A, B, 5000, 53, 0, 5, 0);
		assert_int_equal(run(bu, "apiary_xdp", u.b, u.len, &c2), XDP_PASS);
		assert_int_equal(c2.matched, 0);
		assert_int_equal(c2.flow_id, 0);
		assert_int_equal(c2.ntrace, 2);
		assert_int_equal(c2.pkt.layers & 0x20, 0x20);
	}

	/* tc.egress: the flow made at xdp is found; meter adds to conn_bytes. */
	f = tcp4(A, B, 40001, 80);
	assert_int_equal(run(bu, "apiary_tc_egress", f.b, f.len, &c2), TC_ACT_OK);
	assert_int_equal(c2.hook, APIARY_HOOK_ID_TC_EGRESS);
	assert_int_equal(c2.flow_id, flow80);
	assert_int_equal(c2.ntrace, 1);
	assert_int_equal(c2.trace[0].enforcer, 2);
	assert_int_equal(c2.trace[0].hook, APIARY_HOOK_ID_TC_EGRESS);
	assert_int_equal(c2.trace[0].verdict, TC_ACT_OK);
	assert_int_equal(bpf_map_lookup_elem(map_fd(bu->side, "conn_bytes"), &c2.key, &bytes), 0);
	assert_int_equal(bytes, f.len);
	{
		struct apiary_flow fl;

		assert_int_equal(bpf_map_lookup_elem(map_fd(bu->side, APIARY_MAP_FLOWS), &c2.key, &fl), 0);
		assert_int_equal(fl.id, flow80);
		assert_int_equal(fl.born_hook, APIARY_HOOK_ID_XDP);
		assert_int_equal(fl.packets, 2); /* counted at the classifier's hook: xdp, xdp reply */
		assert_int_equal(fl.pin[0], 0);
		assert_int_equal(fl.pin[3], APIARY_NO_PIN);
	}

	/* Empty chain: the continue verdict, nothing traced. */
	assert_int_equal(run(bu, "apiary_tc_ingress", f.b, f.len, &c2), TC_ACT_OK);
	assert_int_equal(c2.ntrace, 0);
	/* Not the classifier's hook: no flow is created there. */
	f = tcp4(A, B, 41000, 80);
	run(bu, "apiary_tc_ingress", f.b, f.len, &c2);
	assert_int_equal(c2.matched, 1);
	assert_int_equal(c2.flow_id, 0);

	/* Order is data: counter first now. */
	set_chain(bu, APIARY_HOOK_ID_XDP, 2, 1, 0);
	f = tcp4(A, B, 40000, 23);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_DROP);
	assert_int_equal(c.ntrace, 2);
	assert_int_equal(c.trace[0].enforcer, 1);
	assert_int_equal(c.trace[1].enforcer, 0);
	unload(bu);
}

/* Version routing: pinned flows keep their version, naive mode does not. */
static void test_edge_routing(void **state)
{
	struct bundle *bu = load(tspec_edge(BPF_SRC_DIR), "route");
	struct apiary_ctx c;
	struct frame old = tcp4(A, B, 40002, 2323), fresh = tcp4(A, B, 40003, 2323);

	set_chain(bu, APIARY_HOOK_ID_XDP, 1, 0);
	/* v1 passes port 2323; the flow is pinned to vslot 0. */
	assert_int_equal(run(bu, "apiary_xdp", old.b, old.len, &c), XDP_PASS);
	assert_int_equal(c.trace[0].vslot, 0);

	/* Update: new flows get v2 (drops 2323), the old flow stays on v1. */
	set_route(bu, 0, 1, APIARY_ROUTE_PINNED);
	assert_int_equal(run(bu, "apiary_xdp", old.b, old.len, &c), XDP_PASS);
	assert_int_equal(c.trace[0].vslot, 0);
	assert_int_equal(run(bu, "apiary_xdp", fresh.b, fresh.len, &c), XDP_DROP);
	assert_int_equal(c.trace[0].vslot, 1);

	/* Naive replace: the old flow switches version mid-connection. */
	set_route(bu, 0, 1, APIARY_ROUTE_NAIVE);
	assert_int_equal(run(bu, "apiary_xdp", old.b, old.len, &c), XDP_DROP);
	assert_int_equal(c.trace[0].vslot, 1);
	unload(bu);
}

/* A prebuilt object ends the chain; its entry says UNKNOWN. */
static void test_opaque_ends_chain(void **state)
{
	struct bundle *bu = load(tspec_opaque(BPF_SRC_DIR, PREBUILT_OBJ), "mixed");
	struct apiary_ctx c;
	struct frame f = tcp4(A, B, 40000, 80);

	set_chain(bu, APIARY_HOOK_ID_XDP, 2, 1, 0);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_TX);
	assert_int_equal(c.ntrace, 2);
	assert_int_equal(c.trace[0].enforcer, 1);
	assert_int_equal(c.trace[0].verdict, XDP_PASS);
	assert_int_equal(c.trace[1].enforcer, 0);
	assert_int_equal(c.trace[1].verdict, APIARY_VERDICT_UNKNOWN);
	assert_int_equal(c.matched, 0); /* no classifier */
	assert_int_equal(c.flow_id, 0);

	f = tcp4(A, B, 40000, 23);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_DROP);
	assert_int_equal(c.ntrace, 1);

	/* Opaque first: the dispatcher writes its entry. */
	set_chain(bu, APIARY_HOOK_ID_XDP, 1, 0);
	f = tcp4(A, B, 40000, 80);
	assert_int_equal(run(bu, "apiary_xdp", f.b, f.len, &c), XDP_TX);
	assert_int_equal(c.ntrace, 1);
	assert_int_equal(c.trace[0].verdict, APIARY_VERDICT_UNKNOWN);
	unload(bu);
}

/* IPv6 over VLAN at tc.ingress (the preds classifier's hook), and the
 * parser's edge cases. */
static void test_parse_ipv6_vlan(void **state)
{
	struct bundle *bu = load(tspec_preds(BPF_SRC_DIR), "preds");
	static const unsigned char s6[16] = { 0xfd, [15] = 1 }, d6[16] = { 0xfd, [15] = 2 };
	struct apiary_ctx c, c2;
	struct frame f = { 0 };
	size_t l3 = eth(&f, 0x86dd, 30); /* not 10 or 20: those match */
	unsigned char *ip = f.b + l3, *t = ip + 40;
	__u64 hits = 0;
	__u32 zero = 0;
	struct apiary_flow fl;

	set_chain(bu, APIARY_HOOK_ID_TC_INGRESS, 1, 0);
	ip[0] = 0x60;
	put16(ip + 4, 20);
	ip[6] = 6;
	ip[7] = 9;
	memcpy(ip + 8, d6, 16); /* higher address first: canonical order swaps */
	memcpy(ip + 24, s6, 16);
	put16(t, 443);
	put16(t + 2, 50000);
	t[12] = 5 << 4;
	t[13] = 0x02; /* SYN */
	f.len = l3 + 60;

	assert_int_equal(run(bu, "apiary_tc_ingress", f.b, f.len, &c), TC_ACT_UNSPEC);
	assert_int_equal(c.pkt.layers, 0x1 | 0x2 | 0x8 | 0x10 | 0x80);
	assert_int_equal(c.pkt.vlan_id, 30);
	assert_int_equal(c.pkt.eth_type, 0x8100);
	assert_int_equal(c.pkt.ip_ttl, 9);
	assert_int_equal(c.pkt.l3_off, 18);
	assert_int_equal(c.pkt.l4_off, 58);
	assert_int_equal(c.pkt.payload_off, 78);
	assert_int_equal(c.pkt.tcp_flags, 0x02);
	assert_memory_equal(c.pkt.ip6_src, d6, 16);
	assert_int_equal(c.matched, 1);
	assert_int_equal(c.key.family, 6);
	assert_memory_equal(c.key.src, s6, 16);
	assert_int_equal(c.key.sport, 50000);
	assert_true(c.flow_id != 0);
	assert_int_equal(c.direction, 0);
	assert_int_equal(c.ntrace, 1);
	assert_int_equal(c.trace[0].verdict, TC_ACT_UNSPEC);
	assert_int_equal(bpf_map_lookup_elem(map_fd(bu->side, "hits"), &zero, &hits), 0);
	assert_int_equal(hits, 1);
	assert_int_equal(bpf_map_lookup_elem(map_fd(bu->side, APIARY_MAP_FLOWS), &c.key, &fl), 0);
	assert_int_equal(fl.label, 7); /* written by the enforcer through apiary_flow() */
	assert_int_equal(fl.born_hook, APIARY_HOOK_ID_TC_INGRESS);
	assert_int_equal(fl.orient, 1);

	/* SYN-ACK reply: the match fails (ack), the flow is still found. */
	memcpy(ip + 8, s6, 16);
	memcpy(ip + 24, d6, 16);
	put16(t, 50000);
	put16(t + 2, 443);
	t[13] = 0x12;
	assert_int_equal(run(bu, "apiary_tc_ingress", f.b, f.len, &c2), TC_ACT_UNSPEC);
	assert_int_equal(c2.matched, 0);
	assert_int_equal(c2.flow_id, c.flow_id);
	assert_int_equal(c2.direction, 1);

	/* IPv4 with options + UDP 1024..65535: matched, ports past the options. */
	memset(&f, 0, sizeof(f));
	ip4(&f, 17, A, B, 7, 5353, 0, 6, 0);
	run(bu, "apiary_tc_ingress", f.b, f.len, &c);
	assert_int_equal(c.pkt.l4_off, 14 + 24);
	assert_int_equal(c.pkt.dport, 5353);
	assert_int_equal(c.pkt.layers, 0x1 | 0x4 | 0x20 | 0x80);
	assert_int_equal(c.matched, 1);

	/* A later fragment has no L4 header: no UDP layer, no ports. */
	memset(&f, 0, sizeof(f));
	ip4(&f, 17, A, B, 7, 5353, 0, 5, 0x0010);
	run(bu, "apiary_tc_ingress", f.b, f.len, &c);
	assert_int_equal(c.pkt.layers, 0x1 | 0x4);
	assert_int_equal(c.pkt.dport, 0);

	/* Truncated TCP header: IPv4 only. */
	f = tcp4(A, B, 1, 2);
	run(bu, "apiary_tc_ingress", f.b, f.len - 4, &c);
	assert_int_equal(c.pkt.layers, 0x1 | 0x4);
	assert_int_equal(c.pkt.len, f.len - 4);

	/* `not eth.type != ipv4` matches IPv4 regardless of the rest. */
	f = tcp4(A, B, 1, 2);
	run(bu, "apiary_tc_ingress", f.b, f.len, &c);
	assert_int_equal(c.matched, 1);
	unload(bu);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_edge_execution),
		cmocka_unit_test(test_edge_routing),
		cmocka_unit_test(test_opaque_ends_chain),
		cmocka_unit_test(test_parse_ipv6_vlan),
	};
	cpu_set_t set;

	/* The context map is per-CPU: run and read on CPU 0. */
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		perror("sched_setaffinity");
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
