# example: convert_with_key.py
"""Convert with an API key, retried safely (Idempotency-Key), then download the result.

Usage: ANCLORA_URL=http://localhost:8000 ANCLORA_API_KEY=AbCd1234.<secret> \
       python convert_with_key.py photo.png jpg photo.jpg        (pip install requests)
"""
import os
import sys
import time
import uuid

import requests

BASE = os.environ["ANCLORA_URL"].rstrip("/")
AUTH = {"Authorization": f"Api-Key {os.environ['ANCLORA_API_KEY']}"}  # scopes: convert, read


def convert(path: str, target: str) -> dict:
    headers = {**AUTH, "Idempotency-Key": str(uuid.uuid4())}  # one per job, reused by every retry
    for attempt in range(5):
        try:
            with open(path, "rb") as upload:
                r = requests.post(f"{BASE}/api/conversion/convert", headers=headers, timeout=120,
                                  files={"file": upload}, data={"target_format": target})
        except requests.ConnectionError:
            time.sleep(2**attempt)  # the job was created at most once: retry with the same key
            continue
        if r.status_code == 409 and r.json()["code"] == "idempotency_in_progress":
            time.sleep(1)
            continue
        if r.status_code == 429:  # the key's rate limit
            time.sleep(int(r.headers["Retry-After"]))
            continue
        r.raise_for_status()
        return r.json()["conversions"][0]
    sys.exit("gave up")


job = convert(sys.argv[1], sys.argv[2])
while job["status"] in ("pending", "processing"):
    time.sleep(1)
    job = requests.get(BASE + job["status_url"], headers=AUTH, timeout=30).json()
if job["status"] != "completed":
    sys.exit(f"{job['status']}: {job['error']}")
with open(sys.argv[3], "wb") as out:
    out.write(requests.get(BASE + job["download_url"], headers=AUTH, timeout=120).content)
print(job["id"], job["status"])
