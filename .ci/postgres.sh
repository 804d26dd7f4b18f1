# A throwaway PostgreSQL server for the webhook receiver's tests, sourced by .ci/run.
#
#   source .ci/postgres.sh
#   postgres_start        # installs Debian's server package if needed, starts a new cluster
#                         # on 127.0.0.1 and a free port, exports TIXPAY_TEST_POSTGRES_URL
#   trap postgres_stop EXIT
#
# Each call makes a new cluster in a new temporary directory, so a second run (or a run
# killed half-way) never meets an old one; the Debian cluster `main` that the package may
# create is left alone. Authentication is `trust`, on loopback only: nothing but this
# machine's processes can reach it, and it lives only as long as the run.

postgres_as_owner() {
  # initdb and postgres refuse to run as root: run them as the package's `postgres` user.
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_bindir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && printf '%s\n' "$dir"
}

postgres_port_free() {
  # A port is taken when something accepts a connection on it.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

postgres_start() {
  if ! postgres_bindir >/dev/null; then
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  local bin
  bin=$(postgres_bindir) || { echo "no PostgreSQL server binaries after installing" >&2; return 1; }
  "$bin/postgres" --version

  POSTGRES_DIR=$(mktemp -d /tmp/tixpay-postgres.XXXXXX)
  chmod 755 "$POSTGRES_DIR"
  [ "$(id -u)" = 0 ] && chown postgres: "$POSTGRES_DIR"
  postgres_as_owner "$bin/initdb" -D "$POSTGRES_DIR/data" -U postgres --auth=trust \
    --encoding=UTF8 --no-locale >"$POSTGRES_DIR/initdb.log" 2>&1 \
    || { cat "$POSTGRES_DIR/initdb.log" >&2; return 1; }

  # The first free port from 55432 on; if another process takes it between the check and
  # the start, the start fails and the next port is tried.
  local port started=""
  for port in $(seq 55432 55531); do
    postgres_port_free "$port" || continue
    # fsync off: the tests check transactions between clients, not surviving a power cut,
    # and a CI cluster is thrown away at the end.
    if postgres_as_owner "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -l "$POSTGRES_DIR/server.log" \
      -w -t 60 -o "-p $port -k $POSTGRES_DIR -c listen_addresses=127.0.0.1 -c fsync=off" \
      start >/dev/null; then
      started=$port
      break
    fi
  done
  if [ -z "$started" ]; then
    echo "PostgreSQL did not start:" >&2
    tail -n 20 "$POSTGRES_DIR/server.log" >&2
    return 1
  fi
  POSTGRES_BIN=$bin
  postgres_as_owner "$bin/createdb" -h 127.0.0.1 -p "$started" -U postgres tixpay_test
  export TIXPAY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$started/tixpay_test"
  echo "PostgreSQL on $TIXPAY_TEST_POSTGRES_URL (data in $POSTGRES_DIR)"
}

postgres_stop() {
  if [ -n "${POSTGRES_DIR:-}" ] && [ -d "$POSTGRES_DIR" ]; then
    local bin="${POSTGRES_BIN:-$(postgres_bindir || true)}"
    if [ -n "$bin" ] && [ -f "$POSTGRES_DIR/data/postmaster.pid" ]; then
      postgres_as_owner "$bin/pg_ctl" -D "$POSTGRES_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$POSTGRES_DIR"
  fi
}
