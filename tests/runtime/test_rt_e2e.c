// SPDX-License-Identifier: MIT
/*
 * The loader on the real kernel, with hand-written stand-ins for the
 * compiler's output (tests/runtime/bpf): chains set from user space run in
 * exactly that order, continue/drop semantics, snapshot/restore/diff,
 * config/global entries typed through BTF, verifier diagnostics.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/pkt_cls.h>
#include <sys/syscall.h>

#include "apiary/runtime.h"
#include "rt_internal.h"

#define MAXE 8

/* A spec and a build put together by hand. */
struct fx {
	struct apiary_spec spec;
	struct apiary_enforcer enf[MAXE];
	struct apiary_state states[1];
	struct apiary_build b;
	struct apiary_build_prog progs[MAXE];
	char paths[MAXE][512];
	char srcs[MAXE][512];
	char sidecar[512];
	struct apiary_rt *rt;
	struct apiary_snapshot *init;
};

static void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	f->spec.path = "test.spec";
	f->spec.enforcers = f->enf;
	f->spec.states = f->states;
	f->spec.nstates = 1;
	f->states[0].name.s = "order_log";
	snprintf(f->sidecar, sizeof(f->sidecar), "%s/mini_sidecar.bpf.o", RT_BPF_DIR);
	f->b.spec = &f->spec;
	f->b.sidecar_object = f->sidecar;
	f->b.progs = f->progs;
}

/* Enforcer number spec.nenforcers, at xdp, from object RT_BPF_DIR/obj.bpf.o. */
static int fx_add(struct fx *f, const char *name, const char *obj, const char *prog, bool opaque,
		  const char *src)
{
	int e = (int)f->spec.nenforcers++;
	struct apiary_build_prog *p = &f->progs[f->b.nprogs++];

	f->enf[e].name.s = (char *)name;
	f->enf[e].team.s = "team_t";
	f->enf[e].version = 1;
	f->enf[e].hook = APIARY_HOOK_XDP;
	f->enf[e].code.prebuilt = opaque;
	f->enf[e].loc.file = "test.spec";
	f->enf[e].loc.line = 10 + e;
	f->enf[e].loc.col = 1;
	snprintf(f->paths[e], sizeof(f->paths[e]), "%s/%s.bpf.o", RT_BPF_DIR, obj);
	p->enforcer = e;
	p->vslot = 0;
	p->version = 1;
	p->hook = APIARY_HOOK_XDP;
	p->opaque = opaque;
	p->object_path = f->paths[e];
	p->prog_name = (char *)prog;
	if (src) {
		snprintf(f->srcs[e], sizeof(f->srcs[e]), "%s/%s", RT_SRC_DIR, src);
		p->source_path = f->srcs[e];
	}
	return e;
}

static int map_index(const struct apiary_rt *rt, const char *name)
{
	size_t i;

	for (i = 0; i < apiary_rt_nmaps(rt); i++)
		if (!strcmp(apiary_rt_map_name(rt, i), name))
			return (int)i;
	return -1;
}

static uint32_t order_log(const struct apiary_rt *rt, uint32_t k)
{
	int i = map_index(rt, "order_log");
	uint32_t v = 0xdead;

	assert_true(i >= 0);
	assert_int_equal(bpf_map_lookup_elem(rt->maps[i].fd, &k, &v), 0);
	return v;
}

/* An IPv4/UDP-ish frame: src address ends in last, byte 14 = 0x45. */
static void frame(struct apiary_event *ev, uint8_t last)
{
	memset(ev, 0, sizeof(*ev));
	ev->hook = APIARY_HOOK_XDP;
	ev->len = 60;
	ev->data[12] = 0x08;
	ev->data[14] = 0x45;
	ev->data[26] = 10;
	ev->data[29] = last;
}

/* ---- the chain bundle: app0 app1 app2 rewriter checker dropper opaque -- */

