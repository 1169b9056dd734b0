// SPDX-License-Identifier: MIT
/*
 * Update interleavings: does every flow stay on one version of an updated
 * enforcer across the update, on the sidecar path, and what would a naive
 * in-place replace have done instead?
 *
 * An update event flips every `update` of the bundle at once (the bundle
 * ships version N+1 of its updated enforcers together). For each candidate
 * packet (the checker's own inputs that match the classifier and carry
 * TCP/UDP), three interleaved flows are derived from it (SYN, data, replies,
 * FIN, RST, a new connection on a closed 5-tuple) and the update is placed
 * before every event and after the last. Each sequence runs twice from the
 * same snapshot:
 *   sidecar  - routes PINNED: a flow keeps the version it was pinned to;
 *   naive    - routes NAIVE: every packet after the flip runs the new
 *              version (the program swapped in place).
 * Declared migrations run at the flip on both paths. The logical clock is
 * the event index + 1, so the idle timeout counts events.
 *
 * A flow is a TCP/UDP 5-tuple (both directions) whose first packet at the
 * classifier's hook matches the classifier, cut into incarnations by the
 * same rules the sidecar implements (abi.h, struct apiary_pins): at the
 * classifier's hook, a SYN without ACK after FIN/RST, or more than `idle`
 * ticks of silence, starts a new one. The model is computed here from the
 * packets, not read from the kernel, so a sidecar that pins wrongly is
 * caught.
 *
 * Findings:
 *   - flow-consistent E, sidecar path: an incarnation handled by two
 *     versions of E is an error;
 *   - naive replace: the first mixed flow whose outcome differs from the
 *     sidecar's (else the first mixed one) is shown, as information;
 *   - migrations: entries the new map did not keep (lost), fields no line
 *     assigns (left unconverted), integers that did not fit (unfaithful);
 * then every input is checked again with all updates flipped, so ordering,
 * coverage, commutativity, effects and ownership hold for the new versions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bpf.h>

#include "apiary/packet.h"
#include "check_int.h"

#define MAX_CANDIDATES 6
#define MAX_FLOWS 16

static const enum apiary_hook hooks3[] = {APIARY_HOOK_XDP, APIARY_HOOK_TC_INGRESS,
					  APIARY_HOOK_TC_EGRESS};

enum role { R_SYN, R_SYNACK, R_DATA, R_DATA_REPLY, R_FIN, R_RST, R_ACK_REPLY };

struct step {
	int flow;
	enum role role;
};

/* Three TCP connections, interleaved: A opens, B opens, C opens; A closes
 * with FIN (its last ACK comes after), B is reset, A's 5-tuple is reused
 * by a new connection, C closes. */
static const struct step tcp_script[] = {
	{0, R_SYN},  {1, R_SYN},  {0, R_SYNACK}, {2, R_SYN},       {0, R_DATA},
	{1, R_DATA_REPLY},        {0, R_FIN},    {2, R_DATA},      {1, R_RST},
	{0, R_ACK_REPLY},         {0, R_SYN},    {2, R_FIN},       {0, R_DATA},
};

/* UDP has no connection: three flows, interleaved, both directions. */
static const struct step udp_script[] = {
	{0, R_DATA}, {1, R_DATA}, {0, R_DATA_REPLY}, {2, R_DATA}, {1, R_DATA_REPLY},
	{0, R_DATA}, {2, R_DATA_REPLY}, {1, R_DATA}, {2, R_DATA},
};

static const char *const role_names[] = {"SYN", "SYN-ACK", "data", "reply", "FIN", "RST", "ACK"};

/* One flow incarnation as seen on one run. */
struct finc {
	uint64_t flow_id;
	size_t n;
	int ev[APIARY_INPUT_MAX_EVENTS];
	int vslot[APIARY_INPUT_MAX_EVENTS][APIARY_MAX_ENFORCERS]; /* -1: did not run */
	bool mixed[APIARY_MAX_ENFORCERS];
};

struct updater {
	struct checker *c;
	struct ordering order;       /* the chains every sequence runs */
	bool updated[APIARY_MAX_ENFORCERS];
	bool consistent[APIARY_MAX_ENFORCERS]; /* flow-consistent declared */
	int first;                   /* an updated enforcer (parties of migrations) */
	char phase[256];
	/* naive witness: input, and whether its outcome differs */
	struct apiary_input witness;
	int witness_enf;
	bool have_witness, witness_differs;
	struct run_result rs, rn;    /* sidecar, naive */
};

/* ---- sequences ---------------------------------------------------------- */

