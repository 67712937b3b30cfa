# Code Insight - build, run and test.
#
#   make run     install what is missing, build, start Redis + PostgreSQL +
#                gateway + both worker pools locally (state under .run/)
#   make test    install what is missing, build, run unit tests (ASan+UBSan)
#                and end-to-end tests against real Redis and PostgreSQL
#
#   make bench   install what is missing, build, then measure throughput,
#                latency, drain rate, memory and prompt size against
#                reference servers (bench/README.md; about 2-3 minutes)
#
# Other targets: deps, all, unit, e2e, asan, coverage, clean, config-doc.

CC      ?= cc
PYTHON  ?= /usr/bin/python3
BUILD   ?= build
PKGS    := libmicrohttpd libcurl hiredis libpq libcjson libsodium libcrypto libuv libseccomp
# mongo-c-driver: the worker's optional job history only (worker/mongo_sink.c).
MONGO_PKGS := libmongoc-1.0 libbson-1.0
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -fno-strict-aliasing -Wall -Wextra -Wshadow -Wformat=2 \
           -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers
CPPFLAGS += -I. $(shell pkg-config --cflags $(PKGS) $(MONGO_PKGS) 2>/dev/null)
MONGO_LIBS := $(shell pkg-config --libs $(MONGO_PKGS) 2>/dev/null)
LDLIBS  += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
else
# jemalloc serves malloc: a request makes some 70 small allocations (cJSON
# documents, hiredis replies, libmicrohttpd's headers), often freed on
# another thread, which is where glibc's allocator is slowest (bench/README.md,
# "Profiling"). The sanitizers bring their own allocator.
LDLIBS  += -ljemalloc
endif

MAINS        := gateway/main.c gateway/migrate_main.c gateway/admin_main.c worker/main.c cli/main.c \
                worker/sandbox_exec_main.c
