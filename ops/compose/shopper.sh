#!/bin/sh
# The demo shopper for compose.yaml: 50 customers of the demo shop, each topped up once through
# the admin API, then buying a unit of pulsa10 (or asking for their balance) through the chat
# simulator, a few times a second. Some buy past their balance: refusals show on the dashboard.
set -u
shop="${SHOP:-http://warung:8080}"
token="${ADMIN_TOKEN:?the admin token}"
n=0
while [ "$n" -lt 50 ]; do
  phone="6281900000$(printf '%02d' "$n")"
  curl -fsS -X POST "$shop/admin/api/wallets/$phone/top-ups" -H "Authorization: Bearer $token" \
    -H 'Content-Type: application/json' -d "{\"payment_id\": \"demo-topup-$phone\", \"amount\": \"50000\"}" >/dev/null \
    || echo "top-up of $phone failed"
  n=$((n + 1))
done
i=0
while true; do
  phone="6281900000$(printf '%02d' $((i % 50)))"
  case $((i % 4)) in
    3) text="saldo" ;;
    *) text="beli pulsa10" ;;
  esac
  curl -fsS -X POST "$shop/simulator/api/chat/$phone" -H 'Content-Type: application/json' \
    -d "{\"text\": \"$text\"}" >/dev/null || echo "chat of $phone failed"
  i=$((i + 1))
  sleep 0.3
done
