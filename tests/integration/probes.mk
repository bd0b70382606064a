# tests/integration/probes.mk - small static test programs run inside the
# sandbox by the integration suites (test_pid1.py, test_harden.py... find them in
# $(BUILD_DIR)/probes/).  Static musl, so they run under any user and in
# images without a libc.  Include from the top Makefile.
PROBE_SRC := $(wildcard tests/integration/probes/*.c)
PROBES := $(PROBE_SRC:tests/integration/probes/%.c=$(B)/probes/%)

$(B)/probes/%: tests/integration/probes/%.c | $(DEPS_BUILD_STAMP)
	@mkdir -p $(@D)
	$(MUSL_CC) -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static \
	    $(DEPS_CFLAGS) \
	    -o $@ $<

probes: $(PROBES)
.PHONY: probes

# The suites that use them must never find them missing.
integration integration-asan: probes
