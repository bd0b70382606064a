# tools/bench/bench.mk - the benchmark binary and its targets; included
# from the top Makefile after the rules it relies on (B, CC, HOST_CFLAGS
# and the $(B)/obj/host/%.o pattern rule).
#
#   make bench         build and run every suite: $(B)/bench/results.json,
#                      table.md and SVG plots (BENCH_QUICK=1: ~1 minute;
#                      see tools/bench/run for the other knobs)
#   make bench-check   quick run; fails only when a ratio to its same-run
#                      baseline got much worse, and again when re-measured
#   make bench-readme  copy the last run's table and plots into README.md
#   make bench-selftest  the Python side (report, readme-table, check) on a
#                      synthetic results.json: no runner, no timing
#
# Nothing here is part of `make test`: timings are never test assertions.

BENCH_SRC := $(wildcard tools/bench/*.c)
BENCH_OBJ := $(BENCH_SRC:%.c=$(B)/obj/host/%.o) \
             $(B)/obj/host/tools/runnerctl/client.o \
             $(B)/obj/host/protocol/wire.o

$(B)/runner-bench: $(BENCH_OBJ)
	$(CC) -pie -o $@ $^ -lm

# `bench: all` and its recipe (tools/bench/run) are in the top Makefile;
# this adds the binary the recipe runs.
bench: $(B)/runner-bench

bench-check: all $(B)/runner-bench
	BUILD_DIR=$(B) tools/bench/check

bench-readme:
	BUILD_DIR=$(B) tools/bench/readme-table

bench-selftest:
	python3 tools/bench/test_scripts.py

clean: clean-bench
clean-bench:
	rm -f $(B)/runner-bench

.PHONY: bench-check bench-readme bench-selftest clean-bench
