// SPDX-License-Identifier: MIT
/*
 * apiary-fuzz SPEC --db FILE: coverage-guided campaigns on a bundle.
 *
 * The bundle is compiled with in-kernel coverage counters and loaded; N
 * engine instances (AFL++ main/secondaries sharing one sync directory, or
 * libFuzzer processes sharing one corpus) run the target drivers in
 * fuzz/, which load the same build. This process watches what the engines
 * keep (queue entries, crashes), re-runs every new one through the full
 * invariant check (every allowed ordering, twice), minimizes each new
 * violation (fewest events, fewest bytes, same invariant and dedup key) and
 * commits it to the store before it looks at the next candidate. A crash
 * of the target is a harness bug, reported as such, never a violation.
 *
 * Exit status: 0 nothing found, 1 violations found, 2 spec, build, usage
 * or engine error, 3 no violation but the harness crashed. A campaign
 * stopped by SIGINT/SIGTERM or its --time ends the same way (engines
 * stopped, last candidates checked, run finished in the store) and can be
 * continued with --resume; so can one killed with SIGKILL.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "apiary/check.h"
#include "apiary/fuzz.h"
#include "apiary/store.h"
#include "common.h"
#include "fuzz_int.h"

#define EXIT_CLEAN 0
#define EXIT_VIOLATIONS 1
#define EXIT_ERROR 2
#define EXIT_HARNESS_BUG 3

#define MAX_JOBS 64
#define MAX_SEED_ARGS 16
#define MAX_CANDIDATE (1 << 20)
#define MIN_CHECKS 400     /* per minimization */
#define MIN_SECONDS 10.0

extern char **environ;

enum engine_kind { ENGINE_AFL, ENGINE_LIBFUZZER };

struct engine {
	pid_t pid;
	char name[32];
	char *log;
	char *stats;                   /* shared exec counter file */
	volatile uint64_t *counter;    /* its mapping, once the target made it */
	bool running;
	bool exited_early; /* before we stopped it */
	int status;
};

/* A set of 64-bit hashes (open addressing; 0 is never stored). */
struct hset {
	uint64_t *v;
	size_t n, cap;
};

struct campaign {
	/* arguments */
	const char *argv0;
	const char *spec_path;
	const char *db;
	char *work;
	const char *seeds[MAX_SEED_ARGS];
	size_t nseeds;
	double time_s;
	int jobs;
	enum engine_kind engine;
	bool engine_given;
	bool resume;
	bool no_counters;
	bool no_dict;
	bool quiet;
	bool until_found;

	/* the bundle, loaded here for checking and coverage accounting */
	struct apiary_bundle_ctx bctx;
	struct apiary_fuzz_target tgt;
	char *build_dir;
	char *check_cmd; /* apiary-check next to us, for replay commands */
	uint8_t *map;
	size_t map_size, ncounters, covered;
	uint8_t *seen;

	/* store */
	struct apiary_store *store;
	int64_t run_id, campaign_id;

	/* engines */
	struct engine eng[MAX_JOBS];
	int neng;
	char *target;
	char *afl_fuzz;

	/* candidates */
	struct hset names;   /* files already read */
	struct hset checked; /* contents already checked (persisted) */
	FILE *checked_log;
	char **keys;         /* dedup keys known (store + this campaign) */
	bool *waived;        /* per key: waived in the store */
	size_t nkeys;
	struct apiary_violation *collected;
	size_t ncollected, capcollected;

	/* counts */
	size_t queue, errors_found, infos_found, occurrences, harness_bugs, check_failures;
	size_t known_errors;  /* occurrences of known, unwaived error violations */
	size_t resumed_checked; /* candidates checked by earlier sessions */
	uint64_t execs;
	double execs_per_s;
	bool stopping;
	struct timespec t0;
	double last_progress;
	bool tty;
};

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static double elapsed(const struct campaign *c)
{
	return now_s() - ((double)c->t0.tv_sec + c->t0.tv_nsec / 1e9);
}

/* ---- small helpers ------------------------------------------------------ */

static uint64_t hash_bytes(const uint8_t *p, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h ? h : 1;
}

static bool hset_has(const struct hset *s, uint64_t h)
{
	if (!s->cap)
		return false;
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->v[i])
			return false;
		if (s->v[i] == h)
			return true;
	}
}

static int hset_add(struct hset *s, uint64_t h)
{
	if (hset_has(s, h))
		return 0;
	if ((s->n + 1) * 2 > s->cap) {
		struct hset n = { .cap = s->cap ? s->cap * 2 : 1024 };

		n.v = calloc(n.cap, sizeof(*n.v));
		if (!n.v)
			return -ENOMEM;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i])
				hset_add(&n, s->v[i]);
		free(s->v);
		*s = n;
	}
	for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
		if (!s->v[i]) {
			s->v[i] = h;
			s->n++;
			return 0;
		}
	}
}

static char *join(const char *a, const char *b)
{
	char *p = NULL;

	return asprintf(&p, "%s/%s", a, b) < 0 ? NULL : p;
}

static int mkdir_p(const char *path)
{
	char *tmp = strdup(path);
	int err = 0;

	if (!tmp)
		return -ENOMEM;
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || !*p) {
			char ch = *p;

			*p = '\0';
			if (mkdir(tmp, 0755) && errno != EEXIST) {
				err = -errno;
				break;
			}
			*p = ch;
			if (!ch)
				break;
		}
	}
	free(tmp);
	return err;
}

static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

/* "90", "90s", "15m", "8h", "1d" in seconds; negative if malformed. */
static double parse_duration(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || v < 0)
		return -1;
	if (!*end || !strcmp(end, "s"))
		return v;
	if (!strcmp(end, "m"))
		return v * 60;
	if (!strcmp(end, "h"))
		return v * 3600;
	if (!strcmp(end, "d"))
		return v * 86400;
	return -1;
}

static void fmt_time(double s, char *buf, size_t size)
{
	long t = (long)(s + 0.5);

	if (t >= 3600)
		snprintf(buf, size, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(buf, size, "%ld:%02ld", t / 60, t % 60);
}

/* The directory this executable lives in (build/), for its sibling tools. */
static char *self_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	char *slash;

	if (n <= 0)
		return strdup(".");
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
	return strdup(buf);
}

