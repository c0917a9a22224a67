# bedrock: every command a user needs. Each target does its own set-up.
.PHONY: all setup setup-qemu test lint unit nostd kernel kernel-test run serve bench fuzz clean help \
	setup-server server server-aarch64 server-test server-lint bench-serve browser-test bench-kernel \
	hostile-test todo-test bench-disk run-test probe image image-test deploy-test bench-bulk metrics-test \
	bench-bulk-profile

CARGO ?= cargo
# Crates that must build for bare metal (no std, no alloc, no libc).
NOSTD_CRATES := bedrock-http bedrock-json bedrock-web bedrock-store bedrock-hotel bedrock-net bedrock-journal bedrock-todo bedrock-conn bedrock-virtio bedrock-metrics
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := request_parser json_reader router net_frame conditional host
# The unikernel: its own cargo workspace in kernel/ (target aarch64-unknown-none).
KERNEL_OUT := kernel/target/aarch64-unknown-none/release
KERNEL_ELF := $(KERNEL_OUT)/bedrock-kernel
# Which app `make run` and `make serve` run: hotel (the default) or todo.
# Each app is an image of its own: bedrock-kernel[-APP], bedrock-serve[-APP].
APP ?= hotel
APP_SUFFIX := $(if $(filter hotel,$(APP)),,-$(APP))
APP_TRY := $(if $(filter hotel,$(APP)),/api/hotels,/todos)
# Where `make run` keeps the app's data: a raw disk image, made on first
# use; DISK=none runs without one (nothing persists).
DISK ?= target/disk/$(APP).img
PORT ?= 8888
# The hosted server (server/, its own cargo workspace): `make serve` runs it
# on ROOT at 127.0.0.1:SERVE_PORT; `make serve PORT=9000` overrides the port.
SERVER_BIN := server/target/release/bedrock-serve
SERVER_BIN_TODO := server/target/release/bedrock-serve-todo
SERVER_BIN_A64 := server/target/aarch64-unknown-linux-gnu/release/bedrock-serve
# Its unit tests build for the host with std and without the libc-free
# link flags of server/.cargo/config.toml (RUSTFLAGS overrides them).
SERVER_HOST_TARGET := target/host-test
SERVE_PORT ?= 8080
ROOT ?= www
ARGS ?=
# The unikernel's QEMU machine is written once, in tests/lib/bedrock_test.py,
# which the Python tests import and the shell scripts run (scripts/run.sh).

all: test

help:
	@echo "make run     boot the unikernel in QEMU serving the Hotel app on 127.0.0.1:PORT (PORT=$(PORT)); APP=todo for the Todo-Backend app; as root on a tap behind scripts/forward.py, NET=user for QEMU's user network"
	@echo "make test    every test: lint, host unit/property tests, bare-metal build, kernel in QEMU, web page in Chromium"
	@echo "make kernel  build the unikernel image ($(KERNEL_ELF)) and its test runner"
	@echo "make serve   the hosted server on ROOT=$(ROOT) at 127.0.0.1:$(SERVE_PORT) (ARGS='--allow-write' ...); APP=todo as for run"
	@echo "make bench   criterion benchmarks, side by side with reference crates; bench-serve: wrk vs nginx;"
	@echo "             bench-bulk: 256 MiB each way through the unikernel's echo (window scaling on/off) and over veth"
	@echo "             bench-bulk-profile: the echo's guest instructions by function and source line"
	@echo "make hostile-test  issue 15's hostile clients against the unikernel (tap) and bedrock-serve (veth)"
	@echo "make run-test    make run in a pty: 64 parallel new connections within 1 s, Ctrl-C leaves nothing"
	@echo "make image   the OCI image of bedrock-serve (podman, FROM scratch); image-test runs it and talks to it"
	@echo "make deploy-test  deploy/kubernetes validated offline (kubernetes-validate, issue 17's requirements)"
	@echo "make metrics-test /metrics of both servers through promtool check metrics and a real Prometheus server"
	@echo "make fuzz    each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS)) seconds"
	@echo "make clean   remove build artefacts"

setup:
	@scripts/setup.sh base

