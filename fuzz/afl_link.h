/* SPDX-License-Identifier: MIT */
/*
 * The AFL++ fork-server protocol (AFL++ 4.04c, Debian 12), spoken by the
 * harness itself: afl-fuzz talks to the process that runs the inputs, one
 * pipe round trip per execution.
 *
 * AFL++'s own runtime (afl-compiler-rt.o) puts a fork server between the
 * two: every execution is the child stopping itself (SIGSTOP), the server
 * waking in wait4(), reporting, waiting for afl-fuzz, then SIGCONT: three
 * processes and four context switches. On this machine's toy program an
 * execution took 41 us with it (24k/s) and 15 us without (65k/s).
 *
 * Here a supervisor (the process afl-fuzz started) forks one worker that
 * reads afl-fuzz's requests and answers them directly. The supervisor only
 * waits: when the worker dies in the middle of a run (a crash of the
 * harness, or afl-fuzz's SIGKILL on a timeout) it sends afl-fuzz the
 * worker's wait status, exactly what the stock fork server would have,
 * and forks a new worker. A worker that dies between runs owes nothing.
 */
#ifndef APIARY_FUZZ_AFL_LINK_H
#define APIARY_FUZZ_AFL_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct afl_link {
	uint8_t *map;		  /* afl-fuzz's coverage map (shared memory) */
	const uint32_t *case_len; /* test case in shared memory: length... */
	const uint8_t *case_buf;  /* ...and bytes */
};

/* Under afl-fuzz (its __AFL_SHM_ID is set)? */
bool afl_link_wanted(void);

/* Attach afl-fuzz's shared memory, do the handshake (reporting map_size
 * bytes of coverage and asking for test cases in shared memory), then
 * supervise workers. Returns 0 only in a worker; a negative errno when
 * the protocol cannot start (message on stderr). The supervisor never
 * returns: it exits when afl-fuzz goes away. */
int afl_link_start(size_t map_size, struct afl_link *l);

/* Worker: wait for afl-fuzz's next request and acknowledge it. false when
 * afl-fuzz has closed the pipe (the campaign is over). */
bool afl_link_next(void);

/* Worker: the run is over and the map is written; tell afl-fuzz. */
void afl_link_done(void);

#endif
