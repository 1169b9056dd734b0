// SPDX-License-Identifier: MIT
/*
 * The sqlite store (see store.h for the contract). Opening goes in two
 * phases so that nothing which is not ours is ever written: the header is
 * read with plain read(2), then a READONLY connection checks application_id,
 * schema version, tables and page integrity; only then is the file opened
 * read-write, switched to WAL and migrated.
 */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apiary/store.h"
#include "internal.h"

#define BUSY_TIMEOUT_MS 10000
#define SQLITE_MAGIC "SQLite format 3"

struct apiary_store {
	sqlite3 *db;
	char *path;
	int version;
	char err[512];
};

/* ---- schema ----------------------------------------------------------- */

/*
 * migrations[i] brings a store from user_version i to i + 1. Never edit a
 * released step: add one. Each step records itself in schema_migrations.
 */
static const char *const migrations[] = {
	/* 0 -> 1: bundles, builds, runs, violations (first released layout). */
	"CREATE TABLE schema_migrations("
	"  version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL);"
	"CREATE TABLE bundles("
	"  hash TEXT PRIMARY KEY, name TEXT NOT NULL, version INTEGER NOT NULL,"
	"  spec TEXT, created_at INTEGER NOT NULL);"
	"CREATE INDEX bundles_name ON bundles(name);"
	"CREATE TABLE builds("
	"  bundle_hash TEXT NOT NULL REFERENCES bundles(hash), object TEXT NOT NULL,"
	"  object_hash TEXT NOT NULL, PRIMARY KEY(bundle_hash, object));"
	"CREATE TABLE check_runs("
	"  id INTEGER PRIMARY KEY, bundle_hash TEXT NOT NULL REFERENCES bundles(hash),"
	"  started_at INTEGER NOT NULL, finished_at INTEGER,"
	"  result TEXT NOT NULL CHECK(result IN ('running','clean','violations','error')));"
	"CREATE INDEX check_runs_hash ON check_runs(bundle_hash);"
	"CREATE TABLE violations("
	"  id INTEGER PRIMARY KEY, bundle TEXT NOT NULL, bundle_hash TEXT NOT NULL,"
	"  invariant TEXT NOT NULL, severity TEXT NOT NULL, summary TEXT, detail TEXT,"
	"  parties TEXT NOT NULL, labels TEXT NOT NULL, input BLOB, input_hex TEXT,"
	"  outcomes TEXT NOT NULL, replay TEXT, dedup_key TEXT NOT NULL,"
	"  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	"  count INTEGER NOT NULL DEFAULT 1, UNIQUE(bundle, dedup_key));"
	"CREATE TABLE violation_runs("
	"  violation_id INTEGER NOT NULL REFERENCES violations(id),"
	"  run_id INTEGER NOT NULL REFERENCES check_runs(id), seen_at INTEGER NOT NULL,"
	"  PRIMARY KEY(violation_id, run_id));"
	"CREATE INDEX violation_runs_run ON violation_runs(run_id);",

	/* 1 -> 2: review status (new/confirmed/waived) and fuzz campaigns. */
	"ALTER TABLE violations ADD COLUMN status TEXT NOT NULL DEFAULT 'new'"
	"  CHECK(status IN ('new','confirmed','waived'));"
	"ALTER TABLE violations ADD COLUMN waive_reason TEXT;"
	"ALTER TABLE violations ADD COLUMN status_changed_at INTEGER;"
	"CREATE TABLE campaigns("
	"  id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES check_runs(id),"
	"  engine TEXT NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER,"
	"  execs INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE inputs("
	"  id INTEGER PRIMARY KEY, campaign_id INTEGER NOT NULL REFERENCES campaigns(id),"
	"  input BLOB NOT NULL, input_hex TEXT NOT NULL, note TEXT,"
	"  added_at INTEGER NOT NULL, UNIQUE(campaign_id, input));",
};

_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == APIARY_STORE_SCHEMA_VERSION,
	       "one migration per schema version");

/* Tables each schema version must have; a store missing one is damaged. */
static const struct {
	const char *name;
	int since;
} tables[] = {
	{ "schema_migrations", 1 }, { "bundles", 1 },	{ "builds", 1 },
	{ "check_runs", 1 },	    { "violations", 1 }, { "violation_runs", 1 },
	{ "campaigns", 2 },	    { "inputs", 2 },
};

static const char *const result_names[] = { "running", "clean", "violations", "error" };
static const char *const status_names[] = { "new", "confirmed", "waived" };

const char *apiary_run_result_name(enum apiary_run_result r)
{
	return (unsigned)r < 4 ? result_names[r] : "unknown";
}

const char *apiary_vstatus_name(enum apiary_vstatus s)
{
	return (unsigned)s < 3 ? status_names[s] : "unknown";
}

