# runner - see README.md.  `make` builds, `make test` installs what is
# missing (tools/deps), builds and runs every suite.
BUILD_DIR ?= build
B := $(BUILD_DIR)
.DEFAULT_GOAL := all
include mk/deps.mk

WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 \
           -Wno-unused-parameter
HARDEN  := -fstack-protector-strong -D_FORTIFY_SOURCE=2
CSTD    := -std=c11 -D_GNU_SOURCE
OPT     ?= -O2 -g

# The runner: static musl.  musl has no _FORTIFY_SOURCE; the define is
# harmless there and effective for the gcc-built client and tests.
RUNNER_SRC := $(wildcard runner/*.c) protocol/wire.c
RUNNER_OBJ := $(RUNNER_SRC:%.c=$(B)/obj/runner/%.o)
# Size matters for a binary baked into every image (< 250 KB stripped):
# -Os, no unwind tables (C, no exceptions, no backtraces), and sections
# the linker can drop one by one.
RUNNER_OPT ?= -Os -g
RUNNER_CFLAGS := $(CSTD) $(RUNNER_OPT) $(WARN) $(HARDEN) -ffunction-sections \
                 -fdata-sections -fno-asynchronous-unwind-tables \
                 -fno-unwind-tables -fno-pie $(DEPS_CFLAGS)
# Static, not static-pie: PID 1 of a throwaway sandbox gains little from
# ASLR of its own image, and the relocation code costs size.
RUNNER_LDFLAGS := -static -no-pie -Wl,--gc-sections

# The host client: glibc gcc is fine (it may also be built static).
CLIENT_SRC := $(wildcard tools/runnerctl/*.c) protocol/wire.c
CLIENT_OBJ := $(CLIENT_SRC:%.c=$(B)/obj/host/%.o)
HOST_CFLAGS := $(CSTD) $(OPT) $(WARN) $(HARDEN) -fPIE
LIBCLIENT_SRC := tools/runnerctl/client.c protocol/wire.c

all: $(B)/runner $(B)/runnerctl $(B)/runnerctl-static

$(B)/obj/runner/%.o: %.c | $(DEPS_BUILD_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(RUNNER_CFLAGS) -MMD -MP -c $< -o $@

$(B)/runner.debug: $(RUNNER_OBJ)
	$(MUSL_CC) $(RUNNER_LDFLAGS) -o $@ $^ $(DEPS_LDLIBS)

$(B)/runner: $(B)/runner.debug
	strip -o $@ $<

$(B)/obj/host/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -MMD -MP -c $< -o $@

$(B)/runnerctl: $(CLIENT_OBJ)
	$(CC) -pie -o $@ $^

# A static runnerctl for use inside guests and minimal images.
$(B)/obj/rctl-static/%.o: %.c | $(DEPS_BUILD_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(RUNNER_CFLAGS) -MMD -MP -c $< -o $@
$(B)/runnerctl-static: $(CLIENT_SRC:%.c=$(B)/obj/rctl-static/%.o)
	$(MUSL_CC) $(RUNNER_LDFLAGS) -s -o $@ $^

# The same runner built with gcc, glibc and ASan + UBSan, for running the
# integration suite under the sanitizers (make integration-asan).  Leak
# checking is off there: LeakSanitizer needs ptrace, which our own seccomp
# filter denies; leaks are covered by the unit and fuzz targets and by the
# fd/process baselines the integration tests assert.
$(B)/runner-asan: $(RUNNER_SRC) $(wildcard runner/*.h protocol/*.h)
	$(CC) $(CSTD) -O1 -g $(WARN) -DRUNNER_DEBUG -fsanitize=address,undefined \
	    -fno-sanitize-recover=all -fno-omit-frame-pointer \
	    -o $@ $(RUNNER_SRC) -lseccomp -lcap

# And plain (no sanitizer) for valgrind: make valgrind runs the
# integration suite with the runner under memcheck (slow; not in make test).
$(B)/runner-glibc: $(RUNNER_SRC) $(wildcard runner/*.h protocol/*.h)
	$(CC) $(CSTD) -O1 -g $(WARN) -DRUNNER_DEBUG -o $@ $(RUNNER_SRC) \
	    -lseccomp -lcap

valgrind: $(B)/runner-glibc all probes
	RUNNER_BIN=$(B)/runner-glibc RUNNER_VALGRIND=1 BUILD_DIR=$(B) \
	    tests/integration/run $(VALGRIND_TESTS)

integration-asan: $(B)/runner-asan all
	ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 RUNNER_BIN=$(B)/runner-asan \
	    BUILD_DIR=$(B) tests/integration/run

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)

# ---- tests ----
include tests/tests.mk
include tools/bench/bench.mk

# ---- run: a runner as PID 1 of fresh namespaces, and a shell into it ----
run: all
	tools/run

bench: all
	tools/bench/run

fuzz: $(FUZZ_BIN)
	BUILD_DIR=$(B) tools/fuzz-run 60 $(FUZZ_BIN)

clean:
	rm -rf $(B)/obj $(B)/runner $(B)/runner.debug $(B)/runnerctl \
	       $(B)/runnerctl-static $(B)/tests $(B)/fuzz

format:
	clang-format -i runner/*.[ch] protocol/*.[ch] tools/runnerctl/*.[ch] \
	    tests/unit/*.c tests/fuzz/*.c

.PHONY: all run bench fuzz clean format integration-asan valgrind
