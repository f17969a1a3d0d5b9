import hashlib
import hmac
import time


def verify_rapidsms(secret: str, raw_body: bytes, timestamp: str, delivery: str, signature: str) -> bool:
    """Whether a POST from RapidSMS.ts is signed with `secret`, within 5 minutes."""
    if not timestamp or not timestamp.isdigit() or not delivery or not delivery.isdigit() or not signature:
        return False
    if abs(time.time() - int(timestamp)) > 300:
        return False
    signed = timestamp.encode() + b"." + delivery.encode() + b"." + raw_body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


# In a Django view:
#   ok = verify_rapidsms(settings.RAPIDSMS_WEBHOOK_SECRET, request.body,
#                        request.headers.get("X-RapidSMS-Timestamp", ""),
#                        request.headers.get("X-RapidSMS-Delivery", ""),
#                        request.headers.get("X-RapidSMS-Signature", ""))
# then, for a message: if you stored an answer for this X-RapidSMS-Delivery, send that same
# answer again; otherwise handle it, store the answer under the delivery id, and send it.
