// SPDX-License-Identifier: MIT
/*
 * The loader on bundles built by the real compiler (apiary_compile): the
 * generated sidecar and wrappers, the chain order set from user space,
 * continue/drop, state, and a verifier rejection in a team's source seen
 * through the wrapper.
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

#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "apiary/compiler.h"
#include "apiary/runtime.h"
#include "rt_internal.h"

#define MAXE 8

struct cspec {
	struct apiary_spec s;
	struct apiary_state st[1];
	struct apiary_enforcer enf[MAXE];
	struct apiary_name writes[MAXE];
	struct apiary_update up[1];
	char res[MAXE][512];
};

static void cs_init(struct cspec *c, const char *name, const char *text)
{
	memset(c, 0, sizeof(*c));
	c->s.path = (char *)name;
	c->s.dir = RT_SRC_DIR;
	c->s.text = (char *)text;
	c->s.bundle.s = (char *)name;
	c->s.version = 1;
	c->s.states = c->st;
	c->s.nstates = 1;
	c->st[0].name.s = "order_log";
	c->st[0].kind = APIARY_MAP_ARRAY;
	c->st[0].key.kind = APIARY_TY_U32;
	c->st[0].key.size = 4;
	c->st[0].value.kind = APIARY_TY_U32;
	c->st[0].value.size = 4;
	c->st[0].max_entries = 16;
	c->s.enforcers = c->enf;
}

static void cs_add(struct cspec *c, const char *name, const char *team, const char *file,
		   const char *program, bool prebuilt)
{
	size_t i = c->s.nenforcers++;
	struct apiary_enforcer *e = &c->enf[i];

	e->name.s = (char *)name;
	e->team.s = (char *)team;
	e->version = 1;
	e->hook = APIARY_HOOK_XDP;
	e->code.prebuilt = prebuilt;
	e->code.path.s = (char *)file;
	snprintf(c->res[i], sizeof(c->res[i]), "%s/%s", prebuilt ? RT_BPF_DIR : RT_SRC_DIR, file);
	e->code.resolved = c->res[i];
	e->code.program.s = (char *)program;
	c->writes[i].s = "order_log";
	if (!prebuilt) {
		e->writes = &c->writes[i];
		e->nwrites = 1;
	}
}

struct fx {
	struct cspec cs;
	struct apiary_build *b;
	struct apiary_rt *rt;
	struct apiary_snapshot *init;
};

static const char spec_text[] =
	"bundle rtc version 1\n"
	"state order_log : array(u32 -> u32) max 16\n"
	"enforcer a team red version 1 at xdp { source \"comp_a.bpf.c\" program \"append_a\" writes order_log }\n"
	"enforcer b team red version 1 at xdp { source \"comp_b.bpf.c\" program \"append_b\" writes order_log }\n"
	"enforcer c team red version 1 at xdp { source \"comp_c.bpf.c\" program \"append_c\" writes order_log }\n"
	"enforcer rw team green version 1 at xdp { source \"comp_rewrite.bpf.c\" }\n"
	"enforcer seen team blue version 1 at xdp { source \"comp_seen.bpf.c\" writes order_log }\n"
	"enforcer lb team vendor version 1 at xdp { object \"opaque.bpf.o\" program \"lb_main\" }\n"
	"update a to version 2 { source \"comp_b.bpf.c\" program \"append_b\" }\n";

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct apiary_build_opts bo = { .sz = sizeof(bo), .out_dir = RT_BPF_DIR "/rtc_out" };
	struct apiary_diags d;
	int err;

	assert_non_null(f);
	cs_init(&f->cs, "rtc", spec_text);
	cs_add(&f->cs, "a", "red", "comp_a.bpf.c", "append_a", false);
	cs_add(&f->cs, "b", "red", "comp_b.bpf.c", "append_b", false);
	cs_add(&f->cs, "c", "red", "comp_c.bpf.c", "append_c", false);
	cs_add(&f->cs, "rw", "green", "comp_rewrite.bpf.c", NULL, false);
	cs_add(&f->cs, "seen", "blue", "comp_seen.bpf.c", NULL, false);
	cs_add(&f->cs, "lb", "vendor", "opaque.bpf.o", "lb_main", true);
	/* a's version 2 runs b's code: tells the version slots apart. */
	f->cs.up[0].enforcer.s = "a";
	f->cs.up[0].version = 2;
	f->cs.up[0].code = f->cs.enf[1].code;
	f->cs.s.updates = f->cs.up;
	f->cs.s.nupdates = 1;
	apiary_diags_init(&d);
	err = apiary_compile(&f->cs.s, &bo, &f->b, &d);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	err = apiary_rt_load(f->b, NULL, &f->rt, &d);
	if (err)
		apiary_diags_print(&d, stderr);
	assert_int_equal(err, 0);
	apiary_diags_free(&d);
	assert_int_equal(apiary_rt_snapshot(f->rt, &f->init), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (!f)
		return 0;
	apiary_snapshot_free(f->init);
	apiary_rt_free(f->rt);
	apiary_build_free(f->b);
	free(f);
	return 0;
}