static int chain_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct apiary_diags d;
	int err;

	assert_non_null(f);
	fx_init(f);
	fx_add(f, "app0", "app0", "apiary_w_e0", false, "appender.bpf.c");
	fx_add(f, "app1", "app1", "apiary_w_e1", false, "appender.bpf.c");
	fx_add(f, "app2", "app2", "apiary_w_e2", false, "appender.bpf.c");
	fx_add(f, "rewriter", "rewriter", "apiary_w_e3", false, "appender.bpf.c");
	fx_add(f, "checker", "checker", "apiary_w_e4", false, "appender.bpf.c");
	fx_add(f, "dropper", "dropper", "apiary_w_e5", false, "appender.bpf.c");
	fx_add(f, "lb", "opaque", "lb_main", true, NULL);
	apiary_diags_init(&d);
	err = apiary_rt_load(&f->b, NULL, &f->rt, &d);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	assert_int_equal(d.errors, 0);
	apiary_diags_free(&d);
	assert_int_equal(apiary_rt_snapshot(f->rt, &f->init), 0);
	*state = f;
	return 0;
}

static int chain_teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	apiary_snapshot_free(f->init);
	apiary_rt_free(f->rt);
	free(f);
	return 0;
}

/* The default chain is the spec's order with the opaque one last: runs up
 * to the dropper. */
static void test_default_chain(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;
	uint32_t i;

	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	frame(&ev, 1);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_DROP);
	assert_int_equal(o.ntrace, 6);
	for (i = 0; i < 6; i++) {
		assert_int_equal(o.trace[i].enforcer, i);
		assert_int_equal(o.trace[i].hook, APIARY_HOOK_ID_XDP);
		assert_int_equal(o.trace[i].verdict, i == 5 ? XDP_DROP : XDP_PASS);
		assert_int_equal(order_log(f->rt, i), 100 + i);
	}
	assert_int_equal(order_log(f->rt, 6), 0);
	assert_int_equal(o.flow_id, (1ull << 32) | 1);
	assert_int_equal(o.matched, 1);
}

/* (a) THE key test: the order set from user space is the order that runs,
 * seen both in the shared state map and in the trace. */
static void test_chain_orders(void **state)
{
	static const int orders[][3] = {
		{ 0, 1, 2 }, { 2, 0, 1 }, { 1, 2, 0 }, { 2, 1, 0 }, { 0, 2, 1 }, { 1, 0, 2 },
	};
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;
	size_t k, i;

	frame(&ev, 2);
	for (k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
		assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
		assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, orders[k], 3), 0);
		assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
		assert_int_equal(o.verdict, XDP_PASS);
		assert_int_equal(o.ntrace, 3);
		for (i = 0; i < 3; i++) {
			assert_int_equal(order_log(f->rt, (uint32_t)i), 100 + orders[k][i]);
			assert_int_equal(o.trace[i].enforcer, orders[k][i]);
			assert_int_equal(o.trace[i].verdict, XDP_PASS);
		}
		assert_int_equal(order_log(f->rt, 3), 0);
	}
	/* Two of them only, then one. */
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 2, 1 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.ntrace, 2);
	assert_int_equal(order_log(f->rt, 0), 102);
	assert_int_equal(order_log(f->rt, 1), 101);
	assert_int_equal(order_log(f->rt, 2), 0);
	/* An empty chain: the dispatcher's own verdict, nothing traced. */
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, NULL, 0), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.ntrace, 0);
	assert_int_equal(o.verdict, XDP_PASS);
	/* Bad chains are refused. */
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 9 }, 1), -EINVAL);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_TC_EGRESS, (int[]){ 0 }, 1),
			 -EINVAL);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 0 },
					     APIARY_MAX_CHAIN + 1),
			 -EINVAL);
}

/* (b) A continue verdict hands the rewritten packet on; a drop ends the
 * chain; an opaque enforcer's verdict is the run's. */
static void test_continue_and_drop(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;

	frame(&ev, 3);
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 3, 4 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_PASS);
	assert_int_equal(o.len, 60);
	assert_int_equal(o.data[14], 0xab);      /* rewritten */
	assert_int_equal(order_log(f->rt, 15), 1); /* the checker saw it rewritten */
	assert_int_equal(o.ntrace, 2);

	/* Checker alone sees the original byte. */
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 4 }, 1), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.data[14], 0x45);
	assert_int_equal(order_log(f->rt, 15), 2);

	/* Drop first: app0 never runs. */
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 5, 0, 1 }, 3), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_DROP);
	assert_int_equal(o.ntrace, 1);
	assert_int_equal(o.trace[0].enforcer, 5);
	assert_int_equal(o.trace[0].verdict, XDP_DROP);
	assert_int_equal(order_log(f->rt, 0), 105);
	assert_int_equal(order_log(f->rt, 1), 0);

	/* The opaque one ends the chain; its UNKNOWN trace verdict becomes the
	 * run's return value. */
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 0, 6 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_TX);
	assert_int_equal(o.ntrace, 2);
	assert_int_equal(o.trace[1].enforcer, 6);
	assert_int_equal(o.trace[1].verdict, XDP_TX);

	/* A short frame is padded to an Ethernet header. */
	ev.len = 3;
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.len, 14);
}

