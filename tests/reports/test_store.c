// SPDX-License-Identifier: MIT
/*
 * The store: creation, dedup, waivers, reopening, WAL, crash safety, and
 * the promise never to touch a file that is not ours (corrupt, foreign,
 * newer, damaged) — checked byte for byte.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "apiary/store.h"
#include "fixtures.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	strcpy(dir, "/tmp/apiary-store-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/apiary.db", dir);
	return 0;
}

/* Remove the store and sqlite's side files. */
static void reset_path(void)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };
	char p[160];

	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		unlink(p);
	}
}

static int teardown(void **state)
{
	reset_path();
	rmdir(dir);
	return 0;
}

static uint8_t *slurp(const char *p, size_t *len)
{
	FILE *f = fopen(p, "rb");
	uint8_t *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool exists(const char *suffix)
{
	char p[160];

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return access(p, F_OK) == 0;
}

/* Size of path+suffix, -1 if absent. */
static long side_size(const char *suffix)
{
	char p[160];
	struct stat sb;

	snprintf(p, sizeof(p), "%s%s", path, suffix);
	return stat(p, &sb) ? -1 : (long)sb.st_size;
}

/* Opening must fail with a diagnostic mentioning `needle` and leave the
 * file byte-identical. Files that are not sqlite or not ours are refused
 * before sqlite opens them: no side file appears. A store of ours in WAL
 * mode is checked by a read-only sqlite connection, which may create its
 * (empty) -wal and -shm but never writes the database itself. */
static void assert_refused_untouched(const char *needle)
{
	struct apiary_store *st = (void *)1;
	struct apiary_diags d;
	uint8_t *before, *after;
	size_t nb, na;
	int err;

	before = slurp(path, &nb);
	apiary_diags_init(&d);
	err = apiary_store_open(path, &st, &d);
	assert_true(err < 0);
	assert_null(st);
	assert_true(d.errors >= 1);
	if (!strstr(d.items[0].msg, needle))
		fail_msg("diagnostic '%s' lacks '%s'", d.items[0].msg, needle);
	apiary_diags_free(&d);
	after = slurp(path, &na);
	assert_int_equal(na, nb);
	assert_memory_equal(before, after, nb);
	if (nb >= 20 && !memcmp(before, "SQLite format 3", 16) && before[18] == 2 &&
	    !memcmp(before + 68, "APIY", 4)) {
		assert_true(side_size("-wal") <= 0);
	} else {
		assert_false(exists("-wal"));
		assert_false(exists("-shm"));
	}
	assert_false(exists("-journal"));
	free(before);
	free(after);
}

static struct apiary_store *open_ok(void)
{
	struct apiary_store *st = NULL;
	struct apiary_diags d;

	apiary_diags_init(&d);
	if (apiary_store_open(path, &st, &d)) {
		apiary_diags_print(&d, stderr);
		fail_msg("open %s failed", path);
	}
	apiary_diags_free(&d);
	return st;
}

/* Raw SQL on the file with a plain sqlite connection. */
static void raw_sql(const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("%s: %s", sql, msg);
	sqlite3_close(db);
}

static int64_t raw_int(const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void assert_same_violation(const struct apiary_violation *a,
				  const struct apiary_violation *b)
{
	assert_int_equal(a->invariant, b->invariant);
	assert_int_equal(a->severity, b->severity);
	assert_string_equal(a->summary, b->summary);
	assert_string_equal(a->dedup_key, b->dedup_key);
	assert_string_equal(a->replay, b->replay);
	assert_int_equal(a->nparties, b->nparties);
	for (size_t i = 0; i < a->nparties; i++) {
		assert_string_equal(a->parties[i].enforcer, b->parties[i].enforcer);
		assert_string_equal(a->parties[i].team, b->parties[i].team);
		assert_int_equal(a->parties[i].version, b->parties[i].version);
		assert_int_equal(a->parties[i].spec_line, b->parties[i].spec_line);
	}
	assert_int_equal(a->input.nevents, b->input.nevents);
	for (size_t e = 0; e < a->input.nevents; e++) {
		assert_int_equal(a->input.events[e].hook, b->input.events[e].hook);
		assert_int_equal(a->input.events[e].len, b->input.events[e].len);
		assert_memory_equal(a->input.events[e].data, b->input.events[e].data,
				    a->input.events[e].len);
	}
	assert_int_equal(a->nruns, b->nruns);
	for (size_t r = 0; r < a->nruns; r++) {
		const struct apiary_vrun *x = &a->runs[r], *y = &b->runs[r];

		assert_string_equal(x->label, y->label);
		assert_int_equal(x->norder, y->norder);
		assert_memory_equal(x->order, y->order, x->norder * sizeof(int));
		assert_int_equal(x->noutcomes, y->noutcomes);
		for (size_t o = 0; o < x->noutcomes; o++) {
			assert_int_equal(x->outcomes[o].verdict, y->outcomes[o].verdict);
			assert_int_equal(x->outcomes[o].len, y->outcomes[o].len);
			assert_memory_equal(x->outcomes[o].data, y->outcomes[o].data,
					    x->outcomes[o].len);
			assert_int_equal(x->outcomes[o].ntrace, y->outcomes[o].ntrace);
			assert_memory_equal(x->outcomes[o].trace, y->outcomes[o].trace,
					    x->outcomes[o].ntrace * sizeof(struct apiary_trace_ent));
			assert_int_equal(x->outcomes[o].flow_id, y->outcomes[o].flow_id);
		}
		assert_int_equal(x->nchanges, y->nchanges);
		for (size_t c = 0; c < x->nchanges; c++) {
			const struct apiary_vchange *p = &x->changes[c], *q = &y->changes[c];

			assert_string_equal(p->map, q->map);
			assert_int_equal(p->key_size, q->key_size);
			assert_memory_equal(p->key, q->key, p->key_size);
			assert_true((p->before == NULL) == (q->before == NULL));
			assert_true((p->after == NULL) == (q->after == NULL));
			if (p->before)
				assert_memory_equal(p->before, q->before, p->value_size);
			if (p->after)
				assert_memory_equal(p->after, q->after, p->value_size);
		}
	}
}

static void test_create_add_dedup_waive_reopen(void **state)
{
	struct apiary_violation comm, cov;
	struct apiary_stored_violation *sv;
	struct apiary_store *st;
	int64_t run, id1, id2, id3;
	bool is_new;
	size_t n;

	fx_commutativity(&comm);
	fx_coverage(&cov);
	st = open_ok();
	assert_int_equal(apiary_store_schema_version(st), APIARY_STORE_SCHEMA_VERSION);
	{
		/* WAL: file format read/write versions 2 in the header. */
		size_t hn;
		uint8_t *h = slurp(path, &hn);

		assert_true(hn >= 100);
		assert_int_equal(h[18], 2);
		assert_int_equal(h[19], 2);
		free(h);
	}
	assert_int_equal(raw_int("PRAGMA application_id"), APIARY_STORE_APP_ID);
	assert_int_equal(raw_int("PRAGMA user_version"), APIARY_STORE_SCHEMA_VERSION);
	assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), 2);

	assert_int_equal(apiary_store_begin_run(st, "edge", 3, "hash-1", "bundle edge version 3\n",
						&run), 0);
	assert_int_equal(apiary_store_add_object(st, "hash-1", "firewall.bpf.o", "ab12"), 0);
	assert_int_equal(apiary_store_add_violation(st, run, &comm, &id1, &is_new), 0);
	assert_true(is_new);
	assert_int_equal(apiary_store_add_violation(st, run, &comm, &id2, &is_new), 0);
	assert_false(is_new);
	assert_int_equal(id1, id2);
	assert_int_equal(apiary_store_add_violation(st, run, &cov, &id3, &is_new), 0);
	assert_true(is_new);
	assert_int_not_equal(id1, id3);
	assert_int_equal(apiary_store_finish_run(st, run, APIARY_RUN_VIOLATIONS), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hash-1"), 0);

	assert_int_equal(apiary_store_list_violations(st, NULL, &sv, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sv[0].id, id1);
	assert_int_equal(sv[0].count, 2);
	assert_true(sv[0].last_seen >= sv[0].first_seen);
	assert_int_equal(sv[0].status, APIARY_VSTATUS_NEW);
	assert_string_equal(sv[0].v.bundle, "edge");
	assert_same_violation(&sv[0].v, &comm);
	assert_int_equal(sv[1].count, 1);
	assert_same_violation(&sv[1].v, &cov);
	apiary_stored_violations_free(sv, n);

	/* Waiving needs a reason; waiving every error lets the hash pass. */
	assert_int_equal(apiary_store_waive(st, id1, ""), -EINVAL);
	assert_int_equal(apiary_store_waive(st, 9999, "x"), -ENOENT);
	assert_int_equal(apiary_store_waive(st, id1, "lb only sees VIP traffic; see ticket NET-12"),
			 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hash-1"), 0);
	assert_int_equal(apiary_store_confirm(st, id3), 0);
	assert_int_equal(apiary_store_waive(st, id3, "meter moves to tc.ingress in v2"), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hash-1"), 1);
	apiary_store_close(st);

	/* Everything is still there after reopening. */
	st = open_ok();
	assert_int_equal(apiary_store_list_violations(st, &(struct apiary_store_filter){
		.sz = sizeof(struct apiary_store_filter) }, &sv, &n), 0);
	assert_int_equal(n, 0); /* waived ones are left out unless asked for */
	apiary_stored_violations_free(sv, n);
	assert_int_equal(apiary_store_list_violations(st, NULL, &sv, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sv[0].status, APIARY_VSTATUS_WAIVED);
	assert_string_equal(sv[0].waive_reason, "lb only sees VIP traffic; see ticket NET-12");
	assert_int_equal(sv[0].count, 2);
	apiary_stored_violations_free(sv, n);
	assert_int_equal(raw_int("SELECT count(*) FROM builds"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM violation_runs"), 2);
	apiary_store_close(st);
	assert_false(exists("-wal")); /* checkpointed and removed on close */
	assert_int_equal(raw_int("SELECT count(*) FROM violations"), 2);
	apiary_violation_free(&comm);
	apiary_violation_free(&cov);
}

/* Dedup is per bundle name: a new hash of "edge" counts the same conflict,
 * the hash gate sees it through violation_runs; another bundle does not. */
static void test_dedup_across_hashes(void **state)
{
	struct apiary_violation comm;
	struct apiary_stored_violation *sv;
	struct apiary_store *st = open_ok();
	int64_t r1, r2, r3, id1, id2, id3;
	bool is_new;
	size_t n;

	fx_commutativity(&comm);
	assert_int_equal(apiary_store_begin_run(st, "edge", 3, "h1", "spec", &r1), 0);
	assert_int_equal(apiary_store_add_violation(st, r1, &comm, &id1, &is_new), 0);
	assert_int_equal(apiary_store_finish_run(st, r1, APIARY_RUN_VIOLATIONS), 0);
	assert_int_equal(apiary_store_begin_run(st, "edge", 4, "h2", "spec v4", &r2), 0);
	assert_int_equal(apiary_store_add_violation(st, r2, &comm, &id2, &is_new), 0);
	assert_false(is_new);
	assert_int_equal(id1, id2);
	assert_int_equal(apiary_store_finish_run(st, r2, APIARY_RUN_VIOLATIONS), 0);
	assert_int_equal(apiary_store_begin_run(st, "core", 1, "h3", "spec", &r3), 0);
	assert_int_equal(apiary_store_add_violation(st, r3, &comm, &id3, &is_new), 0);
	assert_true(is_new);
	assert_int_not_equal(id3, id1);
	assert_int_equal(apiary_store_finish_run(st, r3, APIARY_RUN_CLEAN), 0);

	assert_int_equal(apiary_store_list_violations(st, &(struct apiary_store_filter){
		.sz = sizeof(struct apiary_store_filter), .hash = "h2", .include_waived = true },
		&sv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sv[0].count, 2);
	apiary_stored_violations_free(sv, n);
	assert_int_equal(apiary_store_list_violations(st, &(struct apiary_store_filter){
		.sz = sizeof(struct apiary_store_filter), .bundle = "core", .include_waived = true },
		&sv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sv[0].id, id3);
	apiary_stored_violations_free(sv, n);

	/* core's run said clean but recorded an error violation: not passed. */
	assert_int_equal(apiary_store_bundle_passed(st, "h3"), 0);
	assert_int_equal(apiary_store_waive(st, id1, "accepted"), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "h1"), 1);
	assert_int_equal(apiary_store_bundle_passed(st, "h2"), 1);
	assert_int_equal(apiary_store_bundle_passed(st, "h3"), 0);
	apiary_store_close(st);
	apiary_violation_free(&comm);
}

/* Only a finished, conclusive run of the exact hash lets it pass. */
static void test_bundle_passed_gate(void **state)
{
	struct apiary_store *st = open_ok();
	struct apiary_store_run *runs;
	int64_t r1, r2, r3;
	size_t n;

	assert_int_equal(apiary_store_bundle_passed(st, "nope"), 0);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "hA", NULL, &r1), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hA"), 0); /* running (or killed) */
	assert_int_equal(apiary_store_finish_run(st, r1, APIARY_RUN_ERROR), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hA"), 0);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "hA", NULL, &r2), 0);
	assert_int_equal(apiary_store_finish_run(st, r2, APIARY_RUN_CLEAN), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hA"), 1);
	assert_int_equal(apiary_store_bundle_passed(st, "hB"), 0);
	assert_int_equal(apiary_store_finish_run(st, 4242, APIARY_RUN_CLEAN), -ENOENT);
	assert_int_equal(apiary_store_finish_run(st, r2, APIARY_RUN_RUNNING), -EINVAL);
	assert_int_equal(apiary_store_begin_run(st, "edge", 2, "hB", NULL, &r3), 0);

	assert_int_equal(apiary_store_list_runs(st, NULL, &runs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(runs[0].id, r3); /* newest first */
	assert_int_equal(runs[0].result, APIARY_RUN_RUNNING);
	assert_int_equal(runs[0].finished, 0);
	assert_int_equal(runs[1].result, APIARY_RUN_CLEAN);
	assert_int_equal(runs[2].result, APIARY_RUN_ERROR);
	assert_string_equal(runs[1].hash, "hA");
	assert_int_equal(runs[0].version, 2);
	apiary_store_runs_free(runs, n);
	apiary_store_close(st);
}

static void test_campaign_inputs(void **state)
{
	struct apiary_store *st = open_ok();
	struct apiary_input in = { .update_at = APIARY_INPUT_NO_UPDATE, .nevents = 1 };
	int64_t run, cid;

	in.events[0].hook = APIARY_HOOK_TC_EGRESS;
	in.events[0].len = (uint16_t)fx_tcp_syn(in.events[0].data);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "hC", NULL, &run), 0);
	assert_int_equal(apiary_store_begin_campaign(st, run, "afl++", &cid), 0);
	assert_int_equal(apiary_store_add_input(st, cid, &in, "new edge"), 0);
	assert_int_equal(apiary_store_add_input(st, cid, &in, "same again"), 0);
	assert_int_equal(apiary_store_finish_campaign(st, cid, 123456), 0);
	apiary_store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM inputs"), 1);
	assert_int_equal(raw_int("SELECT execs FROM campaigns"), 123456);
	/* The stored bytes are the input encoding: 'A', version, then events. */
	assert_int_equal(raw_int("SELECT unicode(substr(input_hex, 1, 1)) FROM inputs"), '4');
	assert_int_equal(raw_int("SELECT length(input) FROM inputs"), 4 + 3 + 54);
}

/* A violation is committed before add returns: SIGKILL right after loses
 * nothing. */
static void test_survives_sigkill(void **state)
{
	struct apiary_stored_violation *sv;
	struct apiary_store *st;
	int status;
	size_t n;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct apiary_violation comm;
		struct apiary_diags d;
		int64_t run;

		apiary_diags_init(&d);
		fx_commutativity(&comm);
		if (apiary_store_open(path, &st, &d) ||
		    apiary_store_begin_run(st, "edge", 3, "hK", NULL, &run) ||
		    apiary_store_add_violation(st, run, &comm, NULL, NULL))
			_exit(1);
		raise(SIGKILL);
		_exit(2);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	st = open_ok();
	assert_int_equal(apiary_store_list_violations(st, NULL, &sv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sv[0].v.invariant, APIARY_INV_COMMUTATIVITY);
	apiary_stored_violations_free(sv, n);
	/* The killed run stays "running": inconclusive for the gate. */
	assert_int_equal(apiary_store_bundle_passed(st, "hK"), 0);
	apiary_store_close(st);
}

/* Two handles on one file (a fuzzer and a report) interleave writes. */
static void test_two_writers(void **state)
{
	struct apiary_store *a = open_ok(), *b = open_ok();
	struct apiary_violation comm, cov;
	int64_t ra, rb;
	bool is_new;

	fx_commutativity(&comm);
	fx_coverage(&cov);
	assert_int_equal(apiary_store_begin_run(a, "edge", 1, "hW", NULL, &ra), 0);
	assert_int_equal(apiary_store_begin_run(b, "edge", 1, "hW", NULL, &rb), 0);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(apiary_store_add_violation(a, ra, &comm, NULL, NULL), 0);
		assert_int_equal(apiary_store_add_violation(b, rb, &comm, NULL, &is_new), 0);
		assert_false(is_new);
	}
	assert_int_equal(apiary_store_add_violation(b, rb, &cov, NULL, &is_new), 0);
	assert_true(is_new);
	apiary_store_close(a);
	apiary_store_close(b);
	assert_int_equal(raw_int("SELECT count FROM violations WHERE invariant='commutativity'"), 10);
	apiary_violation_free(&comm);
	apiary_violation_free(&cov);
}

static void write_file(const uint8_t *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void test_garbage_refused(void **state)
{
	uint8_t junk[4096];

	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (uint8_t)(i * 131 + 7);
	write_file(junk, sizeof(junk));
	assert_refused_untouched("not a sqlite database");
}

static void test_empty_file_refused(void **state)
{
	write_file((const uint8_t *)"", 0);
	assert_refused_untouched("empty");
}

/* A real store whose pages were damaged: sqlite's quick_check catches it. */
static void test_corrupt_store_refused(void **state)
{
	struct apiary_violation comm;
	struct apiary_store *st = open_ok();
	int64_t run;
	uint8_t *buf;
	size_t n;

	fx_commutativity(&comm);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "h", NULL, &run), 0);
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), 0);
	apiary_store_close(st);
	apiary_violation_free(&comm);
	buf = slurp(path, &n);
	assert_true(n >= 3 * 4096);
	memset(buf + 4096, 0xa5, 4096); /* page 2 */
	write_file(buf, n);
	free(buf);
	assert_refused_untouched("corrupt");

	/* Truncated to less than a header. */
	reset_path();
	write_file((const uint8_t *)"SQLite format 3", 16);
	assert_refused_untouched("not a sqlite database");
}

static void test_foreign_db_refused(void **state)
{
	raw_sql("CREATE TABLE users(name TEXT); INSERT INTO users VALUES ('alice');");
	assert_refused_untouched("another application");

	/* Someone else's app id, even with our table names. */
	reset_path();
	raw_sql("PRAGMA application_id = 1234; CREATE TABLE violations(x);");
	assert_refused_untouched("another application");

	/* Version 0, no tables, no app id: still not ours. */
	reset_path();
	raw_sql("PRAGMA user_version = 0; PRAGMA page_size = 4096; VACUUM;"
		"CREATE TABLE t(x); DROP TABLE t;");
	assert_refused_untouched("another application");
	assert_int_equal(raw_int("PRAGMA application_id"), 0);
}

/* Version 0 carrying our application_id and no tables: ours, initialised. */
static void test_version0_ours_migrates(void **state)
{
	struct apiary_store *st;

	raw_sql("PRAGMA application_id = 1095780697;"); /* 0x41504959 */
	assert_int_equal(raw_int("PRAGMA application_id"), APIARY_STORE_APP_ID);
	st = open_ok();
	assert_int_equal(apiary_store_schema_version(st), APIARY_STORE_SCHEMA_VERSION);
	apiary_store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), 2);

	/* Ours by id but version 0 with tables in it: not something we wrote. */
	reset_path();
	raw_sql("PRAGMA application_id = 1095780697; CREATE TABLE mystery(x);");
	assert_refused_untouched("schema version 0");
}

/* A store written by an older Apiary (schema 1) is upgraded in place and
 * keeps its data; read-only opening refuses to upgrade. */
static void test_migrate_from_v1(void **state)
{
	struct apiary_store_opts v1 = { .sz = sizeof(v1), .schema_version = 1 };
	struct apiary_store_opts ro = { .sz = sizeof(ro), .read_only = true };
	struct apiary_stored_violation *sv;
	struct apiary_violation comm;
	struct apiary_store *st;
	struct apiary_diags d;
	int64_t run;
	size_t n;

	fx_commutativity(&comm);
	apiary_diags_init(&d);
	assert_int_equal(apiary_store_open_opts(path, &v1, &st, &d), 0);
	assert_int_equal(apiary_store_schema_version(st), 1);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "hOld", "old spec", &run), 0);
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), 0);
	assert_int_equal(apiary_store_finish_run(st, run, APIARY_RUN_VIOLATIONS), 0);
	apiary_store_close(st);
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	assert_int_equal(raw_int("SELECT count(*) FROM sqlite_master WHERE name='campaigns'"), 0);

	assert_int_equal(apiary_store_open_opts(path, &ro, &st, &d), -EINVAL);
	assert_non_null(strstr(d.items[d.count - 1].msg, "needs upgrading"));
	assert_int_equal(raw_int("PRAGMA user_version"), 1);
	apiary_diags_free(&d);

	st = open_ok();
	assert_int_equal(apiary_store_schema_version(st), 2);
	assert_int_equal(apiary_store_list_violations(st, NULL, &sv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sv[0].status, APIARY_VSTATUS_NEW);
	assert_same_violation(&sv[0].v, &comm);
	apiary_stored_violations_free(sv, n);
	assert_int_equal(apiary_store_waive(st, 1, "migrated stores can be waived"), 0);
	apiary_store_close(st);
	assert_int_equal(raw_int("SELECT count(*) FROM schema_migrations"), 2);
	assert_int_equal(raw_int("SELECT max(version) FROM schema_migrations"), 2);

	/* Read-only opening of an up-to-date store works. */
	apiary_diags_init(&d);
	assert_int_equal(apiary_store_open_opts(path, &ro, &st, &d), 0);
	assert_int_equal(apiary_store_bundle_passed(st, "hOld"), 1);
	apiary_store_close(st);
	apiary_diags_free(&d);
	apiary_violation_free(&comm);
}

static void test_newer_or_damaged_refused(void **state)
{
	apiary_store_close(open_ok());
	raw_sql("PRAGMA user_version = 99;");
	assert_refused_untouched("newer");

	reset_path();
	apiary_store_close(open_ok());
	raw_sql("DROP TABLE inputs;");
	assert_refused_untouched("table inputs is missing");
}

static void test_not_a_file_or_missing(void **state)
{
	struct apiary_store_opts ro = { .sz = sizeof(ro), .read_only = true };
	struct apiary_store *st;
	struct apiary_diags d;

	apiary_diags_init(&d);
	assert_true(apiary_store_open_opts(path, &ro, &st, &d) < 0);
	assert_false(exists("")); /* read-only never creates */
	assert_int_equal(mkdir(path, 0700), 0);
	assert_true(apiary_store_open(path, &st, &d) < 0);
	assert_non_null(strstr(d.items[d.count - 1].msg, "not a regular file"));
	rmdir(path);
	apiary_diags_free(&d);
}

static void test_add_rejects_bad_input(void **state)
{
	struct apiary_store *st = open_ok();
	struct apiary_violation comm;
	int64_t run;

	fx_commutativity(&comm);
	assert_int_equal(apiary_store_add_violation(st, 77, &comm, NULL, NULL), -ENOENT);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "h", NULL, &run), 0);
	free(comm.dedup_key);
	comm.dedup_key = NULL;
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), -EINVAL);
	assert_non_null(strstr(apiary_store_errmsg(st), "dedup_key"));
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "", NULL, &run), -EINVAL);
	apiary_store_close(st);
	apiary_violation_free(&comm);
}