COMMON_SRC   := $(wildcard common/*.c)
GATEWAY_SRC  := $(filter-out $(MAINS),$(wildcard gateway/*.c))
WORKER_SRC   := $(filter-out $(MAINS),$(wildcard worker/*.c))
CLI_SRC      := $(filter-out $(MAINS),$(wildcard cli/*.c))
LUA_SRC      := $(wildcard schema/redis/*.lua)
LUA_LIB      := $(wildcard schema/redis/lib/*.lua)
UNIT_SRC     := $(wildcard tests/unit/test_*.c)
TSUPPORT_SRC := $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

COMMON_OBJ   := $(call obj,$(COMMON_SRC)) $(BUILD)/obj/gen/lua_scripts.o
GATEWAY_OBJ  := $(call obj,$(GATEWAY_SRC)) $(BUILD)/obj/gen/openapi_doc.o
WORKER_OBJ   := $(call obj,$(WORKER_SRC))
CLI_OBJ      := $(call obj,$(CLI_SRC))
# The service's programs (what the images run) and the client, the CLI.
SERVICE_BINS := $(BUILD)/codeinsight-gateway $(BUILD)/codeinsight-worker $(BUILD)/codeinsight-migrate \
                $(BUILD)/codeinsight-admin $(BUILD)/codeinsight-sandbox-exec
BINS         := $(SERVICE_BINS) $(BUILD)/codeinsight
UNIT_BINS    := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))

.PHONY: all deps run test unit e2e asan coverage clean config-doc bench bench-refs
.DEFAULT_GOAL := all

all: $(BINS)

deps:
	@bash deploy/local/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@bash deploy/local/run.sh

test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit BUILD=build/asan SAN=1 OPT=-O1
	@$(MAKE) --no-print-directory e2e

# Unit tests link against the static libraries, so each pulls in only the
# modules it uses.
unit: $(UNIT_BINS)
	@bash tests/run-unit.sh $(UNIT_BINS)

e2e: all
	@bash tests/run-e2e.sh

# The reference servers are built with the binaries' flags; bench/run.py
# starts everything on free loopback ports and always stops it. A missed
# target is a measurement, not a failure; a broken harness fails.
BENCH_REFS := $(BUILD)/bench/ref_bare $(BUILD)/bench/ref_evalsha $(BUILD)/bench/redact

bench: deps
	@$(MAKE) --no-print-directory all bench-refs
	@timeout -k 20 600 /usr/bin/python3 bench/run.py --build-dir $(BUILD)

bench-refs: $(BENCH_REFS)

$(BUILD)/bench/%: bench/%.c bench/ref_mhd.h
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

# The redaction timer links the worker's own redactor.
$(BUILD)/bench/redact: bench/redact.c tests/unit/redact_inputs.h $(BUILD)/libworker.a \
                       $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libworker.a $(BUILD)/libcommon.a \
	  $(MONGO_LIBS) $(LDLIBS)

asan:
	@$(MAKE) --no-print-directory all BUILD=build/asan SAN=1 OPT=-O1

# Line coverage: a --coverage build in build/cov, the unit and end-to-end
# tests run against it, then tests/coverage.py reports each file's executed
# lines (about 15 minutes). Fails when a test failed, after the report.
COV_BUILD := build/cov

coverage: deps
	@find $(COV_BUILD) -name '*.gcda' -delete 2>/dev/null || true
	@$(MAKE) --no-print-directory all unit BUILD=$(COV_BUILD) OPT="-O0 --coverage" LDFLAGS=--coverage
	@rc=0; CODEINSIGHT_BUILD_DIR=$(COV_BUILD) $(PYTHON) -m pytest -p no:cacheprovider -q \
	  tests/e2e || rc=$$?; $(PYTHON) tests/coverage.py $(COV_BUILD) && exit $$rc

config-doc: $(BUILD)/codeinsight-gateway
	@$(BUILD)/codeinsight-gateway --config-table

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# Lua scripts are data: embedded into the binaries at build time, each with
# the shared library (schema/redis/lib) in front of it.
$(BUILD)/gen/lua_scripts.c: $(LUA_SRC) $(LUA_LIB)
	@mkdir -p $(BUILD)/gen/schema/redis
	@rm -f $@.tmp
	@for f in $(LUA_SRC); do cat $(LUA_LIB) $$f > $(BUILD)/gen/$$f; \
	  (cd $(BUILD)/gen && xxd -i $$f) >> $@.tmp; done
	@mv $@.tmp $@

# The API document is data too: docs/openapi.yaml, converted to compact JSON
# (python3-yaml) and embedded into the gateway, which serves it at
# GET /openapi.json.
$(BUILD)/gen/openapi_doc.c: docs/openapi.yaml
	@mkdir -p $(BUILD)/gen
	$(PYTHON) -c 'import json, sys, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout, separators=(",", ":"), ensure_ascii=False)' $< > $(BUILD)/gen/openapi.json
	(cd $(BUILD)/gen && xxd -i openapi.json) > $@.tmp
	@mv $@.tmp $@

$(BUILD)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -w -c -o $@ $<

$(BUILD)/libcommon.a: $(COMMON_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libgateway.a: $(GATEWAY_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libtestsupport.a: $(call obj,$(TSUPPORT_SRC))
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libworker.a: $(WORKER_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/libcli.a: $(CLI_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/codeinsight: $(BUILD)/obj/cli/main.o $(BUILD)/libcli.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/codeinsight-gateway: $(BUILD)/obj/gateway/main.o $(BUILD)/libgateway.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/codeinsight-migrate: $(BUILD)/obj/gateway/migrate_main.o $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/codeinsight-admin: $(BUILD)/obj/gateway/admin_main.o $(BUILD)/libgateway.a \
                            $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/codeinsight-worker: $(BUILD)/obj/worker/main.o $(BUILD)/libworker.a $(BUILD)/libcommon.a
	$(CC) $(LDFLAGS) -o $@ $^ $(MONGO_LIBS) $(LDLIBS)

# The sandbox launcher alone: libc and libseccomp, nothing else to load.
$(BUILD)/codeinsight-sandbox-exec: $(BUILD)/obj/worker/sandbox_exec_main.o \
                                   $(BUILD)/obj/worker/sandbox_exec.o
	$(CC) $(LDFLAGS) -o $@ $^ -lseccomp

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libtestsupport.a $(BUILD)/libworker.a \
                  $(BUILD)/libgateway.a $(BUILD)/libcli.a $(BUILD)/libcommon.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(MONGO_LIBS) $(LDLIBS) -lcmocka

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