static size_t count_map(const struct apiary_delta *d, size_t map)
{
	size_t i, n = 0;

	for (i = 0; i < d->n; i++)
		n += d->changes[i].map == map;
	return n;
}

/* (c) Snapshot/restore gives identical state; the diff shows exactly the
 * entries that changed, sorted. */
static void test_state(void **state)
{
	struct fx *f = *state;
	struct apiary_snapshot *s0 = NULL, *s1 = NULL, *s2 = NULL, *s3 = NULL;
	struct apiary_delta d1, d2, d3;
	struct apiary_event ev;
	static struct apiary_outcome o;
	int ol = map_index(f->rt, "order_log"), fl = map_index(f->rt, "apiary_flows");
	int h0 = map_index(f->rt, "app0:hits"), b0 = map_index(f->rt, "app0:.bss");
	int h2 = map_index(f->rt, "app2:hits"), h3 = map_index(f->rt, "rewriter:hits");
	size_t i;

	assert_true(ol >= 0 && fl >= 0 && h0 >= 0 && b0 >= 0 && h2 >= 0 && h3 >= 0);
	assert_int_equal(map_index(f->rt, "app0:.rodata"), -1);
	assert_int_equal(map_index(f->rt, "apiary_chain"), -1);
	assert_int_equal(apiary_rt_map_owner(f->rt, (size_t)ol), -1);
	assert_int_equal(apiary_rt_map_owner(f->rt, (size_t)fl), -1);
	assert_int_equal(apiary_rt_map_owner(f->rt, (size_t)h2), 2);
	/* Which programs reference which maps (from the kernel's map ids). */
	assert_true(apiary_rt_prog_uses_map(f->rt, 0, 0, (size_t)ol));
	assert_true(apiary_rt_prog_uses_map(f->rt, 0, 0, (size_t)h0));
	assert_false(apiary_rt_prog_uses_map(f->rt, 2, 0, (size_t)h0));
	assert_false(apiary_rt_prog_uses_map(f->rt, 6, 0, (size_t)ol));

	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 0, 1, 2 }, 3), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s0), 0);
	frame(&ev, 7);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &d1), 0);
	/* order_log 0..2, one new flow, a new hits entry and a changed .bss in
	 * each of the three objects: 10 changes. */
	assert_int_equal(d1.n, 10);
	assert_int_equal(count_map(&d1, (size_t)ol), 3);
	assert_int_equal(count_map(&d1, (size_t)fl), 1);
	assert_int_equal(count_map(&d1, (size_t)h0), 1);
	assert_int_equal(count_map(&d1, (size_t)b0), 1);
	assert_int_equal(count_map(&d1, (size_t)h3), 0);
	for (i = 0; i < d1.n; i++) {
		const struct apiary_map_change *c = &d1.changes[i];

		if (i) {
			const struct apiary_map_change *p = &d1.changes[i - 1];

			assert_true(p->map < c->map ||
				    (p->map == c->map && memcmp(p->key, c->key, c->key_size) < 0));
		}
		if (c->map == (size_t)fl) {
			assert_null(c->before); /* added */
			assert_non_null(c->after);
		}
		if (c->map == (size_t)ol) {
			uint32_t k, before, after;

			memcpy(&k, c->key, 4);
			memcpy(&before, c->before, 4);
			memcpy(&after, c->after, 4);
			assert_int_equal(before, 0);
			assert_int_equal(after, 100 + k);
		}
	}
	/* Restore: identical to s0 (the new flow is deleted). */
	assert_int_equal(apiary_rt_restore(f->rt, s0), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s2), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s2, &d2), 0);
	assert_int_equal(d2.n, 0);
	apiary_delta_free(&d2);
	/* The same packet again gives the same delta; another chain another. */
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s3), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s3, &d2), 0);
	assert_true(apiary_delta_equal(&d1, &d2));
	assert_int_equal(apiary_rt_restore(f->rt, s0), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 1, 0, 2 }, 3), 0);
	apiary_snapshot_free(s3);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s3), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s3, &d3), 0);
	assert_int_equal(d3.n, 10);
	assert_false(apiary_delta_equal(&d1, &d3));

	apiary_delta_free(&d1);
	apiary_delta_free(&d2);
	apiary_delta_free(&d3);
	apiary_snapshot_free(s0);
	apiary_snapshot_free(s1);
	apiary_snapshot_free(s2);
	apiary_snapshot_free(s3);
}