static uint32_t order_log(const struct apiary_rt *rt, uint32_t k)
{
	uint32_t v = 0xdead;
	size_t i;

	for (i = 0; i < apiary_rt_nmaps(rt); i++)
		if (!strcmp(apiary_rt_map_name(rt, i), "order_log"))
			break;
	assert_true(i < apiary_rt_nmaps(rt));
	assert_int_equal(bpf_map_lookup_elem(rt->maps[i].fd, &k, &v), 0);
	return v;
}

static void frame(struct apiary_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->hook = APIARY_HOOK_XDP;
	ev->len = 64;
	ev->data[12] = 0x08;
	ev->data[14] = 0x45;
}

/* (a) on compiled code: every permutation of a, b, c runs in that order. */
static void test_orders(void **state)
{
	static const int perms[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;
	size_t k, i;

	frame(&ev);
	for (k = 0; k < 6; k++) {
		assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
		assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, perms[k], 3), 0);
		assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
		assert_int_equal(o.verdict, XDP_PASS);
		assert_int_equal(o.ntrace, 3);
		for (i = 0; i < 3; i++) {
			assert_int_equal(order_log(f->rt, (uint32_t)i), perms[k][i] + 1);
			assert_int_equal(o.trace[i].enforcer, perms[k][i]);
			assert_int_equal(o.trace[i].verdict, XDP_PASS);
			assert_int_equal(o.trace[i].hook, APIARY_HOOK_ID_XDP);
		}
		assert_int_equal(order_log(f->rt, 3), 0);
	}
}

/* The default chain: spec order, the prebuilt last. */
static void test_default(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;
	struct apiary_rt *rt2;
	struct apiary_diags d;

	/* A fresh load writes the defaults. */
	apiary_diags_init(&d);
	assert_int_equal(apiary_rt_load(f->b, NULL, &rt2, &d), 0);
	apiary_diags_free(&d);
	frame(&ev);
	assert_int_equal(apiary_rt_run(rt2, &ev, &o), 0);
	assert_int_equal(o.ntrace, 6);
	for (uint32_t i = 0; i < 6; i++)
		assert_int_equal(o.trace[i].enforcer, i);
	assert_int_equal(o.verdict, XDP_TX);
	assert_int_equal(o.trace[5].verdict, XDP_TX);
	apiary_rt_free(rt2);
}

/* (b) continue hands on the rewritten packet; drop ends the chain. */
static void test_continue_drop(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;

	frame(&ev);
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 3, 4 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_PASS);
	assert_int_equal(o.data[14], 0xab);
	assert_int_equal(order_log(f->rt, 15), 0xab);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 4, 3 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(order_log(f->rt, 15), 0x45);

	ev.data[15] = 0xee;
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 3, 0 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_DROP);
	assert_int_equal(o.ntrace, 1);
	assert_int_equal(o.trace[0].enforcer, 3);
	assert_int_equal(o.trace[0].verdict, XDP_DROP);
	assert_int_equal(order_log(f->rt, 0), 0);

	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 0, 5 }, 2), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.verdict, XDP_TX);
	assert_int_equal(o.ntrace, 2);
	assert_int_equal(o.trace[1].enforcer, 5);
	assert_int_equal(o.trace[1].verdict, XDP_TX);
}

