#!/usr/bin/env bash
# Builds the Debian bookworm image that stands in for Flatcar in tests (Flatcar's own
# images cannot be downloaded on the CI machine). It consumes the same Ignition JSON:
# Debian's Ignition runs from a dracut initramfs at first boot and reads fw_cfg key
# opt/com.coreos/config. Two stages, each cached by a hash of its inputs:
#   os     debootstrap + packages + kernel/initramfs + etcd image archive (minutes;
#          changes only with image/ or the package lists)
#   final  the os root with the shared base layer of the lab's images already in
#          docker's data root (a warm cache; every lab image itself comes from the lab
#          registry at run time, as on Flatcar), then ext4 + qcow2 (about a minute;
#          changes only with the base image)
# Output: $FLEETLAB_IMAGE_CACHE/<hash>/rootfs.qcow2 (bare ext4, no partition table),
#         vmlinuz, initrd.img, image.json (paths + cmdline + the images it holds).
# Prints the output directory on the last line of stdout.
#
# Usage: image/build.sh [--print-dir]
#   --print-dir   only print where the image for the current inputs lives
# Env:   FLEETLAB_ETCD_IMAGES    space-separated tags for the stand-in etcd image (default
#                                fleetlab-standin/etcd:bookworm), baked in and loaded
#                                into this machine's docker, where the lab registry's
#                                mirror takes it from
#        FLEETLAB_BAKE_IMAGES    images of this machine's docker to bake in (default:
#                                the base image every lab image starts from)
#        FLEETLAB_IMAGE_CACHE    default /var/cache/fleetlab/test-image (world-readable:
#                                libvirt runs QEMU as libvirt-qemu, which cannot enter /root)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=image/lib.sh
. "$here/lib.sh"

etcd_tags=${FLEETLAB_ETCD_IMAGES:-$STANDIN_ETCD_IMAGE}
cache=${FLEETLAB_IMAGE_CACHE:-/var/cache/fleetlab/test-image}
suite=bookworm
mirror=http://deb.debian.org/debian
# Ignition's dracut module needs dracut-network (url-lib, network), curl, and dbus
# for networkd; policycoreutils provides the setfiles its relabel step calls.
boot_pkgs="dracut dracut-network curl dbus policycoreutils linux-image-amd64 ignition"
# libnss-myhostname: the node resolves its own name without DNS (Flatcar does the same
# with systemd's NSS modules); without it every `sudo` waited 12 s for a DNS timeout.
# pigz: Docker unpacks pulled layers with unpigz when it is on PATH (C zlib, several
# times faster than Go's gzip); under TCG the unpacking is most of a pull.
os_pkgs="systemd systemd-sysv udev kmod iproute2 openssh-server docker.io sudo ca-certificates less libnss-myhostname pigz"
etcd_pkgs="etcd-server etcd-client"
# No lab image: like Flatcar, the stand-in ships Docker and the nodes pull the fleet
# agent, service and sidekick images from the lab registry. Only the layers they share
# are baked, marked as pulled (warm_layers): the base, and Node.js (the agent's and
# every sidekick's, 35 MB compressed; fleet/build-image.sh tags it). A node fetches
# each image's own layers, not the same shared ones over again under emulation,
# where unpacking Node.js took a booting node minutes before its agent could start.
default_bake="$FLEETLAB_BASE_IMAGE $FLEETLAB_NODE_RUNTIME_IMAGE"
bake_images=${FLEETLAB_BAKE_IMAGES-$default_bake}