setup-qemu:
	@scripts/setup.sh base qemu

test: setup-qemu lint unit nostd kernel-test server-test todo-test browser-test hostile-test run-test image-test deploy-test metrics-test
	@echo "make test: all passed"

lint: setup
	@echo "== cargo fmt --check"
	@$(CARGO) fmt --all -- --check
	@echo "== cargo clippy -D warnings"
	@$(CARGO) clippy --quiet --workspace --all-targets -- -D warnings
	@echo "== kernel: cargo fmt --check, cargo clippy -D warnings"
	@cd kernel && $(CARGO) fmt -- --check
	@cd kernel && $(CARGO) clippy --quiet --release -- -D warnings

unit: setup
	@echo "== cargo test (host: unit and property tests)"
	@$(CARGO) test --quiet --workspace

nostd: setup
	@echo "== build the portable crates for aarch64-unknown-none (proves no_std)"
	@$(CARGO) build --quiet --target aarch64-unknown-none $(addprefix -p ,$(NOSTD_CRATES))

kernel: setup-qemu
	@echo "== build the unikernel (release): $(KERNEL_ELF) and $(KERNEL_OUT)/ktest"
	@cd kernel && $(CARGO) build --quiet --release

kernel-test: kernel
	@echo "== kernel: in-QEMU test runner, modern and legacy virtio, crash reports"
	@tests/kernel/ktest.sh $(KERNEL_OUT)/ktest
	@echo "== kernel: end to end over a tap device against Linux (ping, arping, pcap)"
	@tests/kernel/e2e_tap.sh
	@echo "== kernel: boot time, idle host CPU, image size, Ctrl-C"
	@tests/kernel/boot_metrics.py $(KERNEL_ELF)
	@echo "== kernel: the Hotel app over HTTP in QEMU (curl, http.client, bad clients)"
	@tests/kernel/e2e_http.py $(KERNEL_ELF)
	@echo "== kernel: the Hotel app on a virtio-blk disk: SIGKILL during 16 clients' changes, reboot, every acknowledged change there; damaged records"
	@tests/kernel/disk_crash.py $(KERNEL_ELF)
	@echo "== kernel: Linux's TCP through a faulty link (5% loss, duplication, reordering): 10 MiB echoed, Hotel API"
	@tests/kernel/faulty_link.sh

# As root: the guest on a tap in a network namespace, 127.0.0.1:PORT relayed
# to it by scripts/forward.py (a real listen backlog); otherwise, or with
# NET=user, QEMU's user network (hostfwd, backlog 1). See scripts/run.sh.
NET ?= auto
run: kernel
	@[ -e $(KERNEL_ELF)$(APP_SUFFIX) ] || { echo "make run: no app '$(APP)' (APP=hotel or APP=todo)"; exit 2; }
	@echo "make run: booting the $(APP) app; try: curl localhost:$(PORT)$(APP_TRY); stop with Ctrl-C (or Ctrl-A X)"
	@NET=$(NET) DISK=$(filter-out none,$(DISK)) scripts/run.sh $(APP) $(PORT)

# Issue 17: `make run` in a terminal (a pty), 64 parallel new connections
# answered within 1 s (three rounds), then Ctrl-C and nothing left behind.
run-test: kernel
	@echo "== make run: 64 parallel new connections through 127.0.0.1:PORT within 1 s, then Ctrl-C leaves nothing behind"
	@python3 tests/run/parallel.py

# Issue 17's OCI image of the hosted server (deploy/Containerfile): FROM
# scratch with the static bedrock-serve and the static health probe of
# deploy/probe, numeric non-root user, a HEALTHCHECK, the site on /srv and
# the data volume on /data. `podman build --format docker`: the OCI format
# drops HEALTHCHECK. These machines need podman's runc runtime
# (../shared/reference/platform.md).
IMAGE ?= localhost/bedrock-serve:latest
IMAGE_CONTEXT := target/image
PROBE_BIN := deploy/probe/target/x86_64-unknown-linux-gnu/release/bedrock-probe
PODMAN := podman --runtime runc