/* ---- arguments ----------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: apiary-fuzz SPEC --db FILE [--time DURATION] [--jobs N]\n"
		"                   [--engine afl|libfuzzer] [--seeds DIR|PCAP]... [--resume]\n"
		"                   [--work DIR] [--no-counters] [--no-dict] [--until-found] [--quiet]\n"
		"\n"
		"Coverage-guided campaign on a bundle: engines mutate inputs, guided by coverage\n"
		"counters counted inside the kernel; every input they keep is re-checked against\n"
		"all invariants; violations are minimized and stored in the --db store at once.\n"
		"DURATION: seconds, or with a unit (90s, 15m, 8h); none: until SIGINT/SIGTERM.\n"
		"--work: campaign directory (default FILE.fuzz/BUNDLE); --resume continues it.\n"
		"--no-counters: engines see only the outcome signature (for comparisons).\n"
		"--until-found: stop once a violation (error severity) was found and stored.\n"
		"exit status: 0 nothing found, 1 violations found (new, or known and not waived,\n"
		"seen again), 2 spec, build, usage or\n"
		"engine error, 3 no violation but the harness itself crashed (a bug).\n"
		"SIGINT/SIGTERM stop cleanly with the same statuses; the campaign is resumable.\n");
}

static int parse_args(struct campaign *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "time", required_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "engine", required_argument, NULL, 'e' },
		{ "seeds", required_argument, NULL, 's' },
		{ "resume", no_argument, NULL, 'r' },
		{ "work", required_argument, NULL, 'w' },
		{ "no-counters", no_argument, NULL, 'C' },
		{ "no-dict", no_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "until-found", no_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int o;

	c->argv0 = argv[0];
	c->jobs = 1;
	while ((o = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (o) {
		case 'd': c->db = optarg; break;
		case 't':
			c->time_s = parse_duration(optarg);
			if (c->time_s <= 0) {
				fprintf(stderr, "apiary-fuzz: --time takes a duration such as 90, 90s, 15m or 8h, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		case 'j':
			c->jobs = atoi(optarg);
			if (c->jobs < 1 || c->jobs > MAX_JOBS) {
				fprintf(stderr, "apiary-fuzz: --jobs takes 1..%d\n", MAX_JOBS);
				return -EINVAL;
			}
			break;
		case 'e':
			c->engine_given = true;
			if (!strcmp(optarg, "afl"))
				c->engine = ENGINE_AFL;
			else if (!strcmp(optarg, "libfuzzer"))
				c->engine = ENGINE_LIBFUZZER;
			else {
				fprintf(stderr, "apiary-fuzz: --engine is afl or libfuzzer\n");
				return -EINVAL;
			}
			break;
		case 's':
			if (c->nseeds == MAX_SEED_ARGS) {
				fprintf(stderr, "apiary-fuzz: at most %d --seeds\n", MAX_SEED_ARGS);
				return -EINVAL;
			}
			c->seeds[c->nseeds++] = optarg;
			break;
		case 'r': c->resume = true; break;
		case 'w': c->work = strdup(optarg); break;
		case 'C': c->no_counters = true; break;
		case 'D': c->no_dict = true; break;
		case 'q': c->quiet = true; break;
		case 'u': c->until_found = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind + 1 != argc || !c->db) {
		if (!c->db && optind < argc)
			fprintf(stderr, "apiary-fuzz: --db FILE is required (violations go there)\n");
		usage(stderr);
		return -EINVAL;
	}
	c->spec_path = argv[optind];
	return 0;
}

/* ---- the campaign directory --------------------------------------------- */

/* Work dir layout: build/ (the bundle with counters), seeds/, dict,
 * afl/ or lf/ (the engines' state), engine, checked (hashes of checked
 * candidates, one per line). */
static int prepare_work(struct campaign *c, const char *bundle, struct apiary_diags *d)
{
	char *eng_path;
	int err;

	if (!c->work && asprintf(&c->work, "%s.fuzz/%s", c->db, bundle) < 0)
		return -ENOMEM;
	eng_path = join(c->work, "engine");
	if (!eng_path)
		return -ENOMEM;
	if (exists(eng_path) && !c->resume) {
		err = apiary_error(d, NULL,
				   "campaign directory %s exists: continue it with --resume, or "
				   "remove it (or pass another --work) to start over",
				   c->work);
		goto out;
	}
	if (c->resume) {
		FILE *f = fopen(eng_path, "r");
		char name[32] = "";

		if (!f) {
			err = apiary_error(d, NULL, "--resume: no campaign in %s to continue", c->work);
			goto out;
		}
		if (!fgets(name, sizeof(name), f))
			name[0] = '\0';
		fclose(f);
		name[strcspn(name, "\n")] = '\0';
		if (c->engine_given && strcmp(name, c->engine == ENGINE_AFL ? "afl" : "libfuzzer")) {
			err = apiary_error(d, NULL, "--resume: the campaign in %s runs %s, not the "
						    "engine given",
					   c->work, name);
			goto out;
		}
		c->engine = strcmp(name, "libfuzzer") ? ENGINE_AFL : ENGINE_LIBFUZZER;
	}
	err = mkdir_p(c->work);
	if (err) {
		err = apiary_error(d, NULL, "cannot create %s: %s", c->work, strerror(-err));
		goto out;
	}
	c->build_dir = join(c->work, "build");
	if (!c->build_dir)
		err = -ENOMEM;
out:
	free(eng_path);
	return err;
}

static int write_engine_file(struct campaign *c)
{
	char *p = join(c->work, "engine");
	FILE *f = p ? fopen(p, "w") : NULL;

	free(p);
	if (!f)
		return -errno;
	fprintf(f, "%s\n", c->engine == ENGINE_AFL ? "afl" : "libfuzzer");
	return fclose(f) ? -errno : 0;
}

/* Hashes of candidates checked by earlier sessions (kill -9 included: a
 * candidate is listed only after its violations were stored). */
static int load_checked(struct campaign *c)
{
	char *p = join(c->work, "checked"), line[64];
	FILE *f;
	int err = 0;

	if (!p)
		return -ENOMEM;
	f = fopen(p, "r");
	while (f && fgets(line, sizeof(line), f)) {
		uint64_t h = strtoull(line, NULL, 16);

		if (h && (err = hset_add(&c->checked, h)))
			break;
		c->resumed_checked++;
	}
	if (f)
		fclose(f);
	c->checked_log = fopen(p, "a");
	free(p);
	if (!c->checked_log)
		return -errno;
	return err;
}

/* ---- the initial corpus -------------------------------------------------- */

/* AFL's hit-count classes: 1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+. */
static uint8_t bucket_bit(uint8_t n)
{
	return n >= 128 ? 0x80 : n >= 32 ? 0x40 : n >= 16 ? 0x20 : n >= 8 ? 0x10
	       : n >= 4 ? 0x08 : n == 3 ? 0x04 : n == 2 ? 0x02 : n ? 0x01 : 0;
}

/*
 * Corpus minimization by in-kernel coverage (afl-cmin's idea): keep a z3
 * seed only if it reaches a counter, or a hit-count class of one, that the
 * seeds before it did not. Engines then spend their first minutes on
 * inputs that differ inside the programs. Returns the seeds kept.
 */
