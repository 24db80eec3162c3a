# SPDX-License-Identifier: ISC
# tapgate: one entry point.  `make` builds into build/; `make check` builds
# again with AddressSanitizer and UndefinedBehaviorSanitizer into build/san/
# and runs every test; `make demo` shows the appliance at work.

BUILD		?= build
VERSION		:= 0.1.0
GEN		:= build/gen
SANITIZE	?= 0
PREFIX		?= /usr/local
DESTDIR		?=
CC		?= cc
# Debian's clang-14 package (what make deps installs) has no plain
# `clang`; a machine with another clang may name it in CLANG
ifeq ($(origin CLANG),undefined)
CLANG		:= $(or $(shell command -v clang-14 2>/dev/null),clang)
endif
PKG_CONFIG	?= pkg-config

PKGS		:= libfido2 libcrypto libcbor jansson sqlite3 libconfig gnutls \
		   libmicrohttpd libsystemd ykpers-1 libseccomp ldap

WARN		:= -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
		   -Wcast-qual -Wwrite-strings -Wstrict-prototypes
ifeq ($(SANITIZE),1)
SAN		:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
OPT		:= -O1 -g $(SAN)
HARDEN		:= -fstack-protector-strong -fPIE
else
SAN		:=
OPT		:= -O2 -g
HARDEN		:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
endif

PKG_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
# libunistring (the directory's name normalisation) has no .pc file
UNISTRING_LIBS	:= -lunistring
PKG_LIBS	:= $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) \
		   $(UNISTRING_LIBS)
PKG_OK		:= $(shell $(PKG_CONFIG) --exists $(PKGS) 2>/dev/null && echo 1)

# What each program links: the libraries its own code calls, and no more
# (every one is mapped and relocated at each start, and is attack surface
# in a confined process).  Objects are compiled with a section per
# function and programs link with --gc-sections, so a program that takes
# one function from an object of libtapgate.a does not inherit the
# libraries of the rest of that object: tapgatectl reads the audit chain
# with the daemon's code, yet needs neither libconfig, libykpers,
# libseccomp nor libmicrohttpd.  A library missing here fails the link.
# The tests link everything ($(LDLIBS)).
PKGS_SOFTFIDO	:= libcrypto
PKGS_VERIFYLIB	:= libcrypto jansson sqlite3
PKGS_VERIFY	:= $(PKGS_VERIFYLIB) libseccomp
PKGS_CTL	:= libfido2 libcrypto libcbor jansson sqlite3 libsystemd
PKGS_DAEMON	:= $(PKGS)
pkg_libs	= $(shell $(PKG_CONFIG) --libs $(1) 2>/dev/null) -lpthread
LIBS_SOFTFIDO	:= $(call pkg_libs,$(PKGS_SOFTFIDO))
LIBS_VERIFYLIB	:= $(call pkg_libs,$(PKGS_VERIFYLIB))
LIBS_VERIFY	:= $(call pkg_libs,$(PKGS_VERIFY))
LIBS_CTL	:= $(call pkg_libs,$(PKGS_CTL))
LIBS_DAEMON	:= $(call pkg_libs,$(PKGS_DAEMON)) $(UNISTRING_LIBS)

# The flags above are read when make parses this file.  The targets that
# install packages first (deps, and the ones that run it) do so and then
# build in a sub-make, which parses again with the packages in place; any
# other build on a machine without them stops here instead of failing at
# link time with undefined references.
DEPS_FIRST	:= deps check demo demo-console demo-stop fuzz bench crash clean \
		   lint
ifneq ($(PKG_OK),1)
ifneq ($(filter-out $(DEPS_FIRST),$(or $(MAKECMDGOALS),all)),)
$(error missing build packages (pkg-config: $(PKGS)); run `make deps` \
    first, or `make demo` or `make check`, which run it)
endif
endif

CPPFLAGS	+= -D_GNU_SOURCE -Isrc -iquote firmware_host/core -iquote firmware_host/host \
		   -Itests/common
