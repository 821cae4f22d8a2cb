"""The dashboard: mail activity, top senders, unread, waiting conversations and mailbox health."""