static size_t cmin(struct campaign *c, struct fz_inputs *l)
{
	static uint8_t enc[APIARY_INPUT_MAX_EVENTS * (APIARY_INPUT_MAX_FRAME + 3) + 4];
	uint8_t *classes = calloc(1, c->map_size ? c->map_size : 1);
	size_t kept = 0;

	if (!classes)
		return l->n;
	for (size_t i = 0; i < l->n; i++) {
		struct apiary_exec_result res;
		long n = apiary_input_encode(&l->v[i], enc, sizeof(enc));
		bool fresh = n < 0;

		if (n >= 0 && !apiary_harness_exec(c->tgt.harness, enc, (size_t)n, c->map,
						   c->map_size, &res)) {
			for (size_t k = 0; k < c->map_size; k++) {
				uint8_t b = bucket_bit(c->map[k]);

				if (b & ~classes[k]) {
					classes[k] |= b;
					fresh = true;
				}
			}
		} else {
			fresh = true; /* cannot tell: keep it */
		}
		if (fresh)
			l->v[kept++] = l->v[i];
	}
	free(classes);
	l->n = kept;
	return kept;
}

static int write_seeds(struct campaign *c, const char *dir, struct apiary_diags *d)
{
	struct fz_inputs l = { 0 };
	static uint8_t buf[APIARY_INPUT_MAX_EVENTS * (APIARY_INPUT_MAX_FRAME + 3) + 4];
	size_t nz3;
	int err;

	err = fz_seeds_z3(c->bctx.spec, &l, d);
	if (!err)
		cmin(c, &l);
	nz3 = l.n;
	for (size_t i = 0; !err && i < c->nseeds; i++)
		err = fz_seeds_path(c->seeds[i], &l, d);
	if (!err && !l.n) {
		/* nothing to start from: one empty Ethernet frame */
		uint8_t eth[14] = { 0 };

		err = fz_inputs_add_frame(&l, APIARY_HOOK_XDP, eth, sizeof(eth));
	}
	err = err ?: mkdir_p(dir);
	for (size_t i = 0; !err && i < l.n; i++) {
		long n = apiary_input_encode(&l.v[i], buf, sizeof(buf));
		char name[64], *p;
		FILE *f;

		if (n < 0) {
			err = (int)n;
			break;
		}
		snprintf(name, sizeof(name), "%s-%04zu", i < nz3 ? "z3" : "seed", i);
		p = join(dir, name);
		f = p ? fopen(p, "wb") : NULL;
		if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n)
			err = apiary_error(d, NULL, "cannot write seed %s: %s", p ? p : name,
					   strerror(errno));
		if (f && fclose(f) && !err)
			err = -errno;
		free(p);
	}
	if (!err && !c->quiet)
		printf("initial corpus: %zu inputs (%zu from z3, kept for new in-kernel coverage; "
		       "%zu from --seeds)\n",
		       l.n, nz3, l.n - nz3);
	fz_inputs_free(&l);
	return err;
}

/* ---- engines -------------------------------------------------------------- */

/* fork + exec with its output in a log file; the child dies with us (so a
 * SIGKILL of the campaign does not leave engines running). */
static int spawn(struct engine *e, char *const argv[], char *const envp[])
{
	int fd = open(e->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	pid_t parent = getpid();
	pid_t pid;

	if (fd < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(fd);
		return -errno;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		setpgid(0, 0); /* a terminal's ^C goes to us; we stop the engines */
		if (null >= 0)
			dup2(null, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(fd);
	e->pid = pid;
	e->running = true;
	return 0;
}

/* environ plus extra "K=V" entries (the extras win). */
static char **make_env(char **extra, size_t nextra)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	env = calloc(n + nextra + 1, sizeof(*env));
	if (!env)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		bool overridden = false;
		const char *eq = strchr(environ[i], '=');
		size_t kl = eq ? (size_t)(eq - environ[i]) : strlen(environ[i]);

		for (size_t j = 0; j < nextra; j++)
			if (!strncmp(extra[j], environ[i], kl) && extra[j][kl] == '=')
				overridden = true;
		if (!overridden)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < nextra; j++)
		env[k++] = extra[j];
	return env;
}

static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *found = NULL;

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	copy = strdup(path);
	for (char *t = copy ? strtok_r(copy, ":", &save) : NULL; t && !found;
	     t = strtok_r(NULL, ":", &save)) {
		char *p = join(t, name);

		if (p && !access(p, X_OK))
			found = p;
		else
			free(p);
	}
	free(copy);
	return found;
}

static int start_engines(struct campaign *c, const char *seeds, const char *dict,
			 struct apiary_diags *d)
{
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	char *out = join(c->work, c->engine == ENGINE_AFL ? "afl" : "lf");
	char *corpus = NULL, *crashes = NULL;
	char tbuf[32], mapsz[48];
	int err = 0;

