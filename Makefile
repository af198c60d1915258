# snapb2b: `make demo` and `make test` are the quick start (see README.md).
SHELL := /bin/bash
CARGO ?= cargo
PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
VERSION := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
REL := target/release
LIB := $(REL)/libsnapb2b.so
CFLAGS ?= -O2 -g -Wall -Wextra -Werror -std=c11 -D_POSIX_C_SOURCE=200809L
BUILD := build
FFI := crates/snapb2b-ffi
HEADER := $(FFI)/include/snapb2b.h
CTESTS := $(FFI)/tests/c
# Python test tools live in this venv (scripts/install-test-deps.sh makes it).
VENV ?= $(BUILD)/venv
PYTHON ?= $(abspath $(VENV))/bin/python
VECTORS ?= $(abspath tests/vectors)
export SNAPB2B_VECTORS := $(VECTORS)
# The published vectors, when a checkout has them beside it: a test checks
# that tests/vectors/ is the same set byte for byte (skipped without them).
PUBLISHED_VECTORS ?= $(wildcard $(abspath ..)/shared/vectors)
export SNAPB2B_PUBLISHED_VECTORS := $(PUBLISHED_VECTORS)

.PHONY: all build header demo check lint test test-deps test-rust test-c test-asan test-soak soak test-fuzz fuzz test-crosscheck test-python test-php test-install test-python-package deb test-deb bench install uninstall clean

all: build

build:
	$(CARGO) build --release --quiet
	@ln -sf libsnapb2b.so $(LIB).0

header:
	SNAPB2B_WRITE_HEADER=1 $(CARGO) build --release --quiet

$(BUILD)/get_token: examples/get_token.c $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(FFI)/include $< -L$(REL) -lsnapb2b -Wl,-rpath,$(abspath $(REL)) -o $@

$(BUILD)/service_call: examples/service_call.c $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(FFI)/include $< -L$(REL) -lsnapb2b -Wl,-rpath,$(abspath $(REL)) -o $@

$(BUILD)/test_abi: $(CTESTS)/test_abi.c $(CTESTS)/test_util.h $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -Wno-deprecated-declarations -pthread -I$(FFI)/include $< -L$(REL) -lsnapb2b -lcrypto -Wl,-rpath,$(abspath $(REL)) -o $@

$(BUILD)/test_fork: $(CTESTS)/test_fork.c $(CTESTS)/test_util.h $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -pthread -I$(FFI)/include $< -L$(REL) -lsnapb2b -Wl,-rpath,$(abspath $(REL)) -o $@

$(BUILD)/soak: $(CTESTS)/soak.c $(CTESTS)/test_util.h $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -pthread -I$(FFI)/include $< -L$(REL) -lsnapb2b -Wl,-rpath,$(abspath $(REL)) -o $@

# The C tests built with AddressSanitizer + UndefinedBehaviorSanitizer.
$(BUILD)/test_abi_asan: $(CTESTS)/test_abi.c $(CTESTS)/test_util.h $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -std=c11 \
	  -D_POSIX_C_SOURCE=200809L -Wall -Werror -Wno-deprecated-declarations -pthread -I$(FFI)/include $< \
	  -L$(REL) -lsnapb2b -lcrypto -Wl,-rpath,$(abspath $(REL)) -o $@

$(BUILD)/sign_tool: $(CTESTS)/sign_tool.c $(HEADER) build
	@mkdir -p $(BUILD)
	$(CC) $(CFLAGS) -I$(FFI)/include $< -L$(REL) -lsnapb2b -Wl,-rpath,$(abspath $(REL)) -o $@

# The main job end to end on the built-in sandbox provider: no network.
demo: build $(BUILD)/get_token $(BUILD)/service_call
	@scripts/demo.sh

# The fast loop: format and clippy gates, the Rust tests, and the Python and
# PHP suites against the built library (under 3 minutes warm).
check: test-deps lint test-rust test-python test-php
	@echo "make check: passed"

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --release --workspace --all-targets --quiet -- -D warnings

test: test-deps lint build test-rust test-c test-asan test-soak test-crosscheck test-python test-php test-install test-python-package test-deb test-fuzz
	@echo "make test: all suites passed"

test-deps:
	@scripts/install-test-deps.sh

test-rust:
	$(CARGO) test --release --quiet --workspace

test-c: $(BUILD)/test_abi $(BUILD)/test_fork $(BUILD)/get_token $(BUILD)/service_call $(BUILD)/wrong-key.pem
	scripts/with-sandbox.sh $(BUILD)/sandbox-fork --slow-ms 3000 --http-port 0 -- $(BUILD)/test_fork
	SNAPB2B_WRONG_KEY_FILE=$(abspath $(BUILD))/wrong-key.pem scripts/with-sandbox.sh $(BUILD)/sandbox-c --slow-ms 3000 --http-port 0 -- $(BUILD)/test_abi
	SNAPB2B_TEST_LIGHT=1 SNAPB2B_WRONG_KEY_FILE=$(abspath $(BUILD))/wrong-key.pem scripts/with-sandbox.sh $(BUILD)/sandbox-c --slow-ms 3000 --http-port 0 -- \
	  valgrind --quiet --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
	  --show-leak-kinds=definite,indirect --suppressions=$(CTESTS)/valgrind.supp \
	  $(BUILD)/test_abi
	scripts/with-sandbox.sh $(BUILD)/sandbox-example -- tests/example.sh $(BUILD)/get_token
	scripts/with-sandbox.sh $(BUILD)/sandbox-service-example -- tests/service_example.sh $(BUILD)/service_call