/* One packet of a flow derived from the candidate's fields. */
static int make_packet(const struct apiary_pkt_fields *base, int flow, enum role role,
		       struct apiary_event *ev)
{
	struct apiary_pkt_fields f = *base;
	bool reply = role == R_SYNACK || role == R_DATA_REPLY || role == R_ACK_REPLY;
	static const uint8_t flags[] = {0x02, 0x12, 0x18, 0x18, 0x11, 0x14, 0x10};
	long len;

	f.sport = (uint16_t)(base->sport + 1 + flow * 101);
	if (!f.sport)
		f.sport = 1;
	if (f.layers & APIARY_L_TCP) {
		f.tcp_flags = flags[role];
		f.tcp_ack = (f.tcp_flags & 0x10) ? 1 : 0;
	}
	if (reply) {
		uint8_t tmp[16];
		uint16_t p = f.sport;

		memcpy(tmp, f.eth_src, 6);
		memcpy(f.eth_src, f.eth_dst, 6);
		memcpy(f.eth_dst, tmp, 6);
		memcpy(tmp, f.ip_src, 4);
		memcpy(f.ip_src, f.ip_dst, 4);
		memcpy(f.ip_dst, tmp, 4);
		memcpy(tmp, f.ip6_src, 16);
		memcpy(f.ip6_src, f.ip6_dst, 16);
		memcpy(f.ip6_dst, tmp, 16);
		f.sport = f.dport;
		f.dport = p;
	}
	len = apiary_packet_build(&f, ev->data, sizeof(ev->data));
	if (len < 0)
		return (int)len;
	ev->len = (uint16_t)len;
	ev->hook = APIARY_HOOK_XDP;
	return 0;
}

/* The interleaved sequence of one candidate (update_at left unset). */
static int make_sequence(const struct apiary_event *cand, struct apiary_input *in)
{
	struct apiary_pkt_fields f;
	const struct step *script;
	size_t n;

	memset(in, 0, offsetof(struct apiary_input, events));
	apiary_packet_parse(cand->data, cand->len, &f);
	if (f.layers & APIARY_L_TCP) {
		script = tcp_script;
		n = sizeof(tcp_script) / sizeof(tcp_script[0]);
	} else if (f.layers & APIARY_L_UDP) {
		script = udp_script;
		n = sizeof(udp_script) / sizeof(udp_script[0]);
	} else {
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		int err = make_packet(&f, script[i].flow, script[i].role, &in->events[i]);

		if (err)
			return err;
	}
	in->nevents = n;
	in->update_at = APIARY_INPUT_NO_UPDATE;
	return 0;
}

/* Role of event i of a sequence (for messages); NULL if not a script. */
static const char *role_of(const struct apiary_input *in, size_t i)
{
	struct apiary_pkt_fields f;

	apiary_packet_parse(in->events[i].data, in->events[i].len, &f);
	if (!(f.layers & APIARY_L_TCP))
		return "packet";
	switch (f.tcp_flags) {
	case 0x02: return role_names[R_SYN];
	case 0x12: return role_names[R_SYNACK];
	case 0x11: return role_names[R_FIN];
	case 0x14: return role_names[R_RST];
	case 0x10: return role_names[R_ACK_REPLY];
	default: return role_names[R_DATA];
	}
}

/* ---- running ------------------------------------------------------------ */

static int set_routes(struct updater *u, int vslot, int mode)
{
	struct checker *c = u->c;
	int err = 0;

	for (size_t e = 0; e < c->nenf && !err; e++)
		err = apiary_rt_set_route(c->rt, (int)e, u->updated[e] ? vslot : 0,
					  u->updated[e] ? mode : APIARY_ROUTE_PINNED);
	return err;
}

/* Run every migration at the flip; migration findings come from the
 * sidecar run only (the naive one runs the same conversion). */
static int run_migrations(struct updater *u, const struct apiary_input *in, bool judge);

/*
 * One sequence along its path: routes start at the old versions in `mode`,
 * the update flips them before event update_at (after the last when equal
 * to nevents), the clock ticks once per event.
 */
static int run_sequence(struct updater *u, const struct apiary_input *in, int mode,
			struct run_result *r, bool judge)
{
	struct checker *c = u->c;
	struct apiary_snapshot *after = NULL;
	struct apiary_pins pins;
	int err;

