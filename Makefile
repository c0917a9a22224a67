# bedrock: every command a user needs. Each target does its own set-up.
.PHONY: all setup test lint unit nostd run serve bench fuzz clean help

CARGO ?= cargo
# Crates that must build for bare metal (no std, no alloc, no libc).
NOSTD_CRATES := bedrock-http bedrock-json bedrock-web bedrock-store bedrock-hotel bedrock-net
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := request_parser json_reader router

all: test

help:
	@echo "make run     boot the unikernel in QEMU, serving on 127.0.0.1:8888 (not built yet)"
	@echo "make test    every test: lint, host unit/property tests, bare-metal build"
	@echo "make bench   criterion benchmarks, side by side with reference crates"
	@echo "make fuzz    each fuzz target for FUZZ_SECONDS (default $(FUZZ_SECONDS)) seconds"
	@echo "make clean   remove build artefacts"

setup:
	@scripts/setup.sh base

test: setup lint unit nostd
	@echo "make test: all passed"

lint: setup
	@echo "== cargo fmt --check"
	@$(CARGO) fmt --all -- --check
	@echo "== cargo clippy -D warnings"
	@$(CARGO) clippy --quiet --workspace --all-targets -- -D warnings

unit: setup
	@echo "== cargo test (host: unit and property tests)"
	@$(CARGO) test --quiet --workspace

nostd: setup
	@echo "== build the portable crates for aarch64-unknown-none (proves no_std)"
	@$(CARGO) build --quiet --target aarch64-unknown-none $(addprefix -p ,$(NOSTD_CRATES))

run: setup
	@echo "make run: the unikernel is not built yet (issues 4 and 5). Nothing to boot." >&2
	@exit 1

serve: setup
	@echo "make serve: the hosted server is not built yet (issue 6)." >&2
	@exit 1

bench: setup
	@echo "== criterion benchmarks (ratios vs httparse, matchit, serde_json in the same run)"
	@$(CARGO) bench --workspace --quiet -- --noplot 2>&1 | scripts/bench-ratios.py

fuzz:
	@scripts/setup.sh fuzz
	@for t in $(FUZZ_TARGETS); do \
		echo "== fuzz $$t for $(FUZZ_SECONDS) s"; \
		(cd fuzz && $(CARGO) +nightly fuzz run $$t -- -max_total_time=$(FUZZ_SECONDS)) || exit 1; \
	done

clean:
	$(CARGO) clean
	rm -rf fuzz/target
