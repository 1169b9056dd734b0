// SPDX-License-Identifier: MIT
/* Shared by the CLIs: bundle opening, human output, result sinks. */
#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiary/packet.h"
#include "apiary/report.h"
#include "apiary/store.h"
#include "common.h"

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/*
 * Parse and check the spec (and an update spec), compile it, and load it
 * through the one loader. opts may be NULL (defaults: a temporary build
 * directory, no coverage, CPU 0, no progress lines).
 */
int apiary_bundle_open(const char *spec_path, const struct apiary_bundle_opts *opts,
		       struct apiary_bundle_ctx *b, struct apiary_diags *diags)
{
	static const struct apiary_bundle_opts defaults = {.sz = sizeof(defaults), .cpu = -1};
	const struct apiary_bundle_opts *o = opts ? opts : &defaults;
	const char *out_dir = o->out_dir, *update_path = o->update_path;
	bool coverage = o->coverage;
	FILE *progress = o->progress;
	struct apiary_build_opts bopts = {.sz = sizeof(bopts), .coverage = coverage};
	struct apiary_rt_opts ropts = {.sz = sizeof(ropts), .cpu = o->cpu, .max_flows = o->max_flows};
	int err;

	memset(b, 0, sizeof(*b));
	err = apiary_spec_load(spec_path, &b->spec, diags);
	if (err)
		return err;
	if (update_path) {
		err = apiary_spec_load(update_path, &b->update_spec, diags);
		err = err ?: apiary_spec_add_update(b->spec, b->update_spec, diags);
		if (err)
			return err;
	}
	if (!out_dir) {
		char tmpl[] = "/tmp/apiary-XXXXXX";

		if (!mkdtemp(tmpl))
			return apiary_error(diags, NULL, "cannot create a build directory in /tmp: %s",
					    strerror(errno));
		b->tmp_dir = strdup(tmpl);
		if (!b->tmp_dir)
			return -ENOMEM;
		out_dir = b->tmp_dir;
	}
	bopts.out_dir = out_dir;
	if (progress)
		fprintf(progress, "compiling %s (%zu enforcers%s) into %s\n", spec_path,
			b->spec->nenforcers, coverage ? ", in-kernel coverage" : "", out_dir);
	err = apiary_compile(b->spec, &bopts, &b->build, diags);
	if (err)
		return err;
	if (progress)
		fprintf(progress, "loading bundle %s (hash %.12s) through the verifier\n",
			b->spec->bundle.s, b->build->bundle_hash_hex);
	return apiary_rt_load(b->build, &ropts, &b->rt, diags);
}

