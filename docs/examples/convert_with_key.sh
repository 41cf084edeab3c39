# example: convert_with_key.sh
# Convert with the key. Sent again with the same Idempotency-Key (a retry after a timeout),
# the request answers the first response and converts nothing twice.
curl -sS -X POST "$ANCLORA_URL/api/conversion/convert" \
  -H "Authorization: Api-Key $ANCLORA_API_KEY" \
  -H "Idempotency-Key: report-2026-06-01" \
  -F "file=@report.png" -F "target_format=jpg"
# -> 202 {"batch_id": "...", "conversions": [{"id": "...", "status_url": "...", ...}]}