/* A shorter input for the same conflict (minimized) replaces the example. */
static void test_minimized_example_replaces(void **state)
{
	struct apiary_stored_violation *sv;
	struct apiary_store *st = open_ok();
	struct apiary_violation comm;
	int64_t run;
	size_t n;

	fx_commutativity(&comm);
	assert_int_equal(apiary_store_begin_run(st, "edge", 1, "h", NULL, &run), 0);
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), 0);
	comm.input.events[0].len = 40; /* shorter frame */
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), 0);
	comm.input.events[0].len = 54; /* longer again: ignored */
	assert_int_equal(apiary_store_add_violation(st, run, &comm, NULL, NULL), 0);
	assert_int_equal(apiary_store_list_violations(st, NULL, &sv, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sv[0].count, 3);
	assert_int_equal(sv[0].v.input.events[0].len, 40);
	apiary_stored_violations_free(sv, n);
	apiary_store_close(st);
	apiary_violation_free(&comm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_add_dedup_waive_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dedup_across_hashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bundle_passed_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_campaign_inputs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_survives_sigkill, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_writers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_store_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_db_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version0_ours_migrates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_from_v1, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_or_damaged_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_file_or_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_rejects_bad_input, setup, teardown),
		cmocka_unit_test_setup_teardown(test_minimized_example_replaces, setup, teardown),
	};

	return cmocka_run_group_tests_name("store", tests, NULL, NULL);
}