	if (!out)
		return -ENOMEM;
	if (ncpu < 1)
		ncpu = 1;
	snprintf(mapsz, sizeof(mapsz), "AFL_MAP_SIZE=%zu", c->map_size < 64 ? 64 : c->map_size);
	if (c->engine == ENGINE_LIBFUZZER) {
		corpus = join(out, "corpus");
		crashes = join(out, "crashes/");
		if (!corpus || !crashes) {
			err = -ENOMEM;
			goto out;
		}
		mkdir_p(corpus);
		mkdir_p(crashes);
	}
	for (int j = 0; j < c->jobs && !err; j++) {
		struct engine *e = &c->eng[c->neng];
		char cpu[16], *argv[40], *extra[16], **envp, *inst = NULL, *dictarg = NULL;
		char *timearg = NULL, *artarg = NULL, *spec_env = NULL, *build_env = NULL,
		     *cpu_env = NULL, *stats_env = NULL;
		size_t na = 0, ne = 0;
		bool resume_inst = false;

		snprintf(cpu, sizeof(cpu), "%d", j % ncpu);
		if (c->engine == ENGINE_AFL)
			snprintf(e->name, sizeof(e->name), j ? "s%d" : "main", j);
		else
			snprintf(e->name, sizeof(e->name), "lf%d", j);
		if (asprintf(&e->log, "%s/%s.log", c->work, e->name) < 0 ||
		    asprintf(&e->stats, "%s/%s.execs", c->work, e->name) < 0 ||
		    asprintf(&stats_env, "APIARY_FUZZ_STATS=%s", e->stats) < 0) {
			err = -ENOMEM;
			break;
		}
		extra[ne++] = stats_env;
		unlink(e->stats); /* counts are per session */
		if (c->engine == ENGINE_AFL) {
			inst = join(out, e->name);
			resume_inst = c->resume && inst && exists(inst);
			extra[ne++] = "AFL_NO_UI=1";
			extra[ne++] = "AFL_SKIP_CPUFREQ=1";
			extra[ne++] = "AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1";
			extra[ne++] = "AFL_DISABLE_TRIM=1";
			extra[ne++] = "AFL_FAST_CAL=1";
			extra[ne++] = "AFL_QUIET=1";
			extra[ne++] = "AFL_IGNORE_PROBLEMS=1";
			extra[ne++] = mapsz;
			if (resume_inst)
				extra[ne++] = "AFL_AUTORESUME=1";
			argv[na++] = c->afl_fuzz;
			argv[na++] = "-i";
			argv[na++] = resume_inst ? "-" : (char *)seeds;
			argv[na++] = "-o";
			argv[na++] = out;
			argv[na++] = j ? "-S" : "-M";
			argv[na++] = e->name;
			/* afl-fuzz on its target's CPU: the per-execution round trip
			 * stays on one core (measured: 21k execs/s bound, 7.5k
			 * floating, on 2 cores) */
			argv[na++] = "-b";
			argv[na++] = cpu;
			if (!j)
				argv[na++] = "-D"; /* main: deterministic stages, dictionary at every offset */
			if (dict) {
				argv[na++] = "-x";
				argv[na++] = (char *)dict;
			}
			if (c->time_s > 0) {
				snprintf(tbuf, sizeof(tbuf), "%.0f", c->time_s + 5);
				argv[na++] = "-V";
				argv[na++] = tbuf;
			}
			argv[na++] = "--";
			argv[na++] = c->target;
			argv[na++] = "--bundle";
			argv[na++] = (char *)c->spec_path;
			argv[na++] = c->build_dir;
			argv[na++] = "--cpu";
			argv[na++] = cpu;
			if (c->no_counters)
				argv[na++] = "--no-counters";
		} else {
			if (asprintf(&spec_env, "APIARY_FUZZ_SPEC=%s", c->spec_path) < 0 ||
			    asprintf(&build_env, "APIARY_FUZZ_BUILD=%s", c->build_dir) < 0 ||
			    asprintf(&cpu_env, "APIARY_FUZZ_CPU=%s", cpu) < 0 ||
			    asprintf(&artarg, "-artifact_prefix=%s", crashes) < 0 ||
			    (dict && asprintf(&dictarg, "-dict=%s", dict) < 0) ||
			    asprintf(&timearg, "-max_total_time=%.0f",
				     c->time_s > 0 ? c->time_s + 5 : 0) < 0) {
				err = -ENOMEM;
				break;
			}
			extra[ne++] = spec_env;
			extra[ne++] = build_env;
			extra[ne++] = cpu_env;
			if (c->no_counters)
				extra[ne++] = "APIARY_FUZZ_NO_COUNTERS=1";
			argv[na++] = c->target;
			argv[na++] = artarg;
			argv[na++] = timearg;
			if (dictarg)
				argv[na++] = dictarg;
			argv[na++] = "-reload=1";
			argv[na++] = "-timeout=10";
			argv[na++] = "-rss_limit_mb=0";
			argv[na++] = "-print_final_stats=1";
			argv[na++] = "-print_pcs=0";
			/* counters as seen / not seen: with hit-count classes a
			 * sequence that repeats an event "covers" more, so the
			 * corpus fills with repeats (~2 test runs per execution
			 * against ~1 without on one program, and slower to the
			 * deep condition; fuzz/README.md) */
			argv[na++] = "-use_counters=0";
			argv[na++] = corpus;
			if (!c->resume)
				argv[na++] = (char *)seeds;
		}
		argv[na] = NULL;
		envp = make_env(extra, ne);
		err = envp ? spawn(e, argv, envp) : -ENOMEM;
		if (err)
			apiary_error(d, NULL, "cannot start %s: %s", argv[0], strerror(-err));
		else
			c->neng++;
		free(envp);
		free(inst);
		free(dictarg);
		free(timearg);
		free(artarg);
		free(spec_env);
		free(build_env);
		free(cpu_env);
		free(stats_env);
	}
out:
	free(out);
	free(corpus);
	free(crashes);
	return err;
}

/* Reap engines that exited; returns how many still run. */
static int reap(struct campaign *c)
{
	int running = 0;

	for (int i = 0; i < c->neng; i++) {
		struct engine *e = &c->eng[i];
		int st;

		if (e->running && waitpid(e->pid, &st, WNOHANG) == e->pid) {
			e->running = false;
			e->status = st;
			e->exited_early = !c->stopping;
		}
		running += e->running;
	}
	return running;
}

/* SIGINT to every engine (both save their state on it), SIGKILL after a
 * grace period. */
static void stop_engines(struct campaign *c)
{
	double until = now_s() + 15;

	c->stopping = true;
	for (int i = 0; i < c->neng; i++)
		if (c->eng[i].running)
			kill(c->eng[i].pid, SIGINT);
	while (reap(c) && now_s() < until)
		usleep(50 * 1000);
	for (int i = 0; i < c->neng; i++) {
		if (c->eng[i].running) {
			kill(c->eng[i].pid, SIGKILL);
			waitpid(c->eng[i].pid, &c->eng[i].status, 0);
			c->eng[i].running = false;
		}
	}
}

/* The last lines of an engine's log, to explain why it stopped. */
static void print_log_tail(const struct engine *e, int lines)
{
	FILE *f = fopen(e->log, "r");
	char buf[16384];
	size_t n;
	long size;
	int seen = 0;
	char *p;

	if (!f)
		return;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fseek(f, size > (long)sizeof(buf) - 1 ? size - (long)sizeof(buf) + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	for (p = buf + n; p > buf; p--)
		if (*p == '\n' && ++seen > lines)
			break;
	fprintf(stderr, "--- last lines of %s ---\n%s\n", e->log, p);
}

/* ---- engine statistics ---------------------------------------------------- */

/* One statistic (enum apiary_fuzz_stat) summed over the engines: the
 * targets count in a shared file each (the engines' own statistics are
 * written too rarely for a live line). */
static uint64_t stat_sum(struct campaign *c, int which)
{
	uint64_t total = 0;

	for (int i = 0; i < c->neng; i++) {
		struct engine *e = &c->eng[i];

		if (!e->counter) {
			int fd = open(e->stats, O_RDONLY | O_CLOEXEC);
			void *p;

			if (fd < 0)
				continue;
			p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);
			close(fd);
			if (p == MAP_FAILED)
				continue;
			e->counter = p;
		}
		total += e->counter[which];
	}
	return total;
}

static uint64_t exec_count(struct campaign *c)
{
	return stat_sum(c, APIARY_FUZZ_STAT_EXECS);
}

