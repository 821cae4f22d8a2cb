"""Backups: a consistent copy of the database, the blobs it names and the data folder's secret,
with a manifest of checksums; their verification, restore into an empty instance, and the
scheduled job that keeps the newest few (docs/backup.md)."""
