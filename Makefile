# supportd: one flat Makefile. `make run` and `make test` are the two
# commands a newcomer needs; both install missing system packages first.

PKGS    := libwebsockets jansson lua5.4 sqlite3 libsodium libutf8proc
CC      ?= cc
CSTD    := -std=c11 -D_GNU_SOURCE
CWARNS  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
OPT     ?= -O2 -g
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -lpthread -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The daemon's modules, in the order a message travels through them
# (docs/architecture.md). main.o is kept apart so unit tests can link the rest.
LIB_SRC := src/log.c src/config.c src/metrics.c src/daemon.c src/server.c \
           src/chat.c src/agent.c src/wire.c src/outbox.c src/ratelimit.c \
           src/token.c src/conversation.c src/pipeline.c src/script.c src/store.c
MAIN_SRC := src/main.c

UNIT_TESTS := wire token ratelimit store outbox script config metrics

REL_OBJ  := $(patsubst src/%.c,build/rel/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst src/%.c,build/asan/%.o,$(LIB_SRC))

.PHONY: all deps run test test-unit test-e2e asan bench clean check-tools
all: supportd

deps:
	@sh contrib/install-deps.sh

supportd: $(REL_OBJ) build/rel/main.o
	$(CC) $(OPT) -o $@ $^ $(PKG_LIBS)

build/rel/%.o: src/%.c | build/rel
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/asan/%.o: src/%.c | build/asan
	$(CC) $(CSTD) $(CWARNS) -O1 -g $(SAN) $(PKG_CFLAGS) -MMD -MP -c -o $@ $<

build/asan/supportd: $(ASAN_OBJ) build/asan/main.o
	$(CC) $(SAN) -o $@ $^ $(PKG_LIBS)

asan: build/asan/supportd

# cmocka unit tests, one binary per module, built with the sanitizers.
build/asan/test_%: tests/unit/test_%.c $(ASAN_OBJ) | build/asan
	$(CC) $(CSTD) $(CWARNS) -O1 -g $(SAN) $(PKG_CFLAGS) -Isrc -MMD -MP -o $@ $< $(ASAN_OBJ) $(PKG_LIBS) -lcmocka

build/rel build/asan:
	@mkdir -p $@

run: deps supportd
	@mkdir -p var
	./supportd serve --listen 127.0.0.1 --port 8080 --data-dir var

test: deps
	$(MAKE) test-unit test-e2e

test-unit: $(addprefix build/asan/test_,$(UNIT_TESTS))
	@failed=0; for t in $^; do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t || failed=1; done; exit $$failed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

test-e2e: build/asan/supportd node_modules/.package-lock.json
	SUPPORTD_BIN=build/asan/supportd ASAN_OPTIONS=detect_leaks=1 node --test tests/e2e/*.test.js

# Benchmarks are not part of `make test`: they print figures for docs/benchmarks.md.
bench/loadgen: bench/loadgen.c
	$(CC) $(CSTD) $(CWARNS) -O2 $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench/echo-server: bench/echo_server.c
	$(CC) $(CSTD) $(CWARNS) -O2 $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench: deps supportd bench/loadgen bench/echo-server
	sh bench/run.sh

clean:
	rm -rf build supportd bench/loadgen bench/echo-server

-include $(REL_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) build/rel/main.d build/asan/main.d