probe: setup
	@echo "== the image's health probe (static, no libc): fmt, clippy, $(PROBE_BIN)"
	@cd deploy/probe && $(CARGO) fmt -- --check
	@cd deploy/probe && $(CARGO) clippy --quiet --release -- -D warnings
	@cd deploy/probe && $(CARGO) build --quiet --release

image: server probe
	@scripts/setup.sh container
	@echo "== OCI image $(IMAGE) with podman (FROM scratch: $(SERVER_BIN), $(PROBE_BIN))"
	@rm -rf $(IMAGE_CONTEXT) && mkdir -p $(IMAGE_CONTEXT)/data $(IMAGE_CONTEXT)/srv
	@cp $(SERVER_BIN) $(PROBE_BIN) deploy/Containerfile $(IMAGE_CONTEXT)/
	@$(PODMAN) build --quiet --format docker -t $(IMAGE) -f $(IMAGE_CONTEXT)/Containerfile $(IMAGE_CONTEXT) >/dev/null
	@echo "make image: $(IMAGE), $$(podman image inspect --format '{{.Size}}' $(IMAGE)) bytes; run it with:"
	@echo "  $(PODMAN) run --rm --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --read-only -p 127.0.0.1:8080:8080 -v ./www:/srv:ro -v bedrock-data:/data $(IMAGE)"

# Runs the image and talks to it (tests/image/image_test.py); skips, saying
# why, where podman cannot be installed or cannot run containers.
image-test:
	@scripts/setup.sh container || echo "image-test: could not install podman"
	@if command -v podman >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory image && \
		echo "== the image in podman: a mounted file, POST /api/hotels, HEALTHCHECK, restart keeps the hotel" && \
		python3 tests/image/image_test.py --image $(IMAGE); \
	else echo "image-test: SKIP: no podman on this machine"; fi

# deploy/kubernetes validated offline: kubernetes-validate (its own venv
# under target/, from scripts/setup.sh kube) and issue 17's requirements
# read from the YAML (tests/deploy/validate.py). No cluster runs them.
deploy-test:
	@scripts/setup.sh kube
	@echo "== deploy/kubernetes: schema (kubernetes-validate --strict) and issue 17's requirements, offline"
	@target/kube-venv/bin/python tests/deploy/validate.py

setup-server:
	@scripts/setup.sh base server

server: setup-server
	@echo "== build the hosted server (release, static, no libc): $(SERVER_BIN)"
	@cd server && $(CARGO) build --quiet --release

server-aarch64: setup-server
	@echo "== build the hosted server for aarch64: $(SERVER_BIN_A64)"
	@cd server && $(CARGO) build --quiet --release --target aarch64-unknown-linux-gnu

server-lint: setup-server
	@echo "== server: cargo fmt --check, cargo clippy -D warnings (x86_64 and aarch64)"
	@cd server && $(CARGO) fmt -- --check
	@cd server && $(CARGO) clippy --quiet --release -- -D warnings
	@cd server && $(CARGO) clippy --quiet --release --target aarch64-unknown-linux-gnu -- -D warnings
	@cd server && RUSTFLAGS= $(CARGO) clippy --quiet --tests --target-dir $(SERVER_HOST_TARGET) -- -D warnings

server-test: server server-aarch64 server-lint
	@echo "== server: unit tests (host build with std: args, paths, journal, directories, listings, eviction)"
	@cd server && RUSTFLAGS= $(CARGO) test --quiet --target-dir $(SERVER_HOST_TARGET)
	@echo "== server: end to end against the x86_64 binary"
	@python3 tests/server/e2e.py $(SERVER_BIN)
	@echo "== server: listings of 100,000 entries and eviction at the connection cap (x86_64)"
	@python3 tests/server/capacity.py $(SERVER_BIN)
	@echo "== server: end to end against the aarch64 binary under qemu-user"
	@python3 tests/server/e2e.py --qemu qemu-aarch64 $(SERVER_BIN_A64)
	@echo "== server: listings and eviction against the aarch64 binary under qemu-user"
	@python3 tests/server/capacity.py --qemu qemu-aarch64 $(SERVER_BIN_A64)