	apiary_delta_free(&r->delta);
	r->nouts = 0;
	err = apiary_rt_restore(c->rt, c->base);
	err = err ?: apiary__chk_set_ordering(c, &u->order);
	err = err ?: set_routes(u, 0, mode);
	err = err ?: apiary_rt_pins(c->rt, NULL, true);
	for (size_t e = 0; !err && e <= in->nevents; e++) {
		struct apiary_event ev;

		if (e == in->update_at) {
			err = set_routes(u, 1, mode);
			err = err ?: run_migrations(u, in, judge);
			if (err)
				break;
		}
		if (e == in->nevents)
			break;
		ev = in->events[e];
		err = apiary_rt_set_clock(c->rt, e + 1);
		for (enum apiary_hook h = ev.hook; !err && h != APIARY_HOOK_NONE;) {
			struct apiary_outcome *o;

			if (r->nouts == MAX_OUTS) {
				err = -E2BIG;
				break;
			}
			o = &r->outs[r->nouts];
			ev.hook = h;
			err = apiary_rt_run(c->rt, &ev, o);
			if (err)
				break;
			o->hook = h;
			c->stats->runs++;
			r->out_hook[r->nouts] = h;
			r->out_event[r->nouts++] = (int)e;
			if (!apiary_verdict_continues(h, o->verdict) || o->len > sizeof(ev.data))
				break;
			memcpy(ev.data, o->data, o->len);
			ev.len = (uint16_t)o->len;
			h = h == APIARY_HOOK_XDP ? APIARY_HOOK_TC_INGRESS :
			    h == APIARY_HOOK_TC_INGRESS ? APIARY_HOOK_TC_EGRESS : APIARY_HOOK_NONE;
		}
	}
	if (!err && judge && !apiary_rt_pins(c->rt, &pins, false)) {
		c->stats->refused += pins.refused;
		c->stats->repinned += pins.repinned;
	}
	err = err ?: apiary_rt_snapshot(c->rt, &after);
	err = err ?: apiary_snapshot_diff(c->base, after, &r->delta);
	apiary_snapshot_free(after);
	/* leave routing and the clock as loaded */
	set_routes(u, 0, APIARY_ROUTE_PINNED);
	apiary_rt_set_clock(c->rt, 0);
	return err;
}

/* ---- the flow model ------------------------------------------------------- */

/* Canonical 5-tuple of a TCP/UDP packet (both directions alike); false
 * for other packets. */
static bool flow_key(const struct apiary_pkt_fields *f, uint8_t key[37])
{
	uint8_t a[18], b[18];
	bool v6 = f->layers & APIARY_L_IPV6;

	if (!(f->layers & (APIARY_L_TCP | APIARY_L_UDP)))
		return false;
	memset(a, 0, sizeof(a));
	memset(b, 0, sizeof(b));
	memcpy(a, v6 ? f->ip6_src : f->ip_src, v6 ? 16 : 4);
	memcpy(b, v6 ? f->ip6_dst : f->ip_dst, v6 ? 16 : 4);
	a[16] = (uint8_t)(f->sport >> 8);
	a[17] = (uint8_t)f->sport;
	b[16] = (uint8_t)(f->dport >> 8);
	b[17] = (uint8_t)f->dport;
	key[0] = (f->layers & APIARY_L_TCP) ? 6 : 17;
	if (memcmp(a, b, sizeof(a)) <= 0) {
		memcpy(key + 1, a, 18);
		memcpy(key + 19, b, 18);
	} else {
		memcpy(key + 1, b, 18);
		memcpy(key + 19, a, 18);
	}
	return true;
}

/*
 * Cut the run's packets into flow incarnations (the sidecar's rules,
 * computed from the packets) and note the version of every updated
 * enforcer on each packet.
 */