# what every program's --version prints
CPPFLAGS	+= -DTAPGATE_VERSION='"$(VERSION)"'
CFLAGS		+= -std=c11 $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) \
		   -ffunction-sections -fdata-sections
LDFLAGS		+= -pie -Wl,-z,relro,-z,now,-z,noexecstack $(SAN) \
		   -Wl,--gc-sections -Wl,--as-needed
LDLIBS		+= $(PKG_LIBS) -lpthread

# softfido: portable core + host HAL; main.c is the program.
FW_CORE_SRC	:= $(wildcard firmware_host/core/*.c)
# The core, the crypto HAL and the provisioning data form libsoftfido.a;
# the board (transport, button, flash, main) only goes into the program, and
# tests drive the core on tests/common/fake_board.c instead.
FW_CRYPTO_SRC	:= firmware_host/host/hal_crypto.c
FW_BOARD_SRC	:= $(filter-out $(FW_CRYPTO_SRC), \
		   $(wildcard firmware_host/host/*.c))
FW_GEN_SRC	:= $(GEN)/attestation.c
SF_LIB		:= $(BUILD)/libsoftfido.a
SF_OBJ		:= $(patsubst %.c,$(BUILD)/obj/%.o,$(FW_CORE_SRC) $(FW_CRYPTO_SRC)) \
		   $(BUILD)/obj/gen/attestation.o
BOARD_OBJ	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(FW_BOARD_SRC))
FAKE_OBJ	:= $(BUILD)/obj/tests/common/fake_board.o

# tapgate's shared code (everything but the programs' main files).
TG_SRC		:= $(wildcard src/common/*.c src/token/*.c src/store/*.c \
		   src/policy/*.c src/order/*.c src/seal/*.c src/sandbox/*.c \
		   src/engine/*.c src/directory/*.c) \
		   $(filter-out src/daemon/main.c,$(wildcard src/daemon/*.c)) \
		   $(filter-out src/verify/tapgate-verify.c, \
		   $(wildcard src/verify/*.c))
TG_LIB		:= $(BUILD)/libtapgate.a
# the console's pages (console/), embedded for the front to serve
CONSOLE_FILES	:= $(sort $(wildcard console/*))
CONSOLE_GEN	:= $(GEN)/console_assets.c
TG_OBJ		:= $(patsubst %.c,$(BUILD)/obj/%.o,$(TG_SRC)) \
		   $(BUILD)/obj/gen/console_assets.o
CTL_SRC		:= $(wildcard src/ctl/*.c)
CTL_OBJ		:= $(patsubst %.c,$(BUILD)/obj/%.o,$(CTL_SRC))
DAEMON_OBJ	:= $(BUILD)/obj/src/daemon/main.o $(BUILD)/obj/gen/default_config.o
# libtapgate-verify: what a downstream connector links to check orders.
# It checks the officers' assertions with OpenSSL itself
# (src/verify/assertion.c), so it needs neither src/token nor libfido2.
VERIFY_LIB	:= $(BUILD)/libtapgate-verify.a
VERIFY_OBJ	:= $(patsubst %.c,$(BUILD)/obj/%.o,$(filter-out \
		   src/verify/tapgate-verify.c,$(wildcard src/verify/*.c)) \
		   $(wildcard src/order/*.c) src/common/b64url.c \
		   src/common/errors.c src/common/jcs.c \
		   src/common/clientdata.c)
# ... also as a shared object (see its rule below)
VERIFY_SONAME	:= libtapgate-verify.so.0
VERIFY_SO	:= $(BUILD)/libtapgate-verify.so.$(VERSION)
VERIFY_PIC_OBJ	:= $(patsubst $(BUILD)/obj/%,$(BUILD)/pic/%,$(VERIFY_OBJ))
VERIFY_MAP	:= src/verify/libtapgate-verify.map

UNIT_SRC	:= $(wildcard tests/unit/test_*.c)
UNIT_BIN	:= $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
E2E_SRC		:= $(wildcard tests/e2e/*.c)
E2E_BIN		:= $(patsubst tests/e2e/%.c,$(BUILD)/tests/%,$(E2E_SRC))
FUZZ_SRC	:= $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY	:= $(patsubst tests/fuzz/%.c,$(BUILD)/tests/replay_%,$(FUZZ_SRC))
FUZZ_BIN	:= $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
BENCH_SRC	:= $(wildcard tests/bench/bench_*.c)
BENCH_BIN	:= $(patsubst tests/bench/%.c,$(BUILD)/tests/%,$(BENCH_SRC))

PROGRAMS	:= $(BUILD)/softfido $(BUILD)/tapgatectl $(BUILD)/tapgated \
		   $(if $(wildcard src/verify/tapgate-verify.c),$(BUILD)/tapgate-verify)

.PHONY: all check check-opt demo demo-console demo-stop deps fuzz bench \
		crash install \
		install-softfido clean tests lint
.DELETE_ON_ERROR:
.SECONDARY:

all: $(PROGRAMS) $(VERIFY_LIB) $(VERIFY_SO)

tests: $(PROGRAMS) $(UNIT_BIN) $(E2E_BIN) $(FUZZ_REPLAY) $(BENCH_BIN) \
    $(BUILD)/tests/exploit.so $(BUILD)/tests/mkcorpus_msg

# ---- generated: the softfido test attestation CA and the key's certificate
$(GEN)/attestation.c: firmware_host/tools/mkattest.sh
	@mkdir -p $(GEN)
	sh firmware_host/tools/mkattest.sh $(GEN)

# the daemon's embedded default configuration
$(GEN)/default_config.c: config/tapgate.conf scripts/embed.sh
	@mkdir -p $(GEN)
	sh scripts/embed.sh tapgated_default_config $< $@

$(BUILD)/obj/gen/default_config.o: $(GEN)/default_config.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# the console's files, again whenever one changes, comes or goes (the list
# is part of the generated file: a stamp holding it changes with it)
$(GEN)/console.list: FORCE
	@mkdir -p $(GEN)
	@echo '$(CONSOLE_FILES)' | cmp -s - $@ || echo '$(CONSOLE_FILES)' >$@

$(CONSOLE_GEN): $(CONSOLE_FILES) $(GEN)/console.list scripts/gen-console.sh
	sh scripts/gen-console.sh $@ $(CONSOLE_FILES)

$(BUILD)/obj/gen/console_assets.o: $(CONSOLE_GEN) Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

FORCE:

$(BUILD)/obj/gen/attestation.o: $(GEN)/attestation.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Wno-missing-variable-declarations -c -o $@ $<

# Objects are compiled again when this file changes: the flags above are
# part of what an object is (a section per function, which the links
# below rely on).
$(BUILD)/obj/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(SF_LIB): $(SF_OBJ)
	rm -f $@; ar rcs $@ $^

$(TG_LIB): $(TG_OBJ)
	rm -f $@; ar rcs $@ $^

$(BUILD)/softfido: $(BOARD_OBJ) $(SF_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_SOFTFIDO)

$(BUILD)/tapgatectl: $(CTL_OBJ) $(TG_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CTL)

$(BUILD)/tapgated: $(DAEMON_OBJ) $(TG_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

$(VERIFY_LIB): $(VERIFY_OBJ)
	rm -f $@; ar rcs $@ $^

# the program (not the library) confines itself: src/sandbox and libseccomp
$(BUILD)/tapgate-verify: $(BUILD)/obj/src/verify/tapgate-verify.o \
    $(BUILD)/obj/src/sandbox/sandbox.o $(VERIFY_LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_VERIFY)

# libtapgate-verify as a shared object too, for connectors that link it
# dynamically: the same sources compiled position-independent, linked with
# a soname and exporting only the API of tapgate_verify.h (the map), so the
# shared code inside (jwk_, jws_, jcs_, b64url_) cannot clash with the
# connector's own symbols.

$(BUILD)/pic/%.o: %.c Makefile
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(filter-out -fPIE,$(CFLAGS)) -fPIC -MMD -MP \
	    -c -o $@ $<

$(VERIFY_SO): $(VERIFY_PIC_OBJ) $(VERIFY_MAP)
	$(CC) -shared -Wl,-soname,$(VERIFY_SONAME) \
	    -Wl,--version-script=$(VERIFY_MAP) -Wl,--no-undefined \
	    -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--gc-sections \
	    -Wl,--as-needed $(SAN) -o $@ $(VERIFY_PIC_OBJ) $(LIBS_VERIFYLIB)

# The seal test runs the YubiKey seal on a software key below the libykpers
# API (tests/stub/ykpers_stub.c), linked instead of -lykpers-1.
YKSTUB_OBJ	:= $(BUILD)/obj/tests/stub/ykpers_stub.o
$(BUILD)/tests/test_seal: $(BUILD)/obj/tests/unit/test_seal.o $(YKSTUB_OBJ) \
    $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(filter-out -lykpers-1,$(LDLIBS))

# The sandbox test needs the sandbox alone: make check builds it without
# the sanitizers too (check-opt), to run what ASan builds skip.
SANDBOX_TEST_OBJ := $(BUILD)/obj/tests/unit/test_sandbox.o \
		   $(BUILD)/obj/src/sandbox/sandbox.o \
		   $(BUILD)/obj/src/common/errors.o
$(BUILD)/tests/test_sandbox: $(SANDBOX_TEST_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# ... as does the C-library test (tests/unit/test_sandbox_libc.c), whose
# malloc cases need glibc's allocator and so the plain build
$(BUILD)/tests/test_sandbox_libc: $(BUILD)/obj/tests/unit/test_sandbox_libc.o \
    $(BUILD)/obj/src/sandbox/sandbox.o $(BUILD)/obj/src/common/errors.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/e2e/%.o $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/bench_%: $(BUILD)/obj/tests/bench/bench_%.o $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# exploited children, preloaded by tests/e2e/privsep_front.sh and
# token_process.sh (no sanitizer: it only wraps two library calls)
$(BUILD)/tests/exploit.so: tests/stub/exploit.c
	@mkdir -p $(dir $@)
	$(CC) -D_GNU_SOURCE -std=c11 -O1 -Wall -Wextra -Werror -fPIC -shared \
	    -o $@ $< -ldl

# Failure injection (tests/fuzz/wrap.c): every harness and its replay link
# with -Wl,--wrap=X for each __wrap_X that wrap.o defines, so the list lives
# in one place.  --wrap redirects the undefined references of every object
# on the link line; the libFuzzer and sanitizer runtimes reference none of
# the wrapped symbols and shared libraries are not affected, so only the
# harness, tapgate's code and the softfido core go through the wrappers,
# which fail only while a harness has started injection.  GNU ld does this
# for gcc and clang alike: the gcc replay runs the same schedules.
NM		?= nm
wrap_ldflags	= $$($(NM) $(1) | sed -n 's/^[0-9a-f]* T __wrap_/-Wl,--wrap=/p')

# fuzz harnesses: replayed over their corpus by every build (gcc works) ...
$(BUILD)/tests/replay_%: $(BUILD)/obj/tests/fuzz/%.o \
    $(BUILD)/obj/tests/fuzz/replay.o $(BUILD)/obj/tests/fuzz/wrap.o \
    $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $(call wrap_ldflags,$(BUILD)/obj/tests/fuzz/wrap.o) \
	    -o $@ $^ $(LDLIBS)

# fuzz_msg's seeds are what the real writers send, recorded by
# mkcorpus_msg DIR (built with the tests, run by hand)
$(BUILD)/tests/mkcorpus_msg: $(BUILD)/obj/tests/fuzz/mkcorpus_msg.o \
    $(TG_LIB) $(SF_LIB) $(FAKE_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# fuzz_privsep trusts the softfido CA its genuine seeds chain to (each
# build makes its own CA, so the seeds keep theirs), found from anywhere
FUZZ_PRIVSEP_ROOTS := -DFUZZ_PRIVSEP_ROOTS='"$(abspath tests/fuzz/fuzz_privsep-ca.pem)"'
$(BUILD)/obj/tests/fuzz/fuzz_privsep.o: CPPFLAGS += $(FUZZ_PRIVSEP_ROOTS)
build/fuzz/fuzz_privsep: FUZZ_FLAGS += $(FUZZ_PRIVSEP_ROOTS)

# ... and built for libFuzzer with clang (make fuzz, and briefly in check).
FUZZ_FLAGS	:= -std=c11 -g -O1 -D_GNU_SOURCE -Isrc -iquote firmware_host/core \
		   -iquote firmware_host/host -fsanitize=fuzzer,address,undefined \
		   -fno-sanitize-recover=all $(PKG_CFLAGS) -Wno-unused-command-line-argument \
		   -DTAPGATE_VERSION='"$(VERSION)"'
FUZZ_DEPS	:= $(FW_CORE_SRC) $(FW_CRYPTO_SRC) $(FW_GEN_SRC) $(CONSOLE_GEN) \
		   tests/common/fake_board.c $(TG_SRC)
FUZZ_OBJ	:= $(patsubst %.c,build/fuzz/obj/%.o,$(FUZZ_DEPS:$(GEN)/%=gen/%))
# the code under test is compiled once with coverage instrumentation, and
# each harness links against it
build/fuzz/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Itests/common -c -o $@ $<
build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -Itests/common -MMD -MP -c -o $@ $<
build/fuzz/libfuzzdeps.a: $(FUZZ_OBJ)
	rm -f $@; ar rcs $@ $^
# the wrappers themselves carry no coverage: a failure shows as the error
# path it takes in the code under test
build/fuzz/wrap.o: tests/fuzz/wrap.c tests/fuzz/wrap.h
	@mkdir -p $(dir $@)
	$(CLANG) $(filter-out -fsanitize=fuzzer%,$(FUZZ_FLAGS)) \
	    -fsanitize=address,undefined -c -o $@ $<
build/fuzz/%: tests/fuzz/%.c tests/fuzz/wrap.h build/fuzz/wrap.o \
    build/fuzz/libfuzzdeps.a
	@mkdir -p $(dir $@)
	$(CLANG) $(FUZZ_FLAGS) $(call wrap_ldflags,build/fuzz/wrap.o) \
	    -Itests/common -o $@ $(filter-out %.h,$^) $(PKG_LIBS) -lpthread

-include $(shell find $(BUILD)/obj build/fuzz/obj -name '*.d' 2>/dev/null)

# ---- the two commands of README.md
deps:
	@sh scripts/deps.sh

# Besides the sanitized build, the programs whose tests say more without
# ASan (RLIMIT_AS, the filter without the sanitizers' allowances, glibc's
# own malloc under the filters) are built plain into build/: tests/run.sh
# runs them as well.
check: deps
	$(MAKE) lint
	$(MAKE) SANITIZE=1 BUILD=build/san all tests
	$(MAKE) check-opt
	$(MAKE) fuzz-build
	@sh tests/run.sh build/san

# What a machine can check besides the tests (HACKING.md, "Style"):
# shellcheck on every shell script, mandoc -Tlint on the manuals, and
# scripts/lint-style.sh on every file.  Each runs, then lint fails if any
# found something.  make check runs it first, so that CI refuses a long
# line or an unquoted variable before it spends its time on the tests.
LINT_SH		= $(wildcard scripts/*.sh tests/*.sh tests/*/*.sh \
		   tests/*/lib/*.sh firmware_host/tools/*.sh) \
		   $(shell for f in contrib/*/*; do head -n 1 "$$f" | \
		   grep -q '^\#!/bin/sh' && echo "$$f"; done)
