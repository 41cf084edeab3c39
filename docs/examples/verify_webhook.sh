#!/bin/sh
# example: verify_webhook.sh
# usage: WEBHOOK_SECRET=whsec_... verify_webhook.sh "$ANCLORA_SIGNATURE" < body.json
t=$(printf '%s' "$1" | sed -n 's/.*t=\([0-9]*\).*/\1/p')
v1=$(printf '%s' "$1" | sed -n 's/.*v1=\([0-9a-f]*\).*/\1/p')
expected=$({ printf '%s.' "$t"; cat; } | openssl dgst -sha256 -hmac "$WEBHOOK_SECRET" | sed 's/^.*= *//')
age=$(( $(date +%s) - ${t:-0} )); [ "${age#-}" -le 300 ] || { echo stale; exit 1; }
[ -n "$v1" ] && [ "$expected" = "$v1" ] && echo valid || { echo invalid; exit 1; }
