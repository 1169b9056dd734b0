/* SPDX-License-Identifier: MIT */
/*
 * The store: one sqlite file holding bundles, builds, check runs, fuzz
 * campaigns and the violations they found. apiary-check and apiary-fuzz write
 * to it, apiary-report renders it, a deploy gate asks it whether an exact
 * bundle hash passed.
 *
 * Safety: the file is only touched once it is known to be an Apiary store
 * (sqlite magic + PRAGMA application_id read straight from the header).
 * A corrupt file, a foreign sqlite database or a store written by a newer
 * Apiary is refused with a diagnostic and left byte for byte as it was.
 *
 * Durability: WAL mode, synchronous=FULL for violations, a busy timeout so a
 * fuzzer and a report can share the file. Every violation is committed
 * before apiary_store_add_violation() returns: the caller may print it and be
 * killed with SIGKILL right after.
 *
 * Deduplication: a violation is identified by (bundle NAME, dedup_key).
 * Seeing it again (in any run of any version/hash of that bundle) bumps
 * count and last_seen and links the run in violation_runs; it does not add a
 * row. A waiver therefore follows a conflict across rebuilds as long as its
 * dedup key (invariant + programs + ordering class) is unchanged, while the
 * exact hashes it was seen with stay queryable for the deploy gate.
 */
#ifndef APIARY_STORE_H
#define APIARY_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apiary/diag.h"
#include "apiary/input.h"
#include "apiary/violation.h"

/* 'APIY': PRAGMA application_id of every store. */
#define APIARY_STORE_APP_ID 0x41504959
/* PRAGMA user_version this build writes (schema version). */
#define APIARY_STORE_SCHEMA_VERSION 2

struct apiary_store;

enum apiary_run_result {
	APIARY_RUN_RUNNING,    /* started, not finished (or killed) */
	APIARY_RUN_CLEAN,      /* explored, no error-severity violation */
	APIARY_RUN_VIOLATIONS, /* explored, violations found */
	APIARY_RUN_ERROR,      /* did not complete (build, load, usage error) */
};
const char *apiary_run_result_name(enum apiary_run_result r); /* "clean" */

enum apiary_vstatus {
	APIARY_VSTATUS_NEW,
	APIARY_VSTATUS_CONFIRMED,
	APIARY_VSTATUS_WAIVED,
};
const char *apiary_vstatus_name(enum apiary_vstatus s); /* "waived" */

struct apiary_store_opts {
	size_t sz;      /* sizeof(struct apiary_store_opts) */
	bool read_only; /* never write; refuse a store that needs migrating */
	/* Schema version to migrate up to; 0 = APIARY_STORE_SCHEMA_VERSION.
	 * Only tests use it, to build stores as older Apiary wrote them. */
	int schema_version;
};

/* Open (creating if missing) the store at path. opts may be NULL. */
int apiary_store_open(const char *path, struct apiary_store **out, struct apiary_diags *diags);
int apiary_store_open_opts(const char *path, const struct apiary_store_opts *opts,
			   struct apiary_store **out, struct apiary_diags *diags);
void apiary_store_close(struct apiary_store *st);
/* PRAGMA user_version of the open store. */
int apiary_store_schema_version(struct apiary_store *st);
/* Text of the last failure of a call without a diags argument ("" if none);
 * valid until the next call on st. */
const char *apiary_store_errmsg(const struct apiary_store *st);

/* ---- runs ------------------------------------------------------------- */

/* Record the bundle (content hash, name, version, spec text; idempotent)
 * and start a check run on it. */
int apiary_store_begin_run(struct apiary_store *st, const char *bundle, uint32_t version,
			   const char *hash, const char *spec_text, int64_t *run_id);
/* Mark a run finished with its result. */
int apiary_store_finish_run(struct apiary_store *st, int64_t run_id,
			    enum apiary_run_result result);
