// SPDX-License-Identifier: MIT
/*
 * The IR transformation between clang and object emission (see irpass.h).
 * Written against the LLVM-C API so it stays in C with the rest of Apiary.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/BitReader.h>
#include <llvm-c/BitWriter.h>
#include <llvm-c/Core.h>
#include <llvm-c/IRReader.h>

#include "apiary/coverage.h"
#include "irpass.h"

/* libbpf's section names for the program types Apiary chains: XDP ("xdp",
 * "xdp.frags", "xdp/...") and sched_cls ("tc", "classifier", "action"). */
bool apiary_irpass_section_fits(const char *sec, enum apiary_hook hook)
{
	static const char *const xdp[] = { "xdp", NULL };
	static const char *const tc[] = { "tc", "classifier", "action", NULL };
	const char *const *names = hook == APIARY_HOOK_XDP ? xdp : tc;

	if (!sec || hook <= APIARY_HOOK_NONE || hook >= APIARY_HOOK__COUNT)
		return false;
	for (; *names; names++) {
		size_t n = strlen(*names);

		if (strncmp(sec, *names, n) == 0 &&
		    (sec[n] == '\0' || sec[n] == '/' || sec[n] == '.'))
			return true;
	}
	return false;
}

static bool starts_with(const char *s, const char *prefix)
{
	return prefix && *prefix && strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The single defined function in a section of the hook's type, not one of
 * ours; NULL with a message otherwise. */
static LLVMValueRef find_entry_by_section(LLVMModuleRef m, const struct apiary_irpass_opts *o,
					  struct apiary_diags *d)
{
	LLVMValueRef found = NULL;
	int n = 0;
	char names[512] = "";

	for (LLVMValueRef fn = LLVMGetFirstFunction(m); fn; fn = LLVMGetNextFunction(fn)) {
		size_t len;
		const char *name = LLVMGetValueName2(fn, &len);
		const char *sec = LLVMGetSection(fn);

		if (LLVMIsDeclaration(fn) || starts_with(name, o->skip_prefix))
			continue;
		if (!apiary_irpass_section_fits(sec, o->hook))
			continue;
		found = fn;
		n++;
		if (strlen(names) + len + 3 < sizeof(names)) {
			strcat(names, n > 1 ? ", " : "");
			strcat(names, name);
		}
	}
	if (n == 1)
		return found;
	if (n == 0)
		apiary_error(d, NULL,
			     "%s: the source has no program in a section for %s (SEC(\"%s\")); "
			     "name the entry with `program \"...\"`",
			     o->who, apiary_hook_name(o->hook),
			     o->hook == APIARY_HOOK_XDP ? "xdp" : "tc");
	else
		apiary_error(d, NULL,
			     "%s: the source has %d programs for %s (%s); say which one is the "
			     "entry with `program \"...\"`",
			     o->who, n, apiary_hook_name(o->hook), names);
	return NULL;
}

/* In-kernel coverage (coverage.h): sancov's counters become one array in a
 * data section user space can mmap. A module compiled without the flags
 * is left alone. */
static int cov_pass(LLVMModuleRef m, const struct apiary_irpass_opts *o, struct apiary_diags *d)
{
	struct apiary_cov_info info;
	int err = apiary_cov_transform(m, &info, d);

	if (err)
		apiary_error(d, NULL, "%s: the coverage pass failed", o->who);
	return err;
}

int apiary_irpass_module(LLVMModuleRef m, const struct apiary_irpass_opts *o, char **entry_out,
			 struct apiary_diags *d)
{
	LLVMValueRef entry;
	size_t len;
	const char *name;

	if (entry_out)
		*entry_out = NULL;
	if (o->coverage_only)
		return cov_pass(m, o, d);

	if (o->entry) {
		entry = LLVMGetNamedFunction(m, o->entry);
		if (!entry || LLVMIsDeclaration(entry)) {
			apiary_error(d, NULL, "%s: no function named '%s' in the source (the spec's "
					      "`program`)",
				     o->who, o->entry);
			return -ENOENT;
		}
	} else {
		entry = find_entry_by_section(m, o, d);
		if (!entry)
			return -ENOENT;
	}

	/* The move itself: a static subprogram of whoever calls it. */
	LLVMSetSection(entry, ".text");
	LLVMSetLinkage(entry, LLVMInternalLinkage);
	LLVMSetVisibility(entry, LLVMDefaultVisibility);

	/* Bind the wrapper's placeholder declaration to the entry found. */
	if (o->placeholder) {
		LLVMValueRef ph = LLVMGetNamedFunction(m, o->placeholder);

		if (ph && ph != entry && LLVMIsDeclaration(ph)) {
			LLVMValueRef repl = entry;

			if (LLVMTypeOf(ph) != LLVMTypeOf(entry))
				repl = LLVMConstBitCast(entry, LLVMTypeOf(ph));
			LLVMReplaceAllUsesWith(ph, repl);
			LLVMDeleteFunction(ph);
		}
	}

	/* Counters last: the wrapper and the moved entry are both instrumented
	 * and end up in the one array of this object. */
	if (o->coverage) {
		int err = cov_pass(m, o, d);

		if (err)
			return err;
	}

	name = LLVMGetValueName2(entry, &len);
	if (entry_out) {
		*entry_out = strndup(name, len);
		if (!*entry_out)
			return -ENOMEM;
	}
	return 0;
}

/* The BPF backend writes a function's BTF linkage from its debug info
 * (DISubprogram "local to unit"), not from the IR linkage: without this the
 * moved entry stays a *global* BPF function, which the verifier checks on
 * its own with only BTF-typed arguments (a `void *ctx` entry would be
 * refused). LLVM-C cannot set that flag, so the module goes through its
 * textual form: add DISPFlagLocalToUnit to the entry's DISubprogram and
 * parse the text back. No debug info: nothing to do. */
int apiary_irpass_static_debug(LLVMModuleRef *mp, const char *entry, const char *who,
			       struct apiary_diags *d)
{
	static const char flag[] = "DISPFlagLocalToUnit | ";
	LLVMContextRef ctx = LLVMGetModuleContext(*mp);
	LLVMMemoryBufferRef buf;
	LLVMModuleRef m2 = NULL;
	char *text, *edited, *line, *sp, *msg = NULL, needle[300];
	size_t len, at;
	int changed = 0;

	if (snprintf(needle, sizeof(needle), "!DISubprogram(name: \"%s\",", entry) >=
	    (int)sizeof(needle))
		return apiary_error(d, NULL, "%s: entry name too long", who);
	text = LLVMPrintModuleToString(*mp);
	len = strlen(text);
	edited = malloc(len + sizeof(flag));
	if (!edited) {
		LLVMDisposeMessage(text);
		return -ENOMEM;
	}
	for (line = text; (line = strstr(line, needle)); line += strlen(needle)) {
		char *eol = strchr(line, '\n');

		sp = strstr(line, "spFlags: DISPFlagDefinition");
		if (!sp || (eol && sp > eol))
			continue;
		at = (size_t)(sp - text) + strlen("spFlags: ");
		memcpy(edited, text, at);
		memcpy(edited + at, flag, sizeof(flag) - 1);
		memcpy(edited + at + sizeof(flag) - 1, text + at, len - at + 1);
		changed = 1;
		break;
	}
	LLVMDisposeMessage(text);
	if (!changed) {
		free(edited);
		return 0;
	}
	buf = LLVMCreateMemoryBufferWithMemoryRangeCopy(edited, strlen(edited), "apiary-ir");
	free(edited);
	/* LLVMParseIRInContext takes buf, even on failure. */
	if (LLVMParseIRInContext(ctx, buf, &m2, &msg)) {
		int err = apiary_error(d, NULL, "%s: re-reading the transformed IR failed: %s",
				       who, msg ? msg : "?");

		LLVMDisposeMessage(msg);
		return err;
	}
	LLVMDisposeModule(*mp);
	*mp = m2;
	return 0;
}

int apiary_irpass_file(const char *in_path, const char *out_path,
		       const struct apiary_irpass_opts *o, char **entry_out, struct apiary_diags *d)
{
	LLVMContextRef ctx = LLVMContextCreate();
	LLVMMemoryBufferRef buf = NULL;
	LLVMModuleRef m = NULL;
	char *msg = NULL, *entry = NULL;
	int err = 0;

	if (LLVMCreateMemoryBufferWithContentsOfFile(in_path, &buf, &msg)) {
		err = apiary_error(d, NULL, "%s: cannot read %s: %s", o->who, in_path,
				   msg ? msg : "?");
		goto out;
	}
	/* Parsing copies what it needs: buf stays ours. */
	if (LLVMParseBitcodeInContext2(ctx, buf, &m)) {
		err = apiary_error(d, NULL, "%s: %s is not LLVM bitcode", o->who, in_path);
		goto out;
	}
	err = apiary_irpass_module(m, o, &entry, d);
	if (!err && entry)
		err = apiary_irpass_static_debug(&m, entry, o->who, d);
	if (err)
		goto out;
	if (LLVMWriteBitcodeToFile(m, out_path)) {
		err = apiary_error(d, NULL, "%s: cannot write %s", o->who, out_path);
		goto out;
	}
	if (entry_out) {
		*entry_out = entry;
		entry = NULL;
	}
out:
	free(entry);
	if (msg)
		LLVMDisposeMessage(msg);
	if (m)
		LLVMDisposeModule(m);
	if (buf)
		LLVMDisposeMemoryBuffer(buf);
	LLVMContextDispose(ctx);
	return err;
}
