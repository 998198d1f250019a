#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make intree KSRC=DIR: put this tree's dm-pcache into a kernel source tree,
# replacing the kernel's own copy of the target, and wire it in where the
# kernel does not already: drivers/md/Kconfig and Makefile, the
# device-mapper documentation index, the selftests list and MAINTAINERS.

set -euo pipefail

REPO=$(cd "$(dirname "$0")/../../../.." && pwd)
KSRC=${1:?usage: intree.sh KERNEL_SOURCE_DIR}
[ -f "$KSRC/Makefile" ] && [ -d "$KSRC/drivers/md" ] ||
	{ echo "intree.sh: $KSRC is not a kernel source tree" >&2; exit 2; }

replace_dir() {
	rm -rf "${KSRC:?}/$1"
	mkdir -p "$KSRC/$1"
	(cd "$REPO/$1" && git ls-files -co --exclude-standard -z . |
		xargs -0 cp --parents -t "$KSRC/$1")
}

# The tree may be a hard-linked copy of a cached source: give a file its own
# inode before changing it, so the original never changes with it.
unshare() {
	cp -p "$1" "$1.intree.tmp" && mv -f "$1.intree.tmp" "$1"
}

add_line() {
	local file=$1 pattern=$2 line=$3

	grep -qF -- "$pattern" "$file" && return 0
	unshare "$file"
	printf '%s\n' "$line" >> "$file"
}

replace_dir drivers/md/dm-pcache
replace_dir tools/testing/selftests/dm-pcache
cp "$REPO/Documentation/admin-guide/device-mapper/dm-pcache.rst" \
	"$KSRC/Documentation/admin-guide/device-mapper/"

add_line "$KSRC/drivers/md/Kconfig" 'drivers/md/dm-pcache/Kconfig' \
	'source "drivers/md/dm-pcache/Kconfig"'
add_line "$KSRC/drivers/md/Makefile" 'dm-pcache/' \
	'obj-$(CONFIG_DM_PCACHE)		+= dm-pcache/'
add_line "$KSRC/Documentation/admin-guide/device-mapper/index.rst" \
	'dm-pcache' '    dm-pcache'
grep -q '^TARGETS += dm-pcache$' "$KSRC/tools/testing/selftests/Makefile" ||
	sed -i '0,/^TARGETS += /s//TARGETS += dm-pcache\nTARGETS += /' \
		"$KSRC/tools/testing/selftests/Makefile"

# MAINTAINERS: our entry replaces the one of the same name, or is added.
unshare "$KSRC/MAINTAINERS"
python3 - "$KSRC/MAINTAINERS" "$REPO/MAINTAINERS" <<'PY'
import sys
path, ours = sys.argv[1], open(sys.argv[2]).read().strip("\n") + "\n"
text = open(path).read()
name = ours.splitlines()[0]
blocks = text.split("\n\n")
for i, b in enumerate(blocks):
    if b.splitlines() and b.splitlines()[0] == name:
        blocks[i] = ours.rstrip("\n")
        break
else:
    blocks.append(ours.rstrip("\n"))
open(path, "w").write("\n\n".join(blocks) + ("" if text.endswith("\n") else ""))
PY
echo "intree.sh: dm-pcache installed into $KSRC"