os_hash() {
  {
    (cd "$here" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
    echo "$etcd_tags|$boot_pkgs|$os_pkgs|$etcd_pkgs|$suite"
  } | sha256sum | cut -c1-16
}
os_dir="$cache/os-$(os_hash)"

# The final image changes with the exact content of every baked image (its ID).
final_hash() {
  {
    echo "$os_dir warm-base-v1"
    for img in $bake_images; do echo "$img $(dk image inspect -f '{{.Id}}' "$img" 2>/dev/null || echo missing)"; done
  } | sha256sum | cut -c1-16
}

if [ "${1:-}" = "--print-dir" ]; then
  echo "$cache/$(final_hash)"
  exit 0
fi
[ "$(id -u)" -eq 0 ] || die "image/build.sh needs root (debootstrap, chroot, mount, dockerd)"
for tool in debootstrap mkfs.ext4 qemu-img jq dockerd; do
  command -v "$tool" >/dev/null || die "missing $tool: run scripts/setup.sh (packages in scripts/setup.d/libvirt.packages, docker.packages)"
done
if [ "$bake_images" = "$default_bake" ]; then
  # A no-op (one `docker image inspect`) when the base image is there.
  phase "0 base image" ensure_base_image
fi
# The lab registry mirrors etcd from this machine's docker (infra/registry/mirror.ts):
# it needs the stand-in there, the same image (same ID) the nodes hold, so a node's
# pull by digest finds it present and fetches only the manifest.
host_etcd_image() {
  local tag want
  # The image ID is the config's sha256 (docker_archive names the config file by it).
  want=sha256:$(tar -xOf "$os_dir/etcd.tar" manifest.json | jq -r '.[0].Config | rtrimstr(".json")')
  # shellcheck disable=SC2086 # etcd_tags is a word list
  for tag in $etcd_tags; do
    # Load when the tag is missing or names another build's etcd (a rebuilt os stage,
    # another cache): the mirror would push that one, and every node would pull its
    # layers instead of finding the baked image by its ID.
    [ "$(dk image inspect -f '{{.Id}}' "$tag" 2>/dev/null)" = "$want" ] ||
      { dk load -q -i "$os_dir/etcd.tar" >&2 && return; }
  done
}
out="$cache/$(final_hash)"
if [ -f "$out/image.json" ]; then
  phase "0b stand-in etcd image on this machine's docker" host_etcd_image
  log "test image up to date: $out"
  echo "$out"
  exit 0
fi
for img in $bake_images; do
  dk image inspect "$img" >/dev/null 2>&1 ||
    die "image $img is not in this machine's docker: build it (fleet/build-image.sh, containers/build.sh) or set FLEETLAB_BAKE_IMAGES"
done

mkdir -p "$cache/debs"
export APT_ARCHIVES=$cache/apt-archives
chmod 755 "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
root=$work/root
trap 'stop_bake_dockerd; unmount_chroot "$work/os/root"; unmount_chroot "$work/etcd"; rm -rf "$work"' EXIT
started=$SECONDS

configure_os() {
  local root=$1
  cp -a "$here/rootfs/." "$root/"
  # systemd applies presets (and so starts what Ignition enabled) only on a first boot,
  # which it recognises by this exact content.
  echo uninitialized >"$root/etc/machine-id"
  rm -f "$root/var/lib/dbus/machine-id"
  echo "/dev/vda / ext4 defaults 0 1" >"$root/etc/fstab"
  echo localhost >"$root/etc/hostname"
  grep -q myhostname "$root/etc/nsswitch.conf" ||
    sed -i -E 's/^(hosts:\s+files)/\1 myhostname/' "$root/etc/nsswitch.conf"
  chroot "$root" useradd --create-home --shell /bin/bash --groups docker,sudo core
  chroot "$root" systemctl enable systemd-networkd.service ssh.service docker.service >/dev/null
  chroot "$root" systemctl enable serial-getty@ttyS0.service >/dev/null
  # Host keys are generated per machine at first boot; baked-in keys would be shared
  # by every node. Ed25519 only: `ssh-keygen -A` also made RSA 3072 and ECDSA keys,
  # 17 s of an emulated node's CPU alone at first boot (systemd-analyze blame, one VM,
  # idle host), taken from docker and etcd starting beside it; every client of the lab
  # (the tests, fleetctl's ssh) speaks Ed25519.
  rm -f "$root"/etc/ssh/ssh_host_*
  printf 'HostKey /etc/ssh/ssh_host_ed25519_key\n' >"$root/etc/ssh/sshd_config.d/10-hostkey.conf"
  mkdir -p "$root/etc/systemd/system/ssh.service.d"
  # Replaces the unit's ExecStartPre (sshd -t fails without host keys) with keygen first.
  printf '%s\n' '[Service]' 'ExecStartPre=' \
    "ExecStartPre=/bin/sh -c 'test -e /etc/ssh/ssh_host_ed25519_key || exec /usr/bin/ssh-keygen -q -t ed25519 -N \"\" -f /etc/ssh/ssh_host_ed25519_key'" \
    'ExecStartPre=/usr/sbin/sshd -t' >"$root/etc/systemd/system/ssh.service.d/10-hostkeys.conf"
}

check_initrd() {
  local root=$1 kver=$2
  # The kernel postinst built it with our dracut.conf.d; rebuild only if Ignition is
  # somehow missing (equivalent to `dracut --no-hostonly --add ignition`). lsinitrd
  # needs /dev and /proc, hence the mounts.
  mount_chroot "$root"
  if ! lsinitrd_has_ignition "$root" "$kver"; then
    nice chroot "$root" dracut --force --no-hostonly --add ignition "/boot/initrd.img-$kver" "$kver"
  fi
  local ok=0
  lsinitrd_has_ignition "$root" "$kver" || ok=1
  unmount_chroot "$root"
  [ "$ok" -eq 0 ] || die "initramfs has no ignition after dracut --add ignition"
}

build_os() {
  local root=$work/os/root
  mkdir -p "$work/os"
  phase "1 debootstrap minbase" \
    nice debootstrap --variant=minbase --cache-dir="$cache/debs" "$suite" "$root" "$mirror"
  # The etcd container image starts from the same minbase root (what debian:bookworm-slim
  # is made of), taken before the OS packages go in.
  phase "2 copy minbase for the etcd image" cp -a "$root" "$work/etcd"

  # The dracut config goes in first so the kernel's own postinst builds the final
  # initramfs (with Ignition) once, instead of a throwaway one.
  mkdir -p "$root/etc/dracut.conf.d"
  cp "$here/rootfs/etc/dracut.conf.d/10-ignition.conf" "$root/etc/dracut.conf.d/"
  phase "3 install OS + Ignition (dracut, not initramfs-tools)" \
    chroot_install "$root" "$boot_pkgs $os_pkgs"
  phase "4 install etcd into its container root" chroot_install "$work/etcd" "$etcd_pkgs"
  # quay.io/coreos/etcd keeps its binaries in /usr/local/bin; units written for it
  # call them there.
  ln -sf /usr/bin/etcd "$work/etcd/usr/local/bin/etcd"
  ln -sf /usr/bin/etcdctl "$work/etcd/usr/local/bin/etcdctl"
  phase "5 trim etcd root" slim_root "$work/etcd"
  # shellcheck disable=SC2086 # etcd_tags is a word list
  phase "6 etcd docker archive ($etcd_tags)" \
    docker_archive "$work/etcd" "$work/os/etcd.tar" "/usr/local/bin/etcd" $etcd_tags
  rm -rf "$work/etcd"
  phase "7 configure OS" configure_os "$root"
  kver=$(ls "$root/lib/modules" | head -1)
  phase "8 initramfs with ignition ($kver)" check_initrd "$root" "$kver"
  cp "$root/boot/vmlinuz-$kver" "$work/os/vmlinuz"
  cp "$root/boot/initrd.img-$kver" "$work/os/initrd.img"
  echo "$kver" >"$work/os/kver"
  phase "9 trim OS root" slim_root "$root"
  rm -rf "$os_dir"
  mv "$work/os" "$os_dir"
}

make_disk() {
  # Bare ext4, no partition table: this host's loop driver cannot read partitions, and
  # direct kernel boot needs no bootloader.
  local used
  used=$(du -sm "$root" | cut -f1)
  mkfs.ext4 -q -L ROOT -d "$root" "$work/out/rootfs.raw" "$((used * 13 / 10 + 2048))M"
  qemu-img convert -f raw -O qcow2 "$work/out/rootfs.raw" "$work/out/rootfs.qcow2"
  rm "$work/out/rootfs.raw"
}
if [ -f "$os_dir/kver" ]; then
  log "os stage up to date: $os_dir"
else
  build_os
fi
kver=$(cat "$os_dir/kver")
phase "0b stand-in etcd image on this machine's docker" host_etcd_image

phase "10 copy the os root" cp -a "$os_dir/root" "$root"
# Flatcar pulls the lab's images from registries; the stand-in has none. Loading them
# at first boot costs minutes per image under TCG, so they go straight into the
# image's docker data root here, as if pulled before the disk was made.
# shellcheck disable=SC2086 # bake_images is a word list
phase "11 bake images into /var/lib/docker (etcd $bake_images)" \
  bake_docker_images "$root" "$os_dir/etcd.tar" $bake_images
# shellcheck disable=SC2086 # bake_images is a word list
phase "11b mark their layers as pulled from the lab registry" warm_layers "$root" $bake_images
mkdir -p "$work/out"
phase "12 ext4 + qcow2" make_disk
cp "$os_dir/vmlinuz" "$os_dir/initrd.img" "$work/out/"

# apparmor=0: Debian kernels enable AppArmor, and docker then refuses to run containers
# without apparmor_parser; Flatcar does not use AppArmor either.
jq -n --arg k "$kver" --arg tags "$etcd_tags" --arg baked "$bake_images" '{
  kernel: "vmlinuz", initrd: "initrd.img", disk: "rootfs.qcow2", kernelVersion: $k,
  cmdline: "root=/dev/vda rw console=ttyS0 apparmor=0 ignition.firstboot ignition.platform.id=qemu",
  ignitionFwCfgKey: "opt/com.coreos/config",
  etcdImages: ($tags | split(" ")),
  bakedImages: ($baked | split(" ") | map(select(. != "")))
}' >"$work/out/image.json"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
chmod 755 "$work/out" && chmod 644 "$work/out"/*
mv "$work/out" "$out"
prune_cache "$cache" "$out" "$os_dir"
log "test image built in $((SECONDS - started))s: $out"
echo "$out"
