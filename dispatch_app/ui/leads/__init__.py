"""The Leads inbox (File ▸ Leads…): every inbound contact, callbacks due first, and the
leak of missed calls this week and month."""
