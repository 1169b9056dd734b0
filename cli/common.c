// SPDX-License-Identifier: MIT
/* Shared by the CLIs: bundle opening, human output, result sinks. */
#include <errno.h>
#include <ftw.h>
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

int apiary_bundle_open(const char *spec_path, const char *out_dir, struct apiary_bundle_ctx *b,
		       struct apiary_diags *diags, FILE *progress)
{
	return apiary_bundle_open_opts(spec_path, out_dir, false, -1, b, diags, progress);
}

int apiary_bundle_open_opts(const char *spec_path, const char *out_dir, bool coverage, int cpu,
			    struct apiary_bundle_ctx *b, struct apiary_diags *diags, FILE *progress)
{
	struct apiary_build_opts bopts = {.sz = sizeof(bopts), .coverage = coverage};
	struct apiary_rt_opts ropts = {.sz = sizeof(ropts), .cpu = cpu};
	int err;

	memset(b, 0, sizeof(*b));
	err = apiary_spec_load(spec_path, &b->spec, diags);
	if (err)
		return err;
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

		pos += (size_t)snprintf(buf + pos, size - pos, "%s%s %s", t ? ", " : " [", name,
					apiary_verdict_name(te->hook, te->verdict, vb, sizeof(vb)));
	}
	if (o->ntrace && pos < size)
		snprintf(buf + pos, size - pos, "]");
}

void apiary_violation_print(const struct apiary_violation *v, size_t number, FILE *out)
{
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
		fprintf(out, "  input %zu at %s: %s\n", e, apiary_hook_name(v->input.events[e].hook),
			desc);
	}
	for (size_t r = 0; r < v->nruns; r++) {
		const struct apiary_vrun *run = &v->runs[r];

		fprintf(out, "  %s %s\n", r ? "versus:  " : "ordering:", run->label);
		for (size_t i = 0; i < run->noutcomes; i++) {
			char text[512];

			outcome_text(v, &run->outcomes[i], text, sizeof(text));
			fprintf(out, "      %-10s %s (%u bytes out)\n",
				apiary_hook_name((enum apiary_hook)run->outcomes[i].hook), text,
				run->outcomes[i].len);
		}
		for (size_t i = 0; i < run->nchanges; i++)
			fprintf(out, "      map %s: entry %s\n", run->changes[i].map,
				!run->changes[i].before ? "added"
				: !run->changes[i].after ? "deleted"
							 : "changed");
	}
	if (v->replay)
		fprintf(out, "  replay: %s\n", v->replay);
}

void apiary_check_stats_print(const struct apiary_check_stats *st, const struct apiary_spec *spec,
			      FILE *out)
{
	size_t errors = 0;

	for (int i = 0; i < APIARY_INV__COUNT; i++)
		if (i != APIARY_INV_ORDERING)
			errors += st->violations[i];
	fprintf(out, "\nbundle %s: %zu inputs (%zu from z3, %zu z3 queries unsatisfiable), "
		     "%llu test runs\n",
		spec->bundle.s, st->inputs, st->inputs_z3, st->z3_unsat,
		(unsigned long long)st->runs);
	fprintf(out, "explored %llu of %llu orderings",
		(unsigned long long)st->orderings_run, (unsigned long long)st->orderings_total);
	if (st->orderings_run < st->orderings_total)
		fprintf(out, ", the rest pruned because the enforcers they swap cannot interact "
			     "on that input (no shared map written, no rewrite, no final verdict)");
	if (st->sampled)
		fprintf(out, "; too many orderings to enumerate at some hook: a sample was run");
	fprintf(out, "\n");
	if (st->budget_hit)
		fprintf(out, "budget reached: checked %zu of %zu inputs\n", st->inputs,
			st->inputs_planned);
	if (!errors) {
		fprintf(out, "result: clean");
		if (st->violations[APIARY_INV_ORDERING])
			fprintf(out, " (%zu declared orders shown to matter)",
				st->violations[APIARY_INV_ORDERING]);
		fprintf(out, "\n");
		return;
	}
	fprintf(out, "result: %zu violations (", errors);
	for (int i = 0, first = 1; i < APIARY_INV__COUNT; i++) {
		if (i == APIARY_INV_ORDERING || !st->violations[i])
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
