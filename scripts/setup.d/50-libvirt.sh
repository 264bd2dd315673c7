#!/usr/bin/env bash
# libvirt needs no setup beyond its packages (scripts/setup.d/libvirt.packages): with
# no systemd here the e2e test starts virtlogd/libvirtd itself, inside its own network
# namespace. This only checks that the binaries it needs are there.
set -euo pipefail
for bin in virsh libvirtd virtlogd qemu-system-x86_64 qemu-img debootstrap mkfs.ext4 gpgv etcdctl; do
  command -v "$bin" >/dev/null || { echo "missing $bin (scripts/setup.d/libvirt.packages)" >&2; exit 1; }
done
echo "    libvirt $(libvirtd --version | awk '{print $NF}'), $(qemu-system-x86_64 --version | head -1)"
