#!/usr/bin/env bash
# Scale-out demo: redis-server, three chat servers sharing one room through it, and (where nginx
# with its stream module is installed) an nginx TCP load balancer in front of them.
#
#   demos/scale-out.sh [--redis-port 6379] [--proxy-port 1337] [--first-port 1338]
#   nc 127.0.0.1 1337        # in two terminals or more: every client is in the same room
#
# Ctrl-C (or SIGTERM) stops everything it started: chat servers first (they say goodbye and
# close their backplanes), then nginx, then Redis; its temp directory (configs, pids, logs) goes too.
set -euo pipefail

REDIS_PORT=6379
PROXY_PORT=1337
FIRST_PORT=1338
while [[ $# -gt 0 ]]; do
  case "$1" in
    --redis-port) REDIS_PORT="$2"; shift 2 ;;
    --proxy-port) PROXY_PORT="$2"; shift 2 ;;
    --first-port) FIRST_PORT="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
CHAT_PORTS=("$FIRST_PORT" "$((FIRST_PORT + 1))" "$((FIRST_PORT + 2))")
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="$(mktemp -d "${TMPDIR:-/tmp}/rxnet-scale-out.XXXXXX")"

# Every background job in its own process group, so a stop reaches npm and the node under it,
# and the terminal's Ctrl-C reaches only this script (which then stops them in order).
set -m
REDIS_PID=""
NGINX_PID=""
CHAT_PIDS=()

# Waits (at most $2 tenths of a second) for process group $1 to be gone; then SIGKILLs it.
reap() {
  local pid="$1" tenths="$2" i
  for ((i = 0; i < tenths; i++)); do
    kill -0 -- "-$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  echo "scale-out: pid $pid did not stop in time, killing it" >&2
  kill -KILL -- "-$pid" 2>/dev/null || true
}

STOPPED=0
cleanup() {
  [[ $STOPPED == 1 ]] && return
  STOPPED=1
  trap - INT TERM EXIT
  echo "scale-out: stopping"
  for pid in "${CHAT_PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for pid in "${CHAT_PIDS[@]}"; do reap "$pid" 100; done
  if [[ -n $NGINX_PID ]]; then kill -QUIT -- "-$NGINX_PID" 2>/dev/null || true; reap "$NGINX_PID" 50; fi
  if [[ -n $REDIS_PID ]]; then kill -TERM -- "-$REDIS_PID" 2>/dev/null || true; reap "$REDIS_PID" 50; fi
  rm -rf "$DIR"
  echo "scale-out: stopped"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

die() { echo "scale-out: $*" >&2; exit 1; }

# Waits (at most $3 seconds) until file $1 contains $2; fails early if process $4 has exited.
await_line() {
  local file="$1" text="$2" seconds="$3" pid="$4" i
  for ((i = 0; i < seconds * 10; i++)); do
    grep -q -- "$text" "$file" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; die "pid $pid exited before saying '$text'"; }
    sleep 0.1
  done
  cat "$file" >&2
  die "no '$text' in $file after ${seconds}s"
}

command -v redis-server >/dev/null || die "redis-server is not installed (apt-get install redis-server)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
  >"$DIR/redis.log" 2>&1 &
REDIS_PID=$!
await_line "$DIR/redis.log" "Ready to accept connections" 10 "$REDIS_PID"
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
echo "scale-out: redis-server on $REDIS_URL (pid $REDIS_PID)"

cd "$ROOT"
for port in "${CHAT_PORTS[@]}"; do
  npm run --silent demo -- chat --host 127.0.0.1 --port "$port" --redis "$REDIS_URL" >"$DIR/chat-$port.log" 2>&1 &
  CHAT_PIDS+=("$!")
done
for i in 0 1 2; do
  await_line "$DIR/chat-${CHAT_PORTS[$i]}.log" ": connected" 60 "${CHAT_PIDS[$i]}"
  echo "scale-out: chat server on 127.0.0.1:${CHAT_PORTS[$i]}, in the shared room (pid ${CHAT_PIDS[$i]})"
done

# nginx with its stream module: compiled in, or Debian's libnginx-mod-stream.
NGINX="$(command -v nginx || true)"
[[ -z $NGINX && -x /usr/sbin/nginx ]] && NGINX=/usr/sbin/nginx
LOAD_MODULE=""
STREAM=0
if [[ -n $NGINX ]]; then
  CONFIGURE="$("$NGINX" -V 2>&1 || true)"
  if [[ $CONFIGURE =~ --with-stream([[:space:]]|$) ]]; then
    STREAM=1
  elif [[ $CONFIGURE == *--with-stream=dynamic* ]]; then
    for module in /usr/lib/nginx/modules/ngx_stream_module.so /usr/share/nginx/modules/ngx_stream_module.so; do
      if [[ -f $module ]]; then LOAD_MODULE="load_module $module;"; STREAM=1; break; fi
    done
  fi
fi

if [[ $STREAM == 1 ]]; then
  cat >"$DIR/nginx.conf" <<EOF
$LOAD_MODULE
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/nginx-error.log notice;
events { worker_connections 1024; }
stream {
  upstream chat {
    least_conn;
$(for port in "${CHAT_PORTS[@]}"; do echo "    server 127.0.0.1:$port;"; done)
  }
  server {
    listen 127.0.0.1:$PROXY_PORT;
    proxy_pass chat;
    proxy_connect_timeout 5s;
    proxy_timeout 10m;
  }
}
EOF
  "$NGINX" -p "$DIR" -c "$DIR/nginx.conf" -e "$DIR/nginx-error.log" -g 'daemon off;' >"$DIR/nginx.out" 2>&1 &
  NGINX_PID=$!
  await_line "$DIR/nginx-error.log" "start worker process" 10 "$NGINX_PID"
  echo "scale-out: nginx stream proxy on 127.0.0.1:$PROXY_PORT in front of ${CHAT_PORTS[*]} (pid $NGINX_PID)"
  echo
  echo "Join the room: nc 127.0.0.1 $PROXY_PORT   (in several terminals; Ctrl-C here stops everything)"
else
  echo "scale-out: nginx with the stream module is not installed (apt-get install nginx libnginx-mod-stream): no proxy"
  echo
  echo "Join the room: nc 127.0.0.1 ${CHAT_PORTS[0]}, nc 127.0.0.1 ${CHAT_PORTS[1]}, nc 127.0.0.1 ${CHAT_PORTS[2]}"
  echo "(any of them; Ctrl-C here stops everything)"
fi
echo "Logs while it runs: $DIR"
set +m # every child has its own group by now; no job-control notices when they stop

# Until Ctrl-C, or until one of them exits on its own.
wait -n
echo "scale-out: a process exited on its own" >&2
exit 1