LINT_PY		= $(wildcard tests/*/lib/*.py tests/browser/*.py) $(shell for f in contrib/*/*; do head -n 1 "$$f" | \
		   grep -q '^\#!/usr/bin/python3' && echo "$$f"; done)
lint: deps
	@rc=0; \
	echo "shellcheck: $(words $(LINT_SH)) scripts"; \
	shellcheck $(LINT_SH) || rc=1; \
	echo "pyflakes3: $(words $(LINT_PY)) programs"; \
	pyflakes3 $(LINT_PY) || rc=1; \
	echo "mandoc -Tlint: man/"; sh scripts/lint-man.sh || rc=1; \
	echo "lint-style: the tree"; sh scripts/lint-style.sh || rc=1; \
	exit $$rc

check-opt:
	$(MAKE) SANITIZE=0 BUILD=build build/tests/test_sandbox \
	    build/tests/test_sandbox_libc build/tapgate-verify build/tapgated

demo: deps
	$(MAKE) all
	@sh scripts/demo.sh $(BUILD)

# the demo's daemon left running with the web console (scripts/demo.sh);
# demo-stop ends it from another terminal
demo-console: deps
	$(MAKE) all
	@DEMO_CONSOLE=1 sh scripts/demo.sh $(BUILD)

DEMO_PID	= $(or $(DEMO_DIR),build/demo)/demo.pid
demo-stop:
	@if [ -s $(DEMO_PID) ]; then kill "$$(cat $(DEMO_PID))"; \
	else echo "no demo is running"; fi

