// SPDX-License-Identifier: MIT
/*
 * The bounded checker: inputs x orderings x invariants.
 *
 * For each input (z3-generated frames, corpus seeds, or a replayed input):
 *   1. every enforcer runs alone, twice: its verdicts, rewrites and writes
 *      decide which pairs can interact (partial-order reduction), and a
 *      difference between the two runs marks it nondeterministic;
 *   2. every ordering allowed by the spec is reduced to its class (swapping
 *      adjacent enforcers that cannot interact gives the same class) and one
 *      representative per class runs, twice, from the same snapshot;
 *   3. invariants are evaluated on those outcomes.
 * Violations go to the caller's callback the moment they are found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include "apiary/check.h"
#include "apiary/fuzz.h"
#include "apiary/violation.h"
#include "apiary/packet.h"
#include "apiary/z3gen.h"
#include "check_int.h"

#define MAX_INPUTS 4096
#define DEFAULT_MAX_ORDERINGS 40320
/* Extra runs before an order conflict is believed: a coin-flipping program
 * agrees with itself twice half the time. */
#define CONFIRM_RUNS 3
#define NONDET_PROBES 16

static const enum apiary_hook hooks[] = {APIARY_HOOK_XDP, APIARY_HOOK_TC_INGRESS,
					 APIARY_HOOK_TC_EGRESS};

/* Verdict name for messages built with one snprintf (a few buffers rotate). */
static const char *vname(int hook, int verdict)
{
	static char bufs[4][16];
	static unsigned next;

	return apiary_verdict_name(hook, verdict, bufs[next++ % 4], sizeof(bufs[0]));
}

bool apiary_verdict_continues(enum apiary_hook hook, int verdict)
{
	if (hook == APIARY_HOOK_XDP)
		return verdict == XDP_PASS;
	return verdict == TC_ACT_OK || verdict == TC_ACT_UNSPEC;
}

/* Does a verdict match the declared effect kind at this hook? */
static bool verdict_is(enum apiary_hook hook, int verdict, enum apiary_verdict_kind k)
{
	bool xdp = hook == APIARY_HOOK_XDP;

	switch (k) {
	case APIARY_V_DROP: return xdp ? verdict == XDP_DROP : verdict == TC_ACT_SHOT;
	case APIARY_V_PASS: return apiary_verdict_continues(hook, verdict);
	case APIARY_V_TX: return xdp && verdict == XDP_TX;
	case APIARY_V_REDIRECT: return xdp ? verdict == XDP_REDIRECT : verdict == TC_ACT_REDIRECT;
	case APIARY_V_ABORTED: return xdp && verdict == XDP_ABORTED;
	}
	return false;
}

static const char *verdict_kind_name(enum apiary_verdict_kind k)
{
	static const char *names[] = {"drop", "pass", "tx", "redirect", "aborted"};

	return names[k];
}

/* Next hook a frame reaches after a continue verdict (forwarding host). */
static enum apiary_hook next_hook(enum apiary_hook h)
{
	switch (h) {
	case APIARY_HOOK_XDP: return APIARY_HOOK_TC_INGRESS;
	case APIARY_HOOK_TC_INGRESS: return APIARY_HOOK_TC_EGRESS;
	default: return APIARY_HOOK_NONE;
	}
}

static double elapsed(const struct checker *c)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - c->t0.tv_sec) + (t.tv_nsec - c->t0.tv_nsec) / 1e9;
}

/* ---- running ---------------------------------------------------------- */

static int set_ordering(struct checker *c, const struct ordering *o)
{
	int err = 0;

	for (size_t i = 0; i < 3 && !err; i++)
		err = apiary_rt_set_chain(c->rt, hooks[i], o->chain[hooks[i]], o->len[hooks[i]]);
	return err;
}

/*
 * Run every event of `in` along its path from the base snapshot, recording
 * each hook's outcome, then the state delta against the base.
 */
static int run_input(struct checker *c, const struct apiary_input *in, struct run_result *r)
{
	struct apiary_snapshot *after = NULL;
	int err;

	apiary_delta_free(&r->delta);
	r->nouts = 0;
	err = apiary_rt_restore(c->rt, c->base);
	if (err)
		return err;
	for (size_t e = 0; e < in->nevents; e++) {
		struct apiary_event ev = in->events[e];

		for (enum apiary_hook h = ev.hook; h != APIARY_HOOK_NONE; h = next_hook(h)) {
			struct apiary_outcome *o;

			if (r->nouts == MAX_OUTS)
				return -E2BIG;
			o = &r->outs[r->nouts];
			ev.hook = h;
			err = apiary_rt_run(c->rt, &ev, o);
			if (err == -EINVAL && h != APIARY_HOOK_XDP) {
				/* the kernel will not build an skb from this frame (an IP
				 * header longer than the frame): it never reaches tc, so
				 * its path ends here, the same way in every ordering */
				c->stats->tc_refused++;
				break;
			}
			if (err)
				return err;
			o->hook = h;
			c->stats->runs++;
			r->out_hook[r->nouts] = h;
			r->out_event[r->nouts++] = (int)e;
			if (!apiary_verdict_continues(h, o->verdict))
				break;
			if (o->len > sizeof(ev.data))
				break; /* grew beyond a frame: it left the host */
			memcpy(ev.data, o->data, o->len);
			ev.len = (uint16_t)o->len;
		}
	}
	err = apiary_rt_snapshot(c->rt, &after);
	if (err)
		return err;
	err = apiary_snapshot_diff(c->base, after, &r->delta);
	apiary_snapshot_free(after);
	return err;
}

/* The frame that entered the hook of outcome i: the input event's frame, or
 * what the previous hook on the same event's path let through. */
static void frame_entering(const struct run_result *r, const struct apiary_input *in, size_t i,
			   const uint8_t **data, uint32_t *len)
{
	const struct apiary_event *ev = &in->events[r->out_event[i]];

	if (i > 0 && r->out_event[i - 1] == r->out_event[i]) {
		*data = r->outs[i - 1].data;
		*len = r->outs[i - 1].len;
	} else {
		*data = ev->data;
		*len = ev->len;
	}
}

static enum apiary_hook r_hook(const struct run_result *r, size_t i)
{
	return r->out_hook[i];
}

/* Outcome equality that matters to invariants: verdicts, bytes, state. */
static bool results_equal(const struct run_result *a, const struct run_result *b,
			  char *what, size_t size)
{
	size_t n = a->nouts < b->nouts ? a->nouts : b->nouts;

	if (what && size)
		what[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const struct apiary_outcome *x = &a->outs[i], *y = &b->outs[i];

		if (a->out_event[i] != b->out_event[i] || a->out_hook[i] != b->out_hook[i])
			break; /* the paths diverged earlier: reported below */
		if (x->verdict != y->verdict) {
			if (what)
				snprintf(what, size, "verdict");
			return false;
		}
		/* a dropped frame's bytes go nowhere: only compare frames that leave */
		if (verdict_is(r_hook(a, i), x->verdict, APIARY_V_DROP) ||
		    (r_hook(a, i) == APIARY_HOOK_XDP && x->verdict == XDP_ABORTED))
			continue;
		if (x->len != y->len || memcmp(x->data, y->data, x->len)) {
			if (what)
				snprintf(what, size, "output bytes");
			return false;
		}
	}
	if (a->nouts != b->nouts || memcmp(a->out_hook, b->out_hook, n * sizeof(a->out_hook[0]))) {
		if (what)
			snprintf(what, size, "path of the frame (the hooks it reached)");
		return false;
	}
	if (!apiary_delta_equal(&a->delta, &b->delta)) {
		if (what)
			snprintf(what, size, "map state");
		return false;
	}
	return true;
}