/* Many flows: the batch dump crosses chunks and restore deletes them all. */
static void test_state_many(void **state)
{
	struct fx *f = *state;
	struct apiary_snapshot *s0 = NULL, *s1 = NULL;
	struct apiary_delta d;
	struct apiary_event ev;
	static struct apiary_outcome o;
	int fl = map_index(f->rt, "apiary_flows");
	int i;

	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s0), 0);
	for (i = 0; i < 200; i++) {
		frame(&ev, (uint8_t)i);
		ev.data[28] = (uint8_t)(i >> 8);
		assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	}
	assert_int_equal(apiary_rt_snapshot(f->rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &d), 0);
	assert_int_equal(count_map(&d, (size_t)fl), 200);
	apiary_delta_free(&d);
	assert_int_equal(apiary_rt_restore(f->rt, s0), 0);
	apiary_snapshot_free(s1);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &d), 0);
	assert_int_equal(d.n, 0);
	apiary_delta_free(&d);
	apiary_snapshot_free(s0);
	apiary_snapshot_free(s1);
}

/* tc: the dispatcher runs with a zeroed __sk_buff as context. */
static void test_tc(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;

	frame(&ev, 9);
	ev.hook = APIARY_HOOK_TC_INGRESS;
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, TC_ACT_OK);
	assert_int_equal(o.ntrace, 0);
	assert_int_equal(o.flow_id, (1ull << 32) | 9);
	assert_int_equal(o.len, 60);
	ev.hook = APIARY_HOOK_TC_EGRESS; /* no dispatcher in the stand-in sidecar */
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), -ENOENT);
	assert_true(apiary_rt_dispatcher_fd(f->rt, APIARY_HOOK_XDP) >= 0);
	assert_true(apiary_rt_prog_fd(f->rt, 6, 0) >= 0);
	assert_int_equal(apiary_rt_prog_fd(f->rt, 6, 1), -1);
}

/* ---- (d) config and globals ------------------------------------------ */

static struct apiary_literal L_int(uint64_t u, int line)
{
	struct apiary_literal l = { .kind = APIARY_LIT_INT, .u = u };

	l.loc.file = "test.spec";
	l.loc.line = line;
	l.loc.col = 5;
	return l;
}

static struct apiary_literal L_addr(enum apiary_lit_kind k, const uint8_t *a, size_t n, int line)
{
	struct apiary_literal l = L_int(0, line);

	l.kind = k;
	memcpy(l.addr, a, n);
	l.prefix = (int)n * 8;
	return l;
}

static struct apiary_cfg_field F(const char *name, struct apiary_literal v)
{
	struct apiary_cfg_field f = { .value = v };

	f.name.s = (char *)name;
	f.name.loc = v.loc;
	return f;
}

static void set_name(struct apiary_name *n, const char *s, int line)
{
	n->s = (char *)s;
	n->loc.file = "test.spec";
	n->loc.line = line;
	n->loc.col = 3;
}

static const uint8_t ip4[4] = { 192, 0, 2, 10 };
static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
static const uint8_t ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

struct cfgfx {
	struct fx f;
	struct apiary_config cfg[4];
	struct apiary_cfg_field kf[3], vf[4], pk[1], pv[1], ok[1], ov[1];
	uint8_t rawk[4], rawv[8];
	struct apiary_global glob[3];
};