static size_t incarnations(const struct updater *u, const struct apiary_input *in,
			   const struct run_result *r, struct finc *out, size_t max)
{
	const struct checker *c = u->c;
	uint32_t idle = c->spec->classifier ? c->spec->classifier->idle : 0;
	struct {
		uint8_t key[37];
		bool closed;
		uint64_t last;
		size_t cur;
	} st[MAX_FLOWS];
	size_t nst = 0, n = 0;

	for (size_t e = 0; e < in->nevents; e++) {
		struct apiary_pkt_fields f;
		uint64_t id = 0, tick = e + 1;
		uint8_t key[37];
		size_t s;
		struct finc *fi;
		bool at_classifier = false; /* the event's path ran the classifier's hook */

		for (size_t i = 0; i < r->nouts; i++) {
			if (r->out_event[i] != (int)e)
				continue;
			if (!id)
				id = r->outs[i].flow_id;
			if (c->spec->classifier && (int)r->outs[i].hook == (int)c->spec->classifier->hook)
				at_classifier = true;
		}
		apiary_packet_parse(in->events[e].data, in->events[e].len, &f);
		if (!flow_key(&f, key))
			continue;
		if (!(f.layers & APIARY_L_TCP))
			f.tcp_flags = 0;
		for (s = 0; s < nst && memcmp(st[s].key, key, sizeof(key)); s++)
			;
		if (s == nst) {
			/* a flow starts at the classifier's hook, where its match
			 * holds */
			if (!at_classifier)
				continue;
			if (c->spec->classifier && c->spec->classifier->match &&
			    !apiary_pred_eval(c->spec->classifier->match, &f))
				continue;
			if (nst == MAX_FLOWS || n == max)
				continue;
			memcpy(st[nst].key, key, sizeof(key));
			st[nst].closed = false;
			st[nst].last = tick;
			st[nst].cur = n++;
			memset(&out[st[nst].cur], 0, sizeof(out[0]));
			nst++;
		} else if (at_classifier && ((st[s].closed && (f.tcp_flags & 0x12) == 0x02) ||
					     (idle && tick - st[s].last > idle))) {
			if (n == max)
				continue;
			st[s].closed = false;
			st[s].cur = n++;
			memset(&out[st[s].cur], 0, sizeof(out[0]));
		}
		if (!out[st[s].cur].flow_id)
			out[st[s].cur].flow_id = id;
		if (f.tcp_flags & 0x05)
			st[s].closed = true;
		st[s].last = tick;
		fi = &out[st[s].cur];
		fi->ev[fi->n] = (int)e;
		for (size_t k = 0; k < APIARY_MAX_ENFORCERS; k++)
			fi->vslot[fi->n][k] = -1;
		for (size_t i = 0; i < r->nouts; i++) {
			if (r->out_event[i] != (int)e)
				continue;
			for (size_t t = 0; t < r->outs[i].ntrace; t++) {
				const struct apiary_trace_ent *te = &r->outs[i].trace[t];

				if (te->enforcer < APIARY_MAX_ENFORCERS)
					fi->vslot[fi->n][te->enforcer] = te->vslot;
			}
		}
		fi->n++;
	}
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < c->nenf; k++) {
			int seen = -1;

			for (size_t p = 0; p < out[i].n; p++) {
				int v = out[i].vslot[p][k];

				if (v < 0)
					continue;
				if (seen >= 0 && v != seen)
					out[i].mixed[k] = true;
				seen = v;
			}
		}
	return n;
}

/* The final outcome of event e on run r (last hook it reached). */
static const struct apiary_outcome *final_of(const struct run_result *r, int e)
{
	const struct apiary_outcome *o = NULL;

	for (size_t i = 0; i < r->nouts; i++)
		if (r->out_event[i] == e)
			o = &r->outs[i];
	return o;
}

static bool same_outcome(const struct apiary_outcome *a, const struct apiary_outcome *b)
{
	if (!a || !b)
		return a == b;
	return a->hook == b->hook && a->verdict == b->verdict && a->len == b->len &&
	       !memcmp(a->data, b->data, a->len);
}

/* "XDP_TX 10.0.0.1:40001 -> 10.1.0.12:80" for an outcome. */
static void outcome_brief(const struct apiary_outcome *o, char *buf, size_t size)
{
	struct apiary_pkt_fields f;
	char vb[16];

	if (!o) {
		snprintf(buf, size, "-");
		return;
	}
	apiary_packet_parse(o->data, o->len, &f);
	if (f.layers & APIARY_L_IPV4)
		snprintf(buf, size, "%s %u.%u.%u.%u:%u -> %u.%u.%u.%u:%u",
			 apiary_verdict_name(o->hook, o->verdict, vb, sizeof(vb)), f.ip_src[0],
			 f.ip_src[1], f.ip_src[2], f.ip_src[3], f.sport, f.ip_dst[0], f.ip_dst[1],
			 f.ip_dst[2], f.ip_dst[3], f.dport);
	else
		snprintf(buf, size, "%s (%u bytes)",
			 apiary_verdict_name(o->hook, o->verdict, vb, sizeof(vb)), o->len);
}

/* Version of enforcer e on packet p of incarnation fi in run r, as text. */
static void version_text(const struct checker *c, int e, int v, char *buf, size_t size)
{
	const struct apiary_build_prog *bp = v >= 0 ? apiary_build_prog(c->build, e, v) : NULL;

	if (!bp)
		snprintf(buf, size, "%s did not run", c->spec->enforcers[e].name.s);
	else
		snprintf(buf, size, "version %u", bp->version);
}

/*
 * The flow packet by packet on both paths: "event 4 data: sidecar version 7
 * -> XDP_TX ... | naive version 8 -> XDP_TX ...", with the update marked.
 */
