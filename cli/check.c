// SPDX-License-Identifier: MIT
/*
 * apiary-check SPEC: the CI gate. Parse, compile, verifier-load, explore
 * orderings on z3-generated inputs, evaluate invariants.
 * Exit 0 clean, 1 violations found, 2 spec/build/usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apiary/check.h"
#include "apiary/compiler.h"
#include "apiary/packet.h"
#include "apiary/runtime.h"
#include "apiary/spec.h"
#include "apiary/store.h"
#include "common.h"

#define EXIT_CLEAN 0
#define EXIT_VIOLATIONS 1
#define EXIT_ERROR 2

struct cli {
	const char *spec_path;
	const char *db;
	const char *html;
	const char *sarif;
	const char *junit;
	const char *replay;
	const char *out_dir;
	const char *update;
	double budget;
	bool quiet;
	const char *argv0;

	struct apiary_check_output out;
	size_t printed;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: apiary-check SPEC [--db FILE] [--html FILE] [--sarif FILE] [--junit FILE]\n"
		"                    [--budget SECONDS] [--replay HEX|ID] [--out DIR] [--quiet]\n"
		"                    [--update NEW.spec]\n"
		"\n"
		"Compiles the bundle, loads it into the kernel, runs every allowed ordering of its\n"
		"enforcers on z3-generated inputs and checks the invariants. --update: the enforcers\n"
		"of NEW.spec whose version differs become updates of the bundle (flow-consistent,\n"
		"migrations, the invariants again after the flip).\n"
		"exit status: 0 clean, 1 violations found, 2 spec, build or usage error\n");
}

/*
 * A violation, as soon as it is found: into the store first (committed), then
 * on stdout, so everything a user has seen printed survives a kill -9.
 */
static int on_violation(void *arg, const struct apiary_violation *v)
{
	struct cli *cli = arg;
	int err;

	err = apiary_check_output_add(&cli->out, v);
	if (err)
		fprintf(stderr, "apiary-check: recording the violation failed: %s\n",
			strerror(-err));
	cli->printed++;
	if (!cli->quiet)
		apiary_violation_print(v, cli->printed, stdout);
	fflush(stdout);
	return 0;
}

/*
 * --replay takes the hex input printed with a violation, or the id of a
 * stored violation (with --db).
 */
static int replay_input(const struct cli *cli, struct apiary_input *in, struct apiary_diags *d)
{
	struct apiary_store_opts so = {.sz = sizeof(so), .read_only = true};
	struct apiary_store_filter f = {.sz = sizeof(f), .include_waived = true};
	struct apiary_stored_violation *sv = NULL;
	struct apiary_store *st = NULL;
	size_t n = 0, digits = strspn(cli->replay, "0123456789");
	long long id;
	int err;

	if (digits != strlen(cli->replay) || digits > 12) {
		if (!apiary_input_from_hex(cli->replay, in))
			return 0;
		return apiary_error(d, NULL, "--replay takes the hex input printed with a violation "
					     "(it starts with 4101) or a stored violation's id");
	}
	if (!cli->db)
		return apiary_error(d, NULL, "--replay %s: a violation id needs --db FILE",
				    cli->replay);
	id = atoll(cli->replay);
	err = apiary_store_open_opts(cli->db, &so, &st, d);
	err = err ?: apiary_store_list_violations(st, &f, &sv, &n);
	if (!err) {
		err = apiary_error(d, NULL, "--replay %lld: no violation with that id in %s", id,
				   cli->db);
		for (size_t i = 0; i < n; i++)
			if (sv[i].id == id) {
				*in = sv[i].v.input;
				err = 0;
				break;
			}
	} else if (st) {
		apiary_error(d, NULL, "cannot read %s: %s", cli->db, apiary_store_errmsg(st));
	}
	apiary_stored_violations_free(sv, n);
	apiary_store_close(st);
	return err;
}