fuzz-build: $(FUZZ_BIN)

FUZZ_SECONDS	?= 300
fuzz: deps
	$(MAKE) fuzz-build
	@for f in $(FUZZ_BIN); do \
		n=$$(basename $$f); mkdir -p build/fuzz/corpus/$$n; \
		echo "== $$n for $(FUZZ_SECONDS) s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -rss_limit_mb=512 \
		    build/fuzz/corpus/$$n tests/fuzz/corpus/$$n || exit 1; \
	done

# The crash test at depth: kill -9 the daemon under load, CRASH_CYCLES times.
CRASH_CYCLES	?= 1000
crash: deps
	$(MAKE) all
	CYCLES=$(CRASH_CYCLES) BUILD=$(BUILD) sh tests/e2e/daemon_crash.sh

bench: deps
	$(MAKE) all $(BENCH_BIN)
	@sh tests/bench/run.sh $(BUILD)

SYSCONFDIR	?= /etc

# The appliance: the daemon and the console (administration commands,
# section 8) in sbin, tapgate-verify in bin; the verifier library (shared
# object with its soname and dev link, and the archive), its header and
# pkg-config file in the multiarch directories; the documented default
# configuration (never overwriting a local one); man pages, systemd units,
# sysusers.d and tmpfiles.d entries, udev rules; an example trust-roots
# file and an example hook under share/doc/tapgate.  Not softfido: see
# install-softfido.  The directories are the ones systemd and udev search
# under $(PREFIX) (/usr and /usr/local both work); packagers may override
# each one.  The architecture triplet comes from DEB_HOST_MULTIARCH (as
# dpkg-buildpackage sets it), dpkg-architecture, or the compiler.
SBINDIR		?= $(PREFIX)/sbin
BINDIR		?= $(PREFIX)/bin
MULTIARCH	?= $(or $(DEB_HOST_MULTIARCH),$(shell dpkg-architecture \
		   -qDEB_HOST_MULTIARCH 2>/dev/null),$(shell $(CC) \
		   -print-multiarch 2>/dev/null))
