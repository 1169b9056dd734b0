// SPDX-License-Identifier: MIT
/*
 * A fuzzing target process's setup (fuzz.h): the spec, the build apiary-fuzz
 * compiled (read back from apiary.json, so every engine instance loads the
 * very objects the campaign hashed, without running clang again), the
 * loaded bundle, the runtime executor and the harness.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <json-c/json.h>

#include "apiary/fuzz.h"

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int jint(json_object *o, const char *key, int dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return dflt;
	return json_object_get_int(v);
}

/* 64 hex digits into 32 bytes. */
static int unhex32(const char *hex, uint8_t out[32])
{
	if (!hex || strlen(hex) != 64)
		return -EINVAL;
	for (int i = 0; i < 32; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

int apiary_build_from_metadata(const struct apiary_spec *spec, const char *out_dir,
			       struct apiary_build **out, struct apiary_diags *d)
{
	struct apiary_build *b = NULL;
	json_object *root = NULL, *bundle, *sidecar, *progs, *cov;
	char *path = NULL;
	int err = 0;
	size_t n;

	*out = NULL;
	if (asprintf(&path, "%s/apiary.json", out_dir) < 0)
		return -ENOMEM;
	root = json_object_from_file(path);
	if (!root) {
		err = apiary_error(d, NULL, "cannot read the build metadata %s: %s", path,
				   json_util_get_last_err());
		goto out;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		err = -ENOMEM;
		goto out;
	}
	b->spec = spec;
	b->out_dir = realpath(out_dir, NULL);
	b->metadata_path = path;
	path = NULL;
	if (!json_object_object_get_ex(root, "bundle", &bundle) ||
	    !json_object_object_get_ex(root, "sidecar", &sidecar) ||
	    !json_object_object_get_ex(root, "programs", &progs) ||
	    !json_object_is_type(progs, json_type_array) || !b->out_dir) {
		err = apiary_error(d, NULL, "%s: not the metadata of an Apiary build", b->metadata_path);
		goto out;
	}
	if (!jstr(bundle, "name") || !spec->bundle.s || strcmp(jstr(bundle, "name"), spec->bundle.s)) {
		err = apiary_error(d, NULL, "%s: built from another bundle (%s, not %s)",
				   b->metadata_path, jstr(bundle, "name") ? jstr(bundle, "name") : "?",
				   spec->bundle.s ? spec->bundle.s : "?");
		goto out;
	}
	if (json_object_object_get_ex(bundle, "coverage", &cov))
		b->coverage = json_object_get_boolean(cov);
	b->sidecar_object = dup_or_null(jstr(sidecar, "object"));
	if (!jstr(bundle, "hash") || strlen(jstr(bundle, "hash")) != 64 || !b->sidecar_object ||
	    unhex32(jstr(bundle, "hash"), b->bundle_hash) ||
	    unhex32(jstr(sidecar, "sha256"), b->sidecar_hash)) {
		err = apiary_error(d, NULL, "%s: bundle hash or sidecar missing", b->metadata_path);
		goto out;
	}
	memcpy(b->bundle_hash_hex, jstr(bundle, "hash"), 65);
	n = json_object_array_length(progs);
	b->progs = calloc(n ? n : 1, sizeof(*b->progs));
	if (!b->progs) {
		err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(progs, i), *op;
		struct apiary_build_prog *bp = &b->progs[b->nprogs];
		int e = jint(p, "index", -1);

		if (e < 0 || (size_t)e >= spec->nenforcers || !jstr(p, "enforcer") ||
		    strcmp(jstr(p, "enforcer"), spec->enforcers[e].name.s)) {
			err = apiary_error(d, NULL, "%s: program %zu does not match the spec's "
						    "enforcers (rebuild)",
					   b->metadata_path, i);
			goto out;
		}
		b->nprogs++;
		bp->enforcer = e;
		bp->vslot = jint(p, "vslot", 0);
		bp->version = (uint32_t)jint(p, "version", 0);
		bp->hook = apiary_hook_parse(jstr(p, "hook") ? jstr(p, "hook") : "");
		bp->opaque = json_object_object_get_ex(p, "opaque", &op) && json_object_get_boolean(op);
		bp->object_path = dup_or_null(jstr(p, "object"));
		bp->prog_name = dup_or_null(jstr(p, "prog_name"));
		bp->entry_name = dup_or_null(jstr(p, "entry"));
		bp->source_path = dup_or_null(jstr(p, "source"));
		if (!bp->object_path || !bp->prog_name || unhex32(jstr(p, "sha256"), bp->hash)) {
			err = apiary_error(d, NULL, "%s: program %zu is incomplete", b->metadata_path, i);
			goto out;
		}
	}
out:
	free(path);
	json_object_put(root);
	if (err) {
		apiary_build_free(b);
		return err;
	}
	*out = b;
	return 0;
}

int apiary_fuzz_target_attach(struct apiary_spec *spec, struct apiary_build *build,
			      const struct apiary_fuzz_target_opts *opts,
			      struct apiary_fuzz_target *t, struct apiary_diags *d)
{
	struct apiary_rt_opts ro = { .sz = sizeof(ro), .cpu = opts ? opts->cpu : -1,
				     .max_flows = opts && opts->max_flows ? opts->max_flows
									  : APIARY_FUZZ_MAX_FLOWS };
	struct apiary_rt_exec_opts xo = { .sz = sizeof(xo),
					  .no_counters = opts && opts->no_counters,
					  .exact = opts && opts->exact };
	struct apiary_executor ex;
	int err;

	memset(t, 0, sizeof(*t));
	t->spec = spec;
	t->build = build;
	err = apiary_rt_load(build, &ro, &t->rt, d);
	err = err ?: apiary_rt_exec_open(spec, t->rt, &xo, &t->exec, d);
	if (!err) {
		apiary_rt_exec_executor(t->exec, &ex);
		err = apiary_harness_new(&ex, NULL, &t->harness);
	}
	err = err ?: apiary_rt_exec_attach(t->exec, t->harness);
	if (err)
		apiary_fuzz_target_close(t);
	return err;
}

int apiary_fuzz_target_open(const char *spec_path, const char *build_dir,
			    const struct apiary_fuzz_target_opts *opts,
			    struct apiary_fuzz_target *t, struct apiary_diags *d)
{
	struct apiary_spec *spec = NULL;
	struct apiary_build *build = NULL;
	int err;

	memset(t, 0, sizeof(*t));
	err = apiary_spec_load(spec_path, &spec, d);
	err = err ?: apiary_build_from_metadata(spec, build_dir, &build, d);
	err = err ?: apiary_fuzz_target_attach(spec, build, opts, t, d);
	if (err) {
		apiary_build_free(build);
		apiary_spec_free(spec);
		return err;
	}
	t->owns_bundle = true;
	return 0;
}

void apiary_fuzz_target_close(struct apiary_fuzz_target *t)
{
	apiary_harness_free(t->harness);
	apiary_rt_exec_free(t->exec);
	apiary_rt_free(t->rt);
	if (t->owns_bundle) {
		apiary_build_free(t->build);
		apiary_spec_free(t->spec);
	}
	memset(t, 0, sizeof(*t));
}

bool apiary_fuzz_env_flag(const char *name)
{
	const char *v = getenv(name);

	return v && *v && strcmp(v, "0");
}

volatile uint64_t *apiary_fuzz_exec_counter(void)
{
	const char *path = getenv("APIARY_FUZZ_STATS");
	void *p;
	int fd;

	if (!path || !*path)
		return NULL;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return NULL;
	if (ftruncate(fd, 4096)) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

void apiary_fuzz_count_exec(volatile uint64_t *stats, const struct apiary_rt_exec *x,
			    const struct apiary_plain *p, uint64_t seen[APIARY_FUZZ_NSTATS])
{
	uint64_t now[APIARY_FUZZ_NSTATS] = { 0 };

	if (!stats)
		return;
	stats[APIARY_FUZZ_STAT_EXECS]++;
	if (x) {
		now[APIARY_FUZZ_STAT_RUNS] = apiary_rt_exec_runs(x);
		now[APIARY_FUZZ_STAT_MAP_READS] = apiary_rt_exec_maps_read(x);
		now[APIARY_FUZZ_STAT_SKIPPED] = apiary_rt_exec_skipped_hooks(x);
	} else if (p) {
		now[APIARY_FUZZ_STAT_RUNS] = apiary_plain_runs(p);
	}
	for (int i = APIARY_FUZZ_STAT_RUNS; i < APIARY_FUZZ_NSTATS; i++) {
		stats[i] += now[i] - seen[i];
		seen[i] = now[i];
	}
}
