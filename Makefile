# SPDX-License-Identifier: GPL-2.0
#
# dm-pcache: top-level entry points.  `make help` lists them.

SELFTESTS := tools/testing/selftests/dm-pcache
KERNEL_SH := $(SELFTESTS)/kernel.sh
VMTEST    := $(SELFTESTS)/vmtest.sh
MODSRC    := $(CURDIR)/drivers/md/dm-pcache
TOOLSRC   := tools/dm-pcache
FUZZ_SECONDS ?= 60

# Kernel to build the module against: the build directory of KVER if KVER
# is given, else of the running kernel, if it has one; else the cached
# test kernel (built on first use).  Worked out once, and only when used.
KDIR ?= $(eval KDIR := $(shell d=/lib/modules/$(if $(filter command line \
	  environment,$(origin KVER)),$(KVER),$$(uname -r))/build; \
	  if [ -f $$d/Makefile ]; then echo $$d; \
	  else $(KERNEL_SH) kernel; fi))$(KDIR)

# Where `make install` puts things; DESTDIR is prepended to each.  KVER:
# the version of the kernel the module is built against.
KREL       = $(shell cat $(KDIR)/include/config/kernel.release 2>/dev/null)
KVER      ?= $(eval KVER := $(or $(KREL),$(shell uname -r)))$(KVER)
SBINDIR   ?= /usr/sbin
UDEVDIR   ?= /lib/udev/rules.d
GENDIR    ?= /lib/systemd/system-generators
MANDIR    ?= /usr/share/man
MODDEST   ?= /lib/modules/$(KVER)/updates
TOOLS     := $(TOOLSRC)
# pcache_check, pcache_dump and pcache_status, once `make tools` built them
TOOL_BINS  = $(wildcard $(addprefix $(TOOLS)/,pcache_check pcache_dump pcache_status))
# The KUnit module only where the kernel has KUnit (distribution kernels
# usually do not).
KUNIT_M    = $(if $(shell grep -s '^CONFIG_KUNIT=[ym]' $(KDIR)/.config),m,n)

DKMS_VER   = $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)

.PHONY: all modules check demo kernel vmtest bench torture check-splat intree \
	clean help tools fuzz install install-module install-tools uninstall \
	dkms-src

all: modules

# MO=DIR: objects and modules go to DIR instead of the source tree.
modules:
	$(MAKE) -C $(KDIR) M=$(MODSRC) $(if $(MO),MO=$(MO)) W=1 CONFIG_DM_PCACHE=m \
		CONFIG_DM_PCACHE_KUNIT_TEST=$(KUNIT_M) modules

# make install [DESTDIR=...] [KDIR=... | KVER=...]: the module into
# /lib/modules/$(KVER)/updates, pcachetab, its udev rule, the systemd
# generator and the man pages.
install: install-module install-tools

install-module: modules
	@test "$(KREL)" = "$(KVER)" || { echo "make install: $(KDIR) is kernel" \
		"'$(KREL)', not KVER=$(KVER): give KDIR=" >&2; exit 2; }
	install -D -m 644 $(or $(MO),$(MODSRC))/dm-pcache.ko \
		$(DESTDIR)$(MODDEST)/dm-pcache.ko
	$(if $(DESTDIR),,depmod -a $(KVER))

install-tools:
	install -D -m 755 $(TOOLS)/pcachetab $(DESTDIR)$(SBINDIR)/pcachetab
	$(if $(TOOL_BINS),install -m 755 $(TOOL_BINS) $(DESTDIR)$(SBINDIR)/)
	install -d $(DESTDIR)$(GENDIR) $(DESTDIR)$(UDEVDIR) \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	ln -sfn $(SBINDIR)/pcachetab $(DESTDIR)$(GENDIR)/systemd-pcache-generator
	sed 's|/usr/sbin/pcachetab|$(SBINDIR)/pcachetab|' $(TOOLS)/70-dm-pcache.rules \
		> $(DESTDIR)$(UDEVDIR)/70-dm-pcache.rules
	install -m 644 $(TOOLS)/pcachetab.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 $(TOOLS)/pcachetab.8 $(TOOLS)/systemd-pcache-generator.8 \
		$(DESTDIR)$(MANDIR)/man8/

# make dkms-src [DESTDIR=...]: the module's source where DKMS wants it,
# /usr/src/dm-pcache-<version>; then `dkms install dm-pcache/<version>`.
dkms-src:
	rm -rf $(DESTDIR)/usr/src/dm-pcache-$(DKMS_VER)
	install -d $(DESTDIR)/usr/src/dm-pcache-$(DKMS_VER)
	git ls-files -co --exclude-standard -z Makefile dkms.conf drivers/md/dm-pcache | \
		xargs -0 cp --parents -t $(DESTDIR)/usr/src/dm-pcache-$(DKMS_VER)

uninstall:
	rm -f $(DESTDIR)$(MODDEST)/dm-pcache.ko $(DESTDIR)$(SBINDIR)/pcachetab \
		$(addprefix $(DESTDIR)$(SBINDIR)/,$(notdir $(TOOL_BINS))) \
		$(DESTDIR)$(GENDIR)/systemd-pcache-generator \
		$(DESTDIR)$(UDEVDIR)/70-dm-pcache.rules \
		$(DESTDIR)$(MANDIR)/man5/pcachetab.5 \
		$(DESTDIR)$(MANDIR)/man8/pcachetab.8 \
		$(DESTDIR)$(MANDIR)/man8/systemd-pcache-generator.8
	$(if $(DESTDIR),,depmod -a $(KVER))

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
	@echo "                    'N passed, N failed' (first run: ~60 min, later ~30)"
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
	@echo "  make install [DESTDIR=D] [KDIR=K]  module, pcachetab, udev rule,"
	@echo "                    systemd generator, man pages (see README)"
	@echo "  make uninstall    remove what make install put there"
	@echo "  make dkms-src     source for DKMS in /usr/src/dm-pcache-<version>"
	@echo "  make clean        remove build products from the tree"
