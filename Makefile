# Pillivery-C: one GNU make build for the libraries, the daemons, the tests and the demo.
#
#   make                 build everything (daemons and test programs)
#   make run             install missing packages, build, start the demo (see README.md)
#   make check           install missing packages, build, run the whole suite
#   make DEVELOPER=1     warnings are errors
#   make SANITIZE=1 ...  ASan + UBSan build (in build/san)
#   make install PREFIX=/usr/local DESTDIR=
#   make reset           wipe ./var (demo and test data)

CC ?= gcc
PREFIX ?= /usr/local
DESTDIR ?=
BUILD ?= build

SANFLAGS :=
ifeq ($(SANITIZE),1)
override BUILD := $(BUILD)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

WARN := -Wall -Wextra -Wno-unused-parameter
ifeq ($(DEVELOPER),1)
WARN += -Werror -Wshadow -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
endif

PKGS := libmariadb libcjson hiredis libjwt libcurl libevent check
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
OPT ?= -O2
CFLAGS ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) $(WARN) $(CFLAGS) $(SANFLAGS) -MMD -MP
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

LIBS_COMMON := $(shell pkg-config --libs libmariadb libcjson hiredis libjwt libcrypto 2>/dev/null) -lcrypt -lpthread -lm
LIBS_API := -lcivetweb $(shell pkg-config --libs libcurl 2>/dev/null) $(LIBS_COMMON)
LIBS_BATCH := $(shell pkg-config --libs libevent libcurl 2>/dev/null) $(LIBS_COMMON)
LIBS_CHECK := $(shell pkg-config --libs check 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
CORE_SRC := $(wildcard core/*.c)
EXTERNAL_SRC := $(wildcard external/*.c)
API_SRC := $(wildcard api/*.c)
BATCH_SRC := $(wildcard batch/*.c)
UNIT_SRC := $(wildcard tests/unit/*/*_test.c)
RUNNER_SRC := tests/lib/runner.c
IT_SRC := $(wildcard tests/it/*.c)
IT_LIB_SRC := $(wildcard tests/it/lib/*.c)
FAKEPAY_SRC := $(wildcard tests/fakes/kakaopay/*.c)
FAKEOAUTH_SRC := $(wildcard tests/fakes/oauth/*.c)
STATIC_FILES := $(wildcard api/static/*)
MIGRATIONS := $(sort $(wildcard core/sql/migrations/*.sql))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB_COMMON := $(BUILD)/lib/libpvcommon.a
LIB_CORE := $(BUILD)/lib/libpvcore.a
LIB_EXTERNAL := $(BUILD)/lib/libpvexternal.a
API_BIN := $(BUILD)/bin/pillivery-api
BATCH_BIN := $(BUILD)/bin/pillivery-billing
UNIT_BIN := $(BUILD)/bin/unit-tests
IT_BIN := $(BUILD)/bin/it-tests

GEN := $(BUILD)/gen
GEN_STATIC := $(GEN)/static_assets.c
GEN_MIGRATIONS := $(GEN)/migrations.c
GEN_UNIT := $(GEN)/unit_suites.c
GEN_IT := $(GEN)/it_suites.c

FAKEPAY_BIN := $(BUILD)/bin/fake-kakaopay
FAKEOAUTH_BIN := $(BUILD)/bin/fake-oauth

BINS := $(API_BIN) $(UNIT_BIN) $(IT_BIN)
ifneq ($(FAKEPAY_SRC),)
BINS += $(FAKEPAY_BIN)
endif
ifneq ($(FAKEOAUTH_SRC),)
BINS += $(FAKEOAUTH_BIN)
endif
ifneq ($(BATCH_SRC),)
BINS += $(BATCH_BIN)
endif

.PHONY: all deps run check unit it bench fuzz reset clean install format
all: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Test files define their suites without a header, and generated tables have no header either.
$(BUILD)/obj/tests/%.o: WARN += -Wno-missing-prototypes
$(BUILD)/obj/gen/%.o: WARN += -Wno-missing-prototypes

$(BUILD)/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

$(LIB_COMMON): $(call obj,$(COMMON_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# core also carries the embedded migrations (core/sql/migrations/*.sql).
$(LIB_CORE): $(call obj,$(CORE_SRC)) $(BUILD)/obj/gen/migrations.o
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(LIB_EXTERNAL): $(call obj,$(EXTERNAL_SRC))
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(GEN_STATIC): $(STATIC_FILES) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh static_assets $(STATIC_FILES) > $@.tmp && mv $@.tmp $@

$(GEN_MIGRATIONS): $(MIGRATIONS) tools/embed.sh
	@mkdir -p $(dir $@)
	sh tools/embed.sh migrations $(MIGRATIONS) > $@.tmp && mv $@.tmp $@

$(GEN_UNIT): $(UNIT_SRC) tools/suites.sh
	@mkdir -p $(dir $@)
	sh tools/suites.sh $(UNIT_SRC) > $@.tmp && mv $@.tmp $@

$(GEN_IT): $(IT_SRC) tools/suites.sh
	@mkdir -p $(dir $@)
	sh tools/suites.sh $(filter-out tests/it/main.c,$(IT_SRC)) > $@.tmp && mv $@.tmp $@

$(API_BIN): $(call obj,$(API_SRC)) $(BUILD)/obj/gen/static_assets.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(API_SRC)) $(BUILD)/obj/gen/static_assets.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON) $(LIBS_API)

$(BATCH_BIN): $(call obj,$(BATCH_SRC)) $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(BATCH_SRC)) $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON) $(LIBS_BATCH)

# the fake Kakao Pay gateway (KAKAOPAY.md §4): tests, benchmarks and the demo
$(FAKEPAY_BIN): $(call obj,$(FAKEPAY_SRC)) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(FAKEPAY_SRC)) $(LIB_COMMON) $(LIBS_BATCH)

# the fake OAuth2 provider (kakao and google, API.md §3.7): tests and the demo
$(FAKEOAUTH_BIN): $(call obj,$(FAKEOAUTH_SRC)) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(FAKEOAUTH_SRC)) $(LIB_COMMON) $(LIBS_BATCH)

$(UNIT_BIN): $(call obj,$(UNIT_SRC) tests/unit/main.c $(RUNNER_SRC)) $(BUILD)/obj/gen/unit_suites.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(UNIT_SRC) tests/unit/main.c $(RUNNER_SRC)) $(BUILD)/obj/gen/unit_suites.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON) $(LIBS_CHECK) $(LIBS_API)

$(IT_BIN): $(call obj,$(IT_SRC) $(IT_LIB_SRC) $(RUNNER_SRC)) $(BUILD)/obj/gen/it_suites.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $(call obj,$(IT_SRC) $(IT_LIB_SRC) $(RUNNER_SRC)) $(BUILD)/obj/gen/it_suites.o $(LIB_EXTERNAL) $(LIB_CORE) $(LIB_COMMON) $(LIBS_CHECK) $(LIBS_API)

# ---- the two commands -----------------------------------------------------------------
deps:
	@sh tests/lib/deps.sh

run: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/lib/run.sh

check: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) bash tests/lib/check.sh

unit: all
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) PV_CHECK_ONLY=unit bash tests/lib/check.sh

it: all
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) PV_CHECK_ONLY=it bash tests/lib/check.sh

bench: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tests/bench/api_bench.sh
	@BUILD=$(BUILD) bash tests/bench/storefront_bench.sh
	@BUILD=$(BUILD) bash tests/bench/payments_bench.sh
	@BUILD=$(BUILD) bash tests/bench/billing_bench.sh

# libFuzzer targets (clang): the JSON request path and token verification.
FUZZ_SECONDS ?= 30
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -I. $(PKG_CFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined
FUZZ_JSON_SRC := tests/fuzz/json_fuzz.c common/json.c common/buf.c common/err.c common/clock.c core/user.c core/rules.c
FUZZ_TOKEN_SRC := tests/fuzz/token_fuzz.c common/token.c common/err.c common/buf.c common/json.c common/clock.c
fuzz:
	@mkdir -p $(BUILD)/fuzz var/fuzz/json var/fuzz/token
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/json_fuzz $(FUZZ_JSON_SRC) $(shell pkg-config --libs libcjson) -lpthread
	clang $(FUZZ_FLAGS) -o $(BUILD)/fuzz/token_fuzz $(FUZZ_TOKEN_SRC) $(shell pkg-config --libs libcjson libjwt) -lpthread
	$(BUILD)/fuzz/json_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 var/fuzz/json
	$(BUILD)/fuzz/token_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=2048 var/fuzz/token

reset:
	@bash tests/lib/services.sh stop-all 2>/dev/null || true
	rm -rf var

clean:
	rm -rf build

install: $(API_BIN) $(if $(BATCH_SRC),$(BATCH_BIN))
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/pillivery/sql $(DESTDIR)$(PREFIX)/lib/systemd/system
	install -m 0755 $(API_BIN) $(if $(BATCH_SRC),$(BATCH_BIN)) $(DESTDIR)$(PREFIX)/bin/
	install -m 0644 $(MIGRATIONS) core/sql/README.md $(DESTDIR)$(PREFIX)/share/pillivery/sql/
	install -m 0644 core/sql/seed/*.sql $(DESTDIR)$(PREFIX)/share/pillivery/sql/
	install -m 0644 deploy/systemd/*.service $(DESTDIR)$(PREFIX)/lib/systemd/system/

format:
	clang-format -i $(COMMON_SRC) $(CORE_SRC) $(EXTERNAL_SRC) $(API_SRC) $(BATCH_SRC) $(wildcard */*.h)

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