# Issue 15's proof: hostile clients (1,000 half-sent, trickling or idle
# connections of each kind, 256 readers that never read a large reply, a
# spoofed SYN flood) while a legitimate client is timed, against the
# unikernel over a tap and bedrock-serve over a veth pair.
# Both run even if the first fails, so one run shows both servers' figures.
hostile-test: setup-qemu server
	@echo "== hostile clients against the unikernel over a tap: 1,000 slow/idle connections per kind, 256 stalled readers, a SYN flood"
	@ok=0; tests/hostile/kernel.sh || ok=1; \
	echo "== hostile clients against bedrock-serve (1 worker, --max-conns 256) over a veth pair: the same"; \
	tests/hostile/server.sh $(SERVER_BIN) || ok=1; exit $$ok

# Issue 17's /metrics (bedrock-metrics, both servers) checked by
# Prometheus's own tools, Debian's prometheus package (scripts/setup.sh
# metrics): promtool check metrics on each page, and a Prometheus server
# scraping both. The counters' exact movements are checked in
# kernel-test (e2e_http.py) and server-test (e2e.py).
metrics-test: server kernel
	@scripts/setup.sh metrics
	@echo "== /metrics: promtool check metrics on both servers' pages, deadlines counted, a real Prometheus scraping both"
	@python3 tests/metrics/metrics_test.py --server $(SERVER_BIN) --kernel $(KERNEL_ELF)

# The second app, the Todo-Backend, on both servers.
todo-test: server kernel
	@echo "== the Todo-Backend app end to end: bedrock-serve-todo and the bedrock-kernel-todo image in QEMU"
	@python3 tests/todo/e2e.py --server $(SERVER_BIN_TODO) --kernel $(KERNEL_ELF)-todo

browser-test: server kernel
	@scripts/setup.sh browser
	@echo "== the Hotel web page in headless Chromium, against bedrock-serve and the unikernel in QEMU"
	@python3 tests/browser/hotel_page.py --server $(SERVER_BIN) --kernel $(KERNEL_ELF)

serve: server
	@mkdir -p $(ROOT)
	@[ -e $(ROOT)/index.html ] || printf '<!doctype html>\n<title>bedrock</title>\n<h1>bedrock</h1>\n<p>Served by bedrock-serve. The $(APP) app is at <a href="$(APP_TRY)">$(APP_TRY)</a>.</p>\n' > $(ROOT)/index.html
	@[ -e $(SERVER_BIN)$(APP_SUFFIX) ] || { echo "make serve: no app '$(APP)' (APP=hotel or APP=todo)"; exit 2; }
	@echo "make serve: the $(APP) app beside the files of $(ROOT); try: curl localhost:$(if $(filter command line,$(origin PORT)),$(PORT),$(SERVE_PORT))$(APP_TRY)"
	@$(SERVER_BIN)$(APP_SUFFIX) --root $(ROOT) --listen 127.0.0.1:$(if $(filter command line,$(origin PORT)),$(PORT),$(SERVE_PORT)) $(ARGS)

bench: setup
	@echo "== criterion benchmarks (ratios vs httparse, matchit, serde_json in the same run)"
	@$(CARGO) bench --workspace --quiet -- --noplot 2>&1 | scripts/bench-ratios.py
	@$(MAKE) --no-print-directory bench-serve bench-kernel bench-disk bench-bulk

# Benchmark images log at warn level (no access-log line per request), one
# for QEMU user networking and one with the tap subnet's addresses.
bench-kernel: setup-qemu
	@scripts/setup.sh bench
	@echo "== build the unikernel for benchmarks (BEDROCK_LOG=warn)"
	@cd kernel && BEDROCK_LOG=warn CARGO_TARGET_DIR=target/bench $(CARGO) build --quiet --release --bin bedrock-kernel
	@cd kernel && BEDROCK_LOG=warn BEDROCK_IP=10.0.4.15/24 BEDROCK_GATEWAY=10.0.4.1 CARGO_TARGET_DIR=target/bench-tap \
		$(CARGO) build --quiet --release --bin bedrock-kernel
	@echo "== unikernel: wrk over hostfwd and over a tap device"
	@scripts/bench-kernel.py --elf kernel/target/bench/aarch64-unknown-none/release/bedrock-kernel \
		--tap-elf kernel/target/bench-tap/aarch64-unknown-none/release/bedrock-kernel