test-asan: $(BUILD)/test_abi_asan $(BUILD)/wrong-key.pem
	SNAPB2B_WRONG_KEY_FILE=$(abspath $(BUILD))/wrong-key.pem scripts/with-sandbox.sh $(BUILD)/sandbox-asan --slow-ms 3000 --http-port 0 -- \
	  env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 $(BUILD)/test_abi_asan

SOAK_SECONDS ?= 10
test-soak: $(BUILD)/soak
	scripts/with-sandbox.sh $(BUILD)/sandbox-soak -- env SNAPB2B_SOAK_SECONDS=$(SOAK_SECONDS) $(BUILD)/soak

# The long soak (60 s); `make soak SOAK_SECONDS=600` for longer.
soak: SOAK_SECONDS = 60
soak: test-soak

test-crosscheck: $(BUILD)/sign_tool
	$(FFI)/tests/crosscheck.sh $(BUILD)/sign_tool $(BUILD)/crosscheck
	crates/snapb2b-cli/tests/cli_crosscheck.sh $(REL)/snapb2b $(BUILD)/cli-crosscheck

test-python: build
	scripts/with-sandbox.sh $(BUILD)/sandbox-py --slow-ms 3000 -- $(PYTHON) -m pytest -q bindings/python/tests

test-php: build
	scripts/with-sandbox.sh $(BUILD)/sandbox-php --slow-ms 3000 -- php -d ffi.enable=1 "$$(command -v phpunit)" -c bindings/php/phpunit.xml

# Installs into a temporary prefix and builds the C example with pkg-config.
test-install: build
	tests/install.sh

# sdist + wheel built, installed into fresh venvs, run outside the checkout.
test-python-package: build
	tests/python_package.sh

# libsnapb2b0, libsnapb2b-dev and snapb2b .debs in build/deb/ (dpkg-deb).
deb: build
	packaging/deb/build.sh $(BUILD)/deb

# Installs the .debs for real (root), uses them, purges them.
test-deb: deb
	tests/deb.sh $(BUILD)/deb


# What `make build` leaves and `install` copies. install never builds (so
# `sudo make install` needs no cargo on root's PATH): a missing file stops it.
BUILT := $(LIB) $(REL)/libsnapb2b.a $(REL)/snapb2b $(REL)/snapb2b-sandbox
$(BUILT):
	@echo 'make: $@ is missing: run `make build` first' >&2; exit 1

# The man page and these completions are written by the built tool itself.
COMPLETIONS := $(DATADIR)/bash-completion/completions/snapb2b $(DATADIR)/zsh/site-functions/_snapb2b \
  $(DATADIR)/fish/vendor_completions.d/snapb2b.fish

install: $(BUILT)
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(LIBDIR)/pkgconfig
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libsnapb2b.so.$(VERSION)
	ln -sf libsnapb2b.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libsnapb2b.so.0
	ln -sf libsnapb2b.so.0 $(DESTDIR)$(LIBDIR)/libsnapb2b.so
	install -m 0644 $(REL)/libsnapb2b.a $(DESTDIR)$(LIBDIR)/libsnapb2b.a
	install -m 0644 $(HEADER) $(DESTDIR)$(INCLUDEDIR)/snapb2b.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|; s|@VERSION@|$(VERSION)|' \
	  -e "s|@LIBS_PRIVATE@|$$(scripts/static-libs.sh $(REL)/libsnapb2b.a)|" \
	  snapb2b.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/snapb2b.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(foreach f,$(COMPLETIONS),$(DESTDIR)$(dir $(f)))
	install -m 0755 $(REL)/snapb2b $(REL)/snapb2b-sandbox $(DESTDIR)$(BINDIR)/
	$(REL)/snapb2b man > $(DESTDIR)$(MANDIR)/man1/snapb2b.1
	$(REL)/snapb2b completions bash > $(DESTDIR)$(word 1,$(COMPLETIONS))
	$(REL)/snapb2b completions zsh > $(DESTDIR)$(word 2,$(COMPLETIONS))
	$(REL)/snapb2b completions fish > $(DESTDIR)$(word 3,$(COMPLETIONS))
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/snapb2b.1 $(addprefix $(DESTDIR),$(COMPLETIONS))

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libsnapb2b.so* $(DESTDIR)$(LIBDIR)/libsnapb2b.a \
	  $(DESTDIR)$(INCLUDEDIR)/snapb2b.h $(DESTDIR)$(LIBDIR)/pkgconfig/snapb2b.pc \
	  $(DESTDIR)$(BINDIR)/snapb2b $(DESTDIR)$(BINDIR)/snapb2b-sandbox \
	  $(DESTDIR)$(MANDIR)/man1/snapb2b.1 $(addprefix $(DESTDIR),$(COMPLETIONS))

# Replays the committed fuzz corpus and fuzzes each target a few seconds.
test-fuzz:
	scripts/fuzz.sh --smoke

# Fuzzes every parser that sees outside data, FUZZ_SECONDS each (default 60).
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh --seconds $(FUZZ_SECONDS)

# Throughput and request-count benchmarks with ratios against baselines
# measured in the same run; writes build/bench-results.md.
bench: build
	benches/run.sh

clean:
	$(CARGO) clean
	rm -rf $(BUILD)

# A key no provider knows, for the "wrong key" case.
$(BUILD)/wrong-key.pem:
	@mkdir -p $(BUILD)
	openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $@ 2>/dev/null
