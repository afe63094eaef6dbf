"""Taking personal data away: erasure of one person, retention rules for many, and the removal
through the personal-data registry that both share."""