/* Remember a failure for apiary_store_errmsg(); returns err. */
__attribute__((format(printf, 3, 4))) static int fail(struct apiary_store *st, int err,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return err;
}

/* sqlite failure on st: message includes sqlite's text. */
static int dbfail(struct apiary_store *st, const char *what)
{
	int code = sqlite3_errcode(st->db);

	fail(st, -EIO, "%s: %s", what, sqlite3_errmsg(st->db));
	if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
		return -EBUSY;
	if (code == SQLITE_NOMEM)
		return -ENOMEM;
	if (code == SQLITE_READONLY)
		return -EROFS;
	return -EIO;
}

const char *apiary_store_errmsg(const struct apiary_store *st)
{
	return st ? st->err : "";
}

int apiary_store_schema_version(struct apiary_store *st)
{
	return st->version;
}

/* Run SQL without results. */
static int exec(struct apiary_store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(st, -EIO, "%s", msg ? msg : sqlite3_errmsg(st->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

/* One integer from a single-row query (a PRAGMA), or -1. */
static int64_t query_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *s;
	int64_t v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

static bool table_exists(sqlite3 *db, const char *name)
{
	sqlite3_stmt *s;
	bool found = false;

	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", -1,
			       &s, NULL) != SQLITE_OK)
		return false;
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	found = sqlite3_step(s) == SQLITE_ROW;
	sqlite3_finalize(s);
	return found;
}

static int64_t count_tables(sqlite3 *db)
{
	return query_int(db, "SELECT count(*) FROM sqlite_master WHERE type='table'");
}

/* ---- opening ---------------------------------------------------------- */

/*
 * Phase 1: look at the first 100 bytes without sqlite. Returns 1 if the
 * file does not exist, 0 if it is a sqlite file carrying our application_id,
 * or an error (diagnostic added) for anything else.
 */
static int check_header(const char *path, struct apiary_diags *diags)
{
	unsigned char h[100];
	struct stat sb;
	uint32_t app;
	ssize_t n;
	int fd;

	if (stat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 1;
		return apiary_error(diags, NULL, "store %s: %s", path, strerror(errno));
	}
	if (!S_ISREG(sb.st_mode))
		return apiary_error(diags, NULL, "store %s: not a regular file", path);
	if (sb.st_size == 0)
		return apiary_error(diags, NULL,
				    "store %s: file exists and is empty, so it was not created by "
				    "Apiary; left untouched (remove it or choose another path)",
				    path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return apiary_error(diags, NULL, "store %s: %s", path, strerror(errno));
	n = read(fd, h, sizeof(h));
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, SQLITE_MAGIC, sizeof(SQLITE_MAGIC)) != 0)
		return apiary_error(diags, NULL,
				    "store %s: not a sqlite database (corrupt, truncated or another "
				    "kind of file); left untouched",
				    path);
	app = (uint32_t)h[68] << 24 | (uint32_t)h[69] << 16 | (uint32_t)h[70] << 8 | h[71];
	if (app != APIARY_STORE_APP_ID)
		return apiary_error(diags, NULL,
				    "store %s: a sqlite database of another application "
				    "(application_id 0x%08x, Apiary uses 0x%08x); left untouched",
				    path, app, APIARY_STORE_APP_ID);
	return 0;
}

/*
 * Phase 2: a read-only connection (which never writes the main file) checks
 * integrity, version and tables. Sets *version.
 */
static int check_contents(const char *path, int *version, struct apiary_diags *diags)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v, app;
	int err = 0;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		err = apiary_error(diags, NULL, "store %s: cannot open: %s", path,
				   db ? sqlite3_errmsg(db) : "out of memory");
		goto out;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &s, NULL) != SQLITE_OK ||
	    sqlite3_step(s) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(s, 0), "ok") != 0) {
		err = apiary_error(diags, NULL,
				   "store %s: the database is corrupt (%s); left untouched, "
				   "restore it from a backup or choose another path",
				   path, s && sqlite3_column_text(s, 0) ?
						 (const char *)sqlite3_column_text(s, 0) :
						 sqlite3_errmsg(db));
		goto out;
	}
	app = query_int(db, "PRAGMA application_id");
	v = query_int(db, "PRAGMA user_version");
	if (app != APIARY_STORE_APP_ID) {
		err = apiary_error(diags, NULL, "store %s: not an Apiary store (application_id "
				   "0x%08llx); left untouched", path, (unsigned long long)app);
		goto out;
	}
	if (v < 0 || v > APIARY_STORE_SCHEMA_VERSION) {
		err = apiary_error(diags, NULL,
				   "store %s: schema version %lld is newer than this Apiary "
				   "understands (%d); use a newer apiary, the file is left untouched",
				   path, (long long)v, APIARY_STORE_SCHEMA_VERSION);
		goto out;
	}
	if (v == 0 && count_tables(db) != 0) {
		err = apiary_error(diags, NULL, "store %s: carries Apiary's application_id but "
				   "schema version 0 with tables in it; left untouched", path);
		goto out;
	}
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
		if (tables[i].since <= v && !table_exists(db, tables[i].name)) {
			err = apiary_error(diags, NULL, "store %s: schema version %lld but table %s "
					   "is missing; the store is damaged and left untouched",
					   path, (long long)v, tables[i].name);
			goto out;
		}
	}
	*version = (int)v;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return err;
}

