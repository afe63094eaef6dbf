"""Data-subject requests (GDPR art. 12-22): intake, verification and the legal clock, the
officer's decisions, access and portability exports, and the public pages of a request."""