static void progress(struct campaign *c, bool final)
{
	char el[32], left[32], cov[64];
	double t = elapsed(c);

	if (!final && t - c->last_progress < (c->tty ? 1.0 : 10.0))
		return;
	{
		uint64_t n = exec_count(c);

		if (t > c->last_progress && n >= c->execs)
			c->execs_per_s = (double)(n - c->execs) / (t - c->last_progress);
		c->execs = n;
	}
	c->last_progress = t;
	fmt_time(t, el, sizeof(el));
	if (c->time_s > 0)
		fmt_time(c->time_s > t ? c->time_s - t : 0, left, sizeof(left));
	else
		snprintf(left, sizeof(left), "until stopped");
	if (c->ncounters)
		snprintf(cov, sizeof(cov), "%zu/%zu counters (%.0f%%)", c->covered, c->ncounters,
			 100.0 * (double)c->covered / (double)c->ncounters);
	else
		snprintf(cov, sizeof(cov), "outcome signature only");
	fprintf(stderr, "%s[fuzz] %.0f execs/s | cov %s | queue %zu | violations %zu",
		c->tty && !final ? "\r" : "", c->execs_per_s, cov, c->queue, c->errors_found);
	if (c->harness_bugs)
		fprintf(stderr, " | harness bugs %zu", c->harness_bugs);
	fprintf(stderr, " | %s elapsed, %s left%s", el, left, c->tty && !final ? "   " : "\n");
	fflush(stderr);
}

/* ---- checking candidates ---------------------------------------------------- */

/* Checker callback: keep a copy; handled after the check returns (the
 * minimizer runs the checker again). */
static int collect(void *arg, const struct apiary_violation *v)
{
	struct campaign *c = arg;

	if (c->ncollected == c->capcollected) {
		size_t cap = c->capcollected ? c->capcollected * 2 : 8;
		struct apiary_violation *n = realloc(c->collected, cap * sizeof(*n));

		if (!n)
			return 1;
		c->collected = n;
		c->capcollected = cap;
	}
	if (apiary_violation_copy(&c->collected[c->ncollected], v))
		return 1;
	c->ncollected++;
	return 0;
}

static void drop_collected(struct campaign *c)
{
	for (size_t i = 0; i < c->ncollected; i++)
		apiary_violation_free(&c->collected[i]);
	c->ncollected = 0;
}

/* The full invariant check of one input, from the state every input
 * starts from. Violations land in c->collected. */
static int check_one(struct campaign *c, const struct apiary_input *in)
{
	struct apiary_check_opts o = { .sz = sizeof(o), .spec_path = c->spec_path,
				       .argv0 = c->check_cmd, .on_violation = collect, .arg = c,
				       .only = in };
	struct apiary_check_stats st;
	struct apiary_diags d;
	int err;

	drop_collected(c);
	apiary_diags_init(&d);
	err = apiary_rt_exec_reset(c->tgt.exec);
	err = err ?: apiary_check_run(c->bctx.spec, c->bctx.build, c->bctx.rt, &o, &st, &d);
	apiary_rt_exec_forget(c->tgt.exec);
	if (err) {
		/* mostly frames the kernel will not run at tc (IPv4/IPv6
		 * shorter than the IP header): such a candidate cannot be
		 * checked; say so once, count the rest */
		if (!c->check_failures++ && !c->quiet) {
			fprintf(stderr, "%sapiary-fuzz: a candidate could not be checked (counted "
					"from now on, not an error of the campaign):\n",
				c->tty ? "\n" : "");
			apiary_diags_print(&d, stderr);
		}
	}
	apiary_diags_free(&d);
	return err;
}

/* Does `in` still show the violation with this dedup key? If so, *out
 * (freed first) becomes that violation. */
static bool still_violates(struct campaign *c, const struct apiary_input *in, const char *key,
			   struct apiary_violation *out)
{
	if (check_one(c, in))
		return false;
	for (size_t i = 0; i < c->ncollected; i++) {
		if (c->collected[i].dedup_key && !strcmp(c->collected[i].dedup_key, key)) {
			apiary_violation_free(out);
			*out = c->collected[i];
			c->collected[i] = c->collected[--c->ncollected];
			return true;
		}
	}
	return false;
}

/*
 * Fewest events, then fewest bytes, keeping the invariant and dedup key:
 * drop events one at a time, then cut each frame's tail in halving steps.
 * Bounded in checks and time; *v is replaced by the smallest violation.
 */
static void minimize(struct campaign *c, struct apiary_violation *v)
{
	static struct apiary_input best, cand;
	char *key = strdup(v->dedup_key ? v->dedup_key : "");
	double until = now_s() + MIN_SECONDS;
	int checks = 0;

	if (!key)
		return;
	best = v->input;
	for (size_t i = best.nevents; i-- > 0 && best.nevents > 1;) {
		if (checks++ > MIN_CHECKS || now_s() > until)
			break;
		cand = best;
		memmove(&cand.events[i], &cand.events[i + 1],
			(cand.nevents - i - 1) * sizeof(cand.events[0]));
		cand.nevents--;
		if (cand.update_at != APIARY_INPUT_NO_UPDATE && cand.update_at > i)
			cand.update_at--;
		if (still_violates(c, &cand, key, v))
			best = v->input;
	}
	for (size_t i = 0; i < best.nevents; i++) {
		for (uint16_t cut = best.events[i].len / 2; cut > 0;) {
			if (checks++ > MIN_CHECKS || now_s() > until)
				break;
			if (best.events[i].len - cut < 14) {
				cut = (uint16_t)(best.events[i].len - 14);
				if (!cut)
					break;
			}
			cand = best;
			cand.events[i].len = (uint16_t)(cand.events[i].len - cut);
			if (still_violates(c, &cand, key, v))
				best = v->input;
			else
				cut /= 2;
		}
	}
	drop_collected(c);
	free(key);
}

/* Index of a known dedup key, or -1. */
static long key_find(const struct campaign *c, const char *key)
{
	for (size_t i = 0; i < c->nkeys; i++)
		if (!strcmp(c->keys[i], key))
			return (long)i;
	return -1;
}