LIBDIR		?= $(PREFIX)/lib$(if $(MULTIARCH),/$(MULTIARCH))
INCLUDEDIR	?= $(PREFIX)/include
SYSTEMDUNITDIR	?= $(PREFIX)/lib/systemd/system
SYSUSERSDIR	?= $(PREFIX)/lib/sysusers.d
TMPFILESDIR	?= $(PREFIX)/lib/tmpfiles.d
UDEVRULESDIR	?= $(PREFIX)/lib/udev/rules.d
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/tapgate
TG_DATADIR	?= $(PREFIX)/share/tapgate
LIBEXECDIR	?= $(PREFIX)/libexec
# the units and tmpfiles name the installed paths
TG_PATHS_SED	= -e 's|/usr/sbin/tapgated|$(SBINDIR)/tapgated|g' \
		   -e 's|/etc/tapgate|$(SYSCONFDIR)/tapgate|g'
# the pkg-config file's libdir, relative to its prefix when beneath it
PC_LIBDIR	= $(patsubst $(PREFIX)/%,$${exec_prefix}/%,$(LIBDIR))
install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(SYSCONFDIR)/tapgate $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/tapgated $(BUILD)/tapgatectl \
	    $(DESTDIR)$(SBINDIR)/
	install -m 0755 $(BUILD)/tapgate-verify $(DESTDIR)$(BINDIR)/
	install -d $(DESTDIR)$(LIBEXECDIR)/tapgate
	install -m 0755 contrib/senders/tapgate-send-mail \
	    contrib/senders/tapgate-send-webhook $(DESTDIR)$(LIBEXECDIR)/tapgate/
	install -m 0644 $(VERIFY_LIB) $(VERIFY_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf $(notdir $(VERIFY_SO)) $(DESTDIR)$(LIBDIR)/$(VERIFY_SONAME)
	ln -sf $(VERIFY_SONAME) $(DESTDIR)$(LIBDIR)/libtapgate-verify.so
	install -m 0644 src/verify/tapgate_verify.h $(DESTDIR)$(INCLUDEDIR)/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@VERSION@|$(VERSION)|g' \
	    -e 's|^libdir=.*|libdir=$(PC_LIBDIR)|' \
	    src/verify/tapgate-verify.pc.in \
	    >$(DESTDIR)$(LIBDIR)/pkgconfig/tapgate-verify.pc
	[ -e $(DESTDIR)$(SYSCONFDIR)/tapgate/tapgate.conf ] || \
	    install -m 0640 config/tapgate.conf $(DESTDIR)$(SYSCONFDIR)/tapgate/
	install -d $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(SYSUSERSDIR) \
	    $(DESTDIR)$(TMPFILESDIR) $(DESTDIR)$(UDEVRULESDIR) \
	    $(DESTDIR)$(TG_DATADIR)/systemd
	install -m 0644 man/tapgate-verify.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/tapgated.8 man/tapgatectl.8 $(DESTDIR)$(MANDIR)/man8/
	sed $(TG_PATHS_SED) systemd/tapgated.service \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/tapgated.service
	install -m 0644 systemd/tapgated.socket $(DESTDIR)$(SYSTEMDUNITDIR)/
	sed $(TG_PATHS_SED) systemd/tapgated-directory@.service \
	    >$(DESTDIR)$(SYSTEMDUNITDIR)/tapgated-directory@.service
	install -m 0644 systemd/tapgated-directory.socket \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/
	install -m 0644 systemd/tapgate.sysusers \
	    $(DESTDIR)$(SYSUSERSDIR)/tapgate.conf
	sed $(TG_PATHS_SED) systemd/tapgate.tmpfiles \
	    >$(DESTDIR)$(TMPFILESDIR)/tapgate.conf
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/tapgated.service \
	    $(DESTDIR)$(SYSTEMDUNITDIR)/tapgated-directory@.service \
	    $(DESTDIR)$(TMPFILESDIR)/tapgate.conf
	install -m 0644 systemd/yubikey-seal.conf systemd/directory.conf \
	    systemd/https.conf \
	    systemd/senders.conf $(DESTDIR)$(TG_DATADIR)/systemd/
	install -m 0644 udev/70-tapgate.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 0644 contrib/examples/attestation-roots.pem.example \
	    contrib/examples/notify-log.example $(DESTDIR)$(DOCDIR)/
	@# the loader finds a new shared object through its cache
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ] && \
	    command -v ldconfig >/dev/null; then ldconfig; fi

# softfido is a test key: every build makes its own attestation CA, whose
# key lies in the build tree, so a key it certifies proves nothing, and an
# appliance that trusts it accepts any "security key" an attacker runs.
# For test and demo machines only: the program, its man page and the
# build's test CA (to put in a test configuration's trust roots).
install-softfido: $(BUILD)/softfido
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(TG_DATADIR)/softfido
	install -m 0755 $(BUILD)/softfido $(DESTDIR)$(BINDIR)/
	install -m 0644 man/softfido.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(GEN)/softfido-ca.pem \
	    $(DESTDIR)$(TG_DATADIR)/softfido/softfido-test-ca.pem

clean:
	rm -rf build