/* One built object of a bundle (e.g. "firewall.bpf.o", sha256 hex). */
int apiary_store_add_object(struct apiary_store *st, const char *bundle_hash, const char *name,
			    const char *object_hash);

/* Deploy gate: 1 if this exact hash passed, 0 if not, negative errno.
 * Passed = at least one finished run of the hash ended clean or with
 * violations, and every error-severity violation seen in any run of the hash
 * is waived. Runs still "running" (or killed) and "error" runs are
 * inconclusive and ignored. */
int apiary_store_bundle_passed(struct apiary_store *st, const char *hash);

/* ---- campaigns (apiary-fuzz) ---------------------------------------------- */

int apiary_store_begin_campaign(struct apiary_store *st, int64_t run_id, const char *engine,
				int64_t *campaign_id);
int apiary_store_finish_campaign(struct apiary_store *st, int64_t campaign_id, uint64_t execs);
/* Keep an interesting input of a campaign (corpus entry). */
int apiary_store_add_input(struct apiary_store *st, int64_t campaign_id,
			   const struct apiary_input *in, const char *note);

/* ---- violations ------------------------------------------------------- */

/* Store v as found by run_id, committed before returning. A violation with
 * the same (bundle name, dedup_key) counts again instead (count + 1,
 * last_seen = now, the run linked); its example is replaced only by a
 * strictly shorter input (a minimized one). *id_out (may be NULL) gets the
 * violation's id, *is_new whether a row was added. */
int apiary_store_add_violation(struct apiary_store *st, int64_t run_id,
			       const struct apiary_violation *v, int64_t *id_out, bool *is_new);
/* Waive (reason required, non-empty) or confirm a violation. */
int apiary_store_waive(struct apiary_store *st, int64_t violation_id, const char *reason);
int apiary_store_confirm(struct apiary_store *st, int64_t violation_id);

/* A violation as stored, with its bookkeeping. */
struct apiary_stored_violation {
	int64_t id;
	struct apiary_violation v;
	int64_t first_seen, last_seen; /* unix seconds */
	uint64_t count;
	enum apiary_vstatus status;
	char *waive_reason; /* NULL unless waived */
};

struct apiary_store_filter {
	size_t sz;
	const char *bundle; /* NULL: all bundles */
	const char *hash;   /* NULL: any hash; else seen in a run of this hash */
	bool include_waived;
};

/* All matching violations, ordered by bundle, then id. */
int apiary_store_list_violations(struct apiary_store *st, const struct apiary_store_filter *f,
				 struct apiary_stored_violation **out, size_t *n);
void apiary_stored_violations_free(struct apiary_stored_violation *sv, size_t n);

/* A check run with its bundle. */
struct apiary_store_run {
	int64_t id;
	char *bundle;
	uint32_t version;
	char *hash;
	int64_t started, finished; /* unix seconds; finished 0 while running */
	enum apiary_run_result result;
	uint64_t nviolations; /* distinct violations linked to the run */
};

/* Runs, newest first; bundle NULL = all. */
int apiary_store_list_runs(struct apiary_store *st, const char *bundle,
			   struct apiary_store_run **out, size_t *n);
void apiary_store_runs_free(struct apiary_store_run *r, size_t n);

/* ---- JSON shared by the store, HTML and SARIF --------------------------- */

struct json_object;
/* Whole violation as a JSON object (new reference). Bytes as lowercase hex. */
struct json_object *apiary_violation_to_json(const struct apiary_violation *v);
/* Parts, as stored in their own columns. */
struct json_object *apiary_parties_to_json(const struct apiary_violation *v);
struct json_object *apiary_runs_to_json(const struct apiary_violation *v);
/* Inverse of apiary_violation_to_json(); fills *v (zeroed first). Returns
 * -EINVAL on a malformed object (v is then freed). */
int apiary_violation_from_json(struct json_object *j, struct apiary_violation *v);

/* apiary_hex() and apiary_unhex() are in input.h. */

#endif