static int key_add(struct campaign *c, const char *key, bool waived)
{
	char **n = realloc(c->keys, (c->nkeys + 1) * sizeof(*n));
	bool *w;

	if (!n)
		return -ENOMEM;
	c->keys = n;
	w = realloc(c->waived, (c->nkeys + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	c->waived = w;
	c->keys[c->nkeys] = strdup(key);
	if (!c->keys[c->nkeys])
		return -ENOMEM;
	c->waived[c->nkeys++] = waived;
	return 0;
}

/* A violation seen before (this campaign or the store): counted, and
 * linked to this run in the store (no new row, no minimization). */
static int known_violation(struct campaign *c, const struct apiary_violation *v, long k)
{
	c->occurrences++;
	if (v->severity == APIARY_VS_ERROR && !c->waived[k])
		c->known_errors++;
	if (c->store && apiary_store_add_violation(c->store, c->run_id, v, NULL, NULL)) {
		fprintf(stderr, "apiary-fuzz: storing an occurrence failed: %s\n",
			apiary_store_errmsg(c->store));
		return -EIO;
	}
	return 0;
}

/* A new violation: minimize, store (committed before we go on), print. */
static int new_violation(struct campaign *c, struct apiary_violation *v)
{
	size_t before = 0;
	int err = 0;

	for (size_t i = 0; i < v->input.nevents; i++)
		before += v->input.events[i].len;
	minimize(c, v);
	if (c->store) {
		char note[600];

		err = apiary_store_add_violation(c->store, c->run_id, v, NULL, NULL);
		snprintf(note, sizeof(note), "violation %s (minimized)", v->dedup_key);
		err = err ?: apiary_store_add_input(c->store, c->campaign_id, &v->input, note);
		if (err) {
			fprintf(stderr, "apiary-fuzz: storing the violation failed: %s\n",
				apiary_store_errmsg(c->store));
			return err;
		}
	}
	if (v->severity == APIARY_VS_ERROR)
		c->errors_found++;
	else
		c->infos_found++;
	err = key_add(c, v->dedup_key, false);
	if (!c->quiet) {
		size_t after = 0;

		for (size_t i = 0; i < v->input.nevents; i++)
			after += v->input.events[i].len;
		if (c->tty)
			fprintf(stderr, "\n");
		apiary_violation_print(v, c->errors_found + c->infos_found, stdout);
		printf("  found after %.1fs, minimized to %zu event(s), %zu frame bytes (from %zu)\n",
		       elapsed(c), v->input.nevents, after, before);
		fflush(stdout);
	}
	return err;
}

/* Record a candidate as checked (after its violations are stored). */
static void mark_checked(struct campaign *c, uint64_t h)
{
	hset_add(&c->checked, h);
	if (c->checked_log) {
		fprintf(c->checked_log, "%016llx\n", (unsigned long long)h);
		fflush(c->checked_log);
	}
}

/* The counters a candidate reaches, as the engines saw them, into the
 * campaign's coverage. */
static void account(struct campaign *c, const uint8_t *buf, size_t n)
{
	struct apiary_exec_result res;

	if (apiary_harness_exec(c->tgt.harness, buf, n, c->map, c->map_size, &res))
		return;
	for (size_t i = 0; i < c->ncounters; i++) {
		if (c->map[i] && !c->seen[i]) {
			c->seen[i] = 1;
			c->covered++;
		}
	}
}

/* One file an engine kept: coverage accounting, full check, violations;
 * a crash is also a harness bug. */
static int candidate(struct campaign *c, const char *path, bool crash)
{
	static uint8_t buf[MAX_CANDIDATE];
	static struct apiary_input in;
	uint64_t h;
	size_t n;
	FILE *f;
	int err;

	if (hset_has(&c->names, hash_bytes((const uint8_t *)path, strlen(path))))
		return 0;
	f = fopen(path, "rb");
	if (!f)
		return 0; /* AFL renames files while syncing: seen again next scan */
	n = fread(buf, 1, sizeof(buf), f);
	fclose(f);
	hset_add(&c->names, hash_bytes((const uint8_t *)path, strlen(path)));
	/* a crash is remembered apart from the same bytes kept in a queue */
	h = hash_bytes(buf, n) ^ (crash ? 0x6372617368000000ULL : 0);
	if (!crash)
		c->queue++;
	if (apiary_input_decode(buf, n, &in)) {
		if (crash && !hset_has(&c->checked, h)) {
			/* the target runs nothing for these: crashing on one is a
			 * harness bug all the more; the store keeps decoded inputs
			 * only, so the file stays where the engine put it */
			c->harness_bugs++;
			fprintf(stderr, "%sapiary-fuzz: HARNESS BUG: the fuzzing target crashed on %s, "
					"which is not an Apiary input (kept there, not stored)\n",
				c->tty ? "\n" : "", path);
		}
		mark_checked(c, h);
		return 0;
	}
	if (hset_has(&c->checked, h)) {
		/* checked by an earlier session: only its coverage counts */
		account(c, buf, n);
		return 0;
	}
	if (crash) {
		c->harness_bugs++;
		fprintf(stderr, "%sapiary-fuzz: HARNESS BUG: the fuzzing target crashed on %s "
				"(not an invariant violation; replay it with %s --bundle %s %s < FILE)\n",
			c->tty ? "\n" : "", path, c->target, c->spec_path, c->build_dir);
		if (c->store)
			apiary_store_add_input(c->store, c->campaign_id, &in,
					       "harness bug: the fuzzing target crashed on this input");
	}
	account(c, buf, n);
	err = 0;
	if (check_one(c, &in)) {
		mark_checked(c, h);
		return 0;
	}
	{
		/* the minimizer reuses c->collected: take this check's list */
		struct apiary_violation *list = c->collected;
		size_t nlist = c->ncollected;

		c->collected = NULL;
		c->ncollected = c->capcollected = 0;
		for (size_t i = 0; i < nlist; i++) {
			long k = list[i].dedup_key ? key_find(c, list[i].dedup_key) : -1;

			if (!err && list[i].dedup_key && k < 0)
				err = new_violation(c, &list[i]);
			else if (!err && k >= 0)
				err = known_violation(c, &list[i], k);
			apiary_violation_free(&list[i]);
		}
		free(list);
	}
	drop_collected(c);
	if (!err)
		mark_checked(c, h);
	return err;
}

/* Every entry of dir whose name starts with prefix. */
static int scan_dir(struct campaign *c, const char *dir, const char *prefix, bool crash)
{
	struct dirent **names = NULL;
	int n = scandir(dir, &names, NULL, alphasort), err = 0;

	for (int i = 0; i < n; i++) {
		if (!err && !stop_signal && !strncmp(names[i]->d_name, prefix, strlen(prefix))) {
			char *p = join(dir, names[i]->d_name);

			if (p)
				err = candidate(c, p, crash);
			free(p);
		}
		free(names[i]);
		progress(c, false);
	}
	free(names);
	return err;
}

static int scan(struct campaign *c)
{
	int err = 0;

	if (c->engine == ENGINE_AFL) {
		for (int i = 0; i < c->neng && !err; i++) {
			char *q = NULL, *k = NULL;

			if (asprintf(&q, "%s/afl/%s/queue", c->work, c->eng[i].name) >= 0 &&
			    asprintf(&k, "%s/afl/%s/crashes", c->work, c->eng[i].name) >= 0) {
				err = scan_dir(c, q, "id:", false);
				err = err ?: scan_dir(c, k, "id:", true);
			}
			free(q);
			free(k);
		}
	} else {
		char *q = NULL, *k = NULL;

		if (asprintf(&q, "%s/lf/corpus", c->work) >= 0 &&
		    asprintf(&k, "%s/lf/crashes", c->work) >= 0) {
			err = scan_dir(c, q, "", false);
			err = err ?: scan_dir(c, k, "crash-", true);
			err = err ?: scan_dir(c, k, "oom-", true);
		}
		free(q);
		free(k);
	}
	return err;
}

/* ---- setup ------------------------------------------------------------------ */

/* Which enforcers the engines see through counters, which only through
 * the outcome signature. */
static void print_signals(const struct campaign *c)
{
	const struct apiary_spec *s = c->bctx.spec;
	uint32_t side = apiary_rt_exec_counters(c->tgt.exec, -1, 0);

	printf("coverage feedback (%s):\n",
	       c->no_counters ? "counters switched off: outcome signature only" : "per program");
	printf("  %-28s %s", "sidecar (classifier, dispatch)", "");
	if (side)
		printf("%u in-kernel counters\n", side);
	else
		printf("outcome signature\n");
	for (size_t i = 0; i < c->bctx.build->nprogs; i++) {
		const struct apiary_build_prog *p = &c->bctx.build->progs[i];
		uint32_t n = apiary_rt_exec_counters(c->tgt.exec, p->enforcer, p->vslot);
		char who[128];

		snprintf(who, sizeof(who), "%s v%u (team %s)", s->enforcers[p->enforcer].name.s,
			 p->version, s->enforcers[p->enforcer].team.s ? s->enforcers[p->enforcer].team.s : "?");
		if (n)
			printf("  %-28s %u in-kernel counters%s\n", who, n,
			       c->no_counters ? " (not copied)" : "");
		else
			printf("  %-28s %s: outcome signature (verdicts, trace, rewrites)\n", who,
			       p->opaque ? "prebuilt object, no counters" : "no counters");
	}
	printf("  orderings the inputs choose from: %zu; engine map %zu bytes\n",
	       apiary_rt_exec_norderings(c->tgt.exec), c->map_size);
}

static int open_store(struct campaign *c, struct apiary_diags *d)
{
	const struct apiary_spec *s = c->bctx.spec;
	const struct apiary_build *b = c->bctx.build;
	struct apiary_stored_violation *sv = NULL;
	struct apiary_store_filter f = { .sz = sizeof(f), .bundle = s->bundle.s,
					 .include_waived = true };
	size_t n = 0;
	int err;

	err = apiary_store_open(c->db, &c->store, d);
	if (err)
		return err;
	err = apiary_store_begin_run(c->store, s->bundle.s, s->version, b->bundle_hash_hex,
				     s->text, &c->run_id);
	for (size_t i = 0; !err && i < b->nprogs; i++) {
		char *hex = apiary_hex(b->progs[i].hash, sizeof(b->progs[i].hash));

		err = hex ? apiary_store_add_object(c->store, b->bundle_hash_hex,
						    b->progs[i].object_path, hex)
			  : -ENOMEM;
		free(hex);
	}
	err = err ?: apiary_store_begin_campaign(c->store, c->run_id,
						 c->engine == ENGINE_AFL ? "afl++" : "libfuzzer",
						 &c->campaign_id);
	/* known violations are not minimized and stored again */
	err = err ?: apiary_store_list_violations(c->store, &f, &sv, &n);
	for (size_t i = 0; !err && i < n; i++)
		if (sv[i].v.dedup_key)
			err = key_add(c, sv[i].v.dedup_key, sv[i].status == APIARY_VSTATUS_WAIVED);
	apiary_stored_violations_free(sv, n);
	if (err)
		return apiary_error(d, NULL, "cannot record the campaign in %s: %s", c->db,
				    apiary_store_errmsg(c->store));
	return 0;
}

int main(int argc, char **argv)
{
	struct campaign c = { 0 };
	struct apiary_diags d;
	struct apiary_fuzz_target_opts to = { .sz = sizeof(to) };
	struct apiary_bundle_opts bopts = { .sz = sizeof(bopts) };
	struct sigaction sa;
	char *seeds = NULL, *dict = NULL, *dir;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int status = EXIT_ERROR, err;
	bool begun = false;
	size_t ntokens = 0;

	err = parse_args(&c, argc, argv);
	if (err)
		return err > 0 ? EXIT_CLEAN : EXIT_ERROR;
	apiary_diags_init(&d);
	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	c.tty = isatty(STDERR_FILENO);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	dir = self_dir();
	if (!dir || asprintf(&c.check_cmd, "%s/apiary-check", dir) < 0 ||
	    asprintf(&c.target, "%s/fuzz/%s", dir,
		     c.engine == ENGINE_AFL ? "apiary-fuzz-afl" : "apiary-fuzz-libfuzzer") < 0) {
		err = -ENOMEM;
		goto out;
	}

	/* the spec first, for the bundle name and the work directory */
	{
		struct apiary_spec *probe = NULL;

		err = apiary_spec_load(c.spec_path, &probe, &d);
		if (!err)
			err = prepare_work(&c, probe->bundle.s, &d);
		apiary_spec_free(probe);
		if (err)
			goto out;
	}
	if (c.resume) { /* the engine may come from the campaign directory */
		free(c.target);
		if (asprintf(&c.target, "%s/fuzz/%s", dir,
			     c.engine == ENGINE_AFL ? "apiary-fuzz-afl" : "apiary-fuzz-libfuzzer") < 0) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (access(c.target, X_OK)) {
		err = apiary_error(&d, NULL, "the fuzzing target %s is missing (was apiary built "
					     "with %s available?)",
				   c.target, c.engine == ENGINE_AFL ? "AFL++" : "libFuzzer");
		goto out;
	}
	if (c.engine == ENGINE_AFL && !(c.afl_fuzz = find_in_path("afl-fuzz"))) {
		err = apiary_error(&d, NULL, "afl-fuzz is not on PATH (install AFL++ or use "
					     "--engine libfuzzer)");
		goto out;
	}

	/* the bundle with counters; this process checks on the last CPU the
	 * engines do not use */
	if (ncpu < 1)
		ncpu = 1;
	bopts.out_dir = c.build_dir;
	bopts.coverage = true;
	bopts.cpu = c.jobs % ncpu;
	bopts.progress = c.quiet ? NULL : stdout;
	err = apiary_bundle_open(c.spec_path, &bopts, &c.bctx, &d);
	if (err)
		goto out;
	to.cpu = c.jobs % ncpu;
	to.no_counters = c.no_counters;
	err = apiary_fuzz_target_attach(c.bctx.spec, c.bctx.build, &to, &c.tgt, &d);
	if (err)
		goto out;
	if (c.engine == ENGINE_LIBFUZZER) {
		/* the build whose counters section fits the bundle most closely:
		 * libFuzzer walks all of it after every run */
		size_t need = apiary_harness_map_size(c.tgt.harness);

		for (size_t kib = 1; kib <= 4; kib *= 4) {
			char *small = NULL;

			if (need > kib * 1024)
				continue;
			if (asprintf(&small, "%s/fuzz/apiary-fuzz-libfuzzer-%zuk", dir, kib) < 0) {
				err = -ENOMEM;
				goto out;
			}
			if (!access(small, X_OK)) {
				free(c.target);
				c.target = small;
				break;
			}
			free(small);
		}
	}
	/* the target's own rt is not the one bctx loaded: free that one, use
	 * the target's for checking too (one loaded copy of the bundle) */
	apiary_rt_free(c.bctx.rt);
	c.bctx.rt = c.tgt.rt;
	c.map_size = apiary_harness_map_size(c.tgt.harness);
	c.ncounters = apiary_harness_ncounters(c.tgt.harness);
	c.map = calloc(1, c.map_size ? c.map_size : 1);
	c.seen = calloc(1, c.ncounters ? c.ncounters : 1);
	if (!c.map || !c.seen) {
		err = -ENOMEM;
		goto out;
	}
	if (!c.quiet)
		print_signals(&c);

	err = open_store(&c, &d);
	if (err)
		goto out;
	begun = true;
	err = load_checked(&c);
	if (err) {
		apiary_error(&d, NULL, "cannot open the campaign's list of checked inputs in %s",
			     c.work);
		goto out;
	}

	seeds = join(c.work, "seeds");
	dict = join(c.work, "dict");
	if (!seeds || !dict) {
		err = -ENOMEM;
		goto out;
	}
	if (!c.resume || !exists(seeds)) {
		err = write_seeds(&c, seeds, &d);
		if (err)
			goto out;
	}
	err = fz_dict_write(c.bctx.spec, c.bctx.build, dict, &ntokens, &d);
	if (err)
		goto out;
	if (!c.quiet)
		printf("dictionary: %zu tokens (spec constants, the programs' comparison values)%s\n",
		       ntokens, c.no_dict ? ", not used (--no-dict)" : "");
	err = write_engine_file(&c);
	if (err) {
		apiary_error(&d, NULL, "cannot write to %s: %s", c.work, strerror(-err));
		goto out;
	}
	if (!c.quiet) {
		printf("%s %s: %d instance(s) of %s, campaign directory %s\n",
		       c.resume ? "resuming" : "starting", c.bctx.spec->bundle.s, c.jobs,
		       c.engine == ENGINE_AFL ? "AFL++" : "libFuzzer", c.work);
		fflush(stdout);
	}
	clock_gettime(CLOCK_MONOTONIC, &c.t0);
	err = start_engines(&c, seeds, c.no_dict || !ntokens ? NULL : dict, &d);
	if (err)
		goto out;

	/* the campaign: watch, check, report, until time, a signal, or the
	 * engines stop */
	while (!stop_signal) {
		int running = reap(&c);

		err = scan(&c);
		if (err)
			break;
		progress(&c, false);
		if (!running)
			break;
		if (c.time_s > 0 && elapsed(&c) >= c.time_s)
			break;
		if (c.until_found && c.errors_found)
			break;
		usleep(200 * 1000);
	}
	stop_engines(&c);
	if (!err) {
		int saved = stop_signal;

		stop_signal = 0; /* the last candidates are checked even after ^C */
		err = scan(&c);
		stop_signal = saved;
	}
	progress(&c, true);
	for (int i = 0; i < c.neng; i++) {
		const struct engine *e = &c.eng[i];

		/* an engine that failed on its own (not stopped by us) is an error */
		if (e->exited_early && (c.time_s <= 0 || elapsed(&c) < 0.9 * c.time_s) &&
		    (!WIFEXITED(e->status) || WEXITSTATUS(e->status) != 0)) {
			err = apiary_error(&d, NULL, "engine %s stopped on its own (status %d)",
					   e->name, WIFEXITED(e->status) ? WEXITSTATUS(e->status)
									 : 128 + WTERMSIG(e->status));
			print_log_tail(e, 15);
		}
	}
	if (err)
		goto out;
	if (!c.quiet) {
		printf("\ncampaign %s: %s after %.0fs; %llu executions (%.0f/s on average), %zu "
		       "inputs kept and checked, coverage %zu/%zu counters\n",
		       c.bctx.spec->bundle.s,
		       stop_signal ? (stop_signal == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM")
				   : "finished",
		       elapsed(&c), (unsigned long long)c.execs,
		       elapsed(&c) > 0 ? (double)c.execs / elapsed(&c) : 0.0, c.queue, c.covered,
		       c.ncounters);
		if (c.execs) {
			uint64_t runs = stat_sum(&c, APIARY_FUZZ_STAT_RUNS);

			printf("cost: %.2f test runs per execution (%.0f/s), %.3f map reads per "
			       "execution, %llu empty hops left out\n",
			       (double)runs / (double)c.execs,
			       elapsed(&c) > 0 ? (double)runs / elapsed(&c) : 0.0,
			       (double)stat_sum(&c, APIARY_FUZZ_STAT_MAP_READS) / (double)c.execs,
			       (unsigned long long)stat_sum(&c, APIARY_FUZZ_STAT_SKIPPED));
		}
		printf("result: %zu new violation(s), %zu info, %zu occurrence(s) of known ones "
		       "(%zu unwaived errors), %zu harness bug(s)%s\n",
		       c.errors_found, c.infos_found, c.occurrences, c.known_errors,
		       c.harness_bugs, c.store ? "; stored in the --db store" : "");
		if (c.resumed_checked)
			printf("resumed: %zu inputs were checked by earlier sessions and not again\n",
			       c.resumed_checked);
		if (c.check_failures)
			printf("%zu candidate(s) could not be checked (the kernel refuses to run "
			       "them at tc: frames shorter than their IP header)\n",
			       c.check_failures);
	}
	status = c.errors_found || c.known_errors ? EXIT_VIOLATIONS
		 : c.harness_bugs			? EXIT_HARNESS_BUG
							: EXIT_CLEAN;
out:
	if (c.neng)
		stop_engines(&c);
	if (begun) {
		enum apiary_run_result r = status == EXIT_ERROR	     ? APIARY_RUN_ERROR
					   : status == EXIT_VIOLATIONS ? APIARY_RUN_VIOLATIONS
								       : APIARY_RUN_CLEAN;

		apiary_store_finish_campaign(c.store, c.campaign_id, c.execs);
		apiary_store_finish_run(c.store, c.run_id, r);
	}
	apiary_diags_print(&d, stderr);
	apiary_diags_free(&d);
	if (c.checked_log)
		fclose(c.checked_log);
	drop_collected(&c);
	free(c.collected);
	for (size_t i = 0; i < c.nkeys; i++)
		free(c.keys[i]);
	free(c.keys);
	free(c.waived);
	/* the target owns the loaded bundle bctx points at */
	c.bctx.rt = NULL;
	apiary_fuzz_target_close(&c.tgt);
	apiary_bundle_close(&c.bctx);
	apiary_store_close(c.store);
	for (int i = 0; i < c.neng; i++) {
		free(c.eng[i].log);
		free(c.eng[i].stats);
		if (c.eng[i].counter)
			munmap((void *)c.eng[i].counter, 4096);
	}
	free(c.names.v);
	free(c.checked.v);
	free(c.map);
	free(c.seen);
	free(c.work);
	free(c.build_dir);
	free(c.check_cmd);
	free(c.target);
	free(c.afl_fuzz);
	free(seeds);
	free(dict);
	free(dir);
	return status;
}
