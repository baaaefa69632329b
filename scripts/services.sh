#!/usr/bin/env bash
# Starts RabbitMQ (127.0.0.1:5672, guest/guest) and Redis (127.0.0.1:6379) when they are not up.
set -euo pipefail

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! up 6379; then
  echo "starting redis-server" >&2
  mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp --logfile /tmp/alertflow-redis.log
fi
if ! up 5672; then
  echo "starting rabbitmq-server" >&2
  rabbitmq-server -detached
fi
for _ in $(seq 1 120); do
  if up 6379 && up 5672 && rabbitmqctl await_startup >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "RabbitMQ or Redis did not come up" >&2
exit 1