static bool trace_has(const struct run_result *r, int enforcer)
{
	for (size_t i = 0; i < r->nouts; i++)
		for (size_t t = 0; t < r->outs[i].ntrace; t++)
			if (r->outs[i].trace[t].enforcer == enforcer)
				return true;
	return false;
}

/* ---- orderings -------------------------------------------------------- */

struct perm_enum {
	struct checker *c;
	int hook;
	int cur[APIARY_MAX_CHAIN];
	bool used[APIARY_MAX_CHAIN];
	size_t cap;
	uint64_t count;
};

/* Enumerate linear extensions of the constraints (stores up to cap). */
static void perm_rec(struct perm_enum *pe, size_t depth)
{
	struct checker *c = pe->c;
	size_t n = c->hook_n[pe->hook];

	if (depth == n) {
		if (c->nperms[pe->hook] < pe->cap) {
			memcpy(c->perms[pe->hook] + c->nperms[pe->hook] * n, pe->cur,
			       n * sizeof(int));
			c->nperms[pe->hook]++;
		}
		pe->count++;
		return;
	}
	for (size_t i = 0; i < n; i++) {
		int e = c->hook_enf[pe->hook][i];
		bool ok = !pe->used[i];

		for (size_t j = 0; ok && j < n; j++)
			if (!pe->used[j] && j != i && c->before[c->hook_enf[pe->hook][j]][e])
				ok = false;
		if (!ok)
			continue;
		pe->used[i] = true;
		pe->cur[depth] = e;
		perm_rec(pe, depth + 1);
		pe->used[i] = false;
		/* stop enumerating (not counting) far past the cap: counting n! for
		 * n = 16 would not finish; the count is then a lower bound */
		if (pe->count > pe->cap * 64)
			return;
	}
}

static int enumerate_orderings(struct checker *c)
{
	size_t cap = c->opts->max_orderings ? c->opts->max_orderings : DEFAULT_MAX_ORDERINGS;

	for (size_t i = 0; i < c->nenf; i++) {
		int h = c->spec->enforcers[i].hook;

		if (h <= 0 || h >= APIARY_NHOOKS || c->hook_n[h] >= APIARY_MAX_CHAIN)
			return -EINVAL;
		c->hook_enf[h][c->hook_n[h]++] = (int)i;
	}
	for (int h = 1; h < APIARY_NHOOKS; h++) {
		struct perm_enum pe = {.c = c, .hook = h, .cap = cap};
		size_t n = c->hook_n[h] ? c->hook_n[h] : 1;

		c->perms[h] = calloc(cap, n * sizeof(int));
		if (!c->perms[h])
			return -ENOMEM;
		perm_rec(&pe, 0);
		c->perms_total[h] = pe.count;
		if (pe.count > c->nperms[h])
			c->stats->sampled = true;
		c->stats->hook_allowed[h] = pe.count;
		c->stats->hook_enforcers[h] = c->hook_n[h];
		c->stats->hook_perms[h] = 1;
		for (size_t k = 2; k <= c->hook_n[h]; k++)
			c->stats->hook_perms[h] *= k;
	}
	return 0;
}

/*
 * Canonical representative of an ordering's class: repeatedly take the
 * smallest-index enforcer none of whose interacting predecessors is still
 * waiting (lexicographic normal form of a trace).
 */
static void canonical(const struct checker *c, const int *perm, size_t n, int *out)
{
	bool done[APIARY_MAX_CHAIN] = {0};

	for (size_t k = 0; k < n; k++) {
		size_t best = n;

		for (size_t i = 0; i < n; i++) {
			bool ready = !done[i];

			for (size_t j = 0; ready && j < i; j++)
				if (!done[j] && c->interact[perm[j]][perm[i]])
					ready = false;
			if (ready && (best == n || perm[i] < perm[best]))
				best = i;
		}
		done[best] = true;
		out[k] = perm[best];
	}
}

/* ---- violations --------------------------------------------------------- */

static bool seen_before(struct checker *c, const char *key)
{
	for (size_t i = 0; i < c->nseen; i++)
		if (!strcmp(c->seen[i], key))
			return true;
	if (c->nseen == c->capseen) {
		size_t cap = c->capseen ? c->capseen * 2 : 16;
		char **n = realloc(c->seen, cap * sizeof(*n));

		if (!n)
			return false;
		c->seen = n;
		c->capseen = cap;
	}
	c->seen[c->nseen] = strdup(key);
	if (c->seen[c->nseen])
		c->nseen++;
	return false;
}

static void order_label(const struct checker *c, const struct ordering *o, char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		int h = hooks[i];

		if (!o->len[h])
			continue;
		pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%s%s: ",
					pos ? "; " : "", apiary_hook_name(h));
		for (size_t k = 0; k < o->len[h]; k++)
			pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%s%s",
						k ? " -> " : "",
						c->spec->enforcers[o->chain[h][k]].name.s);
	}
}

static int fill_run(const struct checker *c, struct apiary_vrun *vr, const char *label,
		    const struct ordering *o, const struct run_result *r)
{
	vr->label = strdup(label);
	if (o) {
		for (size_t i = 0; i < 3; i++)
			for (size_t k = 0; k < o->len[hooks[i]] && vr->norder < APIARY_MAX_CHAIN; k++)
				vr->order[vr->norder++] = o->chain[hooks[i]][k];
	}
	vr->outcomes = calloc(r->nouts ? r->nouts : 1, sizeof(*vr->outcomes));
	vr->changes = calloc(r->delta.n ? r->delta.n : 1, sizeof(*vr->changes));
	if (!vr->label || !vr->outcomes || !vr->changes)
		return -ENOMEM;
	memcpy(vr->outcomes, r->outs, r->nouts * sizeof(*r->outs));
	vr->noutcomes = r->nouts;
	for (size_t i = 0; i < r->delta.n; i++) {
		const struct apiary_map_change *m = &r->delta.changes[i];
		struct apiary_vchange *v = &vr->changes[vr->nchanges++];

		v->map = strdup(apiary_rt_map_name(c->rt, m->map));
		v->key_size = m->key_size;
		v->value_size = m->value_size;
		v->key = malloc(m->key_size);
		if (!v->map || !v->key)
			return -ENOMEM;
		memcpy(v->key, m->key, m->key_size);
		if (m->before && (v->before = malloc(m->value_size)))
			memcpy(v->before, m->before, m->value_size);
		if (m->after && (v->after = malloc(m->value_size)))
			memcpy(v->after, m->after, m->value_size);
	}
	return 0;
}

/*
 * Build, deliver and free one violation. `key` deduplicates within this
 * check; later occurrences only count.
 */
