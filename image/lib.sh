# Helpers for image/build.sh (sourced). Each phase is timed so a slow CI run shows
# where the minutes went.

log() { printf '[image %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

phase() {
  local name=$1 t0=$SECONDS
  shift
  log "phase $name ..."
  "$@" >&2
  log "phase $name done in $((SECONDS - t0))s"
}

# The etcd image tag the lab's Ignition runs, read from the foundation's config
# defaults so the preloaded image matches whatever the stacks ask for.
default_etcd_image() {
  local repo=$1 tag
  tag=$(grep -rhoE '"quay\.io/coreos/etcd:v[0-9.]+"' "$repo/infra/config" "$repo"/Pulumi*.yaml 2>/dev/null |
    tr -d '"' | sort -u | xargs)
  echo "${tag:-quay.io/coreos/etcd:v3.5.17}"
}

mount_chroot() {
  local root=$1
  mount -t proc proc "$root/proc"
  mount -t sysfs sysfs "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
}

unmount_chroot() {
  local root=$1 m
  [ -d "$root" ] || return 0
  for m in var/cache/apt/archives dev/pts dev sys proc; do
    mountpoint -q "$root/$m" && umount -l "$root/$m"
  done
  return 0
}

# apt-get install inside a chroot, with daemons kept from starting (no init here).
chroot_install() {
  local root=$1 pkgs=$2
  printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
  chmod +x "$root/usr/sbin/policy-rc.d"
  mount_chroot "$root"
  # Downloaded .debs are kept outside the root, so a rebuild does not fetch them again.
  mkdir -p "$APT_ARCHIVES"
  mount --bind "$APT_ARCHIVES" "$root/var/cache/apt/archives"
  # shellcheck disable=SC2086 # pkgs is a word list
  DEBIAN_FRONTEND=noninteractive nice chroot "$root" apt-get install -y -q --no-install-recommends $pkgs
  umount "$root/var/cache/apt/archives"
  rm -f "$root/usr/sbin/policy-rc.d"
  unmount_chroot "$root"
}

# Drops what a booted machine never reads, to keep the disk small and the copy fast.
slim_root() {
  local root=$1
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/doc/* \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log
}

# Writes a `docker save`-format archive of a root directory (one layer) tagged with
# the given names, so `docker load` inside the VM needs no registry and the build
# needs no docker engine.
docker_archive() {
  local root=$1 out=$2 cmd=$3
  shift 3
  local tmp diff cfg tags
  tmp=$(mktemp -d)
  tar -C "$root" --numeric-owner --exclude=./proc/* --exclude=./sys/* --exclude=./dev/* \
    -cf "$tmp/layer.tar" .
  diff=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
  mkdir "$tmp/$diff"
  mv "$tmp/layer.tar" "$tmp/$diff/layer.tar"
  jq -cn --arg d "sha256:$diff" --arg cmd "$cmd" '{
    architecture: "amd64", os: "linux",
    config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
             Cmd: [$cmd]},
    rootfs: {type: "layers", diff_ids: [$d]},
    history: [{created_by: "fleetlab image/build.sh (debootstrap minbase + Debian packages)"}]
  }' >"$tmp/config.json"
  cfg=$(sha256sum "$tmp/config.json" | cut -d' ' -f1)
  mv "$tmp/config.json" "$tmp/$cfg.json"
  tags=$(printf '%s\n' "$@" | jq -R . | jq -cs .)
  jq -cn --arg c "$cfg.json" --arg l "$diff/layer.tar" --argjson t "$tags" \
    '[{Config: $c, RepoTags: $t, Layers: [$l]}]' >"$tmp/manifest.json"
  tar -C "$tmp" -cf "$out" manifest.json "$cfg.json" "$diff"
  rm -rf "$tmp"
}

lsinitrd_has_ignition() {
  local root=$1 kver=$2
  [ -f "$root/boot/initrd.img-$kver" ] &&
    # No grep -q: its early exit would SIGPIPE lsinitrd and fail under pipefail.
    chroot "$root" lsinitrd "/boot/initrd.img-$kver" | grep -E 'usr/bin/ignition$' >/dev/null
}
