# Front door for newcomers: `make demo` and `make test` install what is
# missing (Debian packages), build, and run. CMake does the real building.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
# make install: the binary in $(PREFIX)/bin, the data in $(PREFIX)/share/plughole
# (found from the binary's place), the man page in $(PREFIX)/share/man/man1;
# DESTDIR stages it all under another root (packaging).
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: all deps peers build build-asan demo test test-release test-asan bench clean install

all: build

deps:
	@bash scripts/install-deps.sh

peers:
	@bash scripts/install-deps.sh --with-peers

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DPLUGHOLE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)/plughole

test: peers build build-asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    ctest --output-on-failure -j $(JOBS)

bench: build
	@for b in bench/*.sh; do echo "== $$b"; bash $$b $(BUILD) || exit 1; done

install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