static int report(struct checker *c, enum apiary_invariant inv, enum apiary_vseverity sev,
		  const int *parties, size_t nparties, const struct apiary_input *in,
		  const char *key_suffix, const char *summary, const char *detail,
		  const char *label_a, const struct ordering *oa, const struct run_result *ra,
		  const char *label_b, const struct ordering *ob, const struct run_result *rb)
{
	struct apiary_violation v = {.invariant = inv, .severity = sev};
	char key[512];
	size_t pos;
	int err = 0;

	c->stats->occurrences++;
	pos = (size_t)snprintf(key, sizeof(key), "%s", apiary_invariant_name(inv));
	for (size_t i = 0; i < nparties; i++)
		pos += (size_t)snprintf(key + pos, pos < sizeof(key) ? sizeof(key) - pos : 0, ":%s",
					c->spec->enforcers[parties[i]].name.s);
	if (key_suffix && pos < sizeof(key))
		snprintf(key + pos, sizeof(key) - pos, ":%s", key_suffix);
	if (seen_before(c, key))
		return 0;
	/* per-invariant counts are of failures (and orderings); other
	 * information, e.g. what a naive replace would break, counts in infos */
	if (sev == APIARY_VS_ERROR || inv == APIARY_INV_ORDERING)
		c->stats->violations[inv]++;
	if (sev == APIARY_VS_ERROR)
		c->stats->errors++;
	else
		c->stats->infos++;

	v.bundle = strdup(c->spec->bundle.s ? c->spec->bundle.s : "");
	v.bundle_hash = strdup(c->build->bundle_hash_hex);
	if (c->phase) {
		size_t need = strlen(c->phase) + strlen(summary) + 3;

		v.summary = malloc(need);
		if (v.summary)
			snprintf(v.summary, need, "%s: %s", c->phase, summary);
	} else {
		v.summary = strdup(summary);
	}
	v.detail = detail ? strdup(detail) : NULL;
	v.dedup_key = strdup(key);
	v.input = *in;
	v.parties = calloc(nparties ? nparties : 1, sizeof(*v.parties));
	if (!v.bundle || !v.bundle_hash || !v.summary || !v.dedup_key || !v.parties) {
		err = -ENOMEM;
		goto out;
	}
	v.names = calloc(c->nenf ? c->nenf : 1, sizeof(*v.names));
	if (!v.names) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < c->nenf; i++)
		if ((v.names[v.nnames] = strdup(c->spec->enforcers[i].name.s)))
			v.nnames++;
	for (size_t i = 0; i < nparties; i++) {
		const struct apiary_enforcer *e = &c->spec->enforcers[parties[i]];
		struct apiary_party *p = &v.parties[v.nparties++];

		p->enforcer = strdup(e->name.s);
		p->team = strdup(e->team.s ? e->team.s : "");
		p->version = e->version;
		/* the same enforcer twice (update.c): its old and its new version */
		if (c->vslot[parties[i]] == 1 || (i == 1 && parties[0] == parties[1])) {
			const struct apiary_build_prog *bp = apiary_build_prog(c->build, parties[i], 1);

			if (bp)
				p->version = bp->version;
		}
		p->spec_line = e->loc.line;
		p->spec_col = e->loc.col;
	}
	if (ra) {
		err = fill_run(c, &v.runs[v.nruns++], label_a, oa, ra);
		if (err)
			goto out;
	}
	if (rb) {
		err = fill_run(c, &v.runs[v.nruns++], label_b, ob, rb);
		if (err)
			goto out;
	}
	{
		char *hex = apiary_input_to_hex(in);
		const char *argv0 = c->opts->argv0 ? c->opts->argv0 : "apiary-check";
		size_t need;

		if (!hex) {
			err = -ENOMEM;
			goto out;
		}
		need = strlen(argv0) + strlen(c->opts->spec_path ? c->opts->spec_path : "") +
		       strlen(hex) + 32;
		v.replay = malloc(need);
		if (v.replay)
			snprintf(v.replay, need, "%s %s --replay %s", argv0,
				 c->opts->spec_path ? c->opts->spec_path : "bundle.spec", hex);
		free(hex);
	}
	if (c->opts->on_violation && c->opts->on_violation(c->opts->arg, &v))
		c->stop = true;
out:
	apiary_violation_free(&v);
	return err;
}

/* ---- per-input analysis ---------------------------------------------- */

static bool frame_matches(const struct apiary_pred *p, const struct apiary_event *ev)
{
	struct apiary_pkt_fields f;

	if (!p)
		return true;
	apiary_packet_parse(ev->data, ev->len, &f);
	return apiary_pred_eval(p, &f);
}

static void ordering_solo(const struct checker *c, int e, struct ordering *o)
{
	memset(o, 0, sizeof(*o));
	o->chain[c->spec->enforcers[e].hook][0] = e;
	o->len[c->spec->enforcers[e].hook] = 1;
}

/* Which fields moved between two runs of the same thing. */
static void describe_moved(const struct checker *c, const struct run_result *a,
			   const struct run_result *b, char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->nouts && i < b->nouts; i++) {
		if (a->outs[i].verdict != b->outs[i].verdict && !strstr(buf, "verdict"))
			pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0, "%sverdict",
						pos ? ", " : "");
		if ((a->outs[i].len != b->outs[i].len ||
		     memcmp(a->outs[i].data, b->outs[i].data, a->outs[i].len)) &&
		    !strstr(buf, "bytes"))
			pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0,
						"%soutput bytes", pos ? ", " : "");
	}
	for (size_t i = 0; i < a->delta.n; i++) {
		const char *m = apiary_rt_map_name(c->rt, a->delta.changes[i].map);
		bool same = false;

		for (size_t j = 0; j < b->delta.n && !same; j++)
			same = a->delta.changes[i].map == b->delta.changes[j].map &&
			       a->delta.changes[i].key_size == b->delta.changes[j].key_size &&
			       !memcmp(a->delta.changes[i].key, b->delta.changes[j].key,
				       a->delta.changes[i].key_size) &&
			       !!a->delta.changes[i].after == !!b->delta.changes[j].after &&
			       (!a->delta.changes[i].after ||
				!memcmp(a->delta.changes[i].after, b->delta.changes[j].after,
					a->delta.changes[i].value_size));
		if (!same && !strstr(buf, m))
			pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0,
						"%smap %s", pos ? ", " : "", m);
	}
	if (!buf[0])
		snprintf(buf, size, "map state");
}

/* Report enforcer e as nondeterministic (once per check), from two runs of
 * it alone that differ. */
static int report_nondet(struct checker *c, const struct apiary_input *in, int e,
			 const struct run_result *a, const struct run_result *b)
{
	const struct apiary_enforcer *en = &c->spec->enforcers[e];
	char summary[512], moved[160];
	struct ordering o;

	if (c->nondet_reported[e])
		return 0;
	c->nondet_reported[e] = true;
	c->stats->nondeterministic++;
	describe_moved(c, a, b, moved, sizeof(moved));
	snprintf(summary, sizeof(summary),
		 "%s (team %s) is nondeterministic: the same input from the same state gave a "
		 "different %s; its differences are not reported as order conflicts",
		 en->name.s, en->team.s, moved);
	ordering_solo(c, e, &o);
	return report(c, APIARY_INV_NONDETERMINISM, APIARY_VS_ERROR, &e, 1, in, NULL, summary,
		      NULL, "run 1", &o, a, "run 2", &o, b);
}

/*
 * Run ordering o `times` more and compare with r: false if any run differs
 * (someone in it is nondeterministic, even if two runs happened to agree).
 */
static int stable(struct checker *c, const struct apiary_input *in, const struct ordering *o,
		  const struct run_result *r, int times, bool *is_stable)
{
	static struct run_result extra;
	int err = set_ordering(c, o);

	*is_stable = true;
	for (int i = 0; !err && i < times && *is_stable; i++) {
		err = run_input(c, in, &extra);
		if (!err && !results_equal(r, &extra, NULL, 0))
			*is_stable = false;
	}
	apiary_delta_free(&extra.delta);
	return err;
}

