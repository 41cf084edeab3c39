# example: s3_upload.py
"""A big file straight to S3 (STORAGE=s3): parts to presigned URLs, resumable, then convert and download.

Usage: ANCLORA_URL=... ANCLORA_API_KEY=... python s3_upload.py video.mov mp4 video.mp4 [upload id to resume]
"""
import os
import sys
import time

import requests

BASE = os.environ["ANCLORA_URL"].rstrip("/")
AUTH = {"Authorization": f"Api-Key {os.environ['ANCLORA_API_KEY']}"}  # scopes: convert, read
path, target, out = sys.argv[1:4]

if len(sys.argv) > 4:  # resume: the server says which parts S3 already holds
    listed = requests.get(f"{BASE}/api/uploads/{sys.argv[4]}/parts", headers=AUTH, timeout=30).json()
    upload, done = listed["upload"], {p["part_number"] for p in listed["parts"]}
else:
    upload = requests.post(f"{BASE}/api/uploads/s3", headers=AUTH, timeout=30, json={
        "filename": os.path.basename(path), "length": os.path.getsize(path)}).json()
    done = set()
print("upload", upload["id"], flush=True)
todo = [n for n in range(1, upload["part_count"] + 1) if n not in done]
with open(path, "rb") as f:
    for start in range(0, len(todo), 100):  # at most 100 URLs per request
        urls = requests.post(f"{BASE}/api/uploads/{upload['id']}/parts", headers=AUTH, timeout=30,
                             json={"part_numbers": todo[start:start + 100]}).json()["parts"]
        for part in urls:  # each part is exactly part_size bytes (the last one: the rest)
            f.seek((part["part_number"] - 1) * upload["part_size"])
            requests.put(part["url"], data=f.read(part["size"]), timeout=300).raise_for_status()
requests.post(f"{BASE}/api/uploads/{upload['id']}/complete", headers=AUTH, timeout=60).raise_for_status()

r = requests.post(f"{BASE}/api/conversion/convert", headers=AUTH, timeout=60,
                  data={"upload_id": upload["id"], "target_format": target})
r.raise_for_status()
job = r.json()["conversions"][0]
while job["status"] in ("pending", "processing"):
    time.sleep(1)
    job = requests.get(BASE + job["status_url"], headers=AUTH, timeout=30).json()
if job["status"] != "completed":
    sys.exit(f"{job['status']}: {job['error']}")
with open(out, "wb") as result:
    result.write(requests.get(BASE + job["download_url"], headers=AUTH, timeout=300).content)
print(job["id"], job["status"])
