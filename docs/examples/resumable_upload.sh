# example: resumable_upload.sh — a big file over tus in chunks, resumed from the server's offset, then converted.
# usage: ANCLORA_URL=... ANCLORA_API_KEY=... sh resumable_upload.sh video.mov mp4   (CHUNK_MB: default 64)
file=$1; size=$(wc -c < "$file"); chunk=$(( ${CHUNK_MB:-64} * 1024 * 1024 ))
auth="Authorization: Api-Key $ANCLORA_API_KEY"
# 1. Create the upload (the size in bytes, the name in base64) -> 201, Location: the upload's URL.
upload=$(curl -sS -f -D - -o /dev/null -X POST "$ANCLORA_URL/api/uploads/" -H "$auth" -H "Tus-Resumable: 1.0.0" \
  -H "Upload-Length: $size" -H "Upload-Metadata: filename $(basename "$file" | tr -d '\n' | base64 -w0)" \
  | tr -d '\r' | awk 'tolower($1) == "location:" {print $2}')
# 2. Send the bytes from the offset the server has; after a dropped connection, HEAD says where to go on.
offset=0
while [ "$offset" -lt "$size" ]; do
  tail -c +$((offset + 1)) "$file" | head -c "$chunk" | curl -sS -X PATCH "$upload" -H "$auth" \
    -H "Tus-Resumable: 1.0.0" -H "Upload-Offset: $offset" -H "Content-Type: application/offset+octet-stream" \
    --data-binary @- || sleep 2
  offset=$(curl -sS -f -I "$upload" -H "$auth" -H "Tus-Resumable: 1.0.0" \
    | tr -d '\r' | awk 'tolower($1) == "upload-offset:" {print $2}')
  [ -n "$offset" ] || exit 1
done
# 3. Convert the finished upload -> 202 {"conversions": [{"id": "...", "status_url": "...", ...}], ...}
curl -sS -f -X POST "$ANCLORA_URL/api/conversion/convert" -H "$auth" \
  -F "upload_id=${upload##*/}" -F "target_format=$2"
