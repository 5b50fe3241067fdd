# latprobe — build, run, test. `make help` lists the targets.
# Shape of libbpf-bootstrap's Makefile: objects in .output/, V=1 for the
# full commands, the BPF skeleton generated before any user object.

OUTPUT   ?= .output
CLANG    ?= clang
BPFTOOL  ?= bpftool
CC       ?= cc
PYTHON   ?= /usr/bin/python3
PREFIX   ?= /usr/local
DESTDIR  ?=
# the semantic version (the file VERSION, bumped by hand) and the git revision beside it
VERSION  := $(shell cat VERSION)
GITREV   := $(shell git describe --always --dirty --match NONE 2>/dev/null || echo unknown)
ARCH     := $(shell uname -m | sed 's/x86_64/x86/;s/aarch64/arm64/;s/ppc64le/powerpc/;s/mips.*/mips/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo $$(uname -m)-linux-gnu)

# Debian packages the build, the agent and the tests need (make deps).
DEPS_BUILD := clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make gcc \
	libjson-c-dev libcmocka-dev libclang-rt-14-dev libmicrohttpd-dev libprotobuf-c-dev \
	protobuf-c-compiler libyaml-dev libcrypt-dev libcap-dev libcurl4-openssl-dev libgnutls28-dev \
	libsnappy-dev
DEPS_TEST  := nginx-light wrk curl python3 nftables iproute2 procps prometheus openssl \
	apache2-utils systemd util-linux python3-seccomp prometheus-pushgateway graphite-carbon python3-whisper \
	influxdb victoria-metrics nagios4-core zabbix-agent lintian man-db python3-yaml dpkg-dev \
	nghttp2-client python3-h2 python3-grpcio libssl-dev duktape-dev golang-go golang-google-grpc-dev \
	podman runc busybox-static
DEPS       := $(DEPS_BUILD) $(DEPS_TEST)
# ...and one not in Debian: the OTLP test decodes what the agent sends with the OpenTelemetry project's
# own generated protobuf types (npm: @opentelemetry/otlp-transformer, pinned in
# tests/otlp/package-lock.json), installed into $(OUTPUT)/otlp: third-party code
# stays out of the source tree. Node.js and npm from Debian unless the machine
# has them already (a nodesource Node.js carries its own npm).
OTLP_DECODER := $(OUTPUT)/otlp/node_modules/.package-lock.json

WARN     := -Wall -Wextra -Werror
INCLUDES := -I$(OUTPUT) -Iinclude -Iuserspace
CFLAGS   ?= -g -O2
ALL_CFLAGS := $(CFLAGS) $(WARN) -std=gnu11 $(INCLUDES) -MMD -MP -D_GNU_SOURCE
PKGS     := libbpf json-c libmicrohttpd libprotobuf-c yaml-0.1 zlib libcap libcurl gnutls
LIBS     := $(shell pkg-config --libs $(PKGS) 2>/dev/null || \
	echo -lbpf -lelf -lz -ljson-c -lmicrohttpd -lprotobuf-c -lyaml -lcap -lcurl -lgnutls) -lsnappy \
	-lcrypt -lm -lpthread
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 $(BPF_EXTRA) -D__TARGET_ARCH_$(ARCH) $(WARN) -Wno-unused-function \
	-Iinclude -I/usr/include/$(MULTIARCH) -MMD -MP

SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# user-space modules, by layer (CONTRIBUTING.md, "Layout"); main.c only in the binary,
# the rest also in the tests
LIB_SRCS := $(filter-out userspace/app/main.c,$(wildcard userspace/*/*.c))
# the wire formats, generated from our own .proto files (prometheus: the
# exposition; remote: remote write)
PROTOS   := $(notdir $(basename $(wildcard userspace/proto/*.proto)))
PROTO_C  := $(patsubst %,$(OUTPUT)/%.pb-c.c,$(PROTOS))
LIB_OBJS := $(patsubst userspace/%.c,$(OUTPUT)/%.o,$(LIB_SRCS)) $(patsubst %,$(OUTPUT)/%.pb-c.o,$(PROTOS))
BPF_OBJ  := $(OUTPUT)/latprobe.bpf.o
SKEL     := $(OUTPUT)/latprobe.skel.h

# defined before the rules that list them: make expands prerequisites as it reads
FUZZ_TARGETS := classify parsers webconfig hpack
FUZZ_BINS    := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_TARGETS))
FUZZ_OBJS    := $(patsubst userspace/%.c,$(OUTPUT)/fuzz/%.o,$(LIB_SRCS)) \
	$(patsubst %,$(OUTPUT)/fuzz/%.pb-c.o,$(PROTOS))
FUZZ_CFLAGS  := -g -O1 -std=gnu11 $(WARN) $(INCLUDES) -D_GNU_SOURCE -fno-omit-frame-pointer \
	-fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_TIME    ?= 60

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
# the same modules again, built with the sanitizers, for the unit tests
SAN_OBJS   := $(patsubst userspace/%.c,$(OUTPUT)/san/%.o,$(LIB_SRCS)) \
	$(patsubst %,$(OUTPUT)/san/%.pb-c.o,$(PROTOS))

# a recipe that fails leaves no half-written target behind
.DELETE_ON_ERROR:

.PHONY: readme-usage FORCE all deps deps-apt deps-build run test fuzz fuzz-build bench deps-bench test-unit test-bpf test-e2e install uninstall deb clean help
.DEFAULT_GOAL := all

all: latprobe

help:
	@echo 'make            build ./latprobe'
	@echo 'make deps       install the Debian packages the build and tests need (apt)'
	@echo 'sudo make run   build deps + build + run the agent with its defaults'
	@echo 'sudo make test  deps + build + every test (unit, fuzz briefly, BPF, end to end)'
	@echo 'make fuzz       run every fuzzer for FUZZ_TIME seconds (default 60)'
	@echo 'sudo make bench overhead, accuracy and scale benchmarks (bench/RESULTS.md)'
	@echo 'make install    install under $$(DESTDIR)$$(PREFIX) (default /usr/local)'
	@echo 'make deb        build latprobe_<version>_<arch>.deb (dpkg-deb; lintian-clean)'
	@echo 'V=1             show full commands'

# Idempotent and quick when everything is there: only calls apt for what is missing.
# Several test peers are daemons (zabbix-agent, influxdb, carbon-cache, ...):
# the tests start their own on free ports, so a temporary policy-rc.d keeps
# apt from starting the system's copies while it installs them.
deps: deps-apt $(OTLP_DECODER)

# the Debian packages of $(DEPS)
deps-apt:
	@missing=$$(for p in $(DEPS); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "make deps: need root to install packages (sudo make deps)" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		if [ ! -e /usr/sbin/policy-rc.d ]; then \
			trap 'rm -f /usr/sbin/policy-rc.d' EXIT; \
			printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d; \
		fi; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null || exit 1; \
	fi

# what building and running the agent needs (make run): no test peers
deps-build:
	@$(MAKE) --no-print-directory deps-apt DEPS="$(DEPS_BUILD)"

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/san:
	$(Q)mkdir -p $@

# rewritten only when the version changes, so exactly its users are rebuilt
$(OUTPUT)/version.h: FORCE | $(OUTPUT)
	@v='#define LATPROBE_VERSION "$(VERSION)"\n#define LATPROBE_REVISION "$(GITREV)"'; \
	v=$$(printf "$$v"); \
	[ -f $@ ] && [ "$$(cat $@)" = "$$v" ] || echo "$$v" > $@

$(BPF_OBJ): bpf/latprobe.bpf.c | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name latprobe_bpf > $@

# the protobuf messages, generated from our own .proto files
$(OUTPUT)/%.pb-c.c: userspace/proto/%.proto | $(OUTPUT)
	$(call msg,PROTOC,$@)
	$(Q)protoc-c --proto_path=userspace/proto --c_out=$(OUTPUT) $<

# generated once, kept (not intermediate files make would delete and remake)
.SECONDARY: $(PROTO_C)

$(OUTPUT)/%.pb-c.o: $(OUTPUT)/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(OUTPUT) -c $< -o $@

$(OUTPUT)/san/%.pb-c.o: $(OUTPUT)/%.pb-c.c | $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SAN) -I$(OUTPUT) -c $< -o $@

# generated headers: made before any object (order-only); which object uses
# which is then in its .d file, so only those rebuild when one changes
GEN_HDRS := $(SKEL) $(PROTO_C) $(OUTPUT)/version.h

$(OUTPUT)/%.o: userspace/%.c | $(GEN_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -c $< -o $@

latprobe: $(OUTPUT)/app/main.o $(LIB_OBJS)
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $^ $(LIBS) -o $@

# the README's Usage section is latprobe --help, word for word (test_package checks)
readme-usage: latprobe
	$(Q)$(PYTHON) -c 'import re,subprocess; h=subprocess.run(["./latprobe","--help"],capture_output=True,text=True,check=True).stdout; s=open("README.md").read(); a=s.index("## Usage\n\n```\n")+len("## Usage\n\n```\n"); b=s.index("```\n",a); open("README.md","w").write(s[:a]+h+s[b:])'

run: deps-build latprobe
	./latprobe $(ARGS)

# --- tests ----------------------------------------------------------------
$(OUTPUT)/san/%.o: userspace/%.c | $(GEN_HDRS) $(OUTPUT)/san
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) -c $< -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(SAN_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $< $(SAN_OBJS) -lcmocka $(LIBS) -o $@

# test_oom replaces malloc for every library, which the sanitizers' runtime
# owns: it links the plain objects
$(OUTPUT)/tests/test_oom: tests/unit/test_oom.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $< $(LIB_OBJS) -lcmocka $(LIBS) -o $@

$(OUTPUT)/tests/bpf_test_run: tests/bpf/test_bpf.c tests/bpf/harness.h $(SKEL) $(SAN_OBJS) | $(OUTPUT)/tests
	$(call msg,TEST,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(SAN) $< $(SAN_OBJS) -lcmocka $(LIBS) -o $@

# someone else's cgroup program, for the coexistence test
$(OUTPUT)/tests/other.bpf.o: tests/bpf/other.bpf.c | $(OUTPUT)/tests
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OTLP_DECODER): tests/otlp/package-lock.json tests/otlp/package.json
	@if ! command -v npm >/dev/null; then \
		$(MAKE) --no-print-directory deps-apt DEPS="nodejs npm" || exit 1; \
	fi
	$(Q)mkdir -p $(OUTPUT)/otlp && cp tests/otlp/package.json tests/otlp/package-lock.json $(OUTPUT)/otlp/
	$(Q)cd $(OUTPUT)/otlp && npm ci --no-audit --no-fund --loglevel=error >/dev/null
	@touch $@

test: deps all $(UNIT_BINS) $(OUTPUT)/tests/bpf_test_run $(OUTPUT)/tests/other.bpf.o $(FUZZ_BINS) \
	$(OTLP_DECODER)
	$(Q)$(PYTHON) tests/check_layers.py
	$(Q)$(PYTHON) tests/check_tree.py
	$(Q)$(PYTHON) tests/run_tests.py --unit "$(UNIT_BINS)" --bpf $(OUTPUT)/tests/bpf_test_run \
		--fuzz "$(FUZZ_BINS)" --e2e tests/e2e --binary ./latprobe $(TESTARGS)

test-unit: $(UNIT_BINS)
	$(Q)$(PYTHON) tests/run_tests.py --unit "$(UNIT_BINS)"

test-bpf: $(OUTPUT)/tests/bpf_test_run
	$(Q)$(PYTHON) tests/run_tests.py --bpf $(OUTPUT)/tests/bpf_test_run

test-e2e: latprobe $(OUTPUT)/tests/other.bpf.o $(OTLP_DECODER)
	$(Q)$(PYTHON) tests/run_tests.py --e2e tests/e2e --binary ./latprobe $(TESTARGS)

# --- fuzzing (libFuzzer, clang, ASan + UBSan) --------------------------------

$(OUTPUT)/fuzz:
	$(Q)mkdir -p $@

$(OUTPUT)/fuzz/%.o: userspace/%.c | $(GEN_HDRS) $(OUTPUT)/fuzz
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c $< -o $@

$(OUTPUT)/fuzz/%.pb-c.o: $(OUTPUT)/%.pb-c.c | $(OUTPUT)/fuzz
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) -g -O1 -I$(OUTPUT) -fsanitize=address,undefined,fuzzer-no-link -c $< -o $@

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS) | $(OUTPUT)/fuzz
	$(call msg,FUZZER,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $< $(FUZZ_OBJS) $(LIBS) -o $@

.SECONDARY: $(FUZZ_OBJS)

fuzz-build: $(FUZZ_BINS)

# make fuzz [FUZZ_TIME=seconds per target]: new inputs go to .output/fuzz/corpus-*
fuzz: deps $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(OUTPUT)/fuzz/corpus-$$t; \
		echo "== fuzz_$$t for $(FUZZ_TIME)s"; \
		$(OUTPUT)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
			$(OUTPUT)/fuzz/corpus-$$t tests/fuzz/corpus/$$t 2>&1 | \
			grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Done' || exit 1; \
	done

# --- benchmarks (bench/) ------------------------------------------------------
$(OUTPUT)/bench:
	$(Q)mkdir -p $@

$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/bench/ringbuf.skel.h: $(OUTPUT)/bench/ringbuf.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ringbuf_bpf > $@

$(OUTPUT)/bench/ringbuf_consumer: bench/ringbuf_consumer.c $(OUTPUT)/bench/ringbuf.skel.h
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -I$(OUTPUT)/bench $< $(LIBS) -o $@

$(OUTPUT)/bench/accuracy_server: bench/accuracy_server.c | $(OUTPUT)/bench
	$(call msg,BINARY,$@)
	$(Q)$(CC) $(CFLAGS) $(WARN) -pthread $< -lm -o $@

BENCH_BINS := $(OUTPUT)/bench/floor.bpf.o $(OUTPUT)/bench/micro.bpf.o $(OUTPUT)/bench/ringbuf_consumer \
	      $(OUTPUT)/bench/accuracy_server

# make bench: overhead side by side with the floor and the peers, accuracy
# against a server's own truth, cost at 100 / 10k / 100k series, HTTPS and
# HTTP/2 inside TLS; then one table of every target (bench/RESULTS.md). About
# 18 minutes; BENCH_SECONDS,
# BENCH_ROUNDS, BENCH_ACC_SECONDS, BENCH_SCALE_SIZES and BENCH_PLACEMENT
# (kcost's CPU placements: split,same) shorten it.
bench: deps-bench all $(BENCH_BINS)
	$(Q)$(PYTHON) bench/kcost.py --seconds $(or $(BENCH_SECONDS),4) --placement $(or $(BENCH_PLACEMENT),split,same) \
		--modes keepalive,close,h2,h2mux,pingpong,grpc
	$(Q)$(PYTHON) bench/tlscost.py --seconds $(or $(BENCH_SECONDS),4) --modes https,h2
	$(Q)$(PYTHON) bench/overhead.py --seconds $(or $(BENCH_SECONDS),6)
	$(Q)$(PYTHON) bench/accuracy.py
	$(Q)$(PYTHON) bench/scale.py
	$(Q)$(PYTHON) bench/memsoak.py --minutes $(or $(BENCH_SOAK_MINUTES),15) \
		--json $(OUTPUT)/bench/memsoak.json
	$(Q)$(PYTHON) bench/summary.py

deps-bench:
	@$(MAKE) --no-print-directory deps-apt DEPS="$(DEPS) bpftrace"

# --- install --------------------------------------------------------------
# make install: the binary, the unit (ExecStart pointing at it), the defaults
# file (kept if present), the man page. UNITDIR: /lib/systemd/system for a
# package, /etc/systemd/system (the admin's) otherwise.
UNITDIR ?= /etc/systemd/system
install: latprobe
	install -D -m 0755 latprobe $(DESTDIR)$(PREFIX)/sbin/latprobe
	install -D -m 0644 deploy/latprobe.service $(DESTDIR)$(UNITDIR)/latprobe.service
	sed -i 's|/usr/sbin/latprobe|$(PREFIX)/sbin/latprobe|' $(DESTDIR)$(UNITDIR)/latprobe.service
	[ -e $(DESTDIR)/etc/default/latprobe ] || \
		install -D -m 0644 deploy/latprobe.default $(DESTDIR)/etc/default/latprobe
	[ -e $(DESTDIR)/etc/latprobe/latprobe.yaml ] || \
		install -D -m 0644 deploy/latprobe.yaml $(DESTDIR)/etc/latprobe/latprobe.yaml
	install -D -m 0644 deploy/latprobe.8 $(DESTDIR)$(PREFIX)/share/man/man8/latprobe.8

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/latprobe $(DESTDIR)$(UNITDIR)/latprobe.service \
		$(DESTDIR)$(PREFIX)/share/man/man8/latprobe.8

# --- Debian package ---------------------------------------------------------
# make deb: latprobe_<version>_<arch>.deb here, built with dpkg-deb (no source
# package): Depends from dpkg-shlibdeps, /etc/default/latprobe a conffile,
# the deploy/ examples under /usr/share/doc/latprobe/examples.
DEB_VERSION := $(VERSION)
DEB_ARCH    := $(shell dpkg --print-architecture 2>/dev/null || echo amd64)
DEB_FILE    := latprobe_$(DEB_VERSION)_$(DEB_ARCH).deb
DEB_ROOT    := $(OUTPUT)/deb/root
DEB_DOC     := $(DEB_ROOT)/usr/share/doc/latprobe

deb: latprobe
	$(call msg,DEB,$(DEB_FILE))
	$(Q)rm -rf $(OUTPUT)/deb && mkdir -p $(DEB_ROOT)/DEBIAN $(OUTPUT)/deb/debian
	$(Q)$(MAKE) --no-print-directory install DESTDIR=$(DEB_ROOT) PREFIX=/usr \
		UNITDIR=/lib/systemd/system >/dev/null
	$(Q)strip --strip-unneeded --remove-section=.comment --remove-section=.note \
		$(DEB_ROOT)/usr/sbin/latprobe
	$(Q)gzip -9n $(DEB_ROOT)/usr/share/man/man8/latprobe.8
	$(Q)install -D -m 0644 deploy/debian/copyright $(DEB_DOC)/copyright
	$(Q)sed -e 's/@VERSION@/$(DEB_VERSION)/' -e 's/@GITREV@/$(GITREV)/' \
		-e "s/@DATE@/$$(date -R -d @$$(git log -1 --format=%ct 2>/dev/null || date +%s))/" \
		deploy/debian/changelog.in | gzip -9n > $(DEB_DOC)/changelog.gz
	$(Q)gzip -9n < README.md > $(DEB_DOC)/README.md.gz
	$(Q)mkdir -p $(DEB_DOC)/examples && cp -r deploy/kubernetes deploy/zabbix deploy/grafana \
		deploy/prometheus $(DEB_DOC)/examples/
	$(Q)find $(DEB_ROOT) -type d -exec chmod 0755 {} + && \
		find $(DEB_ROOT)/usr/share $(DEB_ROOT)/etc $(DEB_ROOT)/lib -type f -exec chmod 0644 {} +
	$(Q)printf 'Source: latprobe\n\nPackage: latprobe\nArchitecture: any\n' \
		> $(OUTPUT)/deb/debian/control
	$(Q)deps=$$(cd $(OUTPUT)/deb && dpkg-shlibdeps -O root/usr/sbin/latprobe 2>/dev/null | \
		sed -n 's/^shlibs:Depends=//p'); [ -n "$$deps" ] || { echo "dpkg-shlibdeps failed" >&2; exit 1; }; \
	size=$$(du -sk --exclude=DEBIAN $(DEB_ROOT) | cut -f1); \
	sed -e 's/@VERSION@/$(DEB_VERSION)/' -e 's/@ARCH@/$(DEB_ARCH)/' -e "s/@SIZE@/$$size/" \
		-e "s/@DEPENDS@/$$deps/" deploy/debian/control.in > $(DEB_ROOT)/DEBIAN/control
	$(Q)printf '/etc/default/latprobe\n/etc/latprobe/latprobe.yaml\n' > $(DEB_ROOT)/DEBIAN/conffiles
	$(Q)install -m 0755 deploy/debian/postinst deploy/debian/prerm deploy/debian/postrm \
		$(DEB_ROOT)/DEBIAN/
	$(Q)(cd $(DEB_ROOT) && find usr lib -type f -exec md5sum {} + | sort -k2) \
		> $(DEB_ROOT)/DEBIAN/md5sums && chmod 0644 $(DEB_ROOT)/DEBIAN/md5sums
	$(Q)dpkg-deb --root-owner-group -Zxz --build $(DEB_ROOT) $(DEB_FILE) >/dev/null
	@echo "built $(DEB_FILE) (apt install ./$(DEB_FILE))"

clean:
	rm -rf $(OUTPUT) latprobe latprobe_*.deb

-include $(wildcard $(OUTPUT)/*.d $(OUTPUT)/*/*.d $(OUTPUT)/san/*/*.d $(OUTPUT)/tests/*.d \
	$(OUTPUT)/fuzz/*/*.d $(OUTPUT)/fuzz/*.d)