/* Find who is nondeterministic among `who` by running each alone many
 * times; report them. */
static int find_nondet(struct checker *c, const struct apiary_input *in, const int *who, size_t n)
{
	static struct run_result first, extra;
	int err = 0;

	for (size_t k = 0; k < n && !err; k++) {
		struct ordering o;

		if (c->nondet_reported[who[k]])
			continue;
		ordering_solo(c, who[k], &o);
		err = set_ordering(c, &o);
		err = err ?: run_input(c, in, &first);
		for (int i = 0; !err && i < NONDET_PROBES; i++) {
			err = run_input(c, in, &extra);
			if (!err && !results_equal(&first, &extra, NULL, 0)) {
				err = report_nondet(c, in, who[k], &first, &extra);
				break;
			}
		}
	}
	apiary_delta_free(&first.delta);
	apiary_delta_free(&extra.delta);
	return err;
}

/*
 * Run each enforcer alone (twice): interaction facts for the reduction,
 * nondeterminism, exclusive ownership, declared effects.
 */
static int analyse_solo(struct checker *c, const struct apiary_input *in)
{
	const struct apiary_spec *s = c->spec;
	static struct run_result again;
	int err;

	for (size_t e = 0; e < c->nenf; e++) {
		struct solo *so = &c->solo[e];
		struct ordering o;

		ordering_solo(c, (int)e, &o);
		err = set_ordering(c, &o);
		err = err ?: run_input(c, in, &so->res);
		err = err ?: run_input(c, in, &again);
		if (err)
			return err;
		so->ran = trace_has(&so->res, (int)e);
		so->nondet = c->nondet_reported[e] || !results_equal(&so->res, &again, NULL, 0);
		so->stops = false;
		so->rewrites = false;
		for (size_t i = 0; i < so->res.nouts; i++) {
			const struct apiary_outcome *out = &so->res.outs[i];

			for (size_t t = 0; t < out->ntrace; t++) {
				if (out->trace[t].enforcer != e)
					continue;
				if (!apiary_verdict_continues(s->enforcers[e].hook,
							      out->trace[t].verdict))
					so->stops = true;
			}
		}
		/* bytes rewritten: the frame leaving e's hook differs from the one entering it */
		for (size_t i = 0; i < so->res.nouts; i++) {
			const struct apiary_outcome *out = &so->res.outs[i];
			const uint8_t *before;
			uint32_t blen;

			frame_entering(&so->res, in, i, &before, &blen);
			for (size_t t = 0; t < out->ntrace; t++)
				if (out->trace[t].enforcer == e &&
				    (out->len != blen || memcmp(out->data, before, blen)))
					so->rewrites = true;
		}
		memset(so->writes, 0, c->nmaps * sizeof(bool));
		for (size_t i = 0; i < so->res.delta.n; i++)
			so->writes[so->res.delta.changes[i].map] = true;

		if (so->nondet) {
			err = report_nondet(c, in, (int)e, &so->res, &again);
			if (err)
				return err;
		}
	}
	apiary_delta_free(&again.delta);
	return 0;
}

/* May a and b (same hook) change each other's outcome on this input? */
static void compute_interactions(struct checker *c)
{
	for (size_t a = 0; a < c->nenf; a++) {
		for (size_t b = 0; b < c->nenf; b++) {
			const struct solo *x = &c->solo[a], *y = &c->solo[b];
			bool inter = false;

			if (a == b) {
				c->interact[a][b] = false;
				continue;
			}
			if (x->stops || y->stops || x->rewrites || y->rewrites)
				inter = true;
			for (size_t m = 0; !inter && m < c->nmaps; m++) {
				if (x->writes[m] &&
				    apiary_rt_prog_uses_map(c->rt, (int)b, c->vslot[b], m))
					inter = true;
				if (y->writes[m] &&
				    apiary_rt_prog_uses_map(c->rt, (int)a, c->vslot[a], m))
					inter = true;
			}
			c->interact[a][b] = inter;
		}
	}
}

static int check_exclusive(struct checker *c, const struct apiary_input *in)
{
	const struct apiary_spec *s = c->spec;

	for (size_t x = 0; x < s->nexclusives; x++) {
		const struct apiary_exclusive *ex = &s->exclusives[x];
		int owner = apiary_spec_enforcer_index(s, ex->owner.s);

		for (size_t m = 0; m < c->nmaps; m++) {
			if (strcmp(apiary_rt_map_name(c->rt, m), ex->state.s))
				continue;
			for (size_t e = 0; e < c->nenf; e++) {
				struct ordering o;
				char summary[512];
				int parties[2] = {(int)e, owner};
				int err;

				if ((int)e == owner || !c->solo[e].writes[m])
					continue;
				snprintf(summary, sizeof(summary),
					 "%s (team %s) wrote state '%s', which is owned exclusively "
					 "by %s",
					 s->enforcers[e].name.s, s->enforcers[e].team.s, ex->state.s,
					 ex->owner.s);
				ordering_solo(c, (int)e, &o);
				err = report(c, APIARY_INV_EXCLUSIVE, APIARY_VS_ERROR, parties, 2, in,
					     ex->state.s, summary, NULL, s->enforcers[e].name.s, &o,
					     &c->solo[e].res, NULL, NULL, NULL);
				if (err)
					return err;
			}
		}
	}
	return 0;
}

/* The frame as it arrives at hook h on run r (NULL if it never does). */
static const struct apiary_event *frame_at_hook(const struct run_result *r,
						const struct apiary_input *in, enum apiary_hook h,
						struct apiary_event *tmp)
{
	for (size_t i = 0; i < r->nouts; i++) {
		const uint8_t *data;
		uint32_t len;

		if (r->out_hook[i] != h)
			continue;
		frame_entering(r, in, i, &data, &len);
		tmp->hook = h;
		tmp->len = (uint16_t)(len <= sizeof(tmp->data) ? len : sizeof(tmp->data));
		memcpy(tmp->data, data, tmp->len);
		return tmp;
	}
	return NULL;
}

static int check_effects(struct checker *c, const struct apiary_input *in)
{
	const struct apiary_spec *s = c->spec;
	static struct apiary_event tmp;

	for (size_t e = 0; e < c->nenf; e++) {
		const struct apiary_enforcer *en = &s->enforcers[e];
		const struct solo *so = &c->solo[e];

		if (so->nondet || !so->ran)
			continue;
		for (size_t k = 0; k < en->neffects; k++) {
			const struct apiary_effect *ef = &en->effects[k];
			const struct apiary_event *ev = frame_at_hook(&so->res, in, en->hook, &tmp);
			int verdict = 0;
			bool found = false;
			char summary[640], pred[256], key[32];
			struct ordering o;
			int party = (int)e, err;

			if (!ev || !frame_matches(ef->when, ev))
				continue;
			for (size_t i = 0; i < so->res.nouts && !found; i++)
				for (size_t t = 0; t < so->res.outs[i].ntrace; t++)
					if (so->res.outs[i].trace[t].enforcer == e) {
						verdict = so->res.outs[i].trace[t].verdict;
						found = true;
					}
			if (!found || verdict_is(en->hook, verdict, ef->verdict))
				continue;
			apiary_pred_format(ef->when, pred, sizeof(pred));
			snprintf(summary, sizeof(summary),
				 "%s (team %s) declares `effect %s when %s`, but returned %s on a "
				 "matching packet",
				 en->name.s, en->team.s, verdict_kind_name(ef->verdict), pred,
				 vname(en->hook, verdict));
			snprintf(key, sizeof(key), "effect%zu", k);
			ordering_solo(c, (int)e, &o);
			err = report(c, APIARY_INV_EFFECT, APIARY_VS_ERROR, &party, 1, in, key,
				     summary, NULL, en->name.s, &o, &so->res, NULL, NULL, NULL);
			if (err)
				return err;
		}
	}
	return 0;
}

