// SPDX-License-Identifier: MIT
/*
 * A target for afl_link_faults.sh: the AFL++ link (fuzz/afl_link.c) with a
 * body that misbehaves on purpose. First byte 'C': abort() (a crash), 'H':
 * sleep far past afl-fuzz's timeout (a hang), anything else: one map byte
 * per first-byte value, so AFL has coverage to follow.
 */
#include <stdlib.h>
#include <unistd.h>

#include "afl_link.h"

__attribute__((used)) static const char afl_persistent_sig[] = "##SIG_AFL_PERSISTENT##";

int main(void)
{
	struct afl_link link;

	if (!afl_link_wanted() || afl_link_start(256, &link))
		return 2;
	while (afl_link_next()) {
		uint8_t first = *link.case_len ? link.case_buf[0] : 0;

		if (first == 'C')
			abort();
		if (first == 'H')
			sleep(30);
		link.map[0] = 1;
		link.map[first] = 1;
		afl_link_done();
	}
	return 0;
}