# The disk journal: PUTs with no disk, with group commit, with a flush per
# request (issue 14).
bench-disk: setup-qemu
	@scripts/setup.sh bench
	@echo "== build the unikernel for the disk benchmark (BEDROCK_LOG=warn; BEDROCK_COMMIT=each for the per-request flush)"
	@cd kernel && BEDROCK_LOG=warn CARGO_TARGET_DIR=target/bench $(CARGO) build --quiet --release --bin bedrock-kernel
	@cd kernel && BEDROCK_LOG=warn BEDROCK_COMMIT=each CARGO_TARGET_DIR=target/bench-each $(CARGO) build --quiet --release --bin bedrock-kernel
	@echo "== unikernel: wrk PUTs against the journal on a virtio-blk disk"
	@scripts/bench-disk.py --elf kernel/target/bench/aarch64-unknown-none/release/bedrock-kernel \
		--each-elf kernel/target/bench-each/aarch64-unknown-none/release/bedrock-kernel

# Bulk TCP: the echo service over a tap, RFC 7323 window scaling on and off
# (BEDROCK_WINDOW_SCALING=0), beside Linux to Linux over veth. The images are
# bulk-transfer builds of bedrock-net (4 slots of 4 MiB buffers, see
# crates/net/src/limits.rs), so a scaled window can be megabytes.
BULK_IMAGE_ENV = BEDROCK_LOG=warn BEDROCK_IP=10.0.4.15/24 BEDROCK_GATEWAY=10.0.4.1 BEDROCK_ECHO_PORT=7
BULK_FEATURES = --features bedrock-net/bulk
BULK_ELF = aarch64-unknown-none/release/bedrock-kernel
bench-bulk: setup-qemu
	@scripts/setup.sh bench
	@echo "== build the unikernel's echo images (window scaling on, off)"
	@cd kernel && $(BULK_IMAGE_ENV) CARGO_TARGET_DIR=target/bench-bulk-on \
		$(CARGO) build --quiet --release --bin bedrock-kernel $(BULK_FEATURES)
	@cd kernel && $(BULK_IMAGE_ENV) BEDROCK_WINDOW_SCALING=0 CARGO_TARGET_DIR=target/bench-bulk-off \
		$(CARGO) build --quiet --release --bin bedrock-kernel $(BULK_FEATURES)
	@echo "== bulk TCP through the echo service, and Linux over veth"
	@scripts/bench-bulk.py --on kernel/target/bench-bulk-on/$(BULK_ELF) \
		--off kernel/target/bench-bulk-off/$(BULK_ELF) $(BULK_ARGS)

# Where the echo's guest instructions go, by function and source line: an
# image with debug information, every instruction counted (QEMU -d exec).
BULK_PROFILE_BYTES ?= 8388608
bench-bulk-profile: setup-qemu
	@scripts/setup.sh bench
	@cd kernel && $(BULK_IMAGE_ENV) CARGO_PROFILE_RELEASE_DEBUG=limited \
		CARGO_TARGET_DIR=target/bench-bulk-profile \
		$(CARGO) build --quiet --release --bin bedrock-kernel $(BULK_FEATURES)
	@scripts/bench-bulk.py --on - --off - --bytes $(BULK_PROFILE_BYTES) \
		--profile kernel/target/bench-bulk-profile/$(BULK_ELF)

bench-serve: server
	@scripts/setup.sh bench
	@echo "== hosted server: wrk against bedrock-serve and nginx side by side"
	@scripts/bench-serve.sh $(SERVER_BIN)

fuzz:
	@scripts/setup.sh fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		(cd fuzz && $(CARGO) +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done

clean:
	$(CARGO) clean
	cd kernel && $(CARGO) clean
	cd server && $(CARGO) clean
	cd deploy/probe && $(CARGO) clean
	rm -rf fuzz/target