/* Did the path end in a drop that its enforcer declares (`effect drop when Q`
 * with Q true for the frame it saw)? Such drops are intended and reviewed. */
static bool declared_drop(const struct checker *c, const struct apiary_input *in,
			  const struct run_result *r, int stopper, int verdict)
{
	const struct apiary_enforcer *en = &c->spec->enforcers[stopper];
	struct apiary_event tmp;
	const struct apiary_event *ev;

	if (!verdict_is(en->hook, verdict, APIARY_V_DROP))
		return false;
	ev = frame_at_hook(r, in, en->hook, &tmp);
	for (size_t k = 0; ev && k < en->neffects; k++)
		if (en->effects[k].verdict == APIARY_V_DROP && frame_matches(en->effects[k].when, ev))
			return true;
	return false;
}

/*
 * cover E sees P: every input matching P must reach E, unless it was dropped
 * on purpose (a declared drop effect). A frame sent away (XDP_TX, redirect)
 * or swallowed by an undeclared verdict breaks it.
 */
static int check_coverage(struct checker *c, const struct apiary_input *in,
			  const struct ordering *o, const struct run_result *r)
{
	const struct apiary_spec *s = c->spec;

	for (size_t k = 0; k < s->ncovers; k++) {
		const struct apiary_cover *cv = &s->covers[k];
		int e = apiary_spec_enforcer_index(s, cv->enforcer.s);

		for (size_t ev = 0; e >= 0 && ev < in->nevents; ev++) {
			char summary[768], pred[256], why[256], label[256], key[64];
			int parties[2] = {e, -1}, stop_verdict = 0;
			size_t np = 1;
			bool ran = false;
			int err;

			if (!frame_matches(cv->sees, &in->events[ev]))
				continue;
			for (size_t i = 0; i < r->nouts; i++) {
				if (r->out_event[i] != (int)ev)
					continue;
				for (size_t t = 0; t < r->outs[i].ntrace; t++) {
					const struct apiary_trace_ent *te = &r->outs[i].trace[t];

					if (te->enforcer == e)
						ran = true;
					else if (!apiary_verdict_continues(te->hook, te->verdict)) {
						parties[1] = te->enforcer;
						np = 2;
						stop_verdict = te->verdict;
					}
				}
			}
			if (ran || (np == 2 && declared_drop(c, in, r, parties[1], stop_verdict)))
				continue;
			if (np == 2)
				snprintf(why, sizeof(why), "%s (team %s) returned %s at %s",
					 s->enforcers[parties[1]].name.s,
					 s->enforcers[parties[1]].team.s,
					 vname(s->enforcers[parties[1]].hook, stop_verdict),
					 apiary_hook_name(s->enforcers[parties[1]].hook));
			else
				snprintf(why, sizeof(why), "the frame never reached %s",
					 apiary_hook_name(s->enforcers[e].hook));
			apiary_pred_format(cv->sees, pred, sizeof(pred));
			snprintf(summary, sizeof(summary),
				 "`cover %s sees %s` is broken: %s did not run on a matching packet "
				 "(event %zu) because %s",
				 cv->enforcer.s, pred, cv->enforcer.s, ev, why);
			order_label(c, o, label, sizeof(label));
			snprintf(key, sizeof(key), "cover%zu", k);
			err = report(c, APIARY_INV_COVERAGE, APIARY_VS_ERROR, parties, np, in, key,
				     summary, NULL, label, o, r, NULL, NULL, NULL);
			if (err)
				return err;
			break;
		}
	}
	return 0;
}

/* Pairs whose relative order differs between two orderings and that interact. */
static size_t differing_pairs(const struct checker *c, const struct ordering *a,
			      const struct ordering *b, int (*pairs)[2], size_t max)
{
	size_t n = 0;

	for (int h = 1; h < APIARY_NHOOKS; h++) {
		for (size_t i = 0; i < a->len[h]; i++) {
			for (size_t j = i + 1; j < a->len[h]; j++) {
				int x = a->chain[h][i], y = a->chain[h][j];
				size_t px = 0, py = 0;

				for (size_t k = 0; k < b->len[h]; k++) {
					if (b->chain[h][k] == x)
						px = k;
					if (b->chain[h][k] == y)
						py = k;
				}
				if (px > py && c->interact[x][y] && n < max) {
					pairs[n][0] = x < y ? x : y;
					pairs[n][1] = x < y ? y : x;
					n++;
				}
			}
		}
	}
	return n;
}

static bool involves_nondet(const struct checker *c, int (*pairs)[2], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (c->nondet_reported[pairs[i][0]] || c->nondet_reported[pairs[i][1]])
			return true;
	return false;
}

/*
 * The dispatcher must run what the spec declares: in every hop's trace, an
 * enforcer declared before another never runs after it. A failure here is a
 * sidecar bug, reported as an ordering violation (error), not info.
 */
static int check_trace_order(struct checker *c, const struct apiary_input *in,
			     const struct ordering *o, const struct run_result *r)
{
	for (size_t i = 0; i < r->nouts; i++) {
		const struct apiary_outcome *out = &r->outs[i];

		for (size_t x = 0; x < out->ntrace; x++) {
			for (size_t y = x + 1; y < out->ntrace; y++) {
				int a = out->trace[x].enforcer, b = out->trace[y].enforcer;
				int parties[2] = {b, a};
				char summary[512], label[256];

				if (a >= (int)c->nenf || b >= (int)c->nenf || !c->before[b][a])
					continue;
				snprintf(summary, sizeof(summary),
					 "the dispatcher ran %s before %s, but the spec orders %s "
					 "first",
					 c->spec->enforcers[a].name.s, c->spec->enforcers[b].name.s,
					 c->spec->enforcers[b].name.s);
				order_label(c, o, label, sizeof(label));
				return report(c, APIARY_INV_ORDERING, APIARY_VS_ERROR, parties, 2, in,
					      "dispatcher", summary, NULL, label, o, r, NULL, NULL,
					      NULL);
			}
		}
	}
	return 0;
}