static int parse_args(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"db", required_argument, NULL, 'd'},
		{"html", required_argument, NULL, 'H'},
		{"sarif", required_argument, NULL, 's'},
		{"junit", required_argument, NULL, 'j'},
		{"budget", required_argument, NULL, 'b'},
		{"replay", required_argument, NULL, 'r'},
		{"out", required_argument, NULL, 'o'},
		{"quiet", no_argument, NULL, 'q'},
		{"update", required_argument, NULL, 'u'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	cli->argv0 = argv[0];
	while ((c = getopt_long(argc, argv, "hq", opts, NULL)) != -1) {
		switch (c) {
		case 'd': cli->db = optarg; break;
		case 'H': cli->html = optarg; break;
		case 's': cli->sarif = optarg; break;
		case 'j': cli->junit = optarg; break;
		case 'r': cli->replay = optarg; break;
		case 'o': cli->out_dir = optarg; break;
		case 'u': cli->update = optarg; break;
		case 'q': cli->quiet = true; break;
		case 'b': {
			char *end;

			cli->budget = strtod(optarg, &end);
			if (*end || cli->budget <= 0) {
				fprintf(stderr, "apiary-check: --budget needs a positive number of seconds, got '%s'\n",
					optarg);
				return -EINVAL;
			}
			break;
		}
		case 'h': usage(stdout); exit(EXIT_CLEAN);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind + 1 != argc) {
		usage(stderr);
		return -EINVAL;
	}
	cli->spec_path = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	struct cli cli = {0};
	struct apiary_diags diags;
	struct apiary_bundle_ctx bctx = {0};
	struct apiary_bundle_opts bopts = {.sz = sizeof(bopts), .cpu = -1};
	struct apiary_check_opts copts = {.sz = sizeof(copts)};
	struct apiary_check_stats stats;
	struct apiary_input replay_in;
	char *update_arg = NULL;
	size_t errors = 0;
	bool begun = false, finished = false;
	int err, status = EXIT_ERROR;

	if (parse_args(&cli, argc, argv))
		return EXIT_ERROR;
	apiary_diags_init(&diags);
	apiary_check_output_init(&cli.out);

	if (cli.replay && replay_input(&cli, &replay_in, &diags))
		goto out;

	bopts.out_dir = cli.out_dir;
	bopts.update_path = cli.update;
	bopts.progress = stderr;
	err = apiary_bundle_open(cli.spec_path, &bopts, &bctx, &diags);
	if (err)
		goto out;
	err = apiary_check_output_begin(&cli.out, bctx.spec, bctx.build, cli.db, &diags);
	if (err)
		goto out;
	begun = true;

	copts.budget_s = cli.budget;
	copts.spec_path = cli.spec_path;
	if (cli.update) {
		/* the replay command needs the update too */
		size_t need = strlen(cli.spec_path) + strlen(cli.update) + 16;

		update_arg = malloc(need);
		if (!update_arg)
			goto out;
		snprintf(update_arg, need, "%s --update %s", cli.spec_path, cli.update);
		copts.spec_path = update_arg;
	}
	copts.argv0 = cli.argv0;
	copts.on_violation = on_violation;
	copts.arg = &cli;
	copts.progress = isatty(STDERR_FILENO) ? stderr : NULL;
	copts.only = cli.replay ? &replay_in : NULL;
	err = apiary_check_run(bctx.spec, bctx.build, bctx.rt, &copts, &stats, &diags);
	if (err)
		goto out;

	errors = stats.errors;
	apiary_check_stats_print(&stats, bctx.spec, stdout);
	status = errors ? EXIT_VIOLATIONS : EXIT_CLEAN;
	finished = true;
	err = apiary_check_output_finish(&cli.out, status, cli.html, cli.sarif, cli.junit,
					 &diags);
	if (err)
		status = EXIT_ERROR;
out:
	/* a run that failed midway is recorded as such: never left "running" */
	if (begun && !finished)
		apiary_check_output_finish(&cli.out, EXIT_ERROR, NULL, NULL, NULL, &diags);
	apiary_diags_print(&diags, stderr);
	apiary_check_output_free(&cli.out);
	apiary_bundle_close(&bctx);
	apiary_diags_free(&diags);
	free(update_arg);
	return status;
}