static void describe_flow(const struct updater *u, const struct apiary_input *in,
			  const struct finc *fs, const struct finc *fn, int e, char *buf,
			  size_t size)
{
	const struct checker *c = u->c;
	const struct finc *fi = fs ? fs : fn;
	size_t pos = 0;
	bool flipped = false;

	buf[0] = '\0';
	for (size_t p = 0; p < fi->n; p++) {
		int ev = fi->ev[p];
		char vs[64], vn[64], os[96], on[96];

		if (!flipped && ev >= in->update_at) {
			pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0,
						"\n    -- update --");
			flipped = true;
		}
		version_text(c, e, fs ? fs->vslot[p][e] : -1, vs, sizeof(vs));
		version_text(c, e, fn ? fn->vslot[p][e] : -1, vn, sizeof(vn));
		outcome_brief(final_of(&u->rs, ev), os, sizeof(os));
		outcome_brief(final_of(&u->rn, ev), on, sizeof(on));
		pos += (size_t)snprintf(buf + pos, pos < size ? size - pos : 0,
					"\n    event %d %s: sidecar %s -> %s | naive replace %s -> %s",
					ev, role_of(in, (size_t)ev), fs ? vs : "?", os, fn ? vn : "?",
					on);
	}
	if (!flipped)
		snprintf(buf + pos, pos < size ? size - pos : 0, "\n    -- update --");
}

/* The incarnation of run `other` with the same events as fi (or NULL). */
static const struct finc *same_flow(const struct finc *all, size_t n, const struct finc *fi)
{
	for (size_t i = 0; i < n; i++)
		if (all[i].n == fi->n && !memcmp(all[i].ev, fi->ev, fi->n * sizeof(fi->ev[0])))
			return &all[i];
	return NULL;
}

/* ---- findings ------------------------------------------------------------- */

static void flow_name(const struct apiary_input *in, const struct finc *fi, char *buf,
		      size_t size)
{
	char desc[256];

	apiary_packet_describe(in->events[fi->ev[0]].data, in->events[fi->ev[0]].len, desc,
			       sizeof(desc));
	if (fi->flow_id)
		snprintf(buf, size, "flow %016llx (first packet: %s)",
			 (unsigned long long)fi->flow_id, desc);
	else
		snprintf(buf, size, "a flow the sidecar does not track (first packet: %s)", desc);
}

static int report_flow(struct updater *u, const struct apiary_input *in, int e,
		       const struct finc *fi, const struct finc *other, bool sidecar, bool differs)
{
	struct checker *c = u->c;
	const struct apiary_build_prog *p0 = apiary_build_prog(c->build, e, 0);
	const struct apiary_build_prog *p1 = apiary_build_prog(c->build, e, 1);
	const char *name = c->spec->enforcers[e].name.s;
	int parties[2] = {e, e};
	char summary[1024], detail[4096], fname[320], key[64], steps[3584];
	int err;

	flow_name(in, fi, fname, sizeof(fname));
	describe_flow(u, in, sidecar ? fi : other, sidecar ? other : fi, e, steps, sizeof(steps));
	if (sidecar)
		snprintf(summary, sizeof(summary),
			 "`flow-consistent %s` is broken on the sidecar path: %s was handled by "
			 "both version %u and version %u of %s across the update (before event %u)",
			 name, fname, p0 ? p0->version : 0, p1 ? p1->version : 0, name,
			 in->update_at);
	else
		snprintf(summary, sizeof(summary),
			 "a naive replace of %s (version %u -> %u) would break `flow-consistent %s`: "
			 "%s is handled by version %u before the update (before event %u) and by "
			 "version %u after it%s; the sidecar keeps it on version %u",
			 name, p0 ? p0->version : 0, p1 ? p1->version : 0, name, fname,
			 p0 ? p0->version : 0, in->update_at, p1 ? p1->version : 0,
			 differs ? ", with a different outcome" : " (same outcome this time)",
			 p0 ? p0->version : 0);
	snprintf(detail, sizeof(detail), "packets of this flow, outcome per path:%s", steps);
	snprintf(key, sizeof(key), "%s", sidecar ? "sidecar" : "naive");
	err = apiary__chk_report(c, APIARY_INV_FLOW_CONSISTENT,
				 sidecar ? APIARY_VS_ERROR : APIARY_VS_INFO, parties, 2, in, key,
				 summary, detail, "sidecar (flows pinned)", &u->order, &u->rs,
				 "naive replace (program swapped at the update)", &u->order, &u->rn);
	return err;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t size)
{
	size_t pos = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && pos + 3 < size; i++)
		pos += (size_t)snprintf(out + pos, size - pos, "%02x", b[i]);
}