static void cfg_fixture(struct cfgfx *c)
{
	fx_init(&c->f);
	fx_add(&c->f, "cfg", "cfgtest", "apiary_w_cfg", false, "cfgtest.bpf.c");

	set_name(&c->cfg[0].map, "vip_map", 20);
	c->kf[0] = F("addr", L_addr(APIARY_LIT_IPV4, ip4, 4, 20));
	c->kf[1] = F("port", L_int(80, 20));
	c->kf[2] = F("proto", L_int(6, 20));
	c->cfg[0].key.fields = c->kf;
	c->cfg[0].key.nfields = 3;
	c->vf[0] = F("vip_num", L_int(7, 20));
	c->vf[1] = F("mac", L_addr(APIARY_LIT_MAC, mac, 6, 20));
	c->vf[2] = F("addr6", L_addr(APIARY_LIT_IPV6, ip6, 16, 20));
	c->vf[3] = F("inner", L_int(3, 20));
	c->cfg[0].value.fields = c->vf;
	c->cfg[0].value.nfields = 4;

	set_name(&c->cfg[1].map, "raw_map", 21);
	memcpy(c->rawk, (uint8_t[]){ 1, 0, 0, 0 }, 4);
	memcpy(c->rawv, (uint8_t[]){ 1, 2, 3, 4, 5, 6, 7, 8 }, 8);
	c->cfg[1].key = (struct apiary_cfg_value){ .raw = true, .bytes = c->rawk, .nbytes = 4 };
	c->cfg[1].value = (struct apiary_cfg_value){ .raw = true, .bytes = c->rawv, .nbytes = 8 };
	c->cfg[1].key.loc.file = c->cfg[1].value.loc.file = "test.spec";
	c->cfg[1].key.loc.line = c->cfg[1].value.loc.line = 21;

	set_name(&c->cfg[2].map, "pcpu_cfg", 22);
	c->pk[0] = F("k", L_int(1, 22));
	c->pv[0] = F("v", L_int(42, 22));
	c->cfg[2].key = (struct apiary_cfg_value){ .fields = c->pk, .nfields = 1 };
	c->cfg[2].value = (struct apiary_cfg_value){ .fields = c->pv, .nfields = 1 };

	/* A declared state map owned by the sidecar. */
	set_name(&c->cfg[3].map, "order_log", 23);
	c->ok[0] = F("i", L_int(9, 23));
	c->ov[0] = F("v", L_int(77, 23));
	c->cfg[3].key = (struct apiary_cfg_value){ .fields = c->ok, .nfields = 1 };
	c->cfg[3].value = (struct apiary_cfg_value){ .fields = c->ov, .nfields = 1 };

	c->f.enf[0].configs = c->cfg;
	c->f.enf[0].nconfigs = 4;

	set_name(&c->glob[0].name, "threshold", 24);
	c->glob[0].value = L_int(1234, 24);
	set_name(&c->glob[1].name, "port_be", 25);
	c->glob[1].value = L_int(443, 25);
	set_name(&c->glob[2].name, "level", 26);
	c->glob[2].value = L_int(99, 26);
	c->f.enf[0].globals = c->glob;
	c->f.enf[0].nglobals = 3;
}

static void test_config(void **state)
{
	static struct cfgfx c;
	static struct apiary_outcome o;
	struct apiary_diags d;
	struct apiary_event ev;
	struct bpf_map *m;
	uint8_t key[8] = { 192, 0, 2, 10, 0, 80, 6, 0 }, val[48], want[48] = { 0 };
	uint32_t seven = 7, k = 1, *pc;
	uint64_t raw;
	int ncpu = libbpf_num_possible_cpus(), i;
	struct apiary_rt *rt;

	cfg_fixture(&c);
	apiary_diags_init(&d);
	if (apiary_rt_load(&c.f.b, NULL, &rt, &d))
		apiary_diags_print(&d, stderr);
	assert_int_equal(d.errors, 0);
	apiary_diags_free(&d);

	m = bpf_object__find_map_by_name(rt->progs[0].obj, "vip_map");
	assert_non_null(m);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), key, val), 0);
	memcpy(want, &seven, 4);
	memcpy(want + 4, mac, 6);
	memcpy(want + 12, ip6, 16);
	want[40] = 3;
	assert_memory_equal(val, want, 40);
	assert_int_equal(val[40], 3);

	m = bpf_object__find_map_by_name(rt->progs[0].obj, "raw_map");
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), c.rawk, &raw), 0);
	assert_memory_equal(&raw, c.rawv, 8);

	m = bpf_object__find_map_by_name(rt->progs[0].obj, "pcpu_cfg");
	pc = calloc((size_t)ncpu, 8);
	assert_int_equal(bpf_map_lookup_elem(bpf_map__fd(m), &k, pc), 0);
	for (i = 0; i < ncpu; i++)
		assert_int_equal(pc[i * 2], 42);
	free(pc);
	assert_int_equal(order_log(rt, 9), 77);

	/* Globals reach the program: it copies them into order_log. */
	frame(&ev, 1);
	assert_int_equal(apiary_rt_run(rt, &ev, &o), 0);
	assert_int_equal(order_log(rt, 10), 1234);
	assert_int_equal(order_log(rt, 11), htons(443));
	assert_int_equal(order_log(rt, 12), 99);
	assert_true(map_index(rt, "cfg:.data") >= 0);
	assert_true(map_index(rt, "cfg:pcpu_cfg") >= 0);
	assert_int_equal(map_index(rt, "cfg:.rodata"), -1);
	apiary_rt_free(rt);
}