/* Apply migrations from the current version up to target, in one
 * transaction; re-reads the version inside it in case another process
 * migrated meanwhile. */
static int migrate(struct apiary_store *st, int target, bool fresh)
{
	int err = 0, v;
	int64_t now = time(NULL);

	err = exec(st, "BEGIN IMMEDIATE");
	if (err)
		return err;
	v = (int)query_int(st->db, "PRAGMA user_version");
	if (fresh && v == 0 && count_tables(st->db) != 0) {
		err = fail(st, -EEXIST, "a table appeared while the store was being created");
		goto out;
	}
	if (v < target) {
		char sql[96];

		snprintf(sql, sizeof(sql), "PRAGMA application_id = %d", APIARY_STORE_APP_ID);
		err = exec(st, sql);
	}
	for (; !err && v < target; v++) {
		char sql[128];

		err = exec(st, migrations[v]);
		if (err)
			break;
		snprintf(sql, sizeof(sql),
			 "INSERT INTO schema_migrations(version, applied_at) VALUES (%d, %lld);"
			 "PRAGMA user_version = %d",
			 v + 1, (long long)now, v + 1);
		err = exec(st, sql);
	}
out:
	if (err) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return err;
	}
	err = exec(st, "COMMIT");
	if (!err)
		st->version = v;
	return err;
}

int apiary_store_open(const char *path, struct apiary_store **out, struct apiary_diags *diags)
{
	return apiary_store_open_opts(path, NULL, out, diags);
}

int apiary_store_open_opts(const char *path, const struct apiary_store_opts *opts,
			   struct apiary_store **out, struct apiary_diags *diags)
{
	struct apiary_store_opts o = { .sz = sizeof(o) };
	struct apiary_store *st;
	bool created = false;
	int err, version = 0, target, flags, fd;

	*out = NULL;
	if (opts)
		memcpy(&o, opts, opts->sz < sizeof(o) ? opts->sz : sizeof(o));
	target = o.schema_version ? o.schema_version : APIARY_STORE_SCHEMA_VERSION;
	if (target < 1 || target > APIARY_STORE_SCHEMA_VERSION)
		return apiary_error(diags, NULL, "store %s: no schema version %d", path, target);

	err = check_header(path, diags);
	if (err < 0)
		return err;
	if (err == 1) {
		if (o.read_only)
			return apiary_error(diags, NULL, "store %s: does not exist", path);
		/* O_EXCL: never adopt a file someone else created meanwhile. */
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			return apiary_error(diags, NULL, "store %s: cannot create: %s", path,
					    strerror(errno));
		close(fd);
		created = true;
	} else {
		err = check_contents(path, &version, diags);
		if (err)
			return err;
		if (o.read_only && version < target)
			return apiary_error(diags, NULL,
					    "store %s: schema version %d needs upgrading to %d; open "
					    "it once read-write (e.g. with apiary-check)",
					    path, version, target);
	}

