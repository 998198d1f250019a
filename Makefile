# SPDX-License-Identifier: GPL-2.0
#
# dm-pcache: top-level entry points.  `make help` lists them.

SELFTESTS := tools/testing/selftests/dm-pcache
KERNEL_SH := $(SELFTESTS)/kernel.sh
VMTEST    := $(SELFTESTS)/vmtest.sh
MODSRC    := $(CURDIR)/drivers/md/dm-pcache
TOOLSRC   := tools/dm-pcache
FUZZ_SECONDS ?= 60

# Kernel to build the module against: the running kernel's build directory
# if it has one, else the cached test kernel (built on first use).
KDIR ?= $(shell d=/lib/modules/$$(uname -r)/build; \
	  if [ -f $$d/Makefile ]; then echo $$d; \
	  else $(KERNEL_SH) kernel; fi)

.PHONY: all modules check demo kernel vmtest bench torture check-splat intree \
	clean help tools fuzz

all: modules

modules:
	$(MAKE) -C $(KDIR) M=$(MODSRC) W=1 CONFIG_DM_PCACHE=m \
		CONFIG_DM_PCACHE_KUNIT_TEST=m modules

check:
	$(SELFTESTS)/check.sh

demo:
	$(VMTEST) --backing-size 2G -- $(SELFTESTS)/demo.sh

kernel:
	$(KERNEL_SH) kernel

# make bench [ICOUNT=1] [BENCH_ARGS='--rounds 5 --runtime 8']
bench:
	$(SELFTESTS)/bench.sh $(if $(filter 1,$(ICOUNT)),--icount) $(BENCH_ARGS)

# make torture [ROUNDS=200]: power-cut rounds, then the full crash-point sweep
ROUNDS ?= 200
torture:
	$(SELFTESTS)/torture.sh $(ROUNDS)
	DMPC_KUNIT=0 DMPC_TESTS='test_crash_*.sh' DMPC_SWEEP_TEAR=both \
		$(VMTEST) --pmem-count 2 --backing-count 2

# Userspace: pcache_check, pcache_dump, pcache_status
tools:
	$(MAKE) -C $(TOOLSRC)

# make fuzz [FUZZ_SECONDS=N]: libFuzzer on the on-media parsers, one core
fuzz:
	$(MAKE) -C $(TOOLSRC) fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# make vmtest ARGS='-- sh -c "dmsetup targets"'
vmtest:
	$(VMTEST) $(ARGS)

# Opt-in: proves that a kernel WARNING in the guest fails a run.
check-splat:
	$(SELFTESTS)/optin_splat_selftest.sh

# make intree KSRC=/path/to/linux: put dm-pcache into a kernel source tree
intree:
	@test -n "$(KSRC)" || { echo "usage: make intree KSRC=<kernel source>"; exit 2; }
	$(SELFTESTS)/intree.sh $(KSRC)

clean:
	$(MAKE) -C $(MODSRC) -f /dev/null clean 2>/dev/null || true
	find drivers -name '*.o' -o -name '*.ko' -o -name '*.mod*' \
		-o -name '.*.cmd' -o -name 'modules.order' \
		-o -name 'Module.symvers' | xargs rm -f
	$(MAKE) -C $(TOOLSRC) clean

help:
	@echo "dm-pcache targets:"
	@echo "  make              build dm-pcache.ko against KDIR (default: running"
	@echo "                    kernel's build dir, else the cached test kernel)"
	@echo "  make check        the whole test suite in a QEMU guest; ends with"
	@echo "                    'N passed, N failed' (first run: ~60 min, later ~21)"
	@echo "  make demo         boot a guest, build a pcache device with ext4 and fio"
	@echo "  make kernel       fetch and build the test kernel into ~/.cache/dm-pcache"
	@echo "  make vmtest ARGS='-- CMD'  run CMD in the guest (see vmtest.sh -h)"
	@echo "  make bench        ours vs raw pmem, raw disk, in-tree dm-pcache and"
	@echo "                    dm-writecache in one guest boot; table, JSON,"
	@echo "                    Markdown and PNG under bench-results/ (~19 min)"
	@echo "  make bench ICOUNT=1  the same with deterministic guest time"
	@echo "                    (QEMU -icount); BENCH_ARGS='--quick' for a smoke run"
	@echo "  make torture ROUNDS=N  N power cuts (QEMU SIGKILL) during writes,"
	@echo "                    each checked after replay, then every simulated"
	@echo "                    crash point of a short workload, clean and torn"
	@echo "  make check-splat  prove that a kernel WARNING fails a run"
	@echo "  make tools        build pcache_check, pcache_dump and pcache_status"
	@echo "                    in tools/dm-pcache/ (libc only)"
	@echo "  make fuzz [FUZZ_SECONDS=60]  build and run the libFuzzer target of"
	@echo "                    the on-media parsers on one core; prints execs,"
	@echo "                    edge and line coverage"
	@echo "  make intree KSRC=DIR  put dm-pcache into a kernel source tree"
	@echo "  make clean        remove build products from the tree"
