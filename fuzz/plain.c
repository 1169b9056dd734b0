// SPDX-License-Identifier: MIT
/*
 * The plain executor: BPF objects loaded with libbpf and run as a chain
 * under BPF_PROG_TEST_RUN, without the Apiary runtime. It exists so the
 * harness, the engines and their benchmarks can be exercised on small
 * programs, and so a team can fuzz one enforcer object on its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "apiary/fuzz.h"

#define OUT_ROOM (APIARY_INPUT_MAX_FRAME + 512)

struct plain_prog {
	int fd;
	bool xdp; /* else sched_cls (tc) */
};

struct apiary_plain {
	struct bpf_object **objs;
	struct apiary_cov_map *cov;
	size_t nobjs;
	struct plain_prog *progs;
	size_t nprogs;
	struct apiary_plain_opts opts;
	bool has_uncovered;
	struct apiary_outcome out;
	uint8_t cur[OUT_ROOM]; /* frame handed to the next program */
	uint64_t runs;	       /* BPF_PROG_TEST_RUNs made */
};

/* Open, load and map one object; its XDP and tc programs join the list. */
static int add_object(struct apiary_plain *p, const char *path, struct apiary_diags *d)
{
	struct bpf_object *obj = bpf_object__open(path);
	struct bpf_program *prog;
	int err;

	if (!obj)
		return apiary_error(d, NULL, "%s: cannot open BPF object: %s", path,
				    strerror(errno));
	p->objs[p->nobjs] = obj;
	p->nobjs++;
	err = bpf_object__load(obj);
	if (err)
		return apiary_error(d, NULL, "%s: load failed (%s); see the verifier log above",
				    path, strerror(-err));
	err = apiary_cov_map_open(obj, &p->cov[p->nobjs - 1]);
	if (err == -ENOENT)
		p->has_uncovered = true;
	else if (err)
		return apiary_error(d, NULL, "%s: cannot map its coverage counters: %s", path,
				    strerror(-err));
	bpf_object__for_each_program(prog, obj) {
		enum bpf_prog_type t = bpf_program__type(prog);
		struct plain_prog *np;

		if (t != BPF_PROG_TYPE_XDP && t != BPF_PROG_TYPE_SCHED_CLS)
			continue;
		np = realloc(p->progs, (p->nprogs + 1) * sizeof(*np));
		if (!np)
			return -ENOMEM;
		p->progs = np;
		p->progs[p->nprogs++] = (struct plain_prog){ bpf_program__fd(prog),
							    t == BPF_PROG_TYPE_XDP };
	}
	return 0;
}

int apiary_plain_open(const char *const *objects, size_t n, const struct apiary_plain_opts *opts,
		      struct apiary_plain **out, struct apiary_diags *d)
{
	struct apiary_plain *p = calloc(1, sizeof(*p));
	int err = 0;

	*out = NULL;
	if (!p)
		return -ENOMEM;
	if (opts)
		memcpy(&p->opts, opts, opts->sz < sizeof(p->opts) ? opts->sz : sizeof(p->opts));
	p->objs = calloc(n ? n : 1, sizeof(*p->objs));
	p->cov = calloc(n ? n : 1, sizeof(*p->cov));
	if (!p->objs || !p->cov) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		p->cov[i].fd = -1;
	for (size_t i = 0; i < n && !err; i++)
		err = add_object(p, objects[i], d);
	if (!err && p->nprogs == 0)
		err = apiary_error(d, NULL, "no XDP or tc program in the given objects");
out:
	if (err) {
		apiary_plain_free(p);
		return err;
	}
	*out = p;
	return 0;
}

void apiary_plain_free(struct apiary_plain *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nobjs; i++) {
		apiary_cov_map_close(&p->cov[i]);
		bpf_object__close(p->objs[i]);
	}
	free(p->objs);
	free(p->cov);
	free(p->progs);
	free(p);
}

static bool continues(bool xdp, int verdict)
{
	return xdp ? verdict == XDP_PASS : verdict == TC_ACT_OK || verdict == TC_ACT_UNSPEC;
}