	st = calloc(1, sizeof(*st));
	if (!st || !(st->path = strdup(path))) {
		err = -ENOMEM;
		goto fail;
	}
	flags = o.read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
		err = apiary_error(diags, NULL, "store %s: cannot open: %s", path,
				   st->db ? sqlite3_errmsg(st->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(st->db, 0);
	st->version = version;
	err = exec(st, "PRAGMA foreign_keys = ON");
	if (!err && !o.read_only) {
		/* A new store gets application_id and schema in one rollback-journal
		 * transaction, so the main file's header names it Apiary's before
		 * WAL mode can keep pages in the -wal file. */
		if (created || version < target)
			err = migrate(st, target, created);
		if (!err && query_int(st->db, "PRAGMA user_version") != st->version)
			err = fail(st, -EIO, "schema version changed underneath");
		err = err ?: exec(st, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL");
	}
	if (err) {
		apiary_error(diags, NULL, "store %s: %s", path, st->err);
		goto fail;
	}
	*out = st;
	return 0;
fail:
	if (st) {
		sqlite3_close(st->db);
		free(st->path);
		free(st);
	}
	if (created)
		unlink(path);
	return err ? err : -ENOMEM;
}

void apiary_store_close(struct apiary_store *st)
{
	if (!st)
		return;
	sqlite3_close(st->db);
	free(st->path);
	free(st);
}

/* ---- statements ------------------------------------------------------- */

static int prepare(struct apiary_store *st, const char *sql, sqlite3_stmt **s)
{
	if (sqlite3_prepare_v2(st->db, sql, -1, s, NULL) != SQLITE_OK)
		return dbfail(st, "prepare");
	return 0;
}

static void bind_text(sqlite3_stmt *s, int i, const char *t)
{
	if (t)
		sqlite3_bind_text(s, i, t, -1, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(s, i);
}

/* Step a statement that returns no rows, then finalize it. */
static int run_stmt(struct apiary_store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s), err = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		err = dbfail(st, what);
	sqlite3_finalize(s);
	return err;
}

static void rollback(struct apiary_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* ---- runs ------------------------------------------------------------- */

int apiary_store_begin_run(struct apiary_store *st, const char *bundle, uint32_t version,
			   const char *hash, const char *spec_text, int64_t *run_id)
{
	int64_t now = time(NULL);
	sqlite3_stmt *s = NULL;
	int err;

	if (!bundle || !hash || !*hash)
		return fail(st, -EINVAL, "begin_run: bundle name and hash are required");
	err = exec(st, "BEGIN IMMEDIATE");
	if (err)
		return err;
	err = prepare(st, "INSERT INTO bundles(hash, name, version, spec, created_at) "
			  "VALUES (?, ?, ?, ?, ?) ON CONFLICT(hash) DO NOTHING", &s);
	if (!err) {
		bind_text(s, 1, hash);
		bind_text(s, 2, bundle);
		sqlite3_bind_int64(s, 3, version);
		bind_text(s, 4, spec_text);
		sqlite3_bind_int64(s, 5, now);
		err = run_stmt(st, s, "add bundle");
	}
	if (!err)
		err = prepare(st, "INSERT INTO check_runs(bundle_hash, started_at, result) "
				  "VALUES (?, ?, 'running')", &s);
	if (!err) {
		bind_text(s, 1, hash);
		sqlite3_bind_int64(s, 2, now);
		err = run_stmt(st, s, "add run");
	}
	if (!err) {
		*run_id = sqlite3_last_insert_rowid(st->db);
		err = exec(st, "COMMIT");
	}
	if (err)
		rollback(st);
	return err;
}

int apiary_store_finish_run(struct apiary_store *st, int64_t run_id,
			    enum apiary_run_result result)
{
	sqlite3_stmt *s;
	int err;

	if ((unsigned)result > APIARY_RUN_ERROR || result == APIARY_RUN_RUNNING)
		return fail(st, -EINVAL, "finish_run: result must be clean, violations or error");
	err = prepare(st, "UPDATE check_runs SET finished_at = ?, result = ? WHERE id = ?", &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, time(NULL));
	bind_text(s, 2, result_names[result]);
	sqlite3_bind_int64(s, 3, run_id);
	err = run_stmt(st, s, "finish run");
	if (!err && sqlite3_changes(st->db) != 1)
		err = fail(st, -ENOENT, "finish_run: no run %lld", (long long)run_id);
	return err;
}

int apiary_store_add_object(struct apiary_store *st, const char *bundle_hash, const char *name,
			    const char *object_hash)
{
	sqlite3_stmt *s;
	int err;

	if (!bundle_hash || !name || !object_hash)
		return fail(st, -EINVAL, "add_object: hash, name and object hash are required");
	err = prepare(st, "INSERT INTO builds(bundle_hash, object, object_hash) VALUES (?, ?, ?) "
			  "ON CONFLICT(bundle_hash, object) DO UPDATE SET object_hash = "
			  "excluded.object_hash", &s);
	if (err)
		return err;
	bind_text(s, 1, bundle_hash);
	bind_text(s, 2, name);
	bind_text(s, 3, object_hash);
	return run_stmt(st, s, "add object");
}

int apiary_store_bundle_passed(struct apiary_store *st, const char *hash)
{
	sqlite3_stmt *s;
	int err, rc, passed = 0;

	err = prepare(st,
		      "SELECT EXISTS(SELECT 1 FROM check_runs WHERE bundle_hash = ?1 AND "
		      "  finished_at IS NOT NULL AND result IN ('clean', 'violations')),"
		      " EXISTS(SELECT 1 FROM violations v JOIN violation_runs vr ON "
		      "  vr.violation_id = v.id JOIN check_runs r ON r.id = vr.run_id "
		      "  WHERE r.bundle_hash = ?1 AND v.severity = 'error' AND v.status != 'waived')",
		      &s);
	if (err)
		return err;
	bind_text(s, 1, hash);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		passed = sqlite3_column_int(s, 0) && !sqlite3_column_int(s, 1);
	else
		err = dbfail(st, "bundle_passed");
	sqlite3_finalize(s);
	return err ? err : passed;
}

/* ---- campaigns -------------------------------------------------------- */

int apiary_store_begin_campaign(struct apiary_store *st, int64_t run_id, const char *engine,
				int64_t *campaign_id)
{
	sqlite3_stmt *s;
	int err;

	err = prepare(st, "INSERT INTO campaigns(run_id, engine, started_at) VALUES (?, ?, ?)", &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, run_id);
	bind_text(s, 2, engine ? engine : "unknown");
	sqlite3_bind_int64(s, 3, time(NULL));
	err = run_stmt(st, s, "begin campaign");
	if (!err)
		*campaign_id = sqlite3_last_insert_rowid(st->db);
	return err;
}

int apiary_store_finish_campaign(struct apiary_store *st, int64_t campaign_id, uint64_t execs)
{
	sqlite3_stmt *s;
	int err;

	err = prepare(st, "UPDATE campaigns SET finished_at = ?, execs = ? WHERE id = ?", &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, time(NULL));
	sqlite3_bind_int64(s, 2, (int64_t)execs);
	sqlite3_bind_int64(s, 3, campaign_id);
	err = run_stmt(st, s, "finish campaign");
	if (!err && sqlite3_changes(st->db) != 1)
		err = fail(st, -ENOENT, "finish_campaign: no campaign %lld", (long long)campaign_id);
	return err;
}

/* Encode an input into a malloc'd buffer; *len gets its size. */
static uint8_t *encode_input(const struct apiary_input *in, size_t *len)
{
	size_t size = 4 + APIARY_INPUT_MAX_EVENTS * (3 + APIARY_INPUT_MAX_FRAME);
	uint8_t *buf = malloc(size);
	long n;

	if (!buf)
		return NULL;
	n = apiary_input_encode(in, buf, size);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	*len = (size_t)n;
	return buf;
}

int apiary_store_add_input(struct apiary_store *st, int64_t campaign_id,
			   const struct apiary_input *in, const char *note)
{
	sqlite3_stmt *s;
	uint8_t *buf;
	char *hex;
	size_t len = 0;
	int err;

	buf = encode_input(in, &len);
	hex = buf ? apiary_hex(buf, len) : NULL;
	if (!hex) {
		free(buf);
		return fail(st, -ENOMEM, "add_input: cannot encode the input");
	}
	err = prepare(st, "INSERT INTO inputs(campaign_id, input, input_hex, note, added_at) "
			  "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", &s);
	if (!err) {
		sqlite3_bind_int64(s, 1, campaign_id);
		sqlite3_bind_blob(s, 2, buf, (int)len, SQLITE_TRANSIENT);
		bind_text(s, 3, hex);
		bind_text(s, 4, note);
		sqlite3_bind_int64(s, 5, time(NULL));
		err = run_stmt(st, s, "add input");
	}
	free(buf);
	free(hex);
	return err;
}

/* ---- violations ------------------------------------------------------- */

/* JSON text of an object, malloc'd; consumes the reference. */
static char *json_take(struct json_object *o)
{
	char *s = NULL;

	if (o)
		s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/* Labels and orderings of the runs: [{"label": ..., "order": [...]}]. */
static struct json_object *labels_json(const struct apiary_violation *v)
{
	struct json_object *a = json_object_new_array();

	for (size_t r = 0; r < v->nruns && r < 2; r++) {
		struct json_object *o = json_object_new_object(), *ord = json_object_new_array();

		json_object_object_add(o, "label", v->runs[r].label ?
				       json_object_new_string(v->runs[r].label) : NULL);
		for (size_t i = 0; i < v->runs[r].norder && i < APIARY_MAX_CHAIN; i++)
			json_object_array_add(ord, json_object_new_int(v->runs[r].order[i]));
		json_object_object_add(o, "order", ord);
		json_object_array_add(a, o);
	}
	return a;
}

/* Bundle name and hash of a run. */
static int run_bundle(struct apiary_store *st, int64_t run_id, char **name, char **hash)
{
	sqlite3_stmt *s;
	int err;

	*name = *hash = NULL;
	err = prepare(st, "SELECT b.name, b.hash FROM check_runs r JOIN bundles b ON "
			  "b.hash = r.bundle_hash WHERE r.id = ?", &s);
	if (err)
		return err;
	sqlite3_bind_int64(s, 1, run_id);
	if (sqlite3_step(s) == SQLITE_ROW) {
		*name = strdup((const char *)sqlite3_column_text(s, 0));
		*hash = strdup((const char *)sqlite3_column_text(s, 1));
		if (!*name || !*hash)
			err = -ENOMEM;
	} else {
		err = fail(st, -ENOENT, "no run %lld", (long long)run_id);
	}
	sqlite3_finalize(s);
	return err;
}

/* Fields of a violation as bound into INSERT/UPDATE statements. */
struct vcols {
	char *parties, *labels, *outcomes, *hex;
	uint8_t *input;
	size_t input_len;
};

static void vcols_free(struct vcols *c)
{
	free(c->parties);
	free(c->labels);
	free(c->outcomes);
	free(c->hex);
	free(c->input);
}

static int vcols_build(const struct apiary_violation *v, struct vcols *c)
{
	memset(c, 0, sizeof(*c));
	c->parties = json_take(apiary_parties_to_json(v));
	c->labels = json_take(labels_json(v));
	c->outcomes = json_take(apiary_runs_to_json(v));
	c->input = encode_input(&v->input, &c->input_len);
	c->hex = c->input ? apiary_hex(c->input, c->input_len) : NULL;
	if (!c->parties || !c->labels || !c->outcomes || !c->hex) {
		vcols_free(c);
		return -ENOMEM;
	}
	return 0;
}

int apiary_store_add_violation(struct apiary_store *st, int64_t run_id,
			       const struct apiary_violation *v, int64_t *id_out, bool *is_new)
{
	char *bundle = NULL, *hash = NULL;
	int64_t now = time(NULL), id = 0;
	sqlite3_stmt *s = NULL;
	struct vcols c;
	bool found = false;
	int64_t old_len = 0;
	int err;

	if (!v->dedup_key || !*v->dedup_key)
		return fail(st, -EINVAL, "add_violation: dedup_key is required");
	if ((unsigned)v->invariant >= APIARY_INV__COUNT)
		return fail(st, -EINVAL, "add_violation: unknown invariant %d", v->invariant);
	err = vcols_build(v, &c);
	if (err)
		return fail(st, err, "add_violation: out of memory");
	err = exec(st, "BEGIN IMMEDIATE");
	if (err)
		goto out;
	err = run_bundle(st, run_id, &bundle, &hash);
	if (!err)
		err = prepare(st, "SELECT id, length(input) FROM violations WHERE bundle = ? AND "
				  "dedup_key = ?", &s);
	if (!err) {
		bind_text(s, 1, bundle);
		bind_text(s, 2, v->dedup_key);
		if (sqlite3_step(s) == SQLITE_ROW) {
			found = true;
			id = sqlite3_column_int64(s, 0);
			old_len = sqlite3_column_int64(s, 1);
		}
		sqlite3_finalize(s);
	}
	if (!err && found) {
		/* Seen before: count it; keep the shorter (minimized) example. */
		bool shorter = (int64_t)c.input_len < old_len;

		err = prepare(st, shorter ?
			      "UPDATE violations SET count = count + 1, last_seen = ?2, input = ?3, "
			      "input_hex = ?4, outcomes = ?5, labels = ?6, replay = ?7, "
			      "summary = ?8, detail = ?9 WHERE id = ?1" :
			      "UPDATE violations SET count = count + 1, last_seen = ?2 WHERE id = ?1",
			      &s);
		if (!err) {
			sqlite3_bind_int64(s, 1, id);
			sqlite3_bind_int64(s, 2, now);
			if (shorter) {
				sqlite3_bind_blob(s, 3, c.input, (int)c.input_len, SQLITE_STATIC);
				bind_text(s, 4, c.hex);
				bind_text(s, 5, c.outcomes);
				bind_text(s, 6, c.labels);
				bind_text(s, 7, v->replay);
				bind_text(s, 8, v->summary);
				bind_text(s, 9, v->detail);
			}
			err = run_stmt(st, s, "count violation");
		}
	} else if (!err) {
		err = prepare(st, "INSERT INTO violations(bundle, bundle_hash, invariant, severity, "
				  "summary, detail, parties, labels, input, input_hex, outcomes, "
				  "replay, dedup_key, first_seen, last_seen, count) VALUES "
				  "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,1)", &s);
		if (!err) {
			bind_text(s, 1, bundle);
			bind_text(s, 2, hash); /* the run says what was checked */
			bind_text(s, 3, apiary_invariant_name(v->invariant));
			bind_text(s, 4, v->severity == APIARY_VS_INFO ? "info" : "error");
			bind_text(s, 5, v->summary);
			bind_text(s, 6, v->detail);
			bind_text(s, 7, c.parties);
			bind_text(s, 8, c.labels);
			sqlite3_bind_blob(s, 9, c.input, (int)c.input_len, SQLITE_STATIC);
			bind_text(s, 10, c.hex);
			bind_text(s, 11, c.outcomes);
			bind_text(s, 12, v->replay);
			bind_text(s, 13, v->dedup_key);
			sqlite3_bind_int64(s, 14, now);
			sqlite3_bind_int64(s, 15, now);
			err = run_stmt(st, s, "add violation");
			id = sqlite3_last_insert_rowid(st->db);
		}
	}
	if (!err)
		err = prepare(st, "INSERT INTO violation_runs(violation_id, run_id, seen_at) "
				  "VALUES (?, ?, ?) ON CONFLICT DO NOTHING", &s);
	if (!err) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, run_id);
		sqlite3_bind_int64(s, 3, now);
		err = run_stmt(st, s, "link violation");
	}
	/* Committed (and with synchronous=FULL, fsynced) before returning. */
	err = err ?: exec(st, "COMMIT");
out:
	if (err)
		rollback(st);
	else {
		if (id_out)
			*id_out = id;
		if (is_new)
			*is_new = !found;
	}
	free(bundle);
	free(hash);
	vcols_free(&c);
	return err;
}

/* Set the review status of a violation. */
static int set_status(struct apiary_store *st, int64_t id, const char *status, const char *reason)
{
	sqlite3_stmt *s;
	int err;

	err = prepare(st, "UPDATE violations SET status = ?, waive_reason = ?, "
			  "status_changed_at = ? WHERE id = ?", &s);
	if (err)
		return err;
	bind_text(s, 1, status);
	bind_text(s, 2, reason);
	sqlite3_bind_int64(s, 3, time(NULL));
	sqlite3_bind_int64(s, 4, id);
	err = run_stmt(st, s, "set status");
	if (!err && sqlite3_changes(st->db) != 1)
		err = fail(st, -ENOENT, "no violation %lld", (long long)id);
	return err;
}

int apiary_store_waive(struct apiary_store *st, int64_t violation_id, const char *reason)
{
	if (!reason || !*reason)
		return fail(st, -EINVAL, "waive: a reason is required");
	return set_status(st, violation_id, "waived", reason);
}

int apiary_store_confirm(struct apiary_store *st, int64_t violation_id)
{
	return set_status(st, violation_id, "confirmed", NULL);
}

static char *col_strdup(sqlite3_stmt *s, int i)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	return t ? strdup((const char *)t) : NULL;
}

/* Parse a JSON column with parse(); a NULL column is an empty list. */
static int col_json(sqlite3_stmt *s, int i, struct apiary_violation *v,
		    int (*parse)(struct json_object *, struct apiary_violation *))
{
	const char *t = (const char *)sqlite3_column_text(s, i);
	struct json_object *j;
	int err;

	if (!t)
		return 0;
	j = json_tokener_parse(t);
	if (!j)
		return -EINVAL;
	err = parse(j, v);
	json_object_put(j);
	return err;
}

/* One row of the violations SELECT in list_violations into sv. */
static int row_to_violation(sqlite3_stmt *s, struct apiary_stored_violation *sv)
{
	struct apiary_violation *v = &sv->v;
	const char *status = (const char *)sqlite3_column_text(s, 18);
	const void *blob;
	int k, err;

	memset(sv, 0, sizeof(*sv));
	sv->id = sqlite3_column_int64(s, 0);
	k = apiary__invariant_parse((const char *)sqlite3_column_text(s, 3));
	if (k < 0)
		return -EINVAL;
	v->invariant = k;
	v->severity = !strcmp((const char *)sqlite3_column_text(s, 4), "info") ? APIARY_VS_INFO :
										 APIARY_VS_ERROR;
	v->bundle = col_strdup(s, 1);
	v->bundle_hash = col_strdup(s, 2);
	v->summary = col_strdup(s, 5);
	v->detail = col_strdup(s, 6);
	v->replay = col_strdup(s, 11);
	v->dedup_key = col_strdup(s, 12);
	sv->first_seen = sqlite3_column_int64(s, 13);
	sv->last_seen = sqlite3_column_int64(s, 14);
	sv->count = (uint64_t)sqlite3_column_int64(s, 15);
	sv->waive_reason = col_strdup(s, 16);
	sv->status = APIARY_VSTATUS_NEW;
	for (int i = 0; status && i < 3; i++)
		if (!strcmp(status, status_names[i]))
			sv->status = i;
	err = col_json(s, 7, v, apiary__parties_from_json) ?:
	      col_json(s, 10, v, apiary__runs_from_json);
	blob = sqlite3_column_blob(s, 8);
	if (!err && blob)
		err = apiary_input_decode(blob, (size_t)sqlite3_column_bytes(s, 8), &v->input);
	return err;
}

int apiary_store_list_violations(struct apiary_store *st, const struct apiary_store_filter *f,
				 struct apiary_stored_violation **out, size_t *n)
{
	struct apiary_store_filter fl = { .sz = sizeof(fl), .include_waived = true };
	struct apiary_stored_violation *arr = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int err, rc;

	*out = NULL;
	*n = 0;
	if (f)
		memcpy(&fl, f, f->sz < sizeof(fl) ? f->sz : sizeof(fl));
	err = prepare(st,
		      "SELECT v.id, v.bundle, v.bundle_hash, v.invariant, v.severity, v.summary, "
		      " v.detail, v.parties, v.input, v.labels, v.outcomes, v.replay, v.dedup_key, "
		      " v.first_seen, v.last_seen, v.count, v.waive_reason, v.labels, v.status "
		      "FROM violations v WHERE (?1 IS NULL OR v.bundle = ?1) AND (?2 IS NULL OR "
		      " EXISTS(SELECT 1 FROM violation_runs vr JOIN check_runs r ON "
		      " r.id = vr.run_id WHERE vr.violation_id = v.id AND r.bundle_hash = ?2)) "
		      " AND (?3 OR v.status != 'waived') ORDER BY v.bundle, v.id",
		      &s);
	if (err)
		return err;
	bind_text(s, 1, fl.bundle);
	bind_text(s, 2, fl.hash);
	sqlite3_bind_int(s, 3, fl.include_waived);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p = realloc(arr, nc * sizeof(*arr));

			if (!p) {
				err = fail(st, -ENOMEM, "list_violations: out of memory");
				break;
			}
			arr = p;
			cap = nc;
		}
		err = row_to_violation(s, &arr[cnt]);
		cnt++;
		if (err) {
			fail(st, err, "violation %lld: malformed row",
			     (long long)sqlite3_column_int64(s, 0));
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = dbfail(st, "list violations");
	sqlite3_finalize(s);
	if (err) {
		apiary_stored_violations_free(arr, cnt);
		return err;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

void apiary_stored_violations_free(struct apiary_stored_violation *sv, size_t n)
{
	for (size_t i = 0; sv && i < n; i++) {
		apiary_violation_free(&sv[i].v);
		free(sv[i].waive_reason);
	}
	free(sv);
}

int apiary_store_list_runs(struct apiary_store *st, const char *bundle,
			   struct apiary_store_run **out, size_t *n)
{
	struct apiary_store_run *arr = NULL;
	size_t cnt = 0, cap = 0;
	sqlite3_stmt *s;
	int err, rc;

	*out = NULL;
	*n = 0;
	err = prepare(st, "SELECT r.id, b.name, b.version, r.bundle_hash, r.started_at, "
			  " r.finished_at, r.result, (SELECT count(*) FROM violation_runs vr "
			  " WHERE vr.run_id = r.id) FROM check_runs r JOIN bundles b ON "
			  " b.hash = r.bundle_hash WHERE ?1 IS NULL OR b.name = ?1 "
			  "ORDER BY r.id DESC", &s);
	if (err)
		return err;
	bind_text(s, 1, bundle);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct apiary_store_run *r;
		const char *res = (const char *)sqlite3_column_text(s, 6);

		if (cnt == cap) {
			size_t nc = cap ? cap * 2 : 16;
			void *p = realloc(arr, nc * sizeof(*arr));

			if (!p) {
				err = fail(st, -ENOMEM, "list_runs: out of memory");
				break;
			}
			arr = p;
			cap = nc;
		}
		r = &arr[cnt++];
		memset(r, 0, sizeof(*r));
		r->id = sqlite3_column_int64(s, 0);
		r->bundle = col_strdup(s, 1);
		r->version = (uint32_t)sqlite3_column_int64(s, 2);
		r->hash = col_strdup(s, 3);
		r->started = sqlite3_column_int64(s, 4);
		r->finished = sqlite3_column_int64(s, 5);
		for (int i = 0; res && i < 4; i++)
			if (!strcmp(res, result_names[i]))
				r->result = i;
		r->nviolations = (uint64_t)sqlite3_column_int64(s, 7);
		if (!r->bundle || !r->hash) {
			err = fail(st, -ENOMEM, "list_runs: out of memory");
			break;
		}
	}
	if (!err && rc != SQLITE_DONE)
		err = dbfail(st, "list runs");
	sqlite3_finalize(s);
	if (err) {
		apiary_store_runs_free(arr, cnt);
		return err;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

void apiary_store_runs_free(struct apiary_store_run *r, size_t n)
{
	for (size_t i = 0; r && i < n; i++) {
		free(r[i].bundle);
		free(r[i].hash);
	}
	free(r);
}
