# supportd: one flat Makefile. `make run` and `make test` are the two
# commands a newcomer needs; both install missing system packages first.

PKGS    := libwebsockets jansson lua5.4 sqlite3 libsodium libutf8proc yaml-0.1 libpcre2-8 icu-i18n libexttextcat hunspell
CC      ?= cc
CSTD    := -std=c11 -D_GNU_SOURCE
CWARNS  := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith
OPT     ?= -O2 -g
# libexttextcat's language fingerprints (src/langid.c), where Debian puts them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS)) \
	-DLANGID_DIR='"$(shell pkg-config --variable=pkgdatadir libexttextcat)"' \
	-DTEXT_HUNSPELL_DIR='"/usr/share/hunspell"'
# liblinear, libstemmer and libcsv ship no pkg-config file in Debian.
PKG_LIBS   = $(shell pkg-config --libs $(PKGS)) -llinear -lstemmer -lcsv -lpthread -lm
# The daemon's allocator (Debian's mimalloc replaces malloc by being linked):
# a message makes many small short-lived allocations, and glibc's malloc
# cost about 15% of the event loop (docs/benchmarks.md). Not in the
# sanitizer build, which brings its own.
MALLOC_LIBS = -lmimalloc
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

# The daemon's modules: every src/*.c but main.c, which is kept apart so
# unit tests and benchmarks can link the rest (docs/architecture.md maps them).
MAIN_SRC := src/main.c
LIB_SRC  := $(filter-out $(MAIN_SRC),$(sort $(wildcard src/*.c)))

UNIT_TESTS := $(patsubst tests/unit/test_%.c,%,$(sort $(wildcard tests/unit/test_*.c)))

REL_OBJ  := $(patsubst src/%.c,build/rel/%.o,$(LIB_SRC))
ASAN_OBJ := $(patsubst src/%.c,build/asan/%.o,$(LIB_SRC))

.PHONY: all deps run test test-unit test-conversations test-e2e test-browser asan bench clean check-tools
all: supportd

deps:
	@sh contrib/install-deps.sh

supportd: $(REL_OBJ) build/rel/main.o
	$(CC) $(OPT) -o $@ $^ $(MALLOC_LIBS) $(PKG_LIBS)

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

# The demo company backend (contrib/demo-backend.js) answers the flows'
# calls on port 8081 while supportd runs, and stops with it.
run: deps supportd console widget
	@mkdir -p var
	@node contrib/demo-backend.js --port 8081 & backend=$$!; \
	  trap 'kill $$backend 2>/dev/null' EXIT INT TERM; \
	  ./supportd serve --listen 127.0.0.1 --port 8080 --data-dir var --config contrib/demo.json

test: deps
	$(MAKE) test-unit test-conversations test-e2e test-browser

# The editors' conversation tests (tests/conversations/, supportd test).
test-conversations: build/asan/supportd
	ASAN_OPTIONS=detect_leaks=1 build/asan/supportd test

test-unit: $(addprefix build/asan/test_,$(UNIT_TESTS))
	@failed=0; for t in $^; do echo "== $$t"; ASAN_OPTIONS=detect_leaks=1 $$t || failed=1; done; exit $$failed

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

test-e2e: build/asan/supportd node_modules/.package-lock.json widget
	SUPPORTD_BIN=build/asan/supportd ASAN_OPTIONS=detect_leaks=1 node --test tests/e2e/*.test.js

# The widget and the console in Debian's Chromium (playwright-core drives
# /usr/bin/chromium; no browser is ever downloaded).
test-browser: build/asan/supportd node_modules/.package-lock.json console widget
	SUPPORTD_BIN=build/asan/supportd ASAN_OPTIONS=detect_leaks=1 node --test tests/browser/*.test.js

# The README's screenshots (docs/img/), taken by the browser tests.
.PHONY: screenshots
screenshots: build/asan/supportd node_modules/.package-lock.json console widget
	UPDATE_SCREENSHOTS=1 SUPPORTD_BIN=build/asan/supportd ASAN_OPTIONS=detect_leaks=1 node --test tests/browser/*.test.js

# The agents' console: contrib/console copied to build/console with the chat
# Markdown renderer it imports (contrib/shared/markdown.js), its stats page
# bundled with Chart.js by esbuild (both from the npm lock file).
CONSOLE_SRC := $(wildcard contrib/console/*)
.PHONY: console
console: build/console/stats.js
build/console/stats.js: $(CONSOLE_SRC) contrib/shared/markdown.js node_modules/.package-lock.json
	@mkdir -p build/console
	cp $(filter-out contrib/console/stats.js,$(CONSOLE_SRC)) contrib/shared/markdown.js build/console/
	npx esbuild contrib/console/stats.js --bundle --format=esm --minify --log-level=warning \
	  --outfile=build/console/stats.js

# The customer widget, served at /widget.js: contrib/widget/widget.src.js
# and the same Markdown renderer bundled by esbuild into one classic script
# (an IIFE, not minified, kept ES5) that a plain script tag loads on any site.
.PHONY: widget
widget: build/widget/widget.js
build/widget/widget.js: contrib/widget/widget.src.js contrib/shared/markdown.js node_modules/.package-lock.json
	@mkdir -p build/widget
	npx esbuild contrib/widget/widget.src.js --bundle --format=iife --target=es5 --log-level=warning \
	  --banner:js='/* supportd chat widget, built from contrib/widget/widget.src.js (contrib/widget/README.md) */' \
	  --outfile=$@

# Benchmarks are not part of `make test`: they print figures for docs/benchmarks.md.
bench/loadgen: bench/loadgen.c
	$(CC) $(CSTD) $(CWARNS) -O2 $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench/echo-server: bench/echo_server.c
	$(CC) $(CSTD) $(CWARNS) -O2 $(PKG_CFLAGS) -o $@ $< $(PKG_LIBS)

bench: deps supportd bench/loadgen bench/echo-server
	sh bench/run.sh

# Offline evaluation of the intent matcher through the daemon's brain (usage
# and measurement contract in bench/intent_eval.c).
bench/intent-eval: bench/intent_eval.c bench/tsv.c bench/tsv.h $(REL_OBJ)
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -Isrc -o $@ $< bench/tsv.c $(REL_OBJ) $(PKG_LIBS)

# Banking77 (train -> test), the same with out-of-scope questions mixed in,
# and the 1000-intent scaling case; figures for the docs.
BANKING77 ?= ../shared/data/banking77
.PHONY: bench-intent
bench-intent: bench/intent-eval
	bench/intent-eval --train $(BANKING77)/train.tsv --test $(BANKING77)/test.tsv
	@tmp=$$(mktemp) && cat $(BANKING77)/test.tsv > $$tmp && tail -n +2 bench/data/oos_en.tsv >> $$tmp && \
	  bench/intent-eval --train $(BANKING77)/train.tsv --test $$tmp --oos-label oos; rc=$$?; rm -f $$tmp; exit $$rc
	bench/intent-eval --synth 1000 --synth-examples 10

# The language detector on lines of known language (bench/lang_eval.c).
bench/lang-eval: bench/lang_eval.c bench/tsv.c bench/tsv.h $(REL_OBJ)
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -Isrc -o $@ $< bench/tsv.c $(REL_OBJ) $(PKG_LIBS)

# Polish stemming compared: prefix, Hunspell's lemmas, none (bench/pl_stem_eval.c).
bench/pl-stem-eval: bench/pl_stem_eval.c $(REL_OBJ)
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -Isrc -o $@ $< $(REL_OBJ) $(PKG_LIBS)

# Short chat-like lines in en, pt and pl: XED's subtitle lines (labels ignored).
.PHONY: bench-lang
bench-lang: bench/lang-eval bench/pl-stem-eval
	bench/pl-stem-eval
	bench/lang-eval --expect en $(XED)/xed_en_upset.tsv
	bench/lang-eval --expect pt $(XED)/xed_pt_upset.tsv $(XED)/xed_pt_br_upset.tsv
	bench/lang-eval --expect pl $(XED)/xed_pl_upset.tsv

# The brain at scale: synthetic FAQ entries and intents through the daemon's
# loaders and brain (bench/README.md).
bench/brain-scale: bench/brain_scale.c $(REL_OBJ)
	$(CC) $(CSTD) $(CWARNS) -O2 $(PKG_CFLAGS) -Isrc -o $@ $< $(REL_OBJ) $(PKG_LIBS)

# Every benchmark of the brain, for docs/benchmarks.md.
.PHONY: bench-brain
bench-brain: deps supportd bench-intent bench-faq bench/brain-scale
	bench/brain-scale --faq 10000 --intents 1000
	sh bench/bitext-eval.sh

# Offline evaluation of the FAQ retriever on its own (usage in
# bench/faq_eval.c): it links only the modules it measures. Both eval tools
# read their files with bench/tsv.c.
FAQ_EVAL_OBJ := build/rel/text.o build/rel/faqindex.o build/rel/xalloc.o build/rel/wire.o \
	build/rel/language.o build/rel/content.o build/rel/yamldoc.o build/rel/diag.o
bench/faq-eval: bench/faq_eval.c bench/tsv.c bench/tsv.h src/faqindex.h src/text.h $(FAQ_EVAL_OBJ)
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -Isrc -o $@ $< bench/tsv.c $(FAQ_EVAL_OBJ) $(PKG_LIBS)

# Banking77 as a five-shot FAQ (test split scored) and the 10,000-entry case.
.PHONY: bench-faq
bench-faq: bench/faq-eval
	sh bench/banking77-faq.sh --calibration
	bench/faq-eval --synthetic 10000

# Offline evaluation of the mood check (usage in bench/mood_eval.c): it
# links only the modules it measures.
MOOD_EVAL_OBJ := build/rel/mood.o build/rel/text.o build/rel/yamldoc.o build/rel/content.o \
  build/rel/diag.o build/rel/xalloc.o build/rel/wire.o build/rel/language.o
bench/mood-eval: bench/mood_eval.c bench/tsv.c bench/tsv.h src/mood.h $(MOOD_EVAL_OBJ)
	$(CC) $(CSTD) $(CWARNS) $(OPT) $(PKG_CFLAGS) -Isrc -o $@ $< bench/tsv.c $(MOOD_EVAL_OBJ) $(PKG_LIBS)

# The mood check on the test splits of XED (subtitle lines: en, and pt, pt-BR,
# pl projected from en) and of Bitext (complaints and offensive lines), with
# a threshold sweep for information; figures for docs/benchmarks.md.
XED ?= ../shared/data/xed-upset
.PHONY: bench-mood
bench-mood: bench/mood-eval
	bench/mood-eval --lang en --split test --sweep $(XED)/xed_en_upset.tsv
	bench/mood-eval --lang pt --split test --sweep $(XED)/xed_pt_upset.tsv
	bench/mood-eval --lang pt-BR --split test --sweep $(XED)/xed_pt_br_upset.tsv
	bench/mood-eval --lang pl --split test --sweep $(XED)/xed_pl_upset.tsv
	sh bench/mood-bitext.sh --split test --sweep

# Hot reload of 10,000 FAQ entries under load (bench/reload-bench.js).
.PHONY: bench-reload
bench-reload: deps supportd node_modules/.package-lock.json
	node bench/reload-bench.js --faq 10000 --clients 20 --interval 50 --reloads 5

# The support desk: 1,000 customers, 50 agents (bench/desk-bench.js).
.PHONY: bench-desk
bench-desk: deps supportd node_modules/.package-lock.json
	node bench/desk-bench.js --customers 1000 --agents 50

clean:
	rm -rf build supportd bench/loadgen bench/echo-server bench/intent-eval bench/brain-scale \
	  bench/faq-eval bench/mood-eval

-include $(REL_OBJ:.o=.d) $(ASAN_OBJ:.o=.d) build/rel/main.d build/asan/main.d