/* One event through the chain of its hook's type. */
static int run_event(struct apiary_plain *p, struct apiary_harness *h, size_t idx,
		     const struct apiary_event *ev)
{
	struct apiary_outcome *o = &p->out;
	bool xdp = ev->hook == APIARY_HOOK_XDP;
	uint32_t len = ev->len;

	o->hook = ev->hook;
	o->verdict = xdp ? XDP_PASS : TC_ACT_OK; /* nobody ran: the packet goes on */
	o->ntrace = 0;
	o->flow_id = 0;
	o->direction = 0;
	o->matched = 0;
	memcpy(p->cur, ev->data, len);
	for (size_t i = 0; i < p->nprogs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, t, .data_in = p->cur, .data_size_in = len,
			    .data_out = o->data, .data_size_out = sizeof(o->data), .repeat = 1);
		int err;

		if (p->progs[i].xdp != xdp)
			continue;
		err = bpf_prog_test_run_opts(p->progs[i].fd, &t);
		p->runs++;
		if (err)
			return err;
		o->verdict = (int)t.retval;
		len = t.data_size_out;
		if (o->ntrace < APIARY_MAX_TRACE)
			o->trace[o->ntrace++] = (struct apiary_trace_ent){
				.enforcer = (uint8_t)i, .hook = (uint8_t)ev->hook, .verdict = o->verdict
			};
		if (xdp && !p->opts.no_violation && o->verdict == p->opts.violation_xdp)
			apiary_harness_note_violation(h, 1);
		if (!continues(xdp, o->verdict))
			break;
		memcpy(p->cur, o->data, len);
	}
	/* the frame as it leaves: the last program's output, or the input */
	memcpy(o->data, p->cur, len);
	o->len = len;
	apiary_harness_note_outcome(h, idx, ev, o);
	return 0;
}

/* Executor callback: every event in order. */
static int plain_run(void *ctx, struct apiary_harness *h, const struct apiary_input *in)
{
	struct apiary_plain *p = ctx;
	int err = 0;

	for (size_t i = 0; i < in->nevents && !err; i++)
		err = run_event(p, h, i, &in->events[i]);
	return err;
}

void apiary_plain_executor(struct apiary_plain *p, struct apiary_executor *ex)
{
	*ex = (struct apiary_executor){ .name = "plain", .ctx = p, .run = plain_run,
					.has_uncovered = p->has_uncovered };
}

int apiary_plain_attach(struct apiary_plain *p, struct apiary_harness *h)
{
	for (size_t i = 0; i < p->nobjs; i++) {
		long off;

		if (!p->cov[i].ncounters)
			continue;
		off = apiary_harness_add_counters(h, p->cov[i].counters, p->cov[i].ncounters);
		if (off < 0)
			return (int)off;
	}
	return 0;
}

int apiary_plain_harness_open(const char *const *objects, size_t n,
			      const struct apiary_plain_opts *opts, struct apiary_plain **p,
			      struct apiary_harness **h, struct apiary_diags *diags)
{
	struct apiary_executor ex;
	int err;

	*h = NULL;
	err = apiary_plain_open(objects, n, opts, p, diags);
	if (err)
		return err;
	apiary_plain_executor(*p, &ex);
	err = apiary_harness_new(&ex, NULL, h);
	err = err ?: apiary_plain_attach(*p, *h);
	if (err) {
		apiary_harness_free(*h);
		apiary_plain_free(*p);
		*h = NULL;
		*p = NULL;
	}
	return err;
}

size_t apiary_plain_nprogs(const struct apiary_plain *p)
{
	return p->nprogs;
}

uint64_t apiary_plain_runs(const struct apiary_plain *p)
{
	return p->runs;
}

int apiary_plain_prog_fd(const struct apiary_plain *p, size_t i)
{
	return i < p->nprogs ? p->progs[i].fd : -1;
}

const struct apiary_cov_map *apiary_plain_cov(const struct apiary_plain *p, size_t object)
{
	return object < p->nobjs ? &p->cov[object] : NULL;
}
