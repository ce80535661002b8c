"""Call intake: turning an inbound call into a complete work order from the keyboard."""