/* Declared `order a before b`: would swapping them change the outcome? */
static int check_declared_orders(struct checker *c, const struct apiary_input *in,
				 const struct ordering *base, const struct run_result *rbase)
{
	const struct apiary_spec *s = c->spec;
	static struct run_result swapped;
	int err = 0;

	for (size_t k = 0; k < s->norders && !err; k++) {
		int a = apiary_spec_enforcer_index(s, s->orders[k].before.s);
		int b = apiary_spec_enforcer_index(s, s->orders[k].after.s);
		struct ordering o = *base;
		int h, ia = -1, ib = -1;
		char summary[512], what[64], la[256], lb[256];
		int parties[2] = {a, b};

		if (a < 0 || b < 0 || s->enforcers[a].hook != s->enforcers[b].hook)
			continue;
		if (c->solo[a].nondet || c->solo[b].nondet)
			continue;
		h = s->enforcers[a].hook;
		for (size_t i = 0; i < o.len[h]; i++) {
			if (o.chain[h][i] == a)
				ia = (int)i;
			if (o.chain[h][i] == b)
				ib = (int)i;
		}
		if (ia < 0 || ib < 0)
			continue;
		o.chain[h][ia] = b;
		o.chain[h][ib] = a;
		err = set_ordering(c, &o);
		err = err ?: run_input(c, in, &swapped);
		if (err)
			break;
		if (results_equal(rbase, &swapped, what, sizeof(what)))
			continue;
		snprintf(summary, sizeof(summary),
			 "declared `order %s before %s` matters: run the other way round, the %s "
			 "differs",
			 s->orders[k].before.s, s->orders[k].after.s, what);
		order_label(c, base, la, sizeof(la));
		order_label(c, &o, lb, sizeof(lb));
		err = report(c, APIARY_INV_ORDERING, APIARY_VS_INFO, parties, 2, in, NULL, summary,
			     NULL, la, base, rbase, lb, &o, &swapped);
	}
	apiary_delta_free(&swapped.delta);
	return err;
}

/*
 * Two orderings with different outcomes: walk from `from` to `to` by
 * adjacent swaps (bubbling each of to's enforcers into place) and run each
 * step; the first swap that changes the outcome names the two enforcers that
 * do not commute, and the violation shows exactly those two orderings.
 */
static int report_commutativity(struct checker *c, const struct apiary_input *in,
				const struct ordering *from, const struct ordering *to)
{
	static struct run_result prev, next;
	struct ordering a = *from, b;
	char what[64], summary[512], la[256], lb[256];
	int err = 0;

	err = set_ordering(c, &a);
	err = err ?: run_input(c, in, &prev);
	for (int h = 1; h < APIARY_NHOOKS && !err; h++) {
		for (size_t i = 0; i < to->len[h] && !err; i++) {
			size_t j = i;

			while (j < a.len[h] && a.chain[h][j] != to->chain[h][i])
				j++;
			for (; j > i && !err; j--) {
				int x = a.chain[h][j - 1], y = a.chain[h][j];
				int parties[2] = {x < y ? x : y, x < y ? y : x};

				b = a;
				b.chain[h][j - 1] = y;
				b.chain[h][j] = x;
				err = set_ordering(c, &b);
				err = err ?: run_input(c, in, &next);
				if (err)
					break;
				if (!results_equal(&prev, &next, what, sizeof(what))) {
					snprintf(summary, sizeof(summary),
						 "undeclared order dependence between %s (team %s) and %s "
						 "(team %s): swapping them changes the %s; declare `order` "
						 "or make them commute",
						 c->spec->enforcers[parties[0]].name.s,
						 c->spec->enforcers[parties[0]].team.s,
						 c->spec->enforcers[parties[1]].name.s,
						 c->spec->enforcers[parties[1]].team.s, what);
					order_label(c, &a, la, sizeof(la));
					order_label(c, &b, lb, sizeof(lb));
					err = report(c, APIARY_INV_COMMUTATIVITY, APIARY_VS_ERROR, parties,
						     2, in, NULL, summary, NULL, la, &a, &prev, lb, &b,
						     &next);
					goto out;
				}
				a = b;
				apiary_delta_free(&prev.delta);
				prev = next;
				memset(&next.delta, 0, sizeof(next.delta));
			}
		}
	}
out:
	apiary_delta_free(&prev.delta);
	apiary_delta_free(&next.delta);
	return err;
}

/*
 * All ordering classes of this input: product over hooks of per-hook class
 * representatives, run twice each; compare with the spec's own order.
 */
static int explore(struct checker *c, const struct apiary_input *in)
{
	int *reps[APIARY_NHOOKS] = {0};
	size_t nreps[APIARY_NHOOKS] = {0};
	size_t idx[APIARY_NHOOKS] = {0};
	static struct run_result base_res, cur, again;
	struct ordering base;
	bool have_base = false;
	uint64_t total = 1;
	int err = 0;

	for (int h = 1; h < APIARY_NHOOKS; h++) {
		size_t n = c->hook_n[h];

		total *= c->perms_total[h] ? c->perms_total[h] : 1;
		reps[h] = calloc(c->nperms[h] ? c->nperms[h] : 1, (n ? n : 1) * sizeof(int));
		if (!reps[h]) {
			err = -ENOMEM;
			goto out;
		}
		for (size_t p = 0; p < c->nperms[h]; p++) {
			int canon[APIARY_MAX_CHAIN];
			bool dup = false;

			canonical(c, c->perms[h] + p * n, n, canon);
			for (size_t r = 0; r < nreps[h] && !dup; r++)
				dup = !memcmp(reps[h] + r * n, canon, n * sizeof(int));
			if (!dup)
				memcpy(reps[h] + nreps[h]++ * n, canon, n * sizeof(int));
		}
		if (!nreps[h])
			nreps[h] = 1; /* empty hook: one empty ordering */
	}
	c->stats->orderings_total += total;

	for (;;) {
		struct ordering o = {0};
		char what[64];

		for (int h = 1; h < APIARY_NHOOKS; h++) {
			o.len[h] = c->hook_n[h];
			if (c->hook_n[h])
				memcpy(o.chain[h], reps[h] + idx[h] * c->hook_n[h],
				       c->hook_n[h] * sizeof(int));
		}
		err = set_ordering(c, &o);
		err = err ?: run_input(c, in, &cur);
		err = err ?: run_input(c, in, &again);
		if (err)
			goto out;
		c->stats->orderings_run++;

		if (!results_equal(&cur, &again, NULL, 0)) {
			/* this ordering disagrees with itself: find who, never blame the order */
			int who[APIARY_MAX_ENFORCERS];
			size_t n = 0;

			for (int h = 1; h < APIARY_NHOOKS; h++)
				for (size_t k = 0; k < o.len[h]; k++)
					who[n++] = o.chain[h][k];
			err = find_nondet(c, in, who, n);
			if (err)
				goto out;
		} else {
			err = check_trace_order(c, in, &o, &cur);
			err = err ?: check_coverage(c, in, &o, &cur);
			if (err)
				goto out;
			if (!have_base) {
				base = o;
				base_res.nouts = cur.nouts;
				memcpy(base_res.outs, cur.outs, cur.nouts * sizeof(cur.outs[0]));
				memcpy(base_res.out_event, cur.out_event, sizeof(cur.out_event));
				memcpy(base_res.out_hook, cur.out_hook, sizeof(cur.out_hook));
				apiary_delta_free(&base_res.delta);
				base_res.delta = cur.delta;
				memset(&cur.delta, 0, sizeof(cur.delta));
				have_base = true;
				err = check_declared_orders(c, in, &base, &base_res);
				if (err)
					goto out;
			} else if (!results_equal(&base_res, &cur, what, sizeof(what))) {
				int pairs[8][2];
				size_t np = differing_pairs(c, &base, &o, pairs, 8);
				bool ok_base = true, ok_cur = true;

				if (np && !involves_nondet(c, pairs, np)) {
					err = stable(c, in, &base, &base_res, CONFIRM_RUNS, &ok_base);
					err = err ?: stable(c, in, &o, &cur, CONFIRM_RUNS, &ok_cur);
					if (!err && (!ok_base || !ok_cur))
						err = find_nondet(c, in, pairs[0], 2 * np);
					if (!err && ok_base && ok_cur && !involves_nondet(c, pairs, np))
						err = report_commutativity(c, in, &base, &o);
					if (err)
						goto out;
				}
			}
		}
		if (c->stop)
			break;
		/* next combination */
		int h = 1;

		while (h < APIARY_NHOOKS && ++idx[h] >= nreps[h])
			idx[h++] = 0;
		if (h == APIARY_NHOOKS)
			break;
	}
out:
	for (int h = 1; h < APIARY_NHOOKS; h++)
		free(reps[h]);
	apiary_delta_free(&cur.delta);
	apiary_delta_free(&again.delta);
	apiary_delta_free(&base_res.delta);
	return err;
}

