# example: url_import.sh — convert a file the server downloads itself, wait for it, download the result.
# usage: ANCLORA_URL=... ANCLORA_API_KEY=... sh url_import.sh https://example.com/photos/report.png jpg report.jpg
# (the key needs the scopes convert and read; jq parses the JSON)
job=$(curl -sS -X POST "$ANCLORA_URL/api/conversion/convert" -H "Authorization: Api-Key $ANCLORA_API_KEY" \
  -F "source_url=$1" -F "target_format=$2")
# -> 202 {"conversions": [{"id": "...", "status": "pending", "fetching": true, "source_url": "...", ...}], ...}
status_url=$(printf '%s' "$job" | jq -er '.conversions[0].status_url') || { echo "$job"; exit 1; }
while :; do
  state=$(curl -sS "$ANCLORA_URL$status_url" -H "Authorization: Api-Key $ANCLORA_API_KEY")
  case $(printf '%s' "$state" | jq -r .status) in pending|processing) sleep 1 ;; *) break ;; esac
done
# -> {"status": "failed", "error_code": "source_not_public", "error": "..."}  or "completed"
[ "$(printf '%s' "$state" | jq -r .status)" = completed ] || { printf '%s\n' "$state"; exit 1; }
curl -sS -f -o "$3" "$ANCLORA_URL$(printf '%s' "$state" | jq -r .download_url)" \
  -H "Authorization: Api-Key $ANCLORA_API_KEY" && echo "$3"
