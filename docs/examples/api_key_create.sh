# example: api_key_create.sh
# Create a key with your login (a JWT access token; or on the page /account/api-keys/).
# The answer carries the whole key once: keep it, the server stores only its hash.
curl -sS -X POST "$ANCLORA_URL/api/keys" \
  -H "Authorization: Bearer $ANCLORA_ACCESS_TOKEN" \
  -H "Content-Type: application/json" \
  -d '{"name": "ci", "scopes": ["convert", "read"]}'
# -> 201 {"id": "AbCd1234", "key": "AbCd1234.<secret>", "scopes": ["convert", "read"], ...}
