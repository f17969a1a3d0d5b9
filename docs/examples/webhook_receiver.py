import hashlib
import hmac
import time


def verify_rapidsms(secret: str, raw_body: bytes, timestamp: str, signature: str) -> bool:
    """Whether a POST from RapidSMS.ts is signed with `secret`, within 5 minutes."""
    if not timestamp or not timestamp.isdigit() or not signature:
        return False
    if abs(time.time() - int(timestamp)) > 300:
        return False
    signed = timestamp.encode() + b"." + raw_body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# In a Django view:
#   ok = verify_rapidsms(settings.RAPIDSMS_WEBHOOK_SECRET, request.body,
#                        request.headers.get("X-RapidSMS-Timestamp", ""),
#                        request.headers.get("X-RapidSMS-Signature", ""))
