"""The bounce mailbox on a real IMAP server: Dovecot, started for the test on a free local port.

Dovecot comes from the distribution's `dovecot-imapd` package (.ci/run installs it); without it
these tests are skipped. The mail is delivered into the account's Maildir as the mail server
would, then read over IMAP by the same function beat calls.
"""

import mailbox
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from campaigns.bounces.mailboxes import MailboxUnavailable, feed_mailbox
from campaigns.models import MessageEvent
from crm.models import Contact
from tests.campaigns.factories import MessageFactory
from tests.campaigns.test_bounces import dsn

pytestmark = pytest.mark.django_db

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# Dovecot refuses to run mail processes as root: the account's files belong to "nobody".
MAIL_UID = MAIL_GID = 65534

CONFIG = """protocols = imap
listen = 127.0.0.1
base_dir = {base}/run
state_dir = {base}/state
log_path = {base}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
passdb {{
  driver = static
  args = password=secret
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={base}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Dovecot:
    """One Dovecot server with one account, `bounces` (password `secret`)."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="crm-imap-"))
        self.base.chmod(0o755)
        self.port = free_port()
        self.config = self.base / "dovecot.conf"
        self.config.write_text(
            CONFIG.format(base=self.base, port=self.port, uid=MAIL_UID, gid=MAIL_GID)
        )
        self.maildir = self.base / "home" / "bounces" / "Maildir"
        self.maildir.parent.mkdir(parents=True)
        mailbox.Maildir(self.maildir)
        self._own()

    def _own(self) -> None:
        for path in [self.base / "home", *(self.base / "home").rglob("*")]:
            os.chown(path, MAIL_UID, MAIL_GID)

    def deliver(self, *mails: str) -> None:
        box = mailbox.Maildir(self.maildir, create=False)
        for mail in mails:
            box.add(mail.encode())
        self._own()

    def start(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.config)],
            check=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.1)
        raise RuntimeError("Dovecot did not start listening")

    def stop(self) -> None:
        subprocess.run(
            [DOVECOT, "-c", str(self.config), "stop"],
            timeout=30,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, password: str = "secret") -> str:  # noqa: S107 (the test account's password)
        return f"imap://bounces:{password}@127.0.0.1:{self.port}/INBOX"


@pytest.fixture
def dovecot():
    if not Path(DOVECOT).exists():
        pytest.skip("Dovecot is not installed (the dovecot-imapd package)")
    if os.geteuid() != 0:
        pytest.skip("Dovecot's mail account needs files owned by another user: run as root")
    server = Dovecot()
    server.start()
    yield server
    server.stop()


def test_the_bounces_of_an_imap_mailbox_are_recorded_and_each_mail_read_once(dovecot):
    first, second, third = MessageFactory(), MessageFactory(), MessageFactory()
    dovecot.deliver(dsn(1, first), dsn(2, second, action="delayed", status="4.2.2"))
    outcome = feed_mailbox(dovecot.url())
    assert outcome["recorded"] == 2
    assert Contact.objects.get(pk=first.contact_id).email_status == "bounced"

    # Read mail is flagged seen on the server: the next run reads only what arrived since.
    dovecot.deliver(dsn(3, third))
    again = feed_mailbox(dovecot.url())
    assert dict(again) == {"recorded": 1}
    assert feed_mailbox(dovecot.url()) == {}
    assert sorted(MessageEvent.objects.values_list("message_id", "detail")) == sorted(
        [(first.pk, "hard"), (second.pk, "soft"), (third.pk, "hard")]
    )


def test_a_refused_imap_login_is_a_clear_error_and_reads_nothing(dovecot):
    message = MessageFactory()
    dovecot.deliver(dsn(1, message))
    with pytest.raises(MailboxUnavailable, match="cannot be opened"):
        feed_mailbox(dovecot.url(password="guessed"))
    assert MessageEvent.objects.count() == 0
    assert feed_mailbox(dovecot.url())["recorded"] == 1