static int run_migrations(struct updater *u, const struct apiary_input *in, bool judge)
{
	struct checker *c = u->c;
	const struct apiary_spec *s = c->spec;
	int err = 0;

	for (size_t i = 0; i < s->nmigrations && !err; i++) {
		const struct apiary_migrate *m = &s->migrations[i];
		struct apiary_migrate_result res;
		int e = m->enforcer.s ? apiary_spec_enforcer_index(s, m->enforcer.s) : -1;
		int parties[2] = {e, e};
		char summary[1024], detail[1024], key[128], k[128], o[256], n[256];
		const struct apiary_migrate_entry *bad = NULL;
		const char *what = NULL;

		if (e < 0 || !u->updated[e])
			continue;
		err = apiary_rt_migrate(c->rt, m, &res, c->diags);
		if (err) {
			apiary_migrate_result_free(&res);
			break;
		}
		if (!judge) {
			apiary_migrate_result_free(&res);
			continue;
		}
		/* read back: the new map must hold what was written */
		for (size_t x = 0; x < res.n; x++) {
			struct apiary_migrate_entry *en = &res.entries[x];
			uint8_t *back;

			if (en->err)
				continue;
			back = calloc(1, res.new_size);
			if (!back) {
				err = -ENOMEM;
				break;
			}
			if (apiary_rt_map_lookup(c->rt, res.new_map, en->key, back) ||
			    memcmp(back, en->new_value, res.new_size)) {
				en->err = -ENOENT;
				res.lost++;
			}
			free(back);
		}
		c->stats->migrated += res.n - res.lost;
		c->stats->migration_lost += res.lost;
		c->stats->migration_bad += res.unfaithful + (res.unassigned[0] ? res.n : 0);
		/* the smallest key of each kind: hash maps iterate in a per-map
		 * order, and a replay must name the same entry */
		for (int kind = 0; kind < 3 && !bad; kind++) {
			for (size_t x = 0; x < res.n; x++) {
				const struct apiary_migrate_entry *en = &res.entries[x];
				bool hit = kind == 0 ? en->err != 0 :
					   kind == 1 ? res.unassigned[0] != '\0' : en->problem[0] != '\0';

				if (hit && (!bad || memcmp(en->key, bad->key, res.key_size) < 0))
					bad = en;
			}
			what = kind == 0 ? "lost" : kind == 1 ? "unconverted" : "unfaithful";
		}
		if (bad) {
			hex(bad->key, res.key_size, k, sizeof(k));
			hex(bad->old_value, res.old_size, o, sizeof(o));
			hex(bad->new_value, res.new_size, n, sizeof(n));
			if (!strcmp(what, "lost"))
				snprintf(summary, sizeof(summary),
					 "migration of '%s' from version %u to %u loses entries: %zu "
					 "of %zu entries of %s are not in %s after the update (key %s: "
					 "%s)",
					 m->state.s, m->from, m->to, res.lost, res.n,
					 apiary_rt_map_name(c->rt, res.old_map),
					 apiary_rt_map_name(c->rt, res.new_map), k,
					 strerror(-bad->err));
			else if (!strcmp(what, "unconverted"))
				snprintf(summary, sizeof(summary),
					 "migration of '%s' from version %u to %u leaves field(s) %s "
					 "unconverted: all %zu entries reach version %u's readers "
					 "without them (key %s)",
					 m->state.s, m->from, m->to, res.unassigned, res.n, m->to, k);
			else
				snprintf(summary, sizeof(summary),
					 "migration of '%s' from version %u to %u does not carry an "
					 "entry over faithfully: key %s: %s",
					 m->state.s, m->from, m->to, k, bad->problem);
			snprintf(detail, sizeof(detail),
				 "key %s: old value (version %u layout) %s, converted value "
				 "(version %u layout) %s",
				 k, m->from, o, m->to, n);
			snprintf(key, sizeof(key), "%s:%s", m->state.s, what);
			err = apiary__chk_report(c, APIARY_INV_MIGRATION, APIARY_VS_ERROR, parties,
						 2, in, key, summary, detail,
						 "sidecar (state converted at the update)", &u->order,
						 NULL, NULL, NULL, NULL);
		}
		apiary_migrate_result_free(&res);
	}
	return err;
}

/* ---- exploration ------------------------------------------------------------ */

/* Does the candidate frame match the classifier, carry TCP/UDP, and is it
 * new (not the same 5-tuple as an earlier one)? */
