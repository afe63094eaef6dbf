"""Consent and what people are told: the consent ledger, double opt-in subscriptions, the
preference centre and opt-outs, and the privacy statement's versions with their change mailing."""