static int check_input(struct checker *c, const struct apiary_input *in)
{
	int err;

	err = analyse_solo(c, in);
	if (err)
		return err;
	compute_interactions(c);
	err = check_exclusive(c, in);
	err = err ?: check_effects(c, in);
	err = err ?: explore(c, in);
	c->stats->inputs++;
	return err;
}

/* ---- inputs ------------------------------------------------------------- */

struct input_list {
	struct apiary_input *v;
	size_t n, cap;
};

static int add_frame(struct input_list *l, enum apiary_hook hook, const uint8_t *frame,
		     size_t len)
{
	struct apiary_input *in;

	if (l->n == MAX_INPUTS)
		return -E2BIG;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct apiary_input *n = realloc(l->v, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->v = n;
		l->cap = cap;
	}
	in = &l->v[l->n++];
	memset(in, 0, offsetof(struct apiary_input, events));
	in->update_at = APIARY_INPUT_NO_UPDATE;
	in->nevents = 1;
	in->events[0].hook = hook;
	if (len > APIARY_INPUT_MAX_FRAME)
		len = APIARY_INPUT_MAX_FRAME;
	if (len)
		memcpy(in->events[0].data, frame, len);
	if (len < 14) {
		memset(in->events[0].data + len, 0, 14 - len);
		len = 14;
	}
	in->events[0].len = (uint16_t)len;
	return 0;
}

/*
 * The reply to a frame: MACs, addresses and ports swapped. Checksums stay
 * valid (the pseudo-header sum does not depend on the order). Returns false
 * for frames that are not IPv4/IPv6.
 */
static bool make_reply(const uint8_t *f, size_t len, uint8_t *out)
{
	size_t l3 = 14, l4;
	uint16_t type;
	uint8_t proto, tmp[16];

	if (len < 14)
		return false;
	memcpy(out, f, len);
	memcpy(out, f + 6, 6);
	memcpy(out + 6, f, 6);
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == 0x8100 || type == 0x88a8) {
		if (len < 18)
			return false;
		type = (uint16_t)(f[16] << 8 | f[17]);
		l3 = 18;
	}
	if (type == 0x0800 && len >= l3 + 20) {
		memcpy(tmp, f + l3 + 12, 4);
		memcpy(out + l3 + 12, f + l3 + 16, 4);
		memcpy(out + l3 + 16, tmp, 4);
		proto = f[l3 + 9];
		l4 = l3 + (size_t)(f[l3] & 0xf) * 4;
	} else if (type == 0x86dd && len >= l3 + 40) {
		memcpy(out + l3 + 8, f + l3 + 24, 16);
		memcpy(out + l3 + 24, f + l3 + 8, 16);
		proto = f[l3 + 6];
		l4 = l3 + 40;
	} else {
		return false;
	}
	if ((proto == 6 || proto == 17) && len >= l4 + 4) {
		memcpy(out + l4, f + l4 + 2, 2);
		memcpy(out + l4 + 2, f + l4, 2);
	}
	return true;
}

struct gen_ctx {
	struct input_list *list;
	bool egress;
	int err;
};

/* Each generated frame becomes: the frame entering at xdp; the frame and
 * its reply (a two-event flow); and, when tc.egress has enforcers, the frame
 * sent by the host itself. */
static int on_generated(void *arg, const struct apiary_z3gen_packet *pkt)
{
	struct gen_ctx *g = arg;
	static uint8_t reply[APIARY_INPUT_MAX_FRAME];
	const uint8_t *frame = pkt->frame;
	size_t len = pkt->len;

	if (len > APIARY_INPUT_MAX_FRAME)
		len = APIARY_INPUT_MAX_FRAME;
	g->err = add_frame(g->list, APIARY_HOOK_XDP, frame, len);
	if (!g->err && make_reply(frame, len, reply)) {
		g->err = add_frame(g->list, APIARY_HOOK_XDP, frame, len);
		if (!g->err) {
			struct apiary_input *in = &g->list->v[g->list->n - 1];

			in->events[1] = in->events[0];
			memcpy(in->events[1].data, reply, len);
			in->nevents = 2;
		}
	}
	if (!g->err && g->egress)
		g->err = add_frame(g->list, APIARY_HOOK_TC_EGRESS, frame, len);
	if (g->err)
		return g->err == -E2BIG ? 1 : g->err;
	return 0;
}

/*
 * Inputs z3 cannot think of, because no predicate of the spec mentions the
 * field a program branches on: one default frame per packet shape, and
 * variants of the TCP/IPv4 defaults over classic values (every common TCP
 * flag combination, TTL edges, well-known ports).
 */
static int add_baseline(struct gen_ctx *g)
{
	static const uint8_t flags[] = {0x00, 0x02, 0x12, 0x10, 0x18, 0x11, 0x04, 0x14, 0x03, 0x29};
	static const uint8_t ttls[] = {0, 1, 2, 255};
	static const uint16_t ports[] = {22, 23, 25, 53, 80, 443, 8080};
	struct apiary_z3gen_packet pkt = {0};
	struct apiary_pkt_fields f;
	uint8_t buf[256];
	long len;
	int err = 0;

	pkt.frame = buf;
	for (size_t i = 0; i < apiary_pkt_nshapes && !err; i++) {
		apiary_pkt_fields_default(&f, apiary_pkt_shapes[i].layers);
		len = apiary_packet_build(&f, buf, sizeof(buf));
		if (len <= 0)
			continue;
		pkt.len = (size_t)len;
		err = on_generated(g, &pkt);
	}
	for (int v6 = 0; v6 < 2 && !err; v6++) {
		uint32_t base = APIARY_L_ETH | (v6 ? APIARY_L_IPV6 : APIARY_L_IPV4) | APIARY_L_TCP;

		for (size_t k = 0; k < sizeof(flags) + sizeof(ttls) + sizeof(ports) * 2 && !err; k++) {
			apiary_pkt_fields_default(&f, base);
			if (k < sizeof(flags)) {
				f.tcp_flags = flags[k];
			} else if (k < sizeof(flags) + sizeof(ttls)) {
				f.ip_ttl = f.ip6_ttl = ttls[k - sizeof(flags)];
			} else {
				size_t p = k - sizeof(flags) - sizeof(ttls);

				if (p < sizeof(ports) / sizeof(ports[0]))
					f.dport = ports[p];
				else if (p - sizeof(ports) / sizeof(ports[0]) < sizeof(ports) / sizeof(ports[0]))
					f.sport = ports[p - sizeof(ports) / sizeof(ports[0])];
				else
					continue;
			}
			len = apiary_packet_build(&f, buf, sizeof(buf));
			if (len <= 0)
				continue;
			pkt.len = (size_t)len;
			err = on_generated(g, &pkt);
		}
	}
	return err < 0 ? err : 0;
}