/* (c) snapshot/restore/diff on compiled state. */
static void test_state(void **state)
{
	struct fx *f = *state;
	struct apiary_snapshot *s0, *s1, *s2;
	struct apiary_delta d;
	struct apiary_event ev;
	static struct apiary_outcome o;

	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 2, 1, 0 }, 3), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s0), 0);
	frame(&ev);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s1), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s1, &d), 0);
	assert_int_equal(d.n, 3);
	for (size_t i = 0; i < 3; i++) {
		uint32_t k, v;

		assert_string_equal(apiary_rt_map_name(f->rt, d.changes[i].map), "order_log");
		memcpy(&k, d.changes[i].key, 4);
		memcpy(&v, d.changes[i].after, 4);
		assert_int_equal(k, i);
		assert_int_equal(v, 3 - i);
	}
	apiary_delta_free(&d);
	assert_int_equal(apiary_rt_restore(f->rt, s0), 0);
	assert_int_equal(apiary_rt_snapshot(f->rt, &s2), 0);
	assert_int_equal(apiary_snapshot_diff(s0, s2, &d), 0);
	assert_int_equal(d.n, 0);
	apiary_snapshot_free(s0);
	apiary_snapshot_free(s1);
	apiary_snapshot_free(s2);
}

/* Version routing: slot 1 holds a's update; NAIVE sends every packet to
 * the default slot. */
static void test_routes(void **state)
{
	struct fx *f = *state;
	struct apiary_event ev;
	static struct apiary_outcome o;

	assert_true(apiary_rt_prog_fd(f->rt, 0, 1) >= 0);
	assert_int_equal(apiary_rt_prog_fd(f->rt, 1, 1), -1);
	frame(&ev);
	assert_int_equal(apiary_rt_restore(f->rt, f->init), 0);
	assert_int_equal(apiary_rt_set_chain(f->rt, APIARY_HOOK_XDP, (int[]){ 0 }, 1), 0);
	assert_int_equal(apiary_rt_set_route(f->rt, 0, 1, APIARY_ROUTE_NAIVE), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.ntrace, 1);
	assert_int_equal(o.trace[0].enforcer, 0);
	assert_int_equal(o.trace[0].vslot, 1);
	assert_int_equal(order_log(f->rt, 0), 2);
	assert_int_equal(apiary_rt_set_route(f->rt, 0, 0, APIARY_ROUTE_PINNED), 0);
	assert_int_equal(apiary_rt_run(f->rt, &ev, &o), 0);
	assert_int_equal(o.trace[0].vslot, 0);
	assert_int_equal(order_log(f->rt, 0), 1);
	assert_int_equal(apiary_rt_set_route(f->rt, 0, 2, APIARY_ROUTE_PINNED), -EINVAL);
	assert_int_equal(apiary_rt_set_route(f->rt, 0, 0, 7), -EINVAL);
}

/* (e) a rejected source enforcer: the diagnostic points into the team's
 * file (not the generated wrapper), with the line and the explanation. */
static void test_rejected(void **state)
{
	static struct cspec cs;
	struct apiary_build_opts bo = { .sz = sizeof(bo), .out_dir = RT_BPF_DIR "/rtc_bad" };
	struct apiary_build *b = NULL;
	struct apiary_rt *rt = NULL;
	struct apiary_diags d;
	char path[512], line[512];
	FILE *fp;
	int want = 0, n = 0;

	snprintf(path, sizeof(path), "%s/comp_bad.bpf.c", RT_SRC_DIR);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp)) {
		n++;
		if (strstr(line, "BAD LINE"))
			want = n;
	}
	fclose(fp);

	cs_init(&cs, "rtbad",
		"bundle rtbad version 1\nstate order_log : array(u32 -> u32) max 16\n"
		"enforcer broken team qa version 1 at xdp { source \"comp_bad.bpf.c\" }\n");
	cs_add(&cs, "broken", "qa", "comp_bad.bpf.c", NULL, false);
	apiary_diags_init(&d);
	assert_int_equal(apiary_compile(&cs.s, &bo, &b, &d), 0);
	assert_int_equal(apiary_rt_load(b, NULL, &rt, &d), -EINVAL);
	assert_null(rt);
	apiary_diags_print(&d, stderr);
	assert_int_equal(d.errors, 1);
	assert_non_null(strstr(d.items[0].msg, "enforcer broken (team qa)"));
	assert_non_null(strstr(d.items[0].msg, "apiary_w_broken_v1"));
	assert_non_null(d.items[0].loc.file);
	assert_string_equal(d.items[0].loc.file, path);
	assert_int_equal(d.items[0].loc.line, want);
	assert_non_null(d.items[0].loc.src);
	assert_non_null(strstr(d.items[0].detail, "NULL"));
	apiary_diags_free(&d);
	apiary_build_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders),
		cmocka_unit_test(test_default),
		cmocka_unit_test(test_continue_drop),
		cmocka_unit_test(test_state),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_rejected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
