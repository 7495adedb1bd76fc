#!/usr/bin/env bash
# render-nginx.sh - renders deploy/nginx.conf.tmpl for N duetd instances.
#
#   deploy/render-nginx.sh [options] > nginx.conf
#
#   --mode full|site        full: a standalone nginx.conf (what cluster.sh
#                           runs); site: only the upstream, map and server
#                           blocks, for /etc/nginx/conf.d/duet.conf [full]
#   --instances N           how many duetd instances [4]
#   --host ADDR             their address [127.0.0.1]
#   --base-port P           instance i listens on P + i - 1 [8081]
#   --ports P1,P2,...       explicit ports instead of --instances/--base-port
#   --listen ADDR:PORT      where nginx listens (plain HTTP) [127.0.0.1:8080]
#   --server-name NAME      server_name [_]
#   --tls-listen ADDR:PORT  add a TLS server block listening there, with
#   --tls-cert FILE         its certificate chain and
#   --tls-key FILE          its key
#   --run-dir DIR           pid, logs and temp files (full mode) [./run]
#   --workers N             worker_processes (full mode) [auto]
#   --fail-timeout T        how long a failed instance is skipped [5s]
#   --limit-conn N          open connections per client address [256]
#   --limit-rate R          requests per second per client address [50]
#   --limit-burst B         requests above the rate served at once [200];
#                           beyond both, nginx answers 429
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

mode=full instances=4 host=127.0.0.1 base_port=8081 ports="" listen=127.0.0.1:8080
server_name=_ tls_listen="" tls_cert="" tls_key="" run_dir=./run workers=auto fail_timeout=5s
limit_conn=256 limit_rate=50 limit_burst=200

die() { echo "render-nginx: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] || die "$1 needs a value"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) need "$@"; mode=$2; shift 2 ;;
    --instances) need "$@"; instances=$2; shift 2 ;;
    --host) need "$@"; host=$2; shift 2 ;;
    --base-port) need "$@"; base_port=$2; shift 2 ;;
    --ports) need "$@"; ports=$2; shift 2 ;;
    --listen) need "$@"; listen=$2; shift 2 ;;
    --server-name) need "$@"; server_name=$2; shift 2 ;;
    --tls-listen) need "$@"; tls_listen=$2; shift 2 ;;
    --tls-cert) need "$@"; tls_cert=$2; shift 2 ;;
    --tls-key) need "$@"; tls_key=$2; shift 2 ;;
    --run-dir) need "$@"; run_dir=$2; shift 2 ;;
    --workers) need "$@"; workers=$2; shift 2 ;;
    --fail-timeout) need "$@"; fail_timeout=$2; shift 2 ;;
    --limit-conn) need "$@"; limit_conn=$2; shift 2 ;;
    --limit-rate) need "$@"; limit_rate=$2; shift 2 ;;
    --limit-burst) need "$@"; limit_burst=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$mode" in full|site) ;; *) die "--mode is full or site" ;; esac
is_port() { [[ "$1" =~ ^[0-9]+$ ]] && [ "$1" -ge 1 ] && [ "$1" -le 65535 ]; }
if [ -z "$ports" ]; then
  if ! [[ "$instances" =~ ^[0-9]+$ ]] || [ "$instances" -lt 1 ]; then die "--instances wants a number >= 1"; fi
  is_port "$base_port" || die "--base-port wants a port"
  ports=$(seq -s, "$base_port" $((base_port + instances - 1)))
fi
for v in "$limit_conn" "$limit_rate" "$limit_burst"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || die "--limit-conn, --limit-rate and --limit-burst want numbers >= 1"
done
servers=""
IFS=, read -r -a plist <<<"$ports"
for p in "${plist[@]}"; do
  is_port "$p" || die "bad port '$p'"
  servers+="        server ${host}:${p} max_fails=1 fail_timeout=${fail_timeout};"$'\n'
done
servers=${servers%$'\n'}
if [ -n "$tls_listen" ] && { [ -z "$tls_cert" ] || [ -z "$tls_key" ]; }; then
  die "--tls-listen needs --tls-cert and --tls-key"
fi
run_dir=$(cd "$(dirname "$run_dir")" && pwd)/$(basename "$run_dir")

user_line=""
# As root, the master drops its workers to an unprivileged user.
[ "$(id -u)" -eq 0 ] && user_line="user www-data;"

# Keep or drop the optional blocks, then fill the placeholders.
tmpl=$(awk -v full="$([ "$mode" = full ] && echo 1 || echo 0)" \
           -v tls="$([ -n "$tls_listen" ] && echo 1 || echo 0)" '
  /^#@@FULL\{/ { skip = !full; next }
  /^#@@FULL\}/ { skip = 0; next }
  /^#@@TLS\{/  { skip = !tls; next }
  /^#@@TLS\}/  { skip = 0; next }
  !skip { print }' "$here/nginx.conf.tmpl")
location=$(<"$here/nginx-location.tmpl")

out=${tmpl//@@LOCATION@@/$location}
out=${out//@@UPSTREAM_SERVERS@@/$servers}
out=${out//@@USER@@/$user_line}
out=${out//@@WORKERS@@/$workers}
out=${out//@@RUN_DIR@@/$run_dir}
out=${out//@@LISTEN@@/$listen}
out=${out//@@SERVER_NAME@@/$server_name}
out=${out//@@TLS_LISTEN@@/$tls_listen}
out=${out//@@TLS_CERT@@/$tls_cert}
out=${out//@@TLS_KEY@@/$tls_key}
out=${out//@@LIMIT_CONN@@/$limit_conn}
out=${out//@@LIMIT_RATE@@/$limit_rate}
out=${out//@@LIMIT_BURST@@/$limit_burst}
printf '%s\n' "$out"