static bool candidate_ok(const struct checker *c, const struct apiary_event *ev,
			 const struct apiary_event *have, size_t nhave)
{
	struct apiary_pkt_fields f, g;

	apiary_packet_parse(ev->data, ev->len, &f);
	if (!(f.layers & (APIARY_L_TCP | APIARY_L_UDP)))
		return false;
	if (c->spec->classifier && c->spec->classifier->match &&
	    !apiary_pred_eval(c->spec->classifier->match, &f))
		return false;
	for (size_t i = 0; i < nhave; i++) {
		apiary_packet_parse(have[i].data, have[i].len, &g);
		if (f.layers == g.layers && f.dport == g.dport && f.ip_proto == g.ip_proto &&
		    !memcmp(f.ip_dst, g.ip_dst, 4) && !memcmp(f.ip6_dst, g.ip6_dst, 16) &&
		    !memcmp(f.ip_src, g.ip_src, 4) && !memcmp(f.ip6_src, g.ip6_src, 16))
			return false;
	}
	return true;
}

/* Does the frame match one of the updated enforcers' declared effects? */
static bool hits_effect(const struct updater *u, const struct apiary_event *ev)
{
	const struct checker *c = u->c;
	struct apiary_pkt_fields f;

	apiary_packet_parse(ev->data, ev->len, &f);
	for (size_t e = 0; e < c->nenf; e++)
		for (size_t k = 0; u->updated[e] && k < c->spec->enforcers[e].neffects; k++)
			if (apiary_pred_eval(c->spec->enforcers[e].effects[k].when, &f))
				return true;
	return false;
}

/* Run one sequence (update_at set) on both paths and judge it. */
static int judge_sequence(struct updater *u, const struct apiary_input *in)
{
	struct checker *c = u->c;
	static struct finc fs[MAX_FLOWS], fn[MAX_FLOWS];
	size_t ns, nn;
	int err;

	err = run_sequence(u, in, APIARY_ROUTE_PINNED, &u->rs, true);
	err = err ?: run_sequence(u, in, APIARY_ROUTE_NAIVE, &u->rn, false);
	if (err)
		return err;
	c->stats->update_sequences++;
	ns = incarnations(u, in, &u->rs, fs, MAX_FLOWS);
	nn = incarnations(u, in, &u->rn, fn, MAX_FLOWS);
	c->stats->update_flows += ns;
	for (size_t i = 0; i < ns && !err; i++)
		for (size_t e = 0; e < c->nenf && !err; e++) {
			if (!fs[i].mixed[e])
				continue;
			c->stats->sidecar_mixed++;
			if (u->consistent[e])
				err = report_flow(u, in, (int)e, &fs[i], same_flow(fn, nn, &fs[i]),
						  true, false);
		}
	for (size_t i = 0; i < nn && !err; i++)
		for (size_t e = 0; e < c->nenf; e++) {
			bool differs = false;

			if (!fn[i].mixed[e])
				continue;
			c->stats->naive_mixed++;
			for (size_t p = 0; p < fn[i].n; p++)
				if (!same_outcome(final_of(&u->rs, fn[i].ev[p]),
						  final_of(&u->rn, fn[i].ev[p])))
					differs = true;
			if (differs)
				c->stats->naive_differs++;
			if (u->consistent[e] &&
			    (!u->have_witness || (differs && !u->witness_differs))) {
				u->witness = *in;
				u->witness_enf = (int)e;
				u->witness_differs = differs;
				u->have_witness = true;
			}
		}
	return err;
}

/* Report the naive-replace witness: run it again to have both runs. */
static int report_witness(struct updater *u)
{
	static struct finc fn[MAX_FLOWS], fs[MAX_FLOWS];
	size_t nn, ns;
	int err;

	if (!u->have_witness)
		return 0;
	err = run_sequence(u, &u->witness, APIARY_ROUTE_PINNED, &u->rs, false);
	err = err ?: run_sequence(u, &u->witness, APIARY_ROUTE_NAIVE, &u->rn, false);
	if (err)
		return err;
	nn = incarnations(u, &u->witness, &u->rn, fn, MAX_FLOWS);
	ns = incarnations(u, &u->witness, &u->rs, fs, MAX_FLOWS);
	for (size_t i = 0; i < nn; i++) {
		bool differs = false;

		if (!fn[i].mixed[u->witness_enf])
			continue;
		for (size_t p = 0; p < fn[i].n; p++)
			if (!same_outcome(final_of(&u->rs, fn[i].ev[p]),
					  final_of(&u->rn, fn[i].ev[p])))
				differs = true;
		if (differs != u->witness_differs)
			continue;
		return report_flow(u, &u->witness, u->witness_enf, &fn[i], same_flow(fs, ns, &fn[i]),
				   false, differs);
	}
	return 0;
}