/* With no_config nothing is written. */
static void test_no_config(void **state)
{
	static struct cfgfx c;
	static struct apiary_outcome o;
	struct apiary_rt_opts opts = { .sz = sizeof(opts), .cpu = 1, .no_config = true };
	struct apiary_diags d;
	struct apiary_event ev;
	struct apiary_rt *rt;

	cfg_fixture(&c);
	apiary_diags_init(&d);
	if (libbpf_num_possible_cpus() < 2)
		opts.cpu = 0;
	assert_int_equal(apiary_rt_load(&c.f.b, &opts, &rt, &d), 0);
	frame(&ev, 1);
	assert_int_equal(apiary_rt_run(rt, &ev, &o), 0);
	assert_int_equal(o.ntrace, 1); /* ctx read from the pinned CPU */
	assert_int_equal(order_log(rt, 9), 0);
	assert_int_equal(order_log(rt, 10), 1);
	assert_int_equal(order_log(rt, 12), 5);
	apiary_rt_free(rt);
	apiary_diags_free(&d);
}

/* Load with one broken config entry: the error names its spec line. */
static void expect_cfg_error(struct cfgfx *c, const char *needle, int line)
{
	struct apiary_diags d;
	struct apiary_rt *rt = NULL;

	apiary_diags_init(&d);
	assert_int_equal(apiary_rt_load(&c->f.b, NULL, &rt, &d), -EINVAL);
	assert_null(rt);
	assert_true(d.errors >= 1);
	if (!strstr(d.items[0].msg, needle))
		fail_msg("'%s' does not mention '%s'", d.items[0].msg, needle);
	assert_int_equal(d.items[0].loc.line, line);
	assert_string_equal(d.items[0].loc.file, "test.spec");
	apiary_diags_free(&d);
}

static void test_config_errors(void **state)
{
	static struct cfgfx c;

	cfg_fixture(&c);
	c.kf[1] = F("prt", L_int(80, 30));
	expect_cfg_error(&c, "no member 'prt'", 30);

	cfg_fixture(&c);
	c.cfg[1].value.nbytes = 4; /* raw value of the wrong size */
	expect_cfg_error(&c, "gives 4", 21);

	cfg_fixture(&c);
	c.cfg[1].key = (struct apiary_cfg_value){ .fields = c.pk, .nfields = 1 };
	c.cfg[1].key.loc.file = "test.spec";
	c.cfg[1].key.loc.line = 31;
	expect_cfg_error(&c, "no BTF", 31);

	cfg_fixture(&c);
	set_name(&c.cfg[2].map, "nosuch", 32);
	expect_cfg_error(&c, "no map", 32);

	cfg_fixture(&c);
	set_name(&c.glob[1].name, "nosuch_global", 33);
	expect_cfg_error(&c, "no global variable", 33);

	cfg_fixture(&c);
	c.glob[0].value = L_addr(APIARY_LIT_IPV6, ip6, 16, 34);
	expect_cfg_error(&c, "IPv6", 34);
}

/* ---- (e) verifier rejections ----------------------------------------- */

/* Line of the marker in a test source. */
static int marker_line(const char *file, const char *marker)
{
	char path[512], buf[512];
	FILE *fp;
	int line = 0;

	snprintf(path, sizeof(path), "%s/%s", RT_SRC_DIR, file);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(buf, sizeof(buf), fp)) {
		line++;
		if (strstr(buf, marker)) {
			fclose(fp);
			return line;
		}
	}
	fclose(fp);
	return -1;
}

/* Raise or lower capabilities in the effective set (the permitted set is
 * kept, so they can come back). Root's programs may read uninitialized
 * stack (CAP_PERFMON): the uninitialized-stack class only shows for a
 * loader without CAP_PERFMON and CAP_SYS_ADMIN. */
