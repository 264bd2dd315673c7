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

# The stand-in's etcd image: Debian's etcd packages in a minbase root, under a name of
# its own. Not quay.io's tag: it is loaded into this machine's docker too (the lab
# registry mirrors etcd from there), and under quay.io's name a real lab made on this
# machine later would mirror Debian's etcd in place of the release it asked for. The
# e2e stack names it in fleetlab:etcdImage (image.json's etcdImages).
STANDIN_ETCD_IMAGE=fleetlab-standin/etcd:bookworm

# This machine's docker engine (the one the images were built in): dk.
# shellcheck source=containers/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../containers/lib.sh"

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

# Puts images into <root>/var/lib/docker as the VM's own docker would keep them after
# a pull: a second, private dockerd (same Debian version and overlay2 driver as the
# VM's) with that data root loads the etcd archive and `docker save` streams of this
# machine's images. It runs in a network namespace of its own (unshare), so its default
# bridge is its own: `--bridge none` would make dockerd delete this machine's docker0.
# Args: root etcd-archive image...
bake_pid=
bake_run=
bake_docker_images() {
  local root=$1 archive=$2
  shift 2
  bake_run=$(mktemp -d /run/fleetlab-bake.XXXXXX)
  local sock="unix://$bake_run/docker.sock"
  mkdir -p "$root/var/lib/docker"
  unshare --net -- dockerd --data-root "$root/var/lib/docker" --exec-root "$bake_run/exec" \
    --pidfile "$bake_run/dockerd.pid" -H "$sock" --storage-driver overlay2 \
    --iptables=false --ip6tables=false --ip-masq=false \
    >"$bake_run/dockerd.log" 2>&1 &
  bake_pid=$!
  local i
  for i in $(seq 1 60); do
    dk -H "$sock" version >/dev/null 2>&1 && break
    kill -0 "$bake_pid" 2>/dev/null || { tail -20 "$bake_run/dockerd.log" >&2; die "the bake dockerd exited"; }
    [ "$i" -lt 60 ] || { tail -20 "$bake_run/dockerd.log" >&2; die "the bake dockerd did not answer within 60 s"; }
    sleep 1
  done
  dk -H "$sock" load -q -i "$archive"
  local img
  for img in "$@"; do
    dk save "$img" | dk -H "$sock" load -q
  done
  stop_bake_dockerd
  # What a first start would create for itself; a copy would make every VM share the
  # engine's identity and the bake engine's network database.
  rm -rf "$root/var/lib/docker/"{engine-id,network,containerd,runtimes,tmp,buildkit,swarm}
}

stop_bake_dockerd() {
  [ -n "$bake_pid" ] || return 0
  kill "$bake_pid" 2>/dev/null || true
  local i
  for i in $(seq 1 30); do
    kill -0 "$bake_pid" 2>/dev/null || break
    sleep 1
  done
  kill -9 "$bake_pid" 2>/dev/null || true
  wait "$bake_pid" 2>/dev/null || true
  # Its containerd (started by dockerd under the exec root) goes with it; stop any
  # straggler by the pid file it wrote, then drop the mounts under the exec root.
  local cpid
  cpid=$(cat "$bake_run/exec/containerd/containerd.pid" 2>/dev/null || true)
  [ -n "$cpid" ] && kill "$cpid" 2>/dev/null || true
  grep -o " $bake_run/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$bake_run"
  bake_pid=
}

# Tells the image's docker that it already holds the layers of the given images under
# the blob digests the lab registry's manifests name (a push gzips each layer the same
# way every time: infra/registry/client.ts). A pull then says "Already exists" for
# them and fetches only the image's own layers. Docker keeps this as
#   image/overlay2/distribution/diffid-by-digest/sha256/<blob hex>  -> diff ID
#   image/overlay2/distribution/v2metadata-by-diffid/sha256/<diff hex> -> [{Digest,...}]
# Args: root image...
warm_layers() {
  local root=$1 img diff digest size
  shift
  local dist="$root/var/lib/docker/image/overlay2/distribution"
  mkdir -p "$dist/diffid-by-digest/sha256" "$dist/v2metadata-by-diffid/sha256"
  for img in "$@"; do
    while read -r diff digest size; do
      [ -n "$digest" ] || continue
      printf '%s' "$diff" >"$dist/diffid-by-digest/sha256/${digest#sha256:}"
      printf '[{"Digest":"%s","SourceRepository":"","HMAC":""}]' "$digest" \
        >"$dist/v2metadata-by-diffid/sha256/${diff#sha256:}"
      echo "    $img: layer $diff is blob $digest ($size bytes)"
    done < <(cd "$(dirname "${BASH_SOURCE[0]}")/.." &&
      npx --no-install ts-node --transpile-only scripts/layer-blobs.ts "$img")
  done
}

# Keeps the cache from growing by an image per change: the two newest final images
# (a running lab may still use the previous one as its disks' backing file) and the
# current os stage stay; older ones go.
prune_cache() {
  local cache=$1 keep_final=$2 keep_os=$3 d
  # Final images are named by a 16-hex-digit hash; the .deb caches beside them are not.
  for d in $(find "$cache" -mindepth 1 -maxdepth 1 -type d -regextype posix-extended \
    -regex '.*/[0-9a-f]{16}' -printf '%T@ %p\n' | sort -rn | tail -n +3 | cut -d' ' -f2); do
    [ "$d" = "$keep_final" ] || rm -rf "$d"
  done
  for d in "$cache"/os-*/; do
    [ -d "$d" ] && [ "${d%/}" != "$keep_os" ] && rm -rf "$d"
  done
  return 0
}
