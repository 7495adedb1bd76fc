# duet - build with `make`; `make check` runs every test suite.
CC      ?= cc
PKGS    := libuv jansson libsodium libcrypto sqlite3 hiredis zlib libcurl
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lhttp_parser -lwslay -lm

# `make SAN=1` builds into build-asan with ASan and UBSan.
ifeq ($(SAN),1)
BUILD   ?= build-asan
CFLAGS  += -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

SRCS      := $(wildcard src/base/*.c src/net/*.c src/store/*.c src/hub/*.c src/app/*.c src/cql/*.c \
                       src/outbound/*.c src/push/*.c src/s3/*.c src/blob/*.c)
SRCS      += $(wildcard src/store/sqlite/*.c src/store/cassandra/*.c)
OBJS      := $(SRCS:%.c=$(BUILD)/%.o)
MAIN_OBJ  := $(BUILD)/src/main.o
UNIT_SRCS := $(wildcard tests/unit/*.c)
UNIT_BIN  := $(BUILD)/unit-tests

.PHONY: all clean unit check format
all: $(BUILD)/duetd $(BUILD)/push-selftest $(BUILD)/s3-selftest

$(BUILD)/duetd: $(OBJS) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(UNIT_BIN): $(OBJS) $(UNIT_SRCS:%.c=$(BUILD)/%.o)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

# Under SAN=1 the tests run with ASan and UBSan. Criterion's runner leaks
# a block or two at exit (tests/unit/lsan.supp); a suppression matches any
# frame of an allocation's stack, and every test runs below Criterion's
# frames, so stacks are cut to the allocating function
# (malloc_context_size=2): only what libcriterion allocates itself is
# suppressed. Run build-asan/unit-tests without it for full stacks.
UNIT_SAN_ENV = $(SAN_ENV) LSAN_OPTIONS=suppressions=$(abspath tests/unit/lsan.supp):malloc_context_size=2
unit: $(UNIT_BIN)
	$(if $(filter 1,$(SAN)),$(UNIT_SAN_ENV)) $(UNIT_BIN)

# push-selftest sends one Web Push with src/push and src/outbound, for
# tests/integration/40-push-crypto.test.mjs (the Node push service checks it).
$(BUILD)/push-selftest: $(OBJS) $(BUILD)/tests/push/push_selftest.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# s3-selftest drives src/s3 against a real S3 server (S3Proxy), one
# operation per run, for tests/s3/60-s3-client.test.mjs.
$(BUILD)/s3-selftest: $(OBJS) $(BUILD)/tests/s3/s3_selftest.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- duet-bench (bench/): load generator speaking duet's protocol ---------
# BENCHMARKS.md says how to run it; `make bench-smoke` is a tiny run of every
# scenario against a fresh duetd that checks exactly-once delivery (no
# timings asserted).
BENCH_SRCS := $(wildcard bench/*.c)
BENCH_OBJS := $(BENCH_SRCS:%.c=$(BUILD)/%.o)

.PHONY: bench bench-smoke
bench: $(BUILD)/duet-bench

$(BUILD)/duet-bench: $(BENCH_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

bench-smoke: $(BUILD)/duetd $(BUILD)/duet-bench
	DUETD=$(abspath $(BUILD)/duetd) BENCH=$(abspath $(BUILD)/duet-bench) bench/smoke.sh

# --- the CQL driver (src/cql) on its own: its unit tests linked against
# src/cql and src/base only, and a smoke test against a running Cassandra
# node (`make cql-live CQL_HOSTS=127.0.0.1`; tests/cql/cql_smoke.c).
CQL_OBJS     := $(patsubst %.c,$(BUILD)/%.o,$(wildcard src/cql/*.c src/base/*.c))
CQL_UNIT_BIN := $(BUILD)/cql-unit-tests
CQL_SMOKE    := $(BUILD)/cql-smoke
CQL_HOSTS    ?= 127.0.0.1

.PHONY: cql-unit cql-live
$(CQL_UNIT_BIN): $(CQL_OBJS) $(BUILD)/tests/unit/test_cql_codec.o \
                 $(BUILD)/tests/unit/test_cql_decode.o $(BUILD)/tests/unit/test_cql_decode_misc.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcriterion

cql-unit: $(CQL_UNIT_BIN)
	$(CQL_UNIT_BIN)

$(CQL_SMOKE): $(CQL_OBJS) $(BUILD)/tests/cql/cql_smoke.o $(BUILD)/tests/cql/cql_smoke_checks.o
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

cql-live: $(CQL_SMOKE)
	$(if $(filter 1,$(SAN)),$(SAN_ENV)) $(CQL_SMOKE) $(CQL_HOSTS)

# --- integration tests (tests/integration, node --test) ---------------------
# `make check`: the unit tests, then the integration suite against build/duetd
# and again against the ASan+UBSan build (build-asan/duetd). Needs node 18+ and
# npm; scripts/install-test-deps.sh installs everything on Debian 12.
INTEG_DIR   := tests/integration
INTEG_TESTS  = $(sort $(wildcard $(INTEG_DIR)/*.test.mjs))
# --test-concurrency exists from Node 20; Debian 12's Node 18 picks its own.
NODE_CONC   := $(shell node -e 'process.stdout.write(+process.versions.node.split(".")[0] >= 20 ? "--test-concurrency=$$N" : "")' 2>/dev/null)
NODE_TEST   ?= node --test $(subst $$N,2,$(NODE_CONC)) --test-reporter=spec
SAN_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: test-integration
$(INTEG_DIR)/node_modules:
	cd $(INTEG_DIR) && npm ci --no-audit --no-fund

# `make test-integration` (or `make SAN=1 test-integration`) runs the suite
# against $(BUILD)/duetd.
test-integration: $(BUILD)/duetd $(BUILD)/push-selftest | $(INTEG_DIR)/node_modules
	DUETD=$(abspath $(BUILD)/duetd) $(if $(filter 1,$(SAN)),$(SAN_ENV)) $(NODE_TEST) $(INTEG_TESTS)

# `make test-valgrind` runs the suite against $(BUILD)/duetd under valgrind
# memcheck (lib/server.mjs starts each duetd under DUET_TEST_WRAPPER, scales
# its timeouts, and fails a test whose duetd exits 99 or printed a memcheck
# error). Slow: hours for the whole suite on 2 cores; VALGRIND_TESTS picks
# files. Not with SAN=1 (ASan and valgrind do not mix); CI runs the ASan
# build instead.
VALGRIND       ?= valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
                  --show-leak-kinds=definite,indirect --num-callers=30 -q
VALGRIND_TESTS ?= $(INTEG_TESTS)

.PHONY: test-valgrind
test-valgrind: $(BUILD)/duetd | $(INTEG_DIR)/node_modules
	DUETD=$(abspath $(BUILD)/duetd) DUET_TEST_WRAPPER="$(VALGRIND)" $(NODE_TEST) $(VALGRIND_TESTS)

# --- cluster tests (tests/cluster): redis-server, 4 duetd and nginx on
# loopback (scripts/install-cluster-deps.sh installs the first and last).
# They reuse the integration suite's helpers and node_modules.
CLUSTER_DIR   := tests/cluster
# The S3 cluster file runs under make test-s3 (it needs S3Proxy).
CLUSTER_S3     = $(wildcard $(CLUSTER_DIR)/*-media-s3.test.mjs)
CLUSTER_TESTS  = $(filter-out $(CLUSTER_S3),$(sort $(wildcard $(CLUSTER_DIR)/*.test.mjs)))

.PHONY: test-cluster
test-cluster: $(BUILD)/duetd | $(INTEG_DIR)/node_modules
	DUETD=$(abspath $(BUILD)/duetd) $(if $(filter 1,$(SAN)),$(SAN_ENV)) $(NODE_TEST) $(CLUSTER_TESTS)

# --- S3 (scripts/s3proxy.sh): media on S3-compatible storage ---------------
# `make test-s3`: starts S3Proxy (the jar from Maven Central, cached) on
# S3PROXY_ADDR with a fresh data folder in run/check-s3proxy, runs
# tests/s3 (the S3 client and duetd with --media s3) and the S3 cluster file,
# and wipes it after (also on failure). One JVM of ~300 MB.
S3_DIR        := tests/s3
S3_TESTS       = $(sort $(wildcard $(S3_DIR)/*.test.mjs)) $(CLUSTER_S3)
S3PROXY_ADDR  ?= 127.0.60.1:9060
CHECK_S3_ENV  := S3PROXY_DIR=$(abspath run/check-s3proxy) S3PROXY_ADDR=$(S3PROXY_ADDR)

.PHONY: test-s3
test-s3: $(BUILD)/duetd $(BUILD)/s3-selftest | $(INTEG_DIR)/node_modules
	scripts/s3proxy.sh fetch
	$(CHECK_S3_ENV) scripts/s3proxy.sh wipe >/dev/null
	@set -e; trap '$(CHECK_S3_ENV) scripts/s3proxy.sh wipe >/dev/null || true' EXIT; \
	    $(CHECK_S3_ENV) scripts/s3proxy.sh start; \
	    set -a; eval "$$($(CHECK_S3_ENV) scripts/s3proxy.sh env)"; set +a; \
	    DUETD=$(abspath $(BUILD)/duetd) $(if $(filter 1,$(SAN)),$(SAN_ENV)) \
	        node --test $(subst $$N,1,$(NODE_CONC)) --test-reporter=spec $(S3_TESTS)

# --- Cassandra (scripts/cassandra.sh; docs/cassandra-ops.md) ----------------
# `make test-cassandra`: the integration suite once more, every duetd on the
# Cassandra store of a running node (scripts/cassandra.sh start; another with
# CASSANDRA_HOSTS=a,b,c), a keyspace per test server. `make
# test-cassandra-cluster`: tests/cassandra, which starts its own 3-node
# cluster on 127.0.1.1-3 (run/cassandra-test-127.0.1), kills and stops nodes under
# traffic, and removes it at the end; the node on 127.0.0.1 is not touched.
CASSANDRA_HOSTS ?= 127.0.0.1
CASS_DIR        := tests/cassandra
CASS_TESTS       = $(sort $(wildcard $(CASS_DIR)/*.test.mjs))

.PHONY: test-cassandra test-cassandra-cluster
test-cassandra: $(BUILD)/duetd | $(INTEG_DIR)/node_modules
	scripts/cassandra.sh probe $(subst $(comma), ,$(CASSANDRA_HOSTS))
	scripts/cassandra.sh drop-test-keyspaces $(firstword $(subst $(comma), ,$(CASSANDRA_HOSTS)))
	DUET_TEST_BACKEND=cassandra DUET_TEST_CASSANDRA=$(CASSANDRA_HOSTS) DUETD=$(abspath $(BUILD)/duetd) \
	    $(if $(filter 1,$(SAN)),$(SAN_ENV)) $(NODE_TEST) $(INTEG_TESTS)

# `make check` runs the suite on a node of its own: 127.0.4.1, data in
# run/check-cassandra, started before and wiped after (also on failure), so it
# needs nothing running and never touches a developer's node on 127.0.0.1.
CHECK_CASS_ENV := CASSANDRA_DIR=$(abspath run/check-cassandra) CASSANDRA_NET=127.0.4

.PHONY: test-cassandra-own
test-cassandra-own: $(BUILD)/duetd | $(INTEG_DIR)/node_modules
	scripts/cassandra.sh fetch
	$(CHECK_CASS_ENV) scripts/cassandra.sh wipe >/dev/null
	@set -e; trap '$(CHECK_CASS_ENV) scripts/cassandra.sh wipe >/dev/null || true' EXIT; \
	    $(CHECK_CASS_ENV) scripts/cassandra.sh start; \
	    $(MAKE) test-cassandra CASSANDRA_HOSTS=127.0.4.1

test-cassandra-cluster: $(BUILD)/duetd | $(INTEG_DIR)/node_modules
	scripts/cassandra.sh fetch
	DUETD=$(abspath $(BUILD)/duetd) $(if $(filter 1,$(SAN)),$(SAN_ENV)) \
	    node --test $(subst $$N,1,$(NODE_CONC)) --test-reporter=spec $(CASS_TESTS)

comma := ,

# --- browser tests (tests/browser): the web client in Debian's Chromium,
# driven by playwright-core (scripts/install-browser-deps.sh installs it).
# They reuse the integration suite's helpers (and its node_modules for ws).
BROWSER_DIR   := tests/browser
BROWSER_TESTS  = $(sort $(wildcard $(BROWSER_DIR)/*.test.mjs))

.PHONY: test-browser
$(BROWSER_DIR)/node_modules:
	cd $(BROWSER_DIR) && npm ci --no-audit --no-fund

test-browser: $(BUILD)/duetd | $(INTEG_DIR)/node_modules $(BROWSER_DIR)/node_modules
	DUETD=$(abspath $(BUILD)/duetd) node --test $(subst $$N,1,$(NODE_CONC)) --test-reporter=spec $(BROWSER_TESTS)

# --- fuzzing (fuzz/): libFuzzer targets built with clang, ASan and UBSan
# against the project's own sources, compiled again into build-fuzz/ with
# the same warnings. docs/fuzzing.md says how to run them for longer.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -MMD -MP \
                -g -O1 -fno-omit-frame-pointer $(FUZZ_SAN) $(shell pkg-config --cflags $(PKGS))
FUZZ_NAMES   := http ws json cookie cql snip tus range sniff media_meta s3xml
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_BUILD)/fuzz_%)
FUZZ_OBJS    := $(SRCS:%.c=$(FUZZ_BUILD)/%.o)
FUZZ_TIME    ?= 20

.PHONY: fuzz fuzz-smoke
fuzz: $(FUZZ_BINS)

$(FUZZ_BUILD)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz/%.o: fuzz/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: $(FUZZ_BUILD)/fuzz/fuzz_%.o $(FUZZ_BUILD)/fuzz/fuzz_conn.o $(FUZZ_OBJS)
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

# The CQL decoders need neither the fake conn nor the rest of the server.
$(FUZZ_BUILD)/fuzz_cql: $(FUZZ_BUILD)/fuzz/fuzz_cql.o \
        $(filter $(FUZZ_BUILD)/src/cql/% $(FUZZ_BUILD)/src/base/%,$(FUZZ_OBJS))
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

# The S3 XML scanner needs only itself.
$(FUZZ_BUILD)/fuzz_s3xml: $(FUZZ_BUILD)/fuzz/fuzz_s3xml.o $(FUZZ_BUILD)/src/s3/s3_xml.o
	$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ $(LDLIBS)

# Runs each target for FUZZ_TIME seconds on a copy of its seed corpus (the
# repository's corpus stays as it is); any crash, leak or oracle failure
# fails the run and leaves the input in build-fuzz/crash-*.
fuzz-smoke: fuzz
	@set -e; for t in $(FUZZ_NAMES); do \
	    tmp=$$(mktemp -d); cp fuzz/corpus/fuzz_$$t/* $$tmp/; \
	    echo "fuzz_$$t: $(FUZZ_TIME) s"; \
	    if ! $(FUZZ_BUILD)/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	        -dict=fuzz/fuzz_$$t.dict -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	        $$tmp >$(FUZZ_BUILD)/fuzz_$$t.log 2>&1; then \
	        tail -n 60 $(FUZZ_BUILD)/fuzz_$$t.log; rm -rf $$tmp; exit 1; fi; \
	    grep -E '^stat::number_of_executed_units' $(FUZZ_BUILD)/fuzz_$$t.log || true; \
	    rm -rf $$tmp; \
	done

# No file in src/ includes a header of a higher layer (docs/architecture.md);
# no file in web/js is over 600 lines, no function in one over 100, and
# only web/js/store.js writes the shared state.
.PHONY: check-layers
check-layers:
	scripts/check-layers.sh
	scripts/check-test-names.sh
	scripts/check-js-size.sh
	scripts/check-state-writes.sh
	$(MAKE) --no-print-directory format-check

check:
	$(MAKE) check-layers
	$(MAKE) all
	$(MAKE) unit
	$(MAKE) fuzz-smoke
	$(MAKE) test-integration
	$(MAKE) test-s3
	$(MAKE) bench-smoke
	$(MAKE) test-browser
	$(MAKE) test-cluster
	$(MAKE) SAN=1 test-integration
	$(MAKE) SAN=1 unit
	$(MAKE) test-cassandra-own
	$(MAKE) test-cassandra-cluster

# Debian 12's clang-format package provides clang-format; clang-format-14
# is the versioned binary that it points to.
CLANG_FORMAT ?= $(shell sh -c 'command -v clang-format || command -v clang-format-14')
FORMAT_SRCS   = $(sort $(SRCS) src/main.c $(UNIT_SRCS) $(wildcard src/*/*.h src/*/*/*.h \
                  fuzz/*.c fuzz/*.h tests/unit/*.h tests/push/*.c tests/s3/*.c) $(BENCH_SRCS) $(wildcard bench/*.h))

format:
	$(CLANG_FORMAT) -i $(FORMAT_SRCS)

# Fails when a C file differs from what `make format` would make of it.
.PHONY: format-check
format-check:
	@test -n "$(CLANG_FORMAT)" || { echo "format-check: clang-format is not installed" >&2; exit 1; }
	@$(CLANG_FORMAT) --dry-run --Werror $(FORMAT_SRCS) && echo "format-check: every C file is as .clang-format makes it"

clean:
	rm -rf build build-asan build-fuzz

# --- help, shellcheck, test-install (scripts/test-install.sh) -------------
# `make shellcheck`: every shell script in the repository (tracked or new,
# not ignored). `make test-install` (root, reaches the Debian mirror): the
# README's install commands in a fresh Debian 12 root made by mmdebstrap;
# under a minute with a warm apt cache. .ci/run runs both before `make check`.
SHELL_SCRIPTS = $(shell git ls-files -co --exclude-standard '*.sh' .ci/run 2>/dev/null)

.PHONY: help shellcheck test-install
shellcheck:
	shellcheck -x $(SHELL_SCRIPTS)

test-install:
	scripts/test-install.sh

help:
	@printf '%s\n' \
	  'duet - make targets (README.md, docs/architecture.md)' \
	  '  make                   build/duetd (make SAN=1: build-asan/, ASan+UBSan)' \
	  '  make check             every suite below (CI: .ci/run, which also runs' \
	  '                         shellcheck and test-install first)' \
	  '  make unit              the C unit tests (Criterion)' \
	  '  make test-integration  tests/integration against build/duetd' \
	  '  make test-browser      tests/browser in Chromium' \
	  '  make test-cluster      tests/cluster: Redis, 4 duetd, nginx on loopback' \
	  '  make test-s3           tests/s3 and the S3 cluster file against S3Proxy' \
	  '  make test-cassandra-own / test-cassandra-cluster   the Cassandra suites' \
	  '  make test-valgrind     the integration suite under valgrind (slow)' \
	  '  make fuzz-smoke        each libFuzzer target for FUZZ_TIME seconds' \
	  '  make bench-smoke       a tiny duet-bench run (BENCHMARKS.md)' \
	  '  make cql-unit          the CQL driver alone' \
	  '  make shellcheck        shellcheck over every shell script' \
	  '  make test-install      README install commands in a fresh Debian 12 root (root)' \
	  '  make format / clean' \
	  '' \
	  'One piece at a time:' \
	  "  build/unit-tests --list                     the unit suites and tests" \
	  "  build/unit-tests --filter 'net_ws*/*'      one unit file's suites" \
	  "  DUETD=\$$PWD/build/duetd node --test --test-reporter=spec tests/integration/01-http.test.mjs" \
	  "  DUETD=\$$PWD/build/duetd node --test tests/browser/NN-name.test.mjs" \
	  "  VALGRIND_TESTS=tests/integration/NN-name.test.mjs make test-valgrind" \
	  '  deploy/cluster.sh start|status|stop         the local cluster (docs/deploy.md)'

-include $(OBJS:.o=.d) $(MAIN_OBJ:.o=.d) $(UNIT_SRCS:%.c=$(BUILD)/%.d) $(BENCH_OBJS:.o=.d) \
    $(BUILD)/tests/cql/cql_smoke.d $(BUILD)/tests/cql/cql_smoke_checks.d $(BUILD)/tests/push/push_selftest.d $(BUILD)/tests/s3/s3_selftest.d
-include $(wildcard $(FUZZ_BUILD)/src/*/*.d $(FUZZ_BUILD)/src/*/*/*.d $(FUZZ_BUILD)/fuzz/*.d)
