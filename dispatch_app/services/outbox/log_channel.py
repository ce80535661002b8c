"""The log-only channel, a new install's default: each message becomes one line in the
log, so an office can see what would be sent before anything reaches a customer."""

from __future__ import annotations

import logging

from dispatch_app.domain.messages import Channel
from dispatch_app.services.outbox.channels import Delivery, OutgoingMessage

log = logging.getLogger("dispatch_app.messages")

_SHOWN = 200  # characters of the body in the line: enough to recognise the message


class LogSender:
    channel = Channel.LOG

    async def send(self, message: OutgoingMessage) -> Delivery:
        body = message.body[:_SHOWN] + ("…" if len(message.body) > _SHOWN else "")
        # One message, one line: a body's line breaks must not look like other entries.
        shown = body.replace("\\", "\\\\").replace("\r", "\\r").replace("\n", "\\n")
        log.info(
            "message %s to %s (%s): %s", message.key, message.recipient, message.channel, shown
        )
        return Delivery(provider_id=f"log-{message.key}", status="sent")

    async def aclose(self) -> None:
        pass