/* Every input again with every update flipped (new versions only). */
static int check_after_flip(struct updater *u, const struct apiary_input *inputs, size_t n)
{
	struct checker *c = u->c;
	size_t saved = c->stats->inputs;
	int err;

	err = set_routes(u, 1, APIARY_ROUTE_NAIVE);
	if (err)
		return err;
	for (size_t e = 0; e < c->nenf; e++)
		c->vslot[e] = u->updated[e] ? 1 : 0;
	c->phase = u->phase;
	for (size_t i = 0; i < n && !c->stop && !err; i++) {
		if (c->opts->budget_s > 0 && apiary__chk_elapsed(c) > c->opts->budget_s) {
			c->stats->budget_hit = true;
			break;
		}
		err = apiary__chk_input(c, &inputs[i]);
		c->stats->after_inputs++;
	}
	c->phase = NULL;
	memset(c->vslot, 0, sizeof(c->vslot));
	c->stats->inputs = saved;
	set_routes(u, 0, APIARY_ROUTE_PINNED);
	return err;
}

int apiary__chk_updates(struct checker *c, const struct apiary_input *inputs, size_t n)
{
	const struct apiary_spec *s = c->spec;
	struct updater *u;
	struct apiary_event cands[MAX_CANDIDATES];
	size_t ncand = 0, pos = 0;
	int err = 0;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->c = c;
	u->first = -1;
	for (size_t i = 0; i < s->nupdates; i++) {
		int e = s->updates[i].enforcer.s ?
				apiary_spec_enforcer_index(s, s->updates[i].enforcer.s) : -1;

		if (e < 0 || !apiary_build_prog(c->build, e, 1))
			continue;
		u->updated[e] = true;
		if (u->first < 0)
			u->first = e;
		c->stats->updates++;
		pos += (size_t)snprintf(u->phase + pos,
					pos < sizeof(u->phase) ? sizeof(u->phase) - pos : 0,
					"%s%s v%u", pos ? ", " : "after the update to ",
					s->updates[i].enforcer.s, s->updates[i].version);
	}
	for (size_t i = 0; i < s->nflow_consistent; i++) {
		int e = apiary_spec_enforcer_index(s, s->flow_consistent[i].enforcer.s);

		if (e >= 0)
			u->consistent[e] = true;
	}
	if (u->first < 0)
		goto out;
	/* the chains every sequence runs: the first allowed ordering */
	for (size_t i = 0; i < 3; i++) {
		int h = hooks3[i];

		u->order.len[h] = c->hook_n[h];
		if (c->hook_n[h] && c->nperms[h])
			memcpy(u->order.chain[h], c->perms[h], c->hook_n[h] * sizeof(int));
	}

	if (c->opts->only) {
		/* replay: the given sequence, with its update point */
		if (c->opts->only->update_at != APIARY_INPUT_NO_UPDATE) {
			err = judge_sequence(u, c->opts->only);
			err = err ?: report_witness(u);
		}
		goto out;
	}
	/* candidates: inputs that hit an updated enforcer's effects first */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n && ncand < MAX_CANDIDATES; i++) {
			const struct apiary_event *ev = &inputs[i].events[0];

			if (inputs[i].nevents < 1 || hits_effect(u, ev) != (pass == 0) ||
			    !candidate_ok(c, ev, cands, ncand))
				continue;
			cands[ncand++] = *ev;
		}
	if (!ncand)
		apiary_warn(c->diags, NULL,
			    "updates: no input carries TCP or UDP through the classifier, so no "
			    "update interleaving was explored");
	for (size_t k = 0; k < ncand && !err && !c->stop; k++) {
		static struct apiary_input seq;

		if (make_sequence(&cands[k], &seq))
			continue;
		for (size_t at = 0; at <= seq.nevents && !err && !c->stop; at++) {
			if (c->opts->budget_s > 0 && apiary__chk_elapsed(c) > c->opts->budget_s) {
				c->stats->budget_hit = true;
				goto witness;
			}
			seq.update_at = (uint8_t)at;
			err = judge_sequence(u, &seq);
		}
	}
witness:
	err = err ?: report_witness(u);
	err = err ?: check_after_flip(u, inputs, n);
out:
	apiary_delta_free(&u->rs.delta);
	apiary_delta_free(&u->rn.delta);
	free(u);
	return err;
}
