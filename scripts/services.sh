#!/usr/bin/env bash
# Starts the local services the integration tests use, each only if its port does
# not answer: PostgreSQL (5432), NATS JetStream (4222), Kafka (9092).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 1; done; echo "services: port $1 did not open" >&2; return 1; }

if ! port_open 5432; then
  echo "services: starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  wait_port 5432 || exit 1
fi
if ! port_open 4222; then
  echo "services: starting nats-server (JetStream)"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222 || exit 1
fi
if [ -f "$here/kafka.sh" ] && ! port_open 9092; then
  bash "$here/kafka.sh" start || exit 1
fi
echo "services: postgres, nats$( [ -f "$here/kafka.sh" ] && echo ", kafka") up"
