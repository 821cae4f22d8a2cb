"""Transactional mail: templates, the Mailer (SMTP or the dev outbox) and the send job."""
