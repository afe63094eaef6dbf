"""Staff access to personal data: roles with least privilege, two-factor login, the login lock-out,
the admin's login steps, and the audit of logins (GDPR art. 32)."""