static void set_perfmon(bool on)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct c[2];

	assert_int_equal(syscall(SYS_capget, &h, c), 0);
	if (on) {
		c[0].effective = c[0].permitted;
		c[1].effective = c[1].permitted;
	} else {
		c[CAP_PERFMON / 32].effective &= ~(1u << (CAP_PERFMON % 32));
		c[CAP_SYS_ADMIN / 32].effective &= ~(1u << (CAP_SYS_ADMIN % 32));
	}
	assert_int_equal(syscall(SYS_capset, &h, c), 0);
}

static void test_verifier(void **state)
{
	static const struct {
		const char *name, *src, *hint;
	} bad[] = {
		{ "bad_pkt", "bad_pkt.bpf.c", "data_end" },
		{ "bad_loop", "bad_loop.bpf.c", "loop" },
		{ "bad_null", "bad_null.bpf.c", "NULL" },
		{ "bad_stack", "bad_stack.bpf.c", "uninitialized" },
	};
	static struct fx f;
	struct apiary_diags d;
	struct apiary_rt *rt = NULL;
	size_t i, j;

	fx_init(&f);
	fx_add(&f, "good", "app0", "apiary_w_e0", false, "appender.bpf.c");
	for (i = 0; i < 4; i++)
		fx_add(&f, bad[i].name, bad[i].name, bad[i].name, false, bad[i].src);
	apiary_diags_init(&d);
	set_perfmon(false);
	assert_int_equal(apiary_rt_load(&f.b, NULL, &rt, &d), -EINVAL);
	set_perfmon(true);
	assert_null(rt);
	apiary_diags_print(&d, stderr);
	/* Every broken enforcer is reported, in one load. */
	assert_int_equal(d.errors, 4);
	for (i = 0; i < 4; i++) {
		const struct apiary_diag *g = NULL;
		char who[64];
		int line = marker_line(bad[i].src, "BAD LINE");

		snprintf(who, sizeof(who), "enforcer %s (team team_t)", bad[i].name);
		for (j = 0; j < d.count; j++)
			if (strstr(d.items[j].msg, who))
				g = &d.items[j];
		if (!g)
			fail_msg("no diagnostic for %s", bad[i].name);
		assert_non_null(strstr(g->msg, "verifier rejected program"));
		assert_non_null(g->loc.file);
		assert_non_null(strstr(g->loc.file, bad[i].src));
		assert_int_equal(g->loc.line, line);
		assert_int_equal(g->loc.col, 1);
		assert_non_null(g->loc.src); /* the source text, for the caret */
		assert_non_null(strstr(g->loc.src, "BAD LINE"));
		assert_non_null(g->detail);
		if (!strstr(g->detail, bad[i].hint))
			fail_msg("%s: hint lacks '%s': %s", bad[i].name, bad[i].hint, g->detail);
		assert_non_null(strstr(g->detail, "verifier log"));
	}
	apiary_diags_free(&d);
}

/* A build that points nowhere fails with a message, not a crash. */
static void test_missing(void **state)
{
	static struct fx f;
	struct apiary_diags d;
	struct apiary_rt *rt = NULL;

	fx_init(&f);
	fx_add(&f, "gone", "does_not_exist", "x", false, NULL);
	apiary_diags_init(&d);
	assert_true(apiary_rt_load(&f.b, NULL, &rt, &d) < 0);
	assert_null(rt);
	assert_true(d.errors >= 1);
	apiary_diags_free(&d);

	fx_init(&f);
	fx_add(&f, "wrongprog", "app0", "no_such_prog", false, NULL);
	apiary_diags_init(&d);
	assert_true(apiary_rt_load(&f.b, NULL, &rt, &d) < 0);
	assert_non_null(strstr(d.items[0].msg, "no_such_prog"));
	apiary_diags_free(&d);
}

int main(void)
{
	const struct CMUnitTest chain[] = {
		cmocka_unit_test(test_default_chain),
		cmocka_unit_test(test_chain_orders),
		cmocka_unit_test(test_continue_and_drop),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_state_many),
		cmocka_unit_test(test_tc),
	};
	const struct CMUnitTest other[] = {
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_no_config),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_verifier),
		cmocka_unit_test(test_missing),
	};

	return cmocka_run_group_tests(chain, chain_setup, chain_teardown) |
	       cmocka_run_group_tests(other, NULL, NULL);
}
