# dynod - one non-recursive Makefile. `make help` lists the targets.

BUILD    ?= build
CC       ?= cc
PKGS     := libzmq msgpack leveldb jansson libarchive libcrypto yaml-0.1 libwebsockets libcurl libssl
# Debian ships no leveldb.pc; scripts/pkgconfig has one for the system copy.
PKGCONF  := PKG_CONFIG_PATH=$(CURDIR)/scripts/pkgconfig:$(PKG_CONFIG_PATH) pkg-config

# pkg-config runs on first use, not when make reads this file, and once per
# make: `make up`, `make test` and `make check` install the packages with
# scripts/deps.sh before a second make compiles anything.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(call pkg_flags,--cflags))$(PKG_CFLAGS)
PKG_LIBS   = $(eval PKG_LIBS := $$(call pkg_flags,--libs))$(PKG_LIBS)
pkg_flags  = $(call pkg_ok,$(shell $(PKGCONF) $(1) $(PKGS) 2>/dev/null || echo PKG-CONFIG-FAILED))
pkg_ok     = $(if $(filter PKG-CONFIG-FAILED,$(1)),$(error pkg-config does not find \
               $(PKGS): run scripts/deps.sh as root (make test and make up do)),$(1))

CFLAGS_BASE := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Wall -Wextra \
               -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes -g -O2 -MMD -MP
ifneq ($(filter 1,$(DEVELOPER) $(CI_WERROR)),)
CFLAGS_BASE += -Werror
endif
CFLAGS   += $(CFLAGS_BASE) $(SANITIZE_FLAGS) $(PKG_CFLAGS)
# libhttp-parser (the router) ships no .pc file.
LDLIBS   += $(PKG_LIBS) -lhttp_parser -lpthread
LDFLAGS  += $(SANITIZE_FLAGS)