/* Seed captures shipped with the bundle: <spec dir>/seeds/\*.pcap. Each
 * packet is an input of its own, and each capture's first packets one
 * event sequence. */
static int add_seeds(struct checker *c, struct input_list *l)
{
	char path[4096];
	DIR *dir;
	struct dirent *de;
	int err = 0;

	snprintf(path, sizeof(path), "%s/seeds", c->spec->dir ? c->spec->dir : ".");
	dir = opendir(path);
	if (!dir)
		return 0; /* no seeds shipped */
	while (!err && (de = readdir(dir))) {
		struct apiary_input *ins = NULL;
		size_t n = 0, len = strlen(de->d_name);

		if (len < 5 || strcmp(de->d_name + len - 5, ".pcap"))
			continue;
		snprintf(path, sizeof(path), "%s/seeds/%s", c->spec->dir ? c->spec->dir : ".",
			 de->d_name);
		err = apiary_pcap_read(path, APIARY_HOOK_XDP, 1, &ins, &n, c->diags);
		for (size_t i = 0; !err && i < n; i++)
			err = add_frame(l, APIARY_HOOK_XDP, ins[i].events[0].data,
					ins[i].events[0].len);
		free(ins);
		ins = NULL;
		if (!err && n > 1) {
			err = apiary_pcap_read(path, APIARY_HOOK_XDP, APIARY_INPUT_MAX_EVENTS, &ins,
					       &n, c->diags);
			if (!err && n && !(err = add_frame(l, APIARY_HOOK_XDP, NULL, 0)))
				l->v[l->n - 1] = ins[0];
			free(ins);
		}
		c->stats->inputs_seeds = l->n - c->stats->inputs_z3 - c->stats->inputs_baseline;
	}
	closedir(dir);
	return err == -E2BIG ? 0 : err;
}

/*
 * z3 inputs from every predicate of the spec: classifier match, effects,
 * covers. Each frame enters at xdp (it then travels the forwarding path) and,
 * when something runs at tc.egress, also at tc.egress alone (locally sent).
 */
static int generate_inputs(struct checker *c, struct input_list *l)
{
	const struct apiary_spec *s = c->spec;
	struct apiary_z3gen *gen;
	struct gen_ctx g = {.list = l};
	int err = 0;

	g.egress = c->hook_n[APIARY_HOOK_TC_EGRESS] > 0;
	gen = apiary_z3gen_new(NULL);
	if (!gen)
		return -errno;
	err = apiary_z3gen_add_spec(gen, s);
	if (err >= 0)
		err = apiary_z3gen_run(gen, on_generated, &g);
	if (err == -EIO)
		apiary_error(c->diags, NULL, "z3: %s", apiary_z3gen_error(gen));
	c->stats->z3_unsat = apiary_z3gen_stats(gen)->unsat;
	apiary_z3gen_free(gen);
	if (err < 0)
		return err;
	if (g.err < 0 && g.err != -E2BIG)
		return g.err;
	c->stats->inputs_z3 = l->n;
	err = add_baseline(&g);
	if (err)
		return err;
	c->stats->inputs_baseline = l->n - c->stats->inputs_z3;
	return add_seeds(c, l);
}

int apiary_check_run(const struct apiary_spec *spec, const struct apiary_build *build,
		     struct apiary_rt *rt, const struct apiary_check_opts *opts,
		     struct apiary_check_stats *stats, struct apiary_diags *diags)
{
	struct checker *c;
	struct input_list inputs = {0};
	int err;

	memset(stats, 0, sizeof(*stats));
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->spec = spec;
	c->build = build;
	c->rt = rt;
	c->opts = opts;
	c->stats = stats;
	c->diags = diags;
	c->nenf = spec->nenforcers;
	c->nmaps = apiary_rt_nmaps(rt);
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	for (size_t e = 0; e < c->nenf; e++) {
		c->solo[e].writes = calloc(c->nmaps ? c->nmaps : 1, sizeof(bool));
		if (!c->solo[e].writes) {
			err = -ENOMEM;
			goto out;
		}
	}
	apiary_spec_must_precede(spec, &c->before[0][0], APIARY_MAX_ENFORCERS);
	err = enumerate_orderings(c);
	if (err)
		goto out;
	err = apiary_rt_snapshot(rt, &c->base);
	if (err) {
		apiary_error(diags, NULL, "cannot snapshot the bundle's maps: %s", strerror(-err));
		goto out;
	}

	if (opts->only) {
		err = add_frame(&inputs, APIARY_HOOK_XDP, NULL, 0);
		if (!err)
			inputs.v[0] = *opts->only;
	} else {
		err = generate_inputs(c, &inputs);
		if (err)
			apiary_error(diags, NULL, "generating inputs with z3 failed: %s",
				     strerror(-err));
	}
	if (err)
		goto out;
	stats->inputs_planned = inputs.n;

	for (size_t i = 0; i < inputs.n && !c->stop; i++) {
		if (opts->budget_s > 0 && elapsed(c) > opts->budget_s) {
			stats->budget_hit = true;
			break;
		}
		err = check_input(c, &inputs.v[i]);
		if (err) {
			apiary_error(diags, NULL, "running input %zu failed: %s", i, strerror(-err));
			goto out;
		}
		if (opts->progress && (i + 1) % 16 == 0)
			fprintf(opts->progress, "\r  checked %zu/%zu inputs, %llu test runs, %.1fs",
				i + 1, inputs.n, (unsigned long long)stats->runs, elapsed(c));
	}
	if (opts->progress && inputs.n >= 16)
		fprintf(opts->progress, "\n");
	if (!err && !c->stop && spec->nupdates) {
		err = apiary__chk_updates(c, inputs.v, inputs.n);
		if (err)
			goto out;
	}
	/* leave the maps as loaded */
	err = apiary_rt_restore(rt, c->base);
out:
	free(inputs.v);
	for (size_t e = 0; e < APIARY_MAX_ENFORCERS; e++) {
		free(c->solo[e].writes);
		apiary_delta_free(&c->solo[e].res.delta);
	}
	for (int h = 0; h < APIARY_NHOOKS; h++)
		free(c->perms[h]);
	for (size_t i = 0; i < c->nseen; i++)
		free(c->seen[i]);
	free(c->seen);
	apiary_snapshot_free(c->base);
	free(c);
	return err;
}

/* ---- for update.c (check_int.h) ----------------------------------------- */

int apiary__chk_report(struct checker *c, enum apiary_invariant inv, enum apiary_vseverity sev,
		       const int *parties, size_t nparties, const struct apiary_input *in,
		       const char *key_suffix, const char *summary, const char *detail,
		       const char *label_a, const struct ordering *oa, const struct run_result *ra,
		       const char *label_b, const struct ordering *ob, const struct run_result *rb)
{
	return report(c, inv, sev, parties, nparties, in, key_suffix, summary, detail, label_a, oa,
		      ra, label_b, ob, rb);
}

int apiary__chk_input(struct checker *c, const struct apiary_input *in)
{
	return check_input(c, in);
}

int apiary__chk_set_ordering(struct checker *c, const struct ordering *o)
{
	return set_ordering(c, o);
}

double apiary__chk_elapsed(const struct checker *c)
{
	return elapsed(c);
}