void apiary_bundle_close(struct apiary_bundle_ctx *b)
{
	apiary_rt_free(b->rt);
	apiary_build_free(b->build);
	apiary_spec_free(b->spec);
	apiary_spec_free(b->update_spec);
	if (b->tmp_dir)
		nftw(b->tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(b->tmp_dir);
	memset(b, 0, sizeof(*b));
}

/* "XDP_TX [firewall XDP_PASS, lb XDP_TX]" */
static void outcome_text(const struct apiary_violation *v, const struct apiary_outcome *o,
			 char *buf, size_t size)
{
	enum apiary_hook hook = (enum apiary_hook)o->hook;
	char vb[16];
	size_t pos = (size_t)snprintf(buf, size, "%s",
				      apiary_verdict_name(hook, o->verdict, vb, sizeof(vb)));

	for (size_t t = 0; t < o->ntrace && pos < size; t++) {
		const struct apiary_trace_ent *te = &o->trace[t];
		const char *name = te->enforcer < v->nnames ? v->names[te->enforcer] : "?";

		pos += (size_t)snprintf(buf + pos, size - pos, "%s%s%s %s", t ? ", " : " [", name,
					te->vslot ? "@update" : "",
					apiary_verdict_name(te->hook, te->verdict, vb, sizeof(vb)));
	}
	if (o->ntrace && pos < size)
		snprintf(buf + pos, size - pos, "]");
}

/* Up to 12 bytes as hex, "..." if longer. */
static void hex_short(const uint8_t *p, uint32_t n, char *buf, size_t size)
{
	size_t pos = 0;

	buf[0] = '\0';
	for (uint32_t i = 0; i < n && i < 12 && pos + 3 < size; i++)
		pos += (size_t)snprintf(buf + pos, size - pos, "%02x", p[i]);
	if (n > 12 && pos + 4 < size)
		snprintf(buf + pos, size - pos, "...");
}

/* Outcome i of run r belongs to which input event? Hooks only increase
 * along one event's path, so a hook that does not marks the next event. */
static size_t outcome_event(const struct apiary_vrun *run, size_t i)
{
	size_t ev = 0;

	for (size_t k = 1; k <= i && k < run->noutcomes; k++)
		if (run->outcomes[k].hook <= run->outcomes[k - 1].hook)
			ev++;
	return ev;
}

static const struct apiary_outcome *find_outcome(const struct apiary_vrun *run, size_t ev,
						 uint32_t hook)
{
	for (size_t i = 0; i < run->noutcomes; i++)
		if (outcome_event(run, i) == ev && run->outcomes[i].hook == hook)
			return &run->outcomes[i];
	return NULL;
}

static void change_text(const struct apiary_vchange *c, char *buf, size_t size)
{
	char k[40], b[40], a[40];

	hex_short(c->key, c->key_size, k, sizeof(k));
	hex_short(c->before, c->before ? c->value_size : 0, b, sizeof(b));
	hex_short(c->after, c->after ? c->value_size : 0, a, sizeof(a));
	if (!c->before)
		snprintf(buf, size, "%s[%s] added = %s", c->map, k, a);
	else if (!c->after)
		snprintf(buf, size, "%s[%s] deleted (was %s)", c->map, k, b);
	else
		snprintf(buf, size, "%s[%s] %s -> %s", c->map, k, b, a);
}

/*
 * A violation for a human: what is broken and by whom, the input decoded by
 * layer, each hop's outcome of the compared runs side by side (rows that
 * differ marked '*'), the state changes, and the command that replays it.
 */
void apiary_violation_print(const struct apiary_violation *v, size_t number, FILE *out)
{
	const struct apiary_vrun *a = v->nruns > 0 ? &v->runs[0] : NULL;
	const struct apiary_vrun *b = v->nruns > 1 ? &v->runs[1] : NULL;
	const int w = 44;

	fprintf(out, "\nviolation %zu: %s%s\n", number, apiary_invariant_name(v->invariant),
		v->severity == APIARY_VS_INFO ? " (info)" : "");
	fprintf(out, "  %s\n", v->summary);
	for (size_t i = 0; i < v->nparties; i++)
		fprintf(out, "  %s %s (team %s, version %u) declared at line %d\n",
			i ? "    " : "who:", v->parties[i].enforcer, v->parties[i].team,
			v->parties[i].version, v->parties[i].spec_line);
	for (size_t e = 0; e < v->input.nevents; e++) {
		char desc[512];

		apiary_packet_describe(v->input.events[e].data, v->input.events[e].len, desc,
				       sizeof(desc));
		if (e == v->input.update_at)
			fprintf(out, "  -- update: every `update` of the bundle flips here --\n");
		fprintf(out, "  input %zu at %s: %s\n", e, apiary_hook_name(v->input.events[e].hook),
			desc);
	}
	if (v->detail)
		fprintf(out, "  %s\n", v->detail);
	if (a) {
		fprintf(out, "  %-16s %-*s%s%s\n", "", b ? w : 0, a->label, b ? " | " : "", b ? b->label : "");
		for (size_t e = 0; e < v->input.nevents; e++) {
			for (uint32_t h = APIARY_HOOK_XDP; h < APIARY_HOOK__COUNT; h++) {
				const struct apiary_outcome *x = find_outcome(a, e, h);
				const struct apiary_outcome *y = b ? find_outcome(b, e, h) : NULL;
				char tx[256] = "-", ty[256] = "-", hop[32];
				bool differ;

				if (!x && !y)
					continue;
				if (x)
					outcome_text(v, x, tx, sizeof(tx));
				if (y)
					outcome_text(v, y, ty, sizeof(ty));
				differ = b && (!x || !y || x->verdict != y->verdict || x->len != y->len ||
					       memcmp(x->data, y->data, x->len));
				snprintf(hop, sizeof(hop), "%zu@%s", e, apiary_hook_name(h));
				fprintf(out, " %c%-16s %-*s%s%s\n", differ ? '*' : ' ', hop, b ? w : 0, tx,
					b ? " | " : "", b ? ty : "");
			}
		}
		for (size_t r = 0; r < v->nruns; r++)
			for (size_t i = 0; i < v->runs[r].nchanges; i++) {
				char text[256];

				change_text(&v->runs[r].changes[i], text, sizeof(text));
				fprintf(out, "  %-16s %s\n",
					v->nruns < 2 ? "state" : r ? "state (right)" : "state (left)", text);
			}
	}
	if (v->replay)
		fprintf(out, "  replay: %s\n", v->replay);
}

void apiary_check_stats_print(const struct apiary_check_stats *st, const struct apiary_spec *spec,
			      FILE *out)
{
	size_t errors = st->errors;
	fprintf(out, "\nbundle %s: %zu inputs (%zu from z3, %zu baseline frames, %zu from seeds; "
		     "%zu z3 queries unsatisfiable), %llu test runs\n",
		spec->bundle.s, st->inputs, st->inputs_z3, st->inputs_baseline, st->inputs_seeds,
		st->z3_unsat, (unsigned long long)st->runs);
	fprintf(out, "orderings allowed per input:");
	for (int h = 1; h < APIARY_NHOOKS; h++) {
		if (!st->hook_enforcers[h])
			continue;
		fprintf(out, " %s %llu", apiary_hook_name((enum apiary_hook)h),
			(unsigned long long)st->hook_allowed[h]);
		if (st->hook_allowed[h] < st->hook_perms[h])
			fprintf(out, " (of %llu permutations of %zu enforcers; `order` and prebuilt-last fix the rest)",
				(unsigned long long)st->hook_perms[h], st->hook_enforcers[h]);
	}
	fprintf(out, "\nexplored %llu of %llu orderings over all inputs",
		(unsigned long long)st->orderings_run, (unsigned long long)st->orderings_total);
	if (st->orderings_run < st->orderings_total)
		fprintf(out, "; the rest were pruned because the enforcers they swap cannot interact "
			     "on that input (no shared map written, no rewrite, no final verdict)");
	if (st->sampled)
		fprintf(out, "; too many orderings to enumerate at some hook: a sample was run");
	fprintf(out, "\n");
	if (st->tc_refused)
		fprintf(out, "%llu frame(s) the kernel refused to run at tc (IP header longer than "
			     "the frame): their path ends before tc\n",
			(unsigned long long)st->tc_refused);
	if (st->budget_hit)
		fprintf(out, "budget reached: checked %zu of %zu inputs\n", st->inputs,
			st->inputs_planned);
	if (st->updates) {
		fprintf(out, "updates: %zu enforcer(s), %zu sequences (update at every position); "
			     "%zu flows: %zu mixed versions on the sidecar path, %zu under a naive "
			     "replace (%zu with a different outcome); %zu packets refused (table "
			     "full), %zu flows pinned anew (FIN/RST or idle)\n",
			st->updates, st->update_sequences, st->update_flows, st->sidecar_mixed,
			st->naive_mixed, st->naive_differs, st->refused, st->repinned);
		if (st->migrated || st->migration_lost || st->migration_bad)
			fprintf(out, "migrations: %zu entries converted, %zu lost, %zu unconverted "
				     "or unfaithful\n",
				st->migrated, st->migration_lost, st->migration_bad);
		fprintf(out, "after the flip: %zu inputs re-checked with every update's new "
			     "version\n", st->after_inputs);
	}
	if (!errors) {
		fprintf(out, "result: clean");
		if (st->infos) {
			size_t orders = st->violations[APIARY_INV_ORDERING];
			size_t other = st->infos > orders ? st->infos - orders : 0;

			if (orders)
				fprintf(out, " (%zu declared orders shown to matter", orders);
			if (other)
				fprintf(out, "%s%zu informational finding%s, e.g. what a naive replace "
					     "would break", orders ? "; " : " (", other, other == 1 ? "" : "s");
			fprintf(out, ")");
		}
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "result: %zu violations (", errors);
	for (int i = 0, first = 1; i < APIARY_INV__COUNT; i++) {
		if (!st->violations[i] || (i == APIARY_INV_ORDERING && st->violations[i] == st->infos))
			continue;
		fprintf(out, "%s%zu %s", first ? "" : ", ", st->violations[i],
			apiary_invariant_name((enum apiary_invariant)i));
		first = 0;
	}
	fprintf(out, "), %zu occurrences\n", st->occurrences);
}

void apiary_check_output_init(struct apiary_check_output *o)
{
	memset(o, 0, sizeof(*o));
}

/* Open the store (if asked) and record the bundle, its objects and the run,
 * before anything is explored: a killed check still leaves its run there. */
int apiary_check_output_begin(struct apiary_check_output *o, const struct apiary_spec *spec,
			      const struct apiary_build *build, const char *db,
			      struct apiary_diags *diags)
{
	int err;

	o->spec = spec;
	o->build = build;
	if (!db)
		return 0;
	err = apiary_store_open(db, &o->store, diags);
	if (err)
		return err;
	err = apiary_store_begin_run(o->store, spec->bundle.s, spec->version,
				     build->bundle_hash_hex, spec->text, &o->run_id);
	for (size_t i = 0; !err && i < build->nprogs; i++) {
		char *hex = apiary_hex(build->progs[i].hash, sizeof(build->progs[i].hash));

		if (!hex)
			return -ENOMEM;
		err = apiary_store_add_object(o->store, build->bundle_hash_hex,
					      build->progs[i].object_path, hex);
		free(hex);
	}
	if (err)
		return apiary_error(diags, NULL, "cannot record the run in %s: %s", db,
				    apiary_store_errmsg(o->store));
	return 0;
}

/* Keep a copy for the CI files, and store it now (committed before the
 * next violation is even searched for). */
int apiary_check_output_add(struct apiary_check_output *o, const struct apiary_violation *v)
{
	if (o->store) {
		int err = apiary_store_add_violation(o->store, o->run_id, v, NULL, NULL);

		if (err)
			return err;
	}
	if (o->nkept == o->capkept) {
		size_t cap = o->capkept ? o->capkept * 2 : 16;
		struct apiary_violation *n = realloc(o->kept, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		o->kept = n;
		o->capkept = cap;
	}
	if (apiary_violation_copy(&o->kept[o->nkept], v))
		return -ENOMEM;
	o->nkept++;
	return 0;
}

/* Write a file through a temporary name, so a reader never sees half of it. */
static int write_file(const char *path, struct apiary_check_output *o,
		      int (*writer)(FILE *, struct apiary_check_output *), struct apiary_diags *diags)
{
	size_t n = strlen(path) + 8;
	char *tmp = malloc(n);
	FILE *f;
	int err;

	if (!tmp)
		return -ENOMEM;
	snprintf(tmp, n, "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		err = apiary_error(diags, NULL, "cannot write %s: %s", tmp, strerror(errno));
		free(tmp);
		return err;
	}
	err = writer(f, o);
	if (fclose(f) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		apiary_error(diags, NULL, "cannot write %s: %s", path, strerror(-err));
	}
	free(tmp);
	return err;
}

static int write_sarif(FILE *f, struct apiary_check_output *o)
{
	struct apiary_sarif_opts so = {.sz = sizeof(so)};

	return apiary_sarif_write(f, o->spec->path, o->kept, o->nkept, &so);
}

static int write_junit(FILE *f, struct apiary_check_output *o)
{
	unsigned checked = 1u << APIARY_INV_NONDETERMINISM | 1u << APIARY_INV_COMMUTATIVITY;

	if (o->spec->norders)
		checked |= 1u << APIARY_INV_ORDERING;
	if (o->spec->ncovers)
		checked |= 1u << APIARY_INV_COVERAGE;
	if (o->spec->nexclusives)
		checked |= 1u << APIARY_INV_EXCLUSIVE;
	for (size_t i = 0; i < o->spec->nenforcers; i++)
		if (o->spec->enforcers[i].neffects)
			checked |= 1u << APIARY_INV_EFFECT;
	return apiary_junit_write(f, o->spec->bundle.s, o->kept, o->nkept, checked);
}

static int write_html(FILE *f, struct apiary_check_output *o)
{
	struct apiary_stored_violation *sv = calloc(o->nkept ? o->nkept : 1, sizeof(*sv));
	struct apiary_report r = {.sz = sizeof(r)};
	int err;

	if (!sv)
		return -ENOMEM;
	for (size_t i = 0; i < o->nkept; i++) {
		sv[i].id = (int64_t)i + 1;
		sv[i].v = o->kept[i];
		sv[i].count = 1;
		sv[i].status = APIARY_VSTATUS_NEW;
	}
	r.violations = sv;
	r.nviolations = o->nkept;
	err = apiary_html_write(f, &r);
	free(sv); /* the violations themselves stay owned by o->kept */
	return err;
}

int apiary_check_output_finish(struct apiary_check_output *o, int status, const char *html,
			       const char *sarif, const char *junit, struct apiary_diags *diags)
{
	int err = 0;

	if (o->store) {
		enum apiary_run_result res = status == 0   ? APIARY_RUN_CLEAN
					     : status == 1 ? APIARY_RUN_VIOLATIONS
							   : APIARY_RUN_ERROR;

		err = apiary_store_finish_run(o->store, o->run_id, res);
		if (err)
			apiary_error(diags, NULL, "cannot finish the run in the store: %s",
				     apiary_store_errmsg(o->store));
	}
	if (!err && sarif)
		err = write_file(sarif, o, write_sarif, diags);
	if (!err && junit)
		err = write_file(junit, o, write_junit, diags);
	if (!err && html)
		err = write_file(html, o, write_html, diags);
	return err;
}

void apiary_check_output_free(struct apiary_check_output *o)
{
	for (size_t i = 0; i < o->nkept; i++)
		apiary_violation_free(&o->kept[i]);
	free(o->kept);
	apiary_store_close(o->store);
	memset(o, 0, sizeof(*o));
}
