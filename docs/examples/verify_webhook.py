# example: verify_webhook.py
"""Usage: WEBHOOK_SECRET=whsec_... python verify_webhook.py "$ANCLORA_SIGNATURE" < body.json"""
import hashlib, hmac, os, sys, time  # noqa: E401, I001

def verify(body: bytes, header: str, secret: str, tolerance: int = 300) -> bool:
    fields = dict(item.split("=", 1) for item in header.split(","))
    signed = fields["t"].encode() + b"." + body  # the raw bytes, exactly as received
    expected = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(fields["t"])) <= tolerance  # refuse replays, both ways
    return fresh and hmac.compare_digest(expected, fields.get("v1", ""))

ok = verify(sys.stdin.buffer.read(), sys.argv[1], os.environ["WEBHOOK_SECRET"])
print("valid" if ok else "invalid")
sys.exit(0 if ok else 1)
