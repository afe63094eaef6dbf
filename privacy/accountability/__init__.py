"""What the controller must be able to show (GDPR art. 5(2), 30, 33-34, 14): the registers,
breaches and their notices, art. 14 notices, the privacy check and the officer's dashboard."""
