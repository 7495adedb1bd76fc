#!/usr/bin/env bash
# s3proxy.sh - fetches S3Proxy (org.gaul:s3proxy:2.6.0, the
# jar-with-dependencies) from Maven Central and runs one local S3 server on
# its filesystem provider, for the S3 tests (make test-s3) and development.
#
#   scripts/s3proxy.sh [--dir DIR] [--addr ADDR:PORT] COMMAND
#
# Commands:
#   fetch    download the jar into the cache unless it is there, and check
#            its SHA-1 against Maven Central's .sha1 and the one pinned here
#   start    start S3Proxy on ADDR:PORT (not when running); waits until it
#            answers. Makes the bucket (a folder under DIR/data) and, once,
#            the key pair: DIR/access_key and DIR/secret_key (mode 0600)
#   stop     stop it (SIGTERM, SIGKILL after 20 s)
#   status   "running PID" or "stopped"
#   env      print DUET_S3_* lines for the tests (endpoint, bucket, key files,
#            data folder)
#   wipe     stop it and delete DIR
#
# S3Proxy checks AWS signatures (s3proxy.authorization=aws-v2-or-v4), so a
# request signed with another secret is refused with 403. CORS allows every
# origin (s3proxy.cors-allow-all), so that a browser test may fetch() media
# through the presigned redirect (docs/deploy.md has a real bucket's rule).
#
# Defaults: DIR ./run/s3proxy ($S3PROXY_DIR), ADDR:PORT 127.0.60.1:9060
# ($S3PROXY_ADDR), bucket duet-media ($S3PROXY_BUCKET). The jar is cached in
# $S3PROXY_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/duet, so CI reuses it.
#   S3PROXY_HEAP   -Xmx of the JVM [256m]
#   JAVA_HOME      Java 17 [/usr/lib/jvm/java-17-openjdk-amd64]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

version=2.6.0
jar_name=s3proxy-$version-jar-with-dependencies.jar
url=https://repo1.maven.org/maven2/org/gaul/s3proxy/$version/$jar_name
# Maven Central's SHA-1 of the jar, pinned: a changed upstream file fails.
pinned_sha1=cada399d8a8155d40f82f6a3d22f0288c96046d0

dir=${S3PROXY_DIR:-$root/run/s3proxy}
addr=${S3PROXY_ADDR:-127.0.60.1:9060}
bucket=${S3PROXY_BUCKET:-duet-media}
heap=${S3PROXY_HEAP:-256m}
cache=${S3PROXY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/duet}
jvm_name=s3proxy
# shellcheck source=scripts/lib-jvm.sh
. "$here/lib-jvm.sh"

while [ $# -gt 0 ]; do
  case $1 in
  --dir) dir=$2; shift 2 ;;
  --addr) addr=$2; shift 2 ;;
  -h | --help) usage ;;
  *) break ;;
  esac
done
[ $# -eq 1 ] || usage
cmd=$1
jar=$cache/$jar_name
pidfile=$dir/pid

sha1_of() { sha1sum "$1" | cut -d' ' -f1; }

fetch() {
  if [ -f "$jar" ] && [ "$(sha1_of "$jar")" = "$pinned_sha1" ]; then
    return 0
  fi
  mkdir -p "$cache"
  local tmp
  tmp=$(mktemp "$cache/.$jar_name.XXXXXX")
  say "downloading $url"
  if ! curl -fsSL --retry 3 -o "$tmp" "$url"; then
    rm -f "$tmp"
    die "download failed: $url"
  fi
  local remote got
  remote=$(curl -fsSL --retry 3 "$url.sha1" | cut -c1-40) || {
    rm -f "$tmp"
    die "could not fetch $url.sha1"
  }
  got=$(sha1_of "$tmp")
  if [ "$got" != "$remote" ] || [ "$got" != "$pinned_sha1" ]; then
    rm -f "$tmp"
    die "SHA-1 mismatch: got $got, Maven Central says $remote, pinned $pinned_sha1"
  fi
  mv -f "$tmp" "$jar"
  say "cached $jar"
}

running_pid() { pidfile_pid "$pidfile"; }

# A random key pair, made once per DIR (0600), like a real deployment's.
make_keys() {
  [ -s "$dir/access_key" ] && [ -s "$dir/secret_key" ] && return 0
  (
    umask 077
    printf 'duet%s\n' "$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$dir/access_key"
    head -c 30 /dev/urandom | base64 | tr -d '/+=\n' >"$dir/secret_key"
    echo >>"$dir/secret_key"
  )
}

start() {
  if pid=$(running_pid); then
    say "already running (pid $pid) on $addr"
    return 0
  fi
  fetch
  mkdir -p "$dir/data/$bucket"
  chmod 700 "$dir"
  make_keys
  (
    umask 077
    cat >"$dir/s3proxy.conf" <<CONF
s3proxy.endpoint=http://$addr
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$(cat "$dir/access_key")
s3proxy.credential=$(cat "$dir/secret_key")
jclouds.provider=filesystem
jclouds.filesystem.basedir=$dir/data
s3proxy.cors-allow-all=true
CONF
  )
  nohup "$java" -Xmx"$heap" -jar "$jar" --properties "$dir/s3proxy.conf" \
    >"$dir/console.log" 2>&1 &
  echo $! >"$pidfile"
  local i
  for i in $(seq 1 120); do
    if curl -s -o /dev/null -m 2 "http://$addr/"; then
      say "running (pid $(cat "$pidfile")) on http://$addr, bucket $bucket"
      return 0
    fi
    if ! running_pid >/dev/null; then
      tail -n 30 "$dir/console.log" >&2 || true
      die "exited while starting (log: $dir/console.log)"
    fi
    [ "$i" -lt 120 ] && sleep 1
  done
  die "not answering on $addr after 120 s (log: $dir/console.log)"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    rm -f "$pidfile"
    return 0
  fi
  stop_pid "$pid" 20 || true
  rm -f "$pidfile"
  say "stopped"
}

case $cmd in
fetch) fetch ;;
start) start ;;
stop) stop ;;
status)
  if pid=$(running_pid); then echo "running $pid"; else echo "stopped"; fi
  ;;
env)
  echo "DUET_S3_ENDPOINT=http://$addr"
  echo "DUET_S3_BUCKET=$bucket"
  echo "DUET_S3_ACCESS_KEY_FILE=$dir/access_key"
  echo "DUET_S3_SECRET_KEY_FILE=$dir/secret_key"
  echo "DUET_S3_DATA=$dir/data"
  ;;
wipe)
  stop
  rm -rf "$dir"
  ;;
*) usage ;;
esac