# Libraries every program links: the wire format and the actor runtime.
LIB_SRC    := $(wildcard messages/*.c actors/common/*.c)
# The daemon: broker, the six actors and the `dynod` front end.
DYNOD_SRC  := $(wildcard broker/*.c dynod/*.c router/*.c) \
              $(foreach a,dyno-supervisor scheduler release-keeper config-keeper log-plex,$(wildcard actors/$(a)/*.c))
CLI_SRC    := $(wildcard cli/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
BENCH_SRC  := $(wildcard bench/broker/*.c)
BENCH_REL_SRC := $(wildcard bench/releases/*.c)
BENCH_LOGS_SRC := $(wildcard bench/logs/*.c)
BENCH_DYNOS_SRC := $(wildcard bench/dynos/*.c)
# bench/router/tiny.c is the benchmark's web dyno, a program of its own.
BENCH_ROUTER_SRC := $(filter-out bench/router/tiny.c,$(wildcard bench/router/*.c))
BENCH_COMMON_SRC := $(wildcard bench/common/*.c)
# bench-hosts reuses the dynos bench's failover phase and the broker
# bench's throughput runs.
BENCH_HOSTS_SRC := $(wildcard bench/hosts/*.c) $(filter-out bench/dynos/bench_dynos.c,$(BENCH_DYNOS_SRC)) \
                   bench/broker/bench_run.c bench/broker/bench_frames.c
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)

obj = $(patsubst %.c,$(BUILD)/%.o,$(1))
LIB_OBJ    := $(call obj,$(LIB_SRC))
# dynod/main.c holds main(); the unit runner links the rest of the daemon,
# with log-plex's browser page embedded as C arrays (page/embed.sh).
LPX_PAGE      := $(sort $(wildcard actors/log-plex/page/*.html actors/log-plex/page/*.js actors/log-plex/page/*.css))
DYNOD_LIB_OBJ := $(call obj,$(filter-out dynod/main.c,$(DYNOD_SRC))) $(BUILD)/gen/lpx_page_data.o

BIN        := bin
ifeq ($(BUILD),build)
OUTBIN     := $(BIN)
else
OUTBIN     := $(BUILD)/bin
endif

.PHONY: all up test check deps-test run-tests fuzz format clean bench-broker bench-releases bench-logs bench-dynos bench-router bench-hosts help deps
all: $(OUTBIN)/dynod $(OUTBIN)/dyno

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/gen/lpx_page_data.c: $(LPX_PAGE) actors/log-plex/page/embed.sh
	@mkdir -p $(dir $@)
	sh actors/log-plex/page/embed.sh $(LPX_PAGE) >$@.tmp && mv $@.tmp $@

$(BUILD)/gen/lpx_page_data.o: $(BUILD)/gen/lpx_page_data.c
	$(CC) $(CFLAGS) -c $< -o $@

$(OUTBIN)/dynod: $(call obj,dynod/main.c) $(DYNOD_LIB_OBJ) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/dyno: $(call obj,$(CLI_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# cli/logs_lines.c (no I/O beyond a FILE) and cli/scale_grammar.c (none):
# their unit suites link them alone.
$(BUILD)/tests/unit-runner: $(call obj,$(UNIT_SRC)) $(DYNOD_LIB_OBJ) $(LIB_OBJ) $(call obj,cli/logs_lines.c cli/scale_grammar.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# A test tool the integration scripts run (test_supervisor.sh).
$(BUILD)/tests/msg-tool: $(call obj,tests/tools/msg_tool.c) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Fuzz targets built with gcc and a replay main, to run the corpus.
$(BUILD)/tests/fuzz-%: $(BUILD)/tests/fuzz/fuzz_%.o $(BUILD)/tests/fuzz/replay.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Decoders outside LIB_SRC that fuzz targets link (the Procfile parser, the
# archive checker and what it uses, log-plex's line, filter and drain URL
# code, the ps:scale grammar and the supervisor's dyno.assign planner).
ARCHIVE_SRC    := actors/release-keeper/procfile.c actors/release-keeper/archive.c \
                  actors/release-keeper/blobs.c
LOGLINE_SRC    := actors/log-plex/line.c actors/log-plex/filter.c actors/log-plex/drain_url.c
DYNOS_FUZZ_SRC := cli/scale_grammar.c actors/dyno-supervisor/assign.c
FUZZ_EXTRA_SRC := $(ARCHIVE_SRC) $(LOGLINE_SRC) $(DYNOS_FUZZ_SRC)
$(BUILD)/tests/fuzz-procfile: $(call obj,actors/release-keeper/procfile.c)
$(BUILD)/tests/fuzz-archive: $(call obj,$(ARCHIVE_SRC))
$(BUILD)/tests/fuzz-logline: $(call obj,$(LOGLINE_SRC))
$(BUILD)/tests/fuzz-dynos: $(call obj,$(DYNOS_FUZZ_SRC))
# Targets that link more of the daemon, each its own set (FUZZ_ONLY_NAME):
# the router's HTTP core without worker.c (the target is the worker).
ROUTER_FUZZ_SRC := router/proxy.c router/reply.c router/buf.c router/headers.c router/table.c \
                   router/hosts.c router/challenges.c router/logline.c router/logq.c
FUZZ_ONLY_router := $(ROUTER_FUZZ_SRC)
FUZZ_ONLY_hosts  := router/hosts.c router/certs.c router/challenges.c
# release-keeper whole (driven offline), and the router's Host table.
FUZZ_ONLY_domains := $(wildcard actors/release-keeper/*.c) router/hosts.c
$(BUILD)/tests/fuzz-router: $(call obj,$(FUZZ_ONLY_router))
$(BUILD)/tests/fuzz-hosts: $(call obj,$(FUZZ_ONLY_hosts))
$(BUILD)/tests/fuzz-domains: $(call obj,$(FUZZ_ONLY_domains))
# The ACME client; the target is its libcurl (answers from the input).
FUZZ_ONLY_acme := actors/release-keeper/acme_client.c actors/release-keeper/acme_jws.c \
                  actors/release-keeper/acme_csr.c
$(BUILD)/tests/fuzz-acme: $(call obj,$(FUZZ_ONLY_acme))
# The broker's allow-list parser (CURVE keys).
FUZZ_ONLY_allow := broker/allow.c
$(BUILD)/tests/fuzz-allow: $(call obj,$(FUZZ_ONLY_allow))

$(BUILD)/tests/fuzz/replay.o: tests/fuzz/replay_main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(FUZZ_SRC))
FUZZ_REPLAY := $(foreach f,$(FUZZ_NAMES),$(BUILD)/tests/fuzz-$(f))

$(OUTBIN)/bench-broker: $(call obj,$(BENCH_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-releases: $(call obj,$(BENCH_REL_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-logs: $(call obj,$(BENCH_LOGS_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-dynos: $(call obj,$(BENCH_DYNOS_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-router: $(call obj,$(BENCH_ROUTER_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-hosts: $(call obj,$(BENCH_HOSTS_SRC) $(BENCH_COMMON_SRC)) $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTBIN)/bench-router-tiny: $(call obj,bench/router/tiny.c)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -lpthread -o $@

deps:
	@scripts/deps.sh

# The tests also drive headless Chromium (the log page's browser test).
deps-test:
	@scripts/deps.sh --test

# Installs what is missing, builds, and runs the runtime in the foreground.
up: deps
	@$(MAKE) --no-print-directory all
	exec $(OUTBIN)/dynod up

# `test` and `check` install what is missing first (like `up`), then run
# `run-tests` in a second make, which is the first to need pkg-config.
test: deps-test
	@$(MAKE) --no-print-directory run-tests

run-tests: all $(BUILD)/tests/unit-runner $(FUZZ_REPLAY) $(BUILD)/tests/msg-tool
	@DYNOD_BIN=$(CURDIR)/$(OUTBIN) UNIT_RUNNER=$(CURDIR)/$(BUILD)/tests/unit-runner \
	  MSG_TOOL=$(CURDIR)/$(BUILD)/tests/msg-tool \
	  FUZZ_REPLAY="$(addprefix $(CURDIR)/,$(FUZZ_REPLAY))" tests/run.sh

# Every process's sanitizer reports go to files in build-check/sanitizer;
# tests/run.sh fails the run if any appear (daemons started by integration
# tests report there too, not only the unit tests, and some of those run as
# an unprivileged uid: hence the sticky, world-writable folder).
check: deps-test
	@rm -rf build-check/sanitizer && mkdir -p build-check/sanitizer && chmod 1777 build-check/sanitizer
	@SANITIZER_LOG_DIR=$(CURDIR)/build-check/sanitizer \
	  ASAN_OPTIONS=log_path=$(CURDIR)/build-check/sanitizer/asan:detect_leaks=1 \
	  UBSAN_OPTIONS=log_path=$(CURDIR)/build-check/sanitizer/ubsan:print_stacktrace=1 \
	  $(MAKE) --no-print-directory BUILD=build-check \
	  SANITIZE_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" run-tests

# libFuzzer builds with clang: build-fuzz/fuzz-NAME runs a target.
fuzz:
	@mkdir -p build-fuzz
	@set -e; $(foreach f,$(FUZZ_NAMES), \
	  echo "clang fuzz_$(f)"; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined $(filter-out -MMD -MP -O2,$(CFLAGS_BASE)) \
	    $$($(PKGCONF) --cflags $(PKGS)) tests/fuzz/fuzz_$(f).c $(LIB_SRC) \
	    $(if $(FUZZ_ONLY_$(f)),$(FUZZ_ONLY_$(f)),$(FUZZ_EXTRA_SRC)) \
	    $$($(PKGCONF) --libs $(PKGS)) -lhttp_parser -lpthread -o build-fuzz/fuzz-$(f);)
	@echo "run: build-fuzz/fuzz-envelope tests/fuzz/corpus/envelope"

bench-broker: all $(OUTBIN)/bench-broker
	@$(OUTBIN)/bench-broker --dynod $(OUTBIN)/dynod

bench-releases: all $(OUTBIN)/bench-releases
	@$(OUTBIN)/bench-releases --dynod $(OUTBIN)/dynod --dyno $(OUTBIN)/dyno

# BENCH_LOGS_ARGS: e.g. --quick, or --rsyslogd/--rsyslog-modules for an
# unpacked rsyslog package (bench-logs --help).
bench-logs: all $(OUTBIN)/bench-logs
	@$(OUTBIN)/bench-logs --dynod $(OUTBIN)/dynod --peer-js bench/logs/ws_peer.js $(BENCH_LOGS_ARGS)

# BENCH_DYNOS_ARGS: e.g. --quick. Runs as root (the dyno sandbox needs it).
bench-dynos: all $(OUTBIN)/bench-dynos
	@$(OUTBIN)/bench-dynos --dynod $(OUTBIN)/dynod --dyno $(OUTBIN)/dyno $(BENCH_DYNOS_ARGS)

# BENCH_SECONDS: each measured run (default 10); BENCH_ROUTER_ARGS: e.g.
# --workers N, --keep (bench-router --help). Needs haproxy, nginx and wrk
# (scripts/deps.sh --bench) and root (the dyno sandbox).
bench-router: all $(OUTBIN)/bench-router $(OUTBIN)/bench-router-tiny
	@scripts/deps.sh --bench
	@$(OUTBIN)/bench-router --dynod $(OUTBIN)/dynod --dyno $(OUTBIN)/dyno \
	  --tiny $(OUTBIN)/bench-router-tiny $(if $(BENCH_SECONDS),--seconds $(BENCH_SECONDS)) $(BENCH_ROUTER_ARGS)

# BENCH_HOSTS_ARGS: e.g. --trials 3 --apps 1000 (bench-hosts --help). Runs
# as root (the dyno sandbox needs it).
bench-hosts: all $(OUTBIN)/bench-hosts
	@$(OUTBIN)/bench-hosts --dynod $(OUTBIN)/dynod --dyno $(OUTBIN)/dyno $(BENCH_HOSTS_ARGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-check build-fuzz bin

help:
	@echo "make | make up | make test | make check | make fuzz | make bench-broker | make bench-releases | make bench-logs | make bench-dynos | make bench-router | make bench-hosts | make format | make clean"

# Keep intermediate objects (the fuzz replay objects) between runs.
.SECONDARY:

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
